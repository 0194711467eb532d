// The default kernel: each row through the row pipeline over an ISA's micro-kernels, the loss in Double.
import CXent

/// `.vector`: the same arithmetic as ``ReferenceKernel`` (which it must match within NUMERICS.md's
/// tolerances), each row through ``RowPipeline`` over the micro-kernels of ``isa``:
///
/// 1. chunk by chunk (8 KiB, L1-resident): the chunk max, then `e_j = exp(z_j − m_c)` with SLEEF's
///    `u10` exp, written into the gradient row and summed (16-lane float vectors per 512 elements,
///    the blocks added in `Double`; with soft targets, weights or smoothing also their sums, taken
///    from the chunk before its exp overwrites it in place);
/// 2. the chunks combined at the row max `m`: `S = Σ_c S_c·exp(m_c − m)`;
/// 3. one scaling pass: `g_j = e_j · exp(m_c − m) · scale / S`, then the target term.
///
/// With a logit scale s or a softcap c (NUMERICS.md §1) each chunk is transformed in L1 before step
/// 1 uses it, and `s` is folded into the scales; with a softcap and a gradient, step 1 stores the
/// transformed logits instead of their exps and step 3 recomputes the exps and applies the chain
/// factor `1 − (z''/c)²` (two exps per element: in place, nothing else keeps `z''` between the
/// passes).
///
/// In a forward call over rows of one chunk (labels, no transform; 16-bit rows without smoothing),
/// where the ISA has the kernel (AVX-512F; AVX2 over 16-bit rows), a row's exp pass also takes the
/// next row's max, which saves that row's max pass
/// (``forwardLabelRow(_:classes:label:params:prefetchLimit:max:nextRow:)``,
/// ``forwardHalfLabelRow(_:params:max:nextRow:)``).
///
/// Without a softcap: one exp per element, the logits read from memory once, nothing allocated for a
/// one-chunk row (longer rows keep a small table of per-chunk sums). With several threads and
/// fewer rows than two per thread, a row's chunks are spread
/// over the threads (steps 1 and 3), with bitwise the same results; on AVX-512F, AVX2+FMA and
/// AdvSIMD the results are bitwise the same too, rounding to nearest (NUMERICS.md "Determinism").
///
/// The micro-kernels are C because Swift code in a package cannot be compiled for more than the
/// baseline ISA (no `unsafeFlags`): `SIMD16<Float>` becomes four SSE operations, slower than the
/// shim's AVX-512 passes (the Performance article). What stays in Swift is the row
/// driver and what must read like the contract: bad rows, the label term and the loss in `Double`.
struct VectorKernel: RowKernel {
    let isa: InstructionSet
    /// The micro-kernels of ``isa`` (or a test's, which wrap them).
    private let kernels: xent_ukernel_config
    /// The call's pipeline (``prepare(_:storage:)`` gives it the call's parameters).
    private var pipeline: RowPipeline

    init(isa: InstructionSet, kernels: xent_ukernel_config? = nil) {
        self.isa = isa
        self.kernels = kernels ?? MicroKernels.config(isa.cValue)
        pipeline = RowPipeline(kernels: self.kernels, params: xent_params())
    }

    mutating func prepare(_ params: xent_params, storage: Storage) {
        var format = XENT_HALF_BINARY16
        if case .half(let f) = storage { format = f }
        pipeline = RowPipeline(kernels: kernels, params: params, format: format)
    }

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, params: xent_params, workers: Int, prefetchLimit: Int
    ) -> RowResult {
        let zt = pipeline.exactTransform(z[t])  // read before an in-place gradient overwrites it
        let weight = params.class_weights.map { Double($0[t]) } ?? 1
        let row = self.row(
            z, targets: nil, gradient: gradient, count: classes, label: t, labelWeight: weight,
            scales: RowGradientScales(params), workers: workers, prefetchLimit: prefetchLimit)
        guard !row.isBad else { return .bad }
        return Self.labelResult(row, zt: zt, weight: weight, alpha: params.label_smoothing)
    }

    /// Rows of one chunk without a transform, or with a logit scale the exp pass applies (16-bit
    /// rows: without a transform or smoothing), where the ISA has the kernel
    /// (``RowPipeline/takesNextRowMax(count:)``, ``RowPipeline/takesNextHalfRowMax(count:)``).
    func takesNextRowMax(classes: Int, storage: Storage) -> Bool {
        storage == .float32 ? pipeline.takesNextRowMax(count: classes) : pipeline.takesNextHalfRowMax(count: classes)
    }

    /// A forward label row of one chunk whose exp pass takes the next row's max, so that row's own
    /// max pass is saved; the maxes are exact in any order, so the bits are those of a row that takes
    /// its own.
    func forwardLabelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int, params: xent_params, prefetchLimit: Int, max: Float?,
        nextRow: UnsafePointer<Float>?
    ) -> (RowResult, nextRowMax: Float?) {
        let chunk = pipeline.chunk(
            z, targets: nil, gradient: nil, count: classes, base: 0, prefetchLimit: prefetchLimit, scratch: nil,
            max: max, nextRow: nextRow)
        let row = RowPipeline.onlyChunk(chunk)
        let nextRowMax = chunk.nextRowMax.isNaN ? nil : chunk.nextRowMax
        guard !row.isBad else { return (.bad, nextRowMax) }
        let weight = params.class_weights.map { Double($0[t]) } ?? 1
        let zt = pipeline.exactTransform(z[t])
        return (Self.labelResult(row, zt: zt, weight: weight, alpha: params.label_smoothing), nextRowMax)
    }

    /// A forward 16-bit label row of one chunk computed from its 16-bit logits, whose exp pass takes
    /// the next row's max (from its 16-bit patterns): the bits of ``halfRow(_:params:workers:)``.
    func forwardHalfLabelRow(
        _ row: HalfRow, params: xent_params, max: Float?, nextRow: UnsafePointer<UInt16>?
    ) -> (RowResult, nextRowMax: Float?) {
        let t = row.label!
        var wide: Float = 0
        pipeline.widenHalf(1, row.logits + t, &wide, 1)
        let zt = pipeline.exactTransform(wide)
        let weight = params.class_weights.map { Double($0[t]) } ?? 1
        let chunk = pipeline.directHalfChunk(row, targets: nil, base: 0, count: row.classes, max: max, nextRow: nextRow)
        let sums = RowPipeline.onlyChunk(chunk)
        let nextRowMax = chunk.nextRowMax.isNaN ? nil : chunk.nextRowMax
        guard !sums.isBad else { return (.bad, nextRowMax) }
        return (Self.labelResult(sums, zt: zt, weight: weight, alpha: params.label_smoothing), nextRowMax)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, params: xent_params, workers: Int, prefetchLimit: Int
    ) -> RowResult {
        let row = self.row(
            z, targets: q, gradient: gradient, count: classes, label: -1, labelWeight: 0,
            scales: RowGradientScales(params), workers: workers, prefetchLimit: prefetchLimit)
        guard !row.isBad else { return .bad }
        return Self.softResult(row, alpha: params.label_smoothing)
    }

    /// The row's sums through the pipeline: a row of one chunk inline, unless it needs scratch space
    /// (``RowPipeline/isOneChunkInPlace(count:scaled:soft:)``), the others by a call
    /// (``RowPipeline/row(_:targets:gradient:count:label:labelWeight:scales:workers:prefetchLimit:)``).
    @inline(__always)
    private func row(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>?, gradient: UnsafeMutablePointer<Float>?,
        count n: Int, label: Int, labelWeight: Double, scales: RowGradientScales, workers: Int, prefetchLimit: Int
    ) -> RowSums {
        guard pipeline.isOneChunkInPlace(count: n, scaled: gradient != nil, soft: q != nil) else {
            return outlinedRow(
                z, targets: q, gradient: gradient, count: n, label: label, labelWeight: labelWeight, scales: scales,
                workers: workers, prefetchLimit: prefetchLimit)
        }
        return pipeline.oneChunkRow(
            z, targets: q, gradient: gradient, count: n, label: label, labelWeight: labelWeight, scales: scales,
            prefetchLimit: prefetchLimit)
    }

    /// ``RowPipeline/row(_:targets:gradient:count:label:labelWeight:scales:workers:prefetchLimit:)``
    /// called from a function of the kernel, whose `self` is already in memory: the pipeline is
    /// passed where it lies, where a call from the inlined row would copy it first, on every row.
    @inline(never)
    private func outlinedRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>?, gradient: UnsafeMutablePointer<Float>?,
        count n: Int, label: Int, labelWeight: Double, scales: RowGradientScales, workers: Int, prefetchLimit: Int
    ) -> RowSums {
        pipeline.row(
            z, targets: q, gradient: gradient, count: n, label: label, labelWeight: labelWeight, scales: scales,
            workers: workers, prefetchLimit: prefetchLimit)
    }

    /// A 16-bit row fused chunk by chunk (``RowPipeline/halfRow(_:label:labelWeight:scales:workers:)``):
    /// each chunk is widened (as its passes load it, or into the workspace) and computed while it
    /// is in L1, then scaled, given its label term and rounded back. The `Float` arithmetic is that of
    /// ``labelRow(_:classes:label:gradient:params:workers:prefetchLimit:)`` on the widened row, so the gradient is
    /// that one's, rounded once.
    func halfRow(_ row: HalfRow, params: xent_params, workers: Int) -> RowResult? {
        var zt = 0.0, weight = 0.0
        if let t = row.label {
            var wide: Float = 0
            pipeline.widenHalf(1, row.logits + t, &wide, 1)
            zt = pipeline.exactTransform(wide)
            weight = params.class_weights.map { Double($0[t]) } ?? 1
        }
        let label = row.label ?? -1, scales = RowGradientScales(params)
        let sums = RowPipeline.fitsOneChunk(row.classes)
            ? pipeline.oneChunkHalfRow(row, label: label, labelWeight: weight, scales: scales)
            : outlinedHalfRow(row, label: label, labelWeight: weight, scales: scales, workers: workers)
        guard !sums.isBad else { return .bad }
        return row.label == nil
            ? Self.softResult(sums, alpha: params.label_smoothing)
            : Self.labelResult(sums, zt: zt, weight: weight, alpha: params.label_smoothing)
    }

    /// ``RowPipeline/halfRow(_:label:labelWeight:scales:workers:)`` called from a function of the
    /// kernel, as ``outlinedRow(_:targets:gradient:count:label:labelWeight:scales:workers:prefetchLimit:)``.
    @inline(never)
    private func outlinedHalfRow(
        _ row: HalfRow, label: Int, labelWeight: Double, scales: RowGradientScales, workers: Int
    ) -> RowSums {
        pipeline.halfRow(row, label: label, labelWeight: labelWeight, scales: scales, workers: workers)
    }

    // MARK: The loss from the row's sums

    @inline(__always)
    static func labelResult(_ row: RowSums, zt: Double, weight: Double, alpha: Double) -> RowResult {
        // Equivalent to: ℓ = (1−α)·w_t·(lse − z_t) + (α/K)·Σ_c w_c·(lse − z_c), with
        // lse = m + log S and Σ_c w_c·(lse − z_c) = W·log S + Σ_c w_c·(m − z_c).
        let labelWeight = (1 - alpha) * weight
        return Self.pendingResult(
            row, loss: labelWeight != 0 ? labelWeight * (Double(row.max) - zt) : 0, coefficient: labelWeight,
            smoothing: alpha)
    }

    @inline(__always)
    static func softResult(_ row: RowSums, alpha: Double) -> RowResult {
        // Equivalent to: ℓ = Σ_c w_c·q_c·(lse − z_c) with q = (1−α)·y + α/K, as
        // (1−α)·(Q·log S + Σ q'·(m − z)) + (α/K)·(W·log S + Σ w·(m − z)), q' = w·y: no term < 0.
        // (1 − α) = 0 drops the term even when a target sits on a masked class (gap +inf).
        Self.pendingResult(
            row, loss: alpha < 1 ? (1 - alpha) * row.sumQGap : 0, coefficient: alpha < 1 ? (1 - alpha) * row.sumQ : 0,
            smoothing: alpha)
    }

    /// The row's result with `log S` left to the batch (``RowResult/pendingSum``), which adds
    /// `logSumCoefficient · log S` to the loss and `log S` to the log-sum-exp m: `loss` and
    /// `coefficient` are the target term's part without log S and its factor, to which the
    /// smoothing term `(α/K)·(W·log S + Σ w·(m − z))` adds its own.
    @inline(__always)
    static func pendingResult(_ row: RowSums, loss: Double, coefficient: Double, smoothing alpha: Double) -> RowResult {
        var loss = loss, coefficient = coefficient
        if alpha != 0 {
            loss += alpha / row.unmasked * row.sumWGap
            coefficient += alpha / row.unmasked * row.sumW
        }
        return RowResult(
            crossEntropy: loss, logSumExp: Double(row.max), argmax: row.argmax, pendingSum: row.sum,
            logSumCoefficient: coefficient)
    }
}
