// The entry points over 16-bit logits (Float16, BFloat16): validate once, widen row by row.

extension SoftmaxCrossEntropy {
    /// The loss of 16-bit `logits` against class labels, computed in `Float`.
    ///
    /// As ``loss(logits:labels:classes:rowStride:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_)`` for `Float`
    /// logits, with every option; each row is widened into a per-thread `Float` workspace
    /// (`classes` floats per thread, twice that with soft targets, allocated once per call and
    /// reused row after row). See
    /// ``HalfPrecisionFloat`` for the accuracy.
    public func loss<Element: HalfPrecisionFloat, Label: ClassLabel>(
        logits: UnsafeBufferPointer<Element>, labels: UnsafeBufferPointer<Label>, classes: Int, rowStride: Int? = nil,
        rowLosses: UnsafeMutableBufferPointer<Float>? = nil,
        rowLogSumExp: UnsafeMutableBufferPointer<Float>? = nil,
        rowArgmax: UnsafeMutableBufferPointer<Int32>? = nil
    ) throws(XentError) -> Float {
        let batch = try Batch(
            logits: logits, labels: labels, classes: classes, rowStride: rowStride, ignoreIndex: ignoreIndex,
            gradient: nil, rowLosses: rowLosses, rowLogSumExp: rowLogSumExp, rowArgmax: rowArgmax,
            reduction: reduction, storage: Self.halfStorage(Element.self))
        return try evaluate(batch)
    }

    /// The loss of 16-bit `logits` against class labels and its gradient, written in the same
    /// format: formed in `Float` (the label's `p_t − 1` too) and rounded once.
    ///
    /// Parameters as in
    /// ``lossAndGradient(logits:labels:classes:rowStride:gradient:rowLosses:rowLogSumExp:rowArgmax:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_,_)``.
    public func lossAndGradient<Element: HalfPrecisionFloat, Label: ClassLabel>(
        logits: UnsafeBufferPointer<Element>, labels: UnsafeBufferPointer<Label>, classes: Int, rowStride: Int? = nil,
        gradient: UnsafeMutableBufferPointer<Element>, rowLosses: UnsafeMutableBufferPointer<Float>? = nil,
        rowLogSumExp: UnsafeMutableBufferPointer<Float>? = nil,
        rowArgmax: UnsafeMutableBufferPointer<Int32>? = nil
    ) throws(XentError) -> Float {
        let batch = try Batch(
            logits: logits, labels: labels, classes: classes, rowStride: rowStride, ignoreIndex: ignoreIndex,
            gradient: gradient, rowLosses: rowLosses, rowLogSumExp: rowLogSumExp, rowArgmax: rowArgmax,
            reduction: reduction, storage: Self.halfStorage(Element.self))
        return try evaluate(batch)
    }

    /// The loss of 16-bit logits against class labels, with the gradient written over them.
    public func lossAndGradient<Element: HalfPrecisionFloat, Label: ClassLabel>(
        inPlace logits: UnsafeMutableBufferPointer<Element>, labels: UnsafeBufferPointer<Label>,
        classes: Int, rowStride: Int? = nil, rowLosses: UnsafeMutableBufferPointer<Float>? = nil,
        rowLogSumExp: UnsafeMutableBufferPointer<Float>? = nil,
        rowArgmax: UnsafeMutableBufferPointer<Int32>? = nil
    ) throws(XentError) -> Float {
        try lossAndGradient(
            logits: UnsafeBufferPointer(logits), labels: labels, classes: classes, rowStride: rowStride,
            gradient: logits, rowLosses: rowLosses, rowLogSumExp: rowLogSumExp, rowArgmax: rowArgmax)
    }

    /// The loss of 16-bit `logits` against soft targets in the same format, computed in `Float`
    /// (both are widened row by row).
    public func loss<Element: HalfPrecisionFloat>(
        logits: UnsafeBufferPointer<Element>, targets: UnsafeBufferPointer<Element>, classes: Int, rowStride: Int? = nil,
        rowLosses: UnsafeMutableBufferPointer<Float>? = nil,
        rowLogSumExp: UnsafeMutableBufferPointer<Float>? = nil,
        rowArgmax: UnsafeMutableBufferPointer<Int32>? = nil
    ) throws(XentError) -> Float {
        let batch = try Batch(
            logits: logits, targets: targets, classes: classes, rowStride: rowStride, gradient: nil, rowLosses: rowLosses,
            rowLogSumExp: rowLogSumExp, rowArgmax: rowArgmax, reduction: reduction,
            storage: Self.halfStorage(Element.self))
        return try evaluate(batch)
    }

    /// The loss of 16-bit `logits` against soft targets and its gradient in the same format.
    public func lossAndGradient<Element: HalfPrecisionFloat>(
        logits: UnsafeBufferPointer<Element>, targets: UnsafeBufferPointer<Element>, classes: Int, rowStride: Int? = nil,
        gradient: UnsafeMutableBufferPointer<Element>, rowLosses: UnsafeMutableBufferPointer<Float>? = nil,
        rowLogSumExp: UnsafeMutableBufferPointer<Float>? = nil,
        rowArgmax: UnsafeMutableBufferPointer<Int32>? = nil
    ) throws(XentError) -> Float {
        let batch = try Batch(
            logits: logits, targets: targets, classes: classes, rowStride: rowStride, gradient: gradient,
            rowLosses: rowLosses, rowLogSumExp: rowLogSumExp, rowArgmax: rowArgmax, reduction: reduction,
            storage: Self.halfStorage(Element.self))
        return try evaluate(batch)
    }

    /// The loss of 16-bit logits against soft targets, with the gradient written over them.
    public func lossAndGradient<Element: HalfPrecisionFloat>(
        inPlace logits: UnsafeMutableBufferPointer<Element>, targets: UnsafeBufferPointer<Element>,
        classes: Int, rowStride: Int? = nil, rowLosses: UnsafeMutableBufferPointer<Float>? = nil,
        rowLogSumExp: UnsafeMutableBufferPointer<Float>? = nil,
        rowArgmax: UnsafeMutableBufferPointer<Int32>? = nil
    ) throws(XentError) -> Float {
        try lossAndGradient(
            logits: UnsafeBufferPointer(logits), targets: targets, classes: classes, rowStride: rowStride,
            gradient: logits, rowLosses: rowLosses, rowLogSumExp: rowLogSumExp, rowArgmax: rowArgmax)
    }

    /// The batch storage of a 16-bit type; a conformance that is not 2 bytes is a programming
    /// error (only `Float16` and ``BFloat16`` are supported).
    private static func halfStorage<Element: HalfPrecisionFloat>(_: Element.Type) -> Storage {
        precondition(
            MemoryLayout<Element>.size == 2 && MemoryLayout<Element>.stride == 2,
            "HalfPrecisionFloat: \(Element.self) is not a 2-byte type")
        return .half(Element.halfPrecisionFormat.cValue)
    }
}
