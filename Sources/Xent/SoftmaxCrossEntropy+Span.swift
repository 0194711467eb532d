// The entry points over Span / MutableSpan: borrow the memory, then call the unsafe-buffer versions.

#if compiler(>=6.2)
extension SoftmaxCrossEntropy {
    /// The loss against class labels, over spans; see
    /// ``loss(logits:labels:classes:rowStride:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_)``.
    public func loss<Label: ClassLabel>(
        logits: Span<Float>, labels: Span<Label>, classes: Int, rowStride: Int? = nil
    ) throws(XentError) -> Float {
        try Self.borrow(logits, labels) { (z, t) throws(XentError) in
            try loss(logits: z, labels: t, classes: classes, rowStride: rowStride)
        }
    }

    /// The loss against class labels and its gradient, written into `gradient`; see
    /// ``lossAndGradient(logits:labels:classes:rowStride:gradient:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_,_)``.
    public func lossAndGradient<Label: ClassLabel>(
        logits: Span<Float>, labels: Span<Label>, classes: Int, rowStride: Int? = nil,
        gradient: inout MutableSpan<Float>
    ) throws(XentError) -> Float {
        try Self.borrow(logits, labels, &gradient) { (z, t, g) throws(XentError) in
            try lossAndGradient(logits: z, labels: t, classes: classes, rowStride: rowStride, gradient: g)
        }
    }

    /// The loss against class labels, with the gradient written over `logits`.
    public func lossAndGradient<Label: ClassLabel>(
        inPlace logits: inout MutableSpan<Float>, labels: Span<Label>, classes: Int, rowStride: Int? = nil
    ) throws(XentError) -> Float {
        try Self.borrow(labels, &logits) { (t, z) throws(XentError) in
            try lossAndGradient(inPlace: z, labels: t, classes: classes, rowStride: rowStride)
        }
    }

    /// The loss against soft targets, over spans; see
    /// ``loss(logits:targets:classes:rowStride:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_)``.
    public func loss(
        logits: Span<Float>, targets: Span<Float>, classes: Int, rowStride: Int? = nil
    ) throws(XentError) -> Float {
        try Self.borrow(logits, targets) { (z, q) throws(XentError) in
            try loss(logits: z, targets: q, classes: classes, rowStride: rowStride)
        }
    }

    /// The loss against soft targets and its gradient, written into `gradient`.
    public func lossAndGradient(
        logits: Span<Float>, targets: Span<Float>, classes: Int, rowStride: Int? = nil,
        gradient: inout MutableSpan<Float>
    ) throws(XentError) -> Float {
        try Self.borrow(logits, targets, &gradient) { (z, q, g) throws(XentError) in
            try lossAndGradient(logits: z, targets: q, classes: classes, rowStride: rowStride, gradient: g)
        }
    }

    /// The loss against soft targets, with the gradient written over `logits`.
    public func lossAndGradient(
        inPlace logits: inout MutableSpan<Float>, targets: Span<Float>, classes: Int, rowStride: Int? = nil
    ) throws(XentError) -> Float {
        try Self.borrow(targets, &logits) { (q, z) throws(XentError) in
            try lossAndGradient(inPlace: z, targets: q, classes: classes, rowStride: rowStride)
        }
    }

    // MARK: Per-row outputs

    /// The loss against class labels with every per-row output (`rows` elements each: loss,
    /// log-sum-exp, predicted class), over spans; see
    /// ``loss(logits:labels:classes:rowStride:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_)``.
    public func loss<Label: ClassLabel>(
        logits: Span<Float>, labels: Span<Label>, classes: Int, rowStride: Int? = nil,
        rowLosses: inout MutableSpan<Float>, rowLogSumExp: inout MutableSpan<Float>, rowArgmax: inout MutableSpan<Int32>
    ) throws(XentError) -> Float {
        try Self.borrowRows(&rowLosses, &rowLogSumExp, &rowArgmax) { (r, l, a) throws(XentError) in
            try Self.borrow(logits, labels) { (z, t) throws(XentError) in
                try loss(logits: z, labels: t, classes: classes, rowStride: rowStride, rowLosses: r, rowLogSumExp: l, rowArgmax: a)
            }
        }
    }

    /// The loss against class labels, its gradient and every per-row output, over spans.
    public func lossAndGradient<Label: ClassLabel>(
        logits: Span<Float>, labels: Span<Label>, classes: Int, rowStride: Int? = nil,
        gradient: inout MutableSpan<Float>,
        rowLosses: inout MutableSpan<Float>, rowLogSumExp: inout MutableSpan<Float>, rowArgmax: inout MutableSpan<Int32>
    ) throws(XentError) -> Float {
        try Self.borrowRows(&rowLosses, &rowLogSumExp, &rowArgmax) { (r, l, a) throws(XentError) in
            try Self.borrow(logits, labels, &gradient) { (z, t, g) throws(XentError) in
                try lossAndGradient(
                    logits: z, labels: t, classes: classes, rowStride: rowStride, gradient: g, rowLosses: r,
                    rowLogSumExp: l, rowArgmax: a)
            }
        }
    }

    /// The loss against class labels, the gradient written over `logits`, and every per-row
    /// output, over spans.
    public func lossAndGradient<Label: ClassLabel>(
        inPlace logits: inout MutableSpan<Float>, labels: Span<Label>, classes: Int, rowStride: Int? = nil,
        rowLosses: inout MutableSpan<Float>, rowLogSumExp: inout MutableSpan<Float>, rowArgmax: inout MutableSpan<Int32>
    ) throws(XentError) -> Float {
        try Self.borrowRows(&rowLosses, &rowLogSumExp, &rowArgmax) { (r, l, a) throws(XentError) in
            try Self.borrow(labels, &logits) { (t, z) throws(XentError) in
                try lossAndGradient(
                    inPlace: z, labels: t, classes: classes, rowStride: rowStride, rowLosses: r, rowLogSumExp: l,
                    rowArgmax: a)
            }
        }
    }

    /// The loss against soft targets with every per-row output, over spans.
    public func loss(
        logits: Span<Float>, targets: Span<Float>, classes: Int, rowStride: Int? = nil,
        rowLosses: inout MutableSpan<Float>, rowLogSumExp: inout MutableSpan<Float>, rowArgmax: inout MutableSpan<Int32>
    ) throws(XentError) -> Float {
        try Self.borrowRows(&rowLosses, &rowLogSumExp, &rowArgmax) { (r, l, a) throws(XentError) in
            try Self.borrow(logits, targets) { (z, q) throws(XentError) in
                try loss(logits: z, targets: q, classes: classes, rowStride: rowStride, rowLosses: r, rowLogSumExp: l, rowArgmax: a)
            }
        }
    }

    /// The loss against soft targets, its gradient and every per-row output, over spans.
    public func lossAndGradient(
        logits: Span<Float>, targets: Span<Float>, classes: Int, rowStride: Int? = nil,
        gradient: inout MutableSpan<Float>,
        rowLosses: inout MutableSpan<Float>, rowLogSumExp: inout MutableSpan<Float>, rowArgmax: inout MutableSpan<Int32>
    ) throws(XentError) -> Float {
        try Self.borrowRows(&rowLosses, &rowLogSumExp, &rowArgmax) { (r, l, a) throws(XentError) in
            try Self.borrow(logits, targets, &gradient) { (z, q, g) throws(XentError) in
                try lossAndGradient(
                    logits: z, targets: q, classes: classes, rowStride: rowStride, gradient: g, rowLosses: r,
                    rowLogSumExp: l, rowArgmax: a)
            }
        }
    }

    /// The loss against soft targets, the gradient written over `logits`, and every per-row
    /// output, over spans.
    public func lossAndGradient(
        inPlace logits: inout MutableSpan<Float>, targets: Span<Float>, classes: Int, rowStride: Int? = nil,
        rowLosses: inout MutableSpan<Float>, rowLogSumExp: inout MutableSpan<Float>, rowArgmax: inout MutableSpan<Int32>
    ) throws(XentError) -> Float {
        try Self.borrowRows(&rowLosses, &rowLogSumExp, &rowArgmax) { (r, l, a) throws(XentError) in
            try Self.borrow(targets, &logits) { (q, z) throws(XentError) in
                try lossAndGradient(
                    inPlace: z, targets: q, classes: classes, rowStride: rowStride, rowLosses: r, rowLogSumExp: l,
                    rowArgmax: a)
            }
        }
    }

    // MARK: Borrowing span memory

    private static func borrowRows(
        _ r: inout MutableSpan<Float>, _ l: inout MutableSpan<Float>, _ a: inout MutableSpan<Int32>,
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Int32>)
            throws(XentError) -> Float
    ) throws(XentError) -> Float {
        let result: Result<Float, XentError> = r.withUnsafeMutableBufferPointer { pr in
            l.withUnsafeMutableBufferPointer { pl in
                a.withUnsafeMutableBufferPointer { pa in Result { () throws(XentError) in try body(pr, pl, pa) } }
            }
        }
        return try result.get()
    }

    private static func borrow<A, B>(
        _ a: Span<A>, _ b: Span<B>,
        _ body: (UnsafeBufferPointer<A>, UnsafeBufferPointer<B>) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        let result: Result<Float, XentError> = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in Result { () throws(XentError) in try body(pa, pb) } }
        }
        return try result.get()
    }

    private static func borrow<A>(
        _ a: Span<A>, _ b: inout MutableSpan<Float>,
        _ body: (UnsafeBufferPointer<A>, UnsafeMutableBufferPointer<Float>) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        let result: Result<Float, XentError> = a.withUnsafeBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in Result { () throws(XentError) in try body(pa, pb) } }
        }
        return try result.get()
    }

    private static func borrow<A, B>(
        _ a: Span<A>, _ b: Span<B>, _ c: inout MutableSpan<Float>,
        _ body: (UnsafeBufferPointer<A>, UnsafeBufferPointer<B>, UnsafeMutableBufferPointer<Float>) throws(XentError) -> Float
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
