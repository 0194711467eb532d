// The fused linear head over Swift arrays: borrow the storage, then call the unsafe-buffer versions.
import Xent

/// The gradients a ``LinearCrossEntropy`` call over arrays fills: `∂H`, `∂W` and `∂b`, or fewer.
///
/// The arrays are sized by the call (`rows × hidden`, `classes × hidden`, `classes`) when it
/// succeeds and left alone when it throws. With `accumulate: true` the call adds to ``weight`` and
/// ``bias`` (micro-batches): an empty array starts from zeros, one of another count is refused.
/// A class, like `RowStatistics`, so that one argument carries the arrays in and out.
public final class LinearGradients {
    /// Which gradients a ``LinearGradients`` receives.
    public struct Fields: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// ``LinearGradients/hidden``.
        public static let hidden = Fields(rawValue: 1)
        /// ``LinearGradients/weight``.
        public static let weight = Fields(rawValue: 2)
        /// ``LinearGradients/bias``.
        public static let bias = Fields(rawValue: 4)
        /// All three.
        public static let all: Fields = [.hidden, .weight, .bias]
    }

    /// The gradients this value receives; the others stay empty and are not computed.
    public let fields: Fields
    /// `∂loss/∂H`, `rows × hidden`.
    public var hidden: [Float] = []
    /// `∂loss/∂W`, `classes × hidden`.
    public var weight: [Float] = []
    /// `∂loss/∂b`, `classes`.
    public var bias: [Float] = []

    /// Empty arrays, sized by the first call; `fields` chooses which are computed.
    public init(_ fields: Fields = .all) {
        self.fields = fields
    }
}

extension LinearCrossEntropy {
    /// The loss against class labels, over arrays; see
    /// ``loss(hidden:weight:bias:labels:classes:rowStatistics:)-(UnsafeBufferPointer<Float>,_,_,_,_,_)``.
    public func loss<Label: ClassLabel>(
        hidden: [Float], weight: [Float], bias: [Float]? = nil, labels: [Label], classes: Int,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        try lossAndGradients(
            hidden: hidden, weight: weight, bias: bias, labels: labels, classes: classes,
            gradients: LinearGradients([]), rowStatistics: rowStatistics)
    }

    /// The loss against class labels and the gradients `gradients` asks for, over arrays; see
    /// ``lossAndGradients(hidden:weight:bias:labels:classes:gradients:rowStatistics:filterReport:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_,_)``.
    /// With `accumulate`, `∂W` and `∂b` are added to the arrays' contents.
    public func lossAndGradients<Label: ClassLabel>(
        hidden: [Float], weight: [Float], bias: [Float]? = nil, labels: [Label], classes: Int,
        gradients: LinearGradients, accumulate: Bool = false, rowStatistics: RowStatistics? = nil,
        filterReport: GradientFilterReport? = nil
    ) throws(XentError) -> Float {
        try borrowing(
            hidden: hidden, weight: weight, bias: bias, rows: labels.count, classes: classes, gradients: gradients,
            accumulate: accumulate, rowStatistics: rowStatistics, rowSource: ("labels", 1)
        ) { (h, w, b, g, r) throws(XentError) in
            try SoftmaxCrossEntropy.borrow(labels) { (t) throws(XentError) in
                try lossAndGradients(
                    hidden: h, weight: w, bias: b, labels: t, classes: classes, gradients: g, rowStatistics: r,
                    filterReport: filterReport)
            }
        }
    }

    /// The loss against soft targets (`rows × classes`), over arrays; see
    /// ``loss(hidden:weight:bias:targets:classes:rowStatistics:)-(UnsafeBufferPointer<Float>,_,_,_,_,_)``.
    public func loss(
        hidden: [Float], weight: [Float], bias: [Float]? = nil, targets: [Float], classes: Int,
        rowStatistics: RowStatistics? = nil
    ) throws(XentError) -> Float {
        try lossAndGradients(
            hidden: hidden, weight: weight, bias: bias, targets: targets, classes: classes,
            gradients: LinearGradients([]), rowStatistics: rowStatistics)
    }

    /// The loss against soft targets and the gradients `gradients` asks for, over arrays; see
    /// ``lossAndGradients(hidden:weight:bias:targets:classes:gradients:rowStatistics:filterReport:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_,_)``.
    public func lossAndGradients(
        hidden: [Float], weight: [Float], bias: [Float]? = nil, targets: [Float], classes: Int,
        gradients: LinearGradients, accumulate: Bool = false, rowStatistics: RowStatistics? = nil,
        filterReport: GradientFilterReport? = nil
    ) throws(XentError) -> Float {
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        return try borrowing(
            hidden: hidden, weight: weight, bias: bias, rows: targets.count / classes, classes: classes,
            gradients: gradients, accumulate: accumulate, rowStatistics: rowStatistics, rowSource: ("targets", classes)
        ) { (h, w, b, g, r) throws(XentError) in
            try SoftmaxCrossEntropy.borrow(targets) { (q) throws(XentError) in
                try lossAndGradients(
                    hidden: h, weight: w, bias: b, targets: q, classes: classes, gradients: g, rowStatistics: r,
                    filterReport: filterReport)
            }
        }
    }

    /// Borrows every array for one call; the gradient arrays get the sizes the shape implies (an
    /// accumulated one must be empty or of that size already).
    private func borrowing(
        hidden: [Float], weight: [Float], bias: [Float]?, rows: Int, classes: Int, gradients: LinearGradients,
        accumulate: Bool, rowStatistics: RowStatistics?, rowSource: (name: String, perRow: Int),
        _ body: (
            UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>?, LinearGradientBuffers,
            RowStatistics.Buffers
        ) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        // The shape is checked before any gradient array is sized from it: a `classes` the call refuses
        // would otherwise be allocated for (or overflow `classes × d`) first. Where it is refused (or
        // below one row or class) no gradient array is sized, and the call on the buffers throws its
        // own first error, as it would given the arrays' buffers.
        var d = 0
        var refusal: XentError? = nil
        var fields: LinearGradients.Fields = []
        if rows >= 1 && classes >= 1 {
            do throws(XentError) {
                d = try LinearHead.hiddenSize(
                    rows: rows, classes: classes, hiddenCount: hidden.count, weightCount: weight.count,
                    biasCount: bias?.count, rowSource: rowSource)
                fields = gradients.fields
            } catch {
                refusal = error
            }
        }
        if accumulate {
            if fields.contains(.weight), !gradients.weight.isEmpty, gradients.weight.count != classes * d {
                throw .lengthMismatch(
                    argument: "gradients.weight", expected: classes * d, actual: gradients.weight.count)
            }
            if fields.contains(.bias), !gradients.bias.isEmpty, gradients.bias.count != classes {
                throw .lengthMismatch(argument: "gradients.bias", expected: classes, actual: gradients.bias.count)
            }
        }
        return try SoftmaxCrossEntropy.borrow(hidden) { (h) throws(XentError) in
            try SoftmaxCrossEntropy.borrow(weight) { (w) throws(XentError) in
                try Self.borrowOptional(bias) { (b) throws(XentError) in
                    try Self.output(&gradients.hidden, fields.contains(.hidden), count: rows * d) {
                        (gh) throws(XentError) in
                        try Self.output(&gradients.weight, fields.contains(.weight), count: classes * d) {
                            (gw) throws(XentError) in
                            try Self.output(&gradients.bias, fields.contains(.bias), count: classes) {
                                (gb) throws(XentError) in
                                try RowStatistics.filling(rowStatistics, rows: rows) { (r) throws(XentError) in
                                    let loss = try body(
                                        h, w, b,
                                        LinearGradientBuffers(hidden: gh, weight: gw, bias: gb, accumulate: accumulate),
                                        r)
                                    // The call checks the same shape, so it has thrown already.
                                    if let refusal { throw refusal }
                                    return loss
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func borrowOptional<R>(
        _ array: [Float]?, _ body: (UnsafeBufferPointer<Float>?) throws(XentError) -> R
    ) throws(XentError) -> R {
        guard let array else { return try body(nil) }
        return try SoftmaxCrossEntropy.borrow(array) { (p) throws(XentError) in try body(p) }
    }

    private static func output<R>(
        _ array: inout [Float], _ wanted: Bool, count: Int,
        _ body: (UnsafeMutableBufferPointer<Float>?) throws(XentError) -> R
    ) throws(XentError) -> R {
        guard wanted else { return try body(nil) }
        return try SoftmaxCrossEntropy.borrowOutput(&array, count: count) { (p) throws(XentError) in try body(p) }
    }
}
