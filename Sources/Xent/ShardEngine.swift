// The steps of a vocabulary-sharded call over a validated batch of one shard's columns: the local
// pass, the shard's sums at the global row maxima, the combine, the gradient. Each step runs the
// row pipeline's own functions on the same chunks as one call on the whole rows would.
import CXent

extension VocabShardState {
    static let tag = Double(0x5845_4E54) * 256 + 1  // "XENT", layout version 1

    // MARK: Step 1: the local pass

    /// Reads the shard once: every chunk's sums (and, with a gradient, its exps stored for the
    /// gradient step), and this shard's row maxima into `rowMaxima`.
    func beginMaxima(
        _ batch: Batch, options: SoftmaxCrossEntropy, shard: VocabShard, argmax: Bool,
        rowMaxima: UnsafeMutableBufferPointer<Double>
    ) throws(XentError) {
        guard options.kernel == .vector else {
            throw .unsupportedKernel(options.kernel, operation: "vocabulary shards")
        }
        let (isa, workers) = try options.checkOptions(
            rows: batch.rows, classes: shard.count, elements: batch.rows * shard.count)
        guard rowMaxima.count == batch.rows * VocabShard.maximaPerRow else {
            throw .lengthMismatch(
                argument: "rowMaxima", expected: batch.rows * VocabShard.maximaPerRow, actual: rowMaxima.count)
        }
        // Nothing has been written yet; from here on the call cannot fail.
        gradientWritten = false
        self.options = options
        self.shard = shard
        rows = batch.rows
        stride = batch.stride
        storage = batch.storage
        soft = batch.isSoft
        self.argmax = argmax
        self.isa = isa.cValue
        self.workers = workers
        chunkLength = RowPipeline.chunkLength(classes: shard.classes)
        firstChunk = shard.offset / chunkLength
        chunksPerRow = (shard.offset + shard.count - 1) / chunkLength - firstChunk + 1
        Self.resize(&rowInfo, rows, Row())
        Self.resize(&table, rows * chunksPerRow, ChunkSums())
        let keepsFloats = batch.storage != .float32 && batch.gradient != nil
        Self.resize(&floats, keepsFloats ? rows * shard.count : 0, 0)
        for row in 0..<rows {
            var info = Row()
            info.label = batch.labelAt(row) ?? -1
            if case .labels(let l, let ignoreIndex) = batch.targets, let ignoreIndex, l[row] == ignoreIndex {
                info.ignored = true
            }
            info.owns = !info.ignored && info.label >= shard.offset && info.label < shard.offset + shard.count
            rowInfo[row] = info
        }
        let params = options.parameters(
            weights: nil, crossEntropyDenominator: 1, zLossDenominator: 1, argmax: argmax, softTargets: soft)
        withWeights { weights in
            var params = params
            params.class_weights = weights
            var format = XENT_HALF_BINARY16
            if case .half(let f) = storage { format = f }
            let pipeline = RowPipeline(
                kernels: kernels ?? MicroKernels.config(self.isa), params: params, format: format)
            // Per worker: a chunk of scratch (a transform without a gradient) and, for 16-bit
            // rows, a Float row (and one of targets) when `floats` does not keep them.
            let halfRow = storage == .float32 ? 0 : shard.count * (soft ? 2 : 1)
            let perWorker = chunkLength + halfRow
            withUnsafeTemporaryAllocation(of: Float.self, capacity: perWorker * Swift.min(workers, rows)) { scratch in
                let shared = SharedUnsafe((scratch.baseAddress!, rowMaxima.baseAddress!))
                forEachRow { row, worker, info, chunks, floats in
                    let (scratch, maxima) = shared.value
                    self.localPass(
                        row, batch, pipeline, info: info, chunks: chunks, scratch: scratch + worker * perWorker,
                        floats: floats, maxima: maxima)
                }
            }
        }
        targets = batch.softTargets.map { ($0, batch.logitsCount) }
        gradient = batch.gradient.map { ($0, batch.logitsCount) }
        step = .maxima
    }

    /// Runs `body` for every row on ``workers`` threads with pointers to the row's record, its
    /// chunk sums and the kept `Float` rows (nil when there are none): each row's own memory, so
    /// the workers share nothing they write.
    private func forEachRow(
        _ body: (_ row: Int, _ worker: Int, _ info: UnsafeMutablePointer<Row>,
                 _ chunks: UnsafeMutablePointer<ChunkSums>, _ floats: UnsafeMutablePointer<Float>?) -> Void
    ) {
        rowInfo.withUnsafeMutableBufferPointer { info in
            table.withUnsafeMutableBufferPointer { table in
                floats.withUnsafeMutableBufferPointer { floats in
                    let kept = floats.isEmpty ? nil : floats.baseAddress
                    let pointers = SharedUnsafe((info.baseAddress!, table.baseAddress!, kept))
                    let perRow = chunksPerRow
                    let minimumRows = Parallel.minimumBlockElements / Swift.max(1, shard.count)
                    Parallel.forEach(rows, workers: workers, minimumBlock: minimumRows) { row, worker in
                        let (info, table, floats) = pointers.value
                        body(row, worker, info + row, table + row * perRow, floats)
                    }
                }
            }
        }
    }

    /// Calls `body` with the shard's class weights (nil without).
    func withWeights<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let weights = options.classWeights else { return body(nil) }
        return weights.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    private func localPass(
        _ row: Int, _ batch: Batch, _ pipeline: RowPipeline, info: UnsafeMutablePointer<Row>,
        chunks: UnsafeMutablePointer<ChunkSums>, scratch: UnsafeMutablePointer<Float>,
        floats: UnsafeMutablePointer<Float>?, maxima: UnsafeMutablePointer<Double>
    ) {
        guard !info.pointee.ignored else {
            for c in 0..<chunksPerRow { chunks[c] = ChunkSums() }
            maxima[2 * row] = -.infinity
            maxima[2 * row + 1] = -.infinity
            return
        }
        let n = shard.count, offset = row * batch.stride
        // The caller's buffers hold this row and the rows after it; the kept rows and the scratch,
        // the row (CXent.h: XENT_PREFETCH_DISTANCE).
        let callerLimit = (rows - 1 - row) * batch.stride + n
        let floatLimit = storage == .float32 ? callerLimit : n
        let x: UnsafeMutablePointer<Float>
        var q: UnsafePointer<Float>?
        var y: UnsafeMutablePointer<Float>?
        switch storage {
        case .float32:
            x = UnsafeMutableRawPointer(mutating: batch.logits).assumingMemoryBound(to: Float.self) + offset
            y = batch.gradient.map { $0.assumingMemoryBound(to: Float.self) + offset }
            q = batch.softTargets.map { $0.assumingMemoryBound(to: Float.self) + offset }
        case .half:
            // Widened chunk by chunk below (each chunk then computed while in L1), into the kept
            // rows (the exps wait there for the gradient step) or scratch.
            x = floats.map { $0 + row * n } ?? scratch + chunkLength
            if batch.softTargets != nil { q = UnsafePointer(scratch + chunkLength + n) }
            y = batch.gradient == nil ? nil : x
        }
        if info.pointee.owns {
            // Read before the exps may overwrite it (in place).
            let t = info.pointee.label - shard.offset
            var z: Float = 0
            if storage == .float32 {
                z = x[t]
            } else {
                pipeline.widenHalf(1, batch.logits.assumingMemoryBound(to: UInt16.self) + offset + t, &z, 1)
            }
            info.pointee.targetLogit = pipeline.exactTransform(z)
            info.pointee.targetWeight = pipeline.params.class_weights.map { Double($0[t]) } ?? 1
        }
        var m = -Float.infinity, raw = -Float.infinity
        for c in 0..<chunksPerRow {
            let (base, count) = piece(c)
            if storage != .float32 {
                pipeline.widenHalf(
                    count, batch.logits.assumingMemoryBound(to: UInt16.self) + offset + base, x + base,
                    callerLimit - base)
                if let targets = batch.softTargets, let q {
                    pipeline.widenHalf(
                        count, targets.assumingMemoryBound(to: UInt16.self) + offset + base,
                        UnsafeMutablePointer(mutating: q) + base, callerLimit - base)
                }
            }
            var sums = pipeline.chunk(
                x + base, targets: q.map { $0 + base }, gradient: y.map { $0 + base }, count: count, base: base,
                prefetchLimit: floatLimit - base, scratch: scratch)
            if sums.argmax >= 0 { sums.argmax += shard.offset }
            chunks[c] = sums
            if sums.max > m { m = sums.max }
            if sums.rawMax > raw { raw = sums.rawMax }
        }
        info.pointee.localMax = m
        info.pointee.localRawMax = raw
        maxima[2 * row] = Double(m)
        maxima[2 * row + 1] = Double(raw)
    }

    // MARK: Step 2: the shard's sums at the global maxima

    /// `value` as a `Float` when it is one exactly (±0, subnormals and ±inf included; not NaN), nil
    /// otherwise. A maximum travels as a Double; narrowing it with the conversion instruction would
    /// flush a subnormal max to zero under the caller's flush-to-zero, where one call keeps it, so
    /// a value below `Float`'s normals is rebuilt from its bits (m·2⁻¹⁴⁹, m < 2²³ a whole number).
    static func exactFloat(_ value: Double) -> Float? {
        let magnitude = Swift.abs(value)
        guard magnitude < 0x1p-126 && magnitude != 0 else {
            let narrowed = Float(value)
            return Double(narrowed) == value ? narrowed : nil
        }
        let m = magnitude * 0x1p149
        guard m.isWholeNumber else { return nil }
        return Float(bitPattern: (value.sign == .minus ? 0x8000_0000 : 0) | UInt32(m))
    }

    /// Reads the combined row maxima, checks them against this shard's, and returns each row's
    /// accumulators at the row max (setting every chunk's `toRow`) and the argmax candidate.
    func depositAtRowMaxima(
        _ rowMaxima: UnsafeBufferPointer<Double>, row body: (Int, RowAccumulators, Int, Row) -> Void
    ) throws(XentError) {
        guard rowMaxima.count == rows * VocabShard.maximaPerRow else {
            throw .lengthMismatch(
                argument: "rowMaxima", expected: rows * VocabShard.maximaPerRow, actual: rowMaxima.count)
        }
        for row in 0..<rows {
            let locals = (rowInfo[row].localMax, rowInfo[row].localRawMax)
            for k in 0..<2 {
                let value = rowMaxima[2 * row + k]
                // A maximum over ranks of Floats: a Float, at least this shard's own.
                guard Self.exactFloat(value) != nil, value >= Double(k == 0 ? locals.0 : locals.1) else {
                    throw .invalidShardStatistics(
                        field: k == 0 ? "rowMaxima (max)" : "rowMaxima (raw max)", row: row, value: value)
                }
            }
        }
        // Through pointers: one exclusive access to each array for the whole loop.
        rowInfo.withUnsafeMutableBufferPointer { rowInfo in
        table.withUnsafeMutableBufferPointer { table in
            for row in 0..<rows {
                rowInfo[row].rowMax = Self.exactFloat(rowMaxima[2 * row])!
                rowInfo[row].rawMax = Self.exactFloat(rowMaxima[2 * row + 1])!
                let info = rowInfo[row]
                var sums = RowAccumulators()
                var candidate = -1
                if !info.ignored {
                    let chunks = table.baseAddress! + row * chunksPerRow
                    for c in 0..<chunksPerRow { sums.deposit(&chunks[c], rowMax: info.rowMax, isa: isa) }
                    if argmax {
                        for c in 0..<chunksPerRow where chunks[c].rawMax == info.rawMax && chunks[c].argmax >= 0 {
                            candidate = chunks[c].argmax
                            break
                        }
                    }
                }
                body(row, sums, candidate, info)
            }
        }
        }
        step = .statistics
    }

    /// The deterministic block (``VocabShard/statisticsCount(rows:)`` Doubles).
    func writeStatistics(
        rowMaxima: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Double>
    ) throws(XentError) {
        let header: [Double] = [
            Self.tag, Double(shard.classes), Double(shard.offset), Double(shard.count), Double(rows),
            Double(chunkLength), flags, fingerprint,
        ]
        try depositAtRowMaxima(rowMaxima) { row, sums, candidate, info in
            let p = out + VocabShard.statisticsHeaderCount + row * VocabShard.statisticsPerRow
            p[0] = Double((info.ignored ? 1 : 0) | (info.owns ? 2 : 0))
            p[1] = Double(candidate)
            p[2] = sums.unmasked
            p[3] = info.owns ? info.targetLogit : 0
            p[4] = info.owns ? info.targetWeight : 0
            // This shard's own maxima: the combine checks that their maximum is the row max every
            // rank deposited at (a transport that reduced them wrongly is caught there).
            p[5] = info.ignored ? -.infinity : Double(info.localMax)
            p[6] = info.ignored ? -.infinity : Double(info.localRawMax)
            sums.sum.write(to: p + 7)
            sums.sumQ.write(to: p + 12)
            sums.sumQGap.write(to: p + 17)
            sums.sumW.write(to: p + 22)
            sums.sumWGap.write(to: p + 27)
        }
        for k in 0..<header.count { out[k] = header[k] }
    }

    /// The all-reduce form: `maximum` (rows × 1: the negated argmax candidate) and `sum`
    /// (rows × 9: owners, K, z_t, w_t, then the five sums rounded).
    func writeAllReduce(
        rowMaxima: UnsafeBufferPointer<Double>, maximum: UnsafeMutablePointer<Double>, sum: UnsafeMutablePointer<Double>
    ) throws(XentError) {
        try depositAtRowMaxima(rowMaxima) { row, sums, candidate, info in
            maximum[row] = candidate >= 0 ? -Double(candidate) : -.infinity
            let p = sum + row * VocabShard.allReduceSumPerRow
            p[0] = info.owns ? 1 : 0
            p[1] = sums.unmasked
            p[2] = info.owns ? info.targetLogit : 0
            p[3] = info.owns ? info.targetWeight : 0
            p[4] = sums.sum.value
            p[5] = sums.sumQ.value
            p[6] = sums.sumQGap.value
            p[7] = sums.sumW.value
            p[8] = sums.sumWGap.value
        }
    }

    // MARK: Step 3: the combine

    /// One row's totals from every shard: its sums, argmax, and the label's logit and weight.
    struct CombinedRow {
        var sums = RowSums()
        var targetLogit = 0.0, targetWeight = 0.0
    }

    /// Checks the gathered blocks (header, tiling, per-row agreement) and combines them, in any
    /// order they arrive (exact sums), into every row's totals.
    func combineStatistics(_ all: UnsafeBufferPointer<Double>) throws(XentError) -> [CombinedRow] {
        let block = VocabShard.statisticsCount(rows: rows)
        guard all.count > 0, all.count % block == 0 else {
            throw .statisticsNotMultipleOfBlock(count: all.count, block: block)
        }
        let shards = all.count / block
        let base = all.baseAddress!
        let expected: [(String, Double)] = [
            ("layout tag", Self.tag), ("classes", Double(shard.classes)), ("", 0), ("", 0), ("rows", Double(rows)),
            ("chunk length", Double(chunkLength)), ("flags", flags),
            ("options and labels fingerprint", fingerprint),
        ]
        var order = [(offset: Int, count: Int, index: Int)]()
        for s in 0..<shards {
            let h = base + s * block
            for (k, (field, value)) in expected.enumerated()
            where !field.isEmpty && h[k].bitPattern != value.bitPattern {
                throw .shardStatisticsMismatch(field: field, expected: value, actual: h[k])
            }
            guard h[2] >= 0, h[2] < Double(shard.classes), h[2].isWholeNumber, h[3] >= 1,
                  h[3] <= Double(shard.classes), h[3].isWholeNumber else {
                throw .shardStatisticsMismatch(field: "offset and count", expected: Double(shard.offset), actual: h[2])
            }
            order.append((Int(h[2]), Int(h[3]), s))
        }
        order.sort { $0.offset < $1.offset }
        var end = 0
        for entry in order {
            guard entry.offset == end else {
                throw .shardsDoNotTile(offset: entry.offset, expected: end, classes: shard.classes)
            }
            end = entry.offset + entry.count
        }
        guard end == shard.classes else {
            throw .shardsDoNotTile(offset: end, expected: shard.classes, classes: shard.classes)
        }

        // Counts below 2⁴⁵ each (ExactSum.init(reading:)): 2¹⁷ blocks cannot overflow an Int64.
        guard shards <= 1 << 17 else { throw .statisticsNotMultipleOfBlock(count: all.count, block: block) }
        var combined = [CombinedRow](repeating: CombinedRow(), count: rows)
        for row in 0..<rows {
            let info = rowInfo[row]
            var sums = RowAccumulators()
            var owners = 0, candidate = -1
            var maxima = (-Float.infinity, -Float.infinity)
            var result = CombinedRow()
            for entry in order {
                let p = base + entry.index * block + VocabShard.statisticsHeaderCount
                    + row * VocabShard.statisticsPerRow
                let flags = p[0]
                guard flags == 0 || flags == 1 || flags == 2, (flags == 1) == info.ignored else {
                    throw .invalidShardStatistics(field: "flags", row: row, value: flags)
                }
                if flags == 2 {
                    // The owner must hold the label; its weight is a class weight.
                    guard info.label >= entry.offset && info.label < entry.offset + entry.count else {
                        throw .invalidShardStatistics(field: "flags", row: row, value: flags)
                    }
                    guard p[4].isFinite && p[4] >= 0 else {
                        throw .invalidShardStatistics(field: "label weight", row: row, value: p[4])
                    }
                    owners += 1
                    result.targetLogit = p[3]
                    result.targetWeight = p[4]
                } else if p[3] != 0 || p[4] != 0 {
                    throw .invalidShardStatistics(
                        field: "label logit or weight", row: row, value: p[3] != 0 ? p[3] : p[4])
                }
                guard p[1] == -1 || (p[1] >= Double(entry.offset) && p[1] < Double(entry.offset + entry.count)
                                     && p[1].isWholeNumber) else {
                    throw .invalidShardStatistics(field: "argmax", row: row, value: p[1])
                }
                if p[1] >= 0 && (candidate < 0 || Int(p[1]) < candidate) { candidate = Int(p[1]) }
                guard p[2] >= 0, p[2] <= Double(entry.count), p[2].isWholeNumber else {
                    throw .invalidShardStatistics(field: "unmasked classes", row: row, value: p[2])
                }
                let shardMax = Self.exactFloat(p[5]), shardRawMax = Self.exactFloat(p[6])
                guard let shardMax, let shardRawMax else {
                    throw .invalidShardStatistics(
                        field: "shard maximum", row: row, value: shardMax == nil ? p[5] : p[6])
                }
                maxima = (Swift.max(maxima.0, shardMax), Swift.max(maxima.1, shardRawMax))
                var part = RowAccumulators()
                part.unmasked = p[2]
                part.sum = try Self.readSum(p + 7, row: row, field: "sum")
                part.sumQ = try Self.readSum(p + 12, row: row, field: "soft-target sum")
                part.sumQGap = try Self.readSum(p + 17, row: row, field: "soft-target gap sum")
                part.sumW = try Self.readSum(p + 22, row: row, field: "weight sum")
                part.sumWGap = try Self.readSum(p + 27, row: row, field: "weight gap sum")
                sums.merge(part)
            }
            let expectedOwners = soft || info.ignored ? 0 : 1
            guard owners == expectedOwners else {
                throw .invalidShardStatistics(field: "label owners", row: row, value: Double(owners))
            }
            // Every rank deposited at the same row maxima: the maxima of the shards' own (a maximum
            // of 0 may come as +0 from one shard and −0 from another, either kept; NaN as itself).
            guard maxima.0 == info.rowMax || maxima.0.bitPattern == info.rowMax.bitPattern || info.ignored else {
                throw .invalidShardStatistics(field: "row max", row: row, value: Double(info.rowMax))
            }
            guard maxima.1 == info.rawMax || maxima.1.bitPattern == info.rawMax.bitPattern || info.ignored else {
                throw .invalidShardStatistics(field: "raw row max", row: row, value: Double(info.rawMax))
            }
            result.sums = sums.rowSums(max: info.rowMax)
            result.sums.argmax = candidate
            // Σexp and Σw are sums of non-negative terms (NaN marks a bad row).
            guard !(result.sums.sum < 0), sums.sum.isFiniteOrNaN else {
                throw .invalidShardStatistics(field: "sum", row: row, value: result.sums.sum)
            }
            guard !(result.sums.sumW < 0) else {
                throw .invalidShardStatistics(field: "weight sum", row: row, value: result.sums.sumW)
            }
            combined[row] = result
        }
        return combined
    }

    private static func readSum(_ p: UnsafePointer<Double>, row: Int, field: String) throws(XentError) -> ExactSum {
        guard let sum = ExactSum(reading: p) else { throw .invalidShardStatistics(field: field, row: row, value: p[0]) }
        return sum
    }

    /// The all-reduce form's buffers read into every row's totals (rounded sums: within bounds).
    func combineAllReduced(
        maximum: UnsafeBufferPointer<Double>, sum: UnsafeBufferPointer<Double>
    ) throws(XentError) -> [CombinedRow] {
        guard maximum.count == rows * VocabShard.allReduceMaximumPerRow else {
            throw .lengthMismatch(argument: "maximum", expected: rows, actual: maximum.count)
        }
        guard sum.count == rows * VocabShard.allReduceSumPerRow else {
            throw .lengthMismatch(argument: "sum", expected: rows * VocabShard.allReduceSumPerRow, actual: sum.count)
        }
        var combined = [CombinedRow](repeating: CombinedRow(), count: rows)
        for row in 0..<rows {
            let p = sum.baseAddress! + row * VocabShard.allReduceSumPerRow
            let expectedOwners = soft || rowInfo[row].ignored ? 0.0 : 1.0
            guard p[0] == expectedOwners else {
                throw .invalidShardStatistics(field: "label owners", row: row, value: p[0])
            }
            let negated = maximum[row]
            guard negated == -.infinity
                || (negated <= 0 && negated > -Double(shard.classes) && negated.isWholeNumber)
            else { throw .invalidShardStatistics(field: "argmax", row: row, value: negated) }
            var sums = RowSums()
            sums.max = rowInfo[row].rowMax
            sums.argmax = negated == -.infinity ? -1 : Int(-negated)
            sums.unmasked = p[1]
            (sums.sum, sums.sumQ, sums.sumQGap, sums.sumW, sums.sumWGap) = (p[4], p[5], p[6], p[7], p[8])
            combined[row] = CombinedRow(sums: sums, targetLogit: p[2], targetWeight: p[3])
        }
        return combined
    }

    /// The row results, per-row outputs and reduced loss from the combined rows, exactly as one
    /// call's ``Batch/runRows(_:_:weights:rowWeights:denominators:isa:threads:into:)`` forms them; keeps what the gradient needs.
    func finish(_ combined: [CombinedRow], rowStatistics: RowStatistics.Buffers) -> Float {
        let loss = withUnsafeTemporaryAllocation(of: RowResult.self, capacity: rows) { results in
            withOptionalBuffer(options.rowWeights) { rowWeights in
                let (participating, weighted) = rowResults(combined, rowWeights: rowWeights, into: results)
                let mean = options.reduction == .mean
                let weightedRows = options.classWeights != nil && !soft || options.rowWeights != nil
                crossEntropyDenominator = mean ? options.divisor ?? (weightedRows ? weighted : participating) : 1
                zLossDenominator = mean ? participating : 1
                var sums = LossSums()
                reduce(results, rowWeights: rowWeights, rowStatistics: rowStatistics, into: &sums)
                return sums.reduced(
                    by: Denominators(crossEntropy: crossEntropyDenominator, zLoss: zLossDenominator))
            }
        }
        step = .combined
        return loss
    }

    /// Every row's result from its combined totals (recorded for the gradient step too), and the
    /// rows taking part: their weights' sum, and that sum weighted by the labels' class weights.
    func rowResults(
        _ combined: [CombinedRow], rowWeights: UnsafePointer<Float>?,
        into results: UnsafeMutableBufferPointer<RowResult>
    ) -> (participating: Double, weighted: Double) {
        let alpha = Double(options.labelSmoothing)
        var participating = 0.0, weighted = 0.0
        rowInfo.withUnsafeMutableBufferPointer { rowInfo in
            for row in 0..<rows {
                let c = combined[row]
                rowInfo[row].sums = c.sums
                rowInfo[row].targetWeight = c.targetWeight
                if rowInfo[row].ignored {
                    results[row] = RowResult(crossEntropy: 0, logSumExp: 0, argmax: -1)
                    rowInfo[row].isNaN = false
                    continue
                }
                let r = rowWeights.map { Double($0[row]) } ?? 1
                participating += r
                weighted += r * (soft ? 1 : c.targetWeight)
                let result = c.sums.isBad ? RowResult.bad
                    : soft ? VectorKernel.softResult(c.sums, alpha: alpha)
                    : VectorKernel.labelResult(c.sums, zt: c.targetLogit, weight: c.targetWeight, alpha: alpha)
                results[row] = result
                rowInfo[row].isNaN = result.crossEntropy.isNaN || result.logSumExp.isNaN
            }
        }
        return (participating, weighted)
    }

    /// The rows' loss parts added to `sums` in row order and their outputs written, as one call's
    /// reduction does.
    func reduce(
        _ results: UnsafeMutableBufferPointer<RowResult>, rowWeights: UnsafePointer<Float>?,
        rowStatistics: RowStatistics.Buffers, into sums: inout LossSums
    ) {
        Batch.reduce(
            results, lambda: Double(options.zLossScale), rowWeights: rowWeights, isa: isa,
            outputs: (rowStatistics.losses?.baseAddress, rowStatistics.logSumExp?.baseAddress,
                      rowStatistics.argmax?.baseAddress),
            into: &sums)
    }

    // MARK: Step 4: the gradient

    /// The shard's gradient from the stored exps and the combined totals: the same scaling, chunk
    /// by chunk, as one call's; 16-bit rows rounded once into `gradient`.
    func writeGradient(gradient: UnsafeMutableRawPointer, targets: UnsafeRawPointer?) {
        gradientWritten = true
        var format = XENT_HALF_BINARY16
        if case .half(let f) = storage { format = f }
        let n = shard.count
        withWeights { weights in
            let params = options.parameters(
                weights: weights, crossEntropyDenominator: crossEntropyDenominator,
                zLossDenominator: zLossDenominator, argmax: argmax, softTargets: soft)
            let pipeline = RowPipeline(kernels: kernels ?? MicroKernels.config(isa), params: params, format: format)
            let halfTargets = storage != .float32 && soft ? n : 0
            let scratchCount = Swift.max(1, halfTargets * Swift.min(workers, rows))
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
              withOptionalBuffer(options.rowWeights) { rowWeights in
                let shared = SharedUnsafe((scratch.baseAddress!, gradient, targets, rowWeights))
                forEachRow { row, worker, info, chunks, floats in
                    let (scratch, gradient, targets, rowWeights) = shared.value
                    self.gradientRow(
                        row, info.pointee, pipeline, chunks: chunks, gradient: gradient, targets: targets,
                        floats: floats, scratch: scratch + worker * halfTargets, rowWeights: rowWeights)
                }
              }
            }
        }
    }

    private func gradientRow(
        _ row: Int, _ info: Row, _ pipeline: RowPipeline, chunks: UnsafeMutablePointer<ChunkSums>,
        gradient: UnsafeMutableRawPointer, targets: UnsafeRawPointer?, floats: UnsafeMutablePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>, rowWeights: UnsafePointer<Float>?
    ) {
        let n = shard.count, offset = row * stride
        let callerLimit = (rows - 1 - row) * stride + n  // as in the statistics step
        if info.ignored {
            let bytes = storage.elementSize
            (gradient + offset * bytes).initializeMemory(as: UInt8.self, repeating: 0, count: n * bytes)
            return
        }
        let y: UnsafeMutablePointer<Float>
        var q: UnsafePointer<Float>?
        switch storage {
        case .float32:
            y = gradient.assumingMemoryBound(to: Float.self) + offset
            q = targets.map { $0.assumingMemoryBound(to: Float.self) + offset }
        case .half:
            y = floats! + row * n
            if let targets {
                pipeline.widenHalf(n, targets.assumingMemoryBound(to: UInt16.self) + offset, scratch, callerLimit)
                q = UnsafePointer(scratch)
            }
        }
        if info.isNaN {
            y.update(repeating: .nan, count: n)
        } else {
            let rowParams = Batch.rowParameters(pipeline.params, rowWeights.map { $0[row] })
            let scaling = pipeline.scaling(
                row: info.sums, labelWeight: info.targetWeight, scales: RowGradientScales(rowParams))
            let label = info.owns ? info.label - shard.offset : -1
            for c in 0..<chunksPerRow {
                let (base, count) = piece(c)
                pipeline.scale(
                    y + base, targets: q.map { $0 + base }, count: count, base: base, chunk: chunks[c],
                    scaling: scaling, label: label)
            }
        }
        if storage != .float32 {
            pipeline.roundHalf(n, y, gradient.assumingMemoryBound(to: UInt16.self) + offset, callerLimit)
        }
    }
}
