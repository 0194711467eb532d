// The canonical ISAs (AVX-512F, AVX2+FMA, AdvSIMD) give the same bits, for every option.
import Testing
import Xent

/// One seeded batch with a random choice of every option, run by `.vector` on one ISA.
struct SeededCase: CustomStringConvertible {
    let seed: UInt64
    let rows: Int, classes: Int, threads: Int
    let kind: LogitKind
    let soft: Bool
    /// nil: Float logits; else a 16-bit format.
    let half: HalfPrecisionFormat?
    let configuration: SoftmaxCrossEntropy

    init(seed: UInt64) {
        var rng = SeededGenerator(seed: seed &* 7919 &+ 17)
        self.seed = seed
        rows = Int.random(in: 1...16, using: &rng)
        // Mostly one chunk, sometimes several (2048 elements a chunk), with every tail length.
        classes = Int.random(in: 1...(Bool.random(using: &rng) ? 3000 : 9000), using: &rng)
        threads = Int.random(in: 1...3, using: &rng)
        kind = LogitKind.allCases.randomElement(using: &rng)!
        soft = Int.random(in: 0..<3, using: &rng) == 0
        half = [nil, nil, nil, .binary16, .bfloat16].randomElement(using: &rng)!
        var ce = SoftmaxCrossEntropy()
        ce.kernel = .vector
        ce.threads = threads
        ce.reduction = Reduction.allCases.randomElement(using: &rng)!
        func sometimes(_ p: Int = 3) -> Bool { Int.random(in: 0..<p, using: &rng) == 0 }
        if sometimes() { ce.labelSmoothing = Float.random(in: 0...1, using: &rng) }
        if sometimes() { ce.classWeights = (0..<classes).map { _ in Float.random(in: 0..<2, using: &rng) } }
        if sometimes() { ce.zLossScale = Float.random(in: 0..<1e-2, using: &rng) }
        if sometimes(4) { ce.logitScale = Float.random(in: 0.25..<3, using: &rng) }
        if sometimes(4) { ce.softcap = Float.random(in: 5..<50, using: &rng) }
        if sometimes(4) { ce.gradientScale = Float.random(in: 0.1..<4, using: &rng) }
        if sometimes(5) { ce.divisor = Double.random(in: 1..<100, using: &rng) }
        if sometimes(4) { ce.rowWeights = (0..<rows).map { _ in Float.random(in: 0..<3, using: &rng) } }
        configuration = ce
    }

    var description: String {
        "seed \(seed): \(rows)×\(classes) \(kind) \(soft ? "soft" : "labels") \(half.map { "\($0)" } ?? "f32") "
            + "threads \(threads) \(configuration.reduction) α=\(configuration.labelSmoothing) "
            + "w=\(configuration.classWeights != nil) λ=\(configuration.zLossScale) s=\(configuration.logitScale) "
            + "c=\(configuration.softcap.map { "\($0)" } ?? "-") up=\(configuration.gradientScale) "
            + "D=\(configuration.divisor.map { "\($0)" } ?? "-") r=\(configuration.rowWeights != nil)"
    }

    /// Every output's bits: the loss, each row's loss, log-sum-exp and argmax, the gradient (NaN as
    /// one pattern: payloads are not promised).
    func run(on isa: InstructionSet) throws -> [UInt32] {
        var ce = configuration
        ce.instructionSet = isa
        var (logits, labels) = kind.batch(rows: rows, classes: classes, seed: seed)
        labels[0] = rows > 1 ? -100 : labels[0]
        let targets = softTargets(for: logits, classes: classes, seed: seed)
        switch half {
        case nil: return try run(ce, logits, targets, labels)
        case .binary16?: return try run(ce, logits.map { Float16($0) }, targets.map { Float16($0) }, labels)
        case .bfloat16?: return try run(ce, logits.map { BFloat16($0) }, targets.map { BFloat16($0) }, labels)
        }
    }

    private func run<Element: LogitElement & BitwiseCopyable>(
        _ ce: SoftmaxCrossEntropy, _ logits: [Element], _ targets: [Element], _ labels: [Int32]
    ) throws -> [UInt32] {
        let statistics = RowStatistics()
        var gradient = logits
        let loss = soft
            ? try ce.lossAndGradient(
                logits: logits, targets: targets, classes: classes, gradient: &gradient, rowStatistics: statistics)
            : try ce.lossAndGradient(
                logits: logits, labels: labels, classes: classes, gradient: &gradient, rowStatistics: statistics)
        func bits(_ x: Float) -> UInt32 { x.isNaN ? 0x7fc0_0000 : x.bitPattern }
        // The gradient's storage bits (a NaN row is filled with one NaN pattern by the batch).
        let gradientBits = gradient.withUnsafeBytes { raw in
            MemoryLayout<Element>.size == 2
                ? raw.bindMemory(to: UInt16.self).map { UInt32($0) }
                : raw.bindMemory(to: Float.self).map(bits)
        }
        return [bits(loss)] + statistics.losses.map(bits) + statistics.logSumExp.map(bits)
            + statistics.argmax.map { UInt32(bitPattern: $0) } + gradientBits
    }
}

@Suite struct CrossISATests {
    /// The ISAs NUMERICS.md promises the same bits on, those this CPU has.
    static let canonical = InstructionSet.supported.filter { [.avx512, .avx2, .advsimd].contains($0) }

    @Test(
        "AVX-512F and AVX2+FMA: bitwise the same loss, row outputs and gradient, 300 seeded batches, every option",
        .enabled(if: canonical.count >= 2, "needs two canonical ISAs (AdvSIMD: Scripts/test-arm64-swift.sh)"),
        arguments: 0..<6)
    func sameBits(part: Int) throws {
        for seed in UInt64(part * 50)..<UInt64(part * 50 + 50) {
            let batch = SeededCase(seed: seed)
            let first = try batch.run(on: Self.canonical[0])
            for isa in Self.canonical.dropFirst() {
                let other = try batch.run(on: isa)
                let differing = zip(first, other).filter { $0 != $1 }.count
                #expect(
                    differing == 0,
                    "\(isa) vs \(Self.canonical[0]), \(batch): \(differing) of \(first.count) outputs differ")
            }
        }
    }

    @Test(
        "over 1,048,576 classes (longer chunks): the same bits on every canonical ISA and thread count",
        .enabled(if: canonical.count >= 2, "needs two canonical ISAs (AdvSIMD: Scripts/test-arm64-swift.sh)"))
    func longestRows() throws {
        let classes = 1_100_003
        let (logits, labels) = LogitKind.masked.batch(rows: 1, classes: classes, seed: 3)
        let targets = softTargets(for: logits, classes: classes, seed: 3)
        var results: [[UInt32]] = []
        for isa in Self.canonical {
            for threads in [1, 2] {
                var ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa, threads: threads)
                ce.labelSmoothing = 0.1
                ce.zLossScale = 1e-4
                var gradient = [Float](), softGradient = [Float]()
                let statistics = RowStatistics(), softStatistics = RowStatistics()
                let loss = try ce.lossAndGradient(
                    logits: logits, labels: labels, classes: classes, gradient: &gradient, rowStatistics: statistics)
                let soft = try ce.lossAndGradient(
                    logits: logits, targets: targets, classes: classes, gradient: &softGradient,
                    rowStatistics: softStatistics)
                results.append(
                    [loss.bitPattern, soft.bitPattern, UInt32(bitPattern: statistics.argmax[0])]
                        + (statistics.losses + statistics.logSumExp + softStatistics.losses).map(\.bitPattern)
                        + gradient.map(\.bitPattern) + softGradient.map(\.bitPattern))
            }
        }
        for (k, result) in results.enumerated().dropFirst() {
            #expect(result == results[0], "run \(k) (ISA \(k / 2), \(k % 2 + 1) threads) differs from the first")
        }
    }
}
