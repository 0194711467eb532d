// A shape's data rounded to a 16-bit format (Float16, bfloat16), and the calls timed on it.
import Xent

/// The element type of a case's logits, soft targets and gradient (the report's `dtype`).
enum DataType: String, CaseIterable {
    case f32
    case f16
    case bf16

    /// Bytes per stored element.
    var size: Int { self == .f32 ? 4 : 2 }
}

/// A 16-bit format the suite times, with its conversions to and from `Float`.
protocol BenchmarkHalf: HalfPrecisionFloat {
    /// `value` rounded to the format (to nearest, ties to even).
    init(rounding value: Float)
    /// The value as a `Float` (exact).
    var widened: Float { get }
}

extension Float16: BenchmarkHalf {
    init(rounding value: Float) { self.init(value) }
    var widened: Float { Float(self) }
}

extension BFloat16: BenchmarkHalf {
    init(rounding value: Float) { self.init(value) }
    var widened: Float { float }
}

/// The 16-bit buffers of one shape, whatever their format, so `Workload` can hold both.
protocol HalfData: AnyObject {
    /// The rounded logits and the gradient buffer, for the 16-bit memcpy bound.
    var logitsBytes: UnsafeRawPointer { get }
    var scratchBytes: UnsafeMutableRawPointer { get }
    func run(_ ce: SoftmaxCrossEntropy, _ operation: Operation, _ target: TargetKind) throws -> Float
    func prepareInPlace()
    func outputs(_ choice: KernelChoice, _ target: TargetKind, option: CallOption) throws
        -> (losses: [Float], gradient: [Float])
    func reference(_ target: TargetKind, option: CallOption) throws -> (losses: [Float], gradient: [Float])
}

/// The shape's logits and soft targets rounded to `E`, a gradient buffer in `E`, and the labels
/// and row losses shared with the `Float` workload. Allocated once and touched before timing.
final class RoundedData<E: BenchmarkHalf>: HalfData {
    let classes: Int
    let logits: UnsafeMutableBufferPointer<E>
    let scratch: UnsafeMutableBufferPointer<E>   // gradient, or the in-place copy
    let targets: UnsafeMutableBufferPointer<E>
    let labels: UnsafeBufferPointer<Int32>
    let rowLosses: UnsafeMutableBufferPointer<Float>
    let alignment: BufferAlignment
    private lazy var shards = ShardBuffers(rows: labels.count)

    init(logits source: UnsafeBufferPointer<Float>, targets sourceTargets: UnsafeBufferPointer<Float>,
         labels: UnsafeBufferPointer<Int32>, rowLosses: UnsafeMutableBufferPointer<Float>, classes: Int,
         alignment: BufferAlignment) {
        self.classes = classes
        self.labels = labels
        self.rowLosses = rowLosses
        self.alignment = alignment
        logits = alignment.allocate(E.self, capacity: source.count)
        scratch = alignment.allocate(E.self, capacity: source.count)
        targets = alignment.allocate(E.self, capacity: source.count)
        for i in source.indices {
            logits[i] = E(rounding: source[i])
            targets[i] = E(rounding: sourceTargets[i])
        }
        scratch.initialize(repeating: E(rounding: 0))
    }

    deinit {
        alignment.deallocate(logits)
        alignment.deallocate(scratch)
        alignment.deallocate(targets)
    }

    var logitsBytes: UnsafeRawPointer { UnsafeRawPointer(logits.baseAddress!) }
    var scratchBytes: UnsafeMutableRawPointer { UnsafeMutableRawPointer(scratch.baseAddress!) }

    /// As `Workload.run`, on the 16-bit buffers.
    func run(_ ce: SoftmaxCrossEntropy, _ operation: Operation, _ target: TargetKind) throws -> Float {
        let z = UnsafeBufferPointer(logits)
        let q = UnsafeBufferPointer(targets)
        switch (operation, target) {
        case (.forward, .labels): return try ce.loss(logits: z, labels: labels, classes: classes)
        case (.forward, .soft): return try ce.loss(logits: z, targets: q, classes: classes)
        case (.forwardGradient, .labels):
            return try ce.lossAndGradient(logits: z, labels: labels, classes: classes, gradient: scratch)
        case (.forwardGradient, .soft):
            return try ce.lossAndGradient(logits: z, targets: q, classes: classes, gradient: scratch)
        case (.inPlace, .labels): return try ce.lossAndGradient(inPlace: scratch, labels: labels, classes: classes)
        case (.inPlace, .soft): return try ce.lossAndGradient(inPlace: scratch, targets: q, classes: classes)
        case (.shardForward, _), (.shardForwardGradient, _):
            return try shards.run(
                ce, operation, target, logits: z, targets: q, labels: labels, gradient: scratch, classes: classes)
        }
    }

    func prepareInPlace() {
        _ = scratch.update(fromContentsOf: UnsafeBufferPointer(logits))
    }

    /// Per-row losses and the gradient widened to `Float` (`.none`: unscaled) with `option` set, for accuracy.
    func outputs(
        _ choice: KernelChoice, _ target: TargetKind, option: CallOption
    ) throws -> (losses: [Float], gradient: [Float]) {
        let ce = option.applied(to: choice.configuration(.none), rows: labels.count, classes: classes)
        let z = UnsafeBufferPointer(logits)
        switch target {
        case .labels:
            _ = try ce.lossAndGradient(
                logits: z, labels: labels, classes: classes, gradient: scratch, rowStatistics: .init(losses: rowLosses))
        case .soft:
            _ = try ce.lossAndGradient(
                logits: z, targets: UnsafeBufferPointer(targets), classes: classes, gradient: scratch,
                rowStatistics: .init(losses: rowLosses))
        }
        return (Array(rowLosses), scratch.map(\.widened))
    }

    /// `.reference` (Double) on the rounded data widened to `Float`: the truth the 16-bit cases
    /// are measured against, so the error is the kernels' and the gradient's rounding, not the
    /// inputs'.
    func reference(_ target: TargetKind, option: CallOption) throws -> (losses: [Float], gradient: [Float]) {
        let ce = option.applied(
            to: KernelChoice(kernel: .reference, isa: nil).configuration(.none), rows: labels.count, classes: classes)
        let z = logits.map(\.widened)
        var gradient = [Float](repeating: 0, count: logits.count)
        try z.withUnsafeBufferPointer { z in
            try gradient.withUnsafeMutableBufferPointer { g in
                switch target {
                case .labels:
                    _ = try ce.lossAndGradient(
                        logits: z, labels: labels, classes: classes, gradient: g,
                        rowStatistics: .init(losses: rowLosses))
                case .soft:
                    let q = targets.map(\.widened)
                    _ = try q.withUnsafeBufferPointer { q in
                        try ce.lossAndGradient(
                            logits: z, targets: q, classes: classes, gradient: g,
                            rowStatistics: .init(losses: rowLosses))
                    }
                }
            }
        }
        return (Array(rowLosses), gradient)
    }
}
