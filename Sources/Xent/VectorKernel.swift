// The default kernel: each row fused in the C shim (per ISA, SLEEF's u10 exp), orchestrated here.
import CXent

/// `.vector`: the same arithmetic as ``ReferenceKernel`` (which it must match within NUMERICS.md's
/// tolerances), one fused call into the shim per row (`xent_f32_row`, for ``isa``):
///
/// 1. chunk by chunk (8 KiB, L1-resident): the chunk max, then `e_j = exp(z_j − m_c)` with SLEEF's
///    `u10` exp, written into the gradient row and summed (float vectors per 512 elements, the
///    blocks added in `Double`; with soft targets, weights or smoothing also their sums, taken
///    from the chunk before its exp overwrites it in place);
/// 2. the chunks combined at the row max `m`: `S = Σ_c S_c·exp(m_c − m)`;
/// 3. one scaling pass: `g_j = e_j · exp(m_c − m) · scale / S`, then the target term.
///
/// With a logit scale s or a softcap c (NUMERICS.md §1) each 512-element block is transformed in
/// L1 before step 1 uses it, and `s` is folded into the scales; with a softcap and a gradient,
/// step 1 stores the transformed logits instead of their exps and step 3 recomputes the exps and
/// applies the chain factor `1 − (z''/c)²` (two exps per element: in place, nothing else keeps
/// `z''` between the passes).
///
/// Without a softcap: one exp per element, the logits read from memory once, nothing allocated
/// (the per-chunk tables live on the stack). With several threads and fewer rows than two per thread, a row's chunks
/// are spread over the threads (step 1 and step 3), with bitwise the same results.
///
/// Every pass runs in C because Swift code in a package cannot be compiled for more than the
/// baseline ISA (no `unsafeFlags`): `SIMD16<Float>` becomes four SSE operations,
/// which measured 12–20% slower at 1000 classes than the shim's AVX-512 passes. What stays in
/// Swift is what must read like the contract: bad rows, the label term and the loss in `Double`.
struct VectorKernel: RowKernel {
    let isa: InstructionSet

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        let zt = scales.transform.exact(z[t])  // read before an in-place gradient overwrites it
        let weight = scales.weights.map { Double($0[t]) } ?? 1
        let (specification, cScales) = shimArguments(scales, targets: nil, label: t, labelWeight: weight)
        let row = fusedRow(
            z, spec: specification, gradient: gradient, count: classes, scales: cScales, workers: workers)
        guard row.max.isFinite, !row.sum.isNaN else { return .bad }
        return labelResult(row, zt: zt, weight: weight, scales: scales)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        let (specification, cScales) = shimArguments(scales, targets: q, label: nil, labelWeight: 0)
        let row = fusedRow(
            z, spec: specification, gradient: gradient, count: classes, scales: cScales, workers: workers)
        guard row.max.isFinite, !row.sum.isNaN else { return .bad }
        return softResult(row, scales: scales)
    }

    /// A 16-bit row fused chunk by chunk in the shim (`xent_half_row`): each chunk is widened
    /// into the workspace and computed while it is in L1, then scaled, given its label term and
    /// rounded back, so the row makes no pass of its own over the workspace. The `Float`
    /// arithmetic is the same as ``labelRow(_:classes:label:gradient:scales:workers:)``'s on the
    /// widened row, so the gradient is that one's, rounded once.
    func halfRow(_ row: HalfRow, scales: GradientScales, workers: Int) -> RowResult? {
        var zt = 0.0, weight = 0.0
        if let t = row.label {
            var wide: Float = 0
            xent_half_to_f32(isa.cValue, row.format, row.logits + t, &wide, 1)
            zt = scales.transform.exact(wide)
            weight = scales.weights.map { Double($0[t]) } ?? 1
        }
        // No targets in the spec: the 16-bit shim calls widen them into the workspace's second
        // half and point the spec there themselves.
        let (specification, cScales) = shimArguments(scales, targets: nil, label: row.label, labelWeight: weight)
        let sums = fusedHalfRow(row, spec: specification, scales: cScales, workers: workers)
        guard sums.max.isFinite, !sums.sum.isNaN else { return .bad }
        return row.label == nil ? softResult(sums, scales: scales) : labelResult(sums, zt: zt, weight: weight, scales: scales)
    }

    // MARK: The loss from the row's sums

    @inline(__always)
    func labelResult(_ row: xent_row_sums, zt: Double, weight: Double, scales: GradientScales) -> RowResult {
        // Equivalent to: ℓ = (1−α)·w_t·(lse − z_t) + (α/K)·Σ_c w_c·(lse − z_c), with
        // lse = m + log S and Σ_c w_c·(lse − z_c) = W·log S + Σ_c w_c·(m − z_c).
        let labelWeight = (1 - scales.smoothing) * weight
        return pendingResult(
            row, loss: labelWeight != 0 ? labelWeight * (Double(row.max) - zt) : 0, coefficient: labelWeight,
            smoothing: scales.smoothing)
    }

    @inline(__always)
    func softResult(_ row: xent_row_sums, scales: GradientScales) -> RowResult {
        // Equivalent to: ℓ = Σ_c w_c·q_c·(lse − z_c) with q = (1−α)·y + α/K, as
        // (1−α)·(Q·log S + Σ q'·(m − z)) + (α/K)·(W·log S + Σ w·(m − z)), q' = w·y: no term < 0.
        let alpha = scales.smoothing
        // (1 − α) = 0 drops the term even when a target sits on a masked class (gap +inf).
        return pendingResult(
            row, loss: alpha < 1 ? (1 - alpha) * row.sum_q_gap : 0, coefficient: alpha < 1 ? (1 - alpha) * row.sum_q : 0,
            smoothing: alpha)
    }

    /// The row's result with `log S` left to the batch (``RowResult/pendingSum``), which adds
    /// `logSumCoefficient · log S` to the loss and `log S` to the log-sum-exp m: `loss` and
    /// `coefficient` are the target term's part without log S and its factor, to which the
    /// smoothing term `(α/K)·(W·log S + Σ w·(m − z))` adds its own.
    @inline(__always)
    func pendingResult(_ row: xent_row_sums, loss: Double, coefficient: Double, smoothing alpha: Double) -> RowResult {
        var loss = loss, coefficient = coefficient
        if alpha != 0 {
            loss += alpha / row.unmasked * row.sum_w_gap
            coefficient += alpha / row.unmasked * row.sum_w
        }
        return RowResult(
            crossEntropy: loss, logSumExp: Double(row.max), argmax: Int(row.argmax), pendingSum: row.sum,
            logSumCoefficient: coefficient)
    }

    // MARK: Calls into the shim

    /// The shim's row specification and gradient scales for `scales` (`labelWeight`: w_t, 0 for
    /// soft targets). The label's own term `p·s·(1−α)·w_t` is the shim's to subtract, inside a
    /// softcap's chain factor.
    @inline(__always)
    func shimArguments(
        _ scales: GradientScales, targets q: UnsafePointer<Float>?, label: Int?, labelWeight: Double
    ) -> (xent_row_spec, xent_gradient_scales) {
        let chained = scales.chained
        let cScales = xent_gradient_scales(
            p_scale: chained.p, p_lse_scale: chained.pLse, q_scale: chained.p * (1 - scales.smoothing),
            smoothing: scales.smoothing, label_weight: labelWeight, label: Int64(label ?? -1),
            label_term: label == nil ? 0 : Float(chained.p * (1 - scales.smoothing) * labelWeight))
        let spec = xent_row_spec(
            q: q, w: scales.weights, smoothing: scales.smoothing != 0 ? 1 : 0, argmax: scales.argmax ? 1 : 0,
            logit_scale: scales.transform.scale, softcap: scales.transform.cap)
        return (spec, cScales)
    }

    /// The whole row in one call into the shim, or — with several workers and several chunks —
    /// its chunks spread over the workers, combined in order, then scaled in parallel: the same
    /// chunks and the same combine as the one-call path, so the same bits.
    @inline(__always)
    func fusedRow(
        _ z: UnsafePointer<Float>, spec: xent_row_spec, gradient: UnsafeMutablePointer<Float>?, count n: Int,
        scales: xent_gradient_scales, workers: Int
    ) -> xent_row_sums {
        let isa = self.isa
        let chunk = rowChunkLength(n)
        guard workers > 1 && n > chunk else {
            var spec = spec, scales = scales
            return CXentRow.row(z, spec: &spec, gradient: gradient, count: n, scales: &scales, isa: isa)
        }
        let shared = SharedUnsafe((z, gradient))
        return splitRow(count: n, workers: workers, scaled: gradient != nil) { base, len, sums in
            let (z, g) = shared.value
            CXentRow.chunk(
                z + base, spec: xent_row_spec_offset([spec], base), gradient: g.map { $0 + base }, count: len,
                into: sums, isa: isa)
        } scale: { row, base, len, sums in
            guard let g = shared.value.1 else { return }
            CXentRow.scale(
                g + base, spec: xent_row_spec_offset([spec], base), count: len, row: row, chunk: sums, scales: scales,
                base: base, isa: isa)
        }
    }

    /// ``fusedRow(_:spec:gradient:count:scales:workers:)`` for a 16-bit row (`xent_half_row`, or
    /// its chunks over the workers).
    @inline(__always)
    func fusedHalfRow(
        _ row: HalfRow, spec: xent_row_spec, scales: xent_gradient_scales, workers: Int
    ) -> xent_row_sums {
        let isa = self.isa, n = row.classes
        guard workers > 1 && n > rowChunkLength(n) else {
            var spec = spec, scales = scales, sums = xent_row_sums()
            xent_half_row(
                isa.cValue, row.format, row.logits, row.targets, &spec, row.gradient, row.workspace, n, &scales, &sums)
            return sums
        }
        let shared = SharedUnsafe(row)
        return splitRow(count: n, workers: workers, scaled: row.gradient != nil) { base, len, sums in
            let row = shared.value
            var part = xent_row_spec_offset([spec], base)
            xent_half_chunk(
                isa.cValue, row.format, row.logits + base, row.targets.map { $0 + base }, &part, row.workspace + base,
                row.targets == nil ? nil : row.workspace + n + base, row.gradient == nil ? 0 : 1, len, sums)
        } scale: { sumsOfRow, base, len, sums in
            let row = shared.value
            guard let g = row.gradient else { return }
            var part = xent_row_spec_offset([spec], base)
            let s = CXentRow.scaling(
                row: sumsOfRow, chunk: sums, scales: scales, softTargets: row.targets != nil, base: base, count: len)
            xent_half_scale_chunk(
                isa.cValue, row.format, row.workspace + base, row.targets == nil ? nil : row.workspace + n + base, &part,
                g + base, len, sums.shift, s.factor, Float(scales.q_scale), s.smoothing, s.label, scales.label_term)
        }
    }

    /// A row's chunks spread over `workers`: `chunk` fills each chunk's sums, the sums are
    /// combined in order (`xent_row_combine`), then — when `scaled` and the row is good — `scale`
    /// runs per chunk.
    @inline(__always)
    func splitRow(
        count n: Int, workers: Int, scaled: Bool,
        chunk: @escaping (_ base: Int, _ length: Int, _ sums: UnsafeMutablePointer<xent_chunk_sums>) -> Void,
        scale: @escaping (_ row: xent_row_sums, _ base: Int, _ length: Int, _ sums: xent_chunk_sums) -> Void
    ) -> xent_row_sums {
        let length = rowChunkLength(n)
        let chunks = (n + length - 1) / length
        return withUnsafeTemporaryAllocation(of: xent_chunk_sums.self, capacity: chunks) { table in
            let shared = SharedUnsafe((table.baseAddress!, chunk, scale))
            Parallel.forEach(chunks, workers: workers) { c in
                let (table, chunk, _) = shared.value
                let base = c * length
                chunk(base, Swift.min(length, n - base), table + c)
                if table[c].argmax >= 0 { table[c].argmax += Int64(base) }
            }
            let row = CXentRow.combine(UnsafeBufferPointer(table))
            guard scaled, row.max.isFinite, !row.sum.isNaN else { return row }
            Parallel.forEach(chunks, workers: workers) { c in
                let (table, _, scale) = shared.value
                let base = c * length
                scale(row, base, Swift.min(length, n - base), table[c])
            }
            return row
        }
    }
}
