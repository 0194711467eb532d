// A seeded, deterministic train/test split and epoch shuffle, over the example's own small RNG.

/// SplitMix64 (Steele, Lea & Flood, 2014): a 64-bit generator whose output depends only on the
/// seed. The standard library's `shuffle(using:)` algorithm may change between Swift versions,
/// so this file shuffles with its own Fisher–Yates too: the same seed gives the same split and
/// the same minibatches on every platform and toolchain.
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

    /// Fisher–Yates, in place.
    mutating func shuffle(_ elements: inout [Int]) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, to: 0, by: -1) {
            elements.swapAt(i, next(below: i + 1))
        }
    }
}

extension Dataset {
    /// Shuffles the examples with `seed` and holds out the last `testFraction` of them.
    func split(testFraction: Double, seed: UInt64) -> (train: Dataset, test: Dataset) {
        var order = Array(0..<count)
        var rng = SplitMix64(seed: seed)
        rng.shuffle(&order)
        let testCount = Int((Double(count) * testFraction).rounded())
        return (subset(Array(order.dropLast(testCount))), subset(Array(order.suffix(testCount))))
    }
}
