// One row of NUMERICS.md in Double, and the accuracy bounds around it (Tests/XentTests'
// Tolerances.swift and TransformTests.swift, restated here: the test target is not importable).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Float's unit roundoff, u = 2⁻²⁴.
let unitRoundoff = 0x1p-24

/// A row's truth: `t = s·z` rounded to Float, then `c·tanh(t/c)` in Double; the target vector
/// `v_c = (1−α)·w_c·y_c + (α/K)·w_c·[t_c ≠ −inf]`; `ℓ = Σ_{v_c ≠ 0} v_c·(lse − t_c)`. Nil for a row
/// the contract makes NaN (NaN or +inf after the transform, or every class masked).
struct RowTruth {
    let t: [Double]
    let m: Double
    let lse: Double
    let p: [Double]
    let v: [Double]
    let mass: Double
    let crossEntropy: Double
    let scale: Double
    let cap: Double?

    init?(logits z: ArraySlice<Float>, label: Int?, soft: ArraySlice<Float>?, smoothing alpha: Double,
          weights: [Float]?, scale: Float, cap: Float?) {
        let t = z.map { zj -> Double in
            let scaled = Double(zj * scale)
            return cap.map { Double($0) * tanh(scaled / Double($0)) } ?? scaled
        }
        guard !t.contains(where: { $0.isNaN || $0 == .infinity }), let m = t.max(), m > -.infinity else { return nil }
        // p and ℓ from log S and the gaps m − t, not from lse: at |m| ≈ 1e30, m + log S rounds
        // to m in Double, and exp(t − lse) would give two tied maxima p = 1 each.
        let logS = log(t.reduce(0) { $0 + exp($1 - m) })
        let lse = m + logS
        let unmasked = Double(t.count { $0 != -.infinity })
        let v = t.indices.map { c -> Double in
            let w = weights.map { Double($0[c]) } ?? 1
            let y = label.map { $0 == c ? 1.0 : 0.0 } ?? Double(soft![soft!.startIndex + c])
            return (1 - alpha) * w * y + (alpha != 0 && t[c] != -.infinity ? alpha / unmasked * w : 0)
        }
        self.t = t
        self.m = m
        self.lse = lse
        p = t.map { exp(($0 - m) - logS) }
        self.v = v
        mass = v.reduce(0, +)
        crossEntropy = t.indices.reduce(0) { v[$1] == 0 ? $0 : $0 + v[$1] * ((m - t[$1]) + logS) }
        self.scale = Double(scale)
        self.cap = cap.map(Double.init)
    }

    /// The chain factor `s·(1 − (t_j/c)²)`.
    func chain(_ j: Int) -> Double { scale * (cap.map { 1 - (t[j] / $0) * (t[j] / $0) } ?? 1) }

    /// `p_j·(P·Σv + Pz·lse) − P·v_j`: the gradient of the transformed logits, where P is the
    /// upstream gradient over the reduction's denominator and Pz the z-loss's `2λ` times the
    /// upstream gradient over its own.
    func inner(_ j: Int, p P: Double, pLse Pz: Double) -> Double { p[j] * (P * mass + Pz * lse) - v[j] * P }

    func gradient(_ j: Int, p P: Double, pLse Pz: Double) -> Double { inner(j, p: P, pLse: Pz) * chain(j) }

    /// NUMERICS.md's componentwise bound on the transformed logits, times the chain factor, plus
    /// the softcap's own rounding as `SoftmaxCrossEntropy.softcap` states it.
    func gradientBound(_ j: Int, p P: Double, pLse Pz: Double, lambda: Double) -> Double {
        let u = unitRoundoff
        let capTerm = cap == nil ? 0 : 4 * (abs(t[j]) + abs(m))
        let gapTerm = p[j] == 0 ? 0 : (16 + abs(t[j] - m) + capTerm) * u * abs(p[j] * (P * mass + Pz * lse))
        var bound = gapTerm + 16 * u * abs(v[j] * P)
        if lambda != 0 { bound += 1e-6 * abs(Pz) * Swift.max(1, abs(lse)) * p[j] }
        bound *= abs(chain(j))
        if cap != nil { bound += 16 * u * scale * abs(inner(j, p: P, pLse: Pz)) }
        return bound + 1e-30
    }

    /// The row loss `ℓ + λ·lse²`'s bound, without the Float rounding of the value itself:
    /// NUMERICS.md's `1e-6·max(1, |lse*|)` for a unit target mass, grown with the mass (class
    /// weights up to 1000 here; the error of lse enters the loss `Σv` times) and with the z-loss
    /// (d(λ·lse²) = 2λ·lse·d lse), plus the softcap's terms.
    func lossBound(lambda: Double) -> Double {
        let largest = t.filter(\.isFinite).map(abs).max() ?? 0
        let capLse = cap == nil ? 0 : 4 * unitRoundoff * largest
        let capLoss = cap == nil ? 0 : 8 * unitRoundoff * mass * largest
        return (1e-6 * Swift.max(1, abs(lse)) + capLse) * (Swift.max(1, mass) + 2 * lambda * abs(lse)) + capLoss
    }

    /// The bound on the row's log-sum-exp output.
    var logSumExpBound: Double {
        1e-6 * Swift.max(1, abs(lse)) + (cap == nil ? 0 : 4 * unitRoundoff * (t.filter(\.isFinite).map(abs).max() ?? 0))
    }
}

/// Whether `value` (a kernel's Float) is within `bound` of `truth`, plus one ulp of the value
/// for a loss (its Float rounding; the gradient bounds include theirs). Infinities must match
/// exactly: a truth beyond Float's range must come out as the infinity it rounds to.
func agrees(_ value: Float, _ truth: Double, bound: Double, ulp: Bool = false) -> Bool {
    if truth.isInfinite || value.isInfinite { return Double(value) == truth || Float(truth) == value }
    return abs(Double(value) - truth) <= bound + (ulp ? Double(value.ulp) : 0)
}
