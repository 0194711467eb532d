// A seeded random generator and the logits and targets the tests draw from it.

/// SplitMix64: small, fast, and the same sequence on every platform.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A draw from N(mean, sd²) (Box–Muller).
    mutating func normal(mean: Double = 0, sd: Double = 1) -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return Float(mean + sd * (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2))
    }
}

import Foundation

/// The kinds of logits NUMERICS.md's accuracy clauses name.
enum LogitKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case normal      // N(0, 3²)
    case huge        // ±1e30 mixed with N(0, 3²)
    case tiny        // N(0, 1) × 1e-30
    case offset      // 3e4 + N(0, 3²), and −3e4 on odd rows
    case dominant    // N(0, 1) with one class 40 above the rest
    case masked      // N(0, 3²) with about a third of the classes at −inf (never the label)

    var description: String { rawValue }

    /// `rows × classes` logits and `rows` labels (never pointing at a masked class).
    func batch(rows: Int, classes: Int, seed: UInt64) -> (logits: [Float], labels: [Int32]) {
        var rng = SeededGenerator(seed: seed &* 1_000_003 &+ UInt64(classes))
        var logits = [Float](repeating: 0, count: rows * classes)
        var labels = [Int32](repeating: 0, count: rows)
        for r in 0..<rows {
            let label = Int.random(in: 0..<classes, using: &rng)
            labels[r] = Int32(label)
            for j in 0..<classes {
                let z: Float
                switch self {
                case .normal: z = rng.normal(sd: 3)
                case .huge:
                    z = Bool.random(using: &rng)
                        ? (Bool.random(using: &rng) ? 1e30 : -1e30) * Float.random(in: 0.5..<1, using: &rng)
                        : rng.normal(sd: 3)
                case .tiny: z = rng.normal() * 1e-30
                case .offset: z = (r % 2 == 0 ? 3e4 : -3e4) + rng.normal(sd: 3)
                case .dominant: z = rng.normal()
                case .masked:
                    z = j != label && Int.random(in: 0..<3, using: &rng) == 0 ? -.infinity : rng.normal(sd: 3)
                }
                logits[r * classes + j] = z
            }
            if self == .dominant {
                logits[r * classes + Int.random(in: 0..<classes, using: &rng)] += 40
            }
        }
        return (logits, labels)
    }
}

/// Soft targets: non-negative weights whose rows do not sum to 1 (about a quarter are 0),
/// and 0 wherever the logit is masked.
func softTargets(for logits: [Float], classes: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed ^ 0x5EED)
    return logits.map { z in
        if z == -.infinity || Int.random(in: 0..<4, using: &rng) == 0 { return 0 }
        return Float.random(in: 0..<1, using: &rng) / Float(classes).squareRoot()
    }
}
