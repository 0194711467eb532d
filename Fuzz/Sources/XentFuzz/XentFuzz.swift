// The libFuzzer entry: one fuzzed call through every kernel (the vector one on every ISA), each
// held to NUMERICS.md against a Double truth and to the others; any disagreement traps.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Xent

@_cdecl("LLVMFuzzerTestOneInput")
public func xentFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let fuzzCase = FuzzCase(decoding: UnsafeBufferPointer(start: data, count: size))
    if getenv("XENT_FUZZ_VERBOSE") != nil { report("\(fuzzCase)") }
    var harness = Harness(fuzzCase: fuzzCase)
    harness.verbose = getenv("XENT_FUZZ_VERBOSE") != nil
    harness.check()
    return 0
}

/// Writes to standard error at once (a trap follows; buffered output would be lost).
func report(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// What one kernel did with the call.
struct Outcome {
    let name: String
    let error: XentError?
    let loss: Float
    let before: [UInt32]
    let after: [UInt32]
    let block: [Float]
    let gradient: [Float]?
    let rowLosses: [Float]?
    let rowLogSumExp: [Float]?
    let rowArgmax: [Int32]?
}

struct Harness {
    let fuzzCase: FuzzCase
    var failures: [String] = []
    var verbose = false

    /// `.reference` first (the others are compared with it), `.scalar`, then `.vector` on every
    /// ISA the package knows; an ISA this CPU lacks must throw `instructionSetUnavailable`.
    var variants: [(name: String, configuration: SoftmaxCrossEntropy)] {
        var list: [(String, SoftmaxCrossEntropy)] = []
        for kernel in [SoftmaxCrossEntropy.Kernel.reference, .scalar] {
            var ce = fuzzCase.configuration
            ce.kernel = kernel
            list.append(("\(kernel)", ce))
        }
        for isa in InstructionSet.allCases {
            var ce = fuzzCase.configuration
            ce.kernel = .vector
            ce.instructionSet = isa
            list.append(("vector/\(isa)", ce))
        }
        return list
    }

    func run(_ name: String, _ ce: SoftmaxCrossEntropy) -> Outcome {
        let buffers = Buffers(fuzzCase)
        let before = buffers.snapshot
        var error: XentError? = nil
        var loss = Float.nan
        do throws(XentError) {
            loss = try buffers.call(ce)
        } catch let thrown {
            error = thrown
        }
        return Outcome(
            name: name, error: error, loss: loss, before: before, after: buffers.snapshot, block: Array(buffers.block),
            gradient: buffers.separateGradient.map(Array.init), rowLosses: buffers.rowLosses.map(Array.init),
            rowLogSumExp: buffers.rowLogSumExp.map(Array.init), rowArgmax: buffers.rowArgmax.map(Array.init))
    }

    mutating func fail(_ message: String) {
        if failures.count < 12 { failures.append(message) }
    }

    mutating func check() {
        let misused = Buffers(fuzzCase).misused
        var reference: Outcome? = nil
        for (name, ce) in variants {
            let outcome = run(name, ce)
            let ref = reference ?? outcome
            if reference == nil {
                reference = outcome
                if verbose { report("→ \(outcome.error.map { "error \($0)" } ?? "loss \(outcome.loss)")\n") }
                if misused && outcome.error == nil { fail("\(name): a misused buffer (\(fuzzCase.misuse)) was accepted") }
            }
            // The same error, or none, as the reference (an ISA this CPU lacks: its own error last).
            var expected = ref.error
            if ce.kernel == .vector, let isa = ce.instructionSet, !isa.isSupported, expected == nil {
                expected = .instructionSetUnavailable(isa)
            }
            // Compared as text: the case and every value it names (a NaN value is not == itself).
            let (got, want) = (outcome.error.map { String(reflecting: $0) }, expected.map { String(reflecting: $0) })
            if got != want {
                fail("\(name): error \(got ?? "none"), reference \(want ?? "none")")
                continue
            }
            if outcome.error != nil {
                if outcome.after != outcome.before { fail("\(name): threw \(outcome.error!) after writing to a buffer") }
                continue
            }
            checkUntouched(outcome)
            if !misused && !fuzzCase.hostileTargets && !(ce.kernel != .reference && knownSoftAlphaOneIssue) {
                checkAccuracy(outcome)
                if let argmax = outcome.rowArgmax, argmax != ref.rowArgmax!, !(ce.kernel != .reference && overflowRangeCase) {
                    fail("\(name): rowArgmax \(argmax), reference \(ref.rowArgmax!)")
                }
            }
            // Bitwise the same for any thread count.
            if let threads = ce.threads, threads > 1 {
                var single = ce
                single.threads = 1
                let one = run(name, single)
                if one.error != nil || one.loss.bitPattern != outcome.loss.bitPattern || one.after != outcome.after {
                    fail("\(name): \(threads) threads differ from 1 (loss \(outcome.loss) vs \(one.loss))")
                }
            }
        }
        if !failures.isEmpty {
            report("xent-fuzz: failing case:\n\(fuzzCase)")
            for failure in failures { report("  \(failure)\n") }
            fatalError("xent-fuzz: \(failures.count) check(s) failed")
        }
    }

    /// Known issue (Fuzz/Crashes/soft-alpha1-target-on-masked-class): with soft targets and
    /// label smoothing α = 1, a positive target on a masked class (−inf logit) makes `.scalar` and
    /// `.vector` form (1 − α)·Σ q·(m − z) = 0·inf = NaN, and the row turns NaN. Their accuracy
    /// is not checked on such cases, so fuzzing goes on; `.reference` is.
    var knownSoftAlphaOneIssue: Bool {
        let c = fuzzCase, ce = c.configuration
        guard c.labels == nil, ce.labelSmoothing == 1, ce.softcap == nil else { return false }
        for r in 0..<c.rows {
            for j in r * c.stride ..< r * c.stride + c.classes where c.logits[j] * ce.logitScale == -.infinity {
                if c.targets[j] * (ce.classWeights?[j - r * c.stride] ?? 1) != 0 { return true }
            }
        }
        return false
    }

    /// Whether a row holds a finite transformed logit within 2× of Float's max (the loss-gap-
    /// overflow known issue: `.scalar` and `.vector` may turn such a row NaN or +inf).
    var overflowRangeCase: Bool {
        let c = fuzzCase, ce = c.configuration
        guard ce.softcap == nil else { return false }
        for r in 0..<c.rows {
            for j in r * c.stride ..< r * c.stride + c.classes {
                let t = c.logits[j] * ce.logitScale
                if t.isFinite && abs(t) >= 0x1p126 { return true }
            }
        }
        return false
    }

    /// Outside the rows' `classes` columns nothing changes: padding, slack past the last row, the
    /// inputs (logits too, unless in place).
    mutating func checkUntouched(_ o: Outcome) {
        let c = fuzzCase
        func inRows(_ i: Int) -> Bool { i / c.stride < c.rows && i % c.stride < c.classes }
        let inputs = c.labels == nil ? c.targets.count : c.rows * (c.wideLabels ? 2 : 1)
        let original = c.logits.map(\.bitPattern) + (c.misuse == .logitsCount ? [Float(0.5).bitPattern] : [])
        for (i, bits) in o.block.map(\.bitPattern).enumerated() where i < original.count {
            if bits != original[i] && !(c.call == .inPlace && inRows(i)) {
                fail("\(o.name): logits[\(i)] changed (\(Float(bitPattern: original[i])) → \(Float(bitPattern: bits)))")
                return
            }
        }
        if let gradient = o.gradient {
            for (i, g) in gradient.enumerated() where !inRows(i) && g.bitPattern != Buffers.sentinel.bitPattern {
                fail("\(o.name): gradient[\(i)], outside the rows' classes, was written (\(g))")
                return
            }
        }
        // The snapshot holds the block, the gradient, then the targets or labels.
        let inputStart = o.block.count + (o.gradient?.count ?? 0)
        if o.after[inputStart...].prefix(inputs) != o.before[inputStart...].prefix(inputs) {
            fail("\(o.name): the targets or labels changed")
        }
    }

    /// Each row and the reduced loss against the Double truth, within NUMERICS.md's bounds.
    mutating func checkAccuracy(_ o: Outcome) {
        let c = fuzzCase, ce = c.configuration
        let lambda = Double(ce.zLossScale), alpha = Double(ce.labelSmoothing)
        let ignore = ce.ignoreIndex.map(Int64.init)
        let weights = ce.classWeights
        let ignored = (0..<c.rows).map { r in c.labels.map { $0[r] == ignore } ?? false }
        let truths = (0..<c.rows).map { r -> RowTruth? in
            guard !ignored[r] else { return nil }
            let range = r * c.stride ..< r * c.stride + c.classes
            return RowTruth(
                logits: c.logits[range], label: c.labels.map { Int($0[r]) }, soft: c.labels == nil ? c.targets[range] : nil,
                smoothing: alpha, weights: weights, scale: ce.logitScale, cap: ce.softcap)
        }
        // The reduction's denominators: .mean divides the cross-entropy by the divisor, else by the
        // participating rows' label weights (their count); the z-loss by their count.
        let taking = (0..<c.rows).filter { !ignored[$0] }
        let mean = ce.reduction == .mean
        let labelWeights = taking.reduce(0.0) { total, r in total + (c.labels.flatMap { l in weights.map { Double($0[Int(l[r])]) } } ?? 1) }
        let dCE = mean ? ce.divisor ?? labelWeights : 1
        let dZ = mean ? Double(taking.count) : 1
        let gs = Double(ce.gradientScale)
        let P = dCE > 0 ? gs / dCE : 0
        let Pz = lambda != 0 && dZ > 0 ? 2 * lambda * gs / dZ : 0
        let gradient = o.gradient ?? (c.call == .inPlace ? o.block : nil)

        var crossEntropy = 0.0, zLoss = 0.0, bounds = 0.0, anyBad = false, overflowRange = false
        for r in 0..<c.rows {
            let base = r * c.stride
            let rowLoss = o.rowLosses?[r], lse = o.rowLogSumExp?[r], argmax = o.rowArgmax?[r]
            let g = gradient.map { $0[base ..< base + c.classes] }
            if ignored[r] {
                if let rowLoss, rowLoss != 0 { fail("\(o.name): ignored row \(r) has loss \(rowLoss)") }
                if let lse, lse != 0 { fail("\(o.name): ignored row \(r) has lse \(lse)") }
                if let argmax, argmax != -1 { fail("\(o.name): ignored row \(r) has argmax \(argmax)") }
                if let g, !g.allSatisfy({ $0 == 0 }) { fail("\(o.name): ignored row \(r) has a nonzero gradient") }
                continue
            }
            guard let truth = truths[r] else {
                anyBad = true
                if let rowLoss, !rowLoss.isNaN { fail("\(o.name): bad row \(r) has loss \(rowLoss), not NaN") }
                if let lse, !lse.isNaN { fail("\(o.name): bad row \(r) has lse \(lse), not NaN") }
                if let argmax, argmax != -1 { fail("\(o.name): bad row \(r) has argmax \(argmax)") }
                if let g, !g.allSatisfy(\.isNaN) { fail("\(o.name): bad row \(r)'s gradient is not all NaN") }
                continue
            }
            // Known issue (Fuzz/Crashes/loss-gap-overflow): with a logit within 2× of Float's
            // max (|t| ≥ 2¹²⁶), `.scalar` and `.vector` form gaps m − t_c in Float, which
            // overflow to inf where the truth's loss is finite. Beyond NUMERICS.md's stated range
            // (±1e30); not checked there for those kernels, so fuzzing goes on.
            if o.name != "reference" && truth.t.contains(where: { $0.isFinite && abs($0) >= 0x1p126 }) {
                overflowRange = true
                continue
            }
            // Known issue (Fuzz/Crashes/scalar-isa-sum-accuracy): the shim's portable path
            // (ISA .scalar, XENT_W = 1) sums each 512-element block's exps in 4 Float
            // accumulators, up to 128 terms each: S is off by up to ~128u, beyond the bound's 16u.
            let portableSumSlack = o.name == "vector/scalar" ? Double(Swift.min(c.classes, 512)) / 4 * unitRoundoff : 0
            // Known issue (Fuzz/Crashes/soft-loss-gap-rounding): `.scalar` and `.vector` round
            // each gap m − t_c to Float before the Double sums Σ v_c·(m − t_c), an error of
            // u/2·Σ v_c·|m − t_c| that the loss bound 1e-6·max(1, |lse|) misses when targets sit
            // far below the max (ℓ ≫ lse).
            let gapSlack = o.name == "reference" ? 0 : unitRoundoff * truth.gapMass
            let rowBound = truth.lossBound(lambda: lambda)
                + portableSumSlack * (truth.mass + 2 * lambda * abs(truth.lse)) + gapSlack
            let expected = truth.crossEntropy + lambda * truth.lse * truth.lse
            crossEntropy += truth.crossEntropy
            zLoss += lambda * truth.lse * truth.lse
            bounds += rowBound
            if let rowLoss, !agrees(rowLoss, expected, bound: rowBound, ulp: true) {
                fail("\(o.name): row \(r) loss \(rowLoss), truth \(expected), error \(abs(Double(rowLoss) - expected)) > bound \(rowBound)")
            }
            if let lse, !agrees(lse, truth.lse, bound: truth.logSumExpBound, ulp: true) {
                fail("\(o.name): row \(r) lse \(lse), truth \(truth.lse)")
            }
            if let argmax {
                let z = c.logits[base ..< base + c.classes], largest = z.max()!
                let first = z.firstIndex(of: largest)! - base
                if argmax != first { fail("\(o.name): row \(r) argmax \(argmax), first max at \(first)") }
            }
            guard var g else { continue }
            // Known issue (Fuzz/Crashes/zloss-factor-overflow): when the row's gradient factor
            // s·(P·Σv + Pz·lse) overflows Float (lse near Float's max with a z-loss), `.scalar`
            // and `.vector` give NaN for the classes whose p is 0, whose truth is finite. Not
            // checked there for those kernels, so fuzzing goes on.
            let factor = truth.scale * (P * truth.mass + Pz * truth.lse)
            if o.name != "reference" && (abs(factor) >= 1e38 || abs(truth.scale * Pz * truth.lse) >= 1e38) { g = [] }
            // Known issue (Fuzz/README.md): `.reference` forms p = exp(t − lse) with lse = m + log S
            // rounded in Double, so its p is off by a factor up to e^(ulp(lse)) — at |m| ≈ 1e30
            // log S is lost entirely. Allowed for the reference only, so fuzzing goes on.
            let referenceSlack = o.name == "reference" ? expm1(truth.lse.ulp) : 0
            var worst: (j: Int, ratio: Double)? = nil
            for j in 0..<(g.isEmpty ? 0 : c.classes) {
                let value = g[base + j]
                let exact = truth.gradient(j, p: P, pLse: Pz)
                let referenceTerm = abs(truth.p[j] * (P * truth.mass + Pz * truth.lse) * truth.chain(j))
                // Known issue (Fuzz/Crashes/softcap-saturated-label-chain): under a softcap,
                // `.scalar` and `.vector` apply the chain factor 1 − (t/c)² in Float to p·a but in
                // Double to the target term, an error up to ~2u·s·|v_j·P| that the documented
                // 16u·s·|∂ℓ/∂z''_j| misses where the two terms cancel (p_t ≈ 1, saturated).
                let capChainSlack = truth.cap != nil && o.name != "reference" ? 4 * unitRoundoff * truth.scale * abs(truth.v[j] * P) : 0
                let bound = truth.gradientBound(j, p: P, pLse: Pz, lambda: lambda)
                    + (referenceTerm == 0 ? 0 : referenceSlack * referenceTerm) + capChainSlack
                    + portableSumSlack * referenceTerm
                if value.isNaN { worst = (j, .infinity); break }
                // Beyond Float's range the bound says nothing: only NaN is wrong there.
                if abs(exact) > 1e37 || bound > 1e37 { continue }
                if !agrees(value, exact, bound: bound) {
                    let ratio = abs(Double(value) - exact) / bound
                    if worst == nil || ratio > worst!.ratio { worst = (j, ratio) }
                }
            }
            if let worst {
                let j = worst.j
                fail("\(o.name): row \(r) gradient[\(j)] = \(g[base + j]), truth \(truth.gradient(j, p: P, pLse: Pz)), "
                     + "error \(worst.ratio)× the bound \(truth.gradientBound(j, p: P, pLse: Pz, lambda: lambda)); "
                     + "logit \(c.logits[base + j]) (transformed \(truth.t[j]), max \(truth.m)), v \(truth.v[j])")
            }
        }
        // The reduced loss: NaN when a participating row is bad (NUMERICS.md: "The reduced loss is
        // then NaN"), else within the rows' bounds, divided like the loss, + 2e-7·|loss|.
        // Known issue (Fuzz/Crashes/mean-zero-weights-nan-row): with `.mean`, class weights whose
        // participating sum is 0 and no z-loss, Batch.run drops the cross-entropy part, NaN and
        // all, and returns 0. Allowed so fuzzing goes on.
        let knownZeroDenominator = anyBad && dCE == 0 && lambda == 0
        let expected = anyBad && !knownZeroDenominator ? .nan : (dCE > 0 ? crossEntropy / dCE : 0) + (dZ > 0 ? zLoss / dZ : 0)
        let scale = Swift.max(dCE > 0 ? 1 / dCE : 0, dZ > 0 ? 1 / dZ : 0)
        let bound = bounds * scale + 2e-7 * abs(expected)
        if overflowRange && !anyBad { return }
        if expected.isNaN ? !o.loss.isNaN : !agrees(o.loss, expected, bound: bound, ulp: true) {
            fail("\(o.name): loss \(o.loss), truth \(expected) (bound \(bound); denominators \(dCE), \(dZ))")
        }
    }
}
