// Per-row outputs for the array entry points.

/// What the array entry points can report per row besides the reduced loss, filled in the same
/// pass: each row's loss, log-sum-exp and predicted class.
///
/// The arrays are resized to the row count when a call succeeds (and left alone when it throws),
/// so a value reused across calls of the same shape allocates nothing.
///
/// ```swift
/// var rows = RowStatistics()
/// let loss = try ce.lossAndGradient(logits: logits, labels: labels, classes: 10,
///                                   gradient: &gradient, rowStatistics: &rows)
/// let accuracy = Double(try ce.correctPredictions(rowArgmax: rows.argmax, labels: labels))
///     / Double(labels.count(where: { $0 != ce.ignoreIndex }))   // the rows that take part
/// ```
public struct RowStatistics: Sendable, Hashable {
    /// Each row's loss (0 for ignored rows, not divided by the reduction; with a z-loss,
    /// `ℓ + λ·lse²`; NaN for rows with NaN or +inf).
    public var losses: [Float]
    /// Each row's `lse = log Σ_j exp(z_j)` of the (transformed) logits (0 for ignored rows, NaN
    /// for rows with NaN or +inf).
    public var logSumExp: [Float]
    /// Each row's predicted class: the first index of its largest logit (−1 for ignored rows and
    /// rows with NaN or +inf).
    public var argmax: [Int32]

    /// Empty arrays, sized by the first call.
    public init() {
        losses = []
        logSumExp = []
        argmax = []
    }
}
