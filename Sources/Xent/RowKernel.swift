// The per-row interface the three kernels implement, and the parameter block's Swift side.
import CXent

extension xent_params {
    /// The logit scale and softcap the row's logits go through first.
    var transform: LogitTransform { LogitTransform(scale: logit_scale, cap: softcap) }

    /// These parameters with the logit scale's chain factor `s` folded into the two gradient
    /// scales (every gradient entry carries it); the softcap's factor varies per class and is the
    /// kernel's.
    var chained: xent_params {
        var params = self
        params.cross_entropy_gradient_scale *= Double(logit_scale)
        params.z_loss_gradient_scale *= Double(logit_scale)
        return params
    }
}

/// What a kernel found in one row: the cross-entropy part of its loss and its log-sum-exp
/// (both NaN for a row that holds NaN or +inf, or has every class masked).
///
/// A kernel may leave the row's `log S` to the batch (``Batch/runRows(_:_:weights:rowWeights:denominators:isa:threads:into:)``), which
/// takes it for many rows at once with SLEEF's vector log (`xent_f64_log`): `pendingSum` is then
/// S (never NaN: a row with a NaN sum is bad), `crossEntropy` lacks `logSumCoefficient · log S`
/// and `logSumExp` lacks `log S`.
struct RowResult {
    var crossEntropy: Double
    var logSumExp: Double
    /// The first index of the row's max when asked for (`xent_params.argmax`), else −1.
    var argmax: Int = -1
    /// S, whose log the batch still has to add; NaN when the row is complete (a `Double?` would
    /// make the row 48 bytes instead of 40).
    var pendingSum: Double = .nan
    /// What `log S` is multiplied by in the loss (the row's target mass).
    var logSumCoefficient: Double = 0
    static let bad = RowResult(crossEntropy: .nan, logSumExp: .nan)

    /// The row with `log S` added (`logSum`: the log of ``pendingSum``).
    @inline(__always)
    func completed(logSum: Double) -> RowResult {
        var row = self
        row.crossEntropy += logSumCoefficient * logSum
        row.logSumExp += logSum
        row.pendingSum = .nan
        return row
    }
}

/// One kernel's per-row arithmetic. The caller (``Batch/runRows(_:_:weights:rowWeights:denominators:isa:threads:into:)``) handles
/// ignored rows, NaN-filling of bad rows, per-row outputs, threads, the z-loss term of the loss
/// and the reduction, identically for every kernel.
///
/// When `gradient` is non-nil a kernel writes the row's gradient, scaled as `params` says, into it;
/// `gradient` may be `z` itself (in place), so a kernel reads whatever it needs from `z` before
/// it writes. `workers` > 1 allows a kernel to split the row itself across that many threads
/// (the results must not depend on it). `prefetchLimit` (≥ `classes`) is how many elements from the
/// row's start in `z`, `q` and `gradient` are memory the kernel may prefetch (CXent.h:
/// `XENT_PREFETCH_DISTANCE`).
///
/// With label smoothing α, class weights w (1 without) and `K` unmasked classes, a row's target
/// vector is `v_c = (1−α)·w_c·y_c + (α/K)·w_c·[c unmasked]` (`y` one-hot for a label), its
/// cross-entropy `ℓ = Σ_c v_c·(lse − z_c)` and its gradient
/// `g_j = (p_j·(p·Σv + pLse·lse) − p·v_j)·s·(1 − (z_j/c)²)`: `p` is `cross_entropy_gradient_scale`,
/// `pLse` is `z_loss_gradient_scale`, z the logits after the transform (s, c) of `params`.
protocol RowKernel {
    /// Called once per call, before any row, with the call's parameter block.
    mutating func prepare(_ params: xent_params, storage: Storage)

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label: Int,
        gradient: UnsafeMutablePointer<Float>?, params: xent_params, workers: Int, prefetchLimit: Int
    ) -> RowResult

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, params: xent_params, workers: Int, prefetchLimit: Int
    ) -> RowResult

    /// A 16-bit row computed by the kernel itself, or nil (the default) to let the batch widen
    /// the row into the workspace and call the `Float` methods there.
    func halfRow(_ row: HalfRow, params: xent_params, workers: Int) -> RowResult?

    /// Whether ``forwardLabelRow(_:classes:label:params:prefetchLimit:max:nextRow:)`` (`Float`) or
    /// ``forwardHalfLabelRow(_:params:max:nextRow:)`` (16-bit) takes the next row's max on the way,
    /// for rows of `classes` in `storage` (the default: false, and neither is called).
    func takesNextRowMax(classes: Int, storage: Storage) -> Bool

    /// A label row without a gradient, on one thread, where ``takesNextRowMax(classes:storage:)``: the
    /// result of ``labelRow(_:classes:label:gradient:params:workers:prefetchLimit:)``, and the max
    /// of `nextRow` (`classes` floats, the row the caller computes next, if any), taken on the way.
    /// `max` is the row's own max when the call before took it (`rmax`'s bits), else nil.
    func forwardLabelRow(
        _ z: UnsafePointer<Float>, classes: Int, label: Int, params: xent_params, prefetchLimit: Int, max: Float?,
        nextRow: UnsafePointer<Float>?
    ) -> (RowResult, nextRowMax: Float?)

    /// ``forwardLabelRow(_:classes:label:params:prefetchLimit:max:nextRow:)`` for a 16-bit row
    /// (its label given, no gradient): the result of ``halfRow(_:params:workers:)``, and the max of
    /// `nextRow` (`row.classes` 16-bit values) as a `Float`.
    func forwardHalfLabelRow(
        _ row: HalfRow, params: xent_params, max: Float?, nextRow: UnsafePointer<UInt16>?
    ) -> (RowResult, nextRowMax: Float?)
}

/// The max of the next row of a worker's block, taken by the row before
/// (``RowKernel/forwardLabelRow(_:classes:label:params:prefetchLimit:max:nextRow:)``,
/// ``RowKernel/forwardHalfLabelRow(_:params:max:nextRow:)``).
struct CarriedRowMax {
    /// The row whose max ``max`` is; −1 for none.
    var row = -1
    var max: Float = 0
}

/// One row of 16-bit storage, for a kernel that works on it directly (``RowKernel/halfRow(_:params:workers:)``).
struct HalfRow {
    let format: xent_half_format
    let logits: UnsafePointer<UInt16>
    /// Soft targets in the same format; nil for a label.
    let targets: UnsafePointer<UInt16>?
    let label: Int?
    let gradient: UnsafeMutablePointer<UInt16>?
    let classes: Int
    /// How many elements from the row's start in `logits`, `targets` and `gradient` are the
    /// caller's memory (≥ `classes`: the rest of the batch follows), which the kernels may prefetch.
    let prefetchLimit: Int
    /// `classes` floats (twice that with soft targets) the kernel may use, followed by
    /// ``workspacePadding`` more that it may prefetch.
    let workspace: UnsafeMutablePointer<Float>

    /// The floats after a row's workspace: the exp pass prefetches that far past what it works on.
    static let workspacePadding = Int(XENT_PREFETCH_DISTANCE)
}

extension RowKernel {
    mutating func prepare(_ params: xent_params, storage: Storage) {}

    /// A 16-bit row computed by the kernel itself, or nil to let the batch widen the whole row
    /// into the workspace, call ``labelRow(_:classes:label:gradient:params:workers:prefetchLimit:)`` or
    /// ``softRow(_:targets:classes:gradient:params:workers:prefetchLimit:)`` there and round the gradient back.
    /// A non-nil result for a bad row leaves the gradient to the caller, which NaN-fills it.
    func halfRow(_ row: HalfRow, params: xent_params, workers: Int) -> RowResult? { nil }

    func takesNextRowMax(classes: Int, storage: Storage) -> Bool { false }

    func forwardHalfLabelRow(
        _ row: HalfRow, params: xent_params, max: Float?, nextRow: UnsafePointer<UInt16>?
    ) -> (RowResult, nextRowMax: Float?) {
        preconditionFailure("called only where takesNextRowMax(classes:storage:) is true")
    }

    func forwardLabelRow(
        _ z: UnsafePointer<Float>, classes: Int, label: Int, params: xent_params, prefetchLimit: Int, max: Float?,
        nextRow: UnsafePointer<Float>?
    ) -> (RowResult, nextRowMax: Float?) {
        let row = labelRow(
            z, classes: classes, label: label, gradient: nil, params: params, workers: 1, prefetchLimit: prefetchLimit)
        return (row, nil)
    }
}
