// The test oracle: the contract's formulas in Double, one element at a time.
import CXent
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
    /// The row's logits after the transforms (NUMERICS.md §1): `z' = s·z` in `Float`, then
    /// `z'' = c·tanh(z'/c)` in `Double`; the caller's logits when both are off.
    static func transformed(_ z: UnsafePointer<Float>, classes: Int, _ transform: LogitTransform) -> [Double] {
        (0..<classes).map { transform.exact(z[$0]) }
    }

    /// `lse = m + log Σ_j exp(z_j − m)` with `m = max z`, or nil when the row holds NaN or +inf
    /// or has every class masked (NUMERICS.md, "Rows that take no part").
    static func logSumExp(_ z: [Double]) -> Double? {
        var m = -Double.infinity
        for zj in z {
            if zj.isNaN || zj == .infinity { return nil }
            m = Swift.max(m, zj)
        }
        if m == -.infinity { return nil }
        return m + log(sumOfExps(z, max: m))
    }

    /// `S = Σ_j exp(z_j − m)`.
    static func sumOfExps(_ z: [Double], max m: Double) -> Double {
        var s = 0.0
        for zj in z { s += exp(zj - m) }
        return s
    }

    /// The row's target vector `v_c = (1−α)·w_c·y_c + (α/K)·w_c·[z_c ≠ −inf]`, with `y` the
    /// one-hot label (`label`) or the soft targets (`q`) — NUMERICS.md §4 and §5.
    static func targetVector(
        _ z: [Double], label: Int?, targets q: UnsafePointer<Float>?, params: xent_params
    ) -> [Double] {
        let alpha = params.label_smoothing
        let weight = { (c: Int) -> Double in params.class_weights.map { Double($0[c]) } ?? 1 }
        let unmasked = z.count { $0 != -.infinity }
        return z.indices.map { c in
            let y = label.map { $0 == c ? 1.0 : 0.0 } ?? Double(q![c])
            var v = (1 - alpha) * weight(c) * y
            if alpha != 0 && z[c] != -.infinity { v += alpha / Double(unmasked) * weight(c) }
            return v
        }
    }

    /// The first index holding the row's largest logit (NaN never is), in the caller's logits.
    static func firstMaxIndex(_ z: UnsafePointer<Float>, classes: Int) -> Int {
        var best = 0
        for j in 1..<Swift.max(classes, 1) where z[j] > z[best] || z[best].isNaN { best = j }
        return best
    }

    /// ℓ = Σ_c v_c·(lse − z_c) over v_c ≠ 0, and the gradient
    /// (p_j·(Σv·p + lse·pLse) − v_j·p)·s·(1 − (z_j/c)²) of the transformed logits z.
    static func row(
        _ z: [Double], raw: UnsafePointer<Float>, v: [Double], gradient: UnsafeMutablePointer<Float>?,
        params: xent_params
    ) -> RowResult {
        guard let lse = logSumExp(z) else { return .bad }
        let argmax = (params.argmax != 0) ? firstMaxIndex(raw, classes: z.count) : -1
        var loss = 0.0
        var mass = 0.0
        for c in z.indices where v[c] != 0 {
            loss += v[c] * (lse - z[c])
            mass += v[c]
        }
        if let g = gradient {
            let s = Double(params.transform.scale)
            // p_j = exp(z_j − m)/S, not exp(z_j − lse): at |m| ~ 1e30, m + log S rounds to m.
            let m = z.max()!
            let sum = sumOfExps(z, max: m)
            for j in z.indices {
                let p = exp(z[j] - m) / sum
                let chain = s * params.transform.capDerivative(z[j])
                let scale = params.cross_entropy_gradient_scale
                g[j] = Float((p * (scale * mass + params.z_loss_gradient_scale * lse) - v[j] * scale) * chain)
            }
        }
        return RowResult(crossEntropy: loss, logSumExp: lse, argmax: argmax)
    }

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, params: xent_params, workers: Int, prefetchLimit: Int
    ) -> RowResult {
        // Equivalent to: ℓ = (1−α)·w_t·(lse − z_t) + (α/K)·Σ_c w_c·(lse − z_c),
        // ∂ℓ/∂z_j = (1−α)·w_t·(p_j − [j = t]) + (α/K)·(p_j·Σ_c w_c − w_j) (and 2λ·lse·p_j),
        // of the transformed logits, times the chain factor s·(1 − (z_j/c)²).
        let zt = Self.transformed(z, classes: classes, params.transform)
        let v = Self.targetVector(zt, label: t, targets: nil, params: params)
        return Self.row(zt, raw: z, v: v, gradient: gradient, params: params)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, params: xent_params, workers: Int, prefetchLimit: Int
    ) -> RowResult {
        // Equivalent to: q_c = (1−α)·y_c + α/K, ℓ = Σ_c w_c·q_c·(lse − z_c),
        // ∂ℓ/∂z_j = p_j·Σ_c w_c·q_c − w_j·q_j (and 2λ·lse·p_j), times the chain factor; a class
        // with w_c·q_c = 0 adds nothing to ℓ, even when masked.
        let zt = Self.transformed(z, classes: classes, params.transform)
        let v = Self.targetVector(zt, label: nil, targets: q, params: params)
        return Self.row(zt, raw: z, v: v, gradient: gradient, params: params)
    }
}
