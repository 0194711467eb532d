// The default kernel: each row fused in the C shim (per ISA, SLEEF's vector exp), orchestrated here.
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
/// One exp per element, the logits read from memory once, nothing allocated (the per-chunk tables
/// live on the stack). With several threads and fewer rows than two per thread, a row's chunks
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
        let alpha = scales.smoothing
        let weight = scales.weights.map { Double($0[t]) } ?? 1
        let labelWeight = (1 - alpha) * weight
        let row = fusedRow(
            z, targets: nil, gradient: gradient, count: classes, scales: scales, labelWeight: weight,
            workers: workers)
        guard row.max.isFinite, !row.sum.isNaN else { return .bad }
        gradient?[t] -= Float(scales.chained.p * labelWeight * scales.transform.capDerivative(zt))
        // Equivalent to: ℓ = (1−α)·w_t·(lse − z_t) + (α/K)·Σ_c w_c·(lse − z_c), with
        // lse = m + log S and Σ_c w_c·(lse − z_c) = W·log S + Σ_c w_c·(m − z_c).
        let logS = sleefLog(row.sum)
        var loss = labelWeight != 0 ? labelWeight * ((Double(row.max) - zt) + logS) : 0
        if alpha != 0 { loss += alpha / row.unmasked * (row.sum_w * logS + row.sum_w_gap) }
        return RowResult(crossEntropy: loss, logSumExp: Double(row.max) + logS, argmax: Int(row.argmax))
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        let row = fusedRow(
            z, targets: q, gradient: gradient, count: classes, scales: scales, labelWeight: 0, workers: workers)
        guard row.max.isFinite, !row.sum.isNaN else { return .bad }
        // Equivalent to: ℓ = Σ_c w_c·q_c·(lse − z_c) with q = (1−α)·y + α/K, as
        // (1−α)·(Q·log S + Σ q'·(m − z)) + (α/K)·(W·log S + Σ w·(m − z)), q' = w·y: no term < 0.
        let alpha = scales.smoothing
        let logS = sleefLog(row.sum)
        var loss = (1 - alpha) * (row.sum_q * logS + row.sum_q_gap)
        if alpha != 0 { loss += alpha / row.unmasked * (row.sum_w * logS + row.sum_w_gap) }
        return RowResult(crossEntropy: loss, logSumExp: Double(row.max) + logS, argmax: Int(row.argmax))
    }

    /// The whole row in one call into the shim, or — with several workers and several chunks —
    /// its chunks spread over the workers, combined in order, then scaled in parallel: the same
    /// chunks and the same combine as the one-call path, so the same bits.
    @inline(__always)
    func fusedRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>?, gradient: UnsafeMutablePointer<Float>?,
        count n: Int, scales: GradientScales, labelWeight: Double, workers: Int  // w_t; 0 for soft targets
    ) -> xent_row_sums {
        let chained = scales.chained
        var cScales = xent_gradient_scales(
            p_scale: chained.p, p_lse_scale: chained.pLse, q_scale: chained.p * (1 - scales.smoothing),
            smoothing: scales.smoothing, label_weight: labelWeight)
        var spec = xent_row_spec(
            q: q, w: scales.weights, smoothing: scales.smoothing != 0 ? 1 : 0, argmax: scales.argmax ? 1 : 0,
            logit_scale: scales.transform.scale, softcap: scales.transform.cap)
        let chunk = rowChunkLength(n)
        let chunks = (n + chunk - 1) / chunk
        guard workers > 1 && chunks > 1 else {
            return CXentRow.row(z, spec: &spec, gradient: gradient, count: n, scales: &cScales, isa: isa)
        }
        return withUnsafeTemporaryAllocation(of: xent_chunk_sums.self, capacity: chunks) { table in
            let cScales = cScales
            let spec = spec
            let shared = SharedUnsafe((z, gradient, table.baseAddress!))
            let isa = self.isa
            Parallel.forEach(chunks, workers: workers) { c in
                let (z, g, table) = shared.value
                let base = c * chunk
                CXentRow.chunk(
                    z + base, spec: xent_row_spec_offset([spec], base), gradient: g.map { $0 + base },
                    count: Swift.min(chunk, n - base), into: table + c, isa: isa)
                if table[c].argmax >= 0 { table[c].argmax += Int64(base) }
            }
            let row = CXentRow.combine(UnsafeBufferPointer(table))
            guard gradient != nil, row.max.isFinite, !row.sum.isNaN else { return row }
            Parallel.forEach(chunks, workers: workers) { c in
                let (_, g, table) = shared.value
                let base = c * chunk
                CXentRow.scale(
                    g! + base, spec: xent_row_spec_offset([spec], base), count: Swift.min(chunk, n - base),
                    row: row, chunk: table[c], scales: cScales, isa: isa)
            }
            return row
        }
    }
}
