// The per-row interface the three kernels implement, and the batch loop they share.

/// One kernel's per-row arithmetic. The caller (``Batch/run(_:reduction:)``) handles ignored rows,
/// NaN-filling of bad rows, per-row outputs and the reduction, identically for every kernel.
///
/// Both functions return the row's loss ℓ in `Double`, or NaN for a row that holds NaN or +inf
/// (after which the caller overwrites the gradient row with NaN). When `gradient` is non-nil
/// they write `gradientScale · ∂ℓ/∂z` into it; `gradient` may be `z` itself (in place), so a
/// kernel reads whatever it needs from `z` before it writes.
protocol RowKernel {
    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Double
    ) -> Double

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Double
    ) -> Double
}

extension Batch {
    /// Runs `kernel` over every row and returns the reduced loss (NUMERICS.md, "Reduction").
    ///
    /// Per-row losses are added in `Double` in row order, so the result is the same on every ISA.
    @inline(__always)
    func run<K: RowKernel>(_ kernel: K, reduction: Reduction) -> Float {
        let divisor = reduction == .mean ? Double(participatingRows) : 1
        let gradientScale = divisor > 0 ? 1 / divisor : 0
        var total = 0.0
        for row in 0..<rows {
            let z = logits + row * classes
            let g = gradient.map { $0 + row * classes }
            let loss: Double
            switch targets {
            case .labels(let labels, let ignoreIndex):
                let label = labels[row]
                if let ignoreIndex, label == ignoreIndex {
                    g?.update(repeating: 0, count: classes)
                    loss = 0
                } else {
                    loss = kernel.labelRow(
                        z, classes: classes, label: Int(label), gradient: g,
                        gradientScale: gradientScale)
                }
            case .soft(let q):
                loss = kernel.softRow(
                    z, targets: q + row * classes, classes: classes, gradient: g,
                    gradientScale: gradientScale)
            }
            if loss.isNaN { g?.update(repeating: .nan, count: classes) }
            rowLosses?[row] = Float(loss)
            total += loss
        }
        if reduction == .mean {
            return participatingRows == 0 ? 0 : Float(total / divisor)
        }
        return Float(total)
    }
}
