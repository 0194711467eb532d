// gradientScale (the upstream gradient) and divisor (the mean's denominator), every kernel.
import Testing
import Xent

@Suite struct ScalingOptionTests {
    @Test(
        "gradientScale multiplies the gradient, not the loss; divisor replaces the mean's denominator",
        arguments: Variant.all)
    func scaling(variant: Variant) throws {
        let (rows, classes) = (6, 300)
        var (logits, labels) = LogitKind.normal.batch(rows: rows, classes: classes, seed: 8)
        labels[2] = -100
        let targets = softTargets(for: logits, classes: classes, seed: 8)
        for (upstream, divisor) in [(Float(-2.5), nil), (0.125, 64.0), (1, 3.0)] as [(Float, Double?)] {
            var ce = variant.configuration(.mean)
            ce.gradientScale = upstream
            ce.divisor = divisor
            let denominator = divisor ?? 5  // five rows take part
            var gradient = [Float]()
            let rowLosses = RowStatistics(.losses)
            let loss = try ce.lossAndGradient(
                logits: logits, labels: labels, classes: classes, gradient: &gradient, rowStatistics: rowLosses)
            let sum = rowLosses.losses.map(Double.init).reduce(0, +)
            #expect(
                abs(Double(loss) - sum / denominator) <= 1e-6 * abs(sum / denominator),
                "\(variant): loss \(loss), Σℓ/D = \(sum / denominator)")
            for r in 0..<rows where labels[r] != -100 {
                let onehot = (0..<classes).map { $0 == Int(labels[r]) ? 1.0 : 0.0 }
                expectRow(logits: logits[r * classes ..< (r + 1) * classes], targets: onehot, loss: rowLosses.losses[r],
                          gradient: gradient[r * classes ..< (r + 1) * classes], scale: Double(upstream) / denominator,
                          "\(variant) upstream \(upstream) divisor \(String(describing: divisor)) row \(r)")
            }
            let softLoss = try ce.lossAndGradient(
                logits: logits, targets: targets, classes: classes, gradient: &gradient, rowStatistics: rowLosses)
            let softDenominator = divisor ?? Double(rows)
            #expect(abs(Double(softLoss) - rowLosses.losses.map(Double.init).reduce(0, +) / softDenominator) <= 1e-5)
            for r in 0..<rows {
                let range = r * classes ..< (r + 1) * classes
                expectRow(logits: logits[range], targets: targets[range].map(Double.init), loss: rowLosses.losses[r],
                          gradient: gradient[range], scale: Double(upstream) / softDenominator,
                          "\(variant) soft row \(r)")
            }
        }
    }

    @Test("divisor applies to .mean only")
    func divisorIgnoredBySum() throws {
        var ce = SoftmaxCrossEntropy(reduction: .sum)
        let plain = try ce.loss(logits: [1, 2, 3, 4] as [Float], labels: [0, 1], classes: 2)
        ce.divisor = 10
        #expect(try ce.loss(logits: [1, 2, 3, 4] as [Float], labels: [0, 1], classes: 2) == plain)
    }

    @Test("invalid divisor or gradientScale: refused before anything is written",
          arguments: [(Double?.some(0), Float(1)), (-1, 1), (.infinity, 1), (.nan, 1), (nil, .nan), (nil, .infinity)])
    func invalid(divisor: Double?, upstream: Float) {
        var ce = SoftmaxCrossEntropy()
        ce.divisor = divisor
        ce.gradientScale = upstream
        var gradient: [Float] = [5, 5, 5, 5]
        let rowLosses = RowStatistics(.losses)
        rowLosses.losses = [6, 6]
        do {
            _ = try ce.lossAndGradient(
                logits: [1, 2, 3, 4], labels: [0, 1], classes: 2, gradient: &gradient, rowStatistics: rowLosses)
            Issue.record("divisor \(String(describing: divisor)), gradientScale \(upstream) was accepted")
        } catch {
            guard case .invalidOption(let name, _, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(name == (divisor != nil ? "divisor" : "gradientScale"))
            #expect(error.description.contains(name))
        }
        #expect(gradient == [5, 5, 5, 5] && rowLosses.losses == [6, 6])
    }
}
