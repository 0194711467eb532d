// Padded rows (a row stride ≥ classes) and 64-bit labels, every kernel.
import Testing
import Xent

@Suite struct StrideAndLabelTests {
    @Test("padding columns are never read (NaN there) nor written (sentinels stay)", arguments: Variant.all, [37, 3000])
    func paddedRows(variant: Variant, classes: Int) throws {
        let rows = 5, stride = classes + 11
        let (dense, labels) = LogitKind.normal.batch(rows: rows, classes: classes, seed: 4)
        let denseTargets = softTargets(for: dense, classes: classes, seed: 4)
        // The last row is not padded: the buffers end at its last class.
        let count = (rows - 1) * stride + classes
        var logits = [Float](repeating: .nan, count: count)
        var targets = [Float](repeating: .nan, count: rows * stride)
        for r in 0..<rows {
            for j in 0..<classes {
                logits[r * stride + j] = dense[r * classes + j]
                targets[r * stride + j] = denseTargets[r * classes + j]
            }
        }
        let ce = variant.configuration(.sum)
        var gradient = [Float](repeating: 42, count: count)
        let rowLosses = RowStatistics(.losses)
        _ = try ce.lossAndGradient(logits: logits, labels: labels, classes: classes, rowStride: stride,
                                   gradient: &gradient, rowStatistics: rowLosses)
        var inPlace = logits
        let inPlaceLoss = try ce.lossAndGradient(inPlace: &inPlace, labels: labels, classes: classes, rowStride: stride)
        for r in 0..<rows {
            let onehot = (0..<classes).map { $0 == Int(labels[r]) ? 1.0 : 0.0 }
            let row = r * stride ..< r * stride + classes
            expectRow(logits: dense[r * classes ..< (r + 1) * classes], targets: onehot, loss: rowLosses.losses[r],
                      gradient: gradient[row], scale: 1, "\(variant) padded row \(r)")
            #expect(Array(inPlace[row]) == Array(gradient[row]), "\(variant): in place differs, row \(r)")
            if r < rows - 1 {
                #expect(
                    gradient[(r * stride + classes) ..< ((r + 1) * stride)].allSatisfy { $0 == 42 },
                    "\(variant): padding written, row \(r)")
                #expect(
                    inPlace[(r * stride + classes) ..< ((r + 1) * stride)].allSatisfy { $0.isNaN },
                    "\(variant): in-place padding written")
            }
        }
        #expect(abs(Double(inPlaceLoss) - rowLosses.losses.map(Double.init).reduce(0, +)) < 1e-3)

        // Soft targets share the logits' stride; their buffers hold whole padded rows.
        let softLogits = logits + [Float](repeating: .nan, count: stride - classes)
        var softGradient = [Float](repeating: 42, count: rows * stride)
        _ = try ce.lossAndGradient(logits: softLogits, targets: targets, classes: classes, rowStride: stride,
                                   gradient: &softGradient, rowStatistics: rowLosses)
        for r in 0..<rows {
            let row = r * stride ..< r * stride + classes
            expectRow(
                logits: dense[r * classes ..< (r + 1) * classes],
                targets: denseTargets[r * classes ..< (r + 1) * classes].map(Double.init),
                loss: rowLosses.losses[r], gradient: softGradient[row], scale: 1, "\(variant) soft padded row \(r)")
            #expect(softGradient[(r * stride + classes) ..< ((r + 1) * stride)].allSatisfy { $0 == 42 })
        }
        // Or they end at the last row's last class, a view of rows in a wider matrix: the same bits.
        var viewGradient = [Float](repeating: 42, count: count)
        let viewLosses = RowStatistics(.losses)
        let viewLoss = try ce.lossAndGradient(
            logits: logits, targets: Array(targets.prefix(count)), classes: classes, rowStride: stride,
            gradient: &viewGradient, rowStatistics: viewLosses)
        let wholeLoss = try ce.loss(logits: softLogits, targets: targets, classes: classes, rowStride: stride)
        #expect(viewLoss.bitPattern == wholeLoss.bitPattern, "\(variant): a view's loss \(viewLoss), \(wholeLoss)")
        #expect(viewLosses.losses.map(\.bitPattern) == rowLosses.losses.map(\.bitPattern))
        #expect(viewGradient.map(\.bitPattern) == softGradient.prefix(count).map(\.bitPattern),
                "\(variant): a view's gradient differs")
    }

    @Test("Int64 and Int labels give bitwise the Int32 results", arguments: Variant.all)
    func labelWidths(variant: Variant) throws {
        var (logits, labels32) = LogitKind.normal.batch(rows: 9, classes: 50, seed: 6)
        labels32[4] = -100
        let ce = variant.configuration(.mean)
        var g32 = [Float](), g64 = [Float](), gInt = [Float]()
        let l32 = try ce.lossAndGradient(logits: logits, labels: labels32, classes: 50, gradient: &g32)
        let l64 = try ce.lossAndGradient(logits: logits, labels: labels32.map(Int64.init), classes: 50, gradient: &g64)
        let lInt = try ce.lossAndGradient(logits: logits, labels: labels32.map(Int.init), classes: 50, gradient: &gInt)
        #expect(l32.bitPattern == l64.bitPattern && l32.bitPattern == lInt.bitPattern)
        #expect(g32 == g64 && g32 == gInt)
        logits[0] = 0
        #expect(throws: XentError.labelOutOfRange(row: 1, label: 5_000_000_000, classes: 50)) {
            try ce.loss(logits: logits, labels: [0, 5_000_000_000, 1, 2, 3, 4, 5, 6, 7] as [Int64], classes: 50)
        }
    }

    @Test("a stride below classes, or logits too short for it, is refused")
    func strideErrors() {
        let ce = SoftmaxCrossEntropy()
        #expect(throws: XentError.invalidRowStride(rowStride: 3, classes: 4)) {
            try ce.loss(logits: [Float](repeating: 0, count: 8), labels: [0, 1] as [Int32], classes: 4, rowStride: 3)
        }
        #expect(throws: XentError.lengthMismatch(argument: "logits", expected: 10, actual: 9)) {
            try ce.loss(logits: [Float](repeating: 0, count: 9), labels: [0, 1] as [Int32], classes: 4, rowStride: 6)
        }
        #expect(XentError.invalidRowStride(rowStride: 3, classes: 4).description.contains("rowStride = 3"))
    }
}
