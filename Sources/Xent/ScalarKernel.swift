// The fair scalar baseline: what a careful user writes in Float without SIMD.
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
    /// `max z`, or nil when the row holds NaN or +inf or every class is masked.
    @inline(__always)
    static func rowMax(_ z: UnsafePointer<Float>, classes: Int) -> Float? {
        var m = -Float.infinity
        for j in 0..<classes {
            let zj = z[j]
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
        markMasked: Bool = false
    ) -> Double {
        var s = 0.0
        for j in 0..<classes {
            let zj = z[j]
            let ej = expf(zj - m)
            e?[j] = markMasked && zj == -.infinity ? -0.0 : ej
            s += Double(ej)
        }
        return s
    }

    /// Over the unmasked classes: `K`, `Σ w_c` and `Σ w_c·(m − z_c)` (w = 1 without weights).
    @inline(__always)
    static func smoothingSums(
        _ z: UnsafePointer<Float>, classes: Int, max m: Float, weights: UnsafePointer<Float>?
    ) -> (count: Double, weight: Double, gap: Double) {
        var count = 0.0, weight = 0.0, gap = 0.0
        for c in 0..<classes where z[c] != -.infinity {
            let w = weights.map { Double($0[c]) } ?? 1
            count += 1
            weight += w
            gap += w * Double(m - z[c])
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

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        guard let m = Self.rowMax(z, classes: classes) else { return .bad }
        let alpha = scales.smoothing
        let zt = z[t]  // read before an in-place gradient overwrites it
        let argmax = scales.argmax ? ReferenceKernel.firstMaxIndex(z, classes: classes) : -1
        let smooth = alpha != 0 ? Self.smoothingSums(z, classes: classes, max: m, weights: scales.weights) : (count: 0, weight: 0, gap: 0)
        let s = Self.expSum(z, classes: classes, max: m, into: gradient, markMasked: alpha != 0)
        let logS = log(s)
        let lse = Double(m) + logS
        let labelWeight = (1 - alpha) * (scales.weights.map { Double($0[t]) } ?? 1)
        var loss = labelWeight != 0 ? labelWeight * (Double(m) - Double(zt) + logS) : 0
        var mass = labelWeight
        if alpha != 0 {
            loss += alpha / smooth.count * (smooth.weight * logS + smooth.gap)
            mass += alpha / smooth.count * smooth.weight
        }
        if let g = gradient {
            let a = Float((scales.p * mass + scales.pLse * lse) / s)
            if alpha == 0 {
                for j in 0..<classes { g[j] *= a }
            } else {
                Self.scale(g, classes: classes, a: a, targets: nil, b: 0,
                           smoothing: Float(scales.p * alpha / smooth.count), weights: scales.weights)
            }
            g[t] -= Float(scales.p * labelWeight)
        }
        return RowResult(crossEntropy: loss, logSumExp: lse, argmax: argmax)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets y: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        guard let m = Self.rowMax(z, classes: classes) else { return .bad }
        let alpha = scales.smoothing
        let argmax = scales.argmax ? ReferenceKernel.firstMaxIndex(z, classes: classes) : -1
        // Σ q'·log S + Σ q'_c·(m − z_c) with q' = w·y: both terms ≥ 0, so nothing cancels.
        var sumQ = 0.0
        var sumQGap = 0.0
        for c in 0..<classes {
            let q = Double(y[c]) * (scales.weights.map { Double($0[c]) } ?? 1)
            if q != 0 {
                sumQ += q
                sumQGap += Double(m - z[c]) * q
            }
        }
        let smooth = alpha != 0 ? Self.smoothingSums(z, classes: classes, max: m, weights: scales.weights) : (count: 0, weight: 0, gap: 0)
        let s = Self.expSum(z, classes: classes, max: m, into: gradient, markMasked: alpha != 0)
        let logS = log(s)
        let lse = Double(m) + logS
        var loss = (1 - alpha) * (sumQ * logS + sumQGap)
        var mass = (1 - alpha) * sumQ
        if alpha != 0 {
            loss += alpha / smooth.count * (smooth.weight * logS + smooth.gap)
            mass += alpha / smooth.count * smooth.weight
        }
        if let g = gradient {
            let a = Float((scales.p * mass + scales.pLse * lse) / s)
            Self.scale(g, classes: classes, a: a, targets: y, b: Float(scales.p * (1 - alpha)),
                       smoothing: alpha != 0 ? Float(scales.p * alpha / smooth.count) : 0, weights: scales.weights)
        }
        return RowResult(crossEntropy: loss, logSumExp: lse, argmax: argmax)
    }
}
