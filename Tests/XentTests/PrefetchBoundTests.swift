// The row driver's prefetch limits (CXent.h: prefetch_limit): every micro-kernel call may prefetch
// only inside the memory it works in — in the caller's buffers the rest of the row and the rows
// after it, never past the last row; in a 16-bit row's workspace its length and padding; in a
// scratch copy the copy alone. The C kernels keep to the limit they are given
// (Scripts/test-prefetch-bounds.sh); here each ISA's kernels are wrapped to record the range every
// call may prefetch, through the batch engine, the row pipeline and the vocabulary-shard steps, and
// the Swift kernels' exp blocks record the streams they are told to prefetch.
import CXent
import Foundation
import Testing
@testable import Xent

/// One kernel call's prefetchable range: `bytes` from `start` (its prefetch limit in bytes).
private struct PrefetchRange {
    var start: UInt
    var bytes: Int
}

/// The ranges recorded since the last `removeAll` (kernels run on worker threads too). NSLock
/// rather than `Mutex`, which Apple platforms have only from macOS 15 and iOS 18.
private final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var ranges = [PrefetchRange]()

    func withLock<T>(_ body: (inout [PrefetchRange]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&ranges)
    }
}

private let recorded = Recorder()
/// The kernels the recording ones forward to (set before each call; the test runs its cases in turn).
nonisolated(unsafe) private var wrapped = xent_ukernel_config()

private func record<T>(_ pointer: UnsafePointer<T>?, _ limit: Int) {
    guard let pointer else { return }
    let range = PrefetchRange(start: UInt(bitPattern: pointer), bytes: limit * MemoryLayout<T>.stride)
    recorded.withLock { $0.append(range) }
}

/// An exp pass's streams: its logits, targets and exps, and a 16-bit gradient it prefetches when storing.
private func recordExpPass<X>(
    _ x: UnsafePointer<X>?, _ q: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>?, _ limit: Int,
    gradient z: UnsafeMutablePointer<UInt16>? = nil
) {
    record(x, limit)
    record(q, limit)
    record(y.map { UnsafePointer($0) }, limit)
    if y != nil { record(z.map { UnsafePointer($0) }, limit) }
}

/// `wrapped` with every prefetching kernel recording what it may prefetch first.
private func recordingKernels() -> xent_ukernel_config {
    var k = wrapped
    k.raddstoreexpminusmax = { n, x, shift, q, y, mark, sums, limit in
        recordExpPass(x, q, y, limit)
        wrapped.raddstoreexpminusmax!(n, x, shift, q, y, mark, sums, limit)
    }
    if wrapped.raddstoreexpscaledminusmax != nil {
        k.raddstoreexpscaledminusmax = { n, x, scale, shift, q, y, mark, sums, limit in
            recordExpPass(x, q, y, limit)
            wrapped.raddstoreexpscaledminusmax!(n, x, scale, shift, q, y, mark, sums, limit)
        }
    }
    if wrapped.raddstoreexpminusmax_targets != nil {
        k.raddstoreexpminusmax_targets = { n, x, shift, q, w, smoothing, y, sums, limit in
            recordExpPass(x, q, y, limit)
            record(w, n)  // read, not prefetched
            wrapped.raddstoreexpminusmax_targets!(n, x, shift, q, w, smoothing, y, sums, limit)
        }
    }
    if wrapped.raddexpscaledminusmax_rmaxnext != nil {
        k.raddexpscaledminusmax_rmaxnext = { n, x, scale, shift, sum, limit, next, nextCount, nextMax in
            record(x, limit)
            record(next, nextCount)  // read, not prefetched: the caller's memory too
            wrapped.raddexpscaledminusmax_rmaxnext!(n, x, scale, shift, sum, limit, next, nextCount, nextMax)
        }
    }
    if wrapped.raddexpminusmax_rmaxnext != nil {
        k.raddexpminusmax_rmaxnext = { n, x, shift, sum, limit, next, nextCount, nextMax in
            record(x, limit)
            record(next, nextCount)  // read, not prefetched: the caller's memory too
            wrapped.raddexpminusmax_rmaxnext!(n, x, shift, sum, limit, next, nextCount, nextMax)
        }
    }
    if wrapped.f16_raddexpminusmax_rmaxnext != nil {
        k.f16_raddexpminusmax_rmaxnext = { n, x, shift, sum, limit, next, nextCount, nextMax in
            record(x, limit)
            record(next, nextCount)
            wrapped.f16_raddexpminusmax_rmaxnext!(n, x, shift, sum, limit, next, nextCount, nextMax)
        }
        k.bf16_raddexpminusmax_rmaxnext = { n, x, shift, sum, limit, next, nextCount, nextMax in
            record(x, limit)
            record(next, nextCount)
            wrapped.bf16_raddexpminusmax_rmaxnext!(n, x, shift, sum, limit, next, nextCount, nextMax)
        }
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
        k.f16_vgradientround = { n, y, q, w, smoothing, a, b, d, label, labelTerm, dst, limit in
            record(dst.map { UnsafePointer($0) }, limit)
            wrapped.f16_vgradientround!(n, y, q, w, smoothing, a, b, d, label, labelTerm, dst, limit)
        }
        k.bf16_vgradientround = { n, y, q, w, smoothing, a, b, d, label, labelTerm, dst, limit in
            record(dst.map { UnsafePointer($0) }, limit)
            wrapped.bf16_vgradientround!(n, y, q, w, smoothing, a, b, d, label, labelTerm, dst, limit)
        }
    }
    if wrapped.f16_raddstoreexpminusmax != nil {
        k.f16_raddstoreexpminusmax = { n, x, shift, q, y, z, sums, limit in
            recordExpPass(x, q, y, limit, gradient: z)
            wrapped.f16_raddstoreexpminusmax!(n, x, shift, q, y, z, sums, limit)
        }
        k.bf16_raddstoreexpminusmax = { n, x, shift, q, y, z, sums, limit in
            recordExpPass(x, q, y, limit, gradient: z)
            wrapped.bf16_raddstoreexpminusmax!(n, x, shift, q, y, z, sums, limit)
        }
    }
    return k
}

private struct Shape: CustomStringConvertible {
    var rows: Int, classes: Int, stride: Int, threads: Int
    var description: String { "\(rows)×\(classes) stride \(stride), \(threads) threads" }
}

@Suite("Prefetch limits", .serialized)  // one recorder for all its tests
struct PrefetchBoundTests {
    /// One row of each kind of call: a short row, rows of several chunks in a strided batch, one
    /// long row split over two threads, rows split over two threads; short rows strided and on two
    /// threads (forward, they take the next row's max where the ISA has the kernel).
    fileprivate static let shapes = [
        Shape(rows: 4, classes: 100, stride: 100, threads: 1),
        Shape(rows: 5, classes: 100, stride: 103, threads: 1),
        Shape(rows: 8, classes: 100, stride: 100, threads: 2),
        Shape(rows: 3, classes: 4500, stride: 4600, threads: 1),
        Shape(rows: 1, classes: 9000, stride: 9000, threads: 2),
        Shape(rows: 6, classes: 2100, stride: 2100, threads: 2),
    ]

    /// Runs one call through `VectorKernel` over the recording kernels (with class weights when
    /// `weighted`) and checks every recorded range that starts in a caller's buffer against that
    /// buffer's end; returns how many did.
    private func check<Element: LogitElement>(
        _ make: (Float) -> Element, _ shape: Shape, soft: Bool, gradient: Bool, options: SoftmaxCrossEntropy,
        weighted: Bool = false, _ what: String
    ) throws -> Int {
        // Soft targets take whole strides; labels leave the last row's padding out.
        let count = soft ? shape.rows * shape.stride : (shape.rows - 1) * shape.stride + shape.classes
        var rng = SeededGenerator(seed: 7)
        let logits = (0..<count).map { _ in make(Float.random(in: -4...4, using: &rng)) }
        let targets = (0..<count).map { _ in make(Float.random(in: 0...0.001, using: &rng)) }
        let labels = (0..<shape.rows).map { Int32(($0 * 37) % shape.classes) }
        var grad = [Element](repeating: make(0), count: count)
        let classWeights = (0..<shape.classes).map { Float($0 % 5) / 2 }
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
                        classWeights.withUnsafeBufferPointer { w in
                            let w = weighted ? w.baseAddress : nil
                            batch.runRows(
                                VectorKernel(isa: options.activeInstructionSet, kernels: recordingKernels()), options,
                                weights: w, rowWeights: nil,
                                denominators: batch.denominators(options, weights: w, rowWeights: nil),
                                isa: options.activeInstructionSet.cValue, threads: shape.threads, into: &sums)
                        }
                        #expect(sums.crossEntropy.isFinite, "\(what): the call itself")
                    }
                }
            }
        }
        // The class weights' ranges are checked but not counted: the count says the data was reached.
        _ = expectEndsInside(
            [("class weights", UnsafeRawPointer(classWeights.withUnsafeBufferPointer { $0.baseAddress }),
              shape.classes * MemoryLayout<Float>.stride)],
            what)
        let bytes = count * MemoryLayout<Element>.stride
        return expectEndsInside(
            [("logits", UnsafeRawPointer(logits.withUnsafeBufferPointer { $0.baseAddress }), bytes),
             ("targets", UnsafeRawPointer(targets.withUnsafeBufferPointer { $0.baseAddress }), bytes),
             ("gradient", UnsafeRawPointer(grad.withUnsafeBufferPointer { $0.baseAddress }), bytes)],
            what)
    }

    /// Every recorded range that starts in one of the caller's `buffers` ends inside it; returns how
    /// many started in one.
    private func expectEndsInside(
        _ buffers: [(name: String, start: UnsafeRawPointer?, bytes: Int)], _ what: String
    ) -> Int {
        var inCallerBuffers = 0
        for range in recorded.withLock({ $0 }) {
            for (name, start, bytes) in buffers {
                let start = UInt(bitPattern: start), end = start + UInt(bytes)
                guard range.start >= start && range.start < end else { continue }
                inCallerBuffers += 1
                let rangeEnd = range.start + UInt(range.bytes)
                #expect(rangeEnd <= end, "\(what): a kernel may prefetch \(rangeEnd - end) bytes past \(name)")
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
                        // None, a logit scale, a softcap; 3: label smoothing and class weights (their sums
                        // in the exp pass).
                        for transform in [0, 1, 2, 3] {
                            options.logitScale = transform == 1 ? 0.5 : 1
                            options.softcap = transform == 2 ? 20 : nil
                            options.labelSmoothing = transform == 3 ? 0.1 : 0
                            let weighted = transform == 3
                            let what = "\(isa) \(shape) soft \(soft) gradient \(gradient) transform \(transform)"
                            let float = try check({ $0 }, shape, soft: soft, gradient: gradient, options: options,
                                                  weighted: weighted, "Float " + what)
                            // Transformed without a gradient, the exps are taken in a scratch copy.
                            if transform == 0 || transform == 3 || gradient {
                                #expect(float > 0, "Float \(what): no kernel call was recorded on the caller's buffers")
                            }
                            for format in [XENT_HALF_BINARY16, XENT_HALF_BFLOAT16] {
                                let half = format == XENT_HALF_BINARY16
                                    ? try check({ Float16($0) }, shape, soft: soft, gradient: gradient,
                                                options: options, weighted: weighted, "Float16 " + what)
                                    : try check({ BFloat16($0) }, shape, soft: soft, gradient: gradient,
                                                options: options, weighted: weighted, "BFloat16 " + what)
                                #expect(half > 0, "\(format) \(what): no kernel call recorded on the caller's buffers")
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Workspaces, scratch copies and the Swift kernels' blocks

    /// `count` elements the checks treat as the buffer, followed by room no prefetch may reach
    /// (more than a prefetch distance of 16-bit elements or floats), so that a limit past the end
    /// cannot land in a neighbouring buffer and pass.
    private struct Padded<T> {
        let buffer: UnsafeMutableBufferPointer<T>
        let count: Int
        init(_ count: Int, _ value: T) {
            self.count = count
            buffer = .allocate(capacity: count + 4 * Int(XENT_PREFETCH_DISTANCE))
            buffer.initialize(repeating: value)
        }
        var start: UnsafeMutablePointer<T> { buffer.baseAddress! }
        var range: (start: UInt, end: UInt) {
            (UInt(bitPattern: start), UInt(bitPattern: start + count))
        }
        func free() { buffer.deallocate() }
    }

    /// Every recorded range lies inside one of `buffers`; returns how many were recorded.
    private func expectInside(_ buffers: [(start: UInt, end: UInt)], _ what: String) -> Int {
        let ranges = recorded.withLock { r in defer { r.removeAll() }; return r }
        for range in ranges where range.bytes > 0 {
            let end = range.start + UInt(range.bytes)
            let inside = buffers.contains { range.start >= $0.start && end <= $0.end }
            #expect(inside, "\(what): a call may prefetch [\(range.start), \(end)), outside every buffer it was given")
        }
        return ranges.count
    }

    @Test("a 16-bit row's workspace and a transformed chunk's scratch copy bound the prefetches too")
    func workspaceAndScratch() throws {
        let padding = HalfRow.workspacePadding
        for isa in InstructionSet.supported {
            wrapped = MicroKernels.config(isa.cValue)
            for format in [XENT_HALF_BINARY16, XENT_HALF_BFLOAT16] {
                for (classes, workers) in [(100, 1), (2100, 1), (9000, 1), (9000, 2)] {
                    for soft in [false, true] {
                        // 3: label smoothing and class weights, their sums in the exp pass over the workspace.
                        for transform in [0, 1, 2, 3] {
                            var options = SoftmaxCrossEntropy(instructionSet: isa)
                            options.logitScale = transform == 1 ? 0.5 : 1
                            options.softcap = transform == 2 ? 20 : nil
                            options.labelSmoothing = transform == 3 ? 0.1 : 0
                            let weights = Padded<Float>(classes, 1)
                            let params = options.parameters(
                                weights: transform == 3 ? weights.start : nil, crossEntropyDenominator: 1,
                                zLossDenominator: 1, argmax: false, softTargets: soft)
                            let pipeline = RowPipeline(kernels: recordingKernels(), params: params, format: format)
                            // One row with rows after it in the caller's buffers (3000 elements), so a
                            // workspace limit taken from the caller's would overrun the workspace.
                            let following = 3000
                            let logits = Padded<UInt16>(classes + following, 0x3c00)
                            let targets = Padded<UInt16>(classes + following, 0)
                            let gradient = Padded<UInt16>(classes + following, 0)
                            let workspace = Padded<Float>(classes * (soft ? 2 : 1) + padding, 0)
                            defer {
                                [logits, targets, gradient].forEach { $0.free() }
                                workspace.free()
                                weights.free()
                            }
                            recorded.withLock { $0.removeAll() }
                            let row = HalfRow(
                                format: format, logits: logits.start, targets: soft ? targets.start : nil,
                                label: soft ? nil : classes / 3, gradient: gradient.start, classes: classes,
                                prefetchLimit: classes + following, workspace: workspace.start)
                            _ = pipeline.halfRow(
                                row, label: soft ? -1 : classes / 3, labelWeight: 1,
                                scales: RowGradientScales(params), workers: workers)
                            let what = "\(isa) \(format) \(classes) classes, \(workers) workers, soft \(soft), " +
                                "transform \(transform)"
                            let count = expectInside(
                                [logits.range, targets.range, gradient.range, workspace.range, weights.range], what)
                            #expect(count > 0, "\(what): nothing recorded")
                        }
                    }
                }
            }
            // A chunk transformed without a gradient takes its exps in the scratch copy, which
            // holds the chunk alone, whatever follows it in the caller's logits.
            var options = SoftmaxCrossEntropy(instructionSet: isa)
            options.logitScale = 0.5
            let params = options.parameters(
                weights: nil, crossEntropyDenominator: 1, zLossDenominator: 1, argmax: false, softTargets: false)
            let pipeline = RowPipeline(kernels: recordingKernels(), params: params)
            for n in [100, 2048] {
                let logits = Padded<Float>(n + 5000, 1), scratch = Padded<Float>(n, 0)
                defer { logits.free(); scratch.free() }
                recorded.withLock { $0.removeAll() }
                _ = pipeline.chunk(
                    logits.start, targets: nil, gradient: nil, count: n, base: 0, prefetchLimit: n + 5000,
                    scratch: scratch.start)
                let count = expectInside([logits.range, scratch.range], "\(isa) scratch copy of \(n)")
                #expect(count > 0, "\(isa) scratch copy of \(n): nothing recorded")
            }
        }
    }

    /// The portable exp blocks, recording the streams each block is told to prefetch: a stream at
    /// `p` with limit `l` over a block of `n` elements prefetches `p[0 ..< min(n, l)]`.
    private enum RecordingBlocks: SIMDKernelISA {
        static var isa: xent_isa { XENT_ISA_SCALAR }
        static func expMinus(
            _ n: Int, _ x: UnsafePointer<Float>, _ shift: Float, _ y: UnsafeMutablePointer<Float>,
            _ ahead: UnsafePointer<xent_prefetch_ahead>?
        ) {
            if let a = ahead?.pointee {
                let reach = min(n, a.limit)
                record(a.read.0, reach)
                record(a.read.1, reach)
                record(a.write.map { UnsafePointer($0) }, reach)
            }
            PortableKernels.expMinus(n, x, shift, y, ahead)
        }
        static func tanh(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
            PortableKernels.tanh(n, x, y)
        }
        static func multiplyAdd(_ a: Float64x8, _ b: Float64x8, _ c: Float64x8) -> Float64x8 {
            PortableKernels.multiplyAdd(a, b, c)
        }
    }

    @Test("the Swift kernels tell their exp blocks to prefetch below their limit")
    func swiftKernelBlocks() {
        let distance = Int(XENT_PREFETCH_DISTANCE)
        for n in [1, 100, 256, 300, 2048, 5000] {
            for extra in [0, 1, 40, distance - 1, distance, distance + 1, 3000] {
                let limit = n + extra
                for soft in [false, true] {
                    for store in [false, true] {
                        let x = Padded<Float>(limit, -1), q = Padded<Float>(limit, 0.01), y = Padded<Float>(limit, 0)
                        defer { x.free(); q.free(); y.free() }
                        var sums = [0.0, 0.0, 0.0]
                        recorded.withLock { $0.removeAll() }
                        raddstoreexpminusmaxKernel(
                            RecordingBlocks.self, n, x.start, 0, soft ? UnsafePointer(q.start) : nil,
                            store ? y.start : nil, false, &sums, limit)
                        let what = "n \(n), limit \(limit), soft \(soft), store \(store)"
                        _ = expectInside([x.range, q.range, y.range], what)
                    }
                }
                // With a chunk of room every block asks for something.
                if extra >= distance {
                    let x = Padded<Float>(limit, -1)
                    defer { x.free() }
                    var sum = 0.0
                    recorded.withLock { $0.removeAll() }
                    raddstoreexpminusmaxKernel(RecordingBlocks.self, n, x.start, 0, nil, nil, false, &sum, limit)
                    let reached = recorded.withLock { r in defer { r.removeAll() }; return r.contains { $0.bytes > 0 } }
                    #expect(reached, "n \(n), limit \(limit): no block was told to prefetch")
                }
            }
        }
    }

    // MARK: Vocabulary shards

    /// One shard's steps (the whole vocabulary, strided rows) over the recording kernels; every
    /// recorded range that starts in the caller's logits or gradient ends inside it.
    private func shardCheck<Element: LogitElement>(
        _ make: (Float) -> Element, isa: InstructionSet, rows: Int, classes: Int, stride: Int, _ what: String
    ) throws -> Int {
        let count = (rows - 1) * stride + classes
        var rng = SeededGenerator(seed: 11)
        let logits = (0..<count).map { _ in make(Float.random(in: -4...4, using: &rng)) }
        var grad = [Element](repeating: make(0), count: count)
        let labels = (0..<rows).map { Int32(($0 * 37) % classes) }
        let shard = try VocabShard(classes: classes, offset: 0, count: classes)
        let options = SoftmaxCrossEntropy(instructionSet: isa)
        let state = VocabShardState()
        state.kernels = recordingKernels()
        recorded.withLock { $0.removeAll() }
        var maxima = [Double](repeating: 0, count: rows * VocabShard.maximaPerRow)
        var statistics = [Double](repeating: 0, count: VocabShard.statisticsCount(rows: rows))
        try logits.withUnsafeBufferPointer { z in
            try grad.withUnsafeMutableBufferPointer { g in
                try labels.withUnsafeBufferPointer { t in
                    try maxima.withUnsafeMutableBufferPointer { m in
                        try options.shardMaxima(
                            logits: z, labels: t, shard: shard, rowStride: stride, gradient: g, state: state,
                            rowMaxima: m)
                    }
                }
                try maxima.withUnsafeBufferPointer { m in
                    try statistics.withUnsafeMutableBufferPointer { s in
                        try options.shardStatistics(rowMaxima: m, state: state, statistics: s)
                    }
                }
                let loss = try statistics.withUnsafeBufferPointer {
                    try options.combineShards(statistics: $0, state: state)
                }
                #expect(loss.isFinite, "\(what): the steps themselves")
                try options.shardGradient(gradient: g, state: state)
            }
        }
        let bytes = count * MemoryLayout<Element>.stride
        return expectEndsInside(
            [("logits", UnsafeRawPointer(logits.withUnsafeBufferPointer { $0.baseAddress }), bytes),
             ("gradient", UnsafeRawPointer(grad.withUnsafeBufferPointer { $0.baseAddress }), bytes)],
            what)
    }

    @Test("the vocabulary-shard steps' kernel calls may prefetch only inside the caller's buffers")
    func shardLimits() throws {
        for isa in InstructionSet.supported {
            wrapped = MicroKernels.config(isa.cValue)
            for (rows, classes, stride) in [(4, 100, 100), (3, 4500, 4600)] {
                let what = "\(isa) \(rows)×\(classes) stride \(stride)"
                #expect(
                    try shardCheck({ $0 }, isa: isa, rows: rows, classes: classes, stride: stride, "Float " + what) > 0)
                #expect(try shardCheck({ Float16($0) }, isa: isa, rows: rows, classes: classes, stride: stride,
                                       "Float16 " + what) > 0)
            }
        }
    }
}
