// The logit transforms of NUMERICS.md §1 (logit scale, softcap) for the Swift kernels.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `z' = s·z`, rounded to `Float` (as a caller who scaled the logits first would have them),
/// then, with a softcap `c > 0`, `z'' = c·tanh(z'/c)`; the gradient with respect to the caller's
/// logits is the transformed one times `s·(1 − (z''/c)²)`. Both transforms are monotone, so
/// the argmax of the transformed row is that of the caller's (Xent reports the caller's: a
/// saturated softcap can round distinct logits to the same `c`).
struct LogitTransform: Sendable, Hashable {
    /// s > 0; 1 for none.
    var scale: Float = 1
    /// c > 0; 0 for none.
    var cap: Float = 0

    /// The transformed logit in `Float`, as the `.scalar` kernel forms it: libm's `tanhf`.
    @inline(__always)
    func callAsFunction(_ z: Float) -> Float {
        let scaled = z * scale
        return cap > 0 ? cap * tanhf(scaled / cap) : scaled
    }

    /// The transformed logit as the contract reads: `s·z` rounded to `Float`, the softcap in
    /// `Double`.
    @inline(__always)
    func exact(_ z: Float) -> Double {
        let scaled = Double(z * scale)
        return cap > 0 ? Double(cap) * tanh(scaled / Double(cap)) : scaled
    }

    /// The softcap's chain factor `1 − (t/c)²` at a transformed logit `t` (1 without a softcap),
    /// in `Double`, for the reference; the other kernels apply it in `Float`, in their scaling
    /// pass. The logit scale's factor s is constant and carried by `xent_params.chained`.
    @inline(__always)
    func capDerivative(_ t: Double) -> Double {
        guard cap > 0 else { return 1 }
        let r = t / Double(cap)
        return 1 - r * r
    }
}
