// An order-free sum of Doubles: what the row combine adds the chunks' sums with, so that the
// result does not depend on how the chunks are grouped (threads, vocabulary shards) or ordered.

/// A sum of `Double` terms whose result depends only on the multiset of terms: not on their
/// order, nor on how partial sums were grouped and merged (``merge(_:)``).
///
/// Each finite term is cut at fixed binary positions into 32-bit digits: bin `b` holds the digit of
/// weight `2^(32·b)` (integer operations on the term's bits, no floating-point arithmetic). The sum
/// keeps the digits of the three highest bins any term reached (`top`, `top − 1`, `top − 2`), one
/// signed integer count per bin, never carried; digits below that window are dropped, whether they
/// were never added or shifted out when `top` rose. So the counts are, for the final `top`, the
/// sums of every term's digits in those three bins, however the terms arrived. ``value`` rounds
/// their exact total once.
///
/// - A single term comes back unchanged: a `Double`'s 53 bits start in its top bin and lie within
///   three bins.
/// - Each term loses less than `2^(32·(top − 2))`, i.e. `2⁻⁶⁴` relative to the largest bin: with
///   the few hundred non-negative terms of a row's Σexp the result is within an ulp or so of the
///   exact sum. Where terms of both signs cancel (negative soft targets) the error stays below
///   `2⁻⁶⁴` of the largest term, not of the result.
/// - The counts stay below `terms · 2³²` in magnitude: exact in a `Double` below 2²⁰ terms, which
///   is what the flat shard layout carries.
/// - Non-finite terms are added apart, in IEEE arithmetic (`+inf + −inf` is NaN in any order), and
///   win over the finite part.
struct ExactSum: Equatable {
    /// The highest bin reached, or ``emptyBin`` before any nonzero finite term.
    private(set) var top: Int = ExactSum.emptyBin
    /// Counts of the digits of bins `top`, `top − 1`, `top − 2`.
    private(set) var limbs: (Int64, Int64, Int64) = (0, 0, 0)
    /// The IEEE sum of the non-finite terms; 0 when there are none.
    private(set) var special: Double = 0

    static let emptyBin = Int.min
    /// The bins a finite `Double` can reach: its exponent ranges over −1074 … 1023.
    static let bins = (-1074 >> 5) ... (1023 >> 5)

    init() {}

    static func == (a: ExactSum, b: ExactSum) -> Bool {
        a.top == b.top && a.limbs == b.limbs && a.special.bitPattern == b.special.bitPattern
    }

    /// Adds one term (±0 adds nothing).
    @inline(__always)
    mutating func add(_ x: Double) {
        guard x != 0 else { return }
        guard x.isFinite else {
            special += x
            return
        }
        // |x| = m·2^L with m the 53-bit (or subnormal) integer significand.
        let bits = x.bitPattern
        let field = Int((bits >> 52) & 0x7ff)
        let fraction = bits & (1 << 52 - 1)
        let m = field == 0 ? fraction : fraction | 1 << 52
        let low = field == 0 ? -1074 : field - 1075
        let bin = (low + 63 - m.leadingZeroBitCount) >> 5  // the bin of x's leading bit
        if bin > top { raise(to: bin) }
        let lowest = top - 2
        guard bin >= lowest else { return }
        // |x| in units of the window's lowest bin, truncated: at most 96 bits, as (high, low).
        let shift = low - 32 * lowest
        var hi: UInt64 = 0, lo: UInt64 = 0
        if shift >= 64 {
            hi = m << (shift - 64)
        } else if shift > 0 {
            lo = m << shift
            hi = m >> (64 - shift)
        } else if shift > -64 {
            lo = m >> -shift
        }
        let digits = (Int64(hi & 0xffff_ffff), Int64(lo >> 32), Int64(lo & 0xffff_ffff))
        if x < 0 {
            limbs = (limbs.0 - digits.0, limbs.1 - digits.1, limbs.2 - digits.2)
        } else {
            limbs = (limbs.0 + digits.0, limbs.1 + digits.1, limbs.2 + digits.2)
        }
    }

    /// Adds every term of `other`: the result is that of adding all of both sums' terms to one.
    mutating func merge(_ other: ExactSum) {
        special += other.special
        guard other.top != Self.emptyBin else { return }
        if other.top > top { raise(to: other.top) }
        var theirs = other
        theirs.raise(to: top)
        limbs = (limbs.0 + theirs.limbs.0, limbs.1 + theirs.limbs.1, limbs.2 + theirs.limbs.2)
    }

    /// Moves the window up to `bin` (≥ top), dropping the counts that fall below it.
    private mutating func raise(to bin: Int) {
        if top == Self.emptyBin {
            top = bin
            return
        }
        switch bin - top {
        case 0: break
        case 1: limbs = (0, limbs.0, limbs.1)
        case 2: limbs = (0, 0, limbs.0)
        default: limbs = (0, 0, 0)
        }
        top = bin
    }

    /// `x · 2^(32·bins)`, exact for the values used here (no overflow; never below the smallest
    /// normal unless `x` is itself subnormal-scaled back to where it came from). Two steps,
    /// because `2^(32·bins)` alone may not be a `Double`.
    @inline(__always)
    private static func scale(_ x: Double, bins: Int) -> Double {
        let half = 16 * bins
        let first = Double(sign: .plus, exponent: half, significand: x)
        return Double(sign: .plus, exponent: 32 * bins - half, significand: first)
    }

    /// Whether the non-finite terms, if any, summed to NaN (never ±inf).
    var isFiniteOrNaN: Bool { special == 0 || special.isNaN }

    /// The sum, rounded once to nearest (ties to even); the non-finite terms' sum if there were
    /// any. A result below the smallest normal is rounded twice (to 64 bits, then to the
    /// subnormal), deterministically.
    var value: Double {
        if special != 0 { return special }  // NaN too
        guard top != Self.emptyBin else { return 0 }
        // N = l0·2⁶⁴ + l1·2³² + l2, carried so that l1, l2 ∈ [0, 2³²) and l0 holds the sign.
        var (l0, l1, l2) = limbs
        var carry = l2 >> 32
        l2 -= carry << 32
        l1 += carry
        carry = l1 >> 32
        l1 -= carry << 32
        l0 += carry
        // |N| = high·2⁶⁴ + low.
        var low = UInt64(l1) << 32 | UInt64(l2)
        var high: UInt64
        let negative = l0 < 0
        if negative {
            if low == 0 {
                high = UInt64(-l0)
            } else {
                high = UInt64(-l0 - 1)
                low = 0 &- low
            }
        } else {
            high = UInt64(l0)
        }
        guard high != 0 || low != 0 else { return 0 }
        var magnitude: Double
        if high == 0 {
            magnitude = Double(low)
        } else {
            // The top 64 bits of |N|, the bits shifted out kept as a sticky bit: one rounding.
            let shift = 64 - high.leadingZeroBitCount
            var top64 = high << (64 - shift) | low >> shift
            if low << (64 - shift) != 0 { top64 |= 1 }
            magnitude = Double(sign: .plus, exponent: shift, significand: Double(top64))
        }
        magnitude = Self.scale(magnitude, bins: top - 2)
        return negative ? -magnitude : magnitude
    }
}

extension Double {
    /// Whether this is an integer, for a value already known to be below 2⁶³ in magnitude
    /// (a conversion and a compare: cheaper than `rounded()`, a libm call).
    @inline(__always)
    var isWholeNumber: Bool { Double(Int64(self)) == self }
}

extension ExactSum {
    /// Doubles in the flat layout (``VocabShard``): `top` (−inf when empty), the three counts,
    /// the non-finite part.
    static let flatCount = 5

    func write(to out: UnsafeMutablePointer<Double>) {
        out[0] = top == Self.emptyBin ? -.infinity : Double(top)
        out[1] = Double(limbs.0)
        out[2] = Double(limbs.1)
        out[3] = Double(limbs.2)
        out[4] = special
    }

    /// The sum read back from ``write(to:)``'s layout, or nil when a value is outside its domain
    /// (a bin out of range, a count that is not an integer below 2⁵³, a finite `special` ≠ 0).
    init?(reading p: UnsafePointer<Double>) {
        // A block's counts come from at most 2·512 deposits of < 2³² each: 2⁴⁵ leaves room, and
        // merging 2¹⁷ blocks of them stays far inside an Int64.
        let limit = 0x1p45
        if p[0] == -.infinity {
            guard p[1] == 0, p[2] == 0, p[3] == 0 else { return nil }
        } else {
            guard p[0] >= Double(Self.bins.lowerBound), p[0] <= Double(Self.bins.upperBound), p[0].isWholeNumber
            else { return nil }
            top = Int(p[0])
        }
        for k in 1...3 {
            guard p[k].magnitude < limit, p[k].isWholeNumber else { return nil }
        }
        guard p[4] == 0 || !p[4].isFinite else { return nil }
        limbs = (Int64(p[1]), Int64(p[2]), Int64(p[3]))
        special = p[4] == 0 ? 0 : p[4]
    }
}
