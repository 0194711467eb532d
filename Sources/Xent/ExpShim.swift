// The Swift side of the C shim's exp and row primitives (as swift-system's
// Syscalls.swift); the 16-bit conversions are called where rows are widened (Batch.row).
import CXent

/// Writes `y[i] = exp(x[i] − shift)` (when `y` is non-nil) and returns the sum in `Double`.
///
/// Stands on `xent_f32_expminus_sum` (SLEEF's `u10` exp for `isa`). `y` may be `x` itself.
/// - Precondition: `shift` is finite; `isa` is supported.
@inline(__always)
func expMinusSum(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>?, count: Int, shift: Float,
    isa: InstructionSet
) -> Double {
    xent_f32_expminus_sum(isa.cValue, x, y, count, shift)
}

/// The shim's row primitives (`xent_f32_row`, `xent_f32_chunk`, `xent_row_combine`,
/// `xent_f32_scale_chunk`), for ``VectorKernel``.
enum CXentRow {
    /// One fused row: the row max, `S = Σ exp(z − max)` and, with soft targets, `Σq` and
    /// `Σ q·(max − z)`; when `gradient` is non-nil and the row is good, the gradient of `scales`,
    /// the label's term included.
    @inline(__always)
    static func row(
        _ z: UnsafePointer<Float>, spec: inout xent_row_spec, gradient: UnsafeMutablePointer<Float>?,
        count: Int, scales: inout xent_gradient_scales, isa: InstructionSet
    ) -> xent_row_sums {
        var sums = xent_row_sums()
        xent_f32_row(isa.cValue, z, &spec, gradient, count, &scales, &sums)
        return sums
    }

    /// One chunk of a row (its max, exps stored and summed, target sums), into `table`.
    @inline(__always)
    static func chunk(
        _ z: UnsafePointer<Float>, spec: xent_row_spec, gradient: UnsafeMutablePointer<Float>?,
        count: Int, into table: UnsafeMutablePointer<xent_chunk_sums>, isa: InstructionSet
    ) {
        var spec = spec
        xent_f32_chunk(isa.cValue, z, &spec, gradient, count, table)
    }

    /// A row's chunks combined, in order, at the row max.
    @inline(__always)
    static func combine(_ chunks: UnsafeBufferPointer<xent_chunk_sums>) -> xent_row_sums {
        var sums = xent_row_sums()
        xent_row_combine(chunks.baseAddress, chunks.count, &sums)
        return sums
    }

    /// Scales one chunk's stored exps into its gradient (`base`: the chunk's offset in the row,
    /// to place the label's term).
    @inline(__always)
    static func scale(
        _ g: UnsafeMutablePointer<Float>, spec: xent_row_spec, count: Int, row: xent_row_sums,
        chunk: xent_chunk_sums, scales: xent_gradient_scales, base: Int, isa: InstructionSet
    ) {
        var spec = spec
        let s = scaling(row: row, chunk: chunk, scales: scales, softTargets: spec.q != nil, base: base, count: count)
        xent_f32_scale_chunk(
            isa.cValue, g, &spec, count, chunk.shift, s.factor, Float(scales.q_scale), s.smoothing, s.label,
            scales.label_term)
    }

    /// What the scaling of the chunk at `base` (`count` elements) takes, as `xent_f32_row` and
    /// `xent_half_row` compute it: the chunk's factor, the row's smoothing scale, and the label's
    /// index within the chunk (−1 when it lies elsewhere).
    @inline(__always)
    static func scaling(
        row: xent_row_sums, chunk: xent_chunk_sums, scales: xent_gradient_scales, softTargets: Bool, base: Int,
        count: Int
    ) -> (factor: Float, smoothing: Float, label: Int64) {
        var row = row, chunk = chunk, scales = scales
        let label = scales.label >= Int64(base) && scales.label < Int64(base + count) ? scales.label - Int64(base) : -1
        return (
            xent_row_chunk_factor(&row, &chunk, &scales, softTargets ? 1 : 0), xent_row_smoothing_scale(&row, &scales),
            label
        )
    }
}

/// The chunk length the shim uses for a row of `n` elements.
@inline(__always)
func rowChunkLength(_ n: Int) -> Int { xent_row_chunk_length(n) }

