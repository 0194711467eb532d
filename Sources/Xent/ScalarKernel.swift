// The fair scalar baseline: what a careful user writes in Float without SIMD.
import CXent
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `.scalar`: one element at a time in `Float` with libm's `expf`, the row's sum of
/// exponentials kept in `Double` (a single `Float` accumulator loses ~1e-4 relative at 262,144
/// classes). Same three passes as the vector kernel: max, exp stored and summed, scale.
struct ScalarKernel: RowKernel {
    /// `max z` of the transformed logits, or nil when the row holds NaN or +inf or every class
    /// is masked.
    @inline(__always)
    static func rowMax(_ z: UnsafePointer<Float>, classes: Int, _ tr: LogitTransform) -> Float? {
        var m = -Float.infinity
        for j in 0..<classes {
            let zj = tr(z[j])
            if zj.isNaN { return nil }
            if zj > m { m = zj }
        }
        return m.isFinite ? m : nil
    }

    /// `Σ exp(z_j − m)`, storing each term in `e` when given; with `markMasked`, a masked
    /// class's term is stored as −0 so the scaling pass can tell it from an underflow.
    @inline(__always)
    static func expSum(
        _ z: UnsafePointer<Float>, classes: Int, max m: Float, into e: UnsafeMutablePointer<Float>?,
        markMasked: Bool = false, _ tr: LogitTransform
    ) -> Double {
        var s = 0.0
        for j in 0..<classes {
            let zj = tr(z[j])
            let ej = expf(zj - m)
            e?[j] = markMasked && zj == -.infinity ? -0.0 : ej
            s += Double(ej)
        }
        return s
    }

    /// Over the unmasked classes: `K`, `Σ w_c` and `Σ w_c·(m − z_c)` (w = 1 without weights).
    @inline(__always)
    static func smoothingSums(
        _ z: UnsafePointer<Float>, classes: Int, max m: Float, weights: UnsafePointer<Float>?, _ tr: LogitTransform
    ) -> (count: Double, weight: Double, gap: Double) {
        var count = 0.0, weight = 0.0, gap = 0.0
        for c in 0..<classes {
            let zc = tr(z[c])
            if zc == -.infinity { continue }
            let w = weights.map { Double($0[c]) } ?? 1
            count += 1
            weight += w
            gap += w * (Double(m) - Double(zc))
        }
        return (count, weight, gap)
    }

    /// `g_j ← e_j·a − w_j·(y_j·b + [j unmasked]·c)`: the shared scaling pass.
    @inline(__always)
    static func scale(
        _ g: UnsafeMutablePointer<Float>, classes: Int, a: Float, targets y: UnsafePointer<Float>?, b: Float,
        smoothing c: Float, weights: UnsafePointer<Float>?
    ) {
        for j in 0..<classes {
            let e = g[j]
            var t = e.sign == .minus ? 0 : c  // e < 0 only as a masked −0
            if let y { t += y[j] * b }
            if let weights { t *= weights[j] }
            g[j] = e * a - t
        }
    }

    /// With a softcap c, `g` holds the transformed logits t: `g_j ← (exp(t_j − m)·a − w_j·(y_j·b +
    /// c_s) − [j = label]·labelTerm)·(1 − (t_j/c)²)` (no class is masked under a softcap).
    @inline(__always)
    static func scaleCapped(
        _ g: UnsafeMutablePointer<Float>, classes: Int, max m: Float, a: Float, targets y: UnsafePointer<Float>?,
        b: Float, smoothing cs: Float, weights: UnsafePointer<Float>?, cap: Float, label: Int = -1, labelTerm: Float = 0
    ) {
        for j in 0..<classes {
            let t = g[j]
            var target = cs
            if let y { target += y[j] * b }
            if let weights { target *= weights[j] }
            if j == label { target += labelTerm }  // inside the chain factor: p_t − 1 cancels first
            let r = t / cap
            g[j] = (expf(t - m) * a - target) * (1 - r * r)
        }
    }

    /// The row the passes read, the transform they still apply (identity once stored: the
    /// softcap's `c` for the chain factor is the caller's transform's), and whether a softcap is on.
    /// With a softcap and a gradient the transformed logits are stored into the gradient first
    /// (the scaling pass needs them; in place too, element by element) and every pass reads them
    /// there untransformed: one `tanhf` per element rather than one per pass. Call it after
    /// reading anything of the caller's logits (the label's, the argmax).
    @inline(__always)
    static func transformedOnce(
        _ z: UnsafePointer<Float>, classes: Int, gradient: UnsafeMutablePointer<Float>?, _ tr: LogitTransform
    ) -> (UnsafePointer<Float>, LogitTransform, capped: Bool) {
        guard tr.cap > 0 else { return (z, tr, false) }
        guard let g = gradient else { return (z, tr, true) }
        for j in 0..<classes { g[j] = tr(z[j]) }
        return (UnsafePointer(g), LogitTransform(), true)
    }

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, params: xent_params, workers: Int, prefetchLimit: Int
    ) -> RowResult {
        let transform = params.transform
        let params = params.chained
        let zt = transform(z[t])  // read before an in-place gradient overwrites it
        let argmax = (params.argmax != 0) ? ReferenceKernel.firstMaxIndex(z, classes: classes) : -1
        let (x, tr, capped) = Self.transformedOnce(z, classes: classes, gradient: gradient, transform)
        guard let m = Self.rowMax(x, classes: classes, tr) else { return .bad }
        let alpha = params.label_smoothing
        let smooth = alpha != 0
            ? Self.smoothingSums(x, classes: classes, max: m, weights: params.class_weights, tr)
            : (count: 0, weight: 0, gap: 0)
        let s = Self.expSum(x, classes: classes, max: m, into: capped ? nil : gradient, markMasked: alpha != 0, tr)
        let logS = log(s)
        let lse = Double(m) + logS
        let labelWeight = (1 - alpha) * (params.class_weights.map { Double($0[t]) } ?? 1)
        var loss = labelWeight != 0 ? labelWeight * (Double(m) - Double(zt) + logS) : 0
        var mass = labelWeight
        if alpha != 0 {
            loss += alpha / smooth.count * (smooth.weight * logS + smooth.gap)
            mass += alpha / smooth.count * smooth.weight
        }
        if let g = gradient {
            let a = Float((params.cross_entropy_gradient_scale * mass + params.z_loss_gradient_scale * lse) / s)
            let cs = alpha != 0 ? Float(params.cross_entropy_gradient_scale * alpha / smooth.count) : 0
            let labelTerm = Float(params.cross_entropy_gradient_scale * labelWeight)
            if capped {
                Self.scaleCapped(g, classes: classes, max: m, a: a, targets: nil, b: 0, smoothing: cs,
                                 weights: params.class_weights, cap: transform.cap, label: t, labelTerm: labelTerm)
            } else {
                if alpha == 0 {
                    for j in 0..<classes { g[j] *= a }
                } else {
                    Self.scale(
                        g, classes: classes, a: a, targets: nil, b: 0, smoothing: cs, weights: params.class_weights)
                }
                g[t] -= labelTerm
            }
        }
        return RowResult(crossEntropy: loss, logSumExp: lse, argmax: argmax)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets y: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, params: xent_params, workers: Int, prefetchLimit: Int
    ) -> RowResult {
        let transform = params.transform
        let argmax = (params.argmax != 0) ? ReferenceKernel.firstMaxIndex(z, classes: classes) : -1
        let (x, tr, capped) = Self.transformedOnce(z, classes: classes, gradient: gradient, transform)
        let params = params.chained
        guard let m = Self.rowMax(x, classes: classes, tr) else { return .bad }
        let alpha = params.label_smoothing
        // Σ q'·log S + Σ q'_c·(m − z_c) with q' = w·y: both terms ≥ 0, so nothing cancels.
        var sumQ = 0.0
        var sumQGap = 0.0
        for c in 0..<classes {
            let q = Double(y[c]) * (params.class_weights.map { Double($0[c]) } ?? 1)
            if q != 0 {
                sumQ += q
                sumQGap += (Double(m) - Double(tr(x[c]))) * q  // the gap in Double: exact
            }
        }
        let smooth = alpha != 0
            ? Self.smoothingSums(x, classes: classes, max: m, weights: params.class_weights, tr)
            : (count: 0, weight: 0, gap: 0)
        let s = Self.expSum(x, classes: classes, max: m, into: capped ? nil : gradient, markMasked: alpha != 0, tr)
        let logS = log(s)
        let lse = Double(m) + logS
        // (1 − α) = 0 drops the term even when a target sits on a masked class (gap +inf).
        var loss = alpha < 1 ? (1 - alpha) * (sumQ * logS + sumQGap) : 0
        var mass = (1 - alpha) * sumQ
        if alpha != 0 {
            loss += alpha / smooth.count * (smooth.weight * logS + smooth.gap)
            mass += alpha / smooth.count * smooth.weight
        }
        if let g = gradient {
            let targetScale = Float(params.cross_entropy_gradient_scale * (1 - alpha))
            let a = Float((params.cross_entropy_gradient_scale * mass + params.z_loss_gradient_scale * lse) / s)
            let cs = alpha != 0 ? Float(params.cross_entropy_gradient_scale * alpha / smooth.count) : 0
            if capped {
                Self.scaleCapped(g, classes: classes, max: m, a: a, targets: y, b: targetScale,
                                 smoothing: cs, weights: params.class_weights, cap: transform.cap)
            } else {
                Self.scale(g, classes: classes, a: a, targets: y, b: targetScale, smoothing: cs,
                           weights: params.class_weights)
            }
        }
        return RowResult(crossEntropy: loss, logSumExp: lse, argmax: argmax)
    }
}
