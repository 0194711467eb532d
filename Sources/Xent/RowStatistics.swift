// Per-row outputs: the arrays the safe entry points fill, the buffers the unsafe ones write.

/// What the entry points can report per row besides the reduced loss, filled in the same pass:
/// each row's loss, log-sum-exp and predicted class.
///
/// Pass one as `rowStatistics:` to any array or span entry point. The arrays it fills (all three
/// unless ``init(_:)`` names fewer) are resized to the row count when a call succeeds and left
/// alone when it throws, so a value reused across calls of the same shape allocates nothing.
/// Over unsafe buffers, ``Buffers`` names caller memory to write instead.
///
/// ```swift
/// let rows = RowStatistics()
/// let loss = try ce.lossAndGradient(logits: logits, labels: labels, classes: 10,
///                                   gradient: &gradient, rowStatistics: rows)
/// let accuracy = Double(try ce.correctPredictions(rowArgmax: rows.argmax, labels: labels))
///     / Double(labels.count(where: { $0 != ce.ignoreIndex }))   // the rows that take part
/// ```
///
/// It is a class so that one optional argument (`nil` by default) can carry it into a call and
/// back; a call writes its arrays, so it is not `Sendable`.
public final class RowStatistics {
    /// Which per-row outputs a ``RowStatistics`` fills.
    public struct Fields: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// ``RowStatistics/losses``.
        public static let losses = Fields(rawValue: 1)
        /// ``RowStatistics/logSumExp``.
        public static let logSumExp = Fields(rawValue: 2)
        /// ``RowStatistics/argmax``.
        public static let argmax = Fields(rawValue: 4)
        /// All three.
        public static let all: Fields = [.losses, .logSumExp, .argmax]
    }

    /// The outputs this value fills; the others stay empty.
    public let fields: Fields

    /// Each row's loss (0 for ignored rows, not divided by the reduction; with a z-loss,
    /// `ℓ + λ·lse²`; NaN for rows with NaN or +inf).
    public var losses: [Float] = []
    /// Each row's `lse = log Σ_j exp(z_j)` of the (transformed) logits (0 for ignored rows, NaN
    /// for rows with NaN or +inf). With it the z-loss part of the loss, `λ·Σ lse²`, is available
    /// separately.
    public var logSumExp: [Float] = []
    /// Each row's predicted class: the first index of its largest logit (−1 for ignored rows and
    /// rows with NaN or +inf). Asking for it with more than `Int32.max` classes throws
    /// ``XentError/argmaxOutOfRange(classes:)``.
    public var argmax: [Int32] = []

    /// Empty arrays, sized by the first call; `fields` chooses which are filled (all three by
    /// default; the argmax costs a compare per element).
    public init(_ fields: Fields = .all) {
        self.fields = fields
    }

    /// Where the unsafe-buffer entry points write per-row outputs: up to three caller buffers of
    /// `rows` elements each, any of them nil. See ``RowStatistics`` for what each receives.
    ///
    /// Passing none (the default) asks for no per-row output; ``SoftmaxCrossEntropy/reduction``
    /// `.none` needs ``losses``.
    public struct Buffers {
        /// Receives ``RowStatistics/losses``.
        public var losses: UnsafeMutableBufferPointer<Float>?
        /// Receives ``RowStatistics/logSumExp``.
        public var logSumExp: UnsafeMutableBufferPointer<Float>?
        /// Receives ``RowStatistics/argmax``.
        public var argmax: UnsafeMutableBufferPointer<Int32>?

        /// The buffers to write; nil ones are not computed (the argmax) or not stored.
        public init(
            losses: UnsafeMutableBufferPointer<Float>? = nil, logSumExp: UnsafeMutableBufferPointer<Float>? = nil,
            argmax: UnsafeMutableBufferPointer<Int32>? = nil
        ) {
            self.losses = losses
            self.logSumExp = logSumExp
            self.argmax = argmax
        }
    }
}

@available(*, unavailable)
extension RowStatistics: Sendable {}

extension RowStatistics {
    /// Runs `body` with buffers of `rows` elements for `statistics`' fields (none for nil). An
    /// array of the right count is written in place; otherwise a zero-filled one replaces it only
    /// if `body` succeeds, so an error leaves every array as it was.
    package static func filling(
        _ statistics: RowStatistics?, rows: Int, _ body: (Buffers) throws(XentError) -> Float
    ) throws(XentError) -> Float {
        guard let statistics else { return try body(Buffers()) }
        let fields = statistics.fields
        var losses = take(&statistics.losses, if: fields.contains(.losses), rows: rows)
        var logSumExp = take(&statistics.logSumExp, if: fields.contains(.logSumExp), rows: rows)
        var argmax = take(&statistics.argmax, if: fields.contains(.argmax), rows: rows)
        let result: Result<Float, XentError> = borrow(&losses, if: fields.contains(.losses)) { r in
            borrow(&logSumExp, if: fields.contains(.logSumExp)) { l in
                borrow(&argmax, if: fields.contains(.argmax)) { a in
                    Result { () throws(XentError) in try body(Buffers(losses: r, logSumExp: l, argmax: a)) }
                }
            }
        }
        let succeeded: Bool
        if case .success = result { succeeded = true } else { succeeded = false }
        give(losses.array, back: &statistics.losses, if: succeeded || losses.reused)
        give(logSumExp.array, back: &statistics.logSumExp, if: succeeded || logSumExp.reused)
        give(argmax.array, back: &statistics.argmax, if: succeeded || argmax.reused)
        return try result.get()
    }

    /// The array to write: `array` itself (moved out, so writing it copies nothing) when its
    /// count is right, else a zero-filled one.
    private static func take<T: Numeric>(
        _ array: inout [T], if wanted: Bool, rows: Int
    ) -> (array: [T], reused: Bool) {
        guard wanted else { return ([], false) }
        if array.count == rows {
            var moved: [T] = []
            swap(&moved, &array)
            return (moved, true)
        }
        return ([T](repeating: 0, count: Swift.max(rows, 0)), false)
    }

    private static func give<T>(_ array: [T], back destination: inout [T], if condition: Bool) {
        if condition { destination = array }
    }

    private static func borrow<T>(
        _ taken: inout (array: [T], reused: Bool), if wanted: Bool,
        _ body: (UnsafeMutableBufferPointer<T>?) -> Result<Float, XentError>
    ) -> Result<Float, XentError> {
        guard wanted else { return body(nil) }
        return taken.array.withUnsafeMutableBufferPointer { body($0) }
    }
}
