// Seeded random properties of every kernel: shift, permutation, zero sum, finite differences, alignment, threads.
import Testing
import Xent

/// The width the labels of a case are passed in.
enum LabelWidth: String, Sendable, CaseIterable { case int32, int64, int }

/// One random call: shape, data and options, drawn from a seeded generator.
///
/// Logits lie on the grid of multiples of 2⁻¹² with |z| ≤ 80: adding an integer k with
/// |k| ≤ 1024 to one is exact (the sum is a multiple of 2⁻¹² below 2¹¹ in magnitude, which a Float
/// holds), so a shifted row is exactly the same mathematical row.
struct PropertyCase: CustomStringConvertible, Sendable {
    let index: Int
    let rows: Int
    let classes: Int
    let soft: Bool
    var logits: [Float]
    var labels: [Int32]
    var targets: [Float]
    var smoothing: Float
    var weights: [Float]?
    var zLoss: Float
    var gradientScale: Float
    var divisor: Double?
    var logitScale: Float
    var softcap: Float?
    var reduction: Reduction
    var ignoreIndex: Int32?
    var width: LabelWidth
    var masked: Bool

    var description: String {
        "#\(index) \(rows)×\(classes) \(soft ? "soft" : "labels/\(width.rawValue)") \(reduction)"
            + (masked ? " masked" : "") + (smoothing != 0 ? " α \(smoothing)" : "") + (weights != nil ? " weights" : "")
            + (zLoss != 0 ? " λ \(zLoss)" : "") + (gradientScale != 1 ? " gs \(gradientScale)" : "")
            + (divisor.map { " D \($0)" } ?? "") + (ignoreIndex == nil ? " no-ignore" : "")
            + (logitScale != 1 ? " s \(logitScale)" : "") + (softcap.map { " c \($0)" } ?? "")
    }

    /// Cases 0–4 pin the edges (one class, the shim's 2048-float chunk and one past it, 3000);
    /// the rest draw their class count from four bands up to 3000, a quarter of them above 2048.
    static let all: [PropertyCase] = (0..<64).map(random)

    static func random(_ index: Int) -> PropertyCase {
        var rng = SeededGenerator(seed: 0x0D15_EA5E &+ UInt64(index) &* 0x9E37_79B9)
        let rows = Int.random(in: 1...6, using: &rng)
        let pinned = [1, 2, 2048, 2049, 3000]
        let classes = index < pinned.count ? pinned[index]
            : [Int.random(in: 1...16, using: &rng), Int.random(in: 17...300, using: &rng),
               Int.random(in: 301...2048, using: &rng), Int.random(in: 2049...3000, using: &rng)][index % 4]
        let soft = Bool.random(using: &rng)
        let masked = classes >= 3 && Int.random(in: 0..<4, using: &rng) == 0
        let ignoreIndex: Int32? = Int.random(in: 0..<5, using: &rng) == 0 ? nil : -100

        var logits = [Float](repeating: 0, count: rows * classes)
        var labels = [Int32](repeating: 0, count: rows)
        var targets = [Float]()
        for r in 0..<rows {
            let label = Int.random(in: 0..<classes, using: &rng)
            labels[r] = ignoreIndex != nil && Int.random(in: 0..<6, using: &rng) == 0 ? -100 : Int32(label)
            let dominant = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 0..<classes, using: &rng) : -1
            for j in 0..<classes {
                var z = Swift.min(Swift.max(rng.normal(sd: 3), -60), 60)
                z = (z * 4096).rounded() / 4096
                if j == dominant { z += 20 }
                // Masks never hit the label, nor (soft targets) class 0, so every row keeps a class.
                if masked && j != label && j != 0 && Int.random(in: 0..<4, using: &rng) == 0 { z = -.infinity }
                logits[r * classes + j] = z
            }
        }
        if soft {
            // Non-negative, a quarter zero, 0 where masked; each row's sum drawn from [0.5, 2].
            targets = logits.map { z in
                z == -.infinity || Int.random(in: 0..<4, using: &rng) == 0 ? 0 : Float.random(in: 0..<1, using: &rng)
            }
            for r in 0..<rows {
                let range = r * classes ..< (r + 1) * classes
                let sum = targets[range].reduce(0, +)
                let goal = Float.random(in: 0.5...2, using: &rng)
                if sum > 0 { for i in range { targets[i] *= goal / sum } }
            }
        }
        let smoothingChoices: [Float] = [0.1, 1, Float.random(in: 0...1, using: &rng)]
        let smoothing = Bool.random(using: &rng) ? 0 : smoothingChoices.randomElement(using: &rng)!
        let weights: [Float]? = Bool.random(using: &rng) ? nil : (0..<classes).map { _ in
            Int.random(in: 0..<8, using: &rng) == 0 ? 0 : Float.random(in: 0.25..<2, using: &rng)
        }
        let zLoss: Float = Int.random(in: 0..<3, using: &rng) == 0 ? [1e-4, 1e-3, 1e-2].randomElement(using: &rng)! : 0
        let gradientScale: Float = Bool.random(using: &rng) ? 1
            : Float.random(in: 0.1...3, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)
        let divisor: Double? = Int.random(in: 0..<3, using: &rng) == 0 ? Double.random(in: 1...100, using: &rng) : nil
        let scales: [Float] = [0.25, 0.5, 2, Float.random(in: 0.3...3, using: &rng)]
        let logitScale: Float = Int.random(in: 0..<3, using: &rng) == 0 ? scales.randomElement(using: &rng)! : 1
        let caps: [Float] = [5, 15, 30, Float.random(in: 2...60, using: &rng)]
        let softcap: Float? = Int.random(in: 0..<4, using: &rng) == 0 ? caps.randomElement(using: &rng)! : nil
        return PropertyCase(
            index: index, rows: rows, classes: classes, soft: soft, logits: logits, labels: labels, targets: targets,
            smoothing: smoothing, weights: weights, zLoss: zLoss, gradientScale: gradientScale, divisor: divisor,
            logitScale: logitScale, softcap: softcap, reduction: Reduction.allCases.randomElement(using: &rng)!,
            ignoreIndex: ignoreIndex,
            width: LabelWidth.allCases.randomElement(using: &rng)!, masked: masked)
    }

    func configuration(_ variant: Variant, threads: Int? = nil) -> SoftmaxCrossEntropy {
        var ce = variant.configuration(reduction, ignoreIndex: ignoreIndex)
        ce.labelSmoothing = smoothing
        ce.classWeights = weights
        ce.zLossScale = zLoss
        ce.gradientScale = gradientScale
        ce.divisor = divisor
        ce.logitScale = logitScale
        ce.softcap = softcap
        ce.threads = threads
        return ce
    }

    var model: ModelProblem {
        ModelProblem(
            logits: logits, labels: soft ? nil : labels, targets: soft ? targets : nil, classes: classes,
            ignoreIndex: ignoreIndex,
            options: ModelOptions(
                smoothing: Double(smoothing), weights: weights?.map(Double.init), zLoss: Double(zLoss),
                logitScale: logitScale, softcap: softcap.map(Double.init), gradientScale: Double(gradientScale),
                divisor: divisor, reduction: reduction))
    }

    func isIgnored(_ r: Int) -> Bool { !soft && labels[r] == ignoreIndex }
    func range(_ r: Int) -> Range<Int> { r * classes ..< (r + 1) * classes }
}

/// Where a call's buffers start (in floats past a 64-byte boundary) and which entry point it uses.
struct CallLayout {
    var logits = 0, targets = 0, gradient = 0, rowLosses = 0
    var inPlace = false
    /// `loss(…)` instead of `lossAndGradient(…)`: no gradient.
    var forwardOnly = false
}

/// A call's outputs; the gradient is empty for a forward-only call.
struct RunOutput {
    var loss: Float
    var rowLosses: [Float]
    var gradient: [Float]
    var bits: [UInt32] { [loss.bitPattern] + rowLosses.map(\.bitPattern) + gradient.map(\.bitPattern) }
}

/// Runs `c` through the unsafe-buffer entry points with the given layout; outputs start as NaN.
func runCase(_ ce: SoftmaxCrossEntropy, _ c: PropertyCase, layout: CallLayout = CallLayout()) throws -> RunOutput {
    let z = OffsetBuffer(c.logits, offset: layout.logits)
    let g = layout.inPlace ? z : OffsetBuffer(repeating: .nan, count: c.logits.count, offset: layout.gradient)
    let r = OffsetBuffer(repeating: .nan, count: c.rows, offset: layout.rowLosses)
    let loss: Float
    if c.soft {
        let q = OffsetBuffer(c.targets, offset: layout.targets)
        if layout.forwardOnly {
            loss = try ce.loss(
                logits: z.readOnly, targets: q.readOnly, classes: c.classes, rowStatistics: .init(losses: r.buffer))
        } else if layout.inPlace {
            loss = try ce.lossAndGradient(
                inPlace: z.buffer, targets: q.readOnly, classes: c.classes, rowStatistics: .init(losses: r.buffer))
        } else {
            loss = try ce.lossAndGradient(
                logits: z.readOnly, targets: q.readOnly, classes: c.classes, gradient: g.buffer,
                rowStatistics: .init(losses: r.buffer))
        }
    } else {
        switch c.width {
        case .int32: loss = try runLabels(ce, c.labels, z, g, r, c.classes, layout)
        case .int64: loss = try runLabels(ce, c.labels.map(Int64.init), z, g, r, c.classes, layout)
        case .int: loss = try runLabels(ce, c.labels.map(Int.init), z, g, r, c.classes, layout)
        }
    }
    return RunOutput(loss: loss, rowLosses: r.array, gradient: layout.forwardOnly ? [] : g.array)
}

private func runLabels<Label: ClassLabel>(
    _ ce: SoftmaxCrossEntropy, _ labels: [Label], _ z: OffsetBuffer, _ g: OffsetBuffer, _ r: OffsetBuffer,
    _ classes: Int, _ layout: CallLayout
) throws -> Float {
    try labels.withUnsafeBufferPointer { t in
        if layout.forwardOnly {
            return try ce.loss(logits: z.readOnly, labels: t, classes: classes, rowStatistics: .init(losses: r.buffer))
        } else if layout.inPlace {
            return try ce.lossAndGradient(
                inPlace: z.buffer, labels: t, classes: classes, rowStatistics: .init(losses: r.buffer))
        }
        return try ce.lossAndGradient(
            logits: z.readOnly, labels: t, classes: classes, gradient: g.buffer, rowStatistics: .init(losses: r.buffer))
    }
}

@Suite struct PropertyTests {
    /// Two runs of mathematically identical problems (a shifted or permuted copy of a row) are
    /// each within NUMERICS.md's bound of the same exact value, so they differ by at most the sum
    /// of their bounds (the triangle inequality); `bound(r, j)` gives that sum for gradient entries.
    func expectSame(
        _ a: RunOutput, _ b: RunOutput, _ c: PropertyCase, lossBound: (Int) -> Double, reducedBound: Double,
        gradientIndex: (Int, Int) -> Int = { _, j in j }, gradientBound: (Int, Int) -> Double, _ what: String
    ) {
        let k = c.classes
        #expect(
            abs(Double(a.loss) - Double(b.loss)) <= reducedBound,
            "\(what): loss \(a.loss) vs \(b.loss), bound \(reducedBound)")
        for r in 0..<c.rows {
            let error = abs(Double(a.rowLosses[r]) - Double(b.rowLosses[r]))
            #expect(
                error <= lossBound(r),
                "\(what) row \(r): loss \(a.rowLosses[r]) vs \(b.rowLosses[r]), bound \(lossBound(r))")
            var worst: (j: Int, ratio: Double)? = nil
            for j in 0..<k {
                // Ignored rows have a bound of 0: their entries must be equal (zero).
                let error = abs(Double(a.gradient[r * k + j]) - Double(b.gradient[r * k + gradientIndex(r, j)]))
                let bound = gradientBound(r, j)
                guard !(error <= bound) else { continue }
                let ratio = error / bound
                if worst == nil || !(ratio <= worst!.ratio) { worst = (j, ratio) }
            }
            if let (j, ratio) = worst {
                Issue.record(
                    """
                    \(what) row \(r): gradient[\(j)] \(a.gradient[r * k + j]) \
                    vs \(b.gradient[r * k + gradientIndex(r, j)]): \(ratio)× the bound
                    """)
            }
        }
    }

    @Test(
        "adding an integer to a row changes neither its loss nor its gradient",
        arguments: Variant.all, PropertyCase.all)
    func shiftInvariance(variant: Variant, c: PropertyCase) throws {
        // λ·lse² moves with the shift (lse does), and the softcap bends it: the property holds
        // without them. A logit scale that is a power of two keeps the scaled shift exact.
        var base = c
        base.zLoss = 0
        base.softcap = nil
        if ![0.25, 0.5, 2].contains(base.logitScale) { base.logitScale = 1 }
        var shifted = base
        var rng = SeededGenerator(seed: UInt64(c.index) &+ 99)
        let constants: [Float] = [-1000, -17, -3, -1, 1, 2, 5, 64, 1024]
        for r in 0..<c.rows {
            let k = constants.randomElement(using: &rng)!
            for i in c.range(r) {
                shifted.logits[i] = base.logits[i] + k
                // The shift is exact (−inf stays −inf): the shifted row is the same row.
                try #require(Double(shifted.logits[i]) == Double(base.logits[i]) + Double(k))
            }
        }
        let ce = base.configuration(variant)
        let a = try runCase(ce, base), b = try runCase(ce, shifted)
        // The exact values are equal; each run is within NUMERICS.md's bounds of them. The loss
        // bound grows with |lse| (so with the shift): the two runs' bounds are added. The
        // gradient bound's (16 + |z_j − m|)·u term does not move (z_j − m is shift-free and, on
        // this grid, exact in Float), so the two runs' gradient bounds are equal: twice one.
        let ma = base.model, mb = shifted.model
        expectSame(
            a, b, c, lossBound: { ma.rowLossBound($0) + mb.rowLossBound($0) },
            reducedBound: ma.reducedLossBound + mb.reducedLossBound,
            gradientBound: { r, j in 2 * ma.gradientBound(r, j) }, "\(variant) \(c) shifted")
    }

    @Test(
        "permuting the classes (logits, labels, targets, weights alike) permutes the gradient",
        arguments: Variant.all, PropertyCase.all)
    func permutationEquivariance(variant: Variant, c: PropertyCase) throws {
        var rng = SeededGenerator(seed: UInt64(c.index) &+ 7)
        let k = c.classes
        let perm = Array((0..<k).shuffled(using: &rng))  // new class j is old class perm[j]
        var inverse = [Int](repeating: 0, count: k)
        for j in 0..<k { inverse[perm[j]] = j }
        var permuted = c
        for r in 0..<c.rows {
            for j in 0..<k {
                permuted.logits[r * k + j] = c.logits[r * k + perm[j]]
                if c.soft { permuted.targets[r * k + j] = c.targets[r * k + perm[j]] }
            }
            if !c.isIgnored(r) && !c.soft { permuted.labels[r] = Int32(inverse[Int(c.labels[r])]) }
        }
        permuted.weights = c.weights.map { w in perm.map { w[$0] } }
        let ce = c.configuration(variant)
        let a = try runCase(ce, c), b = try runCase(permuted.configuration(variant), permuted)
        let model = c.model
        // The same exact values, reordered: each run within its bound, the bounds equal.
        expectSame(
            b, a, c, lossBound: { 2 * model.rowLossBound($0) }, reducedBound: 2 * model.reducedLossBound,
            gradientIndex: { _, j in perm[j] }, gradientBound: { r, j in 2 * model.gradientBound(r, perm[j]) },
            "\(variant) \(c) permuted")
    }

    @Test("gradient rows sum to zero without a z-loss", arguments: Variant.all, PropertyCase.all)
    func gradientRowsSumToZero(variant: Variant, c: PropertyCase) throws {
        // Σ_j ∂ℓ/∂z_j = 0 for any ℓ = Σ_c v_c·(lse − z_c) with v independent of z: Σ_j p_j = 1
        // gives Σ_j (p_j·Σv − v_j) = 0. So it holds for every Σq, weights and smoothing (the
        // issue's "Σq = 1, no weights" is one case of it, and a logit scale multiplies every entry
        // alike); the exceptions are the z-loss λ·lse² and the softcap, whose chain factor
        // 1 − (z''_j/c)² differs from class to class.
        var base = c
        base.zLoss = 0
        base.softcap = nil
        let out = try runCase(base.configuration(variant), base)
        let model = base.model
        for r in 0..<c.rows {
            var sum = CompensatedSum()
            var bound = 0.0
            for j in 0..<c.classes {
                sum.add(Double(out.gradient[r * c.classes + j]))
                bound += model.gradientBound(r, j)
            }
            // The exact entries sum to 0; each entry is within its bound of them. The sum is
            // taken in Double with compensation, so its own rounding is negligible.
            #expect(abs(sum.value) <= bound, "\(variant) \(c) row \(r): Σ g = \(sum.value), bound \(bound)")
        }
    }

    @Test(
        "the loss, the gradient and the row losses are bitwise the same for 1, 2 and 3 threads",
        arguments: Variant.all, PropertyCase.all)
    func threadCount(variant: Variant, c: PropertyCase) throws {
        // 1–6 rows over 2 and 3 threads: rows split across threads, and (fewer than two rows per
        // thread, more than 2048 classes) one row's chunks split across threads.
        var results: [[UInt32]] = []
        for threads in [1, 2, 3] {
            let ce = c.configuration(variant, threads: threads)
            results.append(try runCase(ce, c).bits + runCase(ce, c, layout: CallLayout(forwardOnly: true)).bits)
        }
        #expect(results[1] == results[0], "\(variant) \(c): 2 threads differ from 1")
        #expect(results[2] == results[0], "\(variant) \(c): 3 threads differ from 1")
    }

    @Test(
        "results are bitwise the same for buffers starting 1…15 floats past a 64-byte boundary, and in place",
        arguments: Variant.all, PropertyCase.all)
    func alignment(variant: Variant, c: PropertyCase) throws {
        let ce = c.configuration(variant)
        let aligned = try runCase(ce, c).bits
        var rng = SeededGenerator(seed: UInt64(c.index) &+ 1234)
        for inPlace in [false, true] {
            // Case i starts its logits i mod 15 + 1 floats in: every offset, over the cases.
            let layout = CallLayout(
                logits: (c.index + (inPlace ? 7 : 0)) % 15 + 1, targets: Int.random(in: 1...15, using: &rng),
                gradient: Int.random(in: 1...15, using: &rng), rowLosses: Int.random(in: 1...15, using: &rng),
                inPlace: inPlace)
            let moved = try runCase(ce, c, layout: layout).bits
            #expect(moved == aligned, "\(variant) \(c): \(layout) differs from the aligned call")
        }
    }

    @Test(
        "the contract's loss in Double matches every kernel's; its central differences match every kernel's gradient",
        arguments: PropertyCase.all)
    func finiteDifferences(c: PropertyCase) throws {
        // Finite differences of the kernels themselves would need Float perturbations of Float
        // logits, whose rounding (u·|z|/h) swamps the contract's bounds. Instead the test holds a
        // Double model of the loss (FiniteDifference.swift: NUMERICS.md's loss formulas only, no
        // gradient formula) to two checks: its loss equals each kernel's loss within the contract's
        // loss bounds, and its central differences (in Double, Richardson-extrapolated) equal each
        // kernel's gradient within the contract's gradient bound plus the differences' own margin.
        let model = c.model
        let k = c.classes
        var rng = SeededGenerator(seed: UInt64(c.index) &+ 4242)

        // Probes per row: every class up to 24 classes, else the label, the max and 12 random
        // classes; plus a ±1 direction over every unmasked class, which reaches every entry.
        struct Probe {
            let row: Int; let direction: [Double]; let estimate: Double; let margin: Double; let name: String
        }
        var probes: [Probe] = []
        for r in 0..<c.rows where model.truths[r] != nil {
            let live = (0..<k).filter { c.logits[r * k + $0] != -.infinity }
            var coordinates = Set(live.count <= 24 ? live : Array(live.shuffled(using: &rng).prefix(12)))
            if k > 24 {
                if !c.soft { coordinates.insert(Int(c.labels[r])) }
                coordinates.insert(model.truths[r]!.p.indices.max { model.truths[r]!.p[$0] < model.truths[r]!.p[$1] }!)
            }
            for j in coordinates.sorted() {
                var d = [Double](repeating: 0, count: k)
                d[j] = 1
                let (estimate, margin) = model.centralDifference(row: r, along: d)
                probes.append(Probe(row: r, direction: d, estimate: estimate, margin: margin, name: "∂/∂z[\(j)]"))
            }
            var d = [Double](repeating: 0, count: k)
            for j in live { d[j] = Bool.random(using: &rng) ? 1 : -1 }
            let (estimate, margin) = model.centralDifference(row: r, along: d)
            probes.append(Probe(row: r, direction: d, estimate: estimate, margin: margin, name: "±1 direction"))
        }

        for variant in Variant.all {
            let out = try runCase(c.configuration(variant), c)
            let what = "\(variant) \(c)"
            let loss = model.loss
            #expect(abs(Double(out.loss) - loss) <= model.reducedLossBound, "\(what): loss \(out.loss), model \(loss)")
            for r in 0..<c.rows {
                let rowLoss = model.rowLoss(r)
                #expect(
                    abs(Double(out.rowLosses[r]) - rowLoss) <= model.rowLossBound(r),
                    "\(what) row \(r): loss \(out.rowLosses[r]), model \(rowLoss)")
                for j in 0..<k where model.truths[r] == nil || c.logits[r * k + j] == -.infinity {
                    // Ignored rows and masked classes: exactly zero (NUMERICS.md §3).
                    #expect(
                        out.gradient[r * k + j] == 0,
                        "\(what) row \(r) class \(j): gradient \(out.gradient[r * k + j]), not 0")
                }
            }
            for probe in probes {
                var derivative = 0.0, bound = probe.margin
                for j in 0..<k where probe.direction[j] != 0 {
                    derivative += probe.direction[j] * Double(out.gradient[probe.row * k + j])
                    bound += abs(probe.direction[j]) * model.gradientBound(probe.row, j)
                }
                #expect(
                    abs(derivative - probe.estimate) <= bound,
                    """
                    \(what) row \(probe.row) \(probe.name): gradient \(derivative), \
                    central difference \(probe.estimate), error \(abs(derivative - probe.estimate)) > \(bound)
                    """)
            }
        }
    }
}
