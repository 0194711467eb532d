// The vocabulary-shard steps over Swift arrays: borrow the storage, then call the unsafe-buffer
// versions. Output arrays are resized (zero-filled) only when a step succeeds.

extension SoftmaxCrossEntropy {
    /// Step 1 over arrays, loss only; see
    /// ``shardMaxima(logits:labels:shard:rowStride:gradient:argmax:state:rowMaxima:)-(UnsafeBufferPointer<Element>,_,_,_,_,_,_,_)``.
    /// `rowMaxima` is resized to `rows × 2`.
    public func shardMaxima<Element: LogitElement, Label: ClassLabel>(
        logits: [Element], labels: [Label], shard: VocabShard, rowStride: Int? = nil, argmax: Bool = false,
        state: VocabShardState, rowMaxima: inout [Double]
    ) throws(XentError) {
        try Self.borrow(logits) { (z) throws(XentError) in
            try Self.borrow(labels) { (t) throws(XentError) in
                let count = labels.count * VocabShard.maximaPerRow
                try Self.borrowOutput(&rowMaxima, count: count) { (m) throws(XentError) in
                    try shardMaxima(
                        logits: z, labels: t, shard: shard, rowStride: rowStride, argmax: argmax, state: state,
                        rowMaxima: m)
                }
            }
        }
    }

    /// Step 1 over arrays with a gradient to come: `gradient` is resized to `logits.count` and
    /// must be passed, unchanged, to ``shardGradient(gradient:state:)-([Element],_)``.
    public func shardMaxima<Element: LogitElement, Label: ClassLabel>(
        logits: [Element], labels: [Label], shard: VocabShard, rowStride: Int? = nil, gradient: inout [Element],
        argmax: Bool = false, state: VocabShardState, rowMaxima: inout [Double]
    ) throws(XentError) {
        try Self.borrow(logits) { (z) throws(XentError) in
            try Self.borrow(labels) { (t) throws(XentError) in
                try Self.borrowOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                    try Self.borrowOutput(&rowMaxima, count: labels.count * VocabShard.maximaPerRow) {
                        (m) throws(XentError) in
                        try shardMaxima(
                            logits: z, labels: t, shard: shard, rowStride: rowStride, gradient: g, argmax: argmax,
                            state: state, rowMaxima: m)
                    }
                }
            }
        }
    }

    /// Step 1 over arrays with soft targets (the shard's columns, laid out like `logits`), loss
    /// only.
    public func shardMaxima<Element: LogitElement>(
        logits: [Element], targets: [Element], shard: VocabShard, rowStride: Int? = nil, argmax: Bool = false,
        state: VocabShardState, rowMaxima: inout [Double]
    ) throws(XentError) {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: nil, classes: shard.count, rowStride: rowStride)
        try Self.borrow(logits) { (z) throws(XentError) in
            try Self.borrow(targets) { (q) throws(XentError) in
                try Self.borrowOutput(&rowMaxima, count: rows * VocabShard.maximaPerRow) { (m) throws(XentError) in
                    try shardMaxima(
                        logits: z, targets: q, shard: shard, rowStride: rowStride, argmax: argmax, state: state,
                        rowMaxima: m)
                }
            }
        }
    }

    /// Step 1 over arrays with soft targets and a gradient to come.
    public func shardMaxima<Element: LogitElement>(
        logits: [Element], targets: [Element], shard: VocabShard, rowStride: Int? = nil, gradient: inout [Element],
        argmax: Bool = false, state: VocabShardState, rowMaxima: inout [Double]
    ) throws(XentError) {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: nil, classes: shard.count, rowStride: rowStride)
        try Self.borrow(logits) { (z) throws(XentError) in
            try Self.borrow(targets) { (q) throws(XentError) in
                try Self.borrowOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                    try Self.borrowOutput(&rowMaxima, count: rows * VocabShard.maximaPerRow) { (m) throws(XentError) in
                        try shardMaxima(
                            logits: z, targets: q, shard: shard, rowStride: rowStride, gradient: g, argmax: argmax,
                            state: state, rowMaxima: m)
                    }
                }
            }
        }
    }

    /// Step 2 over arrays; `statistics` is resized to ``VocabShard/statisticsCount(rows:)``.
    public func shardStatistics(
        rowMaxima: [Double], state: VocabShardState, statistics: inout [Double]
    ) throws(XentError) {
        try Self.borrow(rowMaxima) { (m) throws(XentError) in
            try Self.borrowOutput(&statistics, count: VocabShard.statisticsCount(rows: state.rows)) {
                (s) throws(XentError) in
                try shardStatistics(rowMaxima: m, state: state, statistics: s)
            }
        }
    }

    /// Step 3 over arrays: the gathered blocks (any order) into the loss; `rowStatistics`, when
    /// given, receives the whole rows' outputs.
    public func combineShards(
        statistics: [Double], state: VocabShardState, rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        try Self.borrow(statistics) { (s) throws(XentError) in
            try RowStatistics.filling(rowStatistics, rows: state.rows) { (r) throws(XentError) in
                try combineShards(statistics: s, state: state, rowStatistics: r)
            }
        }
    }

    /// Step 2 of the all-reduce form over arrays; `maximum` and `sum` are resized.
    public func shardStatisticsForAllReduce(
        rowMaxima: [Double], state: VocabShardState, maximum: inout [Double], sum: inout [Double]
    ) throws(XentError) {
        try Self.borrow(rowMaxima) { (m) throws(XentError) in
            try Self.borrowOutput(&maximum, count: state.rows * VocabShard.allReduceMaximumPerRow) {
                (x) throws(XentError) in
                let sums = state.rows * VocabShard.allReduceSumPerRow
                try Self.borrowOutput(&sum, count: sums) { (s) throws(XentError) in
                    try shardStatisticsForAllReduce(rowMaxima: m, state: state, maximum: x, sum: s)
                }
            }
        }
    }

    /// Step 3 of the all-reduce form over arrays.
    public func combineAllReduced(
        maximum: [Double], sum: [Double], state: VocabShardState, rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        try Self.borrow(maximum) { (x) throws(XentError) in
            try Self.borrow(sum) { (s) throws(XentError) in
                try RowStatistics.filling(rowStatistics, rows: state.rows) { (r) throws(XentError) in
                    try combineAllReduced(maximum: x, sum: s, state: state, rowStatistics: r)
                }
            }
        }
    }

    /// Step 4 over arrays: the gradient into the array step 1 was given (and filled), passed
    /// unchanged; only its count is checked, as copy-on-write may have moved its storage.
    public func shardGradient<Element: LogitElement>(
        gradient: inout [Element], state: VocabShardState
    ) throws(XentError) {
        let count = gradient.count
        try Self.borrowOutput(&gradient, count: count) { (g) throws(XentError) in
            try shardGradient(gradient: g, state: state, sameBuffers: false)
        }
    }

    /// Step 4 over arrays with soft targets (as given to step 1).
    public func shardGradient<Element: LogitElement>(
        targets: [Element], gradient: inout [Element], state: VocabShardState
    ) throws(XentError) {
        let count = gradient.count
        try Self.borrow(targets) { (q) throws(XentError) in
            try Self.borrowOutput(&gradient, count: count) { (g) throws(XentError) in
                try shardGradient(targets: q, gradient: g, state: state, sameBuffers: false)
            }
        }
    }
}
