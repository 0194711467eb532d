// The per-row outputs (loss, log-sum-exp, argmax) through arrays and spans equal the buffer ones.
import Testing
import Xent

@Suite struct RowStatisticsTests {
    /// Every per-row output, comparable.
    struct Rows: Equatable {
        var losses: [Float], logSumExp: [Float], argmax: [Int32]
        init(losses: [Float], logSumExp: [Float], argmax: [Int32]) {
            (self.losses, self.logSumExp, self.argmax) = (losses, logSumExp, argmax)
        }
        init(_ statistics: RowStatistics) {
            self.init(losses: statistics.losses, logSumExp: statistics.logSumExp, argmax: statistics.argmax)
        }
    }

    /// The unsafe-buffer call's outputs: loss, gradient, per-row losses, lse and argmax.
    func buffers(
        _ ce: SoftmaxCrossEntropy, logits: [Float], labels: [Int32]?, targets: [Float], classes: Int,
        gradient wanted: Bool
    ) throws -> (Float, [Float], Rows) {
        let rows = logits.count / classes
        var g = [Float](repeating: 0, count: logits.count)
        var losses = [Float](repeating: 0, count: rows), logSumExp = losses, argmax = [Int32](repeating: 0, count: rows)
        let loss = try logits.withUnsafeBufferPointer { z in
            try g.withUnsafeMutableBufferPointer { g in
                try losses.withUnsafeMutableBufferPointer { r in
                    try logSumExp.withUnsafeMutableBufferPointer { l in
                        try argmax.withUnsafeMutableBufferPointer { a in
                            let outputs = RowStatistics.Buffers(losses: r, logSumExp: l, argmax: a)
                            if let labels {
                                return try labels.withUnsafeBufferPointer { t in
                                    wanted
                                        ? try ce.lossAndGradient(
                                            logits: z, labels: t, classes: classes, gradient: g, rowStatistics: outputs)
                                        : try ce.loss(logits: z, labels: t, classes: classes, rowStatistics: outputs)
                                }
                            }
                            return try targets.withUnsafeBufferPointer { q in
                                wanted
                                    ? try ce.lossAndGradient(
                                        logits: z, targets: q, classes: classes, gradient: g, rowStatistics: outputs)
                                    : try ce.loss(logits: z, targets: q, classes: classes, rowStatistics: outputs)
                            }
                        }
                    }
                }
            }
        }
        return (loss, g, Rows(losses: losses, logSumExp: logSumExp, argmax: argmax))
    }

    @Test("arrays and spans with per-row outputs equal the buffer calls, bit for bit", arguments: Variant.all)
    func agree(variant: Variant) throws {
        let classes = 29
        var (logits, labels) = LogitKind.normal.batch(rows: 5, classes: classes, seed: 5)
        labels[2] = -100
        let targets = softTargets(for: logits, classes: classes, seed: 5)
        var ce = variant.configuration(.mean)
        ce.zLossScale = 1e-3
        for soft in [false, true] {
            let (loss, gradient, stats) = try buffers(
                ce, logits: logits, labels: soft ? nil : labels, targets: targets, classes: classes, gradient: true)
            let (forwardLoss, _, forwardStats) = try buffers(
                ce, logits: logits, labels: soft ? nil : labels, targets: targets, classes: classes, gradient: false)

            let arrayStats = RowStatistics()
            var arrayGradient = [Float]()
            let a = soft
                ? try ce.lossAndGradient(
                    logits: logits, targets: targets, classes: classes, gradient: &arrayGradient,
                    rowStatistics: arrayStats)
                : try ce.lossAndGradient(
                    logits: logits, labels: labels, classes: classes, gradient: &arrayGradient,
                    rowStatistics: arrayStats)
            #expect(a == loss && arrayGradient == gradient && Rows(arrayStats) == stats, "arrays, soft \(soft)")
            let forward = RowStatistics()
            let f = soft
                ? try ce.loss(logits: logits, targets: targets, classes: classes, rowStatistics: forward)
                : try ce.loss(logits: logits, labels: labels, classes: classes, rowStatistics: forward)
            #expect(f == forwardLoss && Rows(forward) == forwardStats, "array forward, soft \(soft)")
            var inPlace = logits
            let inPlaceStats = RowStatistics()
            let i = soft
                ? try ce.lossAndGradient(
                    inPlace: &inPlace, targets: targets, classes: classes, rowStatistics: inPlaceStats)
                : try ce.lossAndGradient(
                    inPlace: &inPlace, labels: labels, classes: classes, rowStatistics: inPlaceStats)
            #expect(i == loss && inPlace == gradient && Rows(inPlaceStats) == stats, "array in place, soft \(soft)")

            #if compiler(>=6.2)
            var g = [Float](repeating: 0, count: logits.count)
            var gs = g.mutableSpan
            let spanStats = RowStatistics()
            let s = soft
                ? try ce.lossAndGradient(
                    logits: logits.span, targets: targets.span, classes: classes, gradient: &gs,
                    rowStatistics: spanStats)
                : try ce.lossAndGradient(
                    logits: logits.span, labels: labels.span, classes: classes, gradient: &gs, rowStatistics: spanStats)
            _ = consume gs
            #expect(s == loss && g == gradient && Rows(spanStats) == stats, "spans, soft \(soft)")
            let spanForward = RowStatistics()
            let sf = soft
                ? try ce.loss(logits: logits.span, targets: targets.span, classes: classes, rowStatistics: spanForward)
                : try ce.loss(logits: logits.span, labels: labels.span, classes: classes, rowStatistics: spanForward)
            #expect(sf == forwardLoss && Rows(spanForward) == forwardStats)
            var ip = logits
            var ips = ip.mutableSpan
            let spanInPlace = RowStatistics()
            let si = soft
                ? try ce.lossAndGradient(
                    inPlace: &ips, targets: targets.span, classes: classes, rowStatistics: spanInPlace)
                : try ce.lossAndGradient(
                    inPlace: &ips, labels: labels.span, classes: classes, rowStatistics: spanInPlace)
            _ = consume ips
            #expect(si == loss && ip == gradient && Rows(spanInPlace) == stats)
            #endif
            if !soft {
                let correct = try ce.correctPredictions(rowArgmax: arrayStats.argmax, labels: labels)
                let expected = (0..<5).filter { labels[$0] != -100 && arrayStats.argmax[$0] == labels[$0] }.count
                #expect(correct == expected && arrayStats.argmax[2] == -1)
            }
        }
    }

    @Test("a failing array call leaves the statistics untouched", arguments: Variant.all)
    func untouchedOnError(variant: Variant) throws {
        let ce = variant.configuration(.mean)
        let stats = RowStatistics()
        var gradient = [Float](repeating: 7, count: 3)
        _ = try ce.lossAndGradient(
            logits: [4, 5, 6], labels: [Int32(1)], classes: 3, gradient: &gradient, rowStatistics: stats)
        let before = Rows(stats)
        #expect(throws: XentError.self) {
            try ce.lossAndGradient(
                logits: [1, 2, 3], labels: [Int32(5)], classes: 3, gradient: &gradient, rowStatistics: stats)
        }
        #expect(Rows(stats) == before && gradient != [7, 7, 7])
        let fresh = RowStatistics()
        var empty = [Float]()
        #expect(throws: XentError.self) {
            try ce.lossAndGradient(
                logits: [1, 2, 3], labels: [Int32(5)], classes: 3, gradient: &empty, rowStatistics: fresh)
        }
        #expect(fresh.losses.isEmpty && fresh.logSumExp.isEmpty && fresh.argmax.isEmpty && empty.isEmpty)
    }

    @Test("fields choose the outputs; a reused value is written in place", arguments: Variant.all)
    func fieldsAndReuse(variant: Variant) throws {
        let ce = variant.configuration(.sum)
        let (logits, labels) = LogitKind.normal.batch(rows: 4, classes: 7, seed: 11)
        let all = RowStatistics()
        let loss = try ce.loss(logits: logits, labels: labels, classes: 7, rowStatistics: all)
        let onlyLosses = RowStatistics(.losses)
        #expect(try ce.loss(logits: logits, labels: labels, classes: 7, rowStatistics: onlyLosses) == loss)
        #expect(onlyLosses.losses == all.losses && onlyLosses.logSumExp.isEmpty && onlyLosses.argmax.isEmpty)
        let argmaxOnly = RowStatistics([.argmax])
        _ = try ce.loss(logits: logits, labels: labels, classes: 7, rowStatistics: argmaxOnly)
        #expect(argmaxOnly.argmax == all.argmax && argmaxOnly.losses.isEmpty)
        let address = all.losses.withUnsafeBufferPointer { $0.baseAddress }
        _ = try ce.loss(logits: logits, labels: labels, classes: 7, rowStatistics: all)
        #expect(all.losses.withUnsafeBufferPointer { $0.baseAddress } == address, "same shape: no new array")
        let none = variant.configuration(.none)
        #expect(throws: XentError.rowLossesRequired) {
            try none.loss(logits: logits, labels: labels, classes: 7, rowStatistics: argmaxOnly)
        }
    }
}
