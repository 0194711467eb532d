// The fused linear head against the Double model, every option; determinism; refusals.
import Foundation
import Testing
import Xent
import XentLinear

/// The option sets every shape runs with (labels and soft targets alike; the class-label-only
/// ones are ignored by soft targets as in the core API).
func optionSets(rows: Int, classes: Int) -> [(String, SoftmaxCrossEntropy)] {
    var sets: [(String, SoftmaxCrossEntropy)] = [("plain", SoftmaxCrossEntropy())]
    var o = SoftmaxCrossEntropy()
    o.labelSmoothing = 0.1
    sets.append(("smoothing", o))
    o = SoftmaxCrossEntropy()
    o.classWeights = (0..<classes).map { Float($0 % 4) * 0.5 + 0.25 }
    sets.append(("class weights", o))
    o = SoftmaxCrossEntropy()
    o.rowWeights = (0..<rows).map { Float($0 % 3) * 0.75 }
    sets.append(("row weights", o))
    o = SoftmaxCrossEntropy()
    o.zLossScale = 1e-2
    o.logitScale = 0.7
    sets.append(("z-loss, logit scale", o))
    o = SoftmaxCrossEntropy()
    o.softcap = 3
    o.gradientScale = 0.5
    o.divisor = 11
    sets.append(("softcap, gradient scale, divisor", o))
    o = SoftmaxCrossEntropy(reduction: .sum)
    sets.append(("sum", o))
    o = SoftmaxCrossEntropy(reduction: .none)
    o.rowWeights = (0..<rows).map { Float(($0 * 7) % 5) * 0.3 }
    o.labelSmoothing = 0.2
    sets.append(("none, row weights, smoothing", o))
    return sets
}

struct LinearHeadTests {
    /// (rows, hidden size, classes, workspace rows): blocks inside and at the edge of the rows,
    /// d = 1, V = 1, a row of more than one core chunk (2048 classes).
    static let shapes: [(Int, Int, Int, Int)] = [
        (7, 5, 13, 3), (7, 5, 13, 7), (6, 4, 9, 2), (5, 1, 1, 2), (1, 3, 6, 1), (5, 3, 2100, 2), (9, 1, 17, 4),
    ]

    @Test("every option, labels and soft targets, bias on and off, against the Double model")
    func againstDoubleModel() throws {
        var seed: UInt64 = 1
        for (rows, d, classes, blockRows) in Self.shapes {
            for (name, options) in optionSets(rows: rows, classes: classes) {
                for soft in [false, true] {
                    for bias in [false, true] {
                        seed += 1
                        let problem = LinearProblem(
                            rows: rows, hiddenSize: d, classes: classes, bias: bias, soft: soft, seed: seed)
                        let truth = try LinearTruth(problem, options)
                        var head = LinearCrossEntropy(options)
                        head.workspaceBytes = blockRows * classes * 4 + 3  // not a whole number of rows
                        let gradients = LinearGradients()
                        let statistics = RowStatistics()
                        let loss = try call(head, problem, gradients: gradients, statistics: statistics)
                        let what = "\(name), \(rows)×\(d)×\(classes), block \(blockRows), soft \(soft), bias \(bias)"
                        #expect(
                            abs(Double(loss) - truth.loss) <= truth.lossBound || loss == Float(truth.loss),
                            "\(what): loss \(loss), expected \(truth.loss) ± \(truth.lossBound)")
                        for violation in [
                            firstViolation("row losses", statistics.losses, truth.rowLosses, truth.rowLossBounds),
                            firstViolation("∂H", gradients.hidden, truth.hiddenGradient, truth.hiddenBound),
                            firstViolation("∂W", gradients.weight, truth.weightGradient, truth.weightBound),
                            firstViolation("∂b", gradients.bias, truth.biasGradient, truth.biasBound),
                        ] {
                            #expect(violation == nil, "\(what): \(violation ?? "")")
                        }
                        if !bias { #expect(gradients.bias.count == classes) }
                        // The loss-only call gives the same loss and row outputs: these vocabularies are
                        // narrower than its tiles' panels (LossTileTests), so it takes the same blocks.
                        let lossOnly = RowStatistics()
                        let onlyLoss = try call(head, problem, gradients: nil, statistics: lossOnly)
                        #expect(onlyLoss.bitPattern == loss.bitPattern, "\(what): loss-only call")
                        #expect(lossOnly.losses == statistics.losses && lossOnly.argmax == statistics.argmax)
                    }
                }
            }
        }
    }

    /// Runs the call the problem asks for (labels or soft targets; loss only when `gradients` is nil).
    func call(
        _ head: LinearCrossEntropy, _ p: LinearProblem, gradients: LinearGradients?, statistics: RowStatistics? = nil,
        accumulate: Bool = false
    ) throws -> Float {
        switch (p.targets, gradients) {
        case (let targets?, let gradients?):
            return try head.lossAndGradients(
                hidden: p.hidden, weight: p.weight, bias: p.bias, targets: targets, classes: p.classes,
                gradients: gradients, accumulate: accumulate, rowStatistics: statistics)
        case (let targets?, nil):
            return try head.loss(
                hidden: p.hidden, weight: p.weight, bias: p.bias, targets: targets, classes: p.classes,
                rowStatistics: statistics)
        case (nil, let gradients?):
            return try head.lossAndGradients(
                hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes,
                gradients: gradients, accumulate: accumulate, rowStatistics: statistics)
        case (nil, nil):
            return try head.loss(
                hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes,
                rowStatistics: statistics)
        }
    }

    @Test("accumulate adds ∂W and ∂b to what is there; ∂H is overwritten")
    func accumulate() throws {
        for soft in [false, true] {
            let a = LinearProblem(rows: 6, hiddenSize: 4, classes: 11, bias: true, soft: soft, seed: 77)
            var b = LinearProblem(rows: 6, hiddenSize: 4, classes: 11, bias: true, soft: soft, seed: 78)
            b.weight = a.weight
            b.bias = a.bias
            var options = SoftmaxCrossEntropy()
            options.divisor = 9
            let head = LinearCrossEntropy(options, workspaceBytes: 2 * 11 * 4)
            let first = LinearGradients()
            let second = LinearGradients()
            let both = LinearGradients([.weight, .bias])
            _ = try call(head, a, gradients: first)
            _ = try call(head, b, gradients: second)
            _ = try call(head, a, gradients: both, accumulate: true)  // empty arrays: from zeros
            #expect(both.weight == first.weight && both.bias == first.bias)
            _ = try call(head, b, gradients: both, accumulate: true)
            // `sgemm` with β = 1 adds into ∂W (and ∂b row by row): one rounding of the sum per entry,
            // perhaps one per block of its inner products, so within a few ulps of the two parts' sum.
            for (sum, (x, y)) in zip(
                both.weight + both.bias, zip(first.weight + first.bias, second.weight + second.bias))
            {
                #expect(abs(sum - (x + y)) <= 8 * Float.ulpOfOne * (abs(x) + abs(y)) + 1e-30, "\(sum) vs \(x) + \(y)")
            }
            #expect(both.hidden.isEmpty)
        }
    }

    @Test("the same bits for any thread count at a given workspace size")
    func determinism() throws {
        for soft in [false, true] {
            let p = LinearProblem(rows: 40, hiddenSize: 24, classes: 9000, bias: true, soft: soft, seed: 5)
            var options = SoftmaxCrossEntropy()
            options.labelSmoothing = 0.05
            var results: [(Float, LinearGradients, RowStatistics, Int, Int)] = []
            for threads in [1, 2, 3] {
                for blockRows in [1, 7, 40] {
                    var head = LinearCrossEntropy(options, workspaceBytes: blockRows * 9000 * 4)
                    head.threads = threads
                    let g = LinearGradients()
                    let s = RowStatistics()
                    let loss = try call(head, p, gradients: g, statistics: s)
                    results.append((loss, g, s, threads, blockRows))
                }
            }
            for blockRows in [1, 7, 40] {
                let same = results.filter { $0.4 == blockRows }
                let base = same[0]
                for r in same.dropFirst() {
                    let what = "threads \(r.3) against \(base.3), block \(blockRows), soft \(soft)"
                    #expect(r.0.bitPattern == base.0.bitPattern, "\(what): loss")
                    #expect(Bool(r.2.losses == base.2.losses && r.2.logSumExp == base.2.logSumExp), "\(what): rows")
                    #expect(Bool(r.2.argmax == base.2.argmax), "\(what): argmax")
                    #expect(Bool(r.1.hidden == base.1.hidden), "\(what): ∂H")
                    #expect(Bool(r.1.weight == base.1.weight), "\(what): ∂W")
                    #expect(Bool(r.1.bias == base.1.bias), "\(what): ∂b")
                }
            }
        }
    }
}

struct LinearHeadFilterTests {
    @Test("ε = 0 skips nothing and gives the unfiltered bits; ε > 0 stays within its bound")
    func filtering() throws {
        var p = LinearProblem(rows: 24, hiddenSize: 8, classes: 5000, bias: true, soft: false, seed: 11)
        // Peaked: the first 300 classes take nearly all the mass, the rest is far below.
        for j in 300..<p.classes { p.bias![j] = -30 }
        let plain = LinearCrossEntropy(workspaceBytes: 10 * 5000 * 4)
        let reference = LinearGradients()
        _ = try LinearHeadTests().call(plain, p, gradients: reference)
        var zero = plain
        zero.gradientFilter = 0
        let report = GradientFilterReport()
        let exact = LinearGradients()
        _ = try zero.lossAndGradients(
            hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes, gradients: exact,
            filterReport: report)
        #expect(report.skippedTiles == 0 && report.tiles == 3 * 20)  // 3 blocks × 20 tiles of 256
        #expect(exact.hidden == reference.hidden && exact.weight == reference.weight && exact.bias == reference.bias)
        let epsilon: Float = 0x1p-12
        var filtered = plain
        filtered.gradientFilter = epsilon
        let skipped = GradientFilterReport()
        let approximate = LinearGradients()
        _ = try filtered.lossAndGradients(
            hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes,
            gradients: approximate, filterReport: skipped)
        #expect(skipped.skippedFraction > 0.5, "peaked logits: \(skipped.skippedTiles) of \(skipped.tiles) skipped")
        #expect(approximate.bias == reference.bias)  // ∂b is never filtered
        // The documented bound: each skipped entry is below ε·σ (σ = 1/R: 23 rows take part).
        let sigma = Double(epsilon) / 23
        let d = p.hiddenSize
        let v = p.classes
        for i in 0..<p.rows {
            for k in 0..<d {
                var bound = 0.0
                for j in 0..<v { bound += sigma * abs(Double(p.weight[j * d + k])) }
                let e = abs(Double(approximate.hidden[i * d + k]) - Double(reference.hidden[i * d + k]))
                #expect(e <= bound + 1e-6 * abs(Double(reference.hidden[i * d + k])), "∂H[\(i), \(k)]")
            }
        }
        for j in 0..<v {
            for k in 0..<d {
                var bound = 0.0
                for i in 0..<p.rows { bound += sigma * abs(Double(p.hidden[i * d + k])) }
                let e = abs(Double(approximate.weight[j * d + k]) - Double(reference.weight[j * d + k]))
                #expect(e <= bound + 1e-6 * abs(Double(reference.weight[j * d + k])), "∂W[\(j), \(k)]")
            }
        }
    }
}

extension LinearHeadFilterTests {
    @Test("under .mean, σ does not move with the class or row weights' scale; no cross-entropy weight: z-loss kept")
    func filterScale() throws {
        var p = LinearProblem(rows: 24, hiddenSize: 8, classes: 4096, bias: true, soft: false, seed: 12)
        for j in 300..<p.classes { p.bias![j] = -12 }
        // Class weights and row weights scaled by powers of two: the same gradient bits, so the same
        // tiles skipped.
        var runs: [(skipped: Int, tiles: Int, hidden: [Float], weight: [Float])] = []
        for (classScale, rowScale): (Float, Float) in [(1, 1), (0x1p-12, 1), (0x1p7, 1), (1, 0x1p-12), (1, 0x1p5)] {
            var head = LinearCrossEntropy(SoftmaxCrossEntropy(), workspaceBytes: 8 * 4096 * 4, gradientFilter: 0x1p-12)
            head.crossEntropy.classWeights = (0..<p.classes).map { Float(1 + $0 % 3) * classScale }
            head.crossEntropy.rowWeights = (0..<p.rows).map { Float($0 % 5) * rowScale }
            let report = GradientFilterReport(), g = LinearGradients()
            _ = try head.lossAndGradients(
                hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes, gradients: g,
                filterReport: report)
            runs.append((report.skippedTiles, report.tiles, g.hidden, g.weight))
        }
        #expect(runs[0].skipped > 0 && runs[0].skipped < runs[0].tiles, "\(runs[0].skipped) of \(runs[0].tiles)")
        for r in runs.dropFirst() {
            #expect(r.skipped == runs[0].skipped && r.hidden == runs[0].hidden && r.weight == runs[0].weight)
        }
        // Rows of row weight 0 are not counted in σ's R: the same tiles and bits as those rows
        // ignored by label (counting them would raise R, and the threshold would differ).
        // Over thresholds a quarter octave apart, so that some tile's largest entry falls between the
        // two that counting those rows or not would give.
        // Tiles of graded probabilities (the bias falls by 0.75 a tile), every label in the first.
        var graded = p
        for j in 0..<graded.classes { graded.bias![j] = -0.75 * Float(j / LinearCrossEntropy.filterTileClasses) }
        graded.labels = graded.labels.indices.map { $0 == 1 ? -100 : Int32($0 * 7 % 256) }
        let dropped = Set([2, 5, 6, 11, 17, 20, 21, 22])
        let ignoredLabels = graded.labels.indices.map { dropped.contains($0) ? Int32(-100) : graded.labels[$0] }
        var skippedCounts = Set<Int>()
        for k in 0..<64 {
            let epsilon = Float(0x1p-20) * Float(pow(2.0, Double(k) / 4))
            var weighted = LinearCrossEntropy(
                SoftmaxCrossEntropy(), workspaceBytes: 8 * 4096 * 4, gradientFilter: epsilon)
            weighted.crossEntropy.rowWeights = (0..<p.rows).map { dropped.contains($0) ? 0 : 1 }
            var ignored = weighted
            ignored.crossEntropy.rowWeights = nil
            let byWeight = GradientFilterReport(), byLabel = GradientFilterReport()
            let gw = LinearGradients(), gl = LinearGradients()
            _ = try weighted.lossAndGradients(
                hidden: graded.hidden, weight: graded.weight, bias: graded.bias, labels: graded.labels,
                classes: graded.classes, gradients: gw, filterReport: byWeight)
            _ = try ignored.lossAndGradients(
                hidden: graded.hidden, weight: graded.weight, bias: graded.bias, labels: ignoredLabels,
                classes: graded.classes, gradients: gl, filterReport: byLabel)
            #expect(byWeight.skippedTiles == byLabel.skippedTiles, "ε \(epsilon)")
            #expect(gw.hidden == gl.hidden && gw.weight == gl.weight, "ε \(epsilon)")
            skippedCounts.insert(byLabel.skippedTiles)
        }
        #expect(skippedCounts.count > 3, "the thresholds skip different tiles: \(skippedCounts.sorted())")
        // Every label's class weight 0 (the cross-entropy denominator 0) with a z-loss: its gradient
        // stays, as unfiltered, under a tiny ε.
        var zOnly = LinearCrossEntropy(workspaceBytes: 8 * 4096 * 4)
        zOnly.crossEntropy.zLossScale = 1e-3
        zOnly.crossEntropy.classWeights = [Float](repeating: 0, count: p.classes)
        let plain = LinearGradients()
        _ = try zOnly.lossAndGradients(
            hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes, gradients: plain)
        zOnly.gradientFilter = 1e-30
        let report = GradientFilterReport(), filtered = LinearGradients()
        _ = try zOnly.lossAndGradients(
            hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: p.classes,
            gradients: filtered, filterReport: report)
        #expect(report.skippedTiles == 0 && plain.hidden.contains { $0 != 0 })
        #expect(filtered.hidden == plain.hidden && filtered.weight == plain.weight)
    }
}

struct LinearHeadRefusalTests {
    /// Every refusal leaves every output as it was.
    @Test("bad shapes, overlaps, a workspace below one row, bad options: typed errors, nothing written")
    func refusals() throws {
        let (n, d, v) = (4, 3, 5)
        let p = LinearProblem(rows: n, hiddenSize: d, classes: v, bias: true, soft: false, seed: 3)
        var dh = [Float](repeating: 42, count: n * d)
        var dw = [Float](repeating: 42, count: v * d)
        var db = [Float](repeating: 42, count: v)
        var losses = [Float](repeating: 42, count: n)
        func attempt(
            _ head: LinearCrossEntropy = LinearCrossEntropy(), hidden: [Float]? = nil, weight: [Float]? = nil,
            bias: [Float]? = nil, labels: [Int32]? = nil, dhCount: Int? = nil, alias: Bool = false
        ) -> XentError? {
            let hidden = hidden ?? p.hidden
            let weight = weight ?? p.weight
            let labels = labels ?? p.labels
            let bias = bias ?? p.bias!
            do {
                _ = try hidden.withUnsafeBufferPointer { h in
                    try weight.withUnsafeBufferPointer { w in
                        try bias.withUnsafeBufferPointer { b in
                            try labels.withUnsafeBufferPointer { t in
                                try dh.withUnsafeMutableBufferPointer { gh in
                                    try dw.withUnsafeMutableBufferPointer { gw in
                                        try db.withUnsafeMutableBufferPointer { gb in
                                            try losses.withUnsafeMutableBufferPointer { r in
                                                let ghPart = UnsafeMutableBufferPointer(
                                                    rebasing: gh[0..<(dhCount ?? gh.count)])
                                                return try head.lossAndGradients(
                                                    hidden: h, weight: w, bias: b, labels: t, classes: v,
                                                    gradients: LinearGradientBuffers(
                                                        hidden: ghPart, weight: gw,
                                                        bias: alias
                                                            ? UnsafeMutableBufferPointer(rebasing: gw[0..<v]) : gb),
                                                    rowStatistics: RowStatistics.Buffers(losses: r))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                return nil
            } catch let error as XentError {
                return error
            } catch {
                return nil
            }
        }
        var tooSmall = LinearCrossEntropy()
        tooSmall.workspaceBytes = 4 * v - 1
        var badFilter = LinearCrossEntropy()
        badFilter.gradientFilter = -1
        var badRowWeights = LinearCrossEntropy()
        badRowWeights.crossEntropy.rowWeights = [1, 1]
        var badSmoothing = LinearCrossEntropy()
        badSmoothing.crossEntropy.labelSmoothing = 2
        let cases: [(String, XentError?)] = [
            ("hidden", attempt(hidden: Array(p.hidden.dropLast()))),
            ("weight", attempt(weight: Array(p.weight.dropLast()))),
            ("bias", attempt(bias: [1, 2])),
            ("label", attempt(labels: [0, 1, 7, 2])),
            ("∂H count", attempt(dhCount: n * d - 1)),
            ("∂b overlaps ∂W", attempt(alias: true)),
            ("workspace", attempt(tooSmall)),
            ("filter", attempt(badFilter)),
            ("row weights", attempt(badRowWeights)),
            ("smoothing", attempt(badSmoothing)),
            ("no rows", attempt(labels: [])),
        ]
        #expect(cases[0].1 == .lengthNotMultiple(argument: "hidden", count: 11, multiple: 4, of: "the rows"))
        #expect(cases[1].1 == .lengthMismatch(argument: "weight", expected: 15, actual: 14))
        #expect(cases[2].1 == .lengthMismatch(argument: "bias", expected: 5, actual: 2))
        #expect(cases[3].1 == .labelOutOfRange(row: 2, label: 7, classes: 5))
        #expect(cases[4].1 == .lengthMismatch(argument: "gradients.hidden", expected: 12, actual: 11))
        #expect(cases[5].1 == .overlappingBuffers(first: "gradients.bias", second: "gradients.weight"))
        #expect(
            cases[6].1
                == .invalidOption(
                    name: "workspaceBytes", value: 19, requirement: "≥ 4 × classes = 20 bytes (one row of logits)"))
        #expect(cases[7].1 == .invalidOption(name: "gradientFilter", value: -1, requirement: "finite and ≥ 0"))
        #expect(cases[8].1 == .lengthMismatch(argument: "rowWeights", expected: 4, actual: 2))
        #expect(cases[9].1 == .invalidOption(name: "labelSmoothing", value: 2, requirement: "in [0, 1]"))
        #expect(cases[10].1 == .invalidRowCount(rows: 0))
        for (name, error) in cases { #expect(error != nil, "\(name) was accepted") }
        #expect(dh.allSatisfy { $0 == 42 } && dw.allSatisfy { $0 == 42 } && db.allSatisfy { $0 == 42 })
        #expect(losses.allSatisfy { $0 == 42 })
        // And the same call with good arguments writes them all.
        #expect(attempt() == nil && !dh.contains(42) && !dw.contains(42) && !losses.contains(42))
    }

    @Test("a wrong count of labels or targets is named as such, not as the weight's")
    func rowSourceErrors() {
        let (n, d, v) = (4, 3, 5)
        let p = LinearProblem(rows: n, hiddenSize: d, classes: v, bias: false, soft: true, seed: 4)
        let head = LinearCrossEntropy()
        func error(_ body: () throws(XentError) -> Float) -> XentError? {
            do throws(XentError) { _ = try body() } catch { return error }
            return nil
        }
        #expect(error { () throws(XentError) in
            try head.loss(hidden: p.hidden, weight: p.weight, labels: Array(p.labels.prefix(3)), classes: v)
        } == .lengthMismatch(argument: "labels", expected: 4, actual: 3))
        #expect(error { () throws(XentError) in
            try head.loss(hidden: p.hidden, weight: p.weight, labels: p.labels + [0, 1], classes: v)
        } == .lengthMismatch(argument: "labels", expected: 4, actual: 6))
        // A weight of `classes` elements (the bias in its place): the weight is named.
        #expect(error { () throws(XentError) in
            try head.loss(hidden: p.hidden, weight: Array(p.weight.prefix(v)), labels: p.labels, classes: v)
        } == .lengthMismatch(argument: "weight", expected: 15, actual: 5))
        #expect(error { () throws(XentError) in
            try head.loss(hidden: p.hidden, weight: p.weight, targets: Array(p.targets!.prefix(2 * v)), classes: v)
        } == .lengthMismatch(argument: "targets", expected: 20, actual: 10))
        #expect(error { () throws(XentError) in
            try head.loss(hidden: p.hidden, weight: p.weight, targets: Array(p.targets!.dropLast()), classes: v)
        } == .lengthNotMultiple(argument: "targets", count: 19, multiple: 5, of: "classes"))
        let gradients = LinearGradients()
        #expect(error { () throws(XentError) in
            try head.lossAndGradients(
                hidden: p.hidden, weight: p.weight, labels: Array(p.labels.prefix(2)), classes: v, gradients: gradients)
        } == .lengthMismatch(argument: "labels", expected: 4, actual: 2))
    }

    #if os(Linux)
    /// Whether Linux refuses an allocation beyond memory and swap (vm.overcommit_memory 0 or 2).
    static let refusesHugeAllocations = ((try? String(
        contentsOfFile: "/proc/sys/vm/overcommit_memory", encoding: .utf8)) ?? "1")
        .trimmingCharacters(in: .whitespacesAndNewlines) != "1"

    @Test("a workspace the system refuses is a typed error, nothing written", .enabled(if: refusesHugeAllocations))
    func refusedWorkspace() throws {
        // 2²⁰ rows × 2²⁰ classes of hidden size 1: a `.max` budget asks for 4 TiB of logits at once.
        let n = 1 << 20
        let hidden = [Float](repeating: 0.01, count: n), weight = [Float](repeating: 0.01, count: n)
        let labels = [Int32](repeating: 1, count: n)
        let head = LinearCrossEntropy(workspaceBytes: .max)
        var losses = [Float](repeating: 42, count: n)
        var dh = [Float](repeating: 42, count: n)
        for withGradient in [false, true] {
            do throws(XentError) {
                try hidden.withUnsafeBufferPointer { h throws(XentError) in
                    try weight.withUnsafeBufferPointer { w throws(XentError) in
                        try labels.withUnsafeBufferPointer { t throws(XentError) in
                            try losses.withUnsafeMutableBufferPointer { l throws(XentError) in
                                try dh.withUnsafeMutableBufferPointer { g throws(XentError) in
                                    _ = try head.lossAndGradients(
                                        hidden: h, weight: w, labels: t, classes: n,
                                        gradients: LinearGradientBuffers(hidden: withGradient ? g : nil),
                                        rowStatistics: .init(losses: l))
                                }
                            }
                        }
                    }
                }
                Issue.record("a 4 TiB workspace was accepted")
            } catch {
                guard case .invalidOption(let name, let value, _) = error else {
                    Issue.record("\(error)")
                    continue
                }
                #expect(name == "workspaceBytes" && value == Double(Int.max))
            }
        }
        #expect(losses.allSatisfy { $0 == 42 } && dh.allSatisfy { $0 == 42 })
    }
    #endif

    @Test("over arrays, the shape is refused before a gradient array is sized from it")
    func arrayShapeRefusals() {
        let head = LinearCrossEntropy()
        let gradients = LinearGradients()
        let blas = "≤ \(Int32.max) (the BLAS's 32-bit interface)"
        // classes × hidden size would overflow Int.
        #expect(throws: XentError.invalidOption(name: "classes", value: Double(Int.max / 2 + 1), requirement: blas)) {
            try head.loss(hidden: [0, 0], weight: [0, 0], labels: [Int32(0)], classes: Int.max / 2 + 1)
        }
        // 2⁴⁰ classes: ∂W and ∂b would be 4 TiB each.
        #expect(throws: XentError.invalidOption(name: "classes", value: 0x1p40, requirement: blas)) {
            try head.lossAndGradients(
                hidden: [1], weight: [1], labels: [Int32(0)], classes: 1 << 40, gradients: gradients)
        }
        // 2³⁰ classes and a weight of one element: refused before 4 GiB of ∂W are zeroed.
        #expect(throws: XentError.lengthMismatch(argument: "weight", expected: 1 << 30, actual: 1)) {
            try head.lossAndGradients(
                hidden: [1], weight: [1], labels: [Int32(0)], classes: 1 << 30, gradients: gradients)
        }
        // The call on the buffers' first error where the shape is refused too: soft targets that are
        // not whole rows, a label out of range.
        #expect(throws: XentError.lengthNotMultiple(argument: "targets", count: 14, multiple: 5, of: "classes")) {
            try head.lossAndGradients(
                hidden: [Float](repeating: 0, count: 9), weight: [Float](repeating: 0, count: 15),
                targets: [Float](repeating: 0, count: 14), classes: 5, gradients: gradients)
        }
        #expect(throws: XentError.labelOutOfRange(row: 0, label: 7, classes: 5)) {
            try head.lossAndGradients(
                hidden: [0, 0], weight: [0], labels: [Int32(7)], classes: 5, gradients: gradients)
        }
        #expect(gradients.hidden.isEmpty && gradients.weight.isEmpty && gradients.bias.isEmpty)
    }
}
