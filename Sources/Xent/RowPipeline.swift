// The one row driver of the vector kernel: plan → chunk → combine → scale, over an ISA's
// micro-kernels (CXent.h). A whole row, a 16-bit row and a row split over threads all call it.
import CXent

/// What one chunk of a row holds after
/// ``RowPipeline/chunk(_:targets:gradient:count:base:prefetchLimit:scratch:max:nextRow:)``.
struct ChunkSums {
    /// S_c = Σ exp(t_i − shift).
    var sum = 0.0
    /// Σ q'_i and Σ q'_i·(shift − t_i) over q'_i ≠ 0, q' = q·w (soft targets only).
    var sumQ = 0.0, sumQGap = 0.0
    /// K_c, Σ w_i and Σ w_i·(shift − t_i) over the unmasked i (label smoothing only).
    var unmasked = 0.0, sumW = 0.0, sumWGap = 0.0
    /// The first index in the row (not the chunk) holding `rawMax`, −1 if none or not asked for.
    var argmax = -1
    /// The chunk's max of the transformed logits t, ignoring NaN (−inf: every element −inf or NaN).
    var max: Float = -.infinity
    /// The exps' shift: `max`, or 0 when `max` is −inf.
    var shift: Float = 0
    /// The max of the caller's logits, which `argmax` refers to (a saturated softcap can round
    /// distinct logits to the same t).
    var rawMax: Float = -.infinity
    /// The max of the row after this one (`rmax`'s bits) where the exp pass took it (the `nextRow`
    /// of ``RowPipeline/chunk(_:targets:gradient:count:base:prefetchLimit:scratch:max:nextRow:)``),
    /// else NaN, which no max is (a `Float?` would make these sums, which the row panels' workspace
    /// holds for every chunk of its rows, 88 bytes instead of 80).
    var nextRowMax: Float = .nan
    /// `exp(shift − M)` at the row max M, set by ``RowPipeline/combine(_:)``: what this chunk's
    /// sums and exps are multiplied by to refer to the row's max.
    var toRow = 1.0
}

/// What a whole row holds: its chunks combined at the row max.
struct RowSums {
    /// S = Σ exp(t_i − max).
    var sum = 0.0
    var sumQ = 0.0, sumQGap = 0.0
    var unmasked = 0.0, sumW = 0.0, sumWGap = 0.0
    var argmax = -1
    var max: Float = -.infinity

    /// A row whose loss is NaN: a NaN or +inf (after the transform), or every class masked.
    var isBad: Bool { !max.isFinite || sum.isNaN }
}

/// A row's chunk sums at the row max, added exactly (``ExactSum``): the same bits for any order
/// or grouping of the chunks. `K` is a count, exact in a plain `Double`.
struct RowAccumulators: Equatable {
    var sum = ExactSum(), sumQ = ExactSum(), sumQGap = ExactSum(), sumW = ExactSum(), sumWGap = ExactSum()
    var unmasked = 0.0

    /// Sets `chunk.toRow` for the row max `rowMax` and adds the chunk's terms.
    @inline(__always)
    mutating func deposit(_ chunk: inout ChunkSums, rowMax: Float, isa: xent_isa) {
        let lift = Double(rowMax) - Double(chunk.shift)
        // exp(0) = 1, without the call; −lift is exactly shift − M (the subtraction rounds
        // symmetrically), the chunk's factor in the scaling pass. A chunk with every class
        // masked holds no probability (its exps are 0): its factor is 0, not exp(−M), which
        // overflows when the row's max is far below 0 (and would turn 0 into NaN).
        let toRow = chunk.max == -.infinity ? 0 : lift == 0 ? 1 : xent_f64_exp(isa, -lift)
        chunk.toRow = toRow
        sum.add(chunk.sum * toRow)
        sumQ.add(chunk.sumQ)
        sumQGap.add(chunk.sumQGap)
        if chunk.sumQ != 0 { sumQGap.add(chunk.sumQ * lift) }
        unmasked += chunk.unmasked
        sumW.add(chunk.sumW)
        sumWGap.add(chunk.sumWGap)
        if chunk.sumW != 0 { sumWGap.add(chunk.sumW * lift) }
    }

    /// Adds every term of `other` (another part of the same row, at the same row max).
    mutating func merge(_ other: RowAccumulators) {
        sum.merge(other.sum)
        sumQ.merge(other.sumQ)
        sumQGap.merge(other.sumQGap)
        sumW.merge(other.sumW)
        sumWGap.merge(other.sumWGap)
        unmasked += other.unmasked
    }

    /// The row's sums (argmax −1: the caller's).
    func rowSums(max: Float) -> RowSums {
        var row = RowSums()
        row.max = max
        row.sum = sum.value
        row.sumQ = sumQ.value
        row.sumQGap = sumQGap.value
        row.unmasked = unmasked
        row.sumW = sumW.value
        row.sumWGap = sumWGap.value
        return row
    }
}

/// What the scaling pass of a good row takes, worked out once per row
/// (``RowPipeline/scaling(row:labelWeight:scales:)``).
struct RowScaling {
    /// `(p·V + pLse·lse)/S`: a stored exp at the row max times this is the probability's term.
    var numerator: Double
    /// The smoothing term's scale `p·s·α/K` (0 without smoothing).
    var smoothing: Float
    /// The label's own term `p·s·(1 − α)·w_t`.
    var labelTerm: Float
    /// The soft targets' term `p·s·(1 − α)`.
    var target: Float
}

/// A row's two gradient scales, `p` and `pLse` of ``RowKernel``: the call's
/// (`xent_params.cross_entropy_gradient_scale`, `z_loss_gradient_scale`), times the row's weight
/// when the call has row weights (``Batch/rowParameters(_:_:)``).
struct RowGradientScales {
    var crossEntropy: Double
    var zLoss: Double

    init(_ params: xent_params) {
        crossEntropy = params.cross_entropy_gradient_scale
        zLoss = params.z_loss_gradient_scale
    }
}

/// One call's row pipeline: the micro-kernels of one ISA (`xent_ukernel_config`), the call's
/// parameter block (`xent_params`), and what both imply for every row, worked out once.
///
/// - `plan`: a row of n classes is cut into chunks of ``chunkLength(classes:)`` elements (2048 —
///   8 KiB, which stays in L1 between a chunk's max and its exps).
/// - `chunk`: its max (`rmax`, or taken by the transform: `vtransform_rmax`), the transform
///   (`vtransform`, or a logit scale in the exp pass), the target sums (in the exp pass, or
///   `rsumtargets` before it where the ISA's exp passes do not take them, or a forward row takes the
///   next row's max), the exps stored and summed (`raddstoreexpminusmax`).
/// - `combine`: the chunks at the row max, exactly and in any order (``RowAccumulators``).
/// - `scale`: the gradient from the stored exps (`vgradient`, `vgradientsoftcap`) and the label's
///   term.
///
/// Every path of the vector kernel goes through these four functions with the same chunk
/// boundaries — `chunk` in one of two forms, over `Float` logits or, for a 16-bit row, over its
/// 16-bit logits (``directHalfChunk(_:targets:base:count:max:nextRow:)``) — so its bits do not depend on the
/// thread count or on 16-bit storage; the kernels' own order makes them independent of the
/// canonical ISA too (NUMERICS.md "Determinism").
struct RowPipeline {
    let isa: xent_isa
    let params: xent_params
    private let rmax: xent_f32_rmax_ukernel_fn
    private let rfindeq: xent_f32_rfindeq_ukernel_fn
    private let raddstoreexpminusmax: xent_f32_raddstoreexpminusmax_ukernel_fn
    private let raddexpminusmaxRmaxNext: xent_f32_raddexpminusmax_rmaxnext_ukernel_fn?
    /// The exp passes over t = s·x formed as they load the logits, where the ISA has them and the
    /// call's only transform is a logit scale without label smoothing (nil otherwise).
    private let raddstoreexpscaledminusmax: xent_f32_raddstoreexpscaledminusmax_ukernel_fn?
    private let raddexpscaledminusmaxRmaxNext: xent_f32_raddexpscaledminusmax_rmaxnext_ukernel_fn?
    /// The exp pass taking the target sums `rsumtargets` takes, where the ISA has it.
    private let raddstoreexpminusmaxTargets: xent_f32_raddstoreexpminusmax_targets_ukernel_fn?
    private let rsumtargets: xent_f32_rsumtargets_ukernel_fn
    private let vtransform: xent_f32_vtransform_ukernel_fn
    /// The transform taking the chunk's max, where the ISA has it.
    private let vtransformRmax: xent_f32_vtransform_rmax_ukernel_fn?
    private let vgradient: xent_f32_vgradient_ukernel_fn
    private let vgradientsoftcap: xent_f32_vgradientsoftcap_ukernel_fn
    let widenHalf: xent_half_widen_ukernel_fn
    let roundHalf: xent_half_round_ukernel_fn
    /// Whether the 16-bit format is bfloat16, whose values widen by a shift.
    private let isBFloat16: Bool
    /// The fused 16-bit passes (widening with the max, the gradient with its rounding, the exp pass
    /// widening as it loads) and the argmax's search over 16-bit patterns, where the ISA has them.
    private let rmaxWidenHalf: xent_half_rmaxwiden_ukernel_fn?
    private let vgradientRoundHalf: xent_half_vgradientround_ukernel_fn?
    private let raddstoreexpminusmaxHalf: xent_half_raddstoreexpminusmax_ukernel_fn?
    private let raddexpminusmaxRmaxNextHalf: xent_half_raddexpminusmax_rmaxnext_ukernel_fn?
    private let rfindeqHalf: xent_u16_rfindeq_ukernel_fn?
    /// Whether the logits go through a scale or a softcap first.
    let transforms: Bool
    let smoothing: Bool
    /// `smoothing` as the kernels take it.
    private let smoothingFlag: Int32

    init(isa: xent_isa, params: xent_params, format: xent_half_format = XENT_HALF_BINARY16) {
        self.init(kernels: MicroKernels.config(isa), params: params, format: format)
    }

    /// The pipeline over the given micro-kernels (a test's, which wrap an ISA's).
    init(kernels config: xent_ukernel_config, params: xent_params, format: xent_half_format = XENT_HALF_BINARY16) {
        isa = config.isa
        self.params = params
        rmax = config.rmax!
        rfindeq = config.rfindeq!
        raddstoreexpminusmax = config.raddstoreexpminusmax!
        raddexpminusmaxRmaxNext = config.raddexpminusmax_rmaxnext
        rsumtargets = config.rsumtargets!
        vtransform = config.vtransform!
        vtransformRmax = config.vtransform_rmax
        vgradient = config.vgradient!
        vgradientsoftcap = config.vgradientsoftcap!
        widenHalf = (format == XENT_HALF_BFLOAT16 ? config.bf16_widen : config.f16_widen)!
        roundHalf = (format == XENT_HALF_BFLOAT16 ? config.bf16_round : config.f16_round)!
        isBFloat16 = format == XENT_HALF_BFLOAT16
        rmaxWidenHalf = format == XENT_HALF_BFLOAT16 ? config.bf16_rmaxwiden : config.f16_rmaxwiden
        vgradientRoundHalf = format == XENT_HALF_BFLOAT16 ? config.bf16_vgradientround : config.f16_vgradientround
        raddstoreexpminusmaxHalf = format == XENT_HALF_BFLOAT16
            ? config.bf16_raddstoreexpminusmax : config.f16_raddstoreexpminusmax
        raddexpminusmaxRmaxNextHalf = format == XENT_HALF_BFLOAT16
            ? config.bf16_raddexpminusmax_rmaxnext : config.f16_raddexpminusmax_rmaxnext
        rfindeqHalf = config.u16_rfindeq
        transforms = params.logit_scale != 1 || params.softcap > 0
        smoothing = params.label_smoothing != 0
        let scaleOnly = params.logit_scale != 1 && params.softcap <= 0 && !smoothing
        raddstoreexpscaledminusmax = scaleOnly ? config.raddstoreexpscaledminusmax : nil
        raddexpscaledminusmaxRmaxNext = scaleOnly ? config.raddexpscaledminusmax_rmaxnext : nil
        raddstoreexpminusmaxTargets = config.raddstoreexpminusmax_targets
        smoothingFlag = smoothing ? 1 : 0
    }

    // MARK: plan

    /// The chunk length for a row of `n` classes: 2048, or longer for rows over 2048 × 512
    /// classes, so a row's table of chunks has a fixed bound.
    @inline(__always)
    static func chunkLength(classes n: Int) -> Int {
        let chunk = 2048, maxChunks = 512
        if n <= chunk * maxChunks { return chunk }
        return ((n + maxChunks - 1) / maxChunks + 63) / 64 * 64
    }

    // MARK: chunk

    /// One chunk of `n` elements starting at `base` in the row (`x`, `q`, `gradient` point at the
    /// chunk): its sums, and — with `gradient` — its exps stored there (its transformed logits
    /// under a softcap, whose scaling recomputes the exps). `scratch` holds `n` floats when the
    /// logits are transformed without a gradient (``needsScratch(scaled:soft:)``). `max`: the
    /// chunk's max when a fused pass has found it already (`rmax`'s bits). The exp pass prefetches
    /// `x`, `q` and `gradient` below `prefetchLimit` elements from the chunk's start (CXent.h: what
    /// follows in the caller's buffers). `nextRow` (n floats: a whole row of one chunk follows) is
    /// the row computed next, whose max the exp pass takes too (``ChunkSums/nextRowMax``) where it
    /// is the forward pass of ``takesNextRowMax(count:)``.
    /// ``directHalfChunk(_:targets:base:count:max:nextRow:)`` is the same step over 16-bit logits for
    /// the chunks it takes: a change here (the argmax rule, the sums taken) belongs there too.
    @inline(__always)
    func chunk(
        _ x: UnsafePointer<Float>, targets q: UnsafePointer<Float>?, gradient y: UnsafeMutablePointer<Float>?,
        count n: Int, base: Int, prefetchLimit: Int, scratch: UnsafeMutablePointer<Float>?, max: Float? = nil,
        nextRow: UnsafePointer<Float>? = nil
    ) -> ChunkSums {
        var sums = ChunkSums()
        var t = x
        var prefetchLimit = prefetchLimit
        // A logit scale alone may be applied by the exp pass as it loads the logits.
        let scaledExpPass = scalesInExpPass(soft: q != nil) ? raddstoreexpscaledminusmax : nil
        let transformPass = transforms && scaledExpPass == nil
        let into = transformPass ? y ?? scratch! : nil
        var m: Float = 0
        var transformed = false
        if let max {
            m = max
        } else if let into, let vtransformRmax, params.argmax == 0 {
            // The max in the pass that transforms the chunk (the argmax's search reads x, which a
            // transform in place has overwritten).
            vtransformRmax(n, x, into, params.logit_scale, params.softcap, &m)
            transformed = true
        } else {
            rmax(n, x, &m)
        }
        sums.rawMax = m
        if params.argmax != 0 {
            // Before the exps may overwrite x (in place); the chunk is in L1.
            let i = rfindeq(n, x, m)
            if i < n { sums.argmax = base + i }
        }
        if transforms {
            // The transforms are monotone: the transformed chunk's max is the transformed max.
            var raw = m
            vtransform(1, &raw, &m, params.logit_scale, params.softcap)
        }
        if let into {
            if !transformed { vtransform(n, x, into, params.logit_scale, params.softcap) }
            t = UnsafePointer(into)
            if y == nil { prefetchLimit = n }  // the scratch holds the chunk alone
        }
        // A chunk with every class masked (or NaN) is shifted by 0: its exps are 0 (or NaN, which
        // then reaches the sum and marks the row bad).
        let shift: Float = m == -.infinity ? 0 : m
        sums.max = m
        sums.shift = shift
        let w = params.class_weights.map { $0 + base }
        // Under a softcap the gradient keeps t: its scaling recomputes the exps.
        let store = params.softcap > 0 ? nil : y
        // The target sums the plain exp pass does not take (it takes soft targets' without class weights).
        let targetSums = smoothing || (q != nil && w != nil)
        // The forward pass of a row that takes the next row's max (its own target sums apart).
        let takesNextRowMax = nextRow != nil && store == nil && t == x && (q == nil || targetSums)
            && (scaledExpPass != nil ? raddexpscaledminusmaxRmaxNext != nil : raddexpminusmaxRmaxNext != nil)
        let targetSumsInExpPass = targetSums && !takesNextRowMax && raddstoreexpminusmaxTargets != nil
        // Never with a scaled exp pass, which forms t only in registers: scalesInExpPass(soft:) is
        // false under smoothing and for soft targets with class weights, the two cases that read t here.
        let separateTargetSums = targetSums && !targetSumsInExpPass
        assert(!targetSums || scaledExpPass == nil)
        if separateTargetSums {
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 5) { s in
                rsumtargets(n, t, shift, q, w, smoothingFlag, s.baseAddress)
                sums.sumQ = s[0]
                sums.sumQGap = s[1]
                sums.unmasked = s[2]
                sums.sumW = s[3]
                sums.sumWGap = s[4]
            }
        }
        if let nextRow, takesNextRowMax {
            var nextRowMax: Float = 0
            if scaledExpPass != nil {
                raddexpscaledminusmaxRmaxNext!(
                    n, x, params.logit_scale, shift, &sums.sum, prefetchLimit, nextRow, n, &nextRowMax)
            } else {
                raddexpminusmaxRmaxNext!(n, t, shift, &sums.sum, prefetchLimit, nextRow, n, &nextRowMax)
            }
            sums.nextRowMax = nextRowMax
            return sums
        }
        if targetSumsInExpPass {
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 6) { s in
                raddstoreexpminusmaxTargets!(n, t, shift, q, w, smoothingFlag, store, s.baseAddress, prefetchLimit)
                sums.sum = s[0]
                sums.sumQ = s[1]
                sums.sumQGap = s[2]
                sums.unmasked = s[3]
                sums.sumW = s[4]
                sums.sumWGap = s[5]
            }
            return sums
        }
        var exps = (0.0, 0.0, 0.0)
        withUnsafeMutablePointer(to: &exps) {
            $0.withMemoryRebound(to: Double.self, capacity: 3) { s in
                let targets = separateTargetSums ? nil : q, mark: Int32 = smoothing && store != nil ? 1 : 0
                if let scaledExpPass {
                    scaledExpPass(n, x, params.logit_scale, shift, targets, store, mark, s, prefetchLimit)
                } else {
                    raddstoreexpminusmax(n, t, shift, targets, store, mark, s, prefetchLimit)
                }
            }
        }
        sums.sum = exps.0
        if q != nil && !separateTargetSums {
            sums.sumQ = exps.1
            sums.sumQGap = exps.2
        }
        return sums
    }

    // MARK: combine

    /// A row's chunks combined at the row max M: `S = Σ_c S_c·exp(s_c − M)` and
    /// `Σ q·(M − t) = Σ_c [Σ q·(s_c − t) + Q_c·(M − s_c)]` — every term ≥ 0 but with negative soft
    /// targets, so nothing cancels. The sums are exact and order-free (``RowAccumulators``), so
    /// the chunks may be combined in any grouping — a row split over threads or over vocabulary
    /// shards gives the same bits. Each chunk's `toRow` is set for its scaling.
    @inline(__always)
    func combine(_ chunks: UnsafeMutableBufferPointer<ChunkSums>) -> RowSums {
        var rowMax = -Float.infinity, rawMax = -Float.infinity
        for chunk in chunks {
            if chunk.max > rowMax { rowMax = chunk.max }
            if chunk.rawMax > rawMax { rawMax = chunk.rawMax }
        }
        var sums = RowAccumulators()
        for c in chunks.indices { sums.deposit(&chunks[c], rowMax: rowMax, isa: isa) }
        var row = sums.rowSums(max: rowMax)
        // The argmax is that of the caller's logits: the first chunk holding their largest value.
        for chunk in chunks where chunk.rawMax == rawMax && chunk.argmax >= 0 {
            row.argmax = chunk.argmax
            break
        }
        return row
    }

    /// A row of one chunk: the combine's result with M = its max (toRow 1, no lift; an exact sum
    /// of one term is that term), without the chunk table.
    @inline(__always)
    static func onlyChunk(_ chunk: ChunkSums) -> RowSums {
        var row = RowSums()
        row.max = chunk.max
        row.sum = chunk.sum
        row.sumQ = chunk.sumQ
        row.sumQGap = chunk.sumQGap
        row.unmasked = chunk.unmasked
        row.sumW = chunk.sumW
        row.sumWGap = chunk.sumWGap
        row.argmax = chunk.argmax
        return row
    }

    // MARK: scale

    /// The gradient of one chunk (at `base` in the row) from its stored exps: the row's factor
    /// scaled to the chunk's shift (`toRow`), the target terms, and the label's term when `label`
    /// (an index in the row, −1 for none) falls in the chunk. With `half`, the gradient is then
    /// rounded there (the 16-bit path): in the same pass where the ISA has it, the label's term
    /// included, `y` left as it was; the rounding prefetches `half.gradient` below its
    /// `prefetchLimit` (CXent.h).
    @inline(__always)
    func scale(
        _ y: UnsafeMutablePointer<Float>, targets q: UnsafePointer<Float>?, count n: Int, base: Int,
        chunk: ChunkSums, scaling: RowScaling, label: Int,
        half: (gradient: UnsafeMutablePointer<UInt16>, prefetchLimit: Int)? = nil
    ) {
        let factor = Float(chunk.toRow == 1 ? scaling.numerator : scaling.numerator * chunk.toRow)
        // With class labels and no smoothing the class weights weigh the label's term alone (in
        // `factor` and `labelTerm`): every other element is y·a, which the kernels' labels-only form
        // computes without reading the weights (their general form gives it too, but for the sign
        // of a zero under a class weight of −0).
        let w = q == nil && !smoothing ? nil : params.class_weights.map { $0 + base }
        let at = label >= base && label < base + n ? label - base : -1
        if let half, let vgradientRoundHalf, params.softcap <= 0 {
            vgradientRoundHalf(
                n, y, q, w, smoothingFlag, factor, scaling.target, scaling.smoothing, Int64(at), scaling.labelTerm,
                half.gradient, half.prefetchLimit)
            return
        }
        defer { if let half { roundHalf(n, y, half.gradient, half.prefetchLimit) } }
        if params.softcap > 0 {
            vgradientsoftcap(
                n, y, q, w, smoothingFlag, chunk.shift, factor, scaling.target, scaling.smoothing, params.softcap,
                Int64(at), scaling.labelTerm)
        } else {
            vgradient(n, y, q, w, smoothingFlag, factor, scaling.target, scaling.smoothing)
            if at >= 0 { y[at] -= scaling.labelTerm }
        }
    }

    /// The row's scaling: the numerator `(p·V + pLse·lse)/S` with the target mass
    /// `V = (1 − α)·(Σq' or w_t) + (α/K)·Σw` and `lse = max + log S` (one `log` per row, and only
    /// with a z-loss), the smoothing term's scale and the label's term. `scales` are the row's
    /// gradient scales (p and pLse); the logit scale's chain factor s is folded in here.
    @inline(__always)
    func scaling(row: RowSums, labelWeight: Double, scales: RowGradientScales) -> RowScaling {
        let alpha = params.label_smoothing
        let s = Double(params.logit_scale)
        let crossEntropyScale = scales.crossEntropy * s, zLossScale = scales.zLoss * s
        var mass = (1 - alpha) * (params.soft_targets != 0 ? row.sumQ : labelWeight)
        if alpha != 0 { mass += alpha / row.unmasked * row.sumW }
        var coefficient = crossEntropyScale * mass
        if zLossScale != 0 {
            var sum = row.sum, logSum = 0.0
            xent_f64_log(isa, &sum, &logSum, 1)
            coefficient += zLossScale * (Double(row.max) + logSum)
        }
        return RowScaling(
            numerator: coefficient / row.sum,
            smoothing: alpha != 0 ? Float(crossEntropyScale * alpha / row.unmasked) : 0,
            labelTerm: Float(crossEntropyScale * (1 - alpha) * labelWeight),
            target: Float(crossEntropyScale * (1 - alpha)))
    }

    // MARK: A row

    /// Whether a row of `n` classes is one chunk (``chunkLength(classes:)``).
    @inline(__always)
    static func fitsOneChunk(_ n: Int) -> Bool { n <= chunkLength(classes: n) }

    /// Whether a chunk's exp pass forms t = s·x as it loads the logits (a logit scale, no softcap,
    /// no smoothing, where the ISA has the kernel), so that no pass writes t and nothing holds it —
    /// not with soft targets and class weights, whose target sums read t from memory
    /// (`raddstoreexpminusmax_targets`, `rsumtargets`).
    @inline(__always)
    func scalesInExpPass(soft: Bool) -> Bool {
        raddstoreexpscaledminusmax != nil && !(soft && params.class_weights != nil)
    }

    /// Whether a chunk needs scratch space: it is transformed by a pass of its own
    /// (``scalesInExpPass(soft:)`` false), and there is no gradient to hold it.
    @inline(__always)
    func needsScratch(scaled: Bool, soft: Bool) -> Bool { transforms && !scaled && !scalesInExpPass(soft: soft) }

    /// Whether a row of `n` classes is one chunk computed where it lies, without scratch space:
    /// what ``oneChunkRow(_:targets:gradient:count:label:labelWeight:scales:prefetchLimit:)`` takes.
    @inline(__always)
    func isOneChunkInPlace(count n: Int, scaled: Bool, soft: Bool) -> Bool {
        Self.fitsOneChunk(n) && !needsScratch(scaled: scaled, soft: soft)
    }

    /// Whether the forward pass (no gradient) of a row of `n` classes without soft targets takes
    /// the next row's max in its exp pass (the `nextRow` of
    /// ``chunk(_:targets:gradient:count:base:prefetchLimit:scratch:max:nextRow:)``): one chunk, no
    /// transform or a logit scale its exp pass applies, and the ISA has the kernel
    /// (`raddexpminusmax_rmaxnext`, `raddexpscaledminusmax_rmaxnext`).
    @inline(__always)
    func takesNextRowMax(count n: Int) -> Bool {
        guard Self.fitsOneChunk(n) else { return false }
        if !transforms { return raddexpminusmaxRmaxNext != nil }
        return scalesInExpPass(soft: false) && raddexpscaledminusmaxRmaxNext != nil
    }

    /// ``takesNextRowMax(count:)`` for a 16-bit row (in this pipeline's format), which takes it in
    /// ``directHalfChunk(_:targets:base:count:max:nextRow:)``: a row of one chunk computed from its
    /// 16-bit logits (no transform, no smoothing), and the ISA has the kernel (which compares the
    /// next row's 16-bit patterns, as the row's own max pass does) and the others that step uses.
    @inline(__always)
    func takesNextHalfRowMax(count n: Int) -> Bool {
        raddexpminusmaxRmaxNextHalf != nil && raddstoreexpminusmaxHalf != nil && rmaxWidenHalf != nil
            && rfindeqHalf != nil && !transforms && !smoothing && Self.fitsOneChunk(n)
    }

    /// A whole row through the pipeline: its chunks (spread over `workers` threads when there are
    /// several of each), combined, then — with `gradient` and a good row — scaled. `x`, `q` and
    /// `gradient` may be prefetched below `prefetchLimit` (≥ n) elements from the row's start.
    ///
    /// Not inlined: a caller inlines the common row,
    /// ``oneChunkRow(_:targets:gradient:count:label:labelWeight:scales:prefetchLimit:)``, and calls
    /// this for the others (its own one-chunk branch serves callers that call it directly).
    /// Inlined, this function's other paths, which take the pipeline as an argument or capture it,
    /// made every row copy it and work in a larger stack frame (the Performance article).
    @inline(never)
    func row(
        _ x: UnsafePointer<Float>, targets q: UnsafePointer<Float>?, gradient y: UnsafeMutablePointer<Float>?,
        count n: Int, label: Int, labelWeight: Double, scales: RowGradientScales, workers: Int, prefetchLimit: Int
    ) -> RowSums {
        if isOneChunkInPlace(count: n, scaled: y != nil, soft: q != nil) {
            return oneChunkRow(
                x, targets: q, gradient: y, count: n, label: label, labelWeight: labelWeight, scales: scales,
                prefetchLimit: prefetchLimit)
        }
        if Self.fitsOneChunk(n) {
            // A transform without a gradient: the transformed chunk goes to scratch space.
            let chunk = withUnsafeTemporaryAllocation(of: Float.self, capacity: n) {
                self.chunk(x, targets: q, gradient: nil, count: n, base: 0, prefetchLimit: prefetchLimit,
                           scratch: $0.baseAddress)
            }
            return Self.onlyChunk(chunk)
        }
        let shared = SharedUnsafe((x, q, y))
        return chunked(
            count: n, workers: workers, scaled: y != nil, soft: q != nil, descending: true, labelWeight: labelWeight,
            scales: scales
        ) {
            base, len, scratch in
            let (x, q, y) = shared.value
            return self.chunk(x + base, targets: q.map { $0 + base }, gradient: y.map { $0 + base }, count: len,
                              base: base, prefetchLimit: prefetchLimit - base, scratch: scratch)
        } scale: { scaling, base, len, chunk in
            let (_, q, y) = shared.value
            self.scale(y! + base, targets: q.map { $0 + base }, count: len, base: base, chunk: chunk,
                       scaling: scaling, label: label)
        }
    }

    /// A row of one chunk (``isOneChunkInPlace(count:scaled:soft:)``): the chunk, combined without a table,
    /// then — with `gradient` and a good row — scaled, as
    /// ``row(_:targets:gradient:count:label:labelWeight:scales:workers:prefetchLimit:)`` computes it.
    @inline(__always)
    func oneChunkRow(
        _ x: UnsafePointer<Float>, targets q: UnsafePointer<Float>?, gradient y: UnsafeMutablePointer<Float>?,
        count n: Int, label: Int, labelWeight: Double, scales: RowGradientScales, prefetchLimit: Int
    ) -> RowSums {
        let chunk = self.chunk(
            x, targets: q, gradient: y, count: n, base: 0, prefetchLimit: prefetchLimit, scratch: nil)
        let row = Self.onlyChunk(chunk)
        if let y, !row.isBad {
            scale(y, targets: q, count: n, base: 0, chunk: chunk,
                  scaling: scaling(row: row, labelWeight: labelWeight, scales: scales), label: label)
        }
        return row
    }

    /// A 16-bit row, chunk by chunk (``halfChunk(_:targets:base:count:scratch:)``): its logits
    /// widened as the passes load them, or into `workspace` (`n` floats), its targets into the `n`
    /// floats after them, computed while in L1; with a gradient each chunk's exps are kept in the
    /// workspace, scaled there and rounded into `gradient` once. The row's 16-bit data is prefetched
    /// below its `prefetchLimit`, the workspace below its end (``HalfRow``).
    ///
    /// Not inlined, as ``row(_:targets:gradient:count:label:labelWeight:scales:workers:prefetchLimit:)``:
    /// a caller inlines ``oneChunkHalfRow(_:label:labelWeight:scales:)`` for a row of one chunk.
    @inline(never)
    func halfRow(
        _ row: HalfRow, label: Int, labelWeight: Double, scales: RowGradientScales, workers: Int
    ) -> RowSums {
        let n = row.classes
        if Self.fitsOneChunk(n) {
            return oneChunkHalfRow(row, label: label, labelWeight: labelWeight, scales: scales)
        }
        let targets: UnsafeMutablePointer<Float>? = row.targets == nil ? nil : row.workspace + n
        let shared = SharedUnsafe((row, targets))
        // Ascending: the rounding prefetches the 16-bit gradient ahead of the chunk, which a
        // descending walk would leave to miss (slower, the Performance article).
        return chunked(
            count: n, workers: workers, scaled: row.gradient != nil, soft: row.targets != nil, descending: false,
            labelWeight: labelWeight, scales: scales
        ) {
            base, len, scratch in
            let (row, targets) = shared.value
            return self.halfChunk(row, targets: targets, base: base, count: len, scratch: scratch)
        } scale: { scaling, base, len, chunk in
            let (row, targets) = shared.value
            self.scale(row.workspace + base, targets: targets.map { UnsafePointer($0 + base) }, count: len,
                       base: base, chunk: chunk, scaling: scaling, label: label,
                       half: (row.gradient! + base, row.prefetchLimit - base))
        }
    }

    /// A 16-bit row of one chunk (``fitsOneChunk(_:)``; the workspace is its scratch
    /// space), as ``halfRow(_:label:labelWeight:scales:workers:)`` computes it: no chunk table, no
    /// closures.
    @inline(__always)
    func oneChunkHalfRow(_ row: HalfRow, label: Int, labelWeight: Double, scales: RowGradientScales) -> RowSums {
        let n = row.classes
        let targets: UnsafeMutablePointer<Float>? = row.targets == nil ? nil : row.workspace + n
        let chunk = halfChunk(row, targets: targets, base: 0, count: n, scratch: row.workspace)
        let sums = Self.onlyChunk(chunk)
        if let gradient = row.gradient, !sums.isBad {
            scale(row.workspace, targets: targets.map { UnsafePointer($0) }, count: n, base: 0, chunk: chunk,
                  scaling: scaling(row: sums, labelWeight: labelWeight, scales: scales), label: label,
                  half: (gradient, row.prefetchLimit))
        }
        return sums
    }

    /// One chunk of a 16-bit row. Where the ISA has the 16-bit exp pass and the chunk needs its logits
    /// only there (no transform, no smoothing, no class weights with soft targets), its max and exps
    /// read the 16-bit logits themselves (``directHalfChunk(_:targets:base:count:max:nextRow:)``). Otherwise its
    /// logits are widened into the workspace (with its max, where the ISA fuses the two) and its
    /// targets beside them, then
    /// ``chunk(_:targets:gradient:count:base:prefetchLimit:scratch:max:nextRow:)`` runs there
    /// (`scratch` as for it). Either way, with a gradient the workspace keeps the chunk's
    /// exps for the scaling, and its targets are widened beside them.
    @inline(__always)
    private func halfChunk(
        _ row: HalfRow, targets: UnsafeMutablePointer<Float>?, base: Int, count len: Int,
        scratch: UnsafeMutablePointer<Float>?
    ) -> ChunkSums {
        let limit = row.prefetchLimit - base
        if let targets, let q = row.targets { widenHalf(len, q + base, targets + base, limit) }
        if raddstoreexpminusmaxHalf != nil, rmaxWidenHalf != nil, rfindeqHalf != nil, !transforms, !smoothing,
           row.targets == nil || params.class_weights == nil {
            return directHalfChunk(row, targets: targets.map { UnsafePointer($0 + base) }, base: base, count: len)
        }
        let x = row.workspace + base
        var max: Float? = nil
        if let rmaxWidenHalf {
            var m: Float = 0
            rmaxWidenHalf(len, row.logits + base, x, &m, limit)
            max = m
        } else {
            widenHalf(len, row.logits + base, x, limit)
        }
        return chunk(x, targets: targets.map { UnsafePointer($0 + base) }, gradient: row.gradient == nil ? nil : x,
                     count: len, base: base, prefetchLimit: row.classes - base + HalfRow.workspacePadding,
                     scratch: scratch, max: max)
    }

    /// Whether this format's smallest subnormal widens to a `Float` that compares equal to zero: a
    /// bfloat16 one under the caller's denormals-are-zero (a binary16 one widens to a normal Float).
    private func subnormalsWidenToZero() -> Bool {
        var smallest: UInt16 = 1
        var v: Float = 1
        widenHalf(1, &smallest, &v, 1)
        return v == 0
    }

    /// A chunk of a 16-bit row computed from its 16-bit logits, as
    /// ``chunk(_:targets:gradient:count:base:prefetchLimit:scratch:max:nextRow:)`` computes it without
    /// a transform or separate target sums, with the same bits as widening them first (the
    /// conversions are exact): the max (`rmaxwiden` storing nothing), the argmax by the max's
    /// 16-bit pattern (either zero's for a zero max), and the exp pass widening as it loads
    /// (`raddstoreexpminusmax` over 16 bits), its exps stored into the workspace when there is a
    /// gradient. The exp pass prefetches the next chunk's logits, the workspace and — for the
    /// scaling pass, whose stores then find their lines in cache — the 16-bit gradient.
    @inline(__always)
    func directHalfChunk(
        _ row: HalfRow, targets q: UnsafePointer<Float>?, base: Int, count len: Int, max: Float? = nil,
        nextRow: UnsafePointer<UInt16>? = nil
    ) -> ChunkSums {
        let x = row.logits + base
        var sums = ChunkSums()
        var m: Float = 0
        // No prefetches: the previous chunk's exp pass asked for this one's logits.
        if let max { m = max } else { rmaxWidenHalf!(len, x, nil, &m, 0) }
        sums.rawMax = m
        let shift: Float = m == -.infinity ? 0 : m
        sums.max = m
        sums.shift = shift
        let y = row.gradient == nil ? nil : row.workspace + base
        // The workspace may be prefetched up to its padding, the caller's buffers up to their limit.
        let limit = Swift.min(row.prefetchLimit, row.classes + HalfRow.workspacePadding) - base
        if let nextRow, let raddexpminusmaxRmaxNextHalf, y == nil, q == nil {
            raddexpminusmaxRmaxNextHalf(len, x, shift, &sums.sum, limit, nextRow, len, &sums.nextRowMax)
            if params.argmax != 0 { searchHalfArgmax(x, count: len, base: base, into: &sums) }
            return sums
        }
        var exps = (0.0, 0.0, 0.0)
        withUnsafeMutablePointer(to: &exps) {
            $0.withMemoryRebound(to: Double.self, capacity: 3) { s in
                raddstoreexpminusmaxHalf!(len, x, shift, q, y, row.gradient.map { $0 + base }, s, limit)
            }
        }
        sums.sum = exps.0
        if q != nil {
            sums.sumQ = exps.1
            sums.sumQGap = exps.2
        }
        // The argmax's search after the exp pass, where it costs binary16 calls less than before it
        // (Performance article): the logits are left as they were (the exps go to the workspace; an
        // in-place gradient is written by the scaling pass, after every chunk's step).
        if params.argmax != 0 { searchHalfArgmax(x, count: len, base: base, into: &sums) }
        return sums
    }

    /// The argmax's search over a 16-bit chunk, by the pattern of its max (`rawMax`, exact in 16 bits).
    @inline(__always)
    private func searchHalfArgmax(_ x: UnsafePointer<UInt16>, count len: Int, base: Int, into sums: inout ChunkSums) {
        var m = sums.rawMax, bits: UInt16 = 0
        // The max is a widened 16-bit value: bfloat16's pattern is its top half, no rounding call.
        if isBFloat16 { bits = UInt16(truncatingIfNeeded: m.bitPattern >> 16) } else { roundHalf(1, &m, &bits, 1) }
        // Either zero for a zero max of either sign, as the Float chunk's `==` (the sign of a zero
        // max may depend on the order its kernel compares in under a rounding mode other than to
        // nearest, and a carried max's kernel compares in another) — and, as that `==` under
        // denormals-are-zero, a bfloat16 subnormal (a zero exponent field), whose widened value
        // then equals zero (a binary16 subnormal widens to a normal Float).
        let zeroMask: UInt16 = m == 0 ? (subnormalsWidenToZero() ? 0x7f80 : 0x7fff) : 0
        let i = rfindeqHalf!(len, x, bits, zeroMask)
        if i < len { sums.argmax = base + i }
    }

    /// A row's chunks, each through `chunk` (over `workers` threads when there are several), the
    /// sums combined (``combine(_:)``), then — when `scaled` and the row is good — `scale` per chunk,
    /// with `descending` in groups of chunks from the last group to the first: the chunks written
    /// last are the ones still in cache when a row outgrows it (on several threads, in one thread's
    /// cache or the other's; ``Parallel/forEach(_:workers:minimumBlock:descendingGroups:_:)``); the
    /// bits are the same in any order.
    /// `chunk` gets a scratch buffer of the chunk's length where it needs one
    /// (``needsScratch(scaled:soft:)``; `soft`: the row has soft targets).
    @inline(__always)
    private func chunked(
        count n: Int, workers: Int, scaled: Bool, soft: Bool, descending: Bool, labelWeight: Double,
        scales: RowGradientScales,
        chunk: (_ base: Int, _ length: Int, _ scratch: UnsafeMutablePointer<Float>?) -> ChunkSums,
        scale: (_ scaling: RowScaling, _ base: Int, _ length: Int, _ chunk: ChunkSums) -> Void
    ) -> RowSums {
        let length = Self.chunkLength(classes: n)
        let count = (n + length - 1) / length
        let minimumChunks = Parallel.minimumBlockElements / length
        let needsScratch = needsScratch(scaled: scaled, soft: soft)
        return withUnsafeTemporaryAllocation(of: ChunkSums.self, capacity: count) { table in
            let workers = Swift.min(workers, count)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: needsScratch ? length * workers : 0) { scratch in
                if workers <= 1 {
                    // One thread: the same calls in the same order, without a closure per chunk.
                    for c in 0..<count {
                        let base = c * length
                        (table.baseAddress! + c).initialize(
                            to: chunk(base, Swift.min(length, n - base), scratch.baseAddress))
                    }
                    return
                }
                let shared = SharedUnsafe((table.baseAddress!, scratch.baseAddress))
                Parallel.forEach(count, workers: workers, minimumBlock: minimumChunks) { c, worker in
                    let (table, scratch) = shared.value
                    let base = c * length
                    let workspace = scratch.map { $0 + worker * length }
                    (table + c).initialize(to: chunk(base, Swift.min(length, n - base), workspace))
                }
            }
            let row = combine(table)
            guard scaled, !row.isBad else { return row }
            let scaling = self.scaling(row: row, labelWeight: labelWeight, scales: scales)
            // 32 chunks a group: 256 KiB of exps at 2048 classes a chunk, half of a small L2.
            let groups = descending ? 32 : 0
            if workers <= 1 {
                Parallel.walk(0..<count, descendingGroups: groups) { c in
                    let base = c * length
                    scale(scaling, base, Swift.min(length, n - base), table[c])
                }
                return row
            }
            let shared = SharedUnsafe(table.baseAddress!)
            Parallel.forEach(
                count, workers: workers, minimumBlock: minimumChunks, descendingGroups: groups
            ) { c, _ in
                let base = c * length
                scale(scaling, base, Swift.min(length, n - base), shared.value[c])
            }
            return row
        }
    }

    /// The transformed logit in `Double`, as the contract reads: `s·z` rounded to `Float`, the
    /// softcap in `Double` with the pinned `xent_f64_tanh` (so the loss's bits do not depend on
    /// the host's libm).
    @inline(__always)
    func exactTransform(_ z: Float) -> Double {
        let scaled = Double(z * params.logit_scale)
        guard params.softcap > 0 else { return scaled }
        let cap = Double(params.softcap)
        return cap * xent_f64_tanh(isa, scaled / cap)
    }
}
