// A batch evaluated a block of rows at a time, for the fused linear head (XentLinear): the whole
// batch's checks and `.mean` denominators first, then each block's logits in place.

/// What evaluating a batch in row blocks needs from the whole batch: its shape, `.mean`'s
/// denominators over every row, and the ISA and threads of the call. Built by
/// ``SoftmaxCrossEntropy/planRowBlocks(labels:classes:)`` or
/// ``SoftmaxCrossEntropy/planRowBlocks(softTargetRows:classes:)`` after every check has passed.
package struct RowBlockPlan: Sendable {
    package let rows: Int
    package let classes: Int
    let denominators: Denominators
    /// `.mean`'s cross-entropy denominator over the whole batch (1 for `.sum` and `.none`).
    package var crossEntropyDenominator: Double { denominators.crossEntropy }
    /// Under `.mean`, the rows that take part (not ignored) with a row weight above 0: their count.
    package var weightedRows: Int { denominators.weightedRows }
    let isa: InstructionSet
    package let workers: Int
}

extension SoftmaxCrossEntropy {
    /// Checks the options (row weights against the batch's rows, class weights against `classes`)
    /// and every label, and works out `.mean`'s denominators over the whole batch.
    package func planRowBlocks<Label: ClassLabel>(
        labels: UnsafeBufferPointer<Label>, classes: Int
    ) throws(XentError) -> RowBlockPlan {
        guard let base = labels.baseAddress, !labels.isEmpty else {
            return try plan(rows: 0, classes: classes, labels: nil) { () throws(XentError) in 0 }  // throws
        }
        let pointer = LabelPointer(base)
        let ignore = ignoreIndex.map(Int64.init)
        return try plan(rows: labels.count, classes: classes, labels: (pointer, ignore)) { () throws(XentError) in
            try pointer.validate(count: labels.count, classes: Int64(classes), ignoreIndex: ignore)
        }
    }

    /// ``planRowBlocks(labels:classes:)`` for `rows` rows of soft targets.
    package func planRowBlocks(softTargetRows rows: Int, classes: Int) throws(XentError) -> RowBlockPlan {
        try plan(rows: rows, classes: classes, labels: nil) { () throws(XentError) in rows }
    }

    /// The shape and options checked, then `participatingRows` (which checks the labels), then the
    /// whole batch's denominators.
    private func plan(
        rows: Int, classes: Int, labels: (LabelPointer, ignoreIndex: Int64?)?,
        participatingRows: () throws(XentError) -> Int
    ) throws(XentError) -> RowBlockPlan {
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        guard rows >= 1 else { throw .invalidRowCount(rows: rows) }
        let (elements, overflow) = rows.multipliedReportingOverflow(by: classes)
        guard !overflow else { throw .shapeOverflow(rows: rows, classes: classes) }
        let (isa, workers) = try checkOptions(rows: rows, classes: classes, elements: elements)
        let participating = try participatingRows()
        let denominators = withOptionalBuffer(classWeights) { weights in
            withOptionalBuffer(rowWeights) { rowWeights in
                Batch.denominators(
                    self, labels: labels, rows: rows, participatingRows: participating, weights: weights,
                    rowWeights: rowWeights)
            }
        }
        return RowBlockPlan(rows: rows, classes: classes, denominators: denominators, isa: isa, workers: workers)
    }

    /// Rows `firstRow ..< firstRow + labels.count` of a planned batch: `logits` (`labels.count ×
    /// classes`) are replaced by their gradient when `gradient` is true (divided by the whole
    /// batch's denominators, times the rows' weights), the per-row outputs go to `rowStatistics`
    /// (the block's rows), and the rows' loss parts are added to `sums` in row order — so the sums
    /// of consecutive blocks are those of one call on every row.
    package func evaluateRowBlock<Label: ClassLabel>(
        _ plan: RowBlockPlan, firstRow: Int, logits: UnsafeMutableBufferPointer<Float>,
        labels: UnsafeBufferPointer<Label>, gradient: Bool, rowStatistics: RowStatistics.Buffers,
        into sums: inout LossSums
    ) throws(XentError) {
        let batch = try Batch(
            logits: UnsafeBufferPointer(logits), labels: labels, classes: plan.classes, rowStride: nil,
            ignoreIndex: ignoreIndex, gradient: gradient ? logits : nil, rowStatistics: rowStatistics,
            reduction: reduction)
        runBlock(batch, plan, firstRow: firstRow, into: &sums)
    }

    /// ``evaluateRowBlock(_:firstRow:logits:labels:gradient:rowStatistics:into:)`` against soft
    /// targets (the block's rows, laid out as `logits`).
    package func evaluateRowBlock(
        _ plan: RowBlockPlan, firstRow: Int, logits: UnsafeMutableBufferPointer<Float>,
        targets: UnsafeBufferPointer<Float>, gradient: Bool, rowStatistics: RowStatistics.Buffers,
        into sums: inout LossSums
    ) throws(XentError) {
        let batch = try Batch(
            logits: UnsafeBufferPointer(logits), targets: targets, classes: plan.classes, rowStride: nil,
            gradient: gradient ? logits : nil, rowStatistics: rowStatistics, reduction: reduction)
        runBlock(batch, plan, firstRow: firstRow, into: &sums)
    }

    /// The reduced loss of a planned batch from its blocks' sums.
    package func reducedLoss(_ sums: LossSums, _ plan: RowBlockPlan) -> Float {
        sums.reduced(by: plan.denominators)
    }

    private func runBlock(_ batch: Batch, _ plan: RowBlockPlan, firstRow: Int, into sums: inout LossSums) {
        precondition(firstRow >= 0 && firstRow + batch.rows <= plan.rows, "row block outside the planned batch")
        withOptionalBuffer(classWeights) { weights in
            withOptionalBuffer(rowWeights) { rowWeights in
                runRows(
                    batch, isa: plan.isa, workers: plan.workers, weights: weights,
                    rowWeights: rowWeights.map { $0 + firstRow }, denominators: plan.denominators, into: &sums)
            }
        }
    }
}
