// Threads change nothing: the same bits for every thread count, row-split and chunk-split alike.
import CXent
import Testing
import Xent

@Suite struct ThreadTests {
    /// 37 × 3000: rows split across threads; 3 × 70,000 and 1 × 300,000: each row's chunks split.
    static let shapes: [(rows: Int, classes: Int)] = [(37, 3000), (3, 70_000), (1, 300_000)]

    @Test("bitwise the same loss, row losses and gradient for 1, 2, 3 and 8 threads", arguments: Variant.all, [0, 1, 2])
    func bitwiseIdentical(variant: Variant, shapeIndex: Int) throws {
        let (rows, classes) = Self.shapes[shapeIndex]
        var (logits, labels) = LogitKind.masked.batch(rows: rows, classes: classes, seed: 21)
        labels[rows / 2] = -100
        let targets = softTargets(for: logits, classes: classes, seed: 21)
        var first: (Float, [Float], [Float], Float, [Float])? = nil
        for threads in [1, 2, 3, 8] {
            var ce = variant.configuration(.mean)
            ce.threads = threads
            var gradient = [Float](), softGradient = [Float]()
            let rowLosses = RowStatistics(.losses)
            let loss = try ce.lossAndGradient(
                logits: logits, labels: labels, classes: classes, gradient: &gradient, rowStatistics: rowLosses)
            let soft = try ce.lossAndGradient(
                logits: logits, targets: targets, classes: classes, gradient: &softGradient)
            let result = (loss, rowLosses.losses, gradient, soft, softGradient)
            if let first {
                #expect(
                    first.0.bitPattern == result.0.bitPattern,
                    "\(variant) \(threads) threads: loss \(result.0) vs \(first.0)")
                #expect(
                    first.1.map(\.bitPattern) == result.1.map(\.bitPattern),
                    "\(variant) \(threads) threads: row losses differ")
                #expect(
                    first.2.map(\.bitPattern) == result.2.map(\.bitPattern),
                    "\(variant) \(threads) threads: gradient differs")
                #expect(first.3.bitPattern == result.3.bitPattern, "\(variant) \(threads) threads: soft loss differs")
                #expect(
                    first.4.map(\.bitPattern) == result.4.map(\.bitPattern),
                    "\(variant) \(threads) threads: soft gradient differs")
            } else {
                first = result
                // And the single-threaded result is right.
                for r in 0..<rows where labels[r] != -100 {
                    let onehot = (0..<classes).map { $0 == Int(labels[r]) ? 1.0 : 0.0 }
                    expectRow(logits: logits[r * classes ..< (r + 1) * classes], targets: onehot,
                              loss: rowLosses.losses[r], gradient: gradient[r * classes ..< (r + 1) * classes],
                              scale: 1 / Double(rows - 1), "\(variant) row \(r)")
                }
            }
        }
    }

    /// Flush-to-zero and denormals-are-zero: MXCSR's bits 15 and 6 on x86-64, FPCR's FZ (bit 24)
    /// on arm64.
    static var flushToZero: UInt64 {
        #if arch(x86_64)
        return 0x8040
        #elseif arch(arm64)
        return 1 << 24
        #else
        return 0
        #endif
    }

    @Test("the calling thread's flush-to-zero holds on every thread: the same bits for 1, 2 and 4 threads")
    func callersFloatControls() throws {
        let flush = Self.flushToZero
        guard flush != 0 else { return }
        // Logits spread over 120 below each row's max: probabilities below Float's least normal
        // (e^-87.3), whose gradient entries are subnormal unless flushed to zero.
        let (rows, classes) = (64, 2000)
        let logits = (0..<rows * classes).map { -Float($0 * 7919 % 12000) / 100 }
        let labels = (0..<rows).map { Int32($0 * 37 % classes) }
        func gradient(threads: Int) throws -> [UInt32] {
            var ce = SoftmaxCrossEntropy()
            ce.threads = threads
            var gradient = [Float]()
            _ = try ce.lossAndGradient(logits: logits, labels: labels, classes: classes, gradient: &gradient)
            return gradient.map(\.bitPattern)
        }
        func subnormals(_ bits: [UInt32]) -> Int {
            bits.filter { !Float(bitPattern: $0).isNormal && $0 << 1 != 0 }.count
        }
        #expect(subnormals(try gradient(threads: 1)) > 1000)
        let own = xent_float_controls()
        xent_set_float_controls(own | flush)
        defer { xent_set_float_controls(own) }
        let flushed = try gradient(threads: 1)
        #expect(subnormals(flushed) == 0)
        for threads in [2, 4] {
            #expect(try gradient(threads: threads) == flushed, "\(threads) threads")
        }
    }

    @Test("threads below 1 are refused before anything is written")
    func invalidThreads() {
        var ce = SoftmaxCrossEntropy()
        ce.threads = 0
        var gradient: [Float] = [7, 7]
        #expect(throws: XentError.invalidThreadCount(threads: 0)) {
            try ce.lossAndGradient(logits: [1, 2], labels: [0], classes: 2, gradient: &gradient)
        }
        #expect(gradient == [7, 7])
    }
}

@Suite struct ThreadOptionTests {
    @Test("with every option on, still the same bits for 1, 2 and 5 threads", arguments: Variant.all)
    func optionsBitwise(variant: Variant) throws {
        for (rows, classes) in [(40, 2000), (2, 150_000)] {
            var (logits, labels) = LogitKind.masked.batch(rows: rows, classes: classes, seed: 5)
            labels[1] = -100
            let targets = softTargets(for: logits, classes: classes, seed: 5)
            var results: [[UInt32]] = []
            for threads in [1, 2, 5] {
                var ce = variant.configuration(.mean)
                ce.threads = threads
                ce.labelSmoothing = 0.1
                ce.classWeights = (0..<classes).map { Float($0 % 7) / 3 }
                ce.zLossScale = 1e-4
                ce.gradientScale = 0.5
                var g = [Float](), gs = [Float]()
                let r = RowStatistics()
                let loss = try ce.lossAndGradient(
                    logits: logits, labels: labels, classes: classes, gradient: &g, rowStatistics: r)
                let soft = try ce.lossAndGradient(logits: logits, targets: targets, classes: classes, gradient: &gs)
                results.append(
                    [loss.bitPattern, soft.bitPattern] + r.losses.map(\.bitPattern) + r.logSumExp.map(\.bitPattern)
                        + r.argmax.map(UInt32.init(bitPattern:)) + g.map(\.bitPattern) + gs.map(\.bitPattern))
            }
            #expect(
                results[0] == results[1] && results[0] == results[2],
                "\(variant) \(rows)×\(classes): results differ across threads")
        }
    }
}
