// The example's own small seeded generator, so that the corpus, the initial weights and the
// batch order are the same on every platform and toolchain.

/// SplitMix64 (Steele, Lea & Flood, 2014): a 64-bit generator whose output depends only on the
/// seed. The standard library's generators and `shuffle(using:)` may change between Swift
/// versions; this one and the Fisher–Yates below do not.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0 ..< bound`: the high half of `bound × next()` (Lemire's method without the
    /// rejection step; the bias is below 2⁻⁵² for the bounds used here).
    mutating func next(below bound: Int) -> Int {
        Int(UInt64(bound).multipliedFullWidth(by: next()).high)
    }

    /// A value in [0, 1) with 24 random bits: exact in `Float`, and no libm involved.
    mutating func unit() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// True with probability `p`.
    mutating func chance(_ p: Float) -> Bool { unit() < p }

    /// A uniformly chosen element.
    mutating func pick<T>(_ elements: [T]) -> T { elements[next(below: elements.count)] }

    /// `count` distinct indices in `0 ..< bound`, in drawing order.
    mutating func distinct(_ count: Int, below bound: Int) -> [Int] {
        var chosen: [Int] = []
        while chosen.count < count {
            let i = next(below: bound)
            if !chosen.contains(i) { chosen.append(i) }
        }
        return chosen
    }

    /// Fisher–Yates, in place.
    mutating func shuffle<T>(_ elements: inout [T]) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, to: 0, by: -1) {
            elements.swapAt(i, next(below: i + 1))
        }
    }
}
