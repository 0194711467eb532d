// The target sums taken by the exp pass (`raddstoreexpminusmax_targets`): label smoothing's (K, Σw
// and Σ w·(shift − x) over the unmasked classes) and soft targets' with class weights (Σq' and
// Σ q'·(shift − x), q' = q·w) are `rsumtargets`' in its order, so every output must be bit for bit
// that of the separate pass — the kernel against `rsumtargets` and the plain exp pass, the batch
// against the same call over kernels without the fused one.
import CXent
import Foundation
import Testing
@testable import Xent

private let targetSumsCalls = CallCounter()
/// The config the counting kernel forwards to (set before each call; the suite runs its cases in turn).
nonisolated(unsafe) private var forwardedConfig = xent_ukernel_config()

@Suite("The target sums in the exp pass", .serialized)  // one counter for all its tests
struct TargetSumsExpPassTests {
    /// The ISAs whose configs have the fused pass (the C ones).
    static let fusedISAs = InstructionSet.supported.filter {
        MicroKernels.config($0.cValue).raddstoreexpminusmax_targets != nil
    }

    @Test("the fused pass = rsumtargets' five sums, then the exp pass (with marks under smoothing)",
          arguments: fusedISAs)
    func kernel(isa: InstructionSet) {
        let c = MicroKernels.config(isa.cValue)
        let fused = c.raddstoreexpminusmax_targets!
        var rng = SeededGenerator(seed: 3)
        func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
        for n in Array(1...40) + [255, 256, 257, 511, 512, 513, 1000, 1537, 2048] {
            for masked in [0, 3, 20, 40] {
                // Normal logits, `masked` in 40 of them masked (−inf); with 20, a NaN or +inf in 40 too
                // (counted as unmasked, as rsumtargets counts them).
                let x = (0..<n).map { _ -> Float in
                    let r = Int.random(in: 0..<40, using: &rng)
                    if r < masked { return -.infinity }
                    if r == 39 && masked == 20 { return Bool.random(using: &rng) ? .nan : .infinity }
                    return rng.normal(sd: 3)
                }
                // Targets with zeros (some at masked classes) and now and then a negative one; weights
                // with zeros and a −0.
                let q = (0..<n).map { _ -> Float in
                    let r = Int.random(in: 0..<10, using: &rng)
                    if r < 3 { return 0 }
                    return r == 3 ? -Float.random(in: 0..<0.5, using: &rng) : .random(in: 0..<1, using: &rng)
                }
                let w = (0..<n).map { _ -> Float in
                    let r = Int.random(in: 0..<10, using: &rng)
                    return r == 0 ? 0 : r == 1 ? -0.0 : .random(in: 0..<2, using: &rng)
                }
                let finite = x.filter { $0.isFinite }
                let shift = finite.max() ?? 0
                for form in 0..<8 {
                    let soft = form & 4 != 0, weighted = form & 2 != 0, smoothing: Int32 = form & 1 != 0 ? 1 : 0
                    for store in [false, true] {
                        var targetSums = [Double](repeating: -1, count: 5), expSums = [Double](repeating: -1, count: 3)
                        var expected = [Float](repeating: 7, count: n), got = expected
                        let qq = soft ? q : nil, ww = weighted ? w : nil
                        c.rsumtargets!(n, x, shift, qq, ww, smoothing, &targetSums)
                        expected.withUnsafeMutableBufferPointer { e in
                            c.raddstoreexpminusmax!(n, x, shift, nil, store ? e.baseAddress : nil,
                                                    store && smoothing != 0 ? 1 : 0, &expSums, n)
                        }
                        var sums = [Double](repeating: -1, count: 6)
                        got.withUnsafeMutableBufferPointer { g in
                            fused(n, x, shift, qq, ww, smoothing, store ? g.baseAddress : nil, &sums, n)
                        }
                        let what = "\(isa) n=\(n) masked \(masked)/40 soft \(soft) weights \(weighted) "
                            + "smoothing \(smoothing) store \(store)"
                        #expect(same(sums[0], expSums[0]) && zip(sums.dropFirst(), targetSums).allSatisfy(same),
                                "\(what): \(sums) against Σexp \(expSums[0]), rsumtargets \(targetSums)")
                        let differing = zip(got, expected).filter {
                            $0.bitPattern != $1.bitPattern && !($0.isNaN && $1.isNaN)
                        }.count
                        #expect(differing == 0, "\(what): \(differing) stored exps differ")
                    }
                }
            }
        }
    }

    @Test("in place (the gradient over the logits): the bits of a separate gradient", arguments: fusedISAs)
    func inPlace(isa: InstructionSet) throws {
        for classes in [100, 3000] {
            let (logits, labels) = LogitKind.masked.batch(rows: 9, classes: classes, seed: 6)
            var ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
            ce.labelSmoothing = 0.1
            #expect(try BatchBits.inPlaceAgrees(ce, logits, labels: labels, classes: classes), "\(isa) \(classes)")
            // Soft targets with class weights, then with smoothing too.
            var rng = SeededGenerator(seed: UInt64(classes))
            let targets = (0..<logits.count).map { _ in Float.random(in: 0..<1, using: &rng) }
            ce.labelSmoothing = 0
            ce.classWeights = (0..<classes).map { _ in Float.random(in: 0..<2, using: &rng) }
            #expect(try BatchBits.inPlaceAgrees(ce, logits, labels: labels, targets: targets, classes: classes),
                    "\(isa) \(classes) soft, class weights")
            ce.labelSmoothing = 0.2
            #expect(try BatchBits.inPlaceAgrees(ce, logits, labels: labels, targets: targets, classes: classes),
                    "\(isa) \(classes) soft, class weights, smoothing")
        }
    }

    /// `isa`'s kernels with the fused pass counted.
    private static func counting(_ isa: InstructionSet) -> xent_ukernel_config {
        forwardedConfig = MicroKernels.config(isa.cValue)
        var k = forwardedConfig
        k.raddstoreexpminusmax_targets = { n, x, shift, q, w, smoothing, y, sums, limit in
            targetSumsCalls.add()
            forwardedConfig.raddstoreexpminusmax_targets!(n, x, shift, q, w, smoothing, y, sums, limit)
        }
        return k
    }

    @Test("calls with smoothing, or soft targets and class weights: the separate sums' bits, the fused pass ran",
          arguments: fusedISAs)
    func batches(isa: InstructionSet) throws {
        let counting = Self.counting(isa)
        var separate = MicroKernels.config(isa.cValue)
        separate.raddstoreexpminusmax_targets = nil
        var rng = SeededGenerator(seed: 13)
        for classes in [1, 17, 100, 1000, 2048, 2049, 5000] {
            for (rows, threads) in [(1, 1), (3, 2), (9, 1), (9, 2)] {
                let stride = classes + (Bool.random(using: &rng) ? 3 : 0)
                let kind = LogitKind.allCases[Int.random(in: 0..<LogitKind.allCases.count, using: &rng)]
                var (logits, labels) = BatchBits.batch(
                    rows: rows, classes: classes, stride: stride, kind: kind, seed: UInt64(classes * 17 + rows))
                if rows >= 9 {
                    logits[2 * stride + classes / 2] = .nan
                    logits[3 * stride + classes - 1] = .infinity
                    for j in 0..<classes { logits[4 * stride + j] = -.infinity }
                    labels[5] = -100
                }
                // Soft targets half the time (their rows whole strides).
                let soft = stride == classes && Bool.random(using: &rng)
                let targets: [Float]? = soft
                    ? (0..<logits.count).map { _ in Float.random(in: 0..<1, using: &rng) } : nil
                var options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
                // Soft targets without smoothing a third of the time: then with class weights.
                let smoothed = !soft || Int.random(in: 0..<3, using: &rng) != 0
                options.labelSmoothing = smoothed ? [0.1, 1, 0.37][Int.random(in: 0..<3, using: &rng)] : 0
                var weights: [Float]? = smoothed ? nil : (0..<classes).map { _ in Float.random(in: 0..<2, using: &rng) }
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: options.zLossScale = 1e-3
                case 1: weights = (0..<classes).map { _ in Float.random(in: 0..<2, using: &rng) }
                case 2: options.logitScale = 1.5
                default: break
                }
                for gradient in [false, true] {
                    // Float mostly; 16-bit logits too (these chunks are widened, then computed as Float's).
                    let storage = Int.random(in: 0..<4, using: &rng)
                    let what = "\(isa) \(rows)×\(classes) stride \(stride) \(kind) soft \(soft) "
                        + "α=\(options.labelSmoothing) "
                        + "weights \(weights != nil) scale \(options.logitScale) gradient \(gradient) "
                        + "threads \(threads) in \(storage)"
                    func run(_ kernels: xent_ukernel_config) throws -> [UInt64] {
                        try BatchBits.run(
                            storage: storage, logits, labels: soft ? nil : labels, targets: targets,
                            classes: classes, stride: stride, gradient: gradient, options: options,
                            weights: weights, kernels: kernels, threads: threads)
                    }
                    let (differing, calls) = try BatchBits.compare(
                        targetSumsCalls, reference: separate, counted: counting, run)
                    #expect(differing == 0, "\(what): \(differing) outputs differ")
                    // With a gradient, every chunk (a forward row of class labels may take the next row's
                    // max instead, its sums apart).
                    if gradient { #expect(calls > 0, "\(what): \(calls) fused passes") }
                }
            }
        }
    }
}
