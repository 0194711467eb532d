// The streamed gradient (CXent.h: xent_f32_vgradientstream_ukernel_fn), which `.vector` uses on
// AVX-512F and AVX2 for a Float gradient that outgrows the caches: the same bits as vgradient and
// the label's term, for every form, tail, label position and destination offset; and whole calls
// large enough to stream equal the same rows computed in calls too small to.
import CXent
import Testing
import Xent

#if arch(x86_64)
private let streamingISAs = [XENT_ISA_AVX512F, XENT_ISA_AVX2].filter {
    xent_isa_is_supported($0) != 0 && xent_ukernel_config_get($0)!.pointee.vgradientstream != nil
}

@Suite("Streamed gradient")
struct StreamedGradientTests {
    @Test("vgradientstream = vgradient, then the label's term, every form", arguments: streamingISAs)
    func kernel(isa: xent_isa) {
        let c = xent_ukernel_config_get(isa)!.pointee
        var rng = SeededGenerator(seed: 51)
        let specials: [Float] = [-0.0, 0, 1, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity, .nan]
        for n in Array(1...70) + [127, 128, 129, 2047, 2048, 2049] {
            var e = (0..<n).map { _ in Float.random(in: 0...1, using: &rng) }
            for i in 0..<n where i % 7 == 3 { e[i] = -0.0 }
            for i in 0..<n where i % 11 == 5 { e[i] = specials.randomElement(using: &rng)! }
            let q = (0..<n).map { i in i % 5 == 0 ? 0 : Float.random(in: -0.5...1, using: &rng) }
            let w = (0..<n).map { _ in Float.random(in: 0...3, using: &rng) }
            // The destination 0–15 floats past a 64-byte line (so every head length), a label in
            // the head, the body, the tail, or none.
            for offset in [0, 1, 5, 15, n % 16] {
                for label in Set([-1, 0, n / 2, n - 1]) {
                    for (hasQ, hasW, smoothing) in [(false, false, false), (true, false, false), (false, true, false),
                                                    (true, true, true), (false, false, true)] {
                        let a = Float.random(in: 0.5...3, using: &rng), b = Float.random(in: 0...2, using: &rng)
                        let d = Float.random(in: 0...0.01, using: &rng), term = Float.random(in: 0...1, using: &rng)
                        var expected = e
                        let line = UnsafeMutableRawPointer.allocate(byteCount: (n + 32) * 4, alignment: 64)
                        defer { line.deallocate() }
                        let y = line.bindMemory(to: Float.self, capacity: n + 32)
                        y.initialize(repeating: 7, count: n + 32)
                        q.withUnsafeBufferPointer { qp in
                            w.withUnsafeBufferPointer { wp in
                                let qa = hasQ ? qp.baseAddress : nil, wa = hasW ? wp.baseAddress : nil
                                c.vgradientstream!(
                                    n, e, y + offset, qa, wa, smoothing ? 1 : 0, a, b, d, Int64(label), term)
                                c.vgradient!(n, &expected, qa, wa, smoothing ? 1 : 0, a, b, d)
                            }
                        }
                        if label >= 0 { expected[label] -= term }
                        let got = Array(UnsafeBufferPointer(start: y + offset, count: n))
                        let form = "\(isa) n \(n) offset \(offset) label \(label) q \(hasQ) w \(hasW) sm \(smoothing)"
                        #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(form)")
                        let outside = Array(0..<offset) + Array(offset + n..<n + 32)
                        #expect(outside.allSatisfy { y[$0] == 7 }, "\(form): wrote outside y")
                    }
                }
            }
        }
    }

    /// Rows of `classes` that together stream (≥ 2²⁰ elements), against the same rows in calls of
    /// `rows / parts` rows, which do not; `.sum`, so a row's gradient does not depend on its call.
    static let shapes: [(rows: Int, classes: Int)] = [(1100, 1000), (210, 5003)]

    @Test("a streamed call equals the same rows unstreamed, bit for bit", arguments: [0, 1], [1, 2])
    func wholeCalls(shapeIndex: Int, threads: Int) throws {
        let (rows, classes) = Self.shapes[shapeIndex]
        var (logits, labels) = LogitKind.masked.batch(rows: rows, classes: classes, seed: 52)
        labels[rows / 3] = -100
        let targets = softTargets(for: logits, classes: classes, seed: 52)
        var rng = SeededGenerator(seed: 53)
        var options = [SoftmaxCrossEntropy(reduction: .sum)]
        var rich = SoftmaxCrossEntropy(reduction: .sum)
        rich.labelSmoothing = 0.1
        rich.classWeights = (0..<classes).map { _ in Float.random(in: 0.5...2, using: &rng) }
        rich.zLossScale = 1e-3
        rich.logitScale = 0.7
        options.append(rich)
        var capped = SoftmaxCrossEntropy(reduction: .sum)  // a softcap does not stream: the same either way
        capped.softcap = 30
        options.append(capped)
        for var ce in options {
            ce.threads = threads
            for isa in InstructionSet.supported where isa == .avx512 || isa == .avx2 {
                ce.instructionSet = isa
                let whole = try Self.run(ce, logits, labels, targets, classes: classes, parts: 1)
                let split = try Self.run(ce, logits, labels, targets, classes: classes, parts: 4)
                let what = "\(rows)×\(classes) \(isa), \(threads) threads, α \(ce.labelSmoothing)"
                for k in whole.indices {
                    #expect(whole[k].map(\.bitPattern) == split[k].map(\.bitPattern), "\(what): output \(k) differs")
                }
            }
        }
        // The streamed path also writes in place, and into a gradient off a 64-byte line.
        var ce = SoftmaxCrossEntropy(reduction: .sum)
        ce.threads = threads
        let reference = try Self.run(ce, logits, labels, targets, classes: classes, parts: 4)
        var inPlace = logits
        _ = try inPlace.withUnsafeMutableBufferPointer { z in
            try labels.withUnsafeBufferPointer { l in try ce.lossAndGradient(inPlace: z, labels: l, classes: classes) }
        }
        #expect(inPlace.map(\.bitPattern) == reference[1].map(\.bitPattern), "in place")
        var padded = [Float](repeating: 7, count: logits.count + 3)
        _ = try padded.withUnsafeMutableBufferPointer { g in
            try logits.withUnsafeBufferPointer { z in
                try labels.withUnsafeBufferPointer { l in
                    try ce.lossAndGradient(
                        logits: z, labels: l, classes: classes,
                        gradient: UnsafeMutableBufferPointer(rebasing: g[1..<(1 + logits.count)]))
                }
            }
        }
        #expect(padded[1..<(1 + logits.count)].map(\.bitPattern) == reference[1].map(\.bitPattern), "offset gradient")
        #expect(padded[0] == 7 && padded[logits.count + 1] == 7, "wrote outside the gradient")
    }

    /// Row losses and gradient for labels, then for soft targets, computed in `parts` calls.
    static func run(
        _ ce: SoftmaxCrossEntropy, _ logits: [Float], _ labels: [Int32], _ targets: [Float], classes: Int, parts: Int
    ) throws -> [[Float]] {
        let rows = labels.count, step = (rows + parts - 1) / parts
        var out = [[Float]](repeating: [], count: 4)
        for start in stride(from: 0, to: rows, by: step) {
            let end = min(rows, start + step), span = start * classes..<end * classes
            var gradient = [Float](), softGradient = [Float]()
            let losses = RowStatistics(.losses), softLosses = RowStatistics(.losses)
            _ = try ce.lossAndGradient(
                logits: Array(logits[span]), labels: Array(labels[start..<end]), classes: classes,
                gradient: &gradient, rowStatistics: losses)
            _ = try ce.lossAndGradient(
                logits: Array(logits[span]), targets: Array(targets[span]), classes: classes, gradient: &softGradient,
                rowStatistics: softLosses)
            out[0] += losses.losses
            out[1] += gradient
            out[2] += softLosses.losses
            out[3] += softGradient
        }
        return out
    }
}
#endif
