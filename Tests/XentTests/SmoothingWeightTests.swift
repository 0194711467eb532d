// Label smoothing and class weights, alone and with everything else: every kernel.
import Testing
import Xent

/// The contract's target vector v (NUMERICS.md §4, §5) in Double, from the test's own reading:
/// `v_c = (1−α)·w_c·y_c + (α/K)·w_c·[z_c ≠ −inf]`.
func targetVector(
    logits z: ArraySlice<Float>, label: Int?, soft y: ArraySlice<Float>?, smoothing alpha: Double, weights: [Float]?
) -> [Double] {
    let k = Double(z.filter { $0 != -.infinity }.count)
    return (0..<z.count).map { c in
        let w = weights.map { Double($0[c]) } ?? 1
        let yc = label.map { $0 == c ? 1.0 : 0.0 } ?? Double(y![y!.startIndex + c])
        var v = (1 - alpha) * w * yc
        if alpha != 0 && z[z.startIndex + c] != -.infinity { v += alpha / k * w }
        return v
    }
}

struct OptionCase: CustomStringConvertible, Sendable {
    let smoothing: Float
    let weighted: Bool
    let zLoss: Float
    let kind: LogitKind
    let classes: Int
    var description: String { "α \(smoothing) w \(weighted) λ \(zLoss) \(kind) K \(classes)" }

    static let all: [OptionCase] = [
        OptionCase(smoothing: 0.1, weighted: false, zLoss: 0, kind: .normal, classes: 37),
        OptionCase(smoothing: 0, weighted: true, zLoss: 0, kind: .normal, classes: 37),
        OptionCase(smoothing: 0.2, weighted: true, zLoss: 0, kind: .masked, classes: 67),
        OptionCase(smoothing: 1, weighted: false, zLoss: 0, kind: .masked, classes: 19),
        OptionCase(smoothing: 0.1, weighted: true, zLoss: 1e-3, kind: .masked, classes: 5000),
        OptionCase(smoothing: 0.05, weighted: true, zLoss: 1e-4, kind: .offset, classes: 1000),
        OptionCase(smoothing: 0.3, weighted: false, zLoss: 0, kind: .huge, classes: 300),
    ]
}

@Suite struct SmoothingWeightTests {
    @Test("labels and soft targets with smoothing, weights, z-loss, masks, ignore index, in place",
          arguments: Variant.all, OptionCase.all)
    func combinations(variant: Variant, c: OptionCase) throws {
        let rows = 7
        var (logits, labels) = c.kind.batch(rows: rows, classes: c.classes, seed: 31)
        labels[2] = -100
        let soft = softTargets(for: logits, classes: c.classes, seed: 31)
        var rng = SeededGenerator(seed: 77)
        let weights: [Float]? = c.weighted ? (0..<c.classes).map { _ in Float.random(in: 0..<2, using: &rng) } : nil
        var ce = variant.configuration(.mean)
        ce.labelSmoothing = c.smoothing
        ce.classWeights = weights
        ce.zLossScale = c.zLoss
        let alpha = Double(c.smoothing), lambda = Double(c.zLoss)

        // Labels: .mean divides the cross-entropy by Σ w_t over rows that take part, the z-loss by their count.
        let counted = (0..<rows).filter { labels[$0] != -100 }
        let denominator = counted.reduce(0.0) { total, r in total + (weights.map { Double($0[Int(labels[r])]) } ?? 1) }
        var gradient = [Float]()
        let rowLosses = RowStatistics(.losses)
        let loss = try ce.lossAndGradient(
            logits: logits, labels: labels, classes: c.classes, gradient: &gradient, rowStatistics: rowLosses)
        var inPlace = logits
        let inPlaceLoss = try ce.lossAndGradient(inPlace: &inPlace, labels: labels, classes: c.classes)
        #expect(inPlaceLoss.bitPattern == loss.bitPattern && inPlace == gradient, "\(variant) \(c): in place differs")
        var expected = 0.0
        for r in counted {
            let range = r * c.classes ..< (r + 1) * c.classes
            let v = targetVector(
                logits: logits[range], label: Int(labels[r]), soft: nil, smoothing: alpha, weights: weights)
            let truth = try #require(RowTruth(logits: logits[range], targets: v))
            expected += truth.loss / denominator + lambda * truth.lse * truth.lse / Double(counted.count)
            expectRow(logits: logits[range], targets: v, loss: rowLosses.losses[r], gradient: gradient[range],
                      scale: 1 / denominator, zLoss: lambda, zScale: 1 / Double(counted.count),
                      "\(variant) \(c) row \(r)")
        }
        #expect(gradient[2 * c.classes ..< 3 * c.classes].allSatisfy { $0 == 0 }, "ignored row")
        #expect(
            abs(Double(loss) - expected) <= 1e-5 * max(1, abs(expected)),
            "\(variant) \(c): loss \(loss) vs \(expected)")

        // Soft targets: .mean divides by the rows.
        let softLoss = try ce.lossAndGradient(
            logits: logits, targets: soft, classes: c.classes, gradient: &gradient, rowStatistics: rowLosses)
        var softExpected = 0.0
        for r in 0..<rows {
            let range = r * c.classes ..< (r + 1) * c.classes
            let v = targetVector(
                logits: logits[range], label: nil, soft: soft[range], smoothing: alpha, weights: weights)
            let truth = try #require(RowTruth(logits: logits[range], targets: v))
            softExpected += (truth.loss + lambda * truth.lse * truth.lse) / Double(rows)
            expectRow(logits: logits[range], targets: v, loss: rowLosses.losses[r], gradient: gradient[range],
                      scale: 1 / Double(rows), zLoss: lambda, zScale: 1 / Double(rows), "\(variant) \(c) soft row \(r)")
        }
        #expect(
            abs(Double(softLoss) - softExpected) <= 1e-5 * max(1, abs(softExpected)),
            "\(variant) \(c): soft loss \(softLoss) vs \(softExpected)")
    }

    @Test("smoothing over a masked vocabulary stays finite; a masked label gives +inf", arguments: Variant.all)
    func maskedVocabulary(variant: Variant) throws {
        var ce = variant.configuration(.sum)
        ce.labelSmoothing = 0.1
        let logits: [Float] = [1, -.infinity, 2, -.infinity, 0.5, 3]
        var gradient = [Float]()
        let rowLosses = RowStatistics(.losses)
        _ = try ce.lossAndGradient(
            logits: logits, labels: [0, 0] as [Int32], classes: 3, gradient: &gradient, rowStatistics: rowLosses)
        #expect(rowLosses.losses[0].isFinite && gradient[1] == 0, "masked class: no smoothing mass, zero gradient")
        #expect(rowLosses.losses[1] == .infinity, "a masked label: +inf")
        #expect(gradient[3...].allSatisfy { $0.isFinite })
    }

    @Test("class labels without smoothing: class weights that agree at the labels give the same bits, every ISA",
          arguments: InstructionSet.supported)
    func weightsWeighTheLabelAlone(isa: InstructionSet) throws {
        // Rows whose exps underflow to 0 beside their max, under a negative gradient scale: a class
        // weight of −0 there once turned the gradient's −0 into +0 (the weights are read for the
        // label's term alone now, as the contract's v has w only where y is).
        let (rows, classes) = (6, 2100)
        var rng = SeededGenerator(seed: 9)
        var logits = [Float](repeating: 0, count: rows * classes)
        for i in logits.indices { logits[i] = i % 3 == 0 ? -300 : rng.normal(sd: 3) }
        let labels: [Int32] = [1, 2, 2050, 4, 2099, 5]
        var base = (0..<classes).map { _ in Float.random(in: 0.5..<2, using: &rng) }
        var other = base.map { _ in Float(-0.0) }
        for t in labels { other[Int(t)] = base[Int(t)] }
        base[7] = 0
        other[7] = 3
        for softcap: Float? in [nil, 20] {
            var ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
            ce.gradientScale = -1.5
            ce.zLossScale = 1e-3
            ce.softcap = softcap
            func bits<E: LogitElement>(_ z: [E], _ weights: [Float]) throws -> [UInt64] {
                ce.classWeights = weights
                var gradient = [E]()
                let losses = RowStatistics(.losses)
                let loss = try ce.lossAndGradient(
                    logits: z, labels: labels, classes: classes, gradient: &gradient, rowStatistics: losses)
                let raw = gradient.withUnsafeBytes { $0.map { UInt64($0) } }
                return [UInt64(loss.bitPattern)] + losses.losses.map { UInt64($0.bitPattern) } + raw
            }
            let what = "\(isa) softcap \(softcap.map { "\($0)" } ?? "off")"
            #expect(try bits(logits, base) == bits(logits, other), "\(what) Float")
            let f16 = logits.map { Float16($0) }, bf16 = logits.map { BFloat16($0) }
            #expect(try bits(f16, base) == bits(f16, other), "\(what) Float16")
            #expect(try bits(bf16, base) == bits(bf16, other), "\(what) bfloat16")
        }
    }

    @Test("invalid smoothing or weights are refused before anything is written")
    func invalid() {
        for (alpha, weights) in [
            (Float(-0.1), nil), (1.5, nil), (.nan, nil), (0, [1, 2] as [Float]?), (0, [1, -1, 1]), (0, [1, .nan, 1])
        ] {
            var ce = SoftmaxCrossEntropy()
            ce.labelSmoothing = alpha
            ce.classWeights = weights
            var gradient: [Float] = [4, 4, 4]
            #expect(throws: XentError.self, "α \(alpha) w \(String(describing: weights))") {
                try ce.lossAndGradient(logits: [1, 2, 3], labels: [0] as [Int32], classes: 3, gradient: &gradient)
            }
            #expect(gradient == [4, 4, 4])
        }
    }
}
