// How per-row losses (and gradient rows) are combined into the returned loss.

/// How ``SoftmaxCrossEntropy`` combines per-row losses, as PyTorch's `reduction` argument.
///
/// Per-row losses are always added in `Double`, in row order, so the result does not depend on
/// the thread count (nor, for the `.vector` kernel, on which of AVX-512F, AVX2+FMA and AdvSIMD it
/// runs on: NUMERICS.md "Determinism").
public enum Reduction: Sendable, Hashable, CaseIterable {
    /// No reduction: the per-row losses go to the caller's ``RowStatistics/losses`` (required), the
    /// returned value is their sum, and gradient rows are not scaled.
    case none
    /// The sum of the per-row losses; gradient rows are not scaled.
    case sum
    /// The sum of the per-row losses divided by the number of rows that take part (rows whose
    /// label is not the ignore index; every row for soft targets) — with class labels and class
    /// weights by the sum of those rows' label weights, with row weights each row counted `r_i`
    /// times (as PyTorch's weighted mean; <doc:OptionsAndFormulas>); ``SoftmaxCrossEntropy/divisor``
    /// replaces the cross-entropy part's denominator. The gradient is divided the same way. A batch
    /// in which every row is ignored (or whose denominator is 0) has loss 0 and a zero gradient
    /// (PyTorch gives NaN there) — unless a row holds NaN or +inf, whose NaN still shows.
    case mean
}
