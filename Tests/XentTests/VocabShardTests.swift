// Vocabulary shards: in-process ranks (views of one batch's columns), the exchanges done by hand,
// checked against one call on the whole rows — bitwise with aligned shards, within bounds otherwise.
import CXent
import Testing

@testable import Xent

/// An element type the shard tests run in.
protocol ShardTestElement: LogitElement {
    init(shardTest value: Float)
    var shardTestValue: Float { get }
}

extension Float: ShardTestElement {
    init(shardTest value: Float) { self = value }
    var shardTestValue: Float { self }
}

extension Float16: ShardTestElement {
    init(shardTest value: Float) { self.init(value) }
    var shardTestValue: Float { Float(self) }
}

extension BFloat16: ShardTestElement {
    init(shardTest value: Float) { self.init(value) }
    var shardTestValue: Float { float }
}

/// What one sharded or whole call produces.
struct ShardRun: Equatable {
    var loss: Float
    var losses: [Float], logSumExp: [Float], argmax: [Int32]
    var gradient: [Float]

    static func == (a: ShardRun, b: ShardRun) -> Bool {
        a.loss.bitPattern == b.loss.bitPattern && a.losses.map(\.bitPattern) == b.losses.map(\.bitPattern)
            && a.logSumExp.map(\.bitPattern) == b.logSumExp.map(\.bitPattern) && a.argmax == b.argmax
            && a.gradient.map(\.bitPattern) == b.gradient.map(\.bitPattern)
    }
}

/// A batch of `rows × classes` and how to score it.
struct ShardCase {
    var rows: Int, classes: Int
    var logits: [Float]
    var labels: [Int32]?
    var targets: [Float]?
    var options: SoftmaxCrossEntropy

    /// One call on the whole rows, in `Element`.
    func whole<Element: ShardTestElement>(_: Element.Type, gradient wantsGradient: Bool) throws -> ShardRun {
        let z = logits.map(Element.init(shardTest:))
        var g = [Element](repeating: Element(shardTest: 0), count: z.count)
        let stats = RowStatistics()
        let loss: Float
        if let labels {
            loss =
                wantsGradient
                ? try options.lossAndGradient(
                    logits: z, labels: labels, classes: classes, gradient: &g, rowStatistics: stats)
                : try options.loss(logits: z, labels: labels, classes: classes, rowStatistics: stats)
        } else {
            let q = targets!.map(Element.init(shardTest:))
            loss =
                wantsGradient
                ? try options.lossAndGradient(
                    logits: z, targets: q, classes: classes, gradient: &g, rowStatistics: stats)
                : try options.loss(logits: z, targets: q, classes: classes, rowStatistics: stats)
        }
        return ShardRun(
            loss: loss, losses: stats.losses, logSumExp: stats.logSumExp, argmax: stats.argmax,
            gradient: wantsGradient ? g.map(\.shardTestValue) : [])
    }

    /// The same batch over `shards`, each rank a view of its columns (row stride `classes`), the
    /// exchanges by hand: the maxima reduced by maximum, the blocks gathered in `order`.
    func sharded<Element: ShardTestElement>(
        _: Element.Type, shards: [VocabShard], gradient wantsGradient: Bool, inPlace: Bool = false,
        order: [Int]? = nil, allReduce: Bool = false, inspect: ([VocabShardState]) -> Void = { _ in }
    ) throws -> ShardRun {
        var z = logits.map(Element.init(shardTest:))
        let q = targets?.map(Element.init(shardTest:))
        var g = inPlace ? [] : [Element](repeating: Element(shardTest: 0), count: z.count)
        let states = shards.map { _ in VocabShardState() }
        let configs = shards.map { shard -> SoftmaxCrossEntropy in
            var ce = options
            ce.classWeights = options.classWeights.map { Array($0[shard.offset..<(shard.offset + shard.count)]) }
            return ce
        }
        func span(_ shard: VocabShard) -> Int { (rows - 1) * classes + shard.count }
        var parts: [(z: [Element], q: [Element], g: [Element])] = shards.map { shard in
            guard let q else { return ([], [], []) }
            var z = [Element]()
            var t = [Element]()
            for r in 0..<rows {
                z += logits[(r * classes + shard.offset)..<(r * classes + shard.offset + shard.count)].map(
                    Element.init(shardTest:))
                t += q[(r * classes + shard.offset)..<(r * classes + shard.offset + shard.count)]
            }
            return (z, t, [])
        }
        let heap = parts.map { part -> UnsafeMutableBufferPointer<Element> in
            let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: part.z.count)
            _ = buffer.initialize(from: part.z)
            return buffer
        }
        defer { for buffer in heap { buffer.deallocate() } }
        var maxima = [Double](repeating: -.infinity, count: rows * 2)
        try z.withUnsafeMutableBufferPointer { zb in
            try g.withUnsafeMutableBufferPointer { gb in
                for (k, shard) in shards.enumerated() {
                    let logits = UnsafeMutableBufferPointer(start: zb.baseAddress! + shard.offset, count: span(shard))
                    let gradient =
                        !wantsGradient
                        ? nil
                        : inPlace
                            ? logits
                            : UnsafeMutableBufferPointer(start: gb.baseAddress! + shard.offset, count: span(shard))
                    var mine = [Double](repeating: .nan, count: rows * 2)
                    try mine.withUnsafeMutableBufferPointer { out in
                        if let labels {
                            try labels.withUnsafeBufferPointer {
                                try configs[k].shardMaxima(
                                    logits: UnsafeBufferPointer(logits), labels: $0, shard: shard, rowStride: classes,
                                    gradient: gradient, argmax: true, state: states[k], rowMaxima: out)
                            }
                        }
                    }
                    if labels == nil {
                        // Soft targets: each rank's own contiguous arrays (the soft-target row count is
                        // the buffer's count over the stride, which a strided view cannot give).
                        if !wantsGradient {
                            try configs[k].shardMaxima(
                                logits: parts[k].z, targets: parts[k].q, shard: shard, argmax: true, state: states[k],
                                rowMaxima: &mine)
                        } else if inPlace {
                            // In place over memory that stays put between the steps (an array's
                            // storage may move on a copy-on-write).
                            let z = heap[k]
                            try parts[k].q.withUnsafeBufferPointer { t in
                                try mine.withUnsafeMutableBufferPointer { out in
                                    try configs[k].shardMaxima(
                                        logits: UnsafeBufferPointer(z), targets: t, shard: shard, gradient: z,
                                        argmax: true,
                                        state: states[k], rowMaxima: out)
                                }
                            }
                        } else {
                            try configs[k].shardMaxima(
                                logits: parts[k].z, targets: parts[k].q, shard: shard, gradient: &parts[k].g,
                                argmax: true,
                                state: states[k], rowMaxima: &mine)
                        }
                    }
                    for i in maxima.indices { maxima[i] = Swift.max(maxima[i], mine[i]) }
                }
            }
        }
        var results = [ShardRun]()
        let block = VocabShard.statisticsCount(rows: rows)
        var gathered = [Double]()
        var maxSum = ([Double](repeating: -.infinity, count: rows), [Double](repeating: 0, count: rows * 9))
        for k in order ?? Array(shards.indices) {
            if allReduce {
                var m = [Double](repeating: 0, count: rows)
                var s = [Double](repeating: 0, count: rows * 9)
                try maxima.withUnsafeBufferPointer { mb in
                    try m.withUnsafeMutableBufferPointer { m in
                        try s.withUnsafeMutableBufferPointer { s in
                            try configs[k].shardStatisticsForAllReduce(
                                rowMaxima: mb, state: states[k], maximum: m, sum: s)
                        }
                    }
                }
                for i in 0..<rows { maxSum.0[i] = Swift.max(maxSum.0[i], m[i]) }
                for i in 0..<(rows * 9) { maxSum.1[i] += s[i] }
            } else {
                var mine = [Double](repeating: .nan, count: block)
                try maxima.withUnsafeBufferPointer { mb in
                    try mine.withUnsafeMutableBufferPointer {
                        try configs[k].shardStatistics(rowMaxima: mb, state: states[k], statistics: $0)
                    }
                }
                gathered += mine
            }
        }
        for (k, _) in shards.enumerated() {
            var losses = [Float](repeating: 0, count: rows)
            var lse = losses
            var argmax = [Int32](repeating: 0, count: rows)
            let loss = try losses.withUnsafeMutableBufferPointer { l in
                try lse.withUnsafeMutableBufferPointer { e in
                    try argmax.withUnsafeMutableBufferPointer { a in
                        let outputs = RowStatistics.Buffers(losses: l, logSumExp: e, argmax: a)
                        if allReduce {
                            return try maxSum.0.withUnsafeBufferPointer { m in
                                try maxSum.1.withUnsafeBufferPointer { s in
                                    try configs[k].combineAllReduced(
                                        maximum: m, sum: s, state: states[k], rowStatistics: outputs)
                                }
                            }
                        }
                        return try gathered.withUnsafeBufferPointer {
                            try configs[k].combineShards(statistics: $0, state: states[k], rowStatistics: outputs)
                        }
                    }
                }
            }
            results.append(ShardRun(loss: loss, losses: losses, logSumExp: lse, argmax: argmax, gradient: []))
        }
        inspect(states)
        // Every rank holds the same totals.
        for r in results.dropFirst() { #expect(r == results[0], "ranks disagree") }
        var run = results[0]
        guard wantsGradient else { return run }
        try z.withUnsafeMutableBufferPointer { zb in
            try g.withUnsafeMutableBufferPointer { gb in
                for (k, shard) in shards.enumerated() {
                    let gradient = UnsafeMutableBufferPointer(
                        start: (inPlace ? zb.baseAddress! : gb.baseAddress!) + shard.offset, count: span(shard))
                    if labels != nil {
                        try configs[k].shardGradient(gradient: gradient, state: states[k])
                    } else if inPlace {
                        try parts[k].q.withUnsafeBufferPointer { t in
                            try configs[k].shardGradient(targets: t, gradient: heap[k], state: states[k])
                        }
                    } else {
                        try configs[k].shardGradient(targets: parts[k].q, gradient: &parts[k].g, state: states[k])
                    }
                }
            }
        }
        if labels == nil {
            // Scatter the ranks' gradients back into the whole rows.
            for (k, shard) in shards.enumerated() {
                let part = inPlace ? Array(heap[k]) : parts[k].g
                for r in 0..<rows {
                    for c in 0..<shard.count {
                        if inPlace {
                            z[r * classes + shard.offset + c] = part[r * shard.count + c]
                        } else {
                            g[r * classes + shard.offset + c] = part[r * shard.count + c]
                        }
                    }
                }
            }
        }
        run.gradient = (inPlace ? z : g).map(\.shardTestValue)
        return run
    }
}

@Suite struct VocabShardTests {
    /// Named option sets; every one runs with labels and with soft targets.
    static let optionSets: [(String, @Sendable (inout SoftmaxCrossEntropy, Int, Int) -> Void)] = [
        ("plain", { _, _, _ in }),
        ("smoothing 0.1", { ce, _, _ in ce.labelSmoothing = 0.1 }),
        ("smoothing 1", { ce, _, _ in ce.labelSmoothing = 1 }),
        (
            "class weights",
            { ce, v, _ in ce.classWeights = (0..<v).map { Float($0 % 7) * 0.25 + (($0 % 5 == 0) ? 0 : 0.5) } }
        ),
        ("z-loss", { ce, _, _ in ce.zLossScale = 1e-3 }),
        ("logit scale", { ce, _, _ in ce.logitScale = 0.7 }),
        ("softcap", { ce, _, _ in ce.softcap = 6 }),
        (
            "gradient scale, divisor",
            { ce, _, _ in
                ce.gradientScale = 3
                ce.divisor = 7
            }
        ),
        ("sum", { ce, _, _ in ce.reduction = .sum }),
        ("none", { ce, _, _ in ce.reduction = .none }),
        ("2 threads", { ce, _, _ in ce.threads = 2 }),
        ("row weights", { ce, _, rows in ce.rowWeights = (0..<rows).map { Float($0 % 4) * 0.5 } }),
        (
            "everything",
            { ce, v, rows in
                ce.labelSmoothing = 0.2
                ce.zLossScale = 1e-4
                ce.logitScale = 1.3
                ce.softcap = 9
                ce.gradientScale = 0.5
                ce.classWeights = (0..<v).map { Float(1 + $0 % 3) }
                ce.threads = 3
                ce.rowWeights = (0..<rows).map { 0.25 + Float($0 % 3) }
            }
        ),
    ]

    /// A batch with the awkward rows: a label on a shard boundary, an ignored row, masked classes,
    /// a row masked in a whole chunk range, NaN and +inf in one place only.
    static func batch(rows: Int, classes: Int, seed: UInt64, labelsAt: [Int], soft: Bool) -> ShardCase {
        var (logits, labels) = LogitKind.normal.batch(rows: rows, classes: classes, seed: seed)
        for (r, t) in labelsAt.enumerated() where r < rows { labels[r] = Int32(t) }
        if rows > 3 { labels[3] = -100 }
        if rows > 4 {
            for c in stride(from: 1, to: classes, by: 3) { logits[4 * classes + c] = -.infinity }
        }
        if rows > 5 { for c in 0..<Swift.min(classes, 2048 + 100) { logits[5 * classes + c] = -.infinity } }
        if rows > 6 { logits[6 * classes + classes - 1] = .nan }
        if rows > 7 { logits[7 * classes + classes / 2] = .infinity }
        if rows > 8 { for c in 0..<classes { logits[8 * classes + c] = -.infinity } }
        let targets = soft ? softTargets(for: logits, classes: classes, seed: seed) : nil
        return ShardCase(
            rows: rows, classes: classes, logits: logits, labels: soft ? nil : labels, targets: targets,
            options: SoftmaxCrossEntropy())
    }

    @Test(
        "aligned shards give bitwise one call's loss, row outputs and gradient: every option, both target kinds",
        arguments: 0..<optionSets.count)
    func alignedEveryOption(optionIndex: Int) throws {
        let (name, set) = Self.optionSets[optionIndex]
        let classes = 2048 * 4 + 17
        for soft in [false, true] {
            var c = Self.batch(
                rows: 10, classes: classes, seed: UInt64(optionIndex), labelsAt: [2048, 2047, 0, 0, classes - 1, 4096],
                soft: soft)
            set(&c.options, classes, c.rows)
            let whole = try c.whole(Float.self, gradient: true)
            let loss = try c.whole(Float.self, gradient: false)
            for count in 1...5 {
                let shards = try VocabShard.split(classes: classes, shards: count)
                #expect(shards.allSatisfy { $0.isAligned })
                let run = try c.sharded(
                    Float.self, shards: shards, gradient: true, order: Array(shards.indices.reversed()))
                #expect(run == whole, "\(name), soft \(soft), \(count) shards")
                let lossOnly = try c.sharded(Float.self, shards: shards, gradient: false)
                #expect(lossOnly == loss, "\(name), soft \(soft), \(count) shards, loss only")
            }
            let inPlace = try c.sharded(
                Float.self, shards: try VocabShard.split(classes: classes, shards: 3), gradient: true, inPlace: true)
            #expect(inPlace == whole, "\(name), soft \(soft), in place")
            // The ranks on another canonical ISA (NUMERICS.md "Determinism"): the same bits.
            if InstructionSet.avx2.isSupported && InstructionSet.active == .avx512 {
                var other = c
                other.options.instructionSet = .avx2
                let avx2 = try other.sharded(
                    Float.self, shards: try VocabShard.split(classes: classes, shards: 2), gradient: true)
                #expect(avx2 == whole, "\(name), soft \(soft), shards on AVX2 against one call on AVX-512F")
            }
        }
    }

    @Test("aligned shards combine every row's Double sums bitwise as one call's row pipeline does")
    func rowSumsBitwise() throws {
        // The Float outputs hide most last-bit differences of the Double sums; compare those.
        let classes = 2048 * 7 + 3
        for soft in [false, true] {
            var c = Self.batch(rows: 24, classes: classes, seed: 91, labelsAt: [], soft: soft)
            c.options.labelSmoothing = 0.1
            var expected = [RowSums]()
            let params = c.options.parameters(
                weights: nil, crossEntropyDenominator: 1, zLossDenominator: 1, argmax: true, softTargets: soft)
            let pipeline = RowPipeline(isa: c.options.activeInstructionSet.cValue, params: params)
            for r in 0..<c.rows {
                expected.append(c.logits.withUnsafeBufferPointer { z in
                    (c.targets ?? []).withUnsafeBufferPointer { q in
                        pipeline.row(
                            z.baseAddress! + r * classes, targets: soft ? q.baseAddress! + r * classes : nil,
                            gradient: nil, count: classes, label: -1, labelWeight: 1,
                            scales: RowGradientScales(pipeline.params), workers: 1, prefetchLimit: classes)
                    }
                })
            }
            for count in 2...5 {
                let shards = try VocabShard.split(classes: classes, shards: count)
                _ = try c.sharded(Float.self, shards: shards, gradient: false, order: Array(shards.indices.reversed())) {
                    states in
                    for r in 0..<c.rows where !states[0].rowInfo[r].ignored {
                        let got = states[0].rowInfo[r].sums, want = expected[r]
                        let pairs = [(got.sum, want.sum), (got.sumQ, want.sumQ), (got.sumQGap, want.sumQGap),
                                     (got.sumW, want.sumW), (got.sumWGap, want.sumWGap), (got.unmasked, want.unmasked)]
                        #expect(pairs.allSatisfy { $0.0.bitPattern == $0.1.bitPattern }, "soft \(soft), \(count) shards, row \(r)")
                    }
                }
            }
        }
    }

    @Test("16-bit logits: aligned shards give bitwise one call's results")
    func halfPrecision() throws {
        let classes = 2048 * 3 + 5
        for soft in [false, true] {
            for set in [0, 1, 6, 11] {
                var c = Self.batch(
                    rows: 9, classes: classes, seed: 40 + UInt64(set), labelsAt: [2048, 4095], soft: soft)
                Self.optionSets[set].1(&c.options, classes, c.rows)
                let shards = try VocabShard.split(classes: classes, shards: 3)
                let name = "\(Self.optionSets[set].0) soft \(soft)"
                let f16 = try c.sharded(Float16.self, shards: shards, gradient: true)
                let f16Whole = try c.whole(Float16.self, gradient: true)
                #expect(f16 == f16Whole, "Float16 \(name)")
                let bf16 = try c.sharded(BFloat16.self, shards: shards, gradient: true)
                let bf16Whole = try c.whole(BFloat16.self, gradient: true)
                #expect(bf16 == bf16Whole, "BFloat16 \(name)")
                let bf16Loss = try c.sharded(BFloat16.self, shards: shards, gradient: false)
                let bf16LossWhole = try c.whole(BFloat16.self, gradient: false)
                #expect(bf16Loss == bf16LossWhole, "BFloat16 loss only \(name)")
            }
        }
    }

    /// `a` within NUMERICS-sized distance of `b` (both within the bounds of the truth).
    static func close(_ a: ShardRun, _ b: ShardRun, _ what: String) {
        func near(_ x: Float, _ y: Float, _ scale: Float) -> Bool {
            x.isNaN ? y.isNaN : abs(x - y) <= 4e-6 * Swift.max(abs(y), scale) || x == y
        }
        #expect(near(a.loss, b.loss, 1), "\(what): loss \(a.loss) vs \(b.loss)")
        for i in a.losses.indices {
            #expect(near(a.losses[i], b.losses[i], Swift.max(1, abs(b.logSumExp[i]))), "\(what): row \(i) loss")
            #expect(near(a.logSumExp[i], b.logSumExp[i], 1), "\(what): row \(i) lse")
        }
        #expect(a.argmax == b.argmax, "\(what): argmax")
        let largest = b.gradient.reduce(Float(0)) { $1.isNaN ? $0 : Swift.max($0, abs($1)) }
        var bad = 0
        // Relative to the entry, or — where p_j·Σq and q_j cancel — to NUMERICS.md's 16u·|w q| term.
        for i in a.gradient.indices where !near(a.gradient[i], b.gradient[i], 0.25 * largest) { bad += 1 }
        #expect(bad == 0, "\(what): \(bad) gradient entries differ")
    }

    @Test("unaligned and uneven shards (one of 1 class), tails, any order: within bounds; all-reduce form too")
    func unaligned() throws {
        var g = SeededGenerator(seed: 77)
        for classes in [1, 2, 7, 3000, 2048 * 2 + 1, 9000] {
            for soft in [false, true] {
                for set in [0, 1, 3, 11] {
                    var c = Self.batch(
                        rows: 9, classes: classes, seed: UInt64(classes + set), labelsAt: [classes - 1, classes / 2],
                        soft: soft)
                    Self.optionSets[set].1(&c.options, classes, c.rows)
                    let whole = try c.whole(Float.self, gradient: true)
                    for count in 1...Swift.min(5, classes) {
                        // Random cuts, one shard of a single class where there is room.
                        var cuts = Set<Int>()
                        if classes > 2 && count > 1 { cuts.insert(1) }
                        while cuts.count < count - 1 { cuts.insert(Int.random(in: 1..<classes, using: &g)) }
                        let bounds = [0] + cuts.sorted() + [classes]
                        let shards = try (0..<count).map {
                            try VocabShard(classes: classes, offset: bounds[$0], count: bounds[$0 + 1] - bounds[$0])
                        }
                        let order = Array(shards.indices).shuffled(using: &g)
                        let run = try c.sharded(Float.self, shards: shards, gradient: true, order: order)
                        if shards.allSatisfy(\.isAligned) {
                            #expect(run == whole, "V \(classes) soft \(soft) set \(set) \(count) shards")
                        } else {
                            Self.close(run, whole, "V \(classes) soft \(soft) set \(set) \(count) shards")
                        }
                        let reduced = try c.sharded(Float.self, shards: shards, gradient: true, allReduce: true)
                        Self.close(reduced, whole, "all-reduce, V \(classes) soft \(soft) set \(set) \(count) shards")
                    }
                }
            }
        }
    }

    @Test("shards of a split: aligned ones tile the vocabulary in whole chunks; refusals")
    func split() throws {
        let shards = try VocabShard.split(classes: 128_256, shards: 4)
        #expect(shards.map(\.offset) == [0, 32768, 65536, 98304])  // 63 chunks: 16, 16, 16, 15
        #expect(shards.allSatisfy { $0.isAligned })
        #expect(shards.last!.offset + shards.last!.count == 128_256)
        let even = try VocabShard.split(classes: 128_256, shards: 4, aligned: false)
        #expect(even.map(\.count) == [32064, 32064, 32064, 32064])
        #expect(!even[1].isAligned)
        #expect(throws: XentError.invalidShardCount(shards: 3, classes: 4096, aligned: true)) {
            try VocabShard.split(classes: 4096, shards: 3)
        }
        #expect(throws: XentError.invalidShard(offset: 5, count: 1, classes: 5)) {
            try VocabShard(classes: 5, offset: 5, count: 1)
        }
        #expect(throws: XentError.invalidShard(offset: 0, count: 0, classes: 5)) {
            try VocabShard(classes: 5, offset: 0, count: 0)
        }
        #expect(throws: XentError.invalidShard(offset: 2, count: Int.max, classes: 5)) {
            try VocabShard(classes: 5, offset: 2, count: Int.max)
        }
    }

    @Test("bad input: typed errors, nothing written")
    func refusals() throws {
        let classes = 5000
        var c = Self.batch(rows: 4, classes: classes, seed: 3, labelsAt: [], soft: false)
        c.options.labelSmoothing = 0.1
        let shards = try VocabShard.split(classes: classes, shards: 2, aligned: false)
        let ce = c.options
        let state = VocabShardState()
        var maxima = [Double](repeating: 42, count: 8)
        let shard = shards[0]
        let view = Array(c.logits[0..<((c.rows - 1) * classes + shard.count)])
        var gradient = [Float](repeating: 42, count: view.count)
        // A label outside the vocabulary (a shard's own count is not the bound).
        var labels = c.labels!
        labels[2] = Int32(classes)
        #expect(throws: XentError.labelOutOfRange(row: 2, label: classes, classes: classes)) {
            try view.withUnsafeBufferPointer { z in
                try labels.withUnsafeBufferPointer { l in
                    try maxima.withUnsafeMutableBufferPointer { m in
                        try ce.shardMaxima(
                            logits: z, labels: l, shard: shard, rowStride: classes, state: state, rowMaxima: m)
                    }
                }
            }
        }
        #expect(maxima.allSatisfy { $0 == 42 })
        // Class weights counted against the shard.
        var weighted = ce
        weighted.classWeights = [Float](repeating: 1, count: classes)
        #expect(throws: XentError.lengthMismatch(argument: "classWeights", expected: shard.count, actual: classes)) {
            try view.withUnsafeBufferPointer { z in
                try c.labels!.withUnsafeBufferPointer { l in
                    try maxima.withUnsafeMutableBufferPointer { m in
                        try weighted.shardMaxima(
                            logits: z, labels: l, shard: shard, rowStride: classes, state: state, rowMaxima: m)
                    }
                }
            }
        }
        // Steps out of order.
        var block = [Double](repeating: 42, count: VocabShard.statisticsCount(rows: c.rows))
        #expect(throws: XentError.shardStepOutOfOrder(step: "shardStatistics", reason: "it needs shardMaxima first")) {
            try maxima.withUnsafeBufferPointer { m in
                try block.withUnsafeMutableBufferPointer {
                    try ce.shardStatistics(rowMaxima: m, state: VocabShardState(), statistics: $0)
                }
            }
        }
        #expect(block.allSatisfy { $0 == 42 })
        // Good first steps on both ranks, then bad exchanges.
        let other = VocabShardState()
        let otherView = Array(c.logits[shards[1].offset...])
        var otherMaxima = maxima
        try otherView.withUnsafeBufferPointer { z in
            try c.labels!.withUnsafeBufferPointer { l in
                try otherMaxima.withUnsafeMutableBufferPointer { m in
                    try ce.shardMaxima(
                        logits: z, labels: l, shard: shards[1], rowStride: classes, state: other, rowMaxima: m)
                }
            }
        }
        try view.withUnsafeBufferPointer { z in
            try c.labels!.withUnsafeBufferPointer { l in
                try maxima.withUnsafeMutableBufferPointer { m in
                    try gradient.withUnsafeMutableBufferPointer { g in
                        try ce.shardMaxima(
                            logits: z, labels: l, shard: shard, rowStride: classes, gradient: g, state: state,
                            rowMaxima: m)
                    }
                }
            }
        }
        for i in maxima.indices { maxima[i] = Swift.max(maxima[i], otherMaxima[i]) }
        var lowered = maxima
        lowered[0] = -1e30
        #expect(throws: XentError.invalidShardStatistics(field: "rowMaxima (max)", row: 0, value: -1e30)) {
            try lowered.withUnsafeBufferPointer { m in
                try block.withUnsafeMutableBufferPointer {
                    try ce.shardStatistics(rowMaxima: m, state: state, statistics: $0)
                }
            }
        }
        lowered[0] = 0.1  // not a Float
        #expect(throws: XentError.invalidShardStatistics(field: "rowMaxima (max)", row: 0, value: 0.1)) {
            try lowered.withUnsafeBufferPointer { m in
                try block.withUnsafeMutableBufferPointer {
                    try ce.shardStatistics(rowMaxima: m, state: state, statistics: $0)
                }
            }
        }
        #expect(block.allSatisfy { $0 == 42 })
        #expect(
            throws: XentError.lengthMismatch(argument: "statistics", expected: block.count, actual: block.count - 1)
        ) {
            try maxima.withUnsafeBufferPointer { m in
                try block.withUnsafeMutableBufferPointer {
                    try ce.shardStatistics(
                        rowMaxima: m, state: state, statistics: UnsafeMutableBufferPointer(rebasing: $0.dropLast()))
                }
            }
        }
        var otherBlock = block
        try maxima.withUnsafeBufferPointer { m in
            try block.withUnsafeMutableBufferPointer {
                try ce.shardStatistics(rowMaxima: m, state: state, statistics: $0)
            }
            try otherBlock.withUnsafeMutableBufferPointer {
                try ce.shardStatistics(rowMaxima: m, state: other, statistics: $0)
            }
        }
        var losses = [Float](repeating: 42, count: c.rows)
        func combine(
            _ stats: [Double], _ options: SoftmaxCrossEntropy = ce, state: VocabShardState = state
        ) throws(XentError) {
            // Through Result: Swift 6.0's withUnsafeBufferPointer is only rethrows.
            let result: Result<Void, XentError> = stats.withUnsafeBufferPointer { s in
                losses.withUnsafeMutableBufferPointer { l in
                    Result { () throws(XentError) in
                        _ = try options.combineShards(statistics: s, state: state, rowStatistics: .init(losses: l))
                    }
                }
            }
            try result.get()
        }
        // Only this shard's block: the vocabulary is not tiled.
        #expect(throws: XentError.shardsDoNotTile(offset: shard.count, expected: classes, classes: classes)) {
            try combine(block)
        }
        // The same block twice.
        #expect(throws: XentError.shardsDoNotTile(offset: 0, expected: shard.count, classes: classes)) {
            try combine(block + block + otherBlock)
        }
        #expect(throws: XentError.statisticsNotMultipleOfBlock(count: 2 * block.count + 1, block: block.count)) {
            try combine(block + otherBlock + [0])
        }
        #expect(throws: XentError.statisticsNotMultipleOfBlock(count: 0, block: block.count)) { try combine([]) }
        // A rank with other options.
        var foreign = otherBlock
        foreign[7] += 1
        #expect(
            throws: XentError.shardStatisticsMismatch(
                field: "options and labels fingerprint", expected: block[7], actual: foreign[7])
        ) {
            try combine(block + foreign)
        }
        var corrupted = otherBlock
        corrupted[VocabShard.statisticsHeaderCount + 8] = 0.5  // row 0: a count that is not an integer
        #expect(
            throws: XentError.invalidShardStatistics(
                field: "sum", row: 0, value: corrupted[VocabShard.statisticsHeaderCount + 7])
        ) {
            try combine(block + corrupted)
        }
        corrupted = otherBlock
        corrupted[VocabShard.statisticsHeaderCount + 7] = 1e300  // row 0: a digit position out of range
        #expect(throws: XentError.invalidShardStatistics(field: "sum", row: 0, value: 1e300)) {
            try combine(block + corrupted)
        }
        // Row 1's label claimed by the shard that does not hold it.
        var (a, b) = (block, otherBlock)
        let flagsOfRow1 = VocabShard.statisticsHeaderCount + VocabShard.statisticsPerRow
        if Int(c.labels![1]) >= shards[1].offset { a[flagsOfRow1] = 2 } else { b[flagsOfRow1] = 2 }
        #expect(throws: XentError.invalidShardStatistics(field: "flags", row: 1, value: 2)) {
            try combine(a + b)
        }
        // Row maxima reduced by something other than a maximum (here: row 0's raised on both
        // ranks): the shards' own maxima give it away.
        var raised = maxima
        raised[0] = Double(Float(raised[0]) * 2 + 1)
        var (raisedA, raisedB) = (block, otherBlock)
        try raised.withUnsafeBufferPointer { m in
            try raisedA.withUnsafeMutableBufferPointer {
                try ce.shardStatistics(rowMaxima: m, state: state, statistics: $0)
            }
            try raisedB.withUnsafeMutableBufferPointer {
                try ce.shardStatistics(rowMaxima: m, state: other, statistics: $0)
            }
        }
        #expect(throws: XentError.invalidShardStatistics(field: "row max", row: 0, value: raised[0])) {
            try combine(raisedA + raisedB)
        }
        // Back to the true maxima for what follows.
        try maxima.withUnsafeBufferPointer { m in
            try block.withUnsafeMutableBufferPointer { try ce.shardStatistics(rowMaxima: m, state: state, statistics: $0) }
            try otherBlock.withUnsafeMutableBufferPointer {
                try ce.shardStatistics(rowMaxima: m, state: other, statistics: $0)
            }
        }
        // Other options in a later step than the first.
        var changed = ce
        changed.labelSmoothing = 0.2
        #expect(
            throws: XentError.shardStepOutOfOrder(
                step: "combineShards", reason: "its options differ from those shardMaxima was given")
        ) {
            try combine(block + otherBlock, changed)
        }
        #expect(losses.allSatisfy { $0 == 42 })
        // The gradient before the combine; a gradient buffer other than step 1's.
        #expect(throws: XentError.shardStepOutOfOrder(step: "shardGradient", reason: "it needs combineShards first")) {
            try gradient.withUnsafeMutableBufferPointer { try ce.shardGradient(gradient: $0, state: state) }
        }
        try combine(otherBlock + block)
        #expect(!losses.contains(42))
        try combine(otherBlock + block, state: other)
        var elsewhere = gradient
        #expect(
            throws: XentError.shardStepOutOfOrder(
                step: "shardGradient", reason: "gradient is not the buffer shardMaxima was given")
        ) {
            try elsewhere.withUnsafeMutableBufferPointer { try ce.shardGradient(gradient: $0, state: state) }
        }
        #expect(
            throws: XentError.shardStepOutOfOrder(step: "shardGradient", reason: "shardMaxima was not given a gradient")
        ) {
            try elsewhere.withUnsafeMutableBufferPointer { try ce.shardGradient(gradient: $0, state: other) }
        }
    }

    /// In-process ranks' exchanges: their row maxima reduced by a maximum (as MPI_MAX folds them),
    /// step 2 on each, the blocks gathered in rank order.
    static func exchange(
        _ ce: SoftmaxCrossEntropy, states: [VocabShardState], maxima: [[Double]]
    ) throws -> [Double] {
        let reduced = maxima.dropFirst().reduce(maxima[0]) { zip($0, $1).map { $0 > $1 ? $0 : $1 } }
        var gathered = [Double]()
        for state in states {
            var block = [Double]()
            try ce.shardStatistics(rowMaxima: reduced, state: state, statistics: &block)
            gathered += block
        }
        return gathered
    }

    @Test("soft targets: each rank's columns as a view of the whole matrix (rowStride) = its columns copied")
    func softTargetViews() throws {
        let (rows, classes) = (3, 10)
        let shards = [try VocabShard(classes: classes, offset: 0, count: 4),
                      try VocabShard(classes: classes, offset: 4, count: 6)]
        var rng = SeededGenerator(seed: 8)
        let logits = (0..<rows * classes).map { _ in rng.normal(sd: 3) }
        let targets = (0..<rows * classes).map { _ in Float.random(in: 0..<1, using: &rng) }
        let ce = SoftmaxCrossEntropy(kernel: .vector)
        /// Steps 1–4 over every rank, each given its columns by `columns`; the loss and the gradients.
        func run(_ columns: (VocabShard, [Float]) -> (values: [Float], stride: Int?)) throws -> (Float, [[Float]]) {
            var states: [VocabShardState] = [], maxima: [[Double]] = [], gradients: [[Float]] = []
            var rankTargets: [[Float]] = []
            for shard in shards {
                let (z, stride) = columns(shard, logits), (q, _) = columns(shard, targets)
                rankTargets.append(q)
                let state = VocabShardState()
                var m = [Double](), g = [Float]()
                try ce.shardMaxima(logits: z, targets: q, shard: shard, rowStride: stride, gradient: &g,
                                   state: state, rowMaxima: &m)
                states.append(state)
                maxima.append(m)
                gradients.append(g)
            }
            let gathered = try Self.exchange(ce, states: states, maxima: maxima)
            var loss: Float = 0
            for (r, state) in states.enumerated() {
                loss = try ce.combineShards(statistics: gathered, state: state)
                try ce.shardGradient(targets: rankTargets[r], gradient: &gradients[r], state: state)
            }
            return (loss, gradients)
        }
        let (copiedLoss, copied) = try run { shard, values in
            ((0..<rows).flatMap { r in values[(r * classes + shard.offset)...].prefix(shard.count) }, nil)
        }
        // From the shard's first column of the first row to its last column of the last row.
        let (viewLoss, viewed) = try run { shard, values in
            (Array(values[shard.offset ..< (rows - 1) * classes + shard.offset + shard.count]), classes)
        }
        #expect(viewLoss.bitPattern == copiedLoss.bitPattern)
        for (s, shard) in shards.enumerated() {
            for r in 0..<rows {
                let got = viewed[s][(r * classes)...].prefix(shard.count).map(\.bitPattern)
                let expected = copied[s][(r * shard.count)...].prefix(shard.count).map(\.bitPattern)
                #expect(got == expected, "shard \(s) row \(r)")
            }
        }
    }

    @Test("ranks whose labels differ in a row, both owned by one shard: the combine refuses the blocks")
    func labelsDifferWithinAShard() throws {
        let (rows, classes) = (3, 5000)
        let shards = try VocabShard.split(classes: classes, shards: 2)
        var rng = SeededGenerator(seed: 21)
        let logits = (0..<rows * classes).map { _ in rng.normal(sd: 3) }
        let labelsA: [Int32] = [10, 4000, 7], labelsB: [Int32] = [11, 4000, 7]  // row 0: both in shard 0
        let ce = SoftmaxCrossEntropy(kernel: .vector)
        func blocks(_ labels: [Int32]) throws -> (VocabShardState, [Double]) {
            var states: [VocabShardState] = [], maxima: [[Double]] = []
            for shard in shards {
                let columns = (0..<rows).flatMap { r in logits[(r * classes + shard.offset)...].prefix(shard.count) }
                let state = VocabShardState()
                var m = [Double]()
                try ce.shardMaxima(logits: Array(columns), labels: labels, shard: shard, state: state, rowMaxima: &m)
                states.append(state)
                maxima.append(m)
            }
            return (states[0], try Self.exchange(ce, states: states, maxima: maxima))
        }
        let (stateA, gatheredA) = try blocks(labelsA)
        let (_, gatheredB) = try blocks(labelsB)
        let block = gatheredA.count / 2
        // This rank's own blocks combine; shard 1's block from the rank with other labels does not.
        _ = try ce.combineShards(statistics: gatheredA, state: stateA)
        let mixed = Array(gatheredA.prefix(block) + gatheredB.suffix(block))
        #expect(
            throws: XentError.shardStatisticsMismatch(
                field: "options and labels fingerprint", expected: gatheredA[7], actual: gatheredB[block + 7])
        ) {
            _ = try ce.combineShards(statistics: mixed, state: stateA)
        }
        #expect(gatheredA[7] != gatheredB[block + 7])
    }

    @Test("a later step's outputs: refused over what step 4 still needs, accepted where step 1's logits were")
    func keptBuffers() throws {
        // One shard of whole rows, over unsafe buffers carved from one arena of Floats (the Double
        // and Float outputs of steps 2 and 3 are views of its bytes: the block's bytes are bound to
        // Double while it is in use, the whole arena back to Float at each run's start).
        let rows = 3, classes = 100, shard = try VocabShard(classes: classes, offset: 0, count: classes)
        let ce = SoftmaxCrossEntropy(threads: 1)
        let labels: [Int32] = [3, 39, 0]
        var rng = SeededGenerator(seed: 7)
        let values = (0..<(rows * classes)).map { _ in Float.random(in: -4...4, using: &rng) }
        let targets = (0..<(rows * classes)).map { _ in Float.random(in: 0...0.05, using: &rng) }
        let blockCount = VocabShard.statisticsCount(rows: rows)
        precondition(2 * blockCount + rows + 8 <= rows * classes, "a block and the losses fit in each buffer")
        let arena = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4 * rows * classes + 2 * blockCount)
        defer { arena.deallocate() }
        let a = arena.baseAddress!, n = rows * classes
        let logits = UnsafeMutableBufferPointer(start: a, count: n)
        let gradient = UnsafeMutableBufferPointer(start: a + n, count: n)
        let soft = UnsafeMutableBufferPointer(start: a + 2 * n, count: n)
        func doubles(at p: UnsafeMutablePointer<Float>, _ count: Int) -> UnsafeMutableBufferPointer<Double> {
            UnsafeMutableBufferPointer(
                start: UnsafeMutableRawPointer(p).bindMemory(to: Double.self, capacity: count), count: count)
        }
        // A region whose bits run() records after step 1.
        var watched: (UnsafeMutablePointer<Float>, Int)? = nil
        var beforeStep2: [UInt32] = []
        // Steps 1-4, the statistics block and the row losses where `place` puts them.
        func run(soft useTargets: Bool, withGradient: Bool, place: (Int) -> UnsafeMutablePointer<Float>)
            throws(XentError) -> ([UInt64], [UInt32], [UInt32], Float)
        {
            _ = UnsafeMutableRawPointer(a).bindMemory(to: Float.self, capacity: arena.count)
            logits.baseAddress!.update(from: values, count: n)
            soft.baseAddress!.update(from: targets, count: n)
            var maxima = [Double](repeating: 0, count: rows * VocabShard.maximaPerRow)
            let state = VocabShardState()
            let g = withGradient ? gradient : nil
            let result: Result<Void, XentError> = maxima.withUnsafeMutableBufferPointer { m in
                labels.withUnsafeBufferPointer { l in
                    Result { () throws(XentError) in
                        if useTargets {
                            try ce.shardMaxima(
                                logits: UnsafeBufferPointer(logits), targets: UnsafeBufferPointer(soft), shard: shard,
                                gradient: g, state: state, rowMaxima: m)
                        } else {
                            try ce.shardMaxima(
                                logits: UnsafeBufferPointer(logits), labels: l, shard: shard, gradient: g,
                                state: state, rowMaxima: m)
                        }
                    }
                }
            }
            try result.get()
            if let (start, count) = watched {
                beforeStep2 = UnsafeBufferPointer(start: start, count: count).map(\.bitPattern)
            }
            let block = doubles(at: place(0), blockCount)
            let losses = UnsafeMutableBufferPointer(start: place(1), count: rows)
            try maxima.withUnsafeBufferPointer { (m) throws(XentError) in
                try ce.shardStatistics(rowMaxima: m, state: state, statistics: block)
            }
            let stored = Array(block)
            let loss = try ce.combineShards(
                statistics: UnsafeBufferPointer(block), state: state, rowStatistics: .init(losses: losses))
            if withGradient {
                if useTargets {
                    try ce.shardGradient(targets: UnsafeBufferPointer(soft), gradient: gradient, state: state)
                } else {
                    try ce.shardGradient(gradient: gradient, state: state)
                }
            }
            return (stored.map(\.bitPattern), losses.map(\.bitPattern),
                    withGradient ? gradient.map(\.bitPattern) : [], loss)
        }
        let apart = a + 3 * n  // room for the block and the losses after the three buffers
        let places: [(Int) -> UnsafeMutablePointer<Float>] = [
            { $0 == 0 ? apart : apart + 2 * blockCount },  // apart from every buffer
            { $0 == 0 ? a : a + 2 * blockCount + 1 },  // where the logits were
        ]
        for useTargets in [false, true] {
            for withGradient in [false, true] {
                let want = try run(soft: useTargets, withGradient: withGradient, place: places[0])
                let got = try run(soft: useTargets, withGradient: withGradient, place: places[1])
                #expect(got.0 == want.0 && got.1 == want.1 && got.2 == want.2 && got.3.bitPattern == want.3.bitPattern,
                        "soft \(useTargets), gradient \(withGradient)")
                // Over soft targets that step 4 no longer needs (no gradient): accepted too.
                if useTargets && !withGradient {
                    let over = try run(soft: true, withGradient: false) {
                        $0 == 0 ? a + 2 * n : a + 2 * n + 2 * blockCount
                    }
                    #expect(over.0 == want.0 && over.1 == want.1 && over.3.bitPattern == want.3.bitPattern)
                }
            }
        }
        // Over the gradient (which holds the stored exps) or, with a gradient, the soft targets:
        // refused, the buffer left as it was.
        for (useTargets, start, second) in [(false, a + n + 8, "gradient"), (true, a + 2 * n + 8, "targets")] {
            watched = (start, 2 * blockCount)
            #expect(throws: XentError.overlappingBuffers(first: "statistics", second: second)) {
                _ = try run(soft: useTargets, withGradient: true) { $0 == 0 ? start : apart }
            }
            #expect(!beforeStep2.isEmpty)
            #expect(UnsafeBufferPointer(start: start, count: 2 * blockCount).map(\.bitPattern) == beforeStep2)
            #expect(throws: XentError.overlappingBuffers(first: "rowStatistics.losses", second: second)) {
                _ = try run(soft: useTargets, withGradient: true) { $0 == 0 ? apart : start }
            }
            #expect(UnsafeBufferPointer(start: start, count: 2 * blockCount).map(\.bitPattern) == beforeStep2)
        }
    }

    #if arch(x86_64)
    @Test("flush-to-zero alone, rows whose max or one shard's max is subnormal: shards as one call, every ISA")
    func subnormalMaximaUnderFlushToZero() throws {
        // Narrowing a Double maximum with the conversion instruction flushed it to zero under FTZ
        // (an exchanged max refused as "outside its domain"), where one call keeps it.
        let classes = 2048 + 2052, tiny = Float(bitPattern: 0x0058_0000), least = Float(bitPattern: 0x0080_0000)
        var logits = [Float](repeating: -1, count: 3 * classes)
        logits[3000] = tiny  // row 0: its max, in the second shard
        logits[classes + 5] = least  // row 1: the first shard's max normal, the second's subnormal
        logits[classes + 3000] = tiny
        for c in 0..<classes { logits[2 * classes + c] = Float(bitPattern: UInt32(0x0001_0000 * (c % 80))) }
        var c = ShardCase(
            rows: 3, classes: classes, logits: logits, labels: [3000, 3000, 7], targets: nil,
            options: SoftmaxCrossEntropy())
        let shards = try VocabShard.split(classes: classes, shards: 2)
        let own = xent_float_controls()
        defer { xent_set_float_controls(own) }
        xent_set_float_controls((own & ~0x8040) | 0x8000)
        // The narrowing itself: every Float kept bit for bit (subnormals, the least normal, ±0, ±inf),
        // a Double between two Floats refused.
        var floats: [Float] = [0, -0, least, -least, .infinity, -.infinity, .greatestFiniteMagnitude]
        floats += stride(from: UInt32(1), to: 0x80_0000, by: 997).flatMap {
            [Float(bitPattern: $0), Float(bitPattern: $0 | 0x8000_0000)]
        }
        for f in floats {
            #expect(VocabShardState.exactFloat(Double(f))?.bitPattern == f.bitPattern, "\(f.bitPattern)")
        }
        for d in [Double(tiny) * (1 + 0x1p-30), Double(least) * (1 - 0x1p-40), 0x1p-150, .nan, 1e39] {
            #expect(VocabShardState.exactFloat(d) == nil, "\(d)")
        }
        for isa in InstructionSet.supported where isa != .scalar {
            for threads in [1, 2] {
                c.options = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa, threads: threads)
                for soft in [false, true] {
                    c.labels = soft ? nil : [3000, 3000, 7]
                    c.targets = soft ? (0..<(3 * classes)).map { Float($0 % 3) * 0.01 } : nil
                    for gradient in [false, true] {
                        let name = "\(isa) \(threads)t soft \(soft) gradient \(gradient)"
                        #expect(try c.sharded(Float.self, shards: shards, gradient: gradient)
                                == c.whole(Float.self, gradient: gradient), "Float \(name)")
                        #expect(try c.sharded(BFloat16.self, shards: shards, gradient: gradient)
                                == c.whole(BFloat16.self, gradient: gradient), "BFloat16 \(name)")
                        let allReduce = try c.sharded(Float.self, shards: shards, gradient: gradient, allReduce: true)
                        Self.close(allReduce, try c.whole(Float.self, gradient: gradient), "all-reduce \(name)")
                    }
                }
            }
        }
    }
    #endif
}
