// Rows that take no part, bad data, −inf targets, known closed forms: every kernel variant.
import Foundation
import Testing
import Xent

@Suite struct SpecialRowTests {
    @Test("NaN, +inf, −inf target, all-masked and ignored rows in one batch", arguments: Variant.all, [5, 16, 37, 1000])
    func mixedBatch(variant: Variant, classes k: Int) throws {
        var rng = SeededGenerator(seed: UInt64(k))
        var logits = (0..<(7 * k)).map { _ in rng.normal(sd: 3) }
        let labels: [Int32] = [1, 2, 3, 3, 0, -100, 2]
        logits[1 * k + k / 2] = .nan                                   // row 1: NaN
        logits[2 * k + k - 1] = .infinity                              // row 2: +inf
        logits[3 * k + 3] = -.infinity                                 // row 3: target −inf
        for j in 0..<k { logits[4 * k + j] = -.infinity }              // row 4: every class masked
        for j in 0..<k { logits[5 * k + j] = .nan }                    // row 5: ignored, NaN inside

        var gradient = [Float](repeating: 42, count: logits.count)
        let rowLosses = RowStatistics(.losses)
        let loss = try variant.configuration(.mean).lossAndGradient(
            logits: logits, labels: labels, classes: k, gradient: &gradient, rowStatistics: rowLosses)
        let gradientRows = (0..<7).map { r in gradient[r * k ..< (r + 1) * k] }

        #expect(loss.isNaN, "bad rows make the reduced loss NaN")
        for r in [1, 2, 4] {
            #expect(rowLosses.losses[r].isNaN, "row \(r) loss \(rowLosses.losses[r])")
            #expect(gradientRows[r].allSatisfy { $0.isNaN }, "row \(r) gradient must be all NaN")
        }
        #expect(rowLosses.losses[3] == .infinity, "target −inf: loss +inf, got \(rowLosses.losses[3])")
        #expect(gradientRows[3].allSatisfy { $0.isFinite }, "target −inf: the gradient stays finite")
        #expect(abs(gradientRows[3][3 * k + 3] + 1 / 6) < 1e-6, "target −inf: p_t − 1 = −1 (÷ 6 rows)")
        #expect(
            rowLosses.losses[5] == 0 && gradientRows[5].allSatisfy { $0 == 0 }, "ignored row: loss 0, zero gradient")
        // NaN does not spread: the healthy rows match the truth (mean over 6 rows).
        for r in [0, 3, 6] {
            let onehot = (0..<k).map { $0 == Int(labels[r]) ? 1.0 : 0.0 }
            expectRow(logits: logits[r * k ..< (r + 1) * k], targets: onehot, loss: rowLosses.losses[r],
                      gradient: gradientRows[r], scale: 1.0 / 6, "\(variant) k=\(k) row \(r)")
        }
    }

    @Test("every row ignored: loss 0 and a zero gradient, for every reduction", arguments: Variant.all)
    func allIgnored(variant: Variant) throws {
        let logits: [Float] = [1, .nan, 3, 4, 5, 6]
        for reduction in [Reduction.mean, .sum] {
            var gradient = [Float](repeating: 42, count: 6)
            let loss = try variant.configuration(reduction).lossAndGradient(
                logits: logits, labels: [-100, -100], classes: 3, gradient: &gradient)
            #expect(loss == 0 && gradient == [0, 0, 0, 0, 0, 0], "\(reduction): \(loss) \(gradient)")
        }
    }

    @Test(
        "closed forms: uniform logits give log K and 1/K − onehot",
        arguments: Variant.all, [1, 2, 3, 17, 1000, 32000])
    func uniform(variant: Variant, classes k: Int) throws {
        let logits = [Float](repeating: 0.75, count: 2 * k)
        var gradient = [Float]()
        let loss = try variant.configuration(.sum).lossAndGradient(
            logits: logits, labels: [0, Int32(k - 1)], classes: k, gradient: &gradient)
        #expect(abs(Double(loss) - 2 * log(Double(k))) <= 2e-6 * max(1, log(Double(k))), "loss \(loss)")
        for r in 0..<2 {
            for j in 0..<k {
                let t = r == 0 ? 0 : k - 1
                let expected = 1 / Double(k) - (j == t ? 1 : 0)
                #expect(
                    abs(Double(gradient[r * k + j]) - expected) <= 32 * 0x1p-24,
                    "g[\(r)][\(j)] = \(gradient[r * k + j])")
            }
        }
    }

    @Test("a custom ignore index, and ignoreIndex nil", arguments: Variant.all)
    func ignoreIndexSetting(variant: Variant) throws {
        let logits: [Float] = [0, 1, 2, 2, 1, 0]
        var ce = variant.configuration(.mean, ignoreIndex: 2)
        var gradient = [Float]()
        let loss = try ce.lossAndGradient(logits: logits, labels: [2, 0], classes: 3, gradient: &gradient)
        let expected = Float(log(exp(2.0) + exp(1.0) + 1) - 2)  // row 1 only; the mean divides by 1
        #expect(abs(loss - expected) < 1e-6 && gradient[0..<3].allSatisfy { $0 == 0 })

        ce.ignoreIndex = nil
        #expect(throws: XentError.labelOutOfRange(row: 0, label: -100, classes: 3)) {
            try ce.loss(logits: logits, labels: [-100, 0], classes: 3)
        }
    }

    @Test(".none returns the sum of the row losses, unscaled gradients", arguments: Variant.all)
    func reductionNone(variant: Variant) throws {
        let logits: [Float] = [0.5, -1, 2, 3, 3, -2, 0, 0, 0]
        let labels: [Int32] = [2, 0, 1]
        let rows = RowStatistics(.losses)
        var gNone = [Float](), gSum = [Float]()
        let none = try variant.configuration(.none).lossAndGradient(
            logits: logits, labels: labels, classes: 3, gradient: &gNone, rowStatistics: rows)
        let sum = try variant.configuration(.sum).lossAndGradient(
            logits: logits, labels: labels, classes: 3, gradient: &gSum)
        let mean = try variant.configuration(.mean).loss(logits: logits, labels: labels, classes: 3)
        #expect(none == sum && gNone == gSum)
        #expect(abs(Double(none) - rows.losses.map(Double.init).reduce(0, +)) < 1e-6)
        #expect(abs(mean - sum / 3) < 1e-6)
    }
}

@Suite struct ChunkingTests {
    /// The vector kernel works in 2048-element chunks (longer past 1,048,576 classes), each shifted
    /// by its own max and rescaled at the end: chunks far below the row max, wholly masked chunks,
    /// NaN in a late chunk, and rows long enough to lengthen the chunks.
    @Test("rows across chunk boundaries: masked chunks, a late max, NaN in a late chunk", arguments: Variant.all)
    func chunkEdges(variant: Variant) throws {
        let k = 3 * 2048 + 77
        var rng = SeededGenerator(seed: 99)
        var logits = (0..<(4 * k)).map { _ in rng.normal(sd: 3) }
        for j in 0..<(2 * 2048 + 5) { logits[j] = -.infinity }        // row 0: first two chunks masked
        logits[k + 3 * 2048 + 10] = 120                                // row 1: the max in the last chunk
        logits[2 * k + 2048 + 1] = .nan                                // row 2: NaN in the second chunk
        for j in 0..<2048 { logits[3 * k + j] -= 200 }                 // row 3: a chunk 200 below the rest
        let labels: [Int32] = [Int32(k - 1), 5, 0, 7]
        var gradient = [Float]()
        let rowLosses = RowStatistics(.losses)
        _ = try variant.configuration(.sum).lossAndGradient(
            logits: logits, labels: labels, classes: k, gradient: &gradient, rowStatistics: rowLosses)
        for r in 0..<4 {
            let onehot = (0..<k).map { $0 == Int(labels[r]) ? 1.0 : 0.0 }
            expectRow(logits: logits[r * k ..< (r + 1) * k], targets: onehot, loss: rowLosses.losses[r],
                      gradient: gradient[r * k ..< (r + 1) * k], scale: 1, "\(variant) row \(r)")
        }
    }

    /// A chunk with every class masked holds no probability whatever the row's max: its exps
    /// must not be lifted by exp(−max), which overflows when the max is far below 0 (a row of
    /// logits near −800 gave NaN for the whole row, near −100 NaN at the masked classes).
    @Test("a fully masked chunk in a row whose max is far below 0, labels and soft targets",
          arguments: Variant.all)
    func maskedChunkBelowZero(variant: Variant) throws {
        let k = 2 * 2048 + 300
        for offset: Float in [-100, -800, -3e4] {
            var rng = SeededGenerator(seed: 41)
            var logits = (0..<(2 * k)).map { _ in offset + rng.normal() }
            for j in 2048..<(2 * 2048) { logits[j] = -.infinity }            // row 0: the middle chunk
            for j in (k + 2048)..<(2 * k) { logits[j] = -.infinity }         // row 1: the rest of the row
            let labels: [Int32] = [3, 2047]
            var gradient = [Float]()
            let rowLosses = RowStatistics(.losses)
            _ = try variant.configuration(.sum).lossAndGradient(
                logits: logits, labels: labels, classes: k, gradient: &gradient, rowStatistics: rowLosses)
            var targets = softTargets(for: logits, classes: k, seed: 41)
            let softRows = RowStatistics(.losses)
            var softGradient = [Float]()
            targets[0] = 0.5
            _ = try variant.configuration(.sum).lossAndGradient(
                logits: logits, targets: targets, classes: k, gradient: &softGradient, rowStatistics: softRows)
            for r in 0..<2 {
                let rows = r * k ..< (r + 1) * k
                let onehot = (0..<k).map { $0 == Int(labels[r]) ? 1.0 : 0.0 }
                expectRow(logits: logits[rows], targets: onehot, loss: rowLosses.losses[r], gradient: gradient[rows],
                          scale: 1, "\(variant) offset \(offset) row \(r)")
                expectRow(logits: logits[rows], targets: targets[rows].map(Double.init), loss: softRows.losses[r],
                          gradient: softGradient[rows], scale: 1, "\(variant) offset \(offset) soft row \(r)")
            }
        }
    }

    @Test("more than 1,048,576 classes (longer chunks), labels and soft targets", arguments: Variant.all)
    func longestRows(variant: Variant) throws {
        let k = 1_048_576 + 300
        let (logits, labels) = LogitKind.normal.batch(rows: 1, classes: k, seed: 5)
        var gradient = [Float]()
        let rowLosses = RowStatistics(.losses)
        _ = try variant.configuration(.mean).lossAndGradient(
            logits: logits, labels: labels, classes: k, gradient: &gradient, rowStatistics: rowLosses)
        let onehot = (0..<k).map { $0 == Int(labels[0]) ? 1.0 : 0.0 }
        expectRow(
            logits: logits[...], targets: onehot, loss: rowLosses.losses[0], gradient: gradient[...], scale: 1,
            "\(variant) labels")

        let targets = softTargets(for: logits, classes: k, seed: 5)
        _ = try variant.configuration(.none).lossAndGradient(
            logits: logits, targets: targets, classes: k, gradient: &gradient, rowStatistics: rowLosses)
        expectRow(
            logits: logits[...], targets: targets.map(Double.init), loss: rowLosses.losses[0], gradient: gradient[...],
            scale: 1, "\(variant) soft")
    }
}
