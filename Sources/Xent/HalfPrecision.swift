// The 16-bit logit types: Float16 (IEEE binary16) and BFloat16 (a storage type Swift lacks).
import CXent

/// A 16-bit floating-point format Xent reads logits and soft targets from and writes gradients
/// in: `Float16` (IEEE 754 binary16) and ``BFloat16``.
///
/// Xent computes in `Float`: each row is widened (exactly) into a per-thread `Float` workspace,
/// the loss and gradient are computed there as for `Float` logits — the target class's
/// `p_t − 1` included, so it is not lost to a 16-bit `p_t` that rounded to 1 — and the gradient
/// is rounded to the format once, to nearest with ties to even. Losses are returned in `Float`.
///
/// Accuracy, against the Double reference on the same (16-bit) inputs: the loss as for `Float`
/// logits (NUMERICS.md); each gradient entry within NUMERICS.md's `Float` bound plus half an ulp
/// of the format at the true value — `2⁻¹¹·|g*|` for `Float16` (whose subnormals add up to
/// `2⁻²⁵` absolute) and `2⁻⁸·|g*|` for ``BFloat16``.
///
/// Xent supports exactly these two conformances; a type of another size is refused at run time
/// (a precondition, before any element is read), since its buffers would be read as 16-bit values.
public protocol HalfPrecisionFloat: LogitElement {
    /// The format's layout, for the shim's conversions.
    static var halfPrecisionFormat: HalfPrecisionFormat { get }
}

/// The 16-bit layouts ``HalfPrecisionFloat`` types use.
public enum HalfPrecisionFormat: Sendable, Hashable {
    /// IEEE 754 binary16 (`Float16`): 5 exponent bits, 10 fraction bits; largest finite value
    /// 65504.
    case binary16
    /// bfloat16: `Float`'s sign, 8 exponent bits and top 7 fraction bits; `Float`'s range.
    case bfloat16

    var cValue: xent_half_format {
        switch self {
        case .binary16: return XENT_HALF_BINARY16
        case .bfloat16: return XENT_HALF_BFLOAT16
        }
    }
}

/// A bfloat16 value: the top 16 bits of a `Float` (sign, 8-bit exponent, 7-bit fraction), as
/// machine-learning frameworks store logits and gradients. Swift has no such type; this one only
/// stores and converts (round to nearest, ties to even; NaN stays NaN).
///
/// ```swift
/// let x = BFloat16(3.14159)          // 3.140625
/// let y = Float(x)                   // widening is exact
/// let bits = x.bitPattern            // 0x4049
/// ```
@frozen
public struct BFloat16: HalfPrecisionFloat, Hashable, BitwiseCopyable, CustomStringConvertible {
    /// The 16 bits: a `Float`'s upper half.
    public var bitPattern: UInt16

    /// The value with these bits.
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// `value` rounded to bfloat16: to nearest, ties to even; overflow gives ±inf, NaN a quiet NaN.
    @inlinable
    public init(_ value: Float) {
        // Half an ulp of the kept part added (ties to even); a NaN kept quiet, since the addition
        // could carry its payload into inf. A select, not a branch: row loops vectorize it.
        let bits = value.bitPattern
        let nan = UInt16(truncatingIfNeeded: bits &>> 16) | 0x0040
        let rounded = UInt16(truncatingIfNeeded: (bits &+ 0x7fff &+ ((bits &>> 16) & 1)) &>> 16)
        bitPattern = bits & 0x7fff_ffff > 0x7f80_0000 ? nan : rounded
    }

    /// The value as a `Float` (exact).
    public var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    /// The `Float` value's description.
    public var description: String { float.description }

    /// ``HalfPrecisionFormat/bfloat16``.
    public static var halfPrecisionFormat: HalfPrecisionFormat { .bfloat16 }

    /// Equal as `Float` values (so `+0 == −0` and NaN is not equal to itself).
    public static func == (a: BFloat16, b: BFloat16) -> Bool { a.float == b.float }

    /// Hashes the `Float` value (+0 and −0 alike).
    public func hash(into hasher: inout Hasher) { hasher.combine(float) }
}

extension Float {
    /// `value` widened to `Float`, exactly.
    public init(_ value: BFloat16) { self = value.float }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: HalfPrecisionFloat {
    /// ``HalfPrecisionFormat/binary16``.
    public static var halfPrecisionFormat: HalfPrecisionFormat { .binary16 }
}
#endif
