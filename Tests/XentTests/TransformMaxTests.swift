// A transformed chunk's max taken in the pass that transforms it (`vtransform_rmax`): a max is exact
// in any order, so the kernel must give `vtransform`'s t and `rmax`'s max bit for bit, and a batch
// the bits of the same call over kernels without it (the row driver then runs `rmax` first).
import CXent
import Foundation
import Testing
@testable import Xent

private let fusedCalls = CallCounter()
/// The config the counting kernel forwards to (set before each call; the suite runs its cases in turn).
nonisolated(unsafe) private var forwardedConfig = xent_ukernel_config()

@Suite("A chunk's max in its transform", .serialized)  // one counter for all its tests
struct TransformMaxTests {
    /// The ISAs whose configs have the fused transform (the C ones).
    static let fusedISAs = InstructionSet.supported.filter {
        MicroKernels.config($0.cValue).vtransform_rmax != nil
    }

    /// Logits with the values a max must handle: NaN (ignored), ±inf, both zeros, subnormals.
    private static func logits(_ n: Int, kind: Int, using rng: inout SeededGenerator) -> [Float] {
        switch kind {
        case 0: return (0..<n).map { _ in rng.normal(sd: 3) }
        case 1: return [Float](repeating: -.infinity, count: n)
        case 2: return [Float](repeating: .nan, count: n)
        case 3: return (0..<n).map { _ in Bool.random(using: &rng) ? -0.0 : -.infinity }
        default:
            return (0..<n).map { _ in
                switch Int.random(in: 0..<12, using: &rng) {
                case 0: .infinity
                case 1: -.infinity
                case 2: .nan
                case 3: -0.0
                case 4: 0
                case 5: -Float.leastNonzeroMagnitude * Float(Int.random(in: 1...1000, using: &rng))
                default: -abs(rng.normal(sd: 3))
                }
            }
        }
    }

    @Test("vtransform_rmax = vtransform and rmax, apart and in place, on every path", arguments: fusedISAs)
    func kernel(isa: InstructionSet) {
        let kernels = MicroKernels.config(isa.cValue)
        let fused = kernels.vtransform_rmax!
        var rng = SeededGenerator(seed: 13)
        let sentinel: Float = 5e30, guardCount = 16
        for n in Array(1...80) + [127, 128, 129, 255, 256, 257, 1000, 2048] {
            for (s, cap) in [(Float(1), Float(30)), (0.5, 5), (3, 0), (1e-3, 1)] {
                let kind = n % 5 == 0 ? Int.random(in: 1...3, using: &rng) : Int.random(in: 0...4, using: &rng)
                // At an offset from the array's start (the kernel's loads on and off register
                // boundaries), sentinels on either side: nothing outside [0, n) may be written.
                let offset = Int.random(in: 0..<16, using: &rng)
                let x = [Float](repeating: sentinel, count: offset) + Self.logits(n, kind: kind, using: &rng)
                    + [Float](repeating: sentinel, count: guardCount)
                var expectedT = [Float](repeating: 7, count: n)
                var t = [Float](repeating: sentinel, count: offset + n + guardCount)
                var expectedMax: Float = 0, max: Float = .nan, maxInPlace: Float = .nan
                x.withUnsafeBufferPointer { xp in
                    let logits = xp.baseAddress! + offset
                    kernels.vtransform!(n, logits, &expectedT, s, cap)
                    kernels.rmax!(n, logits, &expectedMax)
                    t.withUnsafeMutableBufferPointer { fused(n, logits, $0.baseAddress! + offset, s, cap, &max) }
                }
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { p in
                    fused(n, p.baseAddress! + offset, p.baseAddress! + offset, s, cap, &maxInPlace)
                }
                let what = "\(isa) n=\(n) s=\(s) c=\(cap) kind \(kind) offset \(offset)"
                #expect(max.bitPattern == expectedMax.bitPattern, "\(what): max \(max) against \(expectedMax)")
                #expect(maxInPlace.bitPattern == expectedMax.bitPattern, "\(what): in place, max \(maxInPlace)")
                let differing = zip(t[offset...], expectedT).filter { $0.bitPattern != $1.bitPattern }.count
                let differingInPlace = zip(inPlace[offset...], expectedT).filter { $0.bitPattern != $1.bitPattern }
                    .count
                #expect(differing == 0 && differingInPlace == 0,
                        "\(what): \(differing) transformed logits differ (\(differingInPlace) in place)")
                #expect(t[..<offset].allSatisfy { $0 == sentinel } && t[(offset + n)...].allSatisfy { $0 == sentinel },
                        "\(what): written outside the chunk")
                #expect(inPlace[..<offset].allSatisfy { $0 == sentinel }
                            && inPlace[(offset + n)...].allSatisfy { $0 == sentinel },
                        "\(what): in place, written outside the chunk")
            }
        }
    }

    @Test("in place (the gradient over the logits) under a softcap: the bits of a separate gradient",
          arguments: fusedISAs)
    func inPlace(isa: InstructionSet) throws {
        for classes in [100, 3000] {
            let (logits, labels) = LogitKind.masked.batch(rows: 9, classes: classes, seed: 8)
            let targets = (0..<logits.count).map { Float($0 % 5) / 5 }
            var ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
            ce.softcap = 15
            ce.logitScale = 1.5
            #expect(try BatchBits.inPlaceAgrees(ce, logits, labels: labels, classes: classes), "\(isa) \(classes)")
            #expect(try BatchBits.inPlaceAgrees(ce, logits, labels: labels, targets: targets, classes: classes),
                    "\(isa) \(classes) soft")
        }
    }

    /// `isa`'s kernels with the fused transform counted, and without it (`rmax` then `vtransform`).
    private static func kernels(_ isa: InstructionSet) -> (counting: xent_ukernel_config, apart: xent_ukernel_config) {
        forwardedConfig = MicroKernels.config(isa.cValue)
        var counting = forwardedConfig, apart = forwardedConfig
        counting.vtransform_rmax = { n, x, t, scale, cap, max in
            fusedCalls.add()
            forwardedConfig.vtransform_rmax!(n, x, t, scale, cap, max)
        }
        apart.vtransform_rmax = nil
        return (counting, apart)
    }

    @Test("calls with a softcap, or a logit scale the exp pass cannot take: the same bits, the fused pass ran",
          arguments: fusedISAs)
    func batches(isa: InstructionSet) throws {
        let (counting, apart) = Self.kernels(isa)
        var rng = SeededGenerator(seed: 17)
        for classes in [1, 17, 100, 1000, 2048, 2049, 5000] {
            for (rows, threads) in [(1, 1), (9, 1), (9, 2)] {
                let soft = Bool.random(using: &rng)
                let stride = classes + (!soft && Bool.random(using: &rng) ? 3 : 0)
                let kind = LogitKind.allCases[Int.random(in: 0..<LogitKind.allCases.count, using: &rng)]
                var (logits, labels) = BatchBits.batch(
                    rows: rows, classes: classes, stride: stride, kind: kind, seed: UInt64(classes * 17 + rows))
                if rows >= 9 {
                    logits[2 * stride + classes / 2] = .nan
                    logits[3 * stride + classes - 1] = .infinity
                    for j in 0..<classes { logits[4 * stride + j] = -.infinity }
                }
                let targets: [Float]? = soft
                    ? (0..<(rows - 1) * stride + classes).map { _ in Float.random(in: 0..<1, using: &rng) } : nil
                var options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
                if Bool.random(using: &rng) {
                    options.softcap = 20
                    options.logitScale = Bool.random(using: &rng) ? 1 : 0.7
                } else {
                    // A scale the exp pass does not take: under label smoothing.
                    options.logitScale = 2.5
                    options.labelSmoothing = 0.1
                }
                for gradient in [false, true] {
                    for argmax in [false, true] {
                        let what = "\(isa) \(rows)×\(classes) stride \(stride) \(kind) soft \(soft) "
                            + "cap \(options.softcap ?? 0) s \(options.logitScale) gradient \(gradient) "
                            + "argmax \(argmax) threads \(threads)"
                        func run(_ kernels: xent_ukernel_config) throws -> [UInt64] {
                            try BatchBits.run(
                                logits, labels: soft ? nil : labels, targets: targets, classes: classes,
                                stride: stride, gradient: gradient, options: options, kernels: kernels,
                                threads: threads, argmax: argmax)
                        }
                        let (differing, calls) = try BatchBits.compare(
                            fusedCalls, reference: apart, counted: counting, run)
                        #expect(differing == 0, "\(what): \(differing) outputs differ from rmax then vtransform")
                        // Every chunk's max in its transform, except where the argmax's search reads x.
                        if argmax { #expect(calls == 0, "\(what): fused with an argmax") } else {
                            #expect(calls > 0, "\(what): the fused pass did not run")
                        }
                    }
                }
            }
        }
    }
}
