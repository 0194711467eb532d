// Row (token) weights (NUMERICS.md "Reduction"): each row's loss and gradient times r_i, `.mean`
// over Σ r_i·w_t — held against the same call without weights, every kernel, labels and soft targets.
import Testing
import Xent

@Suite struct RowWeightTests {
    static let u = Double(Float.ulpOfOne) / 2

    /// Option sets: the reduction, and whether the cross-entropy and z-loss parts share a
    /// denominator (so the unweighted gradient, scaled, is the expected one).
    static let optionSets: [(String, @Sendable (inout SoftmaxCrossEntropy, Int) -> Void)] = [
        ("mean", { _, _ in }),
        (
            "mean, class weights, smoothing",
            { ce, v in
                ce.classWeights = (0..<v).map { Float($0 % 3) * 0.5 + 0.25 }
                ce.labelSmoothing = 0.1
            }
        ),
        (
            "mean, softcap, logit scale, gradient scale",
            { ce, _ in
                ce.softcap = 4
                ce.logitScale = 1.5
                ce.gradientScale = 0.25
            }
        ),
        (
            "sum, z-loss",
            { ce, _ in
                ce.reduction = .sum
                ce.zLossScale = 1e-2
            }
        ),
        ("none", { ce, _ in ce.reduction = .none }),
        ("mean, divisor", { ce, _ in ce.divisor = 3.5 }),
    ]

    @Test(
        "loss, row losses and gradient are the unweighted ones times r_i, over Σ r_i·w_t",
        arguments: [SoftmaxCrossEntropy.Kernel.reference, .scalar, .vector])
    func againstUnweighted(kernel: SoftmaxCrossEntropy.Kernel) throws {
        for (rows, classes) in [(9, 7), (5, 3000), (3, 1)] {
            for (name, set) in Self.optionSets {
                for soft in [false, true] {
                    var (logits, labels) = LogitKind.normal.batch(
                        rows: rows, classes: classes, seed: UInt64(rows * classes))
                    if rows > 2 { labels[2] = -100 }
                    var draws = SeededGenerator(seed: UInt64(classes))
                    let targets = soft ? logits.map { _ in Float.random(in: 0...1, using: &draws) } : nil
                    var weighted = SoftmaxCrossEntropy(kernel: kernel)
                    set(&weighted, classes)
                    // Zero, fractional and large weights; an ignored row keeps its weight out of D.
                    weighted.rowWeights = (0..<rows).map { [0, 0.5, 3, 1, 2.25][$0 % 5] }
                    var unweighted = weighted
                    unweighted.rowWeights = nil
                    unweighted.reduction = .sum
                    unweighted.gradientScale = 1
                    unweighted.divisor = nil
                    let what = "\(kernel), \(name), \(rows)×\(classes), soft \(soft)"
                    let statistics = RowStatistics()
                    let plain = RowStatistics()
                    var g = [Float]()
                    var gu = [Float]()
                    let loss: Float
                    if let targets {
                        loss = try weighted.lossAndGradient(
                            logits: logits, targets: targets, classes: classes, gradient: &g, rowStatistics: statistics)
                        _ = try unweighted.lossAndGradient(
                            logits: logits, targets: targets, classes: classes, gradient: &gu, rowStatistics: plain)
                    } else {
                        loss = try weighted.lossAndGradient(
                            logits: logits, labels: labels, classes: classes, gradient: &g, rowStatistics: statistics)
                        _ = try unweighted.lossAndGradient(
                            logits: logits, labels: labels, classes: classes, gradient: &gu, rowStatistics: plain)
                    }
                    // The denominator the contract names.
                    var denominator = 1.0
                    var sum = 0.0
                    if weighted.reduction == .mean {
                        denominator = 0
                        for i in 0..<rows where soft || labels[i] != -100 {
                            let w = soft ? 1 : Double(weighted.classWeights?[Int(labels[i])] ?? 1)
                            denominator += Double(weighted.rowWeights![i]) * w
                        }
                        denominator = weighted.divisor ?? denominator
                    }
                    for i in 0..<rows {
                        let r = Double(weighted.rowWeights![i])
                        let expected = r * Double(plain.losses[i])
                        sum += expected
                        #expect(
                            abs(Double(statistics.losses[i]) - expected) <= 4 * Self.u * abs(expected),
                            "\(what): row \(i) loss \(statistics.losses[i]), expected \(expected)")
                        #expect(statistics.logSumExp[i] == plain.logSumExp[i], "\(what): lse is not weighted")
                        let scale = Double(weighted.gradientScale) * r / denominator
                        for j in 0..<classes {
                            let e = scale * Double(gu[i * classes + j])
                            let bound = 16 * Self.u * abs(scale) * (abs(Double(gu[i * classes + j])) + 1)
                            #expect(
                                abs(Double(g[i * classes + j]) - e) <= bound || (r == 0 && g[i * classes + j] == 0),
                                "\(what): g[\(i), \(j)] = \(g[i * classes + j]), expected \(e)")
                            if r == 0 { #expect(g[i * classes + j] == 0, "\(what): a zero weight, a zero row") }
                        }
                    }
                    if weighted.reduction != .none {
                        let expected = sum / denominator
                        #expect(
                            abs(Double(loss) - expected) <= 1e-6 * abs(expected) + 1e-30,
                            "\(what): loss \(loss), expected \(expected)")
                    }
                }
            }
        }
    }

    @Test("the same bits for every thread count, rows split or not")
    func threads() throws {
        for (rows, classes) in [(64, 300), (2, 20000)] {
            let (logits, labels) = LogitKind.normal.batch(rows: rows, classes: classes, seed: 3)
            var base: (Float, [Float], [Float])?
            for threads in [1, 2, 3] {
                var ce = SoftmaxCrossEntropy(threads: threads)
                ce.rowWeights = (0..<rows).map { Float($0 % 7) / 3 }
                ce.zLossScale = 1e-3
                let statistics = RowStatistics([.losses])
                var g = [Float]()
                let loss = try ce.lossAndGradient(
                    logits: logits, labels: labels, classes: classes, gradient: &g, rowStatistics: statistics)
                if let base {
                    #expect(
                        loss.bitPattern == base.0.bitPattern && statistics.losses == base.1 && g == base.2,
                        "\(rows)×\(classes), \(threads) threads")
                } else {
                    base = (loss, statistics.losses, g)
                }
            }
        }
    }

    @Test("a +inf loss times a zero weight is NaN; a NaN row stays NaN")
    func specialRows() throws {
        var logits: [Float] = [1, 2, -.infinity, 0, .nan, 1, 3, 2, 1]
        var ce = SoftmaxCrossEntropy(reduction: .none)
        ce.rowWeights = [0, 0, 2]
        let statistics = RowStatistics([.losses])
        var g = [Float]()
        _ = try ce.lossAndGradient(
            logits: logits, labels: [2, 0, 0], classes: 3, gradient: &g, rowStatistics: statistics)
        #expect(statistics.losses[0].isNaN)  // 0·∞, as `(loss * r)` in IEEE arithmetic
        #expect(g[0..<3].allSatisfy { $0 == 0 })  // the gradient row is finite: times 0
        #expect(statistics.losses[1].isNaN && g[3..<6].allSatisfy(\.isNaN))
        logits[4] = 0
        _ = try ce.lossAndGradient(
            logits: logits, labels: [0, 0, 0], classes: 3, gradient: &g, rowStatistics: statistics)
        #expect(statistics.losses[0] == 0 && statistics.losses[1] == 0)
    }

    @Test("wrong count, negative or non-finite weights: refused before anything is written")
    func refusals() {
        let logits: [Float] = [1, 2, 3, 4, 5, 6]
        for (weights, expected) in [
            ([1, 1, 1] as [Float], XentError.lengthMismatch(argument: "rowWeights", expected: 2, actual: 3)),
            ([1, -1], .invalidOption(name: "rowWeights[1]", value: -1, requirement: "finite and ≥ 0")),
            ([.infinity, 1], .invalidOption(name: "rowWeights[0]", value: .infinity, requirement: "finite and ≥ 0")),
        ] {
            var ce = SoftmaxCrossEntropy()
            ce.rowWeights = weights
            var g = [Float](repeating: 42, count: 6)
            #expect(throws: expected) {
                try ce.lossAndGradient(logits: logits, labels: [0, 1], classes: 3, gradient: &g)
            }
            #expect(g.allSatisfy { $0 == 42 })
        }
        var ce = SoftmaxCrossEntropy()
        ce.rowWeights = [.nan, 1]
        #expect(throws: XentError.self) { try ce.loss(logits: logits, labels: [0, 1], classes: 3) }
    }
}
