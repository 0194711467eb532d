// The default kernel: each row fused in the C shim (per ISA, SLEEF's vector exp), orchestrated here.
import CXent

/// `.vector`: the same arithmetic as ``ReferenceKernel`` (which it must match within NUMERICS.md's
/// tolerances), one fused call into the shim per row (`xent_f32_row`, for ``isa``):
///
/// 1. chunk by chunk (8 KiB, L1-resident): the chunk max, then `e_j = exp(z_j − m_c)` with SLEEF's
///    `u10` exp, written into the gradient row and summed (float vectors per 512 elements, the
///    blocks added in `Double`; with soft targets also `Σq` and `Σ q·(m_c − z)`, taken from the
///    chunk before its exp overwrites it in place);
/// 2. the chunks combined at the row max `m`: `S = Σ_c S_c·exp(m_c − m)`;
/// 3. one scaling pass: `g_j = e_j · exp(m_c − m) · scale / S`, then the target term.
///
/// One exp per element, the logits read from memory once, nothing allocated (the per-chunk tables
/// live on the stack). With several threads and fewer rows than two per thread, a row's chunks
/// are spread over the threads (step 1 and step 3), with bitwise the same results. Every pass runs in C because Swift code in a package cannot be compiled for
/// more than the baseline ISA (no `unsafeFlags`): `SIMD16<Float>` becomes four SSE operations,
/// which measured 12–20% slower at 1000 classes than the shim's AVX-512 passes. What stays in
/// Swift is what must read like the contract: bad rows, the label term and the loss in `Double`.
struct VectorKernel: RowKernel {
    let isa: InstructionSet

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        let zt = z[t]  // read before an in-place gradient overwrites it
        let row = fusedRow(z, targets: nil, gradient: gradient, count: classes, scales: scales, workers: workers)
        guard row.max.isFinite, !row.sum.isNaN else { return .bad }
        gradient?[t] -= Float(scales.q)
        // Equivalent to: ℓ = lse − z_t, with lse = m + log S.
        let logS = sleefLog(row.sum)
        return RowResult(crossEntropy: (Double(row.max) - Double(zt)) + logS, logSumExp: Double(row.max) + logS)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        let row = fusedRow(z, targets: q, gradient: gradient, count: classes, scales: scales, workers: workers)
        guard row.max.isFinite, !row.sum.isNaN else { return .bad }
        // Equivalent to: ℓ = Σ_c q_c·(lse − z_c) = Σq·log S + Σ q_c·(m − z_c); both terms ≥ 0.
        let logS = sleefLog(row.sum)
        return RowResult(crossEntropy: row.sum_q * logS + row.sum_q_gap, logSumExp: Double(row.max) + logS)
    }

    /// The whole row in one call into the shim, or — with several workers and several chunks —
    /// its chunks spread over the workers, combined in order, then scaled in parallel: the same
    /// chunks and the same combine as the one-call path, so the same bits.
    @inline(__always)
    func fusedRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>?, gradient: UnsafeMutablePointer<Float>?,
        count n: Int, scales: GradientScales, workers: Int
    ) -> xent_row_sums {
        var cScales = xent_gradient_scales(p_scale: scales.p, p_lse_scale: scales.pLse, q_scale: scales.q)
        let chunk = rowChunkLength(n)
        let chunks = (n + chunk - 1) / chunk
        guard workers > 1 && chunks > 1 else {
            return CXentRow.row(z, targets: q, gradient: gradient, count: n, scales: &cScales, isa: isa)
        }
        return withUnsafeTemporaryAllocation(of: xent_chunk_sums.self, capacity: chunks) { table in
            let cScales = cScales
            let shared = SharedUnsafe((z, q, gradient, table.baseAddress!))
            let isa = self.isa
            Parallel.forEach(chunks, workers: workers) { c in
                let (z, q, g, table) = shared.value
                let base = c * chunk
                CXentRow.chunk(
                    z + base, targets: q.map { $0 + base }, gradient: g.map { $0 + base },
                    count: Swift.min(chunk, n - base), into: table + c, isa: isa)
            }
            let row = CXentRow.combine(UnsafeBufferPointer(table))
            guard gradient != nil, row.max.isFinite, !row.sum.isNaN else { return row }
            Parallel.forEach(chunks, workers: workers) { c in
                let (_, q, g, table) = shared.value
                let base = c * chunk
                CXentRow.scale(
                    g! + base, targets: q.map { $0 + base }, count: Swift.min(chunk, n - base),
                    row: row, chunk: table[c], scales: cScales, isa: isa)
            }
            return row
        }
    }
}
