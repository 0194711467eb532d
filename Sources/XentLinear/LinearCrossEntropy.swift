// The fused linear head's configuration and its entry points over unsafe buffers.
import Xent

/// Softmax cross-entropy of a linear classifier's logits, `z = H·Wᵀ + b`, with the gradients for
/// the hidden states `H`, the weight `W` and the bias `b` — without ever holding the whole
/// `rows × classes` logits.
///
/// The rows go through in blocks whose logits fit ``workspaceBytes``: per block, one `sgemm`
/// forms the block's logits, Xent's fused loss and gradient runs in place on them with the whole
/// batch's `.mean` denominators, and two more `sgemm` calls add the block's share of `∂H` and
/// `∂W` (<doc:FusedLinearHead>). Every option of ``crossEntropy`` applies to `z` exactly as in
/// one `SoftmaxCrossEntropy` call on the materialized logits.
///
/// ```swift
/// let head = LinearCrossEntropy()              // .mean, 32 MiB of logits at a time
/// let gradients = LinearGradients()            // ∂H, ∂W, ∂b
/// let loss = try head.lossAndGradients(hidden: h, weight: w, bias: b, labels: labels,
///                                      classes: vocabulary, gradients: gradients)
/// ```
///
/// The products are OpenBLAS's `cblas_sgemm` on Linux and Accelerate's on Apple platforms. A value
/// of this type is a small configuration: cheap to copy, holding no buffers.
public struct LinearCrossEntropy: Sendable, Hashable {
    /// The loss and its options, applied to the logits `z = H·Wᵀ + b` (every option of
    /// `SoftmaxCrossEntropy`: reduction, ignore index, smoothing, class and row weights, z-loss,
    /// logit scale, softcap, gradient scale, divisor, kernel, threads).
    public var crossEntropy: SoftmaxCrossEntropy

    /// The bytes one block of logits may take (`rows in the block × classes × 4`); 32 MiB by
    /// default. It must hold one row (`4 × classes` bytes). Larger blocks make fewer, larger
    /// `sgemm` calls, which read `W` fewer times; smaller ones hold less memory. A loss-only call
    /// against class labels (the vector kernel) takes tiles of rows × classes within the same
    /// budget (their logits and Xent's sums for their rows) where they hold more rows than whole
    /// rows would (<doc:FusedLinearHead>). The block is allocated per call, at most the whole
    /// batch's logits; where the system refuses it (a budget such as `.max` over a batch whose
    /// logits do not fit) the call throws `invalidOption` naming this property. Whether it refuses
    /// depends on the system: Linux's default overcommit refuses what exceeds memory and swap,
    /// while a system that overcommits freely grants it and may end the process when it is used.
    ///
    /// The block's rows are the products' row count, and a BLAS may round a product of another
    /// shape differently: a different size can change the last bits of every output (the logits,
    /// so the loss and the row outputs, and `∂H`, `∂W`, `∂b`). For a given size the results are
    /// bitwise the same for every thread count (<doc:FusedLinearHead#Determinism>).
    public var workspaceBytes: Int = 32 << 20

    /// Gradient filtering (off, `nil`, by default): the block's gradient is cut into tiles of
    /// ``filterTileClasses`` classes, and a tile whose every entry is below `ε·σ` in magnitude is
    /// left out of `∂H` and `∂W` (not of `∂b` or the loss). `σ` is the magnitude of
    /// `SoftmaxCrossEntropy.gradientScale` divided, under `.mean` without a divisor, by the number
    /// of rows that take part with a row weight above 0 — the gradient's scale for a row of their
    /// average weight, which scaling every row weight (or class weight) leaves as it leaves
    /// `.mean`'s gradient — else by the divisor (1 for `.sum` and `.none`); so without class or row
    /// weights or a logit scale `ε` compares with a probability `p_j`. Cut Cross-Entropy uses
    /// `ε = 2⁻¹²` with bfloat16. Each skipped entry adds at most `ε·σ·|W_jk|` to `|Δ∂H_ik|` and
    /// `ε·σ·|H_ik|` to `|Δ∂W_jk|` (<doc:FusedLinearHead#Gradient-filtering>); a tile holding a NaN is
    /// kept. Must be finite and ≥ 0.
    public var gradientFilter: Float? = nil

    /// The classes per tile that gradient filtering skips or keeps as a whole.
    public static let filterTileClasses = 256

    /// Threads for the products and the loss: `SoftmaxCrossEntropy.threads` of
    /// ``crossEntropy``; `nil` chooses as Xent does (for large calls, every CPU the process may run
    /// on: its affinity mask, capped by a cgroup CPU quota). OpenBLAS computes each product on the
    /// calling thread, and the call's threads share out fixed jobs — panels of classes,
    /// and `∂H` — so the results are bitwise the same for every thread count. OpenBLAS's own
    /// thread count is process-wide: the first call sets it to 1 (and every call sets it back to 1
    /// if it was changed), since changing it while another thread is inside OpenBLAS is not safe.
    /// Accelerate's threading model is left as it is (<doc:FusedLinearHead#The-BLAS>).
    public var threads: Int? {
        get { crossEntropy.threads }
        set { crossEntropy.threads = newValue }
    }

    /// A configuration with the given loss options (the defaults: `.mean`, ignore index −100).
    public init(
        _ crossEntropy: SoftmaxCrossEntropy = SoftmaxCrossEntropy(), workspaceBytes: Int = 32 << 20,
        gradientFilter: Float? = nil
    ) {
        self.crossEntropy = crossEntropy
        self.workspaceBytes = workspaceBytes
        self.gradientFilter = gradientFilter
    }
}

/// Where the unsafe-buffer entry points of ``LinearCrossEntropy`` write the gradients; any of
/// them nil (not computed).
public struct LinearGradientBuffers {
    /// Receives `∂loss/∂H`, `rows × hidden`, overwritten.
    public var hidden: UnsafeMutableBufferPointer<Float>?
    /// Receives `∂loss/∂W`, `classes × hidden` (as `W`), overwritten or added to.
    public var weight: UnsafeMutableBufferPointer<Float>?
    /// Receives `∂loss/∂b`, `classes`, overwritten or added to.
    public var bias: UnsafeMutableBufferPointer<Float>?
    /// Whether `weight` and `bias` are added to (`+=`, accumulating micro-batches) instead of
    /// overwritten; `hidden` is always overwritten.
    public var accumulate: Bool

    /// The buffers to write.
    public init(
        hidden: UnsafeMutableBufferPointer<Float>? = nil, weight: UnsafeMutableBufferPointer<Float>? = nil,
        bias: UnsafeMutableBufferPointer<Float>? = nil, accumulate: Bool = false
    ) {
        self.hidden = hidden
        self.weight = weight
        self.bias = bias
        self.accumulate = accumulate
    }
}

extension LinearGradientBuffers {
    /// Whether any gradient is asked for.
    var wantsGradient: Bool { hidden != nil || weight != nil || bias != nil }
}

extension LinearCrossEntropy {
    /// The loss of the logits `H·Wᵀ + b` against class labels, never holding more than a block of
    /// them.
    ///
    /// Where blocks of whole rows would be shorter, the logits go in tiles of rows × panels of
    /// classes within ``workspaceBytes`` (with the vector kernel, the default), so that `W` is
    /// read once per block of rows. Given the same logits, the tiles give bitwise the loss and row
    /// outputs of whole rows; but the logits' products then have another shape, so the last
    /// bits may differ from a call with gradients (<doc:FusedLinearHead>).
    ///
    /// - Parameters:
    ///   - hidden: `H`, `rows × hidden` row-major; `rows` is `labels.count`, `hidden` (≥ 1)
    ///     follows from the count.
    ///   - weight: `W`, `classes × hidden` row-major (as PyTorch's `Linear.weight`).
    ///   - bias: `b`, `classes` values, or nil.
    ///   - labels: one class index in `0 ..< classes` per row, or the ignore index.
    ///   - classes: `V`, the number of classes (≥ 1).
    ///   - rowStatistics: per-row outputs as in `SoftmaxCrossEntropy` (losses, log-sum-exp,
    ///     argmax), `rows` elements each; the losses are required with `.none`.
    /// - Returns: the reduced loss.
    /// - Throws: `XentError` before anything is written: shapes and lengths that do not match,
    ///   overlapping buffers, a workspace too small for one row (or that the system refuses), a
    ///   dimension beyond the BLAS's 32-bit interface, bad options or labels.
    /// - Complexity: `2·rows·classes·hidden` flops in `sgemm`, one pass of Xent over the logits;
    ///   memory: one block or tile of logits (≤ ``workspaceBytes``).
    public func loss<Label: ClassLabel>(
        hidden: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>? = nil,
        labels: UnsafeBufferPointer<Label>, classes: Int,
        rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        try lossAndGradients(
            hidden: hidden, weight: weight, bias: bias, labels: labels, classes: classes,
            gradients: LinearGradientBuffers(), rowStatistics: rowStatistics)
    }

    /// The loss against class labels and its gradients for `H`, `W` and `b` (those of
    /// `gradients` that are not nil), never holding more than a block of logits (with every
    /// gradient nil, a tile, as
    /// ``loss(hidden:weight:bias:labels:classes:rowStatistics:)-(_,_,_,_,_,RowStatistics.Buffers)``
    /// takes).
    ///
    /// `∂H = G·W`, `∂W = Gᵀ·H`, `∂b = Σ_rows G`, where `G` is the gradient of the loss with respect
    /// to the logits (scaled by the reduction, `SoftmaxCrossEntropy.gradientScale` and the row
    /// weights, as one `SoftmaxCrossEntropy` call would write it).
    ///
    /// - Parameters:
    ///   - hidden: `H`, `rows × hidden` row-major; `rows` is `labels.count`, `hidden` (≥ 1)
    ///     follows from the count.
    ///   - weight: `W`, `classes × hidden` row-major (as PyTorch's `Linear.weight`).
    ///   - bias: `b`, `classes` values, or nil.
    ///   - labels: one class index in `0 ..< classes` per row, or the ignore index.
    ///   - classes: `V`, the number of classes (≥ 1).
    ///   - gradients: where `∂H` (`rows × hidden`), `∂W` (`classes × hidden`) and `∂b` (`classes`)
    ///     go; a nil buffer is not computed. No buffer may overlap another or an input.
    ///   - rowStatistics: per-row outputs as in `SoftmaxCrossEntropy` (losses, log-sum-exp,
    ///     argmax), `rows` elements each; the losses are required with `.none`.
    ///   - filterReport: with ``gradientFilter`` on, receives the tiles looked at and skipped;
    ///     nil to not count them.
    /// - Returns: the reduced loss.
    /// - Throws: `XentError` before anything is written, as
    ///   ``loss(hidden:weight:bias:labels:classes:rowStatistics:)-(_,_,_,_,_,RowStatistics.Buffers)``
    ///   does, and for gradient buffers of the wrong count or overlapping, or a bad ``gradientFilter``.
    /// - Complexity: `6·rows·classes·hidden` flops in `sgemm` with all three gradients (`2·…` for
    ///   the logits, `∂H` and `∂W` each), one fused pass of Xent over the logits; memory: one block
    ///   (or tile) of logits (≤ ``workspaceBytes``).
    public func lossAndGradients<Label: ClassLabel>(
        hidden: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>? = nil,
        labels: UnsafeBufferPointer<Label>, classes: Int, gradients: LinearGradientBuffers,
        rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers(), filterReport: GradientFilterReport? = nil
    ) throws(XentError) -> Float {
        let plan = try crossEntropy.planRowBlocks(labels: labels, classes: classes)
        let head = try LinearHead(
            self, plan: plan, hidden: hidden, weight: weight, bias: bias,
            targets: ("labels", UnsafeRawBufferPointer(labels), 1), gradients: gradients, rowStatistics: rowStatistics)
        if !gradients.wantsGradient && crossEntropy.kernel == .vector,
           let tiles = LinearHead.lossTiles(
               rows: plan.rows, classes: classes, workspaceBytes: workspaceBytes, blockRows: head.blockRows) {
            return try head.loss(labels: labels, tiles: tiles, options: self)
        }
        return try head.run(
            { (plan, first, logits, gradient, statistics, sums) throws(XentError) in
                try crossEntropy.evaluateRowBlock(
                    plan, firstRow: first, logits: logits,
                    labels: UnsafeBufferPointer(rebasing: labels[first..<first + logits.count / classes]),
                    gradient: gradient, rowStatistics: statistics, into: &sums)
            }, options: self, filterReport: filterReport)
    }

    /// The loss against soft targets (`rows × classes`, row-major; `rows` = `targets.count /
    /// classes`). Other parameters as in
    /// ``loss(hidden:weight:bias:labels:classes:rowStatistics:)-(_,_,_,_,_,RowStatistics.Buffers)``.
    public func loss(
        hidden: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>? = nil,
        targets: UnsafeBufferPointer<Float>, classes: Int,
        rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers()
    ) throws(XentError) -> Float {
        try lossAndGradients(
            hidden: hidden, weight: weight, bias: bias, targets: targets, classes: classes,
            gradients: LinearGradientBuffers(), rowStatistics: rowStatistics)
    }

    /// The loss against soft targets (`rows × classes`, row-major; `rows` = `targets.count /
    /// classes`) and its gradients. Other parameters as in
    /// ``lossAndGradients(hidden:weight:bias:labels:classes:gradients:rowStatistics:filterReport:)-(UnsafeBufferPointer<Float>,_,_,_,_,_,_,_)``.
    public func lossAndGradients(
        hidden: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>? = nil,
        targets: UnsafeBufferPointer<Float>, classes: Int, gradients: LinearGradientBuffers,
        rowStatistics: RowStatistics.Buffers = RowStatistics.Buffers(), filterReport: GradientFilterReport? = nil
    ) throws(XentError) -> Float {
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        guard targets.count % classes == 0 else {
            throw .lengthNotMultiple(argument: "targets", count: targets.count, multiple: classes, of: "classes")
        }
        let plan = try crossEntropy.planRowBlocks(softTargetRows: targets.count / classes, classes: classes)
        let head = try LinearHead(
            self, plan: plan, hidden: hidden, weight: weight, bias: bias,
            targets: ("targets", UnsafeRawBufferPointer(targets), classes), gradients: gradients,
            rowStatistics: rowStatistics)
        return try head.run(
            { (plan, first, logits, gradient, statistics, sums) throws(XentError) in
                try crossEntropy.evaluateRowBlock(
                    plan, firstRow: first, logits: logits,
                    targets: UnsafeBufferPointer(rebasing: targets[first * classes..<first * classes + logits.count]),
                    gradient: gradient, rowStatistics: statistics, into: &sums)
            }, options: self, filterReport: filterReport)
    }
}
