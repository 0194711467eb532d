// The entry points over unsafe buffers: validate once, then run the chosen kernel.

extension SoftmaxCrossEntropy {
    /// The loss of `logits` (`labels.count × classes`, row-major) against class labels.
    ///
    /// - Parameters:
    ///   - logits: `rows × classes` logits, row-major; `rows` is `labels.count`. `Float`, or a
    ///     16-bit ``HalfPrecisionFloat`` computed in `Float` (see <doc:HalfPrecisionLogits>).
    ///   - labels: one class index in `0 ..< classes` per row, or ``ignoreIndex`` (`Int32`,
    ///     `Int64` or `Int`).
    ///   - classes: the number of classes (≥ 1).
    ///   - rowStride: elements from one row's start to the next, ≥ `classes`, for padded
    ///     vocabularies (`nil`: `classes`). Then `logits` (and `gradient`, laid out alike) must
    ///     hold at least `(rows − 1) × rowStride + classes` elements; the padding columns are
    ///     never read or written.
    ///   - rowStatistics: buffers of `rows` elements that receive per-row outputs in the same
    ///     pass (none by default): each row's loss (0 for ignored rows, not divided by the
    ///     reduction; with a z-loss, `ℓ + λ·lse²`; required when ``reduction`` is `.none`), its
    ///     log-sum-exp, and its predicted class, whose hits
    ///     ``correctPredictions(rowArgmax:labels:)-(UnsafeBufferPointer<Int32>,_)`` counts
    ///     (token accuracy). See ``RowStatistics``.
    /// - Returns: the reduced loss (the sum of the row losses for `.none`).
    /// - Throws: ``XentError``, before anything is written.
    /// - Complexity: O(rows × classes); allocates nothing proportional to it (16-bit logits take
    ///   a `Float` row per thread).
    public func loss<Element: LogitElement, Label: ClassLabel>(
        logits: UnsafeBufferPointer<Element>, labels: UnsafeBufferPointer<Label>, classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        let batch = try Batch(
            logits: logits, labels: labels, classes: classes, rowStride: rowStride, ignoreIndex: ignoreIndex,
            gradient: nil, rowStatistics: rowStatistics, reduction: reduction)
        return try evaluate(batch)
    }

    /// The loss against class labels and its gradient with respect to `logits`, in one pass.
    ///
    /// `gradient` (same count and element type as `logits`) receives `∂loss/∂logits`:
    /// `p − onehot(label)` per row, divided as the loss is by ``reduction``; zero rows for ignored
    /// labels, NaN rows for rows holding NaN or +inf. With 16-bit logits it is formed in `Float`
    /// (the label's `p_t − 1` too) and rounded once. It may be the very memory `logits` is (the
    /// in-place call), and may not otherwise overlap it. Other parameters as in
    /// ``loss(logits:labels:classes:rowStride:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_)``.
    public func lossAndGradient<Element: LogitElement, Label: ClassLabel>(
        logits: UnsafeBufferPointer<Element>, labels: UnsafeBufferPointer<Label>, classes: Int, rowStride: Int? = nil,
        gradient: UnsafeMutableBufferPointer<Element>, rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        let batch = try Batch(
            logits: logits, labels: labels, classes: classes, rowStride: rowStride, ignoreIndex: ignoreIndex,
            gradient: gradient, rowStatistics: rowStatistics, reduction: reduction)
        return try evaluate(batch)
    }

    /// The loss against class labels, with the gradient written over the logits.
    ///
    /// Saves the gradient buffer (and its memory traffic) when the logits are not needed again;
    /// the argmax is that of the logits, found before they are overwritten. Equivalent to
    /// ``lossAndGradient(logits:labels:classes:rowStride:gradient:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_,_)``
    /// with `gradient` = `logits`.
    public func lossAndGradient<Element: LogitElement, Label: ClassLabel>(
        inPlace logits: UnsafeMutableBufferPointer<Element>, labels: UnsafeBufferPointer<Label>,
        classes: Int, rowStride: Int? = nil, rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        try lossAndGradient(
            logits: UnsafeBufferPointer(logits), labels: labels, classes: classes, rowStride: rowStride,
            gradient: logits, rowStatistics: rowStatistics)
    }

    /// The loss of `logits` against soft targets `q` (same shape and element type; any
    /// non-negative weights, not required to sum to 1): per row `Σ_c q_c · (lse − z_c)`.
    ///
    /// `rows` is `logits.count / rowStride` (the stride defaulting to `classes`) where that divides
    /// exactly; with a `rowStride`, `logits` may instead end at the last row's last class —
    /// `(rows − 1) × rowStride + classes` elements, a view of rows in a wider matrix — and `targets`
    /// has the same layout. ``ignoreIndex`` does not apply; `.mean` divides by `rows`. Other
    /// parameters as in
    /// ``loss(logits:labels:classes:rowStride:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_)``.
    public func loss<Element: LogitElement>(
        logits: UnsafeBufferPointer<Element>, targets: UnsafeBufferPointer<Element>, classes: Int,
        rowStride: Int? = nil,
        rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        let batch = try Batch(
            logits: logits, targets: targets, classes: classes, rowStride: rowStride, gradient: nil,
            rowStatistics: rowStatistics, reduction: reduction)
        return try evaluate(batch)
    }

    /// The loss against soft targets and its gradient `p_j · Σq − q_j` per row (the textbook
    /// `p − q` when `Σq = 1`), divided as the loss is by ``reduction``; `gradient` may be the
    /// very memory `logits` is.
    public func lossAndGradient<Element: LogitElement>(
        logits: UnsafeBufferPointer<Element>, targets: UnsafeBufferPointer<Element>, classes: Int,
        rowStride: Int? = nil,
        gradient: UnsafeMutableBufferPointer<Element>, rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        let batch = try Batch(
            logits: logits, targets: targets, classes: classes, rowStride: rowStride, gradient: gradient,
            rowStatistics: rowStatistics, reduction: reduction)
        return try evaluate(batch)
    }

    /// The loss against soft targets, with the gradient written over the logits.
    public func lossAndGradient<Element: LogitElement>(
        inPlace logits: UnsafeMutableBufferPointer<Element>, targets: UnsafeBufferPointer<Element>,
        classes: Int, rowStride: Int? = nil, rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        try lossAndGradient(
            logits: UnsafeBufferPointer(logits), targets: targets, classes: classes, rowStride: rowStride,
            gradient: logits, rowStatistics: rowStatistics)
    }
}

extension SoftmaxCrossEntropy {
    /// The rows whose predicted class (a ``RowStatistics/argmax`` output) equals their label, ignoring rows
    /// whose label is ``ignoreIndex``: the numerator of token accuracy.
    ///
    /// - Complexity: O(rows).
    public func correctPredictions<Label: ClassLabel>(
        rowArgmax: UnsafeBufferPointer<Int32>, labels: UnsafeBufferPointer<Label>
    ) throws(XentError) -> Int {
        guard rowArgmax.count == labels.count else {
            throw .lengthMismatch(argument: "rowArgmax", expected: labels.count, actual: rowArgmax.count)
        }
        guard let base = labels.baseAddress else { return 0 }
        let labelPointer = LabelPointer(base)
        let ignore = ignoreIndex.map(Int64.init)
        var correct = 0
        for row in 0..<labels.count {
            let label = labelPointer[row]
            if label != ignore && Int64(rowArgmax[row]) == label { correct += 1 }
        }
        return correct
    }
}
