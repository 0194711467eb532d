// The entry points over Swift arrays: borrow the storage, then call the unsafe-buffer versions.

extension SoftmaxCrossEntropy {
    /// The loss of `logits` against class labels; see
    /// ``loss(logits:labels:classes:rowStride:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_)``.
    public func loss<Label: ClassLabel>(logits: [Float], labels: [Label], classes: Int, rowStride: Int? = nil) throws(XentError) -> Float {
        try withBuffers(logits, labels) { (z, t) throws(XentError) in
            try loss(logits: z, labels: t, classes: classes, rowStride: rowStride)
        }
    }

    /// The loss against class labels with per-row losses; `rowLosses` is resized to
    /// `labels.count` if needed (after validation), so a reused array allocates nothing.
    public func loss<Label: ClassLabel>(
        logits: [Float], labels: [Label], classes: Int, rowStride: Int? = nil, rowLosses: inout [Float]
    ) throws(XentError) -> Float {
        try withBuffers(logits, labels) { (z, t) throws(XentError) in
            try Self.withOutput(&rowLosses, count: labels.count) { (r) throws(XentError) in
                try loss(logits: z, labels: t, classes: classes, rowStride: rowStride, rowLosses: r)
            }
        }
    }

    /// The loss against class labels and its gradient; `gradient` is resized to `logits.count`
    /// if needed. See
    /// ``lossAndGradient(logits:labels:classes:rowStride:gradient:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_,_)``.
    public func lossAndGradient<Label: ClassLabel>(
        logits: [Float], labels: [Label], classes: Int, rowStride: Int? = nil, gradient: inout [Float]
    ) throws(XentError) -> Float {
        try withBuffers(logits, labels) { (z, t) throws(XentError) in
            try Self.withOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                try lossAndGradient(logits: z, labels: t, classes: classes, rowStride: rowStride, gradient: g)
            }
        }
    }

    /// The loss against class labels, its gradient and the per-row losses.
    public func lossAndGradient<Label: ClassLabel>(
        logits: [Float], labels: [Label], classes: Int, rowStride: Int? = nil, gradient: inout [Float],
        rowLosses: inout [Float]
    ) throws(XentError) -> Float {
        try withBuffers(logits, labels) { (z, t) throws(XentError) in
            try Self.withOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                try Self.withOutput(&rowLosses, count: labels.count) { (r) throws(XentError) in
                    try lossAndGradient(logits: z, labels: t, classes: classes, rowStride: rowStride, gradient: g, rowLosses: r)
                }
            }
        }
    }

    /// The loss against class labels, with the gradient written over `logits`.
    public func lossAndGradient<Label: ClassLabel>(
        inPlace logits: inout [Float], labels: [Label], classes: Int, rowStride: Int? = nil
    ) throws(XentError) -> Float {
        try Self.withOutput(&logits, count: logits.count) { (z) throws(XentError) in
            try Self.withInput(labels) { (t) throws(XentError) in
                try lossAndGradient(inPlace: z, labels: t, classes: classes, rowStride: rowStride)
            }
        }
    }

    /// The loss against soft targets; see
    /// ``loss(logits:targets:classes:rowStride:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_)``.
    public func loss(logits: [Float], targets: [Float], classes: Int, rowStride: Int? = nil) throws(XentError) -> Float {
        try withBuffers(logits, targets) { (z, q) throws(XentError) in
            try loss(logits: z, targets: q, classes: classes, rowStride: rowStride)
        }
    }

    /// The loss against soft targets with per-row losses (resized to the row count if needed).
    public func loss(
        logits: [Float], targets: [Float], classes: Int, rowStride: Int? = nil, rowLosses: inout [Float]
    ) throws(XentError) -> Float {
        let rows = (rowStride ?? classes) > 0 ? logits.count / (rowStride ?? classes) : 0
        return try withBuffers(logits, targets) { (z, q) throws(XentError) in
            try Self.withOutput(&rowLosses, count: rows) { (r) throws(XentError) in
                try loss(logits: z, targets: q, classes: classes, rowStride: rowStride, rowLosses: r)
            }
        }
    }

    /// The loss against soft targets and its gradient (resized to `logits.count` if needed).
    public func lossAndGradient(
        logits: [Float], targets: [Float], classes: Int, rowStride: Int? = nil, gradient: inout [Float]
    ) throws(XentError) -> Float {
        try withBuffers(logits, targets) { (z, q) throws(XentError) in
            try Self.withOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                try lossAndGradient(logits: z, targets: q, classes: classes, rowStride: rowStride, gradient: g)
            }
        }
    }

    /// The loss against soft targets, its gradient and the per-row losses (both resized if needed).
    public func lossAndGradient(
        logits: [Float], targets: [Float], classes: Int, rowStride: Int? = nil, gradient: inout [Float],
        rowLosses: inout [Float]
    ) throws(XentError) -> Float {
        let rows = (rowStride ?? classes) > 0 ? logits.count / (rowStride ?? classes) : 0
        return try withBuffers(logits, targets) { (z, q) throws(XentError) in
            try Self.withOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                try Self.withOutput(&rowLosses, count: rows) { (r) throws(XentError) in
                    try lossAndGradient(logits: z, targets: q, classes: classes, rowStride: rowStride, gradient: g, rowLosses: r)
                }
            }
        }
    }

    /// The loss against soft targets, with the gradient written over `logits`.
    public func lossAndGradient(
        inPlace logits: inout [Float], targets: [Float], classes: Int, rowStride: Int? = nil
    ) throws(XentError) -> Float {
        try Self.withOutput(&logits, count: logits.count) { (z) throws(XentError) in
            try Self.withInput(targets) { (q) throws(XentError) in
                try lossAndGradient(inPlace: z, targets: q, classes: classes, rowStride: rowStride)
            }
        }
    }

    // MARK: Per-row statistics

    /// The loss against class labels, with every per-row output filled in the same pass:
    /// `rowStatistics`' arrays are resized to `labels.count` if needed (after validation).
    public func loss<Label: ClassLabel>(
        logits: [Float], labels: [Label], classes: Int, rowStride: Int? = nil,
        rowStatistics: inout RowStatistics
    ) throws(XentError) -> Float {
        try withBuffers(logits, labels) { (z, t) throws(XentError) in
            try Self.withStatistics(&rowStatistics, rows: labels.count) { (r, l, a) throws(XentError) in
                try loss(logits: z, labels: t, classes: classes, rowStride: rowStride, rowLosses: r, rowLogSumExp: l, rowArgmax: a)
            }
        }
    }

    /// The loss against class labels, its gradient, and every per-row output.
    public func lossAndGradient<Label: ClassLabel>(
        logits: [Float], labels: [Label], classes: Int, rowStride: Int? = nil, gradient: inout [Float],
        rowStatistics: inout RowStatistics
    ) throws(XentError) -> Float {
        try withBuffers(logits, labels) { (z, t) throws(XentError) in
            try Self.withOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                try Self.withStatistics(&rowStatistics, rows: labels.count) { (r, l, a) throws(XentError) in
                    try lossAndGradient(
                        logits: z, labels: t, classes: classes, rowStride: rowStride, gradient: g, rowLosses: r,
                        rowLogSumExp: l, rowArgmax: a)
                }
            }
        }
    }

    /// The loss against class labels, the gradient written over `logits`, and every per-row
    /// output (the argmax is that of the logits, found before they are overwritten).
    public func lossAndGradient<Label: ClassLabel>(
        inPlace logits: inout [Float], labels: [Label], classes: Int, rowStride: Int? = nil,
        rowStatistics: inout RowStatistics
    ) throws(XentError) -> Float {
        try Self.withOutput(&logits, count: logits.count) { (z) throws(XentError) in
            try Self.withInput(labels) { (t) throws(XentError) in
                try Self.withStatistics(&rowStatistics, rows: labels.count) { (r, l, a) throws(XentError) in
                    try lossAndGradient(
                        inPlace: z, labels: t, classes: classes, rowStride: rowStride, rowLosses: r, rowLogSumExp: l,
                        rowArgmax: a)
                }
            }
        }
    }

    /// The loss against soft targets, with every per-row output.
    public func loss(
        logits: [Float], targets: [Float], classes: Int, rowStride: Int? = nil, rowStatistics: inout RowStatistics
    ) throws(XentError) -> Float {
        let rows = (rowStride ?? classes) > 0 ? logits.count / (rowStride ?? classes) : 0
        return try withBuffers(logits, targets) { (z, q) throws(XentError) in
            try Self.withStatistics(&rowStatistics, rows: rows) { (r, l, a) throws(XentError) in
                try loss(logits: z, targets: q, classes: classes, rowStride: rowStride, rowLosses: r, rowLogSumExp: l, rowArgmax: a)
            }
        }
    }

    /// The loss against soft targets, its gradient, and every per-row output.
    public func lossAndGradient(
        logits: [Float], targets: [Float], classes: Int, rowStride: Int? = nil, gradient: inout [Float],
        rowStatistics: inout RowStatistics
    ) throws(XentError) -> Float {
        let rows = (rowStride ?? classes) > 0 ? logits.count / (rowStride ?? classes) : 0
        return try withBuffers(logits, targets) { (z, q) throws(XentError) in
            try Self.withOutput(&gradient, count: logits.count) { (g) throws(XentError) in
                try Self.withStatistics(&rowStatistics, rows: rows) { (r, l, a) throws(XentError) in
                    try lossAndGradient(
                        logits: z, targets: q, classes: classes, rowStride: rowStride, gradient: g, rowLosses: r,
                        rowLogSumExp: l, rowArgmax: a)
                }
            }
        }
    }

    /// The loss against soft targets, the gradient written over `logits`, and every per-row output.
    public func lossAndGradient(
        inPlace logits: inout [Float], targets: [Float], classes: Int, rowStride: Int? = nil,
        rowStatistics: inout RowStatistics
    ) throws(XentError) -> Float {
        let rows = (rowStride ?? classes) > 0 ? logits.count / (rowStride ?? classes) : 0
        return try Self.withOutput(&logits, count: logits.count) { (z) throws(XentError) in
            try Self.withInput(targets) { (q) throws(XentError) in
                try Self.withStatistics(&rowStatistics, rows: rows) { (r, l, a) throws(XentError) in
                    try lossAndGradient(
                        inPlace: z, targets: q, classes: classes, rowStride: rowStride, rowLosses: r, rowLogSumExp: l,
                        rowArgmax: a)
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

    private static func withStatistics(
        _ statistics: inout RowStatistics, rows: Int,
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Int32>)
            throws(XentError) -> Float
    ) throws(XentError) -> Float {
        try withOutput(&statistics.losses, count: rows) { (r) throws(XentError) in
            try withOutput(&statistics.logSumExp, count: rows) { (l) throws(XentError) in
                try withOutput(&statistics.argmax, count: rows) { (a) throws(XentError) in try body(r, l, a) }
            }
        }
    }

    // MARK: Borrowing array storage

    private func withBuffers<A, B>(
        _ a: [A], _ b: [B],
        _ body: (UnsafeBufferPointer<A>, UnsafeBufferPointer<B>) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        try Self.withInput(a) { (pa) throws(XentError) in
            try Self.withInput(b) { (pb) throws(XentError) in try body(pa, pb) }
        }
    }

    private static func withInput<A>(
        _ a: [A], _ body: (UnsafeBufferPointer<A>) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        let result: Result<Float, XentError> = a.withUnsafeBufferPointer { p in
            Result { () throws(XentError) in try body(p) }
        }
        return try result.get()
    }

    /// Borrows `array` mutably; when its count differs from `count`, a zero-filled array of
    /// `count` elements replaces it only if the call succeeds, so an error leaves it untouched.
    private static func withOutput<Element: Numeric>(
        _ array: inout [Element], count: Int,
        _ body: (UnsafeMutableBufferPointer<Element>) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        if array.count == count {
            let result: Result<Float, XentError> = array.withUnsafeMutableBufferPointer { p in
                Result { () throws(XentError) in try body(p) }
            }
            return try result.get()
        }
        var fresh = [Element](repeating: 0, count: Swift.max(count, 0))
        let result: Result<Float, XentError> = fresh.withUnsafeMutableBufferPointer { p in
            Result { () throws(XentError) in try body(p) }
        }
        let value = try result.get()
        array = fresh
        return value
    }
}
