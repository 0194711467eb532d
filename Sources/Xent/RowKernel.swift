// The per-row interface the three kernels implement, and the batch loop they share.

/// One kernel's per-row arithmetic. The caller (``Batch/run(_:reduction:divisor:upstream:threads:)``) handles
/// ignored rows, NaN-filling of bad rows, per-row outputs, threads and the reduction, identically
/// for every kernel.
///
/// Both functions return the row's loss ℓ in `Double`, or NaN for a row that holds NaN or +inf
/// (after which the caller overwrites the gradient row with NaN). When `gradient` is non-nil
/// they write `gradientScale · ∂ℓ/∂z` into it; `gradient` may be `z` itself (in place), so a
/// kernel reads whatever it needs from `z` before it writes. `workers` > 1 allows a kernel to
/// split the row itself across that many threads (the results must not depend on it).
protocol RowKernel {
    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Double, workers: Int
    ) -> Double

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Double, workers: Int
    ) -> Double
}

extension Batch {
    /// Runs `kernel` over every row on up to `threads` threads and returns the reduced loss
    /// (NUMERICS.md, "Reduction").
    ///
    /// Each row's loss is kept in `Double` and the losses are added in row order after every row
    /// is done, so the result is bitwise the same for any thread count. With at least two rows
    /// per thread, each thread takes a contiguous range of rows; with fewer, rows run one after
    /// another and the kernel splits each row's chunks across the threads.
    ///
    /// `.mean` divides by `divisor` when one is given, else by the participating rows (a batch
    /// with none has loss 0 and a zero gradient); `upstream` multiplies every gradient entry.
    func run<K: RowKernel>(
        _ kernel: K, reduction: Reduction, divisor: Double?, upstream: Double, threads: Int
    ) -> Float {
        let denominator = reduction == .mean ? divisor ?? Double(participatingRows) : 1
        let gradientScale = denominator > 0 ? upstream / denominator : 0
        let splitRows = threads > 1 && rows < 2 * threads
        let total = withUnsafeTemporaryAllocation(of: Double.self, capacity: rows) { losses in
            let shared = SharedUnsafe(losses)
            Parallel.forEach(rows, workers: splitRows ? 1 : threads) { row in
                shared.value[row] = self.row(row, kernel, gradientScale: gradientScale, workers: splitRows ? threads : 1)
            }
            var total = 0.0
            for loss in losses { total += loss }
            return total
        }
        return denominator > 0 ? Float(total / denominator) : 0
    }

    /// One row: ignored (zero gradient, loss 0), or the kernel's loss, NaN-filling a bad row.
    @inline(__always)
    private func row<K: RowKernel>(_ row: Int, _ kernel: K, gradientScale: Double, workers: Int) -> Double {
        let z = logits + row * stride
        let g = gradient.map { $0 + row * stride }
        let loss: Double
        switch targets {
        case .labels(let labels, let ignoreIndex):
            let label = labels[row]
            if let ignoreIndex, label == ignoreIndex {
                g?.update(repeating: 0, count: classes)
                loss = 0
            } else {
                loss = kernel.labelRow(
                    z, classes: classes, label: Int(truncatingIfNeeded: label), gradient: g, gradientScale: gradientScale,
                    workers: workers)
            }
        case .soft(let q):
            loss = kernel.softRow(
                z, targets: q + row * stride, classes: classes, gradient: g, gradientScale: gradientScale,
                workers: workers)
        }
        if loss.isNaN { g?.update(repeating: .nan, count: classes) }
        rowLosses?[row] = Float(loss)
        return loss
    }
}
