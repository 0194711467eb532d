// The default kernel: each row fused in the C shim (per ISA, SLEEF's vector exp), orchestrated here.

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
/// live on the stack). Every pass runs in C because Swift code in a package cannot be compiled for
/// more than the baseline ISA (no `unsafeFlags`): `SIMD16<Float>` becomes four SSE operations,
/// which measured 12–20% slower at 1000 classes than the shim's AVX-512 passes. What stays in
/// Swift is what must read like the contract: bad rows, the label term and the loss in `Double`.
struct VectorKernel: RowKernel {
    let isa: InstructionSet

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Double
    ) -> Double {
        let zt = z[t]  // read before an in-place gradient overwrites it
        let row = fusedRow(
            z, targets: nil, gradient: gradient, count: classes, gradientScale: gradientScale, isa: isa)
        guard row.max.isFinite, !row.sum.isNaN else { return .nan }
        gradient?[t] -= Float(gradientScale)
        // Equivalent to: ℓ = lse − z_t, with lse = m + log S.
        return (Double(row.max) - Double(zt)) + sleefLog(row.sum)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Double
    ) -> Double {
        let row = fusedRow(
            z, targets: q, gradient: gradient, count: classes, gradientScale: gradientScale, isa: isa)
        guard row.max.isFinite, !row.sum.isNaN else { return .nan }
        // Equivalent to: ℓ = Σ_c q_c·(lse − z_c) = Σq·log S + Σ q_c·(m − z_c); both terms ≥ 0.
        return row.sum_q * sleefLog(row.sum) + row.sum_q_gap
    }
}
