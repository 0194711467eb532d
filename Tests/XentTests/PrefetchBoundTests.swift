// The row driver's prefetch limits (CXent.h: prefetch_limit): every micro-kernel call that works on
// the caller's memory may prefetch only inside the buffer it works in — the rest of the row and the
// rows after it, never past the last row. The kernels themselves keep to the limit they are given
// (Scripts/test-prefetch-bounds.sh, in C); here each ISA's kernels are wrapped to record the range
// every call may prefetch, and the calls run through the batch engine and the row pipeline.
import CXent
import Synchronization
import Testing
@testable import Xent

/// One kernel call's prefetchable range: `bytes` from `start` (its prefetch limit in bytes).
private struct PrefetchRange {
    var start: UInt
    var bytes: Int
}

private let recorded = Mutex<[PrefetchRange]>([])
/// The kernels the recording ones forward to (set before each call; the test runs its cases in turn).
nonisolated(unsafe) private var wrapped = xent_ukernel_config()

private func record<T>(_ pointer: UnsafePointer<T>?, _ limit: Int) {
    guard let pointer else { return }
    let range = PrefetchRange(start: UInt(bitPattern: pointer), bytes: limit * MemoryLayout<T>.stride)
    recorded.withLock { $0.append(range) }
}

/// `wrapped` with every prefetching kernel recording what it may prefetch first.
private func recordingKernels() -> xent_ukernel_config {
    var k = wrapped
    k.raddstoreexpminusmax = { n, x, shift, q, y, mark, sums, limit in
        record(x, limit)
        record(q, limit)
        record(y.map { UnsafePointer($0) }, limit)
        wrapped.raddstoreexpminusmax!(n, x, shift, q, y, mark, sums, limit)
    }
    k.f16_widen = { n, src, dst, limit in
        record(src, limit)
        wrapped.f16_widen!(n, src, dst, limit)
    }
    k.bf16_widen = { n, src, dst, limit in
        record(src, limit)
        wrapped.bf16_widen!(n, src, dst, limit)
    }
    k.f16_round = { n, src, dst, limit in
        record(dst.map { UnsafePointer($0) }, limit)
        wrapped.f16_round!(n, src, dst, limit)
    }
    k.bf16_round = { n, src, dst, limit in
        record(dst.map { UnsafePointer($0) }, limit)
        wrapped.bf16_round!(n, src, dst, limit)
    }
    if wrapped.f16_rmaxwiden != nil {
        k.f16_rmaxwiden = { n, src, dst, max, limit in
            record(src, limit)
            wrapped.f16_rmaxwiden!(n, src, dst, max, limit)
        }
        k.bf16_rmaxwiden = { n, src, dst, max, limit in
            record(src, limit)
            wrapped.bf16_rmaxwiden!(n, src, dst, max, limit)
        }
        k.f16_vgradientround = { n, y, q, w, smoothing, a, b, d, dst, limit in
            record(dst.map { UnsafePointer($0) }, limit)
            wrapped.f16_vgradientround!(n, y, q, w, smoothing, a, b, d, dst, limit)
        }
        k.bf16_vgradientround = { n, y, q, w, smoothing, a, b, d, dst, limit in
            record(dst.map { UnsafePointer($0) }, limit)
            wrapped.bf16_vgradientround!(n, y, q, w, smoothing, a, b, d, dst, limit)
        }
    }
    return k
}

private struct Shape: CustomStringConvertible {
    var rows: Int, classes: Int, stride: Int, threads: Int
    var description: String { "\(rows)×\(classes) stride \(stride), \(threads) threads" }
}

@Suite("Prefetch limits")
struct PrefetchBoundTests {
    /// One row of each kind of call: a short row, rows of several chunks in a strided batch, one
    /// long row split over two threads, rows split over two threads.
    fileprivate static let shapes = [
        Shape(rows: 4, classes: 100, stride: 100, threads: 1),
        Shape(rows: 3, classes: 4500, stride: 4600, threads: 1),
        Shape(rows: 1, classes: 9000, stride: 9000, threads: 2),
        Shape(rows: 6, classes: 2100, stride: 2100, threads: 2),
    ]

    /// Runs one call through `VectorKernel` over the recording kernels and checks every recorded
    /// range that starts in a caller's buffer against that buffer's end; returns how many did.
    private func check<Element: LogitElement>(
        _ make: (Float) -> Element, _ shape: Shape, soft: Bool, gradient: Bool, options: SoftmaxCrossEntropy,
        _ what: String
    ) throws -> Int {
        // Soft targets take whole strides; labels leave the last row's padding out.
        let count = soft ? shape.rows * shape.stride : (shape.rows - 1) * shape.stride + shape.classes
        var rng = SeededGenerator(seed: 7)
        let logits = (0..<count).map { _ in make(Float.random(in: -4...4, using: &rng)) }
        let targets = (0..<count).map { _ in make(Float.random(in: 0...0.001, using: &rng)) }
        let labels = (0..<shape.rows).map { Int32(($0 * 37) % shape.classes) }
        var grad = [Element](repeating: make(0), count: count)
        recorded.withLock { $0.removeAll() }
        try logits.withUnsafeBufferPointer { z in
            try targets.withUnsafeBufferPointer { q in
                try labels.withUnsafeBufferPointer { t in
                    try grad.withUnsafeMutableBufferPointer { g in
                        let batch = soft
                            ? try Batch(
                                logits: z, targets: q, classes: shape.classes, rowStride: shape.stride,
                                gradient: gradient ? g : nil, rowStatistics: .init(), reduction: .mean)
                            : try Batch(
                                logits: z, labels: t, classes: shape.classes, rowStride: shape.stride,
                                ignoreIndex: nil, gradient: gradient ? g : nil, rowStatistics: .init(),
                                reduction: .mean)
                        var sums = LossSums()
                        batch.runRows(
                            VectorKernel(isa: options.activeInstructionSet, kernels: recordingKernels()), options,
                            weights: nil, rowWeights: nil,
                            denominators: batch.denominators(options, weights: nil, rowWeights: nil),
                            isa: options.activeInstructionSet.cValue, threads: shape.threads, into: &sums)
                        #expect(sums.crossEntropy.isFinite, "\(what): the call itself")
                    }
                }
            }
        }
        let buffers: [(name: String, start: UInt, bytes: Int)] = [
            ("logits", logits.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }, count),
            ("targets", targets.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }, count),
            ("gradient", grad.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }, count),
        ].map { ($0.0, $0.1, $0.2 * MemoryLayout<Element>.stride) }
        var inCallerBuffers = 0
        for range in recorded.withLock({ $0 }) {
            for buffer in buffers where range.start >= buffer.start && range.start < buffer.start + UInt(buffer.bytes) {
                inCallerBuffers += 1
                let end = range.start + UInt(range.bytes), bufferEnd = buffer.start + UInt(buffer.bytes)
                #expect(end <= bufferEnd, "\(what): a kernel may prefetch \(end - bufferEnd) bytes past \(buffer.name)")
            }
        }
        return inCallerBuffers
    }

    @Test("every kernel call on the caller's buffers may prefetch only inside them, on every ISA")
    func limits() throws {
        for isa in InstructionSet.supported {
            wrapped = MicroKernels.config(isa.cValue)
            var options = SoftmaxCrossEntropy(instructionSet: isa)
            for shape in Self.shapes {
                for soft in [false, true] {
                    for gradient in [false, true] {
                        for transform in [0, 1, 2] {  // none, a logit scale, a softcap
                            options.logitScale = transform == 1 ? 0.5 : 1
                            options.softcap = transform == 2 ? 20 : nil
                            let what = "\(isa) \(shape) soft \(soft) gradient \(gradient) transform \(transform)"
                            let float = try check({ $0 }, shape, soft: soft, gradient: gradient, options: options,
                                                  "Float " + what)
                            // Transformed without a gradient, the exps are taken in a scratch copy.
                            if transform == 0 || gradient {
                                #expect(float > 0, "Float \(what): no kernel call was recorded on the caller's buffers")
                            }
                            for format in [XENT_HALF_BINARY16, XENT_HALF_BFLOAT16] {
                                let half = format == XENT_HALF_BINARY16
                                    ? try check({ Float16($0) }, shape, soft: soft, gradient: gradient,
                                                options: options, "Float16 " + what)
                                    : try check({ BFloat16($0) }, shape, soft: soft, gradient: gradient,
                                                options: options, "BFloat16 " + what)
                                #expect(half > 0, "\(format) \(what): no kernel call recorded on the caller's buffers")
                            }
                        }
                    }
                }
            }
        }
    }
}
