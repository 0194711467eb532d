// xent-bench --linear: the fused linear head (XentLinear) against the sgemm roofline, Xent on the
// whole logits, gradient filtering on random and peaked logits, and PyTorch's paths.
import ArgumentParser
import Foundation
import Xent
import XentLinear
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TimingSummary {
    /// The derived "sgemm+xent" row: each order statistic the sum of its parts' (the repetitions
    /// the fewer of theirs).
    init(sumOf a: TimingSummary, _ b: TimingSummary) {
        self.init(repetitions: Swift.min(a.repetitions, b.repetitions), min: a.min + b.min,
                  median: a.median + b.median, p90: a.p90 + b.p90, max: a.max + b.max)
    }
}

extension Run {
    static let defaultLinearShapes = "1024x512x32000,512x768x50257,256x1024x128256"
    static let quickLinearShapes = "64x64x1000,32x128x4096"
    /// The PyTorch paths of Benchmarks/peers/linear_peers.py.
    static let linearPeerPaths = "eager,lce,lce-chunked,mm"

    var linearOperations: [Operation] {
        get throws {
            let wanted = try list(ops, Operation.init(rawValue:), "--ops")
            guard !wanted.isEmpty, wanted.allSatisfy({ $0 == .forward || $0 == .forwardGradient }) else {
                throw ValidationError("--ops: the linear cases are fwd and fwdgrad")
            }
            return [Operation.forward, .forwardGradient].filter(wanted.contains)
        }
    }

    /// --linear-cases: which of the head, the roofline and the filtered head run.
    var linearCaseChoices: (head: Bool, roofline: Bool, filter: Bool) {
        get throws {
            let wanted = linearCases.split(separator: ",").map(String.init)
            for item in wanted where !["xent-linear", "roofline", "filter"].contains(item) {
                throw ValidationError("--linear-cases: unknown case '\(item)' (xent-linear, roofline, filter)")
            }
            return (wanted.contains("xent-linear"), wanted.contains("roofline"), wanted.contains("filter"))
        }
    }

    func runLinear(
        repository: URL, machine: MachineInfo, policy: RepetitionPolicy, timestamp: String
    ) throws {
        guard let shapes = LinearShape.parse(linearShapes) else {
            throw ValidationError("--linear-shapes: give N×d×V triples such as 1024x512x32000")
        }
        let operations = try linearOperations
        let cases = try linearCaseChoices
        let defaultISA = InstructionSet.active
        progress(
            "xent-bench --linear: \(machine.cpuModel), Swift \(machine.swiftVersion) \(machine.buildConfiguration), "
                + "Xent \(machine.gitSHA), default ISA \(defaultISA), BLAS \(blasName)")
        if machine.buildConfiguration == "debug" {
            progress("warning: a debug build; timings are not representative (use swift run -c release)")
        }
        if blasFellBack {
            progress("warning: OpenBLAS runs its generic Prescott (SSE3) kernels on this \(defaultISA) CPU "
                + "(it does not know the model); set OPENBLAS_CORETYPE (e.g. SkylakeX, Haswell) for its vector kernels")
        }
        var rows: [ReportRow] = []
        var probes: [(index: Int, kind: LinearCase, data: LinearData)] = []
        var bounds: [LinearShape: (memcpy: Double, exp: Double)] = [:]

        func row(
            _ kernel: String, _ isa: String, _ shape: LinearShape, _ op: Operation, _ threads: Int,
            _ timing: TimingSummary, data: LinearData = .random, bytes: Double
        ) -> ReportRow {
            var r = ReportRow(
                timestamp: timestamp, gitSHA: machine.gitSHA, host: machine.host, cpuModel: machine.cpuModel,
                isa: isa, swiftVersion: machine.swiftVersion, buildConfiguration: machine.buildConfiguration,
                kernel: kernel, dataType: DataType.f32.rawValue, op: op.rawValue,
                targetKind: TargetKind.labels.rawValue,
                rows: shape.rows, classes: shape.classes, threads: threads, timing: timing,
                bytesPerElement: bytes / Double(shape.logits), memcpyMedianNs: 0, expNsPerElement: 0,
                maxLossError: nil, maxGradientError: nil, peakRSSDeltaBytes: nil)
            r.linear = LinearColumns(hidden: shape.hidden, data: data.rawValue, flops: shape.flops(op))
            return r
        }

        for (shapeIndex, shape) in shapes.enumerated() {
            progress("[\(shapeIndex + 1)/\(shapes.count)] \(shape.rows)×\(shape.hidden)×\(shape.classes): "
                + "generating data")
            let random = LinearWorkload(shape, data: .random, seed: seed)
            let peaked = operations.contains(.forwardGradient) && cases.filter
                ? LinearWorkload(shape, data: .peaked, seed: seed, sharedWeight: random.weight) : nil
            random.materializeLogits()

            // The bounds, before the shape's cases and again after them (the lower kept, as the
            // softmax suite does): memcpy of the whole logits, the default ISA's exp.
            let bytes = shape.logits * MemoryLayout<Float>.stride
            func memcpyBound() -> Double {
                measure(policy) {
                    memcpy(random.logitsCopy.pointer.baseAddress!, random.logits.pointer.baseAddress!, bytes)
                }.median
            }
            var memcpyNs = memcpyBound()
            var expNs = try Bounds.expNanosecondsPerElement(isa: defaultISA, policy: policy)
            random.prepareInPlace()
            progress(String(format: "  memcpy bound %.3f ns/element, exp bound (%@) %.3f ns/element",
                            memcpyNs / Double(shape.logits), defaultISA.rawValue, expNs))

            // Accuracy, untimed, one thread (the head's bits do not depend on the thread count).
            let reference = random.reference()
            let rowLosses = AlignedBuffer<Float>(shape.rows, zero: 0)
            _ = try random.runHead(
                LinearWorkload.head(threads: 1, filter: false, workspaceMiB: linearWorkspaceMiB), .forwardGradient,
                rowLosses: rowLosses.pointer)
            let headAccuracy = random.errors(
                losses: rowLosses.constant, hiddenGradient: random.gradHidden.constant, reference: reference)
            let unfusedAccuracy = try unfusedErrors(random, reference: reference)
            random.prepareInPlace()
            progress(String(format: "  accuracy (8 rows against Double): xent-linear loss %.2e, ∂H×N %.2e; "
                + "sgemm+xent loss %.2e, ∂H×N %.2e", headAccuracy.loss, headAccuracy.gradient ?? 0,
                unfusedAccuracy.loss, unfusedAccuracy.gradient ?? 0))
            var filterResults: [LinearData: (skipped: Double, error: Double)] = [:]
            if let peaked {
                for workload in [random, peaked] {
                    filterResults[workload.data] = try filterAccuracy(workload)
                    progress(String(format: "  filter 2^-12 on %@ logits: %.1f%% of tiles skipped, "
                        + "max |Δ∂H|, |Δ∂W| / max |unfiltered| = %.2e", workload.data.rawValue,
                        100 * filterResults[workload.data]!.skipped, filterResults[workload.data]!.error))
                }
            }

            // Rounds interleave the shape's cases in time: every case once, then all of them again
            // (--rounds). The softmax suite interleaves its whole suite; here a shape's weights, their
            // gradients and the whole logits (over a GiB at the default shapes) are drawn once and
            // freed before the next shape, so the rounds stay within it. Round 1 adds the rows; every
            // round adds each case's timing, in the same order.
            var shapeRows: [Int] = []
            var caseTimings: [[TimingSummary]] = []
            var round = 1, caseIndex = 0
            func add(_ r: ReportRow, probe: (LinearCase, LinearData)?) {
                if round == 1 {
                    if let probe, !noMemoryProbe { probes.append((rows.count, probe.0, probe.1)) }
                    shapeRows.append(rows.count)
                    rows.append(r)
                    caseTimings.append([r.timing])
                } else {
                    caseTimings[caseIndex].append(r.timing)
                }
                caseIndex += 1
                let label = [r.kernel, r.linear!.data, r.op, "\(r.threads)t"]
                    .map { $0.padding(toLength: 20, withPad: " ", startingAt: 0) }.joined()
                progress(label + String(format: "%10.2f ms %8.1f GFLOP/s", r.timing.median / 1e6,
                                        r.linear!.flops / r.timing.median)
                    + (rounds > 1 ? "  (round \(round)/\(rounds))" : ""))
            }
            func timed(_ body: () throws -> Float) throws -> TimingSummary {
                var sink: Float = 0
                var failure: Error?
                let timing = measure(policy) {
                    do { sink += try body() } catch { failure = error }
                }
                if let failure { throw failure }
                if sink.isNaN { progress("  (a NaN loss)") }
                return timing
            }

            for thisRound in 1...rounds {
                round = thisRound
                caseIndex = 0
                for threads in threadCounts {
                    let head = LinearWorkload.head(threads: threads, filter: false, workspaceMiB: linearWorkspaceMiB)
                    let ce = SoftmaxCrossEntropy(threads: threads)
                    for op in operations {
                        // The head.
                        if cases.head {
                            var r = row(LinearCase.head.rawValue, defaultISA.rawValue, shape, op, threads,
                                        try timed { try random.runHead(head, op) }, bytes: shape.headBytes(op))
                            r.maxLossError = headAccuracy.loss
                            r.maxGradientError = op == .forward ? nil : headAccuracy.gradient
                            add(r, probe: (.head, .random))
                        }
                        guard cases.roofline else { continue }
                        // The roofline: the products alone, Xent alone, and their sum (round by round).
                        setBLASThreads(threads)
                        let z = random.logits.pointer.baseAddress!
                        let products = try timed { random.runSGEMM(op, logits: z); return 0 }
                        add(row(LinearCase.sgemm.rawValue, "-", shape, op, threads, products,
                                bytes: shape.headBytes(op)),
                            probe: (.sgemm, .random))
                        random.materializeLogits()
                        let xent = try timed { try random.runXent(ce, op) }
                        random.prepareInPlace()
                        add(row(LinearCase.xent.rawValue, defaultISA.rawValue, shape, op, threads, xent,
                                bytes: op.bytesPerElement(.f32) * Double(shape.logits)),
                            probe: (.xent, .random))
                        var sum = row("sgemm+xent", "-", shape, op, threads, TimingSummary(sumOf: products, xent),
                                      bytes: shape.headBytes(op))
                        sum.maxLossError = unfusedAccuracy.loss
                        sum.maxGradientError = op == .forward ? nil : unfusedAccuracy.gradient
                        add(sum, probe: nil)
                    }
                    // Gradient filtering: fwdgrad on both data sets.
                    if let peaked {
                        let filtered = LinearWorkload.head(
                            threads: threads, filter: true, workspaceMiB: linearWorkspaceMiB)
                        for workload in [random, peaked] {
                            var r = row(LinearCase.filtered.rawValue, defaultISA.rawValue, shape, .forwardGradient,
                                        threads, try timed { try workload.runHead(filtered, .forwardGradient) },
                                        data: workload.data, bytes: shape.headBytes(.forwardGradient))
                            r.linear!.filterSkipped = filterResults[workload.data]!.skipped
                            r.linear!.filterError = filterResults[workload.data]!.error
                            add(r, probe: (.filtered, workload.data))
                        }
                    }
                }
                // The bounds again after every round, the lower kept.
                let memcpyAfter = memcpyBound()
                let expAfter = try Bounds.expNanosecondsPerElement(isa: defaultISA, policy: policy)
                progress(String(format: "  after the cases%@: memcpy bound %.3f ns/element%@, "
                                + "exp bound %.3f ns/element%@",
                                rounds > 1 ? " (round \(thisRound)/\(rounds))" : "",
                                memcpyAfter / Double(shape.logits), memcpyAfter < memcpyNs ? " (kept)" : "",
                                expAfter, expAfter < expNs ? " (kept)" : ""))
                memcpyNs = Swift.min(memcpyNs, memcpyAfter)
                expNs = Swift.min(expNs, expAfter)
            }
            bounds[shape] = (memcpyNs, expNs)
            for (k, i) in shapeRows.enumerated() {
                rows[i].timing = TimingSummary(rounds: caseTimings[k])
                rows[i].memcpyMedianNs = memcpyNs
                rows[i].expNsPerElement = expNs
            }
        }

        // Peak memory: a child process per case, after every case is timed.
        if !probes.isEmpty { progress("memory probes: \(probes.count) child processes") }
        for (index, kind, data) in probes {
            let r = rows[index]
            guard let op = Operation(rawValue: r.op), let hidden = r.linear?.hidden else { continue }
            rows[index].peakRSSDeltaBytes = ProbeLinearMemory.inChild(
                LinearShape(rows: r.rows, hidden: hidden, classes: r.classes), kind: kind, data: data, op: op,
                threads: r.threads, seed: seed, workspaceMiB: linearWorkspaceMiB)
        }
        // The unfused path's peak: the products' (the whole logits) and then Xent's on them.
        for i in rows.indices where rows[i].kernel == "sgemm+xent" {
            let parts = rows.filter {
                ($0.kernel == LinearCase.sgemm.rawValue || $0.kernel == LinearCase.xent.rawValue)
                    && $0.rows == rows[i].rows && $0.classes == rows[i].classes
                    && $0.linear?.hidden == rows[i].linear?.hidden
                    && $0.op == rows[i].op && $0.threads == rows[i].threads
            }.compactMap(\.peakRSSDeltaBytes)
            if parts.count == 2 { rows[i].peakRSSDeltaBytes = parts.reduce(0, +) }
        }

        if let python = peersPython {
            let script = repository.appendingPathComponent("Benchmarks/peers/linear_peers.py")
            progress("peers: \(python) \(script.path)")
            for m in try Peers.measureLinear(
                python: python, script: script, shapes: shapes, threads: threadCounts, operations: operations,
                policy: policy, rounds: rounds, paths: peers.split(separator: ",").map(String.init),
                memoryProbe: !noMemoryProbe
            ) {
                guard let hidden = m.hidden, let op = Operation(rawValue: m.op) else { continue }
                let shape = LinearShape(rows: m.rows, hidden: hidden, classes: m.classes)
                guard let bound = bounds[shape] else { continue }
                var r = row(m.kernel, "-", shape, op, m.threads, m.timing, bytes: shape.headBytes(op))
                r.alignment = "-"  // PyTorch's own tensors
                r.memcpyMedianNs = bound.memcpy
                r.expNsPerElement = bound.exp
                r.maxLossError = m.max_loss_error
                r.maxGradientError = m.max_gradient_error
                r.peakRSSDeltaBytes = m.peak_rss_delta_bytes
                rows.append(r)
            }
        }

        let directory = outputDirectory.map { URL(fileURLWithPath: $0) } ?? repository.appendingPathComponent("Reports")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stem = "\(timestamp.prefix(10))_linear-head"
        let csvURL = directory.appendingPathComponent(stem + ".csv")
        let mdURL = directory.appendingPathComponent(stem + ".md")
        try ReportWriter.csv(rows).write(to: csvURL, atomically: true, encoding: .utf8)
        let command = (["xent-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        try ReportWriter.linearMarkdown(rows, machine: machine, command: command, blas: blasName)
            .write(to: mdURL, atomically: true, encoding: .utf8)
        progress("wrote \(csvURL.path)")
        progress("wrote \(mdURL.path)")
        print(csvURL.path)
    }

    /// The unfused path once (untimed, one thread): the whole logits `H·Wᵀ + b` by sgemm, Xent in
    /// place with the row losses, `∂H = G·W`; its errors on the sample rows.
    private func unfusedErrors(
        _ w: LinearWorkload, reference: (losses: [Double], hiddenGradient: [[Double]])
    ) throws -> (loss: Double, gradient: Double?) {
        setBLASThreads(1)
        w.materializeLogits()
        let losses = AlignedBuffer<Float>(w.shape.rows, zero: 0)
        _ = try SoftmaxCrossEntropy(threads: 1).lossAndGradient(
            inPlace: w.logitsCopy.pointer, labels: w.labels.constant, classes: w.shape.classes,
            rowStatistics: .init(losses: losses.pointer))
        let dh = AlignedBuffer<Float>(w.shape.rows * w.shape.hidden, zero: 0)
        let (n, d, v) = (Int32(w.shape.rows), Int32(w.shape.hidden), Int32(w.shape.classes))
        cblasProduct(n, d, v, w.logitsCopy.pointer.baseAddress!, w.weight.pointer.baseAddress!, dh.pointer.baseAddress!)
        return w.errors(losses: losses.constant, hiddenGradient: dh.constant, reference: reference)
    }

    /// The filter's effect on one data set (untimed, one thread): the share of tiles skipped, and the
    /// largest absolute change of ∂H and of ∂W relative to the largest unfiltered entry (the larger
    /// of the two ratios).
    private func filterAccuracy(_ w: LinearWorkload) throws -> (skipped: Double, error: Double) {
        _ = try w.runHead(
            LinearWorkload.head(threads: 1, filter: false, workspaceMiB: linearWorkspaceMiB), .forwardGradient)
        let hidden = Array(w.gradHidden.constant), weight = Array(w.gradWeight.constant)
        let report = GradientFilterReport()
        _ = try w.runHead(
            LinearWorkload.head(threads: 1, filter: true, workspaceMiB: linearWorkspaceMiB), .forwardGradient,
            filterReport: report)
        func relative(_ exact: [Float], _ filtered: UnsafeBufferPointer<Float>) -> Double {
            var scale = 0.0, error = 0.0
            for (x, y) in zip(exact, filtered) {
                scale = Swift.max(scale, abs(Double(x)))
                let e = abs(Double(x) - Double(y))
                error = Swift.max(error, e.isNaN ? .infinity : e)
            }
            return scale > 0 ? error / scale : error
        }
        let h = relative(hidden, w.gradHidden.constant), wt = relative(weight, w.gradWeight.constant)
        progress(String(format: "  filter on %@: ∂H %.2e, ∂W %.2e (relative)", w.data.rawValue, h, wt))
        return (report.skippedFraction, Swift.max(h, wt))
    }
}

/// `xent-bench probe-linear-memory`: the peak-RSS growth of one linear case in a fresh process,
/// above its inputs (H, W, b, labels) and outputs (∂H, ∂W, ∂b), which are allocated and touched
/// first; the same call on a tiny shape before, so code and lazily initialized state are resident.
/// The sgemm roofline's whole logits count (allocated after the first reading): the unfused path
/// needs them and the head does not. Xent's case takes those logits as its input.
struct ProbeLinearMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-linear-memory", abstract: "Print the peak-RSS growth (bytes) of one linear case.")

    @Option var rows: Int
    @Option var hidden: Int
    @Option var classes: Int
    @Option(name: .customLong("case")) var kind: String
    @Option var data: String = LinearData.random.rawValue
    @Option var op: String
    @Option var threads: Int = 1
    @Option var seed: UInt64 = 2026
    @Option(name: .customLong("workspace-mib")) var workspaceMiB: Int = 32

    func run() throws {
        guard let kind = LinearCase(rawValue: kind), let data = LinearData(rawValue: data),
              let op = Operation(rawValue: op)
        else { throw ValidationError("unknown case, data or op") }
        let shape = LinearShape(rows: rows, hidden: hidden, classes: classes)
        let workload = LinearWorkload(shape, data: data, seed: seed)
        let tiny = LinearWorkload(LinearShape(rows: 2 * threads, hidden: 8, classes: 64), data: data, seed: seed)
        setBLASThreads(threads)
        let head = LinearWorkload.head(threads: threads, filter: kind == .filtered, workspaceMiB: workspaceMiB)
        let ce = SoftmaxCrossEntropy(threads: threads)
        var before = 0
        switch kind {
        case .head, .filtered:
            _ = try tiny.runHead(head, op)
            before = ProbeMemory.peakResidentBytes()
            _ = try workload.runHead(head, op)
        case .sgemm:
            tiny.runSGEMM(op, logits: tiny.logits.pointer.baseAddress!)
            before = ProbeMemory.peakResidentBytes()
            let z = UnsafeMutablePointer<Float>.allocate(capacity: shape.logits)
            defer { z.deallocate() }
            workload.runSGEMM(op, logits: z)
        case .xent:
            tiny.materializeLogits()
            _ = try tiny.runXent(ce, op)
            workload.materializeLogits()
            before = ProbeMemory.peakResidentBytes()
            _ = try workload.runXent(ce, op)
        }
        print(ProbeMemory.peakResidentBytes() - before)
    }

    /// Runs the probe in a child process (this same executable) and returns its answer.
    static func inChild(
        _ shape: LinearShape, kind: LinearCase, data: LinearData, op: Operation, threads: Int, seed: UInt64,
        workspaceMiB: Int
    ) -> Int? {
        ProbeMemory.runChild([
            "probe-linear-memory", "--rows", "\(shape.rows)", "--hidden", "\(shape.hidden)",
            "--classes", "\(shape.classes)", "--case", kind.rawValue, "--data", data.rawValue, "--op", op.rawValue,
            "--threads", "\(threads)", "--seed", "\(seed)", "--workspace-mib", "\(workspaceMiB)",
        ])
    }
}
