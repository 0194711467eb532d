// A logit scale without a softcap formed by the exp pass as it loads the logits
// (`raddstoreexpscaledminusmax`, `raddexpscaledminusmax_rmaxnext`): t = s·x rounded lane by lane is
// `vtransform`'s t, so every output must be bit for bit that of transforming first — the kernels
// against `vtransform` and the plain exp passes, the batch against the same call over kernels
// without the scaled ones (the row driver then transforms first).
import CXent
import Foundation
import Testing
@testable import Xent

private let scaledCalls = CallCounter()
/// The config the counting kernels forward to (set before each call; the suite runs its cases in turn).
nonisolated(unsafe) private var forwardedConfig = xent_ukernel_config()

@Suite("The logit scale in the exp pass", .serialized)  // one counter for all its tests
struct ScaledExpPassTests {
    /// The ISAs whose configs have the scaled exp pass (the C ones).
    static let scaledISAs = InstructionSet.supported.filter {
        MicroKernels.config($0.cValue).raddstoreexpscaledminusmax != nil
    }

    /// Logits with every kind of value a scale meets: normal ones, ±inf, NaN, both zeros, subnormals,
    /// values whose product overflows or underflows.
    private static func logits(_ n: Int, using rng: inout SeededGenerator) -> [Float] {
        (0..<n).map { _ in
            switch Int.random(in: 0..<40, using: &rng) {
            case 0: .infinity
            case 1: -.infinity
            case 2: .nan
            case 3: -0.0
            case 4: 0
            case 5: Float.leastNonzeroMagnitude * Float(Int.random(in: 1...1000, using: &rng))
            case 6: Float.greatestFiniteMagnitude / Float.random(in: 1...4, using: &rng)
            case 7: -Float.greatestFiniteMagnitude / Float.random(in: 1...4, using: &rng)
            default: rng.normal(sd: 3)
            }
        }
    }

    @Test("the scaled exp pass = vtransform, then the exp pass over its t, on every path",
          arguments: scaledISAs)
    func kernel(isa: InstructionSet) {
        let c = MicroKernels.config(isa.cValue)
        let scaled = c.raddstoreexpscaledminusmax!
        var rng = SeededGenerator(seed: 7)
        for n in Array(1...40) + [255, 256, 257, 511, 512, 513, 1000, 2048] {
            for scale: Float in [0.5, 3, 1e-3, 1.7e-20, 6e19] {
                let special = Bool.random(using: &rng)
                let x = special ? Self.logits(n, using: &rng) : (0..<n).map { _ in rng.normal(sd: 3) }
                let q = (0..<n).map { _ in Bool.random(using: &rng) ? Float.random(in: 0..<1, using: &rng) : 0 }
                var t = [Float](repeating: 0, count: n)
                c.vtransform!(n, x, &t, scale, 0)
                // A finite shift (the max of t, or 0 where it is not finite): the kernels' contract.
                let finite = t.filter { $0.isFinite }
                let shift = finite.max() ?? 0
                for soft in [false, true] {
                    for (store, mark) in [(false, false), (true, false), (true, true)] {
                        var expected = [Float](repeating: 7, count: n), got = expected
                        var expectedSums = [Double](repeating: -1, count: 3), sums = expectedSums
                        q.withUnsafeBufferPointer { qp in
                            let targets = soft ? qp.baseAddress : nil
                            expected.withUnsafeMutableBufferPointer { e in
                                c.raddstoreexpminusmax!(n, t, shift, targets, store ? e.baseAddress : nil,
                                                        mark ? 1 : 0, &expectedSums, n)
                            }
                            got.withUnsafeMutableBufferPointer { g in
                                scaled(n, x, scale, shift, targets, store ? g.baseAddress : nil, mark ? 1 : 0,
                                       &sums, n)
                            }
                        }
                        let what = "\(isa) n=\(n) s=\(scale) soft \(soft) store \(store) mark \(mark)"
                        let taken = soft ? 3 : 1
                        #expect(zip(sums.prefix(taken), expectedSums.prefix(taken)).allSatisfy {
                            $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)
                        }, "\(what): sums \(sums) against \(expectedSums)")
                        let differing = zip(got, expected).filter {
                            $0.bitPattern != $1.bitPattern && !($0.isNaN && $1.isNaN)
                        }.count
                        #expect(differing == 0, "\(what): \(differing) stored exps differ")
                    }
                }
                // The forward form with the next row's max, where the ISA has it: the next row's own max.
                if let rmaxnext = c.raddexpscaledminusmax_rmaxnext {
                    for nextCount in Set([1, 17, n - 1, n, n + 1]) where nextCount >= 1 {
                        let next = Self.logits(nextCount, using: &rng)
                        var expectedMax: Float = 0, expectedSum = 0.0
                        c.rmax!(nextCount, next, &expectedMax)
                        c.raddstoreexpminusmax!(n, t, shift, nil, nil, 0, &expectedSum, n)
                        var nextMax: Float = .nan, sum = -1.0
                        rmaxnext(n, x, scale, shift, &sum, n, next, nextCount, &nextMax)
                        #expect(nextMax.bitPattern == expectedMax.bitPattern || (nextMax.isNaN && expectedMax.isNaN),
                                "\(isa) n=\(n) next \(nextCount): max \(nextMax) against \(expectedMax)")
                        #expect(sum.bitPattern == expectedSum.bitPattern || (sum.isNaN && expectedSum.isNaN),
                                "\(isa) n=\(n) next \(nextCount): sum \(sum) against \(expectedSum)")
                    }
                }
            }
        }
    }

    @Test("in place (the gradient over the logits): the bits of a separate gradient", arguments: scaledISAs)
    func inPlace(isa: InstructionSet) throws {
        for classes in [100, 3000] {
            let (logits, labels) = LogitKind.masked.batch(rows: 9, classes: classes, seed: 6)
            let targets = (0..<logits.count).map { Float($0 % 7) / 7 }
            var ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
            ce.logitScale = 2.5
            #expect(try BatchBits.inPlaceAgrees(ce, logits, labels: labels, classes: classes), "\(isa) \(classes)")
            #expect(try BatchBits.inPlaceAgrees(ce, logits, labels: labels, targets: targets, classes: classes),
                    "\(isa) \(classes) soft")
        }
    }

    /// `isa`'s kernels with the scaled exp passes counted.
    private static func counting(_ isa: InstructionSet) -> xent_ukernel_config {
        forwardedConfig = MicroKernels.config(isa.cValue)
        var k = forwardedConfig
        k.raddstoreexpscaledminusmax = { n, x, scale, shift, q, y, mark, sums, limit in
            scaledCalls.add()
            forwardedConfig.raddstoreexpscaledminusmax!(n, x, scale, shift, q, y, mark, sums, limit)
        }
        if forwardedConfig.raddexpscaledminusmax_rmaxnext != nil {
            k.raddexpscaledminusmax_rmaxnext = { n, x, scale, shift, sum, limit, next, nextCount, nextMax in
                scaledCalls.add()
                forwardedConfig.raddexpscaledminusmax_rmaxnext!(n, x, scale, shift, sum, limit, next, nextCount,
                                                                nextMax)
            }
        }
        return k
    }

    @Test("forward label rows of one chunk under a logit scale carry the next row's max",
          arguments: scaledISAs.filter { MicroKernels.config($0.cValue).raddexpscaledminusmax_rmaxnext != nil })
    func carriedMax(isa: InstructionSet) throws {
        forwardedConfig = MicroKernels.config(isa.cValue)
        var counting = forwardedConfig
        counting.raddexpscaledminusmax_rmaxnext = { n, x, scale, shift, sum, limit, next, nextCount, nextMax in
            scaledCalls.add()
            forwardedConfig.raddexpscaledminusmax_rmaxnext!(n, x, scale, shift, sum, limit, next, nextCount, nextMax)
        }
        let (rows, classes) = (12, 300)
        let (logits, labels) = BatchBits.batch(rows: rows, classes: classes, stride: classes, kind: .normal, seed: 5)
        var options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
        options.logitScale = 0.25
        func calls(gradient: Bool) throws -> Int {
            _ = scaledCalls.take()
            _ = try BatchBits.run(logits, labels: labels, classes: classes, stride: classes, gradient: gradient,
                                  options: options, kernels: counting, threads: 1)
            return scaledCalls.take()
        }
        #expect(try calls(gradient: false) == rows - 1)
        #expect(try calls(gradient: true) == 0, "with a gradient")
    }

    /// `isa`'s kernels without the scaled ones: the logits are transformed first.
    private static func transformingFirst(_ isa: InstructionSet) -> xent_ukernel_config {
        var k = MicroKernels.config(isa.cValue)
        k.raddstoreexpscaledminusmax = nil
        k.raddexpscaledminusmax_rmaxnext = nil
        return k
    }

    @Test("calls with a logit scale: the same bits as transforming first, and the scaled pass ran",
          arguments: scaledISAs)
    func batches(isa: InstructionSet) throws {
        let counting = Self.counting(isa)
        let transformingFirst = Self.transformingFirst(isa)
        var rng = SeededGenerator(seed: 11)
        for classes in [1, 17, 100, 1000, 2048, 2049, 5000] {
            for (rows, threads) in [(1, 1), (3, 2), (9, 1), (9, 2)] {
                // Soft targets' rows are whole strides (Batch); label rows may have padding.
                let soft = Bool.random(using: &rng)
                let stride = classes + (!soft && Bool.random(using: &rng) ? 3 : 0)
                let kind = LogitKind.allCases[Int.random(in: 0..<LogitKind.allCases.count, using: &rng)]
                var (logits, labels) = BatchBits.batch(
                    rows: rows, classes: classes, stride: stride, kind: kind, seed: UInt64(classes * 31 + rows))
                if rows >= 9 {
                    logits[2 * stride + classes / 2] = .nan
                    logits[3 * stride + classes - 1] = .infinity
                    for j in 0..<classes { logits[4 * stride + j] = -.infinity }
                    labels[5] = -100
                }
                for scale: Float in [0.5, 3.7] {
                    var options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
                    options.logitScale = scale
                    var weights: [Float]? = nil
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: options.zLossScale = 1e-3
                    case 1: weights = (0..<classes).map { _ in Float.random(in: 0..<2, using: &rng) }
                    default: break
                    }
                    let targets: [Float]? = soft
                        ? (0..<(rows - 1) * stride + classes).map { _ in Float.random(in: 0..<1, using: &rng) } : nil
                    for gradient in [false, true] {
                        // Float mostly; 16-bit logits too (their chunks are widened, then computed as Float's).
                        let storage = Int.random(in: 0..<4, using: &rng)
                        let what = "\(isa) \(rows)×\(classes) stride \(stride) \(kind) s=\(scale) soft \(soft) "
                            + "weights \(weights != nil) gradient \(gradient) threads \(threads) in \(storage)"
                        func run(_ kernels: xent_ukernel_config) throws -> [UInt64] {
                            try BatchBits.run(
                                storage: storage, logits, labels: soft ? nil : labels, targets: targets,
                                classes: classes, stride: stride, gradient: gradient, options: options,
                                weights: weights, kernels: kernels, threads: threads)
                        }
                        let (differing, calls) = try BatchBits.compare(
                            scaledCalls, reference: transformingFirst, counted: counting, run)
                        #expect(differing == 0, "\(what): \(differing) outputs differ")
                        // Every chunk but those of soft targets with class weights, whose sums read t apart.
                        let takesScaledPass = !(soft && weights != nil)
                        #expect(takesScaledPass ? calls > 0 : calls == 0, "\(what): \(calls) scaled passes")
                    }
                }
            }
        }
    }
}
