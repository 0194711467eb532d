// One shape's data (seeded N(0, 3²) logits, labels, soft targets) and the operations timed on it.
import Xent

/// What is timed.
enum Operation: String, CaseIterable {
    case forward = "fwd"             // loss only
    case forwardGradient = "fwdgrad" // loss and gradient into a separate buffer
    case inPlace = "inplace"         // loss and gradient written over the logits
    case shardForward = "shardfwd"   // the vocabulary-shard steps 1–3 on one shard of the whole rows
    case shardForwardGradient = "shardfwdgrad"  // steps 1–4: the shard's loss and gradient

    /// Whether this is a vocabulary-shard operation (the `.vector` kernel only).
    var isShard: Bool { self == .shardForward || self == .shardForwardGradient }

    /// Bytes moved per element at the memory roofline: read the logits, and write a gradient,
    /// each `dataType.size` bytes.
    func bytesPerElement(_ dataType: DataType) -> Double {
        Double(self == .forward || self == .shardForward ? dataType.size : 2 * dataType.size)
    }
}

enum TargetKind: String, CaseIterable {
    case labels
    case soft
}

/// A kernel as the report names it: `.vector` may be forced to an ISA.
struct KernelChoice: Hashable {
    let kernel: SoftmaxCrossEntropy.Kernel
    let isa: InstructionSet?

    var name: String { kernel.rawValue }
    var isaName: String { kernel == .vector ? (isa ?? .active).rawValue : "-" }

    func configuration(_ reduction: Reduction, threads: Int = 1) -> SoftmaxCrossEntropy {
        SoftmaxCrossEntropy(reduction: reduction, kernel: kernel, instructionSet: isa, threads: threads)
    }
}

/// SplitMix64, so every run draws the same data.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The suite's buffers start on a 64-byte cache line, as the peers' arrays do: numpy, PyTorch
/// and JAX all return 64-byte aligned buffers at these sizes (checked in the peers' environment),
/// while `malloc` — and so `UnsafeMutableBufferPointer.allocate` — gives large blocks 16 bytes
/// past a line, where every vector load and store of a row would straddle two lines. (`--alignment`
/// moves the row buffers off the line on purpose: ``BufferAlignment``.)
enum LineAligned {
    static let alignment = 64

    /// Uninitialized room for `capacity` elements at a 64-byte boundary.
    static func allocate<T>(_: T.Type, capacity: Int) -> UnsafeMutableBufferPointer<T> {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: Swift.max(1, capacity) * MemoryLayout<T>.stride,
            alignment: Swift.max(alignment, MemoryLayout<T>.alignment))
        return UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: capacity), count: capacity)
    }

    /// Frees what ``allocate(_:capacity:)`` returned.
    static func deallocate<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        UnsafeMutableRawPointer(buffer.baseAddress!).deallocate()
    }
}

/// The buffers of one shape. Allocated once and touched before anything is timed.
final class Workload {
    let rows: Int
    let classes: Int
    /// Where the logits, gradient and target buffers (and their 16-bit copies) start.
    let alignment: BufferAlignment
    var elements: Int { rows * classes }
    let logits: UnsafeMutableBufferPointer<Float>
    let scratch: UnsafeMutableBufferPointer<Float>   // gradient, or the in-place copy
    let targets: UnsafeMutableBufferPointer<Float>
    let labels: UnsafeMutableBufferPointer<Int32>
    let rowLosses: UnsafeMutableBufferPointer<Float>
    /// The same logits and targets rounded to each requested 16-bit format.
    private(set) var halves: [DataType: any HalfData] = [:]
    /// The shard steps' state and exchange buffers.
    private(set) lazy var shards = ShardBuffers(rows: rows)

    init(rows: Int, classes: Int, seed: UInt64, dataTypes: [DataType] = [.f32], alignment: BufferAlignment = .line) {
        self.rows = rows
        self.classes = classes
        self.alignment = alignment
        let n = rows * classes
        logits = alignment.allocate(Float.self, capacity: n)
        scratch = alignment.allocate(Float.self, capacity: n)
        targets = alignment.allocate(Float.self, capacity: n)
        labels = LineAligned.allocate(Int32.self, capacity: rows)
        rowLosses = LineAligned.allocate(Float.self, capacity: rows)
        var rng = SeededGenerator(state: seed ^ UInt64(n))
        // N(0, 3²) by Box–Muller, two draws per pair of uniforms.
        var i = 0
        while i < n {
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
            let u2 = Double.random(in: 0..<1, using: &rng)
            let r = 3 * (-2 * logValue(u1)).squareRoot()
            logits[i] = Float(r * cosValue(2 * .pi * u2))
            if i + 1 < n { logits[i + 1] = Float(r * sinValue(2 * .pi * u2)) }
            i += 2
        }
        for r in 0..<rows {
            labels[r] = Int32.random(in: 0..<Int32(classes), using: &rng)
            // Soft targets: a smoothed one-hot (0.9 on the label, the rest spread evenly).
            let rest = classes > 1 ? Float(0.1) / Float(classes - 1) : 0
            for j in 0..<classes { targets[r * classes + j] = rest }
            targets[r * classes + Int(labels[r])] = classes > 1 ? 0.9 : 1
        }
        scratch.initialize(repeating: 0)
        rowLosses.initialize(repeating: 0)
        let z = UnsafeBufferPointer(logits), q = UnsafeBufferPointer(targets), t = UnsafeBufferPointer(labels)
        for dataType in dataTypes {
            switch dataType {
            case .f32: break
            case .f16:
                halves[.f16] = RoundedData<Float16>(
                    logits: z, targets: q, labels: t, rowLosses: rowLosses, classes: classes, alignment: alignment)
            case .bf16:
                halves[.bf16] = RoundedData<BFloat16>(
                    logits: z, targets: q, labels: t, rowLosses: rowLosses, classes: classes, alignment: alignment)
            }
        }
    }

    deinit {
        alignment.deallocate(logits)
        alignment.deallocate(scratch)
        alignment.deallocate(targets)
        LineAligned.deallocate(labels)
        LineAligned.deallocate(rowLosses)
    }

    /// The 16-bit buffers of `dataType`, which `init` must have been asked for.
    func half(_ dataType: DataType) -> any HalfData {
        guard let half = halves[dataType] else { preconditionFailure("no \(dataType) data for this workload") }
        return half
    }

    /// Runs `operation` once on the `dataType` buffers; returns the loss (so the call cannot be
    /// optimized away).
    func run(
        _ ce: SoftmaxCrossEntropy, _ operation: Operation, _ target: TargetKind, _ dataType: DataType = .f32
    ) throws -> Float {
        if dataType != .f32 { return try half(dataType).run(ce, operation, target) }
        let z = UnsafeBufferPointer(logits)
        let q = UnsafeBufferPointer(targets)
        let t = UnsafeBufferPointer(labels)
        switch (operation, target) {
        case (.forward, .labels): return try ce.loss(logits: z, labels: t, classes: classes)
        case (.forward, .soft): return try ce.loss(logits: z, targets: q, classes: classes)
        case (.forwardGradient, .labels):
            return try ce.lossAndGradient(logits: z, labels: t, classes: classes, gradient: scratch)
        case (.forwardGradient, .soft):
            return try ce.lossAndGradient(logits: z, targets: q, classes: classes, gradient: scratch)
        case (.inPlace, .labels):
            // On the scratch buffer, which ``prepareInPlace()`` filled with the logits: each run
            // overwrites it with a gradient, which the next run takes as its logits (finite
            // values in [−1, 1], the same work per element).
            return try ce.lossAndGradient(inPlace: scratch, labels: t, classes: classes)
        case (.inPlace, .soft):
            return try ce.lossAndGradient(inPlace: scratch, targets: q, classes: classes)
        case (.shardForward, _), (.shardForwardGradient, _):
            return try shards.run(
                ce, operation, target, logits: z, targets: q, labels: t, gradient: scratch, classes: classes)
        }
    }

    /// Copies the `dataType` logits into its scratch buffer, where in-place runs work.
    func prepareInPlace(_ dataType: DataType = .f32) {
        if dataType != .f32 { return half(dataType).prepareInPlace() }
        _ = scratch.update(fromContentsOf: UnsafeBufferPointer(logits))
    }

    /// Per-row losses and the gradient (`.none`: unscaled) from `kernel` with `option` set, for accuracy checks.
    func outputs(
        _ choice: KernelChoice, _ target: TargetKind, gradient wantGradient: Bool, option: CallOption = .plain
    ) throws -> (losses: [Float], gradient: [Float]?) {
        let ce = option.applied(to: choice.configuration(.none), rows: rows, classes: classes)
        let z = UnsafeBufferPointer(logits)
        if wantGradient {
            switch target {
            case .labels:
                _ = try ce.lossAndGradient(
                    logits: z, labels: UnsafeBufferPointer(labels), classes: classes, gradient: scratch,
                    rowStatistics: .init(losses: rowLosses))
            case .soft:
                _ = try ce.lossAndGradient(
                    logits: z, targets: UnsafeBufferPointer(targets), classes: classes, gradient: scratch,
                    rowStatistics: .init(losses: rowLosses))
            }
            return (Array(rowLosses), Array(scratch))
        }
        switch target {
        case .labels:
            _ = try ce.loss(
                logits: z, labels: UnsafeBufferPointer(labels), classes: classes,
                rowStatistics: .init(losses: rowLosses))
        case .soft:
            _ = try ce.loss(
                logits: z, targets: UnsafeBufferPointer(targets), classes: classes,
                rowStatistics: .init(losses: rowLosses))
        }
        return (Array(rowLosses), nil)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) func logValue(_ x: Double) -> Double { log(x) }
@inline(__always) func cosValue(_ x: Double) -> Double { cos(x) }
@inline(__always) func sinValue(_ x: Double) -> Double { sin(x) }
