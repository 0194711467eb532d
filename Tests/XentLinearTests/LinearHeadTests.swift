// The fused linear head against the Double model, every option; determinism; refusals.
import Testing
import Xent
import XentLinear

/// The option sets every shape runs with (labels and soft targets alike; the class-label-only
/// ones are ignored by soft targets as in the core API).
func optionSets(rows: Int, classes: Int) -> [(String, SoftmaxCrossEntropy)] {
    var sets: [(String, SoftmaxCrossEntropy)] = [("plain", SoftmaxCrossEntropy())]
    var o = SoftmaxCrossEntropy()
    o.labelSmoothing = 0.1
    sets.append(("smoothing", o))
    o = SoftmaxCrossEntropy()
    o.classWeights = (0..<classes).map { Float($0 % 4) * 0.5 + 0.25 }
    sets.append(("class weights", o))
    o = SoftmaxCrossEntropy()
    o.rowWeights = (0..<rows).map { Float($0 % 3) * 0.75 }
    sets.append(("row weights", o))
    o = SoftmaxCrossEntropy()
    o.zLossScale = 1e-2
    o.logitScale = 0.7
    sets.append(("z-loss, logit scale", o))
    o = SoftmaxCrossEntropy()
    o.softcap = 3
    o.gradientScale = 0.5
    o.divisor = 11
    sets.append(("softcap, gradient scale, divisor", o))
    o = SoftmaxCrossEntropy(reduction: .sum)
    sets.append(("sum", o))
    o = SoftmaxCrossEntropy(reduction: .none)
    o.rowWeights = (0..<rows).map { Float(($0 * 7) % 5) * 0.3 }
    o.labelSmoothing = 0.2
    sets.append(("none, row weights, smoothing", o))
    return sets
}

struct LinearHeadTests {
    /// (rows, hidden size, classes, workspace rows): blocks inside and at the edge of the rows,
    /// d = 1, V = 1, a row of more than one core chunk (2048 classes).
    static let shapes: [(Int, Int, Int, Int)] = [
        (7, 5, 13, 3), (7, 5, 13, 7), (6, 4, 9, 2), (5, 1, 1, 2), (1, 3, 6, 1), (5, 3, 2100, 2), (9, 1, 17, 4),
    ]

    @Test("every option, labels and soft targets, bias on and off, against the Double model")
    func againstDoubleModel() throws {
        var seed: UInt64 = 1
        for (rows, d, classes, blockRows) in Self.shapes {
            for (name, options) in optionSets(rows: rows, classes: classes) {
                for soft in [false, true] {
                    for bias in [false, true] {
                        seed += 1
                        let problem = LinearProblem(rows: rows, hiddenSize: d, classes: classes, bias: bias, soft: soft, seed: seed)
                        let truth = try LinearTruth(problem, options)
                        var head = LinearCrossEntropy(options)
                        head.workspaceBytes = blockRows * classes * 4 + 3  // not a whole number of rows
                        let gradients = LinearGradients()
                        let statistics = RowStatistics()
                        let loss = try call(head, problem, gradients: gradients, statistics: statistics)
                        let what = "\(name), \(rows)×\(d)×\(classes), block \(blockRows), soft \(soft), bias \(bias)"
                        #expect(abs(Double(loss) - truth.loss) <= truth.lossBound || loss == Float(truth.loss),
                                "\(what): loss \(loss), expected \(truth.loss) ± \(truth.lossBound)")
                        for violation in [
                            firstViolation("row losses", statistics.losses, truth.rowLosses, truth.rowLossBounds),
                            firstViolation("∂H", gradients.hidden, truth.hiddenGradient, truth.hiddenBound),
                            firstViolation("∂W", gradients.weight, truth.weightGradient, truth.weightBound),
                            firstViolation("∂b", gradients.bias, truth.biasGradient, truth.biasBound),
                        ] {
                            #expect(violation == nil, "\(what): \(violation ?? "")")
                        }
                        if !bias { #expect(gradients.bias.count == classes) }
                        // The loss-only call gives the same loss and row outputs.
                        let lossOnly = RowStatistics()
                        let onlyLoss = try call(head, problem, gradients: nil, statistics: lossOnly)
                        #expect(onlyLoss.bitPattern == loss.bitPattern, "\(what): loss-only call")
                        #expect(lossOnly.losses == statistics.losses && lossOnly.argmax == statistics.argmax)
                    }
                }
            }
        }
    }

    /// Runs the call the problem asks for (labels or soft targets; loss only when `gradients` is nil).
    func call(
        _ head: LinearCrossEntropy, _ p: LinearProblem, gradients: LinearGradients?, statistics: RowStatistics? = nil,
        accumulate: Bool = false
    ) throws -> Float {
        switch (p.targets, gradients) {
        case (let targets?, let gradients?):
            return try head.lossAndGradients(
                hidden: p.hidden, weight: p.weight, bias: p.bias, targets: targets, classes: p.classes,
                gradients: gradients, accumulate: accumulate, rowStatistics: statistics)
        case (let targets?, nil):
            return try head.loss(
                hidden: p.hidden, weight: p.weight, bias: p.bias, targets: targets, classes: p.classes,
                rowStatistics: statistics)
        case (nil, let gradients?):
            return try head.lossAndGradients(
                hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes,
                gradients: gradients, accumulate: accumulate, rowStatistics: statistics)
        case (nil, nil):
            return try head.loss(
                hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes,
                rowStatistics: statistics)
        }
    }

    @Test("accumulate adds ∂W and ∂b to what is there; ∂H is overwritten")
    func accumulate() throws {
        for soft in [false, true] {
            let a = LinearProblem(rows: 6, hiddenSize: 4, classes: 11, bias: true, soft: soft, seed: 77)
            var b = LinearProblem(rows: 6, hiddenSize: 4, classes: 11, bias: true, soft: soft, seed: 78)
            b.weight = a.weight
            b.bias = a.bias
            var options = SoftmaxCrossEntropy()
            options.divisor = 9
            let head = LinearCrossEntropy(options, workspaceBytes: 2 * 11 * 4)
            let first = LinearGradients(), second = LinearGradients(), both = LinearGradients([.weight, .bias])
            _ = try call(head, a, gradients: first)
            _ = try call(head, b, gradients: second)
            _ = try call(head, a, gradients: both, accumulate: true)  // empty arrays: from zeros
            #expect(both.weight == first.weight && both.bias == first.bias)
            _ = try call(head, b, gradients: both, accumulate: true)
            // `sgemm` with β = 1 adds into ∂W (and ∂b row by row): one rounding of the sum per entry,
            // perhaps one per block of its inner products, so within a few ulps of the two parts' sum.
            for (sum, (x, y)) in zip(both.weight + both.bias, zip(first.weight + first.bias, second.weight + second.bias)) {
                #expect(abs(sum - (x + y)) <= 8 * Float.ulpOfOne * (abs(x) + abs(y)) + 1e-30, "\(sum) vs \(x) + \(y)")
            }
            #expect(both.hidden.isEmpty)
        }
    }

    @Test("the same bits for any thread count at a given workspace size")
    func determinism() throws {
        for soft in [false, true] {
            let p = LinearProblem(rows: 40, hiddenSize: 24, classes: 9000, bias: true, soft: soft, seed: 5)
            var options = SoftmaxCrossEntropy()
            options.labelSmoothing = 0.05
            var results: [(Float, LinearGradients, RowStatistics, Int, Int)] = []
            for threads in [1, 2, 3] {
                for blockRows in [1, 7, 40] {
                    var head = LinearCrossEntropy(options, workspaceBytes: blockRows * 9000 * 4)
                    head.threads = threads
                    let g = LinearGradients(), s = RowStatistics()
                    let loss = try call(head, p, gradients: g, statistics: s)
                    results.append((loss, g, s, threads, blockRows))
                }
            }
            for blockRows in [1, 7, 40] {
                let same = results.filter { $0.4 == blockRows }
                let base = same[0]
                for r in same.dropFirst() {
                    let what = "threads \(r.3) against \(base.3), block \(blockRows), soft \(soft)"
                    #expect(r.0.bitPattern == base.0.bitPattern, "\(what): loss")
                    #expect(Bool(r.2.losses == base.2.losses && r.2.logSumExp == base.2.logSumExp), "\(what): rows")
                    #expect(Bool(r.2.argmax == base.2.argmax), "\(what): argmax")
                    #expect(Bool(r.1.hidden == base.1.hidden), "\(what): ∂H")
                    #expect(Bool(r.1.weight == base.1.weight), "\(what): ∂W")
                    #expect(Bool(r.1.bias == base.1.bias), "\(what): ∂b")
                }
            }
        }
    }
}
