// The per-row outputs (loss, log-sum-exp, argmax) through arrays and spans equal the buffer ones.
import Testing
import Xent

@Suite struct RowStatisticsTests {
    /// The unsafe-buffer call's outputs: loss, gradient, per-row losses, lse and argmax.
    func buffers(
        _ ce: SoftmaxCrossEntropy, logits: [Float], labels: [Int32]?, targets: [Float], classes: Int, gradient wanted: Bool
    ) throws -> (Float, [Float], RowStatistics) {
        let rows = logits.count / classes
        var g = [Float](repeating: 0, count: logits.count)
        var stats = RowStatistics()
        stats.losses = .init(repeating: 0, count: rows)
        stats.logSumExp = .init(repeating: 0, count: rows)
        stats.argmax = .init(repeating: 0, count: rows)
        let loss = try logits.withUnsafeBufferPointer { z in
            try g.withUnsafeMutableBufferPointer { g in
                try stats.losses.withUnsafeMutableBufferPointer { r in
                    try stats.logSumExp.withUnsafeMutableBufferPointer { l in
                        try stats.argmax.withUnsafeMutableBufferPointer { a in
                            if let labels {
                                return try labels.withUnsafeBufferPointer { t in
                                    wanted
                                        ? try ce.lossAndGradient(logits: z, labels: t, classes: classes, gradient: g, rowLosses: r, rowLogSumExp: l, rowArgmax: a)
                                        : try ce.loss(logits: z, labels: t, classes: classes, rowLosses: r, rowLogSumExp: l, rowArgmax: a)
                                }
                            }
                            return try targets.withUnsafeBufferPointer { q in
                                wanted
                                    ? try ce.lossAndGradient(logits: z, targets: q, classes: classes, gradient: g, rowLosses: r, rowLogSumExp: l, rowArgmax: a)
                                    : try ce.loss(logits: z, targets: q, classes: classes, rowLosses: r, rowLogSumExp: l, rowArgmax: a)
                            }
                        }
                    }
                }
            }
        }
        return (loss, g, stats)
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
            let (loss, gradient, stats) = try buffers(ce, logits: logits, labels: soft ? nil : labels, targets: targets, classes: classes, gradient: true)
            let (forwardLoss, _, forwardStats) = try buffers(ce, logits: logits, labels: soft ? nil : labels, targets: targets, classes: classes, gradient: false)

            var arrayStats = RowStatistics(), arrayGradient = [Float]()
            let a = soft
                ? try ce.lossAndGradient(logits: logits, targets: targets, classes: classes, gradient: &arrayGradient, rowStatistics: &arrayStats)
                : try ce.lossAndGradient(logits: logits, labels: labels, classes: classes, gradient: &arrayGradient, rowStatistics: &arrayStats)
            #expect(a == loss && arrayGradient == gradient && arrayStats == stats, "arrays, soft \(soft)")
            var forward = RowStatistics()
            let f = soft
                ? try ce.loss(logits: logits, targets: targets, classes: classes, rowStatistics: &forward)
                : try ce.loss(logits: logits, labels: labels, classes: classes, rowStatistics: &forward)
            #expect(f == forwardLoss && forward == forwardStats, "array forward, soft \(soft)")
            var inPlace = logits, inPlaceStats = RowStatistics()
            let i = soft
                ? try ce.lossAndGradient(inPlace: &inPlace, targets: targets, classes: classes, rowStatistics: &inPlaceStats)
                : try ce.lossAndGradient(inPlace: &inPlace, labels: labels, classes: classes, rowStatistics: &inPlaceStats)
            #expect(i == loss && inPlace == gradient && inPlaceStats == stats, "array in place, soft \(soft)")

            #if compiler(>=6.2)
            var g = [Float](repeating: 0, count: logits.count)
            var r = [Float](repeating: 0, count: 5), l = r, m = [Int32](repeating: 0, count: 5)
            var gs = g.mutableSpan, rs = r.mutableSpan, ls = l.mutableSpan, ms = m.mutableSpan
            let s = soft
                ? try ce.lossAndGradient(logits: logits.span, targets: targets.span, classes: classes, gradient: &gs, rowLosses: &rs, rowLogSumExp: &ls, rowArgmax: &ms)
                : try ce.lossAndGradient(logits: logits.span, labels: labels.span, classes: classes, gradient: &gs, rowLosses: &rs, rowLogSumExp: &ls, rowArgmax: &ms)
            _ = consume gs; _ = consume rs; _ = consume ls; _ = consume ms
            #expect(s == loss && g == gradient && r == stats.losses && l == stats.logSumExp && m == stats.argmax, "spans, soft \(soft)")
            var fr = [Float](repeating: 0, count: 5), fl = fr, fm = [Int32](repeating: 0, count: 5)
            var frs = fr.mutableSpan, fls = fl.mutableSpan, fms = fm.mutableSpan
            let sf = soft
                ? try ce.loss(logits: logits.span, targets: targets.span, classes: classes, rowLosses: &frs, rowLogSumExp: &fls, rowArgmax: &fms)
                : try ce.loss(logits: logits.span, labels: labels.span, classes: classes, rowLosses: &frs, rowLogSumExp: &fls, rowArgmax: &fms)
            _ = consume frs; _ = consume fls; _ = consume fms
            #expect(sf == forwardLoss && fr == forwardStats.losses && fl == forwardStats.logSumExp && fm == forwardStats.argmax)
            var ip = logits, ir = [Float](repeating: 0, count: 5), il = ir, im = [Int32](repeating: 0, count: 5)
            var ips = ip.mutableSpan, irs = ir.mutableSpan, ils = il.mutableSpan, ims = im.mutableSpan
            let si = soft
                ? try ce.lossAndGradient(inPlace: &ips, targets: targets.span, classes: classes, rowLosses: &irs, rowLogSumExp: &ils, rowArgmax: &ims)
                : try ce.lossAndGradient(inPlace: &ips, labels: labels.span, classes: classes, rowLosses: &irs, rowLogSumExp: &ils, rowArgmax: &ims)
            _ = consume ips; _ = consume irs; _ = consume ils; _ = consume ims
            #expect(si == loss && ip == gradient && ir == stats.losses && il == stats.logSumExp && im == stats.argmax)
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
        var stats = RowStatistics()
        stats.losses = [7]
        var gradient = [Float](repeating: 7, count: 3)
        #expect(throws: XentError.self) {
            try ce.lossAndGradient(logits: [1, 2, 3], labels: [Int32(5)], classes: 3, gradient: &gradient, rowStatistics: &stats)
        }
        #expect(stats.losses == [7] && stats.logSumExp.isEmpty && stats.argmax.isEmpty && gradient == [7, 7, 7])
    }
}
