// The loss of a block of rows whose logits arrive a panel of classes at a time, for the fused
// linear head without a gradient (XentLinear): each panel read once as a vocabulary shard, the
// rows' totals once every panel has been read.

/// The loss of a planned batch's rows (``RowBlockPlan``) whose logits come a panel of classes at a
/// time, the panel's buffer free for the next one as soon as it has been read: each panel is a
/// vocabulary shard (its chunk sums, each chunk's at the chunk's own maximum), and once every
/// panel of a block of rows has been read, the rows' sums at their maxima give their results,
/// outputs and loss parts.
///
/// When every panel boundary is a multiple of ``VocabShard/alignment(classes:)``, the rows'
/// outputs and loss parts are bitwise those of
/// ``SoftmaxCrossEntropy/evaluateRowBlock(_:firstRow:logits:labels:gradient:rowStatistics:into:)``
/// on the whole rows (NUMERICS.md "Vocabulary shards"). Class labels, the vector kernel, no
/// gradient.
package final class RowPanelLoss<Label: ClassLabel> {
    private let options: SoftmaxCrossEntropy
    private let plan: RowBlockPlan
    private let argmax: Bool
    /// One state per panel of a block, reused block after block.
    private var states: [VocabShardState] = []
    /// The panels read in the current block; the next panel's first class.
    private var panels = 0, nextClass = 0
    private var firstRow = 0
    private var labels = UnsafeBufferPointer<Label>(start: nil, count: 0)
    /// The block's row maxima so far (transformed, raw), `VocabShard.maximaPerRow` per row, and
    /// one panel's. Buffers rather than arrays: the steps' typed throws cannot pass through an
    /// array's closures in Swift 6.0.
    private var maxima = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)
    private var panelMaxima = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)

    /// A loss over `plan`'s rows with the options it was planned with; `argmax` when the rows'
    /// argmax will be asked for. Throws for a kernel other than `.vector`.
    package init(_ options: SoftmaxCrossEntropy, plan: RowBlockPlan, argmax: Bool) throws(XentError) {
        guard options.kernel == .vector else {
            throw .unsupportedKernel(options.kernel, operation: "logits a panel of classes at a time")
        }
        self.options = options
        self.plan = plan
        self.argmax = argmax
    }

    deinit {
        maxima.deallocate()
        panelMaxima.deallocate()
    }

    /// Starts the rows `firstRow ..< firstRow + labels.count` (their labels).
    package func begin(firstRow: Int, labels: UnsafeBufferPointer<Label>) {
        precondition(firstRow >= 0 && firstRow + labels.count <= plan.rows, "row block outside the planned batch")
        self.firstRow = firstRow
        self.labels = labels
        panels = 0
        nextClass = 0
        let count = labels.count * VocabShard.maximaPerRow
        if maxima.count != count {
            maxima.deallocate()
            panelMaxima.deallocate()
            maxima = .allocate(capacity: count)
            panelMaxima = .allocate(capacity: count)
        }
        maxima.initialize(repeating: -.infinity)
    }

    /// The next panel, classes `offset ..< offset + count` of the block's rows (`rowStride` apart
    /// in `logits`): read once, its chunk sums kept.
    package func add(logits: UnsafeBufferPointer<Float>, rowStride: Int, offset: Int, count: Int) throws(XentError) {
        precondition(offset == nextClass && count >= 1 && offset + count <= plan.classes, "panels out of order")
        var panelOptions = options
        // The row weights apply when the rows are combined; a panel's class weights are its slice.
        panelOptions.rowWeights = nil
        panelOptions.classWeights = options.classWeights.map { Array($0[offset..<offset + count]) }
        if panels == states.count { states.append(VocabShardState()) }
        let batch = try Batch(
            logits: logits, labels: labels, classes: count, rowStride: rowStride, ignoreIndex: options.ignoreIndex,
            gradient: nil, rowStatistics: RowStatistics.Buffers(), reduction: .sum, labelClasses: plan.classes)
        try states[panels].beginMaxima(
            batch, options: panelOptions, shard: try VocabShard(classes: plan.classes, offset: offset, count: count),
            argmax: argmax, rowMaxima: panelMaxima)
        for k in maxima.indices where panelMaxima[k] > maxima[k] { maxima[k] = panelMaxima[k] }
        panels += 1
        nextClass = offset + count
    }

    /// Combines the block's panels (which must tile the classes) into its rows' results: their
    /// outputs into `rowStatistics` (the block's rows) and their loss parts added to `sums` in
    /// row order, with the whole batch's row weights.
    package func finish(rowStatistics: RowStatistics.Buffers, into sums: inout LossSums) throws(XentError) {
        precondition(nextClass == plan.classes, "the panels do not cover the classes")
        let rows = labels.count
        let block = VocabShard.statisticsCount(rows: rows)
        let statistics = UnsafeMutableBufferPointer<Double>.allocate(capacity: block * panels)
        defer { statistics.deallocate() }
        statistics.initialize(repeating: 0)
        for k in 0..<panels {
            try states[k].writeStatistics(
                rowMaxima: UnsafeBufferPointer(maxima), into: statistics.baseAddress! + k * block)
        }
        let combined = try states[0].combineStatistics(UnsafeBufferPointer(statistics))
        let state = states[0]
        withUnsafeTemporaryAllocation(of: RowResult.self, capacity: rows) { results in
            withOptionalBuffer(options.rowWeights) { rowWeights in
                let rowWeights = rowWeights.map { $0 + firstRow }
                _ = state.rowResults(combined, rowWeights: rowWeights, into: results)
                state.reduce(results, rowWeights: rowWeights, rowStatistics: rowStatistics, into: &sums)
            }
        }
    }
}

extension VocabShard {
    /// What ``RowPanelLoss`` keeps beside a tile's logits for rows of `classes` classes in panels
    /// of `panel` (a multiple of ``alignment(classes:)``): per row of the tile, `perRow` bytes
    /// (every chunk's sums, each panel's row record and statistics, the row's maxima, totals and
    /// result), and `fixed` bytes per block (the panels' statistics headers).
    package static func panelBookkeeping(classes: Int, panel: Int) -> (perRow: Int, fixed: Int) {
        let chunks = (classes + alignment(classes: classes) - 1) / alignment(classes: classes)
        let panels = (classes + panel - 1) / panel
        let double = MemoryLayout<Double>.stride
        let perRow = chunks * MemoryLayout<ChunkSums>.stride
            + panels * (MemoryLayout<VocabShardState.Row>.stride + statisticsPerRow * double)
            + 2 * maximaPerRow * double + MemoryLayout<VocabShardState.CombinedRow>.stride
            + MemoryLayout<RowResult>.stride
        return (perRow, panels * statisticsHeaderCount * double)
    }
}
