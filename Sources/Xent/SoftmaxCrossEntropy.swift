// The public configuration, its checks, and the call's parameter block (CXent.h `xent_params`).
import CXent

/// Softmax cross-entropy over a batch of logit rows: the loss and its gradient with respect to
/// the logits, in one fused, numerically stable call.
///
/// For each row `z` (of `classes` logits) with target distribution `q` (one-hot for a class label):
///
///     m = max z,  S = Σ exp(z − m),  lse = m + log S,  p = exp(z − lse)
///     loss = Σ q_c · (lse − z_c)         (= lse − z_t for label t)
///     ∂loss/∂z_j = p_j · Σq − q_j        (= p − onehot(t) for a label)
///
/// The rules for masked classes (−inf logits), NaN and +inf, ignored rows and reductions are those
/// of the package's numerics contract (`NUMERICS.md`); where it is silent Xent follows PyTorch's
/// `torch.nn.functional.cross_entropy`.
///
/// ```swift
/// var ce = SoftmaxCrossEntropy()            // .mean, ignoreIndex −100, kernel .vector
/// let loss = try ce.lossAndGradient(logits: logits, labels: labels, classes: 10,
///                                   gradient: &gradient)
/// ```
///
/// Every entry point validates all of its arguments first and throws ``XentError`` before it
/// writes anything. A value of this type is a small configuration; it is cheap to copy, holds no
/// buffers and may be shared between threads.
public struct SoftmaxCrossEntropy: Sendable, Hashable {
    /// The implementations of the same contract.
    public enum Kernel: String, Sendable, Hashable, CaseIterable {
        /// Plain scalar Swift in `Double`, written to read like the contract: the test oracle.
        case reference
        /// Plain scalar Swift in `Float` (libm's `expf`, a `Double` sum): what a careful user
        /// writes without SIMD, and the baseline of every "scalar vs vector" comparison.
        case scalar
        /// The default: each row fused in the C shim for the CPU's widest ISA (SLEEF's `u10`
        /// exp, inlined on AVX-512 and AVX2; 8 KiB chunks): one exp per element (two with a
        /// ``SoftmaxCrossEntropy/softcap`` and a gradient), the logits read from memory once, no
        /// temporary proportional to the batch (16-bit logits take a `Float` row per thread).
        case vector
    }

    /// How per-row losses are combined; `.mean` by default, as PyTorch.
    public var reduction: Reduction = .mean

    /// Rows whose label equals this value have loss 0 and a zero gradient row and do not count
    /// in `.mean`'s denominator; `-100` by default (as PyTorch), `nil` to turn it off. Applies to
    /// class labels only.
    public var ignoreIndex: Int32? = -100

    /// Which implementation computes the result; `.vector` by default.
    public var kernel: Kernel = .vector

    /// The ISA the `.vector` kernel's exp primitive runs on; `nil` (the default) uses
    /// ``InstructionSet/active``. Naming an ISA the CPU lacks makes every `.vector` call throw
    /// ``XentError/instructionSetUnavailable(_:)`` (the other kernels do not use it).
    public var instructionSet: InstructionSet? = nil

    /// The upstream gradient of the loss, `∂(outer loss)/∂(this loss)`: every gradient entry is
    /// multiplied by it (the loss is not). `1` by default; must be finite.
    ///
    ///     g_j = gradientScale · ∂loss/∂z_j
    ///
    /// The vector and scalar kernels form the row's gradient scale factors in `Float` —
    /// `gradientScale·logitScale/D` (D: `.mean`'s denominator) and its products with α/K,
    /// Σ_c w_c q_c and `2λ·lse`. One beyond `Float`'s range (~3.4e38: a mean over class weights
    /// summing to 1e-31, or logits near 1e38 with a z-loss) makes the gradient NaN or ±inf where
    /// the exact one is finite; the loss is unaffected.
    public var gradientScale: Float = 1

    /// Overrides `.mean`'s cross-entropy denominator (the count of participating rows, or their
    /// weights' sum) when set: the cross-entropy part of the loss and of the gradient is divided
    /// by it instead; the z-loss part keeps its own denominator (the participating rows, each
    /// counted `r_i` times with row weights). For gradient accumulation over micro-batches, pass
    /// the participating rows of the whole batch. Ignored by `.sum` and `.none`; must be finite
    /// and > 0.
    ///
    ///     loss = Σ_i ℓ_i / divisor,   g = ∂ℓ/∂z / divisor   (ℓ: the cross-entropy part)
    public var divisor: Double? = nil

    /// Label smoothing α ∈ [0, 1] (as PyTorch's `label_smoothing`): the target becomes
    /// `(1−α)·y + α/K` over the row's `K` unmasked classes (logits of −inf are masked: they get
    /// no smoothing mass, so the loss stays finite). `0` (off) by default.
    ///
    ///     ℓ = (1−α)·w_t·(lse − z_t) + (α/K)·Σ_c w_c·(lse − z_c)
    ///     ∂ℓ/∂z_j = (1−α)·w_t·(p_j − [j = t]) + (α/K)·(p_j·Σ_c w_c − w_j)
    public var labelSmoothing: Float = 0

    /// Class weights w, one per class, finite and ≥ 0 (as PyTorch's `weight`): each target class
    /// c counts `w_c` times. With class labels, `.mean` divides by the sum of the weights of the
    /// labels that take part (PyTorch's weighted mean). `nil` (all 1) by default; a count other
    /// than `classes` is refused.
    ///
    ///     ℓ = Σ_c w_c·q_c·(lse − z_c),   ∂ℓ/∂z_j = p_j·Σ_c w_c·q_c − w_j·q_j
    public var classWeights: [Float]? = nil

    /// Row (token) weights r, one per row, finite and ≥ 0: row i's loss (its z-loss part included)
    /// and its gradient row are multiplied by `r_i`, and `.mean` divides the cross-entropy part by
    /// `Σ r_i·w_{t_i}` and the z-loss part by `Σ r_i`, over the rows that take part (NUMERICS.md
    /// "Reduction"). `nil` (all 1) by default; a count other than the batch's rows is refused.
    ///
    ///     ℓ_i ← r_i·ℓ_i,   g_i ← r_i·g_i,   .mean: Σ_i r_i·ℓ_i / Σ_i r_i·w_{t_i}
    ///
    /// PyTorch has no such option; this is what `(F.cross_entropy(…, reduction="none") * r)`
    /// followed by the weighted mean computes, in the same IEEE arithmetic: a row weight of 0 gives
    /// a zero gradient row, and a loss of 0 unless the row's loss is +inf (a label on a masked
    /// class: 0·∞ is NaN) or NaN (a bad row stays NaN whatever its weight). Per-row losses
    /// (``RowStatistics/losses``) are the weighted ones; the rows' log-sum-exp is not weighted.
    public var rowWeights: [Float]? = nil

    /// The z-loss scale λ ≥ 0 (PaLM): adds `λ·lse²` to each row's loss and `2λ·lse·p_j` to its
    /// gradient, where `lse = log Σ_j exp(z_j)`; it keeps the log-partition function near 0.
    /// `0` (off) by default. Under `.mean` the z-loss part is divided by the number of rows that
    /// take part (the ``divisor``, if any, divides only the cross-entropy part, as NUMERICS.md
    /// says); ``RowStatistics/logSumExp`` gives the part separately.
    ///
    ///     ℓ = ℓ_CE + λ·lse²,   ∂ℓ/∂z_j = ∂ℓ_CE/∂z_j + 2λ·lse·p_j
    public var zLossScale: Float = 0

    /// The logit scale s > 0 (a temperature 1/s, as in distillation): every logit is multiplied
    /// by s before anything else, and the gradient, taken with respect to the caller's logits,
    /// by s as well. `1` (off) by default; must be finite.
    ///
    ///     z' = s·z,   ∂ℓ/∂z_j = s·∂ℓ/∂z'_j
    ///
    /// `s·z` is formed in `Float` — exactly what a caller who scaled the logits first would pass —
    /// so the accuracy bounds are those of the scaled logits. A product beyond `Float`'s range is
    /// ±inf and then follows the rules for ±inf logits (a −inf masks its class, a +inf makes the
    /// row's loss and gradient NaN).
    public var logitScale: Float = 1

    /// The softcap c > 0 (Gemma-style): the (scaled) logits become `c·tanh(z'/c)`, bounded by
    /// ±c, before the softmax, and the gradient goes back through it. `nil` (off) by default;
    /// must be finite and > 0.
    ///
    ///     z'' = c·tanh(z'/c),   ∂ℓ/∂z_j = s·(1 − (z''_j/c)²)·∂ℓ/∂z''_j
    ///
    /// As NUMERICS.md orders it, the transform comes before masking: a −inf logit becomes −c, a
    /// finite logit, so with a softcap no class is masked and a +inf logit becomes c (the row
    /// stays finite); NaN stays NaN. ``RowStatistics/argmax`` is that of the caller's logits (the
    /// transform is monotone; saturation can round distinct logits to the same c).
    ///
    /// Cost and accuracy: the `.vector` kernel uses SLEEF's 1-ULP `tanhf`, and with a gradient
    /// computes each exp twice (the in-place call keeps `z''` in the gradient buffer between its
    /// two passes). Rounding `z''` to `Float` adds to NUMERICS.md's bounds (taken on `z''`, then
    /// multiplied by the chain factor `s·(1 − (z''_j/c)²)`), per class,
    /// `4u·(|z''_j| + |max z''|)·|p_j·Σ_c w_c q_c|` to the gradient before the chain factor and
    /// `16u·s·|∂ℓ/∂z''_j|` after it, and `4u·M·(1 + 2λ·|lse|) + 8u·M·Σ_c w_c q_c` to the row loss,
    /// where `M = max_j |z''_j|`, λ is ``zLossScale`` and u = 2⁻²⁴; the tests hold every kernel to
    /// these.
    public var softcap: Float? = nil

    /// Threads a call may use; `nil` (the default) chooses: one per CPU the process may run on for
    /// calls of at least 512 Ki logits, one thread below that, where handing out work costs more than
    /// it saves. The CPUs are counted once per process, on first use: on Linux the process's affinity
    /// mask (`taskset`, a cpuset) capped by its cgroup's CPU quota (rounded up), not the host's online
    /// processors, so that a container limited to a few CPUs does not split a call many ways.
    ///
    /// In batches with at least two rows per thread the threads claim contiguous blocks of rows as
    /// they go, so a thread that starts late or runs slow takes less of the work; smaller batches of
    /// long rows (2 × 1,048,576, say) split each row's 8 KiB chunks the same way. Either way the
    /// results — the reduced loss, per-row losses and the gradient — are bitwise the same for
    /// every thread count and whichever thread runs a row: rows and chunks are cut the same way and
    /// a row's chunk sums are added exactly, so their order does not matter.
    /// A value below 1 makes calls throw ``XentError/invalidThreadCount(threads:)``.
    public var threads: Int? = nil

    /// A configuration with the defaults: `.mean`, ignore index −100, the `.vector` kernel.
    public init() {}

    /// A configuration with the given settings.
    public init(
        reduction: Reduction = .mean, ignoreIndex: Int32? = -100, kernel: Kernel = .vector,
        instructionSet: InstructionSet? = nil, threads: Int? = nil
    ) {
        self.reduction = reduction
        self.ignoreIndex = ignoreIndex
        self.kernel = kernel
        self.instructionSet = instructionSet
        self.threads = threads
    }

    /// The ISA the `.vector` kernel uses with this configuration.
    public var activeInstructionSet: InstructionSet { instructionSet ?? .active }

    /// The CPUs this process may run on, as ``threads`` = `nil` counts them (the threads a large call
    /// then uses): on Linux the affinity mask capped by the cgroup CPU quota, elsewhere the online
    /// processors; counted once per process, on first use.
    public static var availableCPUs: Int { Parallel.cores }
}

extension SoftmaxCrossEntropy {
    /// Checks the options against a validated batch and runs the configured kernel over it.
    func evaluate(_ batch: Batch) throws(XentError) -> Float {
        let (isa, workers) = try checkOptions(
            rows: batch.rows, classes: batch.classes, elements: batch.rows * batch.classes)
        return withOptionalBuffer(classWeights) { weights in
            withOptionalBuffer(rowWeights) { rowWeights in
                let denominators = batch.denominators(self, weights: weights, rowWeights: rowWeights)
                var sums = LossSums()
                runRows(
                    batch, isa: isa, workers: workers, weights: weights, rowWeights: rowWeights,
                    denominators: denominators, into: &sums)
                return sums.reduced(by: denominators)
            }
        }
    }

    /// The configured kernel over every row of `batch` (``Batch/runRows(_:_:weights:rowWeights:denominators:isa:threads:into:)``),
    /// its rows' loss parts added to `sums`. `weights` and `rowWeights` hold the class and row
    /// weights of these rows.
    func runRows(
        _ batch: Batch, isa: InstructionSet, workers: Int, weights: UnsafePointer<Float>?,
        rowWeights: UnsafePointer<Float>?, denominators: Denominators, into sums: inout LossSums
    ) {
        // The ISA that converts 16-bit storage and completes log S: the vector kernel's, else the
        // portable code.
        let engineISA = kernel == .vector ? isa.cValue : XENT_ISA_SCALAR
        switch kernel {
        case .reference:
            batch.runRows(
                ReferenceKernel(), self, weights: weights, rowWeights: rowWeights, denominators: denominators,
                isa: engineISA, threads: workers, into: &sums)
        case .scalar:
            batch.runRows(
                ScalarKernel(), self, weights: weights, rowWeights: rowWeights, denominators: denominators,
                isa: engineISA, threads: workers, into: &sums)
        case .vector:
            batch.runRows(
                VectorKernel(isa: isa), self, weights: weights, rowWeights: rowWeights, denominators: denominators,
                isa: engineISA, threads: workers, into: &sums)
        }
    }

    /// Checks every option (class weights against `classes`, row weights against `rows`, the
    /// kernel's ISA against the CPU) and returns the ISA and the threads a call over `elements`
    /// logits uses.
    func checkOptions(
        rows: Int, classes: Int, elements: Int
    ) throws(XentError) -> (isa: InstructionSet, workers: Int) {
        if let threads, threads < 1 { throw .invalidThreadCount(threads: threads) }
        if let divisor, !(divisor.isFinite && divisor > 0) {
            throw .invalidOption(name: "divisor", value: divisor, requirement: "finite and > 0")
        }
        guard gradientScale.isFinite else {
            throw .invalidOption(name: "gradientScale", value: Double(gradientScale), requirement: "finite")
        }
        guard zLossScale.isFinite && zLossScale >= 0 else {
            throw .invalidOption(name: "zLossScale", value: Double(zLossScale), requirement: "finite and ≥ 0")
        }
        guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
            throw .invalidOption(name: "labelSmoothing", value: Double(labelSmoothing), requirement: "in [0, 1]")
        }
        if let classWeights {
            guard classWeights.count == classes else {
                throw .lengthMismatch(argument: "classWeights", expected: classes, actual: classWeights.count)
            }
            if let c = Self.firstNotFiniteAndNonNegative(classWeights) {
                let w = classWeights[c]
                throw .invalidOption(name: "classWeights[\(c)]", value: Double(w), requirement: "finite and ≥ 0")
            }
        }
        if let rowWeights {
            guard rowWeights.count == rows else {
                throw .lengthMismatch(argument: "rowWeights", expected: rows, actual: rowWeights.count)
            }
            if let i = Self.firstNotFiniteAndNonNegative(rowWeights) {
                let r = rowWeights[i]
                throw .invalidOption(name: "rowWeights[\(i)]", value: Double(r), requirement: "finite and ≥ 0")
            }
        }
        guard logitScale.isFinite && logitScale > 0 else {
            throw .invalidOption(name: "logitScale", value: Double(logitScale), requirement: "finite and > 0")
        }
        if let softcap, !(softcap.isFinite && softcap > 0) {
            throw .invalidOption(name: "softcap", value: Double(softcap), requirement: "finite and > 0")
        }
        let isa = activeInstructionSet
        if kernel == .vector && !isa.isSupported { throw .instructionSetUnavailable(isa) }
        return (isa, threads ?? (elements >= Parallel.automaticCutoff ? Parallel.cores : 1))
    }

    /// The index of the first weight that is not finite and ≥ 0 (NaN included), or nil. Checked 16 at a
    /// time — every call checks all its weights, as many as the classes — and searched one by one
    /// only in a block that holds one.
    static func firstNotFiniteAndNonNegative(_ weights: [Float]) -> Int? {
        weights.withUnsafeBufferPointer { w in
            var i = 0
            while i + 16 <= w.count {
                let v = UnsafeRawPointer(w.baseAddress! + i).loadUnaligned(as: SIMD16<Float>.self)
                if !all((v .>= 0) .& (v .< .infinity)) { break }
                i += 16
            }
            while i < w.count {
                if !(w[i].isFinite && w[i] >= 0) { return i }
                i += 1
            }
            return nil
        }
    }

    /// The call's parameter block (CXent.h `xent_params`) from these checked options: the class
    /// weights' buffer, the batch's two denominators (the `.mean` reduction's, NUMERICS.md
    /// "Reduction"; 0 gives a zero gradient), and what the batch asks for.
    func parameters(
        weights: UnsafePointer<Float>?, crossEntropyDenominator: Double, zLossDenominator: Double,
        argmax: Bool, softTargets: Bool
    ) -> xent_params {
        let upstream = Double(gradientScale), lambda = Double(zLossScale)
        return xent_params(
            class_weights: weights, label_smoothing: Double(labelSmoothing),
            cross_entropy_gradient_scale: crossEntropyDenominator > 0 ? upstream / crossEntropyDenominator : 0,
            z_loss_gradient_scale: lambda != 0 && zLossDenominator > 0
                ? 2 * lambda * upstream / zLossDenominator : 0,
            logit_scale: logitScale, softcap: softcap ?? 0, argmax: argmax ? 1 : 0, soft_targets: softTargets ? 1 : 0)
    }
}

/// `body` with the array's storage, or with nil for a missing array.
@inline(__always)
func withOptionalBuffer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
