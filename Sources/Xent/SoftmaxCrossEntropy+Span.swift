// The entry points over Span / MutableSpan: borrow the memory, then call the unsafe-buffer versions.

#if compiler(>=6.2)
extension SoftmaxCrossEntropy {
    /// The loss against class labels, over spans; see
    /// ``loss(logits:labels:classes:rowStride:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_)``.
    ///
    /// `rowStatistics`, when given, receives every per-row output it asks for, its arrays resized
    /// to the row count if needed (after validation), so a reused value allocates nothing.
    public func loss<Element: LogitElement, Label: ClassLabel>(
        logits: Span<Element>, labels: Span<Label>, classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: labels.count, classes: classes, rowStride: rowStride)
        return try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
            try Self.borrow(logits, labels) { (z, t) throws(XentError) in
                try loss(logits: z, labels: t, classes: classes, rowStride: rowStride, rowStatistics: r)
            }
        }
    }

    /// The loss against class labels and its gradient, written into `gradient`, over spans; see
    /// ``lossAndGradient(logits:labels:classes:rowStride:gradient:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_,_)``.
    public func lossAndGradient<Element: LogitElement, Label: ClassLabel>(
        logits: Span<Element>, labels: Span<Label>, classes: Int, rowStride: Int? = nil,
        gradient: inout MutableSpan<Element>, rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: labels.count, classes: classes, rowStride: rowStride)
        return try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
            try Self.borrow(logits, labels, &gradient) { (z, t, g) throws(XentError) in
                try lossAndGradient(
                    logits: z, labels: t, classes: classes, rowStride: rowStride, gradient: g, rowStatistics: r)
            }
        }
    }

    /// The loss against class labels, with the gradient written over `logits`, over spans.
    public func lossAndGradient<Element: LogitElement, Label: ClassLabel>(
        inPlace logits: inout MutableSpan<Element>, labels: Span<Label>, classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: labels.count, classes: classes, rowStride: rowStride)
        return try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
            try Self.borrow(labels, &logits) { (t, z) throws(XentError) in
                try lossAndGradient(inPlace: z, labels: t, classes: classes, rowStride: rowStride, rowStatistics: r)
            }
        }
    }

    /// The loss against soft targets, over spans; see
    /// ``loss(logits:targets:classes:rowStride:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_)``.
    public func loss<Element: LogitElement>(
        logits: Span<Element>, targets: Span<Element>, classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: nil, classes: classes, rowStride: rowStride)
        return try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
            try Self.borrow(logits, targets) { (z, q) throws(XentError) in
                try loss(logits: z, targets: q, classes: classes, rowStride: rowStride, rowStatistics: r)
            }
        }
    }

    /// The loss against soft targets and its gradient, written into `gradient`, over spans.
    public func lossAndGradient<Element: LogitElement>(
        logits: Span<Element>, targets: Span<Element>, classes: Int, rowStride: Int? = nil,
        gradient: inout MutableSpan<Element>, rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: nil, classes: classes, rowStride: rowStride)
        return try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
            try Self.borrow(logits, targets, &gradient) { (z, q, g) throws(XentError) in
                try lossAndGradient(
                    logits: z, targets: q, classes: classes, rowStride: rowStride, gradient: g, rowStatistics: r)
            }
        }
    }

    /// The loss against soft targets, with the gradient written over `logits`, over spans.
    public func lossAndGradient<Element: LogitElement>(
        inPlace logits: inout MutableSpan<Element>, targets: Span<Element>, classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: nil, classes: classes, rowStride: rowStride)
        return try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
            try Self.borrow(targets, &logits) { (q, z) throws(XentError) in
                try lossAndGradient(inPlace: z, targets: q, classes: classes, rowStride: rowStride, rowStatistics: r)
            }
        }
    }

    // MARK: Borrowing span memory

    private static func borrow<A, B>(
        _ a: Span<A>, _ b: Span<B>,
        _ body: (UnsafeBufferPointer<A>, UnsafeBufferPointer<B>) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        let result: Result<Float, XentError> = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in Result { () throws(XentError) in try body(pa, pb) } }
        }
        return try result.get()
    }

    private static func borrow<A, B>(
        _ a: Span<A>, _ b: inout MutableSpan<B>,
        _ body: (UnsafeBufferPointer<A>, UnsafeMutableBufferPointer<B>) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        let result: Result<Float, XentError> = a.withUnsafeBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in Result { () throws(XentError) in try body(pa, pb) } }
        }
        return try result.get()
    }

    private static func borrow<A, B, C>(
        _ a: Span<A>, _ b: Span<B>, _ c: inout MutableSpan<C>,
        _ body: (UnsafeBufferPointer<A>, UnsafeBufferPointer<B>, UnsafeMutableBufferPointer<C>)
            throws(XentError) -> Float
    ) throws(XentError) -> Float {
        let result: Result<Float, XentError> = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in Result { () throws(XentError) in try body(pa, pb, pc) } }
            }
        }
        return try result.get()
    }
}
#endif
