// The batch engine: one call's rows over a kernel — parameters, threads, ignored and bad rows,
// per-row outputs, the batched log S and the reduction.
import CXent

/// `.mean`'s two denominators (NUMERICS.md "Reduction"), or 1 and 1 for `.sum` and `.none`.
package struct Denominators: Sendable {
    /// The cross-entropy part's: the caller's divisor, else `Σ r_i·w_{t_i}` over the rows that take
    /// part (1 for a missing weight).
    var crossEntropy: Double
    /// The z-loss part's: `Σ r_i` over the rows that take part.
    var zLoss: Double
    /// Under `.mean`, the rows that take part with a row weight above 0 (their count without row
    /// weights); 0 for `.sum` and `.none`.
    var weightedRows = 0
}

/// The rows' two loss parts, added in `Double` in row order; a call's reduced loss is their quotients
/// by the ``Denominators``.
package struct LossSums: Sendable {
    var crossEntropy = 0.0
    var zLoss = 0.0

    package init() {}

    /// The reduced loss: a zero denominator (every row ignored, or their weights all 0) gives 0, as
    /// NUMERICS.md says for an all-ignored batch — but a bad row's NaN still shows.
    func reduced(by denominators: Denominators) -> Float {
        let reducedCrossEntropy = denominators.crossEntropy > 0
            ? crossEntropy / denominators.crossEntropy : (crossEntropy.isNaN ? .nan : 0)
        let reducedZLoss = denominators.zLoss > 0 ? zLoss / denominators.zLoss : 0
        return Float(reducedCrossEntropy + reducedZLoss)
    }
}

extension Batch {
    /// Runs `kernel` over every row on up to `threads` threads with the given denominators (`.mean`'s,
    /// NUMERICS.md "Reduction"; the whole batch's when these rows are part of a larger one) and adds
    /// the rows' loss parts to `sums`, in row order. `weights` holds the class weights, `rowWeights`
    /// these rows' weights; `isa` converts 16-bit storage (every ISA gives the same bits, rounding to
    /// nearest) and picks the family of the log that completes the rows' `log S` (`xent_f64_log`).
    ///
    /// Each row's two parts are kept in `Double` and added in row order after every row is done,
    /// so the result is bitwise the same for any thread count. With at least two rows per thread,
    /// the threads claim contiguous blocks of rows as they go
    /// (``Parallel/forEachBlock(_:workers:minimumBlock:descending:_:)``); with fewer, rows run one
    /// after another and the kernel splits each row's chunks across the threads.
    func runRows<K: RowKernel>(
        _ kernel: K, _ options: SoftmaxCrossEntropy, weights: UnsafePointer<Float>?,
        rowWeights: UnsafePointer<Float>?, denominators: Denominators, isa: xent_isa, threads: Int,
        into sums: inout LossSums
    ) {
        let lambda = Double(options.zLossScale)
        // The call's parameter block, built once.
        let params = options.parameters(
            weights: weights, crossEntropyDenominator: denominators.crossEntropy,
            zLossDenominator: denominators.zLoss, argmax: rowArgmax != nil, softTargets: isSoft)
        var prepared = kernel
        prepared.prepare(params, storage: storage)
        // A constant for the rows' closure, which would otherwise copy a captured variable for every row.
        let kernel = prepared
        let splitRows = threads > 1 && rows / 2 < threads  // rows < 2·threads, without overflow
        let rowWorkers = splitRows ? 1 : Swift.min(threads, rows)
        // Forward rows of labels, each on one thread, may pass their maxes on (`row`).
        let carriesRowMax = gradient == nil && !isSoft && !splitRows
            && kernel.takesNextRowMax(classes: classes, storage: storage)
        // 16-bit storage: one float row (and one of targets) per worker, reused row after row. Each
        // starts on a 64-byte line and is followed by XENT_PREFETCH_DISTANCE floats of its own: the
        // exp pass prefetches that far past the row it works on, for writing too. With the rows
        // side by side the two cores pulled each other's lines; and the gaps are written once per
        // call, because a prefetch into a page never touched finds no mapping and is dropped after a
        // page walk, again on every row (Performance article).
        let workspaceRow = storage == .float32 ? 0 : classes * (isSoft ? 2 : 1)
        let lineFloats = 16
        let gap = HalfRow.workspacePadding
        let workspaceStride = (workspaceRow + lineFloats - 1) / lineFloats * lineFloats + gap
        let workspaceCount = workspaceRow == 0 ? 1 : workspaceStride * rowWorkers + lineFloats
        withUnsafeTemporaryAllocation(of: RowResult.self, capacity: rows) { results in
          withUnsafeTemporaryAllocation(of: Float.self, capacity: workspaceCount) { workspace in
            let lineStart = workspaceRow == 0 ? nil : workspace.baseAddress.map {
                UnsafeMutableRawPointer($0).alignedUp(toMultipleOf: 64).assumingMemoryBound(to: Float.self)
            }
            if let lineStart {
                for worker in 0..<rowWorkers {
                    let end = lineStart + worker * workspaceStride + workspaceRow
                    end.initialize(repeating: 0, count: workspaceStride - workspaceRow)
                }
            }
            let shared = SharedUnsafe((results, lineStart))
            let minimumRows = Parallel.minimumBlockElements / Swift.max(1, classes)
            Parallel.forEachBlock(rows, workers: rowWorkers, minimumBlock: minimumRows) { range, worker in
                let (results, workspace) = shared.value
                var carried = CarriedRowMax()
                for row in range {
                    results[row] = self.row(
                        row, kernel, params: Self.rowParameters(params, rowWeights.map { $0[row] }),
                        workers: splitRows ? threads : 1,
                        workspace: workspace.map { $0 + worker * workspaceStride },
                        conversionISA: isa, carriesRowMax: carriesRowMax, rangeEnd: range.upperBound,
                        carried: &carried)
                }
            }
            Self.reduce(
                results, lambda: lambda, rowWeights: rowWeights, isa: isa,
                outputs: (rowLosses, rowLogSumExp, rowArgmax), into: &sums)
          }
        }
    }

    /// A row's parameter block: the call's, with the gradient scales multiplied by the row's
    /// weight when the call has row weights (NUMERICS.md "Reduction": row i's gradient is
    /// multiplied by r_i).
    @inline(__always)
    static func rowParameters(_ params: xent_params, _ rowWeight: Float?) -> xent_params {
        guard let rowWeight else { return params }
        var row = params
        row.cross_entropy_gradient_scale *= Double(rowWeight)
        row.z_loss_gradient_scale *= Double(rowWeight)
        return row
    }

    /// The end of every call: completes the rows' pending `log S`, writes the per-row outputs (row
    /// i's loss times its weight r_i, when there are row weights) and adds the rows' two parts to
    /// `sums`, in row order in `Double` (NUMERICS.md "Reduction").
    static func reduce(
        _ results: UnsafeMutableBufferPointer<RowResult>, lambda: Double, rowWeights: UnsafePointer<Float>?,
        isa: xent_isa,
        outputs: (losses: UnsafeMutablePointer<Float>?, logSumExp: UnsafeMutablePointer<Float>?,
                  argmax: UnsafeMutablePointer<Int32>?),
        into sums: inout LossSums
    ) {
        completeLogSums(results, isa: isa)
        var crossEntropy = sums.crossEntropy, zLoss = sums.zLoss
        for row in results.indices {
            let result = results[row]
            var rowCrossEntropy = result.crossEntropy
            var rowZLoss = lambda != 0 ? lambda * result.logSumExp * result.logSumExp : 0
            if let rowWeights {
                let r = Double(rowWeights[row])
                rowCrossEntropy *= r
                rowZLoss *= r
            }
            outputs.losses?[row] = Float(rowCrossEntropy + rowZLoss)
            outputs.logSumExp?[row] = Float(result.logSumExp)
            outputs.argmax?[row] = result.crossEntropy.isNaN ? -1 : Int32(truncatingIfNeeded: result.argmax)
            crossEntropy += rowCrossEntropy
            if lambda != 0 { zLoss += rowZLoss }
        }
        sums.crossEntropy = crossEntropy
        sums.zLoss = zLoss
    }

    /// Adds `log S` to every row that left it pending (``RowResult/pendingSum``), 64 rows per
    /// call into `xent_f64_log` (SLEEF's 2-lane u10 log; one call per row costs a measurable share
    /// of a short row). One function per ISA family for every row, so the results depend neither
    /// on the thread count nor on the host, and are the same on every canonical ISA.
    private static func completeLogSums(_ results: UnsafeMutableBufferPointer<RowResult>, isa: xent_isa) {
        let batch = 64
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * batch) { buffer in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: batch) { indices in
                let sums = buffer.baseAddress!, logs = sums + batch
                var count = 0
                func flush() {
                    xent_f64_log(isa, sums, logs, count)
                    for k in 0..<count { results[indices[k]] = results[indices[k]].completed(logSum: logs[k]) }
                    count = 0
                }
                for row in results.indices {
                    let sum = results[row].pendingSum
                    if sum.isNaN { continue }
                    sums[count] = sum
                    indices[count] = row
                    count += 1
                    if count == batch { flush() }
                }
                if count > 0 { flush() }
            }
        }
    }

    /// `.mean`'s denominators for these rows (``denominators(_:labels:rows:participatingRows:weights:rowWeights:)``).
    func denominators(
        _ options: SoftmaxCrossEntropy, weights: UnsafePointer<Float>?, rowWeights: UnsafePointer<Float>?
    ) -> Denominators {
        var labels: (LabelPointer, ignoreIndex: Int64?)? = nil
        if case .labels(let pointer, let ignoreIndex) = targets { labels = (pointer, ignoreIndex) }
        return Self.denominators(
            options, labels: labels, rows: rows, participatingRows: participatingRows, weights: weights,
            rowWeights: rowWeights)
    }

    /// `.mean`'s denominators (1 and 1 for the other reductions): the cross-entropy part's is the
    /// caller's divisor, else the participating rows, each counted `r_i·w_{t_i}` times (a missing
    /// weight is 1; soft targets, `labels` nil, count `r_i`); the z-loss part's counts `r_i`.
    static func denominators(
        _ options: SoftmaxCrossEntropy, labels: (LabelPointer, ignoreIndex: Int64?)?, rows: Int, participatingRows: Int,
        weights: UnsafePointer<Float>?, rowWeights: UnsafePointer<Float>?
    ) -> Denominators {
        guard options.reduction == .mean else { return Denominators(crossEntropy: 1, zLoss: 1) }
        guard weights != nil || rowWeights != nil else {
            let rows = Double(participatingRows)
            return Denominators(crossEntropy: options.divisor ?? rows, zLoss: rows, weightedRows: participatingRows)
        }
        var weighted = 0.0, rowWeighted = 0.0, weightedRows = 0
        for row in 0..<rows {
            var classWeight = 1.0
            if let (labels, ignoreIndex) = labels {
                let label = labels[row]
                if let ignoreIndex, label == ignoreIndex { continue }
                if let weights { classWeight = Double(weights[Int(truncatingIfNeeded: label)]) }
            }
            let r = rowWeights.map { Double($0[row]) } ?? 1
            weighted += r * classWeight
            rowWeighted += r
            if r > 0 { weightedRows += 1 }
        }
        return Denominators(crossEntropy: options.divisor ?? weighted, zLoss: rowWeighted, weightedRows: weightedRows)
    }

    /// The soft targets' storage, or nil for labels.
    var softTargets: UnsafeRawPointer? {
        if case .soft(let targets) = targets { return targets }
        return nil
    }

    /// Row `row`'s label, or nil for soft targets.
    func labelAt(_ row: Int) -> Int? {
        if case .labels(let labels, _) = targets { return Int(truncatingIfNeeded: labels[row]) }
        return nil
    }

    /// Whether the rows are scored against soft targets.
    var isSoft: Bool {
        if case .soft = targets { return true }
        return false
    }

    /// One row: ignored (zero gradient, loss 0, log-sum-exp 0), or the kernel's result,
    /// NaN-filling a bad row. With 16-bit storage a kernel with ``RowKernel/halfRow(_:params:workers:)``
    /// works on the row itself (`.vector`: chunk by chunk through `workspace`); for the others the
    /// row (and its targets) is widened into `workspace` first, the kernel computes its gradient
    /// there in place, in `Float`, and the gradient is rounded into the caller's buffer once at
    /// the end.
    ///
    /// With `carriesRowMax` (forward rows of labels, each on one thread, that the kernel computes
    /// with ``RowKernel/forwardLabelRow(_:classes:label:params:prefetchLimit:max:nextRow:)`` or, 16-bit,
    /// ``RowKernel/forwardHalfLabelRow(_:params:max:nextRow:)``) the rows of a worker's block, up to
    /// `rangeEnd`, pass their maxes on through `carried`, one row to the next.
    @inline(__always)
    private func row<K: RowKernel>(
        _ row: Int, _ kernel: K, params: xent_params, workers: Int, workspace: UnsafeMutablePointer<Float>?,
        conversionISA: xent_isa, carriesRowMax: Bool, rangeEnd: Int, carried: inout CarriedRowMax
    ) -> RowResult {
        let offset = row * stride
        // The caller's buffers hold this row and the rows after it (CXent.h: XENT_PREFETCH_DISTANCE).
        let prefetchLimit = (rows - 1 - row) * stride + classes
        if case .labels(let labels, let ignoreIndex) = targets, let ignoreIndex, labels[row] == ignoreIndex {
            if let gradient {
                UnsafeMutableRawPointer(gradient + offset * storage.elementSize)
                    .initializeMemory(as: UInt8.self, repeating: 0, count: classes * storage.elementSize)
            }
            return RowResult(crossEntropy: 0, logSumExp: 0, argmax: -1)
        }
        if carriesRowMax, case .labels(let labels, let ignoreIndex) = targets {
            let next = row + 1
            let takesNext = next < rangeEnd && labels[next] != ignoreIndex  // an ignored row needs no max
            let label = Int(truncatingIfNeeded: labels[row])
            let max = carried.row == row ? carried.max : nil
            let (result, nextRowMax): (RowResult, Float?)
            if case .half(let format) = storage {
                let z = logits.assumingMemoryBound(to: UInt16.self)
                (result, nextRowMax) = kernel.forwardHalfLabelRow(
                    HalfRow(
                        format: format, logits: z + offset, targets: nil, label: label, gradient: nil,
                        classes: classes, prefetchLimit: prefetchLimit, workspace: workspace!),
                    params: params, max: max, nextRow: takesNext ? z + next * stride : nil)
            } else {
                let z = logits.assumingMemoryBound(to: Float.self)
                (result, nextRowMax) = kernel.forwardLabelRow(
                    z + offset, classes: classes, label: label, params: params, prefetchLimit: prefetchLimit,
                    max: max, nextRow: takesNext ? z + next * stride : nil)
            }
            if let nextRowMax { carried = CarriedRowMax(row: next, max: nextRowMax) }
            return result
        }
        if case .half(let format) = storage, let result = kernel.halfRow(
            HalfRow(
                format: format, logits: logits.assumingMemoryBound(to: UInt16.self) + offset,
                targets: isSoft ? softTargets!.assumingMemoryBound(to: UInt16.self) + offset : nil,
                label: labelAt(row), gradient: gradient.map { $0.assumingMemoryBound(to: UInt16.self) + offset },
                classes: classes, prefetchLimit: prefetchLimit, workspace: workspace!),
            params: params, workers: workers)
        {
            if let gradient, result.crossEntropy.isNaN || result.logSumExp.isNaN {
                let w = workspace!
                w.update(repeating: .nan, count: classes)
                let g16 = gradient.assumingMemoryBound(to: UInt16.self) + offset
                MicroKernels.round(conversionISA, format, w, g16, count: classes)
            }
            return result
        }
        let z: UnsafePointer<Float>
        let g: UnsafeMutablePointer<Float>?
        var q: UnsafePointer<Float>? = nil
        var kernelPrefetchLimit = prefetchLimit
        switch storage {
        case .float32:
            z = logits.assumingMemoryBound(to: Float.self) + offset
            g = gradient.map { $0.assumingMemoryBound(to: Float.self) + offset }
            if case .soft(let targets) = targets { q = targets.assumingMemoryBound(to: Float.self) + offset }
        case .half(let format):
            let w = workspace!
            MicroKernels.widen(
                conversionISA, format, logits.assumingMemoryBound(to: UInt16.self) + offset, w, count: classes,
                prefetchLimit: prefetchLimit)
            if case .soft(let targets) = targets {
                MicroKernels.widen(
                    conversionISA, format, targets.assumingMemoryBound(to: UInt16.self) + offset, w + classes,
                    count: classes, prefetchLimit: prefetchLimit)
                q = UnsafePointer(w + classes)
            }
            z = UnsafePointer(w)
            g = gradient == nil ? nil : w
            kernelPrefetchLimit = classes + HalfRow.workspacePadding
        }
        let result: RowResult
        switch targets {
        case .labels(let labels, _):
            result = kernel.labelRow(
                z, classes: classes, label: Int(truncatingIfNeeded: labels[row]), gradient: g, params: params,
                workers: workers, prefetchLimit: kernelPrefetchLimit)
        case .soft:
            result = kernel.softRow(
                z, targets: q!, classes: classes, gradient: g, params: params, workers: workers,
                prefetchLimit: kernelPrefetchLimit)
        }
        if result.crossEntropy.isNaN || result.logSumExp.isNaN { g?.update(repeating: .nan, count: classes) }
        if case .half(let format) = storage, let g, let gradient {
            MicroKernels.round(
                conversionISA, format, g, gradient.assumingMemoryBound(to: UInt16.self) + offset, count: classes,
                prefetchLimit: prefetchLimit)
        }
        return result
    }
}
