// Vocabulary-parallel cross-entropy over unsafe buffers: the four steps a rank runs, with the
// two exchanges between them left to the caller's transport (<doc:VocabularyParallel>).

extension SoftmaxCrossEntropy {
    // MARK: Step 1

    /// Step 1 of a vocabulary-sharded call, class labels: reads this rank's shard of every row
    /// once and writes its row maxima (``VocabShard/maximaPerRow`` Doubles per row) for the first
    /// exchange, an element-wise maximum over the ranks.
    ///
    /// - Parameters:
    ///   - logits: the shard's columns, `rows × shard.count` (or rows `rowStride` apart); `Float`
    ///     or a 16-bit ``LogitElement``.
    ///   - labels: one *global* class index in `0 ..< shard.classes` per row, or ``ignoreIndex``;
    ///     every rank passes the same labels.
    ///   - rowStride: elements from one row's start to the next in `logits` (and `gradient`),
    ///     ≥ `shard.count` (`nil`: `shard.count`) — for a view of the shard's columns in a
    ///     wider matrix.
    ///   - shard: this rank's slice of the vocabulary. ``classWeights``, when set, holds the
    ///     weights of this slice (`shard.count` of them); every other option is the same on every
    ///     rank.
    ///   - gradient: where the gradient will go (same layout as `logits`; may be `logits` itself),
    ///     or nil for the loss only. With `Float` logits this step stores intermediate values
    ///     there (the exps, or the transformed logits under a softcap) that
    ///     ``shardGradient(gradient:state:)-(UnsafeMutableBufferPointer<Element>,_)`` turns into
    ///     the gradient; 16-bit ones keep them in `state` (a `Float` copy of the shard) and
    ///     write `gradient` in step 4 only.
    ///   - argmax: whether ``combineShards(statistics:state:rowStatistics:)-(UnsafeBufferPointer<Double>,_,_)``
    ///     will be asked for the rows' argmax.
    ///   - state: this rank's ``VocabShardState``, which the later steps take.
    ///   - rowMaxima: `rows × 2` Doubles, written.
    /// - Throws: ``XentError`` before anything is written: the shape, a label outside the
    ///   vocabulary, the options (class weights counted against `shard.count`), a kernel other
    ///   than `.vector`.
    public func shardMaxima<Element: LogitElement, Label: ClassLabel>(
        logits: UnsafeBufferPointer<Element>, labels: UnsafeBufferPointer<Label>, shard: VocabShard,
        rowStride: Int? = nil, gradient: UnsafeMutableBufferPointer<Element>? = nil, argmax: Bool = false,
        state: VocabShardState, rowMaxima: UnsafeMutableBufferPointer<Double>
    ) throws(XentError) {
        let batch = try Batch(
            logits: logits, labels: labels, classes: shard.count, rowStride: rowStride, ignoreIndex: ignoreIndex,
            gradient: gradient, rowStatistics: RowStatistics.Buffers(), reduction: .sum, labelClasses: shard.classes)
        try Self.checkMaxima(rowMaxima, against: batch, logits: UnsafeRawBufferPointer(logits),
                             gradient: gradient.map { UnsafeRawBufferPointer($0) })
        try state.beginMaxima(batch, options: self, shard: shard, argmax: argmax, rowMaxima: rowMaxima)
    }

    /// Step 1 with soft targets: `targets` holds the shard's columns of the target rows, laid out
    /// like `logits`. Otherwise as
    /// ``shardMaxima(logits:labels:shard:rowStride:gradient:argmax:state:rowMaxima:)-(UnsafeBufferPointer<Element>,_,_,_,_,_,_,_)``.
    public func shardMaxima<Element: LogitElement>(
        logits: UnsafeBufferPointer<Element>, targets: UnsafeBufferPointer<Element>, shard: VocabShard,
        rowStride: Int? = nil, gradient: UnsafeMutableBufferPointer<Element>? = nil, argmax: Bool = false,
        state: VocabShardState, rowMaxima: UnsafeMutableBufferPointer<Double>
    ) throws(XentError) {
        let batch = try Batch(
            logits: logits, targets: targets, classes: shard.count, rowStride: rowStride, gradient: gradient,
            rowStatistics: RowStatistics.Buffers(), reduction: .sum)
        try Self.checkMaxima(rowMaxima, against: batch, logits: UnsafeRawBufferPointer(logits),
                             gradient: gradient.map { UnsafeRawBufferPointer($0) },
                             targets: UnsafeRawBufferPointer(targets))
        try state.beginMaxima(batch, options: self, shard: shard, argmax: argmax, rowMaxima: rowMaxima)
    }

    private static func checkMaxima(
        _ rowMaxima: UnsafeMutableBufferPointer<Double>, against batch: Batch, logits: UnsafeRawBufferPointer,
        gradient: UnsafeRawBufferPointer?, targets: UnsafeRawBufferPointer? = nil
    ) throws(XentError) {
        let maxima = UnsafeRawBufferPointer(rowMaxima)
        for (name, other) in [("logits", logits), ("gradient", gradient), ("targets", targets)] {
            if let other, overlaps(maxima, other) { throw .overlappingBuffers(first: "rowMaxima", second: name) }
        }
    }

    // MARK: Step 2

    /// Step 2: this shard's statistics at the combined row maxima (every rank's `rowMaxima`
    /// reduced element-wise by maximum), ``VocabShard/statisticsCount(rows:)`` Doubles for the
    /// second exchange, a gather of every rank's block (in any order).
    ///
    /// The sums in the block are exact (``VocabShard`` documents the layout), which is what
    /// makes the combine independent of the shard count and the order of the blocks.
    public func shardStatistics(
        rowMaxima: UnsafeBufferPointer<Double>, state: VocabShardState, statistics: UnsafeMutableBufferPointer<Double>
    ) throws(XentError) {
        try state.requireStep(.maxima, "shardStatistics", options: self)
        let count = VocabShard.statisticsCount(rows: state.rows)
        guard statistics.count == count else {
            throw .lengthMismatch(argument: "statistics", expected: count, actual: statistics.count)
        }
        if overlaps(UnsafeRawBufferPointer(statistics), UnsafeRawBufferPointer(rowMaxima)) {
            throw .overlappingBuffers(first: "statistics", second: "rowMaxima")
        }
        try Self.checkAgainstKept(state, [("statistics", UnsafeRawBufferPointer(statistics))])
        try state.writeStatistics(rowMaxima: rowMaxima, into: statistics.baseAddress!)
    }

    /// Step 2 for transports that offer only element-wise all-reduces: `maximum` (`rows` Doubles,
    /// reduced by maximum) and `sum` (`rows × 9`, reduced by sum). The five floating-point sums
    /// are rounded per shard and added in the transport's order, so the result is within
    /// NUMERICS.md's bounds but not bitwise reproducible across shard counts or reduction trees.
    public func shardStatisticsForAllReduce(
        rowMaxima: UnsafeBufferPointer<Double>, state: VocabShardState,
        maximum: UnsafeMutableBufferPointer<Double>, sum: UnsafeMutableBufferPointer<Double>
    ) throws(XentError) {
        try state.requireStep(.maxima, "shardStatisticsForAllReduce", options: self)
        guard maximum.count == state.rows * VocabShard.allReduceMaximumPerRow else {
            throw .lengthMismatch(argument: "maximum", expected: state.rows, actual: maximum.count)
        }
        guard sum.count == state.rows * VocabShard.allReduceSumPerRow else {
            throw .lengthMismatch(
                argument: "sum", expected: state.rows * VocabShard.allReduceSumPerRow, actual: sum.count)
        }
        let buffers = [UnsafeRawBufferPointer(rowMaxima), UnsafeRawBufferPointer(maximum), UnsafeRawBufferPointer(sum)]
        let names = ["rowMaxima", "maximum", "sum"]
        for later in 1..<3 {
            for earlier in 0..<later where overlaps(buffers[later], buffers[earlier]) {
                throw .overlappingBuffers(first: names[later], second: names[earlier])
            }
        }
        try Self.checkAgainstKept(
            state, [("maximum", UnsafeRawBufferPointer(maximum)), ("sum", UnsafeRawBufferPointer(sum))])
        try state.writeAllReduce(rowMaxima: rowMaxima, maximum: maximum.baseAddress!, sum: sum.baseAddress!)
    }

    // MARK: Step 3

    /// Step 3: combines every shard's statistics (the gathered blocks, in any order) into the
    /// rows' totals and returns the reduced loss — the same number on every rank, and bitwise
    /// that of one call on the whole rows when the shards are aligned (``VocabShard/isAligned``).
    /// `rowStatistics` receives the per-row outputs of the whole rows, as in
    /// ``lossAndGradient(logits:labels:classes:rowStride:gradient:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_,_)``
    /// (argmax: a global class index; asking for it needs `argmax: true` in step 1).
    ///
    /// - Throws: ``XentError`` before anything is written: blocks of the wrong length, made for
    ///   another call (options, shape, element type), shards that do not tile the vocabulary,
    ///   values outside their domain.
    public func combineShards(
        statistics: UnsafeBufferPointer<Double>, state: VocabShardState,
        rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        try state.requireStep(.statistics, "combineShards", options: self)
        try checkRowStatistics(rowStatistics, state: state, inputs: [UnsafeRawBufferPointer(statistics)])
        let combined = try state.combineStatistics(statistics)
        return state.finish(combined, rowStatistics: rowStatistics)
    }

    /// Step 3 of the all-reduce form: the reduced `maximum` and `sum` of
    /// ``shardStatisticsForAllReduce(rowMaxima:state:maximum:sum:)-(UnsafeBufferPointer<Double>,_,_,_)``
    /// into the loss and per-row outputs, as ``combineShards(statistics:state:rowStatistics:)-(UnsafeBufferPointer<Double>,_,_)``
    /// (within NUMERICS.md's bounds, not bitwise).
    public func combineAllReduced(
        maximum: UnsafeBufferPointer<Double>, sum: UnsafeBufferPointer<Double>, state: VocabShardState,
        rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        try state.requireStep(.statistics, "combineAllReduced", options: self)
        try checkRowStatistics(
            rowStatistics, state: state, inputs: [UnsafeRawBufferPointer(maximum), UnsafeRawBufferPointer(sum)])
        let combined = try state.combineAllReduced(maximum: maximum, sum: sum)
        return state.finish(combined, rowStatistics: rowStatistics)
    }

    private func checkRowStatistics(
        _ outputs: RowStatistics.Buffers, state: VocabShardState, inputs: [UnsafeRawBufferPointer]
    ) throws(XentError) {
        let rows = state.rows
        if let losses = outputs.losses, losses.count != rows {
            throw .lengthMismatch(argument: "rowStatistics.losses", expected: rows, actual: losses.count)
        }
        if let lse = outputs.logSumExp, lse.count != rows {
            throw .lengthMismatch(argument: "rowStatistics.logSumExp", expected: rows, actual: lse.count)
        }
        if let argmax = outputs.argmax {
            guard argmax.count == rows else {
                throw .lengthMismatch(argument: "rowStatistics.argmax", expected: rows, actual: argmax.count)
            }
            guard state.argmax else {
                throw .shardStepOutOfOrder(
                    step: "combineShards", reason: "the argmax needs argmax: true in shardMaxima")
            }
            if state.shard.classes > Int(Int32.max) { throw .argmaxOutOfRange(classes: state.shard.classes) }
        }
        if reduction == .none && outputs.losses == nil { throw .rowLossesRequired }
        let named: [(String, UnsafeRawBufferPointer?)] = [
            ("rowStatistics.losses", outputs.losses.map { UnsafeRawBufferPointer($0) }),
            ("rowStatistics.logSumExp", outputs.logSumExp.map { UnsafeRawBufferPointer($0) }),
            ("rowStatistics.argmax", outputs.argmax.map { UnsafeRawBufferPointer($0) }),
        ]
        try Self.checkAgainstKept(state, named.compactMap { name, bytes in bytes.map { (name, $0) } })
        for (k, (name, bytes)) in named.enumerated() {
            guard let bytes else { continue }
            for input in inputs where overlaps(bytes, input) {
                throw .overlappingBuffers(first: name, second: "statistics")
            }
            for (other, otherBytes) in named[..<k] {
                if let otherBytes, overlaps(bytes, otherBytes) { throw .overlappingBuffers(first: name, second: other) }
            }
        }
    }

    /// Outputs of a later step may not overlap the buffers of step 1 that step 4 still needs
    /// (``VocabShardState/keptBuffers``).
    private static func checkAgainstKept(
        _ state: VocabShardState, _ outputs: [(String, UnsafeRawBufferPointer)]
    ) throws(XentError) {
        let kept = state.keptBuffers
        for (name, bytes) in outputs {
            for buffer in kept where overlaps(bytes, buffer.bytes) {
                throw .overlappingBuffers(first: name, second: buffer.name)
            }
        }
    }

    // MARK: Step 4

    /// Step 4, class labels: the shard's gradient, written into the `gradient` step 1 was given
    /// (which must be passed again) from what step 1 stored there and step 3's totals: bitwise
    /// the corresponding columns of one call's gradient when the shards are aligned.
    public func shardGradient<Element: LogitElement>(
        gradient: UnsafeMutableBufferPointer<Element>, state: VocabShardState
    ) throws(XentError) {
        try shardGradient(gradient: gradient, state: state, sameBuffers: true)
    }

    /// Step 4 with the buffers' identity checked (`sameBuffers`) or, for arrays — whose storage a
    /// copy-on-write may have moved, contents unchanged — only their counts.
    func shardGradient<Element: LogitElement>(
        gradient: UnsafeMutableBufferPointer<Element>, state: VocabShardState, sameBuffers: Bool
    ) throws(XentError) {
        try checkGradientStep(state, gradient: UnsafeMutableRawBufferPointer(gradient), count: gradient.count,
                              storage: Storage(Element.self), targets: nil, sameBuffers: sameBuffers)
        state.writeGradient(gradient: UnsafeMutableRawPointer(gradient.baseAddress!), targets: nil)
    }

    /// Step 4 with soft targets: `targets` as given to step 1, again.
    public func shardGradient<Element: LogitElement>(
        targets: UnsafeBufferPointer<Element>, gradient: UnsafeMutableBufferPointer<Element>, state: VocabShardState
    ) throws(XentError) {
        try shardGradient(targets: targets, gradient: gradient, state: state, sameBuffers: true)
    }

    func shardGradient<Element: LogitElement>(
        targets: UnsafeBufferPointer<Element>, gradient: UnsafeMutableBufferPointer<Element>, state: VocabShardState,
        sameBuffers: Bool
    ) throws(XentError) {
        try checkGradientStep(state, gradient: UnsafeMutableRawBufferPointer(gradient), count: gradient.count,
                              storage: Storage(Element.self), targets: (UnsafeRawBufferPointer(targets), targets.count),
                              sameBuffers: sameBuffers)
        state.writeGradient(
            gradient: UnsafeMutableRawPointer(gradient.baseAddress!), targets: UnsafeRawPointer(targets.baseAddress!))
    }

    private func checkGradientStep(
        _ state: VocabShardState, gradient: UnsafeMutableRawBufferPointer, count: Int, storage: Storage,
        targets: (UnsafeRawBufferPointer, Int)?, sameBuffers: Bool
    ) throws(XentError) {
        try state.requireStep(.combined, "shardGradient", options: self)
        guard !state.gradientWritten else {
            throw .shardStepOutOfOrder(
                step: "shardGradient", reason: "this call's gradient is written; begin with shardMaxima")
        }
        guard let begun = state.gradient else {
            throw .shardStepOutOfOrder(step: "shardGradient", reason: "shardMaxima was not given a gradient")
        }
        guard storage == state.storage, !sameBuffers || gradient.baseAddress == begun.0, count == begun.1 else {
            throw .shardStepOutOfOrder(
                step: "shardGradient", reason: "gradient is not the buffer shardMaxima was given")
        }
        guard (targets == nil) == (state.targets == nil) else {
            throw .shardStepOutOfOrder(
                step: "shardGradient", reason: "soft targets must be passed to both steps, or to neither")
        }
        if let targets, let begunTargets = state.targets,
           sameBuffers && targets.0.baseAddress != begunTargets.0 || targets.1 != begunTargets.1 {
            throw .shardStepOutOfOrder(step: "shardGradient", reason: "targets is not the buffer shardMaxima was given")
        }
    }
}

private func overlaps(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard let a0 = a.baseAddress, let b0 = b.baseAddress, a.count > 0, b.count > 0 else { return false }
    return a0 < b0 + b.count && b0 < a0 + a.count
}
