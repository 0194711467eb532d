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

    /// `Σ exp(z_j − m)`, storing each term in `e` when given.
    @inline(__always)
    static func expSum(
        _ z: UnsafePointer<Float>, classes: Int, max m: Float, into e: UnsafeMutablePointer<Float>?
    ) -> Double {
        var s = 0.0
        for j in 0..<classes {
            let ej = expf(z[j] - m)
            e?[j] = ej
            s += Double(ej)
        }
        return s
    }

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        guard let m = Self.rowMax(z, classes: classes) else { return .bad }
        let zt = z[t]  // read before an in-place gradient overwrites it
        let s = Self.expSum(z, classes: classes, max: m, into: gradient)
        let lse = Double(m) + log(s)
        if let g = gradient {
            let scale = Float((scales.p + scales.pLse * lse) / s)
            for j in 0..<classes { g[j] *= scale }
            g[t] -= Float(scales.q)
        }
        return RowResult(crossEntropy: Double(m) - Double(zt) + log(s), logSumExp: lse)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scales: GradientScales, workers: Int
    ) -> RowResult {
        guard let m = Self.rowMax(z, classes: classes) else { return .bad }
        // ℓ = Σq·log S + Σ q_c·(m − z_c): both terms ≥ 0, so nothing cancels.
        var sumQ = 0.0
        var sumQGap = 0.0
        for c in 0..<classes where q[c] != 0 {
            sumQ += Double(q[c])
            sumQGap += Double(m - z[c]) * Double(q[c])
        }
        let s = Self.expSum(z, classes: classes, max: m, into: gradient)
        let lse = Double(m) + log(s)
        if let g = gradient {
            let scale = Float((scales.p * sumQ + scales.pLse * lse) / s)
            let qScale = Float(scales.q)
            for j in 0..<classes { g[j] = g[j] * scale - q[j] * qScale }
        }
        return RowResult(crossEntropy: sumQ * log(s) + sumQGap, logSumExp: lse)
    }
}
