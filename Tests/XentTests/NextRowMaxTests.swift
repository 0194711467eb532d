// The forward pass's carried row max (RowKernel.forwardLabelRow): the exp pass of one row also takes
// the max of the row after it (`raddexpminusmax_rmaxnext`), which that row then uses instead of its own
// `rmax`. A max is exact in any order, so the results must be bit for bit those of the rows taking
// their own: the kernel against `rmax` and the plain exp pass, the batch against the same call over
// kernels without the fused one (AVX-512F alone has it).
import CXent
import Foundation
import Testing
@testable import Xent

/// How many times the fused kernel ran since the last reset (rows run on worker threads too).
private final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    func take() -> Int { lock.lock(); defer { count = 0; lock.unlock() }; return count }
}

private let fusedCalls = CallCounter()
/// The config the counting kernel forwards to (set before each call; the suite runs its cases in turn).
nonisolated(unsafe) private var countedConfig = xent_ukernel_config()

@Suite("The next row's max", .serialized)  // one counter for all its tests
struct NextRowMaxTests {
    /// The ISAs whose configs have the fused kernel (the C ones).
    static let fusedISAs = InstructionSet.supported.filter {
        MicroKernels.config($0.cValue).raddexpminusmax_rmaxnext != nil
    }

    private static func values(_ n: Int, kind: Int, _ rng: inout SeededGenerator) -> [Float] {
        var x: [Float] = (0..<n).map { i in
            switch kind {
            case 0: return rng.normal(sd: 3)
            case 1: return Int.random(in: 0..<3, using: &rng) == 0 ? -.infinity : rng.normal(sd: 3)
            case 2: return Bool.random(using: &rng) ? -0.0 : Int.random(in: 0..<3, using: &rng) == 0 ? 0 : -1
            case 3: return Bool.random(using: &rng) ? .nan : -.infinity
            case 4: return i % 17 == 5 ? .nan : 3e4 + rng.normal(sd: 3)
            default: return i % 29 == 3 ? .infinity : rng.normal(sd: 3)
            }
        }
        // The largest value anywhere, the last element included.
        if kind == 0 { x[Int.random(in: 0..<n, using: &rng)] = 50 }
        return x
    }

    @Test("the kernel: rmax's bits for the next row, the exp pass's sum for this one, any two lengths",
          .enabled(if: !fusedISAs.isEmpty), arguments: fusedISAs)
    func kernel(isa: InstructionSet) {
        let c = MicroKernels.config(isa.cValue)
        var rng = SeededGenerator(seed: 41)
        for n in Array(1...70) + [511, 512, 513, 1000, 2047, 2048] {
            for nextCount in Set([1, 15, 16, 17, 31, 32, 33, 64, n - 1, n, n + 1, 2 * n + 5]) where nextCount >= 1 {
                let kind = Int.random(in: 0..<6, using: &rng)
                let x = OffsetBuffer(Self.values(n, kind: Int.random(in: 0..<6, using: &rng), &rng),
                                     offset: Int.random(in: 0..<16, using: &rng))
                let next = OffsetBuffer(Self.values(nextCount, kind: kind, &rng), offset: (n + nextCount) % 16)
                var m: Float = 0
                c.rmax!(n, x.readOnly.baseAddress, &m)
                let shift = m == -.infinity ? 0 : m
                var expectedMax: Float = .nan, expectedSum = 0.0
                c.rmax!(nextCount, next.readOnly.baseAddress, &expectedMax)
                c.raddstoreexpminusmax!(n, x.readOnly.baseAddress, shift, nil, nil, 0, &expectedSum, n)
                var sum = -1.0, nextMax: Float = .nan
                c.raddexpminusmax_rmaxnext!(
                    n, x.readOnly.baseAddress, shift, &sum, n, next.readOnly.baseAddress, nextCount, &nextMax)
                #expect(nextMax.bitPattern == expectedMax.bitPattern,
                        "\(isa) n=\(n) next \(nextCount) kind \(kind): max \(nextMax), rmax \(expectedMax)")
                #expect(sum.bitPattern == expectedSum.bitPattern || (sum.isNaN && expectedSum.isNaN),
                        "\(isa) n=\(n) next \(nextCount): sum \(sum), exp pass \(expectedSum)")
            }
        }
    }

    /// One forward call's outputs over `kernels`: the two loss sums and every row's loss, log-sum-exp
    /// and argmax, as bits (NaN as one pattern).
    private static func forward(
        _ logits: [Float], _ labels: [Int32], classes: Int, stride: Int, options: SoftmaxCrossEntropy,
        kernels: xent_ukernel_config, threads: Int
    ) throws -> [UInt64] {
        let rows = labels.count
        var losses = [Float](repeating: -1, count: rows), lse = losses
        var argmax = [Int32](repeating: -2, count: rows)
        var sums = LossSums()
        try logits.withUnsafeBufferPointer { z in
            try labels.withUnsafeBufferPointer { t in
                try losses.withUnsafeMutableBufferPointer { l in
                    try lse.withUnsafeMutableBufferPointer { s in
                        try argmax.withUnsafeMutableBufferPointer { a in
                            let batch = try Batch(
                                logits: z, labels: t, classes: classes, rowStride: stride,
                                ignoreIndex: options.ignoreIndex, gradient: nil,
                                rowStatistics: .init(losses: l, logSumExp: s, argmax: a), reduction: .sum)
                            batch.runRows(
                                VectorKernel(isa: options.activeInstructionSet, kernels: kernels), options,
                                weights: nil, rowWeights: nil,
                                denominators: batch.denominators(options, weights: nil, rowWeights: nil),
                                isa: options.activeInstructionSet.cValue, threads: threads, into: &sums)
                        }
                    }
                }
            }
        }
        func bits(_ x: Float) -> UInt64 { x.isNaN ? 0x7fc0_0000 : UInt64(x.bitPattern) }
        func bits(_ x: Double) -> UInt64 { x.isNaN ? 0x7ff8_0000_0000_0000 : x.bitPattern }
        return [bits(sums.crossEntropy), bits(sums.zLoss)] + losses.map(bits) + lse.map(bits)
            + argmax.map { UInt64(UInt32(bitPattern: $0)) }
    }

    @Test("forward calls: the same bits as rows that take their own max, and the fused kernel ran",
          .enabled(if: !fusedISAs.isEmpty), arguments: fusedISAs)
    func batches(isa: InstructionSet) throws {
        let plain = MicroKernels.config(isa.cValue)
        countedConfig = plain
        var counting = plain
        counting.raddexpminusmax_rmaxnext = { n, x, shift, sum, limit, next, nextCount, nextMax in
            fusedCalls.add()
            countedConfig.raddexpminusmax_rmaxnext!(n, x, shift, sum, limit, next, nextCount, nextMax)
        }
        var unfused = plain
        unfused.raddexpminusmax_rmaxnext = nil
        var rng = SeededGenerator(seed: 42)
        for classes in [1, 17, 100, 1000, 2048, 2049] {
            for (rows, threads) in [(1, 1), (2, 1), (9, 1), (9, 2), (40, 3)] {
                for stride in [classes, classes + 3] {
                    let kind = LogitKind.allCases[Int.random(in: 0..<LogitKind.allCases.count, using: &rng)]
                    var (logits, labels) = kind.batch(rows: rows, classes: stride, seed: UInt64(classes + rows))
                    labels = labels.map { $0 % Int32(classes) }
                    // Bad rows: a NaN, a +inf, every class masked; a zero max of ±0.
                    if rows >= 9 {
                        logits[2 * stride + classes / 2] = .nan
                        logits[3 * stride + classes - 1] = .infinity
                        for j in 0..<classes { logits[4 * stride + j] = -.infinity }
                        for j in 0..<classes { logits[5 * stride + j] = j % 2 == 0 ? -0.0 : -1 }
                    }
                    var options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: options.labelSmoothing = 0.1
                    case 1: options.zLossScale = 1e-3
                    case 2:
                        // Ignored rows (-100, the default ignore index): two in a row, one before the last.
                        for r in [0, 6, 7, rows - 2] where r >= 0 && r < rows { labels[r] = -100 }
                    default: break
                    }
                    let what = "\(isa) \(rows)×\(classes) stride \(stride) \(kind) threads \(threads)"
                    countedConfig = plain
                    let expected = try Self.forward(
                        logits, labels, classes: classes, stride: stride, options: options, kernels: unfused,
                        threads: threads)
                    _ = fusedCalls.take()
                    let got = try Self.forward(
                        logits, labels, classes: classes, stride: stride, options: options, kernels: counting,
                        threads: threads)
                    let calls = fusedCalls.take()
                    #expect(got == expected, "\(what): \(zip(got, expected).filter { $0 != $1 }.count) outputs differ")
                    // Each worker's rows but its last take their successor's max, both rows taking part,
                    // the row one chunk long; rows split over the threads (fewer than two a thread) none.
                    var expectedCalls = 0
                    let workers = threads > 1 && rows / 2 < threads ? 0 : min(threads, rows)
                    for w in 0..<workers where classes <= 2048 {
                        let range = (w * rows / workers) ..< ((w + 1) * rows / workers)
                        for r in range.dropLast() where labels[r] != -100 && labels[r + 1] != -100 {
                            expectedCalls += 1
                        }
                    }
                    #expect(calls == expectedCalls, "\(what): \(calls) fused calls, \(expectedCalls) expected")
                }
            }
        }
    }
}
