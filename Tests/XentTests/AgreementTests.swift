// Every kernel × ISA × shape × kind of logits, held to NUMERICS.md's bounds around the truth.
import Testing
import Xent

/// (rows, classes): every tail for classes 1…67, then the large vocabularies.
let agreementShapes: [(rows: Int, classes: Int)] =
    (1...67).map { (1 + $0 % 4, $0) } + [(5, 1000), (2, 32000), (2, 262_144)]

struct Case: CustomStringConvertible, Sendable {
    let rows: Int
    let classes: Int
    let kind: LogitKind
    var description: String { "\(rows)×\(classes) \(kind)" }

    /// Offsets in floats from a 64-byte boundary, varied with the shape.
    var offset: Int { classes % 3 }

    static let all: [Case] = agreementShapes.flatMap { shape in
        // Every kind on the tails and the large shapes would repeat a lot of work: small
        // shapes take every kind in turn, the large ones take all of them.
        shape.classes <= 67
            ? [Case(rows: shape.rows, classes: shape.classes,
                    kind: LogitKind.allCases[shape.classes % LogitKind.allCases.count]),
               Case(rows: shape.rows, classes: shape.classes, kind: .normal)]
            : LogitKind.allCases.map { Case(rows: shape.rows, classes: shape.classes, kind: $0) }
    }
}

@Suite struct AgreementTests {
    @Test("class labels: loss, loss and gradient, in place", arguments: Variant.all, Case.all)
    func labels(variant: Variant, c: Case) throws {
        let (logits, labels) = c.kind.batch(rows: c.rows, classes: c.classes, seed: 7)
        let oneHot: [[Double]] = labels.map { t in (0..<c.classes).map { $0 == Int(t) ? 1 : 0 } }
        let z = OffsetBuffer(logits, offset: c.offset)

        func check(_ loss: Float, rowLosses: [Float], gradient: [Float]?, reduction: Reduction, _ what: String) {
            let divisor = reduction == .mean ? Double(c.rows) : 1
            var truths: [RowTruth?] = []
            for r in 0..<c.rows {
                let row = logits[r * c.classes ..< (r + 1) * c.classes]
                truths.append(RowTruth(logits: row, targets: oneHot[r]))
                expectRow(
                    logits: row, targets: oneHot[r], loss: rowLosses[r],
                    gradient: gradient?[r * c.classes ..< (r + 1) * c.classes], scale: 1 / divisor,
                    "\(variant) \(c) \(what) row \(r)")
            }
            let total = truths.reduce(0.0) { $0 + ($1?.loss ?? .nan) } / divisor
            if total.isFinite {
                #expect(abs(Double(loss) - total) <= reducedLossBound(truths, divisor: divisor, loss: total),
                        "\(variant) \(c) \(what): reduced loss \(loss), truth \(total)")
            } else {
                #expect(
                    Double(loss) == total || (loss.isNaN && total.isNaN),
                    "\(variant) \(c) \(what): reduced loss \(loss), truth \(total)")
            }
        }

        try labels.withUnsafeBufferPointer { t in
            // Forward only, per-row losses.
            let rowLosses = OffsetBuffer(repeating: 42, count: c.rows, offset: 1)
            let none = try variant.configuration(.none).loss(
                logits: z.readOnly, labels: t, classes: c.classes, rowStatistics: .init(losses: rowLosses.buffer))
            check(none, rowLosses: rowLosses.array, gradient: nil, reduction: .none, "loss .none")

            // Forward and gradient, mean.
            let gradient = OffsetBuffer(repeating: 42, count: logits.count, offset: 2 - c.offset)
            let mean = try variant.configuration(.mean).lossAndGradient(
                logits: z.readOnly, labels: t, classes: c.classes, gradient: gradient.buffer,
                rowStatistics: .init(losses: rowLosses.buffer))
            check(mean, rowLosses: rowLosses.array, gradient: gradient.array, reduction: .mean, "lossAndGradient .mean")

            // In place, sum: the logits buffer becomes the gradient.
            let inPlace = OffsetBuffer(logits, offset: c.offset)
            let sum = try variant.configuration(.sum).lossAndGradient(
                inPlace: inPlace.buffer, labels: t, classes: c.classes, rowStatistics: .init(losses: rowLosses.buffer))
            check(sum, rowLosses: rowLosses.array, gradient: inPlace.array, reduction: .sum, "in place .sum")
        }
        #expect(z.array.elementsEqual(logits) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "logits were modified")
    }

    @Test("soft targets with Σq ≠ 1: loss, loss and gradient, in place", arguments: Variant.all, Case.all)
    func soft(variant: Variant, c: Case) throws {
        let (logits, _) = c.kind.batch(rows: c.rows, classes: c.classes, seed: 11)
        let targets = softTargets(for: logits, classes: c.classes, seed: UInt64(c.classes))
        let z = OffsetBuffer(logits, offset: c.offset)
        let q = OffsetBuffer(targets, offset: 3 - c.offset)

        func check(_ loss: Float, rowLosses: [Float], gradient: [Float]?, reduction: Reduction, _ what: String) {
            let divisor = reduction == .mean ? Double(c.rows) : 1
            var truths: [RowTruth?] = []
            for r in 0..<c.rows {
                let range = r * c.classes ..< (r + 1) * c.classes
                let qRow = targets[range].map(Double.init)
                truths.append(RowTruth(logits: logits[range], targets: qRow))
                expectRow(
                    logits: logits[range], targets: qRow, loss: rowLosses[r], gradient: gradient?[range],
                    scale: 1 / divisor, "\(variant) \(c) soft \(what) row \(r)")
            }
            let total = truths.reduce(0.0) { $0 + ($1?.loss ?? .nan) } / divisor
            if total.isFinite {
                #expect(abs(Double(loss) - total) <= reducedLossBound(truths, divisor: divisor, loss: total),
                        "\(variant) \(c) soft \(what): reduced loss \(loss), truth \(total)")
            }
        }

        let rowLosses = OffsetBuffer(repeating: 42, count: c.rows, offset: 0)
        let none = try variant.configuration(.none).loss(
            logits: z.readOnly, targets: q.readOnly, classes: c.classes, rowStatistics: .init(losses: rowLosses.buffer))
        check(none, rowLosses: rowLosses.array, gradient: nil, reduction: .none, "loss .none")

        let gradient = OffsetBuffer(repeating: 42, count: logits.count, offset: 1)
        let mean = try variant.configuration(.mean).lossAndGradient(
            logits: z.readOnly, targets: q.readOnly, classes: c.classes, gradient: gradient.buffer,
            rowStatistics: .init(losses: rowLosses.buffer))
        check(mean, rowLosses: rowLosses.array, gradient: gradient.array, reduction: .mean, "lossAndGradient .mean")

        let inPlace = OffsetBuffer(logits, offset: c.offset)
        let sum = try variant.configuration(.sum).lossAndGradient(
            inPlace: inPlace.buffer, targets: q.readOnly, classes: c.classes,
            rowStatistics: .init(losses: rowLosses.buffer))
        check(sum, rowLosses: rowLosses.array, gradient: inPlace.array, reduction: .sum, "in place .sum")
    }
}
