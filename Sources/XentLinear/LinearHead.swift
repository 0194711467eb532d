// One call of the fused linear head: the checks of every buffer, then the rows block by block —
// logits by sgemm, Xent in place, the block's share of ∂H, ∂W and ∂b.
import Xent

/// What gradient filtering did in a call (``LinearCrossEntropy/gradientFilter``): tiles of a row
/// block × ``LinearCrossEntropy/filterTileClasses`` classes, and how many were left out of `∂H`
/// and `∂W`.
public final class GradientFilterReport {
    /// Tiles looked at (every row block's, added up).
    public internal(set) var tiles = 0
    /// Tiles whose every gradient entry was below the threshold.
    public internal(set) var skippedTiles = 0

    /// The share of tiles skipped, in [0, 1] (0 before any call).
    public var skippedFraction: Double { tiles == 0 ? 0 : Double(skippedTiles) / Double(tiles) }

    /// An empty report; a call adds its tiles to it.
    public init() {}
}

/// A checked call: buffers and shape that the block loop may trust.
struct LinearHead {
    let plan: RowBlockPlan
    let rows: Int, classes: Int, hiddenSize: Int
    let hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    let gradients: LinearGradientBuffers
    let rowStatistics: RowStatistics.Buffers
    /// Rows per block: as many as ``LinearCrossEntropy/workspaceBytes`` holds, at most `rows`.
    let blockRows: Int
    /// The filter's threshold on `|G_ij|` (`ε·σ`), or nil.
    let filterThreshold: Float?
    let threads: Int?

    /// Checks every buffer against the planned shape and each other; throws before anything is
    /// written. `targets` names the labels or soft targets (an input no output may overlap) and
    /// their elements per row.
    init(
        _ options: LinearCrossEntropy, plan: RowBlockPlan, hidden: UnsafeBufferPointer<Float>,
        weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        targets: (name: String, bytes: UnsafeRawBufferPointer, perRow: Int), gradients: LinearGradientBuffers,
        rowStatistics: RowStatistics.Buffers
    ) throws(XentError) {
        let rows = plan.rows
        let classes = plan.classes
        let d = try Self.hiddenSize(
            rows: rows, classes: classes, hiddenCount: hidden.count, weightCount: weight.count,
            biasCount: bias?.count, rowSource: (targets.name, targets.perRow))
        let weightCount = classes * d
        for (name, count, expected) in [
            ("gradients.hidden", gradients.hidden?.count, hidden.count),
            ("gradients.weight", gradients.weight?.count, weightCount),
            ("gradients.bias", gradients.bias?.count, classes),
            ("rowStatistics.losses", rowStatistics.losses?.count, rows),
            ("rowStatistics.logSumExp", rowStatistics.logSumExp?.count, rows),
            ("rowStatistics.argmax", rowStatistics.argmax?.count, rows),
        ] {
            if let count, count != expected { throw .lengthMismatch(argument: name, expected: expected, actual: count) }
        }
        if options.crossEntropy.reduction == .none && rowStatistics.losses == nil { throw .rowLossesRequired }
        let rowBytes = classes.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !rowBytes.overflow, options.workspaceBytes >= rowBytes.partialValue else {
            throw .invalidOption(
                name: "workspaceBytes", value: Double(options.workspaceBytes),
                requirement: "≥ 4 × classes = \(rowBytes.partialValue) bytes (one row of logits)")
        }
        if let epsilon = options.gradientFilter, !(epsilon.isFinite && epsilon >= 0) {
            throw .invalidOption(name: "gradientFilter", value: Double(epsilon), requirement: "finite and ≥ 0")
        }
        try Self.checkOverlaps(
            inputs: [
                ("hidden", UnsafeRawBufferPointer(hidden)), ("weight", UnsafeRawBufferPointer(weight)),
                ("bias", bias.map(UnsafeRawBufferPointer.init)), (targets.name, targets.bytes),
            ],
            outputs: [
                ("gradients.hidden", gradients.hidden.map { UnsafeRawBufferPointer($0) }),
                ("gradients.weight", gradients.weight.map { UnsafeRawBufferPointer($0) }),
                ("gradients.bias", gradients.bias.map { UnsafeRawBufferPointer($0) }),
                ("rowStatistics.losses", rowStatistics.losses.map { UnsafeRawBufferPointer($0) }),
                ("rowStatistics.logSumExp", rowStatistics.logSumExp.map { UnsafeRawBufferPointer($0) }),
                ("rowStatistics.argmax", rowStatistics.argmax.map { UnsafeRawBufferPointer($0) }),
            ])
        self.plan = plan
        self.rows = rows
        self.classes = classes
        hiddenSize = d
        self.hidden = hidden.baseAddress!
        self.weight = weight.baseAddress!
        self.bias = bias?.baseAddress
        self.gradients = gradients
        self.rowStatistics = rowStatistics
        blockRows = Swift.min(rows, options.workspaceBytes / rowBytes.partialValue)
        // σ: under `.mean` (no divisor), the gradient's scale for a row of the average weight over the
        // rows of weight above 0 — which, as `.mean`'s gradient, does not move when every class weight
        // or every row weight is scaled; else for a row of weight 1. No such row: nothing to skip.
        let ce = options.crossEntropy
        let mean = ce.reduction == .mean && ce.divisor == nil
        let scale = mean ? Double(plan.weightedRows) : plan.crossEntropyDenominator
        filterThreshold = options.gradientFilter.map {
            scale > 0 ? Float(Double($0) * Double(abs(ce.gradientScale)) / scale) : 0
        }
        threads = options.threads
    }

    /// The hidden size, `hidden.count / rows`, once `hidden`, `weight` and `bias` hold what `rows`
    /// rows and `classes` classes (both ≥ 1) need. Every dimension is held to the BLAS's 32-bit
    /// interface before `classes × hidden size` is formed, which therefore fits in `Int`. `rowSource`
    /// names what gave `rows` (the labels, or the soft targets with `perRow` = classes). Which
    /// buffer is wrong can be ambiguous: where the weight reads as a whole hidden size above 1 that
    /// `hidden` holds a whole number of rows of, but not `rows` of them, the error names the labels
    /// or targets (a batch's rows go wrong more often than a model's weight); else, as before, the
    /// hidden size is `hidden`'s per row and a weight of another size is named.
    static func hiddenSize(
        rows: Int, classes: Int, hiddenCount: Int, weightCount: Int, biasCount: Int?,
        rowSource: (name: String, perRow: Int)
    ) throws(XentError) -> Int {
        if weightCount > classes, weightCount % classes == 0, hiddenCount % (weightCount / classes) == 0 {
            let hiddenRows = hiddenCount / (weightCount / classes)
            let (expected, overflow) = hiddenRows.multipliedReportingOverflow(by: rowSource.perRow)
            if hiddenRows != rows, hiddenRows >= 1, !overflow {
                throw .lengthMismatch(argument: rowSource.name, expected: expected, actual: rows * rowSource.perRow)
            }
        }
        guard hiddenCount >= rows, hiddenCount % rows == 0 else {
            throw .lengthNotMultiple(argument: "hidden", count: hiddenCount, multiple: rows, of: "the rows")
        }
        let d = hiddenCount / rows
        for (name, dimension) in [("rows", rows), ("classes", classes), ("hidden size", d)]
        where dimension > BLAS.maxDimension {
            throw .invalidOption(
                name: name, value: Double(dimension),
                requirement: "≤ \(BLAS.maxDimension) (the BLAS's 32-bit interface)")
        }
        guard weightCount == classes * d else {
            throw .lengthMismatch(argument: "weight", expected: classes * d, actual: weightCount)
        }
        if let biasCount, biasCount != classes {
            throw .lengthMismatch(argument: "bias", expected: classes, actual: biasCount)
        }
        return d
    }

    /// No output may share a byte with an input or with another output.
    private static func checkOverlaps(
        inputs: [(String, UnsafeRawBufferPointer?)], outputs: [(String, UnsafeRawBufferPointer?)]
    ) throws(XentError) {
        let all = inputs + outputs
        for later in inputs.count..<all.count {
            guard let a = all[later].1, let a0 = a.baseAddress, a.count > 0 else { continue }
            for earlier in 0..<later {
                guard let b = all[earlier].1, let b0 = b.baseAddress, b.count > 0 else { continue }
                if a0 < b0 + b.count && b0 < a0 + a.count {
                    throw .overlappingBuffers(first: all[later].0, second: all[earlier].0)
                }
            }
        }
    }

    typealias BlockLoss = (
        RowBlockPlan, Int, UnsafeMutableBufferPointer<Float>, Bool, RowStatistics.Buffers, inout LossSums
    ) throws(XentError) -> Void

    /// Every row block in order: its logits (`z = H_c·Wᵀ + b`), `blockLoss` in place on them (the
    /// loss and, when a gradient is wanted, `G_c` over `z`), then `∂b += Σ G_c`, `∂H_c = G_c·W` and
    /// `∂W += G_cᵀ·H_c`. Returns the reduced loss.
    ///
    /// The BLAS runs on one thread inside every call; the call's threads run fixed jobs (panels of
    /// ``classPanel`` classes, and `∂H` whole), so every product has the same shape, operands and
    /// position within its call for any thread count, and the bits do not depend on it.
    func run(
        _ blockLoss: BlockLoss, options: LinearCrossEntropy, filterReport: GradientFilterReport?
    ) throws(XentError) -> Float {
        let wantsGradient = gradients.wantsGradient
        let workspace = try Workspace(floats: blockRows * classes, budget: options.workspaceBytes)
        defer { workspace.release() }
        let z = workspace.floats
        var sums = LossSums()
        BLAS.useCallingThreadOnly()
        if !gradients.accumulate {
            gradients.bias.map { $0.update(repeating: 0) }
            // With filtering, ∂W is added to tile by tile; without, the first block overwrites it.
            if filterThreshold != nil { gradients.weight.map { $0.update(repeating: 0) } }
        }
        for first in stride(from: 0, to: rows, by: blockRows) {
            let n = Swift.min(blockRows, rows - first)
            try block(
                first: first, rows: n, z: z, wantsGradient: wantsGradient, blockLoss, sums: &sums,
                overwriteWeightGradient: first == 0 && !gradients.accumulate && filterThreshold == nil,
                filterReport: filterReport)
        }
        return options.crossEntropy.reducedLoss(sums, plan)
    }

    // MARK: The loss without a gradient

    /// Where the loss without a gradient takes its logits: blocks of `rows` rows × panels of
    /// `classes` classes.
    struct LossTiles: Equatable {
        let rows: Int, classes: Int
    }

    /// A panel's products: this many (a last panel of at most 784 classes may have fewer), so that
    /// up to eight threads share them evenly; each a whole number of 64-byte lines wide but the
    /// last, so that no two products write one line of the tile.
    static let jobsPerLossPanel = 8

    /// Panels are multiples of this many classes (and of Xent's row chunk): steps fine enough that
    /// a panel beside which every row fits (`W` then read once) exists more often, while a full
    /// panel's products keep at least 512 classes.
    static let lossPanelStep = 4096

    /// The columns of a panel's products, for the panel of classes `offset ..< offset + count`.
    static func lossProducts(offset: Int, count: Int) -> [Range<Int>] {
        let line = 64 / MemoryLayout<Float>.stride
        let share = (count + jobsPerLossPanel - 1) / jobsPerLossPanel
        let width = (share + line - 1) / line * line
        return stride(from: offset, to: offset + count, by: width).map { $0..<Swift.min(offset + count, $0 + width) }
    }

    /// Products narrower than this many classes (panels narrower than eight of them, a last panel
    /// apart) are avoided where a wider panel holds every row: with every row, panels of 4096
    /// classes (512-class products) measured slower on two threads than wider ones, each product
    /// packing its rows of `H` again.
    static let lossProductClasses = 1024

    /// The tiles of the loss without a gradient, or nil where blocks of whole rows hold as many
    /// rows. A panel is a multiple of ``lossPanelStep`` and of Xent's row chunk (the panels then
    /// combine bitwise as one call on the whole rows does). Where every row fits the workspace
    /// beside some panel (`W` then read once whatever its width), it is the widest whose logits for
    /// every row take at most half the workspace — less memory than the widest, measured no slower
    /// at the default workspace — but no narrower than eight products of ``lossProductClasses``
    /// where such a panel lets every row fit; else the narrowest. The workspace holds a tile's
    /// logits and what Xent keeps per row of the tile; the rows are dealt out evenly over as few
    /// blocks as that allows.
    static func lossTiles(rows: Int, classes: Int, workspaceBytes: Int, blockRows: Int) -> LossTiles? {
        let floatSize = MemoryLayout<Float>.stride
        let chunk = VocabShard.alignment(classes: classes)
        var unit = lossPanelStep
        while unit % chunk != 0 { unit += lossPanelStep }
        let narrowest = unit
        guard narrowest < classes else { return nil }
        func rowsFitting(_ panel: Int) -> Int {
            let (perRow, fixed) = VocabShard.panelBookkeeping(classes: classes, panel: panel)
            return Swift.max(0, workspaceBytes - fixed) / (floatSize * panel + perRow)
        }
        // The widest panel whose logits for every row take at most `bytes` that lets every row fit,
        // else the narrowest. No wider than the classes rounded up to a unit: such a panel holds
        // whole rows, and a wider one (a workspace near Int.max) would overflow its row's bytes.
        func widestFitting(_ bytes: Int) -> Int {
            let widest = Swift.min(bytes / floatSize / rows, (classes + unit - 1) / unit * unit)
            var panel = Swift.max(narrowest, widest / unit * unit)
            while panel > narrowest && rowsFitting(panel) < rows { panel -= unit }
            return panel
        }
        var panel = widestFitting(workspaceBytes)
        if rowsFitting(panel) >= rows {
            let fullProducts = (jobsPerLossPanel * lossProductClasses + unit - 1) / unit * unit
            panel = Swift.max(widestFitting(workspaceBytes / 2), Swift.min(panel, fullProducts))
        }
        guard panel < classes else { return nil }
        let most = Swift.min(rows, rowsFitting(panel))
        guard most > blockRows else { return nil }
        let blocks = (rows + most - 1) / most
        let tileRows = (rows + blocks - 1) / blocks
        return tileRows > blockRows ? LossTiles(rows: tileRows, classes: panel) : nil
    }

    /// The loss against class labels without a gradient, its logits formed a tile at a time
    /// (`tiles`) and each tile read once by Xent's `RowPanelLoss`: the same loss and row outputs,
    /// bitwise, as the blocks of whole rows given the same logits. Returns the reduced loss.
    func loss<Label: ClassLabel>(
        labels: UnsafeBufferPointer<Label>, tiles: LossTiles, options: LinearCrossEntropy
    ) throws(XentError) -> Float {
        let panelWidth = tiles.classes
        let workspace = try Workspace(floats: tiles.rows * panelWidth, budget: options.workspaceBytes)
        defer { workspace.release() }
        let z = workspace.floats
        let rowLoss = try RowPanelLoss<Label>(
            options.crossEntropy, plan: plan, argmax: rowStatistics.argmax != nil)
        var sums = LossSums()
        BLAS.useCallingThreadOnly()
        for first in stride(from: 0, to: rows, by: tiles.rows) {
            let n = Swift.min(tiles.rows, rows - first)
            let shared = Jobs.Shared((z, hidden + first * hiddenSize))
            rowLoss.begin(firstRow: first, labels: UnsafeBufferPointer(rebasing: labels[first..<first + n]))
            for offset in stride(from: 0, to: classes, by: panelWidth) {
                let count = Swift.min(panelWidth, classes - offset)
                let products = Self.lossProducts(offset: offset, count: count)
                Jobs.run(products.count, workers: plan.workers) { p in
                    let (z, h) = shared.value
                    let columns = products[p]
                    self.logits(rows: n, h: h, columns: columns, into: z + columns.lowerBound - offset,
                                rowStride: panelWidth)
                }
                try rowLoss.add(
                    logits: UnsafeBufferPointer(start: z, count: (n - 1) * panelWidth + count), rowStride: panelWidth,
                    offset: offset, count: count)
            }
            try rowLoss.finish(rowStatistics: rowStatistics.rows(first..<first + n), into: &sums)
        }
        return options.crossEntropy.reducedLoss(sums, plan)
    }

    /// Classes per job of the products whose rows are classes (the logits' columns, `∂W`'s rows):
    /// fixed, so the jobs do not depend on the thread count.
    static let classPanel = 4096

    private var panels: Int { (classes + Self.classPanel - 1) / Self.classPanel }

    private func panel(_ p: Int) -> Range<Int> {
        p * Self.classPanel..<Swift.min(classes, (p + 1) * Self.classPanel)
    }

    private func block(
        first: Int, rows n: Int, z: UnsafeMutablePointer<Float>, wantsGradient: Bool, _ blockLoss: BlockLoss,
        sums: inout LossSums, overwriteWeightGradient: Bool, filterReport: GradientFilterReport?
    ) throws(XentError) {
        let d = hiddenSize
        let v = classes
        let h = hidden + first * d
        let shared = Jobs.Shared((z, h))
        Jobs.run(panels, workers: plan.workers) { p in
            let (z, h) = shared.value
            let columns = self.panel(p)
            self.logits(rows: n, h: h, columns: columns, into: z + columns.lowerBound, rowStride: v)
        }
        try blockLoss(
            plan, first, UnsafeMutableBufferPointer(start: z, count: n * v), wantsGradient,
            rowStatistics.rows(first..<first + n), &sums)
        guard wantsGradient else { return }
        let kept = keptTiles(z, rows: n, report: filterReport)
        // Job 0 is ∂H (one product over every class, the largest job, claimed first); jobs 1… are
        // the panels of ∂W and ∂b. With ∂W asked for, ∂H costs about as much as all the panels
        // together: on two threads one thread mostly takes it and the other the panels.
        let hasHidden = gradients.hidden != nil
        Jobs.run((hasHidden ? 1 : 0) + panels, workers: plan.workers) { job in
            let (z, h) = shared.value
            if hasHidden && job == 0 {
                self.hiddenGradient(z, h: h, first: first, rows: n, kept: kept)
            } else {
                self.weightGradient(
                    z, h: h, rows: n, panel: self.panel(job - (hasHidden ? 1 : 0)), kept: kept,
                    overwrite: overwriteWeightGradient)
            }
        }
    }

    /// `z = H_c·Wᵀ + b` for `columns` of `n` rows (`h` their first): one product, its rows
    /// `rowStride` apart from `z`, whose column 0 is class `columns.lowerBound`.
    private func logits(rows n: Int, h: UnsafePointer<Float>, columns: Range<Int>, into z: UnsafeMutablePointer<Float>,
                        rowStride: Int) {
        let d = hiddenSize
        if let bias {
            for i in 0..<n { (z + i * rowStride).update(from: bias + columns.lowerBound, count: columns.count) }
        }
        BLAS.sgemm(
            transposeA: false, transposeB: true, m: n, n: columns.count, k: d, alpha: 1, a: h, lda: d,
            b: weight + columns.lowerBound * d, ldb: d, beta: bias == nil ? 0 : 1, c: z, ldc: rowStride)
    }

    /// `∂H_c = G_c·W` over the kept classes (all without filtering), in one product per run of them.
    private func hiddenGradient(
        _ g: UnsafeMutablePointer<Float>, h: UnsafePointer<Float>, first: Int, rows n: Int, kept: [Bool]?
    ) {
        let d = hiddenSize
        let v = classes
        let dh = gradients.hidden!.baseAddress! + first * d
        let runs = keptRuns(kept, in: 0..<v)
        if runs.isEmpty { dh.update(repeating: 0, count: n * d) }
        for (index, run) in runs.enumerated() {
            BLAS.sgemm(
                transposeA: false, transposeB: false, m: n, n: d, k: run.count, alpha: 1, a: g + run.lowerBound, lda: v,
                b: weight + run.lowerBound * d, ldb: d, beta: index == 0 ? 0 : 1, c: dh, ldc: d)
        }
    }

    /// One panel of `∂W += G_cᵀ·H_c` (kept classes only) and of `∂b += Σ_rows G_c` (every class,
    /// row by row in row order).
    private func weightGradient(
        _ g: UnsafeMutablePointer<Float>, h: UnsafePointer<Float>, rows n: Int, panel: Range<Int>, kept: [Bool]?,
        overwrite: Bool
    ) {
        let d = hiddenSize
        let v = classes
        if let biasGradient = gradients.bias?.baseAddress {
            for i in 0..<n {
                let row = g + i * v
                for j in panel { biasGradient[j] += row[j] }
            }
        }
        guard let weightGradient = gradients.weight?.baseAddress else { return }
        for run in keptRuns(kept, in: panel) {
            BLAS.sgemm(
                transposeA: true, transposeB: false, m: run.count, n: d, k: n, alpha: 1, a: g + run.lowerBound, lda: v,
                b: h, ldb: d, beta: overwrite ? 0 : 1, c: weightGradient + run.lowerBound * d, ldc: d)
        }
    }

    /// Which tiles of ``LinearCrossEntropy/filterTileClasses`` classes hold an entry at or above
    /// the filter's threshold (nil without filtering: every class is kept).
    private func keptTiles(_ g: UnsafePointer<Float>, rows n: Int, report: GradientFilterReport?) -> [Bool]? {
        guard let threshold = filterThreshold else { return nil }
        let tile = LinearCrossEntropy.filterTileClasses
        let tiles = (classes + tile - 1) / tile
        var kept = [Bool](repeating: false, count: tiles)
        kept.withUnsafeMutableBufferPointer { kept in
            let shared = Jobs.Shared(kept)
            // Panels hold whole tiles (the panel is a multiple of the tile).
            Jobs.run(panels, workers: plan.workers) { p in
                let columns = self.panel(p)
                for t in columns.lowerBound / tile..<(columns.upperBound + tile - 1) / tile {
                    let start = t * tile
                    let end = Swift.min(classes, start + tile)
                    rows: for i in 0..<n {
                        let row = g + i * classes
                        for j in start..<end where !(abs(row[j]) < threshold) {
                            shared.value[t] = true
                            break rows
                        }
                    }
                }
            }
        }
        report?.tiles += tiles
        report?.skippedTiles += kept.count { !$0 }
        return kept
    }

    /// The runs of kept classes within `range` (a whole panel or every class), adjacent tiles merged.
    private func keptRuns(_ kept: [Bool]?, in range: Range<Int>) -> [Range<Int>] {
        guard let kept else { return [range] }
        let tile = LinearCrossEntropy.filterTileClasses
        var runs: [Range<Int>] = []
        for t in range.lowerBound / tile..<(range.upperBound + tile - 1) / tile where kept[t] {
            let start = t * tile
            let end = Swift.min(range.upperBound, start + tile)
            if let last = runs.last, last.upperBound == start {
                runs[runs.count - 1] = last.lowerBound..<end
            } else {
                runs.append(start..<end)
            }
        }
        return runs
    }
}

extension RowStatistics.Buffers {
    /// The outputs of `rows` only.
    func rows(_ rows: Range<Int>) -> RowStatistics.Buffers {
        RowStatistics.Buffers(
            losses: losses.map { UnsafeMutableBufferPointer(rebasing: $0[rows]) },
            logSumExp: logSumExp.map { UnsafeMutableBufferPointer(rebasing: $0[rows]) },
            argmax: argmax.map { UnsafeMutableBufferPointer(rebasing: $0[rows]) })
    }
}
