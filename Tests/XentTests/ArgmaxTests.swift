// The per-row argmax output and the correct-prediction count, every kernel, both thread paths.
import Testing
import Xent

@Suite struct ArgmaxTests {
    @Test("rowArgmax is the first index of each row's max; −1 for ignored and bad rows",
          arguments: Variant.all, [(9, 37), (2, 70_000)])
    func argmax(variant: Variant, shape: (rows: Int, classes: Int)) throws {
        let (rows, classes) = shape
        var (logits, labels) = LogitKind.masked.batch(rows: rows, classes: classes, seed: 17)
        // Ties: the first index wins, also across chunk boundaries.
        logits[classes - 1] = 50
        logits[classes / 2] = 50
        labels[0] = Int32(classes / 2)
        if rows > 2 {
            labels[1] = -100
            logits[2 * classes + 3] = .nan
        }
        let targets = softTargets(for: logits, classes: classes, seed: 17)
        for threads in [1, 2] {
            var ce = variant.configuration(.mean)
            ce.threads = threads
            var argmax = [Int32](repeating: 7, count: rows), softArgmax = [Int32](repeating: 7, count: rows)
            var gradient = logits
            try logits.withUnsafeBufferPointer { z in
                try labels.withUnsafeBufferPointer { t in
                    try argmax.withUnsafeMutableBufferPointer { a in
                        try gradient.withUnsafeMutableBufferPointer { g in
                            _ = try ce.lossAndGradient(
                                inPlace: g, labels: t, classes: classes, rowStatistics: .init(argmax: a))
                        }
                    }
                    try targets.withUnsafeBufferPointer { q in
                        try softArgmax.withUnsafeMutableBufferPointer { a in
                            _ = try ce.loss(logits: z, targets: q, classes: classes, rowStatistics: .init(argmax: a))
                        }
                    }
                }
            }
            for r in 0..<rows {
                let row = logits[r * classes ..< (r + 1) * classes]
                let expected: Int32
                if row.contains(where: \.isNaN) {
                    expected = -1
                } else {
                    let m = row.max()!
                    expected = Int32(row.firstIndex(of: m)! - r * classes)
                }
                #expect(
                    softArgmax[r] == expected, "\(variant) \(threads)t soft row \(r): \(softArgmax[r]) vs \(expected)")
                #expect(
                    argmax[r] == (labels[r] == -100 ? -1 : expected), "\(variant) \(threads)t row \(r): \(argmax[r])")
            }
            #expect(argmax[0] == Int32(classes / 2), "first of tied maxima")
            let correct = try argmax.withUnsafeBufferPointer { a in
                try labels.withUnsafeBufferPointer { t in try ce.correctPredictions(rowArgmax: a, labels: t) }
            }
            let expectedCorrect = (0..<rows).filter { labels[$0] != -100 && argmax[$0] == labels[$0] }.count
            #expect(correct == expectedCorrect && correct >= 1)
        }
    }
}
