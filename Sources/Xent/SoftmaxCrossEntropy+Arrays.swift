// The entry points over Swift arrays: borrow the storage, then call the unsafe-buffer versions.

extension SoftmaxCrossEntropy {
    /// The loss of `logits` against class labels, over arrays; see
    /// ``loss(logits:labels:classes:rowStride:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_)``.
    ///
    /// `rowStatistics`, when given, receives every per-row output it asks for, its arrays resized
    /// to the row count if needed (after validation), so a reused value allocates nothing.
    public func loss<Element: LogitElement, Label: ClassLabel>(
        logits: [Element], labels: [Label], classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: labels.count, classes: classes, rowStride: rowStride)
        return try Self.borrow(logits) { (z) throws(XentError) in
            try Self.borrow(labels) { (t) throws(XentError) in
                try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
                    try loss(logits: z, labels: t, classes: classes, rowStride: rowStride, rowStatistics: r)
                }
            }
        }
    }

    /// The loss against class labels and its gradient, over arrays; `gradient` is resized to
    /// `logits.count` if needed. See
    /// ``lossAndGradient(logits:labels:classes:rowStride:gradient:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_,_)``.
    public func lossAndGradient<Element: LogitElement, Label: ClassLabel>(
        logits: [Element], labels: [Label], classes: Int, rowStride: Int? = nil, gradient: inout [Element],
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: labels.count, classes: classes, rowStride: rowStride)
        return try Self.borrow(logits) { (z) throws(XentError) in
            try Self.borrow(labels) { (t) throws(XentError) in
                try Self.borrowOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                    try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
                        try lossAndGradient(
                            logits: z, labels: t, classes: classes, rowStride: rowStride, gradient: g, rowStatistics: r)
                    }
                }
            }
        }
    }

    /// The loss against class labels, with the gradient written over `logits` (the argmax is
    /// that of the logits, found before they are overwritten).
    public func lossAndGradient<Element: LogitElement, Label: ClassLabel>(
        inPlace logits: inout [Element], labels: [Label], classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: labels.count, classes: classes, rowStride: rowStride)
        return try Self.borrowOutput(&logits, count: logits.count) { (z) throws(XentError) in
            try Self.borrow(labels) { (t) throws(XentError) in
                try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
                    try lossAndGradient(inPlace: z, labels: t, classes: classes, rowStride: rowStride, rowStatistics: r)
                }
            }
        }
    }

    /// The loss against soft targets, over arrays; see
    /// ``loss(logits:targets:classes:rowStride:rowStatistics:)-(UnsafeBufferPointer<Element>,_,_,_,_)``.
    public func loss<Element: LogitElement>(
        logits: [Element], targets: [Element], classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: nil, classes: classes, rowStride: rowStride)
        return try Self.borrow(logits) { (z) throws(XentError) in
            try Self.borrow(targets) { (q) throws(XentError) in
                try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
                    try loss(logits: z, targets: q, classes: classes, rowStride: rowStride, rowStatistics: r)
                }
            }
        }
    }

    /// The loss against soft targets and its gradient, over arrays (`gradient` resized to
    /// `logits.count` if needed).
    public func lossAndGradient<Element: LogitElement>(
        logits: [Element], targets: [Element], classes: Int, rowStride: Int? = nil, gradient: inout [Element],
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: nil, classes: classes, rowStride: rowStride)
        return try Self.borrow(logits) { (z) throws(XentError) in
            try Self.borrow(targets) { (q) throws(XentError) in
                try Self.borrowOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                    try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
                        try lossAndGradient(
                            logits: z, targets: q, classes: classes, rowStride: rowStride, gradient: g,
                            rowStatistics: r)
                    }
                }
            }
        }
    }

    /// The loss against soft targets, with the gradient written over `logits`.
    public func lossAndGradient<Element: LogitElement>(
        inPlace logits: inout [Element], targets: [Element], classes: Int, rowStride: Int? = nil,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        let rows = try Batch.rowCount(
            logitsCount: logits.count, labelCount: nil, classes: classes, rowStride: rowStride)
        return try Self.borrowOutput(&logits, count: logits.count) { (z) throws(XentError) in
            try Self.borrow(targets) { (q) throws(XentError) in
                try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
                    try lossAndGradient(
                        inPlace: z, targets: q, classes: classes, rowStride: rowStride, rowStatistics: r)
                }
            }
        }
    }

    /// The rows whose predicted class (``RowStatistics/argmax``) equals their label, ignoring
    /// rows whose label is ``ignoreIndex``: the numerator of token accuracy.
    public func correctPredictions<Label: ClassLabel>(rowArgmax: [Int32], labels: [Label]) throws(XentError) -> Int {
        let result: Result<Int, XentError> = rowArgmax.withUnsafeBufferPointer { a in
            labels.withUnsafeBufferPointer { t in
                Result { () throws(XentError) in try correctPredictions(rowArgmax: a, labels: t) }
            }
        }
        return try result.get()
    }

    // MARK: Borrowing array storage

    package static func borrow<A, R>(
        _ a: [A], _ body: (UnsafeBufferPointer<A>) throws(XentError) -> R
    ) throws(XentError) -> R {
        let result: Result<R, XentError> = a.withUnsafeBufferPointer { p in
            Result { () throws(XentError) in try body(p) }
        }
        return try result.get()
    }

    /// Borrows `array` mutably; when its count differs from `count`, a zero-filled array of
    /// `count` elements replaces it only if the call succeeds, so an error leaves it untouched.
    package static func borrowOutput<Element: BitwiseCopyable, R>(
        _ array: inout [Element], count: Int,
        _ body: (UnsafeMutableBufferPointer<Element>) throws(XentError) -> R
    ) throws(XentError) -> R {
        if array.count == count {
            let result: Result<R, XentError> = array.withUnsafeMutableBufferPointer { p in
                Result { () throws(XentError) in try body(p) }
            }
            return try result.get()
        }
        // All-zero bits: +0 in Float, Float16 and BFloat16 alike.
        let fill = Swift.max(count, 0)
        var fresh = [Element](unsafeUninitializedCapacity: fill) { buffer, initialized in
            if let base = buffer.baseAddress {
                UnsafeMutableRawPointer(base).initializeMemory(
                    as: UInt8.self, repeating: 0, count: fill * MemoryLayout<Element>.stride)
            }
            initialized = fill
        }
        let result: Result<R, XentError> = fresh.withUnsafeMutableBufferPointer { p in
            Result { () throws(XentError) in try body(p) }
        }
        let value = try result.get()
        array = fresh
        return value
    }
}
