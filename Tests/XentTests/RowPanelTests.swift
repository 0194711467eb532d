// A planned batch's loss from its logits a block of rows × a panel of classes at a time (the fused
// linear head without a gradient), checked bitwise against one call on the whole rows.
import Testing

@testable import Xent

@Suite struct RowPanelTests {
    /// The loss and row outputs of `c` taken in blocks of `blockRows` rows, each block's logits
    /// copied a panel of `panel` classes at a time into one reused buffer (its rows `panel` apart).
    static func panels(_ c: ShardCase, blockRows: Int, panel: Int, argmax wantsArgmax: Bool = true) throws -> ShardRun {
        let labels = c.labels!
        var losses = [Float](repeating: .nan, count: c.rows), lse = losses
        var argmax = [Int32](repeating: -7, count: c.rows)
        var sums = LossSums()
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: blockRows * panel)
        defer { buffer.deallocate() }
        let plan = try labels.withUnsafeBufferPointer { labels in
            try c.options.planRowBlocks(labels: labels, classes: c.classes)
        }
        try labels.withUnsafeBufferPointer { labels in
            let loss = try RowPanelLoss<Int32>(c.options, plan: plan, argmax: wantsArgmax)
            for first in stride(from: 0, to: c.rows, by: blockRows) {
                let n = Swift.min(blockRows, c.rows - first)
                buffer.update(repeating: .nan)
                loss.begin(firstRow: first, labels: UnsafeBufferPointer(rebasing: labels[first..<first + n]))
                for offset in stride(from: 0, to: c.classes, by: panel) {
                    let count = Swift.min(panel, c.classes - offset)
                    for r in 0..<n {
                        for j in 0..<count { buffer[r * panel + j] = c.logits[(first + r) * c.classes + offset + j] }
                    }
                    try loss.add(
                        logits: UnsafeBufferPointer(start: buffer.baseAddress, count: (n - 1) * panel + count),
                        rowStride: panel, offset: offset, count: count)
                }
                try losses.withUnsafeMutableBufferPointer { losses in
                    try lse.withUnsafeMutableBufferPointer { lse in
                        try argmax.withUnsafeMutableBufferPointer { argmax in
                            try loss.finish(
                                rowStatistics: RowStatistics.Buffers(
                                    losses: UnsafeMutableBufferPointer(rebasing: losses[first..<first + n]),
                                    logSumExp: UnsafeMutableBufferPointer(rebasing: lse[first..<first + n]),
                                    argmax: wantsArgmax
                                        ? UnsafeMutableBufferPointer(rebasing: argmax[first..<first + n]) : nil),
                                into: &sums)
                        }
                    }
                }
            }
        }
        return ShardRun(
            loss: c.options.reducedLoss(sums, plan), losses: losses, logSumExp: lse, argmax: argmax, gradient: [])
    }

    @Test(
        "blocks of rows × aligned panels of classes give bitwise one call's loss and row outputs: every option",
        arguments: 0..<VocabShardTests.optionSets.count)
    func alignedEveryOption(optionIndex: Int) throws {
        let (name, set) = VocabShardTests.optionSets[optionIndex]
        let classes = 2048 * 4 + 17
        var c = VocabShardTests.batch(
            rows: 10, classes: classes, seed: 40 + UInt64(optionIndex), labelsAt: [2048, 2047, 0, 0, classes - 1, 4096],
            soft: false)
        set(&c.options, classes, c.rows)
        let whole = try c.whole(Float.self, gradient: false)
        for (blockRows, panel) in [(10, 2048), (4, 4096), (3, 2048 * 3), (1, 2048 * 5), (7, 2048 * 4)] {
            let run = try Self.panels(c, blockRows: blockRows, panel: panel)
            #expect(run == whole, "\(name): blocks of \(blockRows) rows, panels of \(panel) classes")
        }
    }

    /// The kernels here find +0 as the maximum of a chunk holding −0 and nothing larger, so the
    /// panels agree on the sign; the combine accepts either (it compares the maxima with `==`).
    @Test("a row maximum of 0 met as +0 in one panel and −0 in another; no argmax asked for")
    func signedZeroMaximum() throws {
        let classes = 4096 * 3
        var c = VocabShardTests.batch(rows: 3, classes: classes, seed: 9, labelsAt: [5000, 17, 9000], soft: false)
        for r in 0..<3 {
            for j in 0..<classes { c.logits[r * classes + j] = -Float(1 + (j * 7 + r) % 50) }
        }
        c.logits[0 * classes + 100] = 0
        c.logits[0 * classes + 5000] = -0.0
        c.logits[1 * classes + 100] = -0.0
        c.logits[1 * classes + 9000] = 0
        let whole = try c.whole(Float.self, gradient: false)
        var run = try Self.panels(c, blockRows: 2, panel: 4096, argmax: false)
        run.argmax = whole.argmax
        #expect(run == whole)
        #expect(try Self.panels(c, blockRows: 3, panel: 4096) == whole)
    }

    @Test("only the vector kernel")
    func vectorKernelOnly() throws {
        var options = SoftmaxCrossEntropy()
        options.kernel = .scalar
        let labels: [Int32] = [0, 1]
        let plan = try labels.withUnsafeBufferPointer { try options.planRowBlocks(labels: $0, classes: 4) }
        #expect(throws: XentError.self) { try RowPanelLoss<Int32>(options, plan: plan, argmax: false) }
    }
}
