// The forward pass's carried row max (RowKernel.forwardLabelRow): the exp pass of one row also takes
// the max of the row after it (`raddexpminusmax_rmaxnext`), which that row then uses instead of its own
// `rmax`. A max is exact in any order, so the results must be bit for bit those of the rows taking
// their own: the kernel against `rmax` and the plain exp pass, the batch against the same call over
// kernels without the fused one (AVX-512F's config has it, AVX2's the 16-bit ones; elsewhere the
// batch tests put `rmax` and the plain exp pass in its place, so the rows' carry is tested on every
// ISA).
import CXent
import Foundation
import Testing
@testable import Xent

private let fusedCalls = CallCounter()
/// The config the counting kernel forwards to (set before each call; the suite runs its cases in turn).
nonisolated(unsafe) private var countedConfig = xent_ukernel_config()

/// The counted 16-bit kernel of `format`: the ISA's own, or `rmaxwiden` and the 16-bit exp pass.
private func halfStandIn(
    _ format: xent_half_format, _ n: Int, _ x: UnsafePointer<UInt16>, _ shift: Float,
    _ sum: UnsafeMutablePointer<Double>, _ limit: Int, _ next: UnsafePointer<UInt16>, _ nextCount: Int,
    _ nextMax: UnsafeMutablePointer<Float>
) {
    fusedCalls.add()
    let c = countedConfig, bf16 = format == XENT_HALF_BFLOAT16
    if let fused = bf16 ? c.bf16_raddexpminusmax_rmaxnext : c.f16_raddexpminusmax_rmaxnext {
        fused(n, x, shift, sum, limit, next, nextCount, nextMax)
    } else {
        (bf16 ? c.bf16_raddstoreexpminusmax : c.f16_raddstoreexpminusmax)!(n, x, shift, nil, nil, nil, sum, limit)
        (bf16 ? c.bf16_rmaxwiden : c.f16_rmaxwiden)!(nextCount, next, nil, nextMax, 0)
    }
}

@Suite("The next row's max", .serialized)  // one counter for all its tests
struct NextRowMaxTests {
    /// The ISAs whose configs have the fused kernel (AVX-512F), and the 16-bit ones (AVX-512F, AVX2).
    static let fusedISAs = InstructionSet.supported.filter {
        MicroKernels.config($0.cValue).raddexpminusmax_rmaxnext != nil
    }
    static let halfFusedISAs = InstructionSet.supported.filter {
        MicroKernels.config($0.cValue).f16_raddexpminusmax_rmaxnext != nil
    }

    /// `isa`'s kernels with the fused one counted: the ISA's own, or `rmax` and the plain exp pass in
    /// its place (its results by definition), so that the batch carries maxes on every ISA.
    private static func counting(_ isa: InstructionSet) -> xent_ukernel_config {
        countedConfig = MicroKernels.config(isa.cValue)
        var k = countedConfig
        k.raddexpminusmax_rmaxnext = { n, x, shift, sum, limit, next, nextCount, nextMax in
            fusedCalls.add()
            if let fused = countedConfig.raddexpminusmax_rmaxnext {
                fused(n, x, shift, sum, limit, next, nextCount, nextMax)
            } else {
                countedConfig.raddstoreexpminusmax!(n, x, shift, nil, nil, 0, sum, limit)
                countedConfig.rmax!(nextCount, next, nextMax)
            }
        }
        if countedConfig.f16_rmaxwiden != nil {
            k.f16_raddexpminusmax_rmaxnext = { n, x, shift, sum, limit, next, nextCount, nextMax in
                halfStandIn(XENT_HALF_BINARY16, n, x!, shift, sum!, limit, next!, nextCount, nextMax!)
            }
            k.bf16_raddexpminusmax_rmaxnext = { n, x, shift, sum, limit, next, nextCount, nextMax in
                halfStandIn(XENT_HALF_BFLOAT16, n, x!, shift, sum!, limit, next!, nextCount, nextMax!)
            }
        }
        return k
    }

    /// Whether `isa`'s 16-bit rows can take the next row's max (its fused 16-bit passes; the
    /// counting config supplies the kernel where the ISA has none).
    private static func halfRowsCarry(_ isa: InstructionSet) -> Bool {
        MicroKernels.config(isa.cValue).f16_rmaxwiden != nil
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
        let beyond = [Float](repeating: BatchBits.sentinel, count: 32)
        for n in Array(1...70) + [511, 512, 513, 1000, 2047, 2048] {
            for nextCount in Set([1, 15, 16, 17, 31, 32, 33, 64, n - 1, n, n + 1, 2 * n + 5]) where nextCount >= 1 {
                let kind = Int.random(in: 0..<6, using: &rng)
                let x = OffsetBuffer(Self.values(n, kind: Int.random(in: 0..<6, using: &rng), &rng) + beyond,
                                     offset: Int.random(in: 0..<16, using: &rng))
                let next = OffsetBuffer(Self.values(nextCount, kind: kind, &rng) + beyond, offset: (n + nextCount) % 16)
                let z = x.readOnly.baseAddress!, y = next.readOnly.baseAddress!
                var m: Float = 0
                c.rmax!(n, z, &m)
                let shift = m == -.infinity ? 0 : m
                var expectedMax: Float = .nan, expectedSum = 0.0
                c.rmax!(nextCount, y, &expectedMax)
                c.raddstoreexpminusmax!(n, z, shift, nil, nil, 0, &expectedSum, n)
                var sum = -1.0, nextMax: Float = .nan
                c.raddexpminusmax_rmaxnext!(n, z, shift, &sum, n, y, nextCount, &nextMax)
                #expect(nextMax.bitPattern == expectedMax.bitPattern,
                        "\(isa) n=\(n) next \(nextCount) kind \(kind): max \(nextMax), rmax \(expectedMax)")
                #expect(sum.bitPattern == expectedSum.bitPattern || (sum.isNaN && expectedSum.isNaN),
                        "\(isa) n=\(n) next \(nextCount): sum \(sum), exp pass \(expectedSum)")
            }
        }
    }

    @Test("the 16-bit kernels: rmaxwiden's max for the next row, the 16-bit exp pass's sum for this one",
          .enabled(if: !halfFusedISAs.isEmpty), arguments: halfFusedISAs)
    func halfKernels(isa: InstructionSet) {
        let c = MicroKernels.config(isa.cValue)
        var rng = SeededGenerator(seed: 43)
        for format in [XENT_HALF_BINARY16, XENT_HALF_BFLOAT16] {
            let bf16 = format == XENT_HALF_BFLOAT16
            let fused = (bf16 ? c.bf16_raddexpminusmax_rmaxnext : c.f16_raddexpminusmax_rmaxnext)!
            let rmaxwiden = (bf16 ? c.bf16_rmaxwiden : c.f16_rmaxwiden)!
            let expPass = (bf16 ? c.bf16_raddstoreexpminusmax : c.f16_raddstoreexpminusmax)!
            func patterns(_ n: Int, kind: Int) -> [UInt16] {
                (0..<n).map { i -> UInt16 in
                    switch kind {
                    case 0: return UInt16.random(in: 0...UInt16.max, using: &rng)  // NaN, inf, zeros, subnormals
                    case 1:
                        let v = rng.normal(sd: 3)
                        return bf16 ? BFloat16(v).bitPattern : Float16(v).bitPattern
                    case 2: return [0x0000, 0x8000, bf16 ? 0xbf80 : 0xbc00][i % 3]  // +0, −0, −1
                    case 3: return i % 11 == 4 ? (bf16 ? 0x7fc0 : 0x7e00) : (bf16 ? 0xff80 : 0xfc00)  // NaN, −inf
                    default:
                        // Any pattern but a NaN's (±inf, subnormals, both zeros), all negative for kind 5:
                        // the max is taken from the patterns, not by the widening max NaNs and zeros go to.
                        let inf: UInt16 = bf16 ? 0x7f80 : 0x7c00
                        let p = UInt16.random(in: 0...inf, using: &rng)
                        return kind == 5 || Bool.random(using: &rng) ? p | 0x8000 : p
                    }
                }
            }
            let beyond = [UInt16](repeating: bf16 ? 0x7f7f : 0x7bff, count: 32)  // the format's largest finite
            for n in Array(1...40) + [255, 256, 257, 1000, 2048] {
                for nextCount in Set([1, 16, 17, 33, n - 1, n, n + 1]) where nextCount >= 1 {
                    let kind = Int.random(in: 0..<6, using: &rng)
                    let x = patterns(n, kind: 1) + beyond
                    let next = patterns(nextCount, kind: kind) + beyond
                    x.withUnsafeBufferPointer { xp in
                        next.withUnsafeBufferPointer { np in
                            var m: Float = 0
                            rmaxwiden(n, xp.baseAddress, nil, &m, 0)
                            let shift = m == -.infinity ? 0 : m
                            var expectedMax: Float = .nan, expectedSum = 0.0
                            rmaxwiden(nextCount, np.baseAddress, nil, &expectedMax, 0)
                            expPass(n, xp.baseAddress, shift, nil, nil, nil, &expectedSum, n)
                            var sum = -1.0, nextMax: Float = .nan
                            fused(n, xp.baseAddress, shift, &sum, n, np.baseAddress, nextCount, &nextMax)
                            #expect(nextMax.bitPattern == expectedMax.bitPattern,
                                    "\(isa) \(format) n=\(n) next \(nextCount) kind \(kind): \(nextMax)")
                            #expect(sum.bitPattern == expectedSum.bitPattern || (sum.isNaN && expectedSum.isNaN),
                                    "\(isa) \(format) n=\(n) next \(nextCount): sum \(sum), \(expectedSum)")
                        }
                    }
                }
            }
        }
    }

    /// ``BatchBits/run(_:labels:targets:classes:stride:gradient:options:weights:kernels:threads:)``
    /// and how many fused calls it made.
    private static func run<Element: LogitElement>(
        _ logits: [Element], labels: [Int32]?, targets: [Element]? = nil, classes: Int, stride: Int,
        gradient: Bool = false, options: SoftmaxCrossEntropy, weights: [Float]? = nil,
        kernels: xent_ukernel_config, threads: Int
    ) throws -> (bits: [UInt64], calls: Int) {
        _ = fusedCalls.take()
        let bits = try BatchBits.run(
            logits, labels: labels, targets: targets, classes: classes, stride: stride, gradient: gradient,
            options: options, weights: weights, kernels: kernels, threads: threads)
        return (bits, fusedCalls.take())
    }

    /// `isa`'s kernels without the fused ones: every row takes its own max.
    private static func unfused(_ isa: InstructionSet) -> xent_ukernel_config {
        var k = MicroKernels.config(isa.cValue)
        k.raddexpminusmax_rmaxnext = nil
        k.f16_raddexpminusmax_rmaxnext = nil
        k.bf16_raddexpminusmax_rmaxnext = nil
        return k
    }

    /// ``run(_:labels:targets:classes:stride:gradient:options:weights:kernels:threads:)`` over the
    /// logits stored as `Float` (`storage` 0 or 3), `Float16` (1) or ``BFloat16`` (2).
    private static func run(
        storage: Int, _ logits: [Float], labels: [Int32], classes: Int, stride: Int, options: SoftmaxCrossEntropy,
        weights: [Float]? = nil, kernels: xent_ukernel_config, threads: Int
    ) throws -> (bits: [UInt64], calls: Int) {
        switch storage {
        case 1: try run(logits.map { Float16($0) }, labels: labels, classes: classes, stride: stride,
                        options: options, weights: weights, kernels: kernels, threads: threads)
        case 2: try run(logits.map { BFloat16($0) }, labels: labels, classes: classes, stride: stride,
                        options: options, weights: weights, kernels: kernels, threads: threads)
        default: try run(logits, labels: labels, classes: classes, stride: stride, options: options,
                         weights: weights, kernels: kernels, threads: threads)
        }
    }

    @Test("forward calls: the same bits as rows that take their own max, and the fused kernel ran",
          arguments: InstructionSet.supported)
    func batches(isa: InstructionSet) throws {
        let counting = Self.counting(isa)
        let unfused = Self.unfused(isa)
        var rng = SeededGenerator(seed: 42)
        for classes in [1, 17, 100, 1000, 2047, 2048, 2049] {
            for (rows, threads) in [(1, 1), (2, 1), (3, 2), (9, 1), (9, 2), (40, 3)] {
                for stride in [classes, classes + 3] {
                    let kind = LogitKind.allCases[Int.random(in: 0..<LogitKind.allCases.count, using: &rng)]
                    var (logits, labels) = BatchBits.batch(
                        rows: rows, classes: classes, stride: stride, kind: kind, seed: UInt64(classes + rows))
                    // Bad rows: a NaN, a +inf, every class masked; a zero max of −0, one of both zeros.
                    if rows >= 9 {
                        logits[2 * stride + classes / 2] = .nan
                        logits[3 * stride + classes - 1] = .infinity
                        for j in 0..<classes { logits[4 * stride + j] = -.infinity }
                        for j in 0..<classes { logits[5 * stride + j] = j % 2 == 0 ? -0.0 : -1 }
                        for j in 0..<classes { logits[6 * stride + j] = [-1, 0, -0.0][j / 16 % 3] }
                    }
                    var options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
                    var weights: [Float]? = nil
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0: options.labelSmoothing = 0.1
                    case 1: options.zLossScale = 1e-3
                    case 2:
                        // Ignored rows (-100, the default ignore index): two in a row, one before the last.
                        for r in [0, 6, 7, rows - 2] where r >= 0 && r < rows { labels[r] = -100 }
                    case 3: weights = (0..<classes).map { _ in Float.random(in: 0..<2, using: &rng) }
                    default: break
                    }
                    // Float mostly; 16-bit logits (without smoothing, which their rows do not carry with).
                    let storage = options.labelSmoothing == 0 ? Int.random(in: 0..<4, using: &rng) : 0
                    let what = "\(isa) \(rows)×\(classes) stride \(stride) \(kind) threads \(threads) in \(storage)"
                    func run(_ kernels: xent_ukernel_config) throws -> (bits: [UInt64], calls: Int) {
                        try Self.run(storage: storage, logits, labels: labels, classes: classes, stride: stride,
                                     options: options, weights: weights, kernels: kernels, threads: threads)
                    }
                    let expected = try run(unfused)
                    let got = try run(counting)
                    let differing = zip(got.bits, expected.bits).filter { $0 != $1 }.count
                    #expect(differing == 0, "\(what): \(differing) outputs differ")
                    // Each block's rows but its last take their successor's max, both rows taking part,
                    // the row one chunk long; rows split over the threads (fewer than two a thread) none.
                    // Several threads claim blocks of rows as they go, but where the blocks begin and end
                    // does not depend on which thread claims them: one thread's claims give them.
                    var expectedCalls = 0
                    let workers = threads > 1 && rows / 2 < threads ? 0 : min(threads, rows)
                    let carries = storage == 1 || storage == 2 ? Self.halfRowsCarry(isa) : true
                    let minimum = Parallel.claimMinimum(
                        rows, workers: workers, minimumBlock: Parallel.minimumBlockElements / classes)
                    let blocks = workers == 1 ? [0..<rows] : workers == 0 ? [] :
                        WorkBlockTests.claims(count: rows, workers: workers, minimum: minimum).map {
                            $0.first ..< $0.first + $0.length
                        }
                    for block in blocks where classes <= 2048 && carries {
                        for r in block.dropLast() where labels[r] != -100 && labels[r + 1] != -100 {
                            expectedCalls += 1
                        }
                    }
                    #expect(expected.calls == 0 && got.calls == expectedCalls,
                            "\(what): \(got.calls) fused calls, \(expectedCalls) expected")
                }
            }
        }
    }

    @Test("rounding down, where a zero max's sign depends on the kernel's order: the same outputs, carried or not",
          arguments: InstructionSet.supported)
    func zeroMaxRoundingDown(isa: InstructionSet) throws {
        let counting = Self.counting(isa)
        let unfused = Self.unfused(isa)
        // Rows of 64 whose vectors of 16 hold −1, +0, −0 and −1 in turn (and the zeros swapped): the
        // max pass and the fused pass group the vectors differently, and rounding down −0 + 0 is −0.
        let classes = 64
        var logits: [Float] = []
        for row in 0..<8 {
            let zeros: [Float] = row % 2 == 0 ? [0, -0.0] : [-0.0, 0]
            for v in 0..<4 { logits += [Float](repeating: v == 0 || v == 3 ? -1 : zeros[v - 1], count: 16) }
        }
        let labels = (0..<8).map { Int32($0 * 7 % classes) }
        let options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
        let saved = fegetround()
        fesetround(FE_DOWNWARD)
        defer { fesetround(saved) }
        for storage in 0..<3 {
            func run(_ kernels: xent_ukernel_config) throws -> [UInt64] {
                try Self.run(storage: storage, logits, labels: labels, classes: classes, stride: classes,
                             options: options, kernels: kernels, threads: 1).bits
            }
            #expect(try run(counting) == run(unfused), "\(isa), storage \(storage)")
        }
    }

    @Test("calls with a gradient, soft targets or a transform (16-bit ones: or smoothing) never take the fused kernel",
          arguments: InstructionSet.supported)
    func otherCalls(isa: InstructionSet) throws {
        let counting = Self.counting(isa)
        let (rows, classes) = (12, 300)
        let (logits, labels) = BatchBits.batch(rows: rows, classes: classes, stride: classes, kind: .normal, seed: 5)
        let targets = [Float](repeating: 1 / Float(classes), count: logits.count)
        let options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
        var scaled = options, capped = options
        scaled.logitScale = 0.5
        capped.softcap = 20
        func calls<E: LogitElement>(
            _ logits: [E], labels: [Int32]?, targets: [E]? = nil, gradient: Bool = false,
            options: SoftmaxCrossEntropy = options
        ) throws -> Int {
            try Self.run(logits, labels: labels, targets: targets, classes: classes, stride: classes,
                         gradient: gradient, options: options, kernels: counting, threads: 1).calls
        }
        // The same rows forward: every row but the last takes its successor's max.
        #expect(try calls(logits, labels: labels) == rows - 1)
        #expect(try calls(logits, labels: labels, gradient: true) == 0, "with a gradient")
        #expect(try calls(logits, labels: nil, targets: targets) == 0, "soft targets")
        // A logit scale takes its own fused kernel where the ISA has one (ScaledExpPassTests).
        #expect(try calls(logits, labels: labels, options: scaled) == 0, "a logit scale")
        #expect(try calls(logits, labels: labels, options: capped) == 0, "a softcap")
        var smoothed = options
        smoothed.labelSmoothing = 0.1
        let halfCalls = Self.halfRowsCarry(isa) ? rows - 1 : 0
        #expect(try calls(logits.map { Float16($0) }, labels: labels) == halfCalls, "Float16 logits")
        #expect(try calls(logits.map { BFloat16($0) }, labels: labels) == halfCalls, "bfloat16 logits")
        #expect(try calls(logits.map { Float16($0) }, labels: labels, gradient: true) == 0, "Float16, a gradient")
        #expect(try calls(logits.map { BFloat16($0) }, labels: labels, options: smoothed) == 0, "bfloat16, smoothing")
        #expect(try calls(logits.map { Float16($0) }, labels: labels, options: capped) == 0, "Float16, a softcap")
    }
}
