// The test oracle: the contract's formulas in Double, one element at a time.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `.reference`: scalar Swift in `Double`, written to read like NUMERICS.md, unoptimized on
/// purpose. Every other kernel is tested against it.
struct ReferenceKernel: RowKernel {
    /// `lse = m + log Σ_j exp(z_j − m)` with `m = max z`, or nil when the row holds NaN or +inf
    /// or has every class masked (NUMERICS.md, "Rows that take no part").
    static func logSumExp(_ z: UnsafePointer<Float>, classes: Int) -> Double? {
        var m = -Double.infinity
        for j in 0..<classes {
            let zj = Double(z[j])
            if zj.isNaN || zj == .infinity { return nil }
            m = Swift.max(m, zj)
        }
        if m == -.infinity { return nil }
        var s = 0.0
        for j in 0..<classes { s += exp(Double(z[j]) - m) }
        return m + log(s)
    }

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        guard let lse = Self.logSumExp(z, classes: classes) else { return .bad }
        // Equivalent to: ℓ = lse − z_t.
        let loss = lse - Double(z[t])
        if let g = gradient {
            // Equivalent to: ∂ℓ/∂z_j = p_j − [j = t] (and 2λ·lse·p_j for the z-loss), with
            // p_j = exp(z_j − lse).
            for j in 0..<classes {
                let p = exp(Double(z[j]) - lse)
                g[j] = Float(p * (scales.p + scales.pLse * lse) - (j == t ? scales.q : 0))
            }
        }
        return RowResult(crossEntropy: loss, logSumExp: lse)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        guard let lse = Self.logSumExp(z, classes: classes) else { return .bad }
        // Equivalent to: ℓ = Σ_c q_c·(lse − z_c); a class with q_c = 0 adds nothing, even when
        // masked (z_c = −inf).
        var loss = 0.0
        var sumQ = 0.0
        for c in 0..<classes {
            let qc = Double(q[c])
            sumQ += qc
            if qc != 0 { loss += qc * (lse - Double(z[c])) }
        }
        if let g = gradient {
            // Equivalent to: ∂ℓ/∂z_j = p_j·Σ_c q_c − q_j (and 2λ·lse·p_j for the z-loss).
            for j in 0..<classes {
                let p = exp(Double(z[j]) - lse)
                g[j] = Float(p * (scales.p * sumQ + scales.pLse * lse) - Double(q[j]) * scales.q)
            }
        }
        return RowResult(crossEntropy: loss, logSumExp: lse)
    }
}
