// The inputs: a seeded generator whose every draw is plain integer and IEEE arithmetic (no standard
// library `random(in:)`, whose algorithm may change between Swift versions, no libm), so the x86-64
// and arm64 builds — with different compilers — draw the same logits, labels and targets.

/// SplitMix64.
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

    /// Uniform in [0, 1), 53 bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [0, n), by the high half of a 64×64-bit product.
    mutating func below(_ n: Int) -> Int { Int(next().multipliedFullWidth(by: UInt64(n)).high) }

    mutating func chance(_ oneIn: Int) -> Bool { below(oneIn) == 0 }

    mutating func uniform(_ low: Double, _ high: Double) -> Float { Float(low + (high - low) * unit()) }

    /// About N(0, sd²): the sum of four uniforms (Irwin–Hall), centred and scaled to variance 1.
    mutating func normal(sd: Double = 1) -> Float {
        let s = unit() + unit() + unit() + unit() - 2
        return Float(s * 1.7320508075688772 * sd)
    }
}

/// The kinds of logits: NUMERICS.md's accuracy clauses, plus ties for the argmax.
enum LogitKind: String, CaseIterable {
    case normal      // N(0, 3²)
    case huge        // ±1e30 mixed with N(0, 3²)
    case tiny        // N(0, 1) × 1e-30
    case offset      // 3e4 + N(0, 3²), −3e4 on odd rows
    case dominant    // N(0, 1) with one class 40 above the rest
    case masked      // N(0, 3²) with about a third of the classes at −inf (never the label)
    case ties        // small integers: many equal maxima (the argmax takes the first)

    /// `rows` rows of `classes` logits at `stride` apart (padding: a sentinel, never read) in
    /// `count` elements, and `rows` labels that never point at a masked class.
    func batch(rows: Int, classes: Int, stride: Int, count: Int, seed: UInt64) -> (logits: [Float], labels: [Int32]) {
        var rng = SplitMix64(seed: seed &* 1_000_003 &+ UInt64(classes))
        var logits = [Float](repeating: 1234.5, count: count)
        var labels = [Int32](repeating: 0, count: rows)
        for r in 0..<rows {
            let label = rng.below(classes)
            labels[r] = Int32(label)
            let base = r * stride
            for j in 0..<classes {
                let z: Float
                switch self {
                case .normal: z = rng.normal(sd: 3)
                case .huge:
                    z = rng.chance(2) ? (rng.chance(2) ? 1e30 : -1e30) * rng.uniform(0.5, 1) : rng.normal(sd: 3)
                case .tiny: z = rng.normal() * 1e-30
                case .offset: z = (r % 2 == 0 ? 3e4 : -3e4) + rng.normal(sd: 3)
                case .dominant: z = rng.normal()
                case .masked: z = j != label && rng.chance(3) ? -.infinity : rng.normal(sd: 3)
                case .ties: z = Float(rng.below(4))
                }
                logits[base + j] = z
            }
            if self == .dominant { logits[base + rng.below(classes)] += 40 }
        }
        return (logits, labels)
    }
}

/// Soft targets: non-negative weights whose rows do not sum to 1 (about a quarter are 0), and 0
/// wherever the logit is masked; the padding holds a sentinel.
func softTargets(for logits: [Float], rows: Int, classes: Int, stride: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed ^ 0x5EED)
    var targets = [Float](repeating: 99, count: logits.count)
    let scale = 1 / Double(classes).squareRoot()
    for r in 0..<rows {
        for j in r * stride..<r * stride + classes {
            targets[j] = logits[j] == -.infinity || rng.chance(4) ? 0 : Float(rng.unit() * scale)
        }
    }
    return targets
}
