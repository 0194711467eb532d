// xent-bench run: the softmax suite — every kernel, ISA, op, target, dtype and thread count per shape,
// against the memcpy and exp bounds measured in the same run, then the memory probes and the peers.
import Foundation
import Xent

extension Run {
    func runSoftmax(repository: URL, machine: MachineInfo, policy: RepetitionPolicy) throws {
        let choices = try kernelChoices()
        let operations = try list(ops, Operation.init(rawValue:), "--ops")
        let targetKinds = try list(targets, TargetKind.init(rawValue:), "--targets")
        let dataTypes = try dataTypes()
        let callOptions = try self.callOptions()
        let timestamp = ISO8601DateFormatter().string(from: Date())
        let defaultISA = InstructionSet.active
        // 16-bit logits: the scalar kernel and the vector kernel on the default ISA, unless `--isas`
        // names ISAs (the Float rows compare every ISA; the 16-bit ones, whose kernels differ by ISA
        // too, on request).
        let halfChoices = choices.compactMap { choice -> KernelChoice? in
            switch choice.kernel {
            case .scalar: return choice
            case .vector: return isas == "all" ? KernelChoice(kernel: .vector, isa: defaultISA) : choice
            default: return nil
            }
        }.reduce(into: [KernelChoice]()) { if !$0.contains($1) { $0.append($1) } }
        // Above one thread: scalar and the default vector kernel only.
        func runsThreaded(_ choice: KernelChoice) -> Bool {
            choice.kernel == .scalar || (choice.kernel == .vector && (choice.isa ?? defaultISA) == defaultISA)
        }

        progress(
            "xent-bench: \(machine.cpuModel), Swift \(machine.swiftVersion) \(machine.buildConfiguration), "
                + "Xent \(machine.gitSHA), default ISA \(defaultISA)")
        if machine.buildConfiguration == "debug" {
            progress("warning: a debug build; timings are not representative (use swift run -c release)")
        }
        // Both bounds are measured per shape, right before its cases, so a bound and the cases
        // compared with it see the same state of a shared machine, and once more right after
        // them, the lowest measurement kept — over every round, with --rounds (a bound is a best
        // case: a neighbour's burst during one measurement slows the bound and flatters every ratio
        // to it; Reports/README.md has the runs where it happened).
        var memcpyBounds: [String: [Int: TimingSummary]] = [:]   // shape → element size → lowest
        // The threaded memcpy bound, kept the same way, on the largest --threads count when some case runs
        // on more than one thread: what the memory system gives that many threads in this run, the threaded
        // cases' memory bound.
        let threadedCases = (dataTypes.contains(.f32) && choices.contains(where: runsThreaded))
            || (dataTypes.contains { $0 != .f32 } && halfChoices.contains(where: runsThreaded))
        let memcpyThreadCount = threadCounts.max().flatMap { $0 > 1 && threadedCases ? $0 : nil }
        var memcpyThreadsBounds: [String: [Int: TimingSummary]] = [:]  // shape → element size → lowest
        var expBounds: [String: [InstructionSet: Double]] = [:]  // shape → ISA → lowest

        var rows: [ReportRow] = []
        // Per row: its timing in each round so far, and its shape and the ISA whose exp bound it
        // is compared with (the bounds are attached once every round has run).
        var roundTimings: [[TimingSummary]] = []
        var rowBounds: [(shape: String, isa: InstructionSet)] = []
        // A case's row, found by what the case is (round 1 adds the rows, later rounds their timings).
        var rowOfCase: [String: Int] = [:]
        // Vector cases whose peak memory is probed once every case is timed: the row's index and its ISA.
        var probes: [(index: Int, isa: InstructionSet)] = []
        func row(_ kernel: String, _ isa: String, _ dataType: DataType, _ op: String, _ target: String, _ w: Workload,
                 _ timing: TimingSummary, memcpy: TimingSummary, bytes: Double, exp: Double) -> ReportRow {
            ReportRow(
                timestamp: timestamp, gitSHA: machine.gitSHA, host: machine.host, cpuModel: machine.cpuModel,
                isa: isa, swiftVersion: machine.swiftVersion, buildConfiguration: machine.buildConfiguration,
                kernel: kernel, dataType: dataType.rawValue, op: op, targetKind: target, rows: w.rows,
                classes: w.classes, threads: 1,
                timing: timing, bytesPerElement: bytes, memcpyMedianNs: memcpy.median, expNsPerElement: exp,
                maxLossError: nil, maxGradientError: nil, peakRSSDeltaBytes: nil)
        }

        let shapeList = parsedShapes.reduce(into: [(Int, Int)]()) { list, shape in
            if !list.contains(where: { $0 == shape }) { list.append(shape) }
        }
        // Rounds interleave the whole suite in time: every shape's cases once, then all again, so a
        // burst that lasts minutes slows one round of a case, not all of them. A shape's data is
        // drawn again each round (the same seed, the same values) rather than held for every shape
        // at once; a single shape keeps its buffers.
        var keptWorkloads: [Workload]?
        for round in 1...rounds {
            let roundLabel = rounds > 1 ? "round \(round)/\(rounds) " : ""
            for (index, (r, k)) in shapeList.enumerated() {
                let shape = "\(r)x\(k)"
                progress("\(roundLabel)[\(index + 1)/\(shapeList.count)] \(r)×\(k)"
                    + (keptWorkloads == nil ? ": generating data" : ""))
                // One set of buffers per --alignment, the same values in each.
                let workloads = keptWorkloads ?? alignments.map {
                    Workload(rows: r, classes: k, seed: seed, dataTypes: dataTypes, alignment: $0)
                }
                if shapeList.count == 1 { keptWorkloads = workloads }
                // The bounds are best cases: the memcpy on the line-aligned buffers when there are some.
                let boundWorkload = workloads.first { $0.alignment == .line } ?? workloads[0]
                // One memcpy bound per element size: the 16-bit types move the same bytes, so they
                // share one, timed on the first 16-bit type's buffers.
                var memcpyBySize: [Int: TimingSummary] = [:]
                var memcpyThreadsBySize: [Int: TimingSummary] = [:]
                // Peers are f32: their bound is the f32 memcpy, timed for them if --dtypes left f32 out.
                let memcpyTypes = dataTypes + (peersPython != nil && !dataTypes.contains(.f32) ? [.f32] : [])
                for dataType in memcpyTypes where memcpyBySize[dataType.size] == nil {
                    let memcpy = Bounds.memcpyNanoseconds(boundWorkload, dataType, policy: policy)
                    memcpyBySize[dataType.size] = memcpy
                    progress(String(format: "  memcpy bound (%d-byte elements): %.3f ns/element",
                                    dataType.size, memcpy.median / Double(boundWorkload.elements)))
                    if let threads = memcpyThreadCount {
                        let memcpyThreads = Bounds.memcpyNanoseconds(
                            boundWorkload, dataType, threads: threads, policy: policy)
                        memcpyThreadsBySize[dataType.size] = memcpyThreads
                        progress(String(format: "  memcpy bound (%d-byte elements, %d threads): %.3f ns/element",
                                        dataType.size, threads, memcpyThreads.median / Double(boundWorkload.elements)))
                    }
                }
                var expBound: [InstructionSet: Double] = [:]
                for isa in InstructionSet.supported {
                    expBound[isa] = try Bounds.expNanosecondsPerElement(isa: isa, policy: policy)
                    progress(String(format: "  exp bound (%@): %.3f ns/element", isa.rawValue, expBound[isa]!))
                }
                for (size, memcpy) in memcpyBySize
                where memcpy.median < memcpyBounds[shape]?[size]?.median ?? .infinity {
                    memcpyBounds[shape, default: [:]][size] = memcpy
                }
                for (size, memcpy) in memcpyThreadsBySize
                where memcpy.median < memcpyThreadsBounds[shape]?[size]?.median ?? .infinity {
                    memcpyThreadsBounds[shape, default: [:]][size] = memcpy
                }
                for (isa, exp) in expBound where exp < expBounds[shape]?[isa] ?? .infinity {
                    expBounds[shape, default: [:]][isa] = exp
                }

                for target in targetKinds {
                  for dataType in dataTypes {
                    let caseChoices = dataType == .f32 ? choices : halfChoices
                    // Accuracy does not change from round to round: measured in the first only, per option,
                    // kernel and alignment (each alignment's own outputs: the tests hold them bitwise equal).
                    var accuracies: [CallOption: [KernelChoice: [AccuracyResult]]] = [:]
                    for option in callOptions where round == 1 {
                        // The truth: `.reference` (Double) on this type's data, widened exactly to Float.
                        let reference: (losses: [Float], gradient: [Float]?) = dataType == .f32
                            ? try workloads[0].outputs(
                                KernelChoice(kernel: .reference, isa: nil), target, gradient: true, option: option)
                            : try workloads[0].half(dataType).reference(target, option: option)
                        for choice in caseChoices {
                            accuracies[option, default: [:]][choice] = try workloads.map { workload in
                                let outputs: (losses: [Float], gradient: [Float]?) = dataType == .f32
                                    ? try workload.outputs(choice, target, gradient: true, option: option)
                                    : try workload.half(dataType).outputs(choice, target, option: option)
                                return Accuracy.compare(
                                    losses: outputs.losses, gradient: outputs.gradient,
                                    referenceLosses: reference.losses, referenceGradient: reference.gradient)
                            }
                        }
                    }
                    for choice in caseChoices {
                      for op in operations where !op.isShard || choice.kernel == .vector {
                        for threadCount in threadCounts {
                          if threadCount > 1 && !runsThreaded(choice) { continue }
                          // A case's options, and each option's alignments, back to back, so that their
                          // ratios to the plain call on a line compare like moments.
                          for option in callOptions {
                            let ce = option.applied(
                                to: choice.configuration(.mean, threads: threadCount), rows: r, classes: k)
                            let accuracy = accuracies[option]?[choice]
                            for (slot, workload) in workloads.enumerated() {
                                let half = dataType == .f32 ? nil : workload.half(dataType)
                                if op == .inPlace { workload.prepareInPlace(dataType) }
                                var sink: Float = 0
                                var failure: Error?
                                let timing = measure(policy) {
                                    do {
                                        if let half {
                                            sink += try half.run(ce, op, target)
                                        } else {
                                            sink += try workload.run(ce, op, target)
                                        }
                                    } catch { failure = error }
                                }
                                if let failure { throw failure }
                                let isa = choice.kernel == .vector ? (choice.isa ?? defaultISA) : defaultISA
                                let key = [shape, choice.name, choice.isaName, dataType.rawValue, op.rawValue,
                                           target.rawValue, "\(threadCount)", workload.alignment.rawValue,
                                           option.rawValue].joined(separator: " ")
                                if let index = rowOfCase[key] {
                                    roundTimings[index].append(timing)
                                } else {
                                    var result = row(
                                        choice.name, choice.isaName, dataType, op.rawValue, target.rawValue, workload,
                                        timing, memcpy: memcpyBySize[dataType.size]!,
                                        bytes: op.bytesPerElement(dataType), exp: expBound[isa]!)
                                    result.threads = threadCount
                                    result.alignment = workload.alignment.rawValue
                                    result.options = option.rawValue
                                    result.maxLossError = accuracy?[slot].maxLossError
                                    result.maxGradientError = op == .forward ? nil : accuracy?[slot].maxGradientError
                                    // The probe's child process runs the plain call.
                                    if choice.kernel == .vector && option == .plain && !noMemoryProbe {
                                        probes.append((rows.count, isa))
                                    }
                                    rowOfCase[key] = rows.count
                                    roundTimings.append([timing])
                                    rowBounds.append((shape, isa))
                                    rows.append(result)
                                }
                                let label = [
                                    choice.name, choice.isaName, dataType.rawValue, op.rawValue, target.rawValue,
                                    "\(threadCount)t", workload.alignment.rawValue
                                ]
                                    .map { $0.padding(toLength: 10, withPad: " ", startingAt: 0) }.joined()
                                    + (callOptions == [.plain] ? "" : option.rawValue.padding(
                                        toLength: 14, withPad: " ", startingAt: 0))
                                // "× memcpy" and "× exp" against this round's bounds measured before the
                                // shape's cases; the report uses the lowest of all the shape's measurements.
                                let elements = Double(workload.elements)
                                progress(label + String(
                                    format: "%8.3f ns/element %6.2f× memcpy %6.2f× exp  (loss %.4g)",
                                    timing.median / elements, timing.median / memcpyBySize[dataType.size]!.median,
                                    timing.median / (expBound[isa]! * elements),
                                    Double(sink / Float(timing.repetitions + policy.warmup))))
                            }
                          }
                        }
                      }
                    }
                  }
                }
                for isa in InstructionSet.supported {
                    let after = try Bounds.expNanosecondsPerElement(isa: isa, policy: policy)
                    let kept = after < expBounds[shape]![isa]!
                    progress(String(format: "  exp bound (%@) after the cases: %.3f ns/element%@", isa.rawValue,
                                    after, kept ? " (kept)" : ""))
                    if kept { expBounds[shape]![isa] = after }
                }
                for size in memcpyBySize.keys.sorted().reversed() {
                    let dataType: DataType = size == 4 ? .f32 : dataTypes.first { $0.size == size }!
                    let after = Bounds.memcpyNanoseconds(boundWorkload, dataType, policy: policy)
                    let kept = after.median < memcpyBounds[shape]![size]!.median
                    progress(String(format: "  memcpy bound (%d-byte elements) after the cases: %.3f ns/element%@",
                                    size, after.median / Double(boundWorkload.elements), kept ? " (kept)" : ""))
                    if kept { memcpyBounds[shape]![size] = after }
                    if let threads = memcpyThreadCount {
                        let after = Bounds.memcpyNanoseconds(boundWorkload, dataType, threads: threads, policy: policy)
                        let kept = after.median < memcpyThreadsBounds[shape]![size]!.median
                        progress(String(
                            format: "  memcpy bound (%d-byte elements, %d threads) after the cases: %.3f ns/element%@",
                            size, threads, after.median / Double(boundWorkload.elements), kept ? " (kept)" : ""))
                        if kept { memcpyThreadsBounds[shape]![size] = after }
                    }
                }
            }
        }
        keptWorkloads = nil

        // Every round has run: each case's rounds combined, and the lowest bounds of its shape.
        for i in rows.indices {
            let (shape, isa) = rowBounds[i]
            rows[i].timing = TimingSummary(rounds: roundTimings[i])
            rows[i].expNsPerElement = expBounds[shape]![isa]!
            let size = DataType(rawValue: rows[i].dataType)!.size
            rows[i].memcpyMedianNs = memcpyBounds[shape]![size]!.median
            rows[i].memcpyThreads = memcpyThreadCount.map { ($0, memcpyThreadsBounds[shape]![size]!.median) }
        }
        let memcpyByShape = memcpyBounds.compactMapValues { $0[4] }
        let memcpyThreadsByShape = memcpyThreadsBounds.compactMapValues { $0[4] }
        let expBoundByShape = expBounds.compactMapValues { $0[defaultISA] }

        // The memory probes run after every Xent case is timed (the peers after them, in their
        // own process): a child process spawned between two timed cases measurably disturbed the
        // next one (Reports/README.md).
        if !probes.isEmpty { progress("memory probes: \(probes.count) child processes") }
        for (index, isa) in probes {
            let row = rows[index]
            guard let dataType = DataType(rawValue: row.dataType), let op = Operation(rawValue: row.op),
                  let target = TargetKind(rawValue: row.targetKind)
            else { continue }
            rows[index].peakRSSDeltaBytes = ProbeMemory.inChild(
                rows: row.rows, classes: row.classes, dataType: dataType, op: op, target: target, isa: isa,
                threads: row.threads, alignment: BufferAlignment(rawValue: row.alignment) ?? .line)
        }

        if let python = peersPython {
            let script = repository.appendingPathComponent("Benchmarks/peers/peers.py")
            progress("peers: \(python) \(script.path)")
            let wanted = peers.split(separator: ",").map(String.init)
            for m in try Peers.measure(
                python: python, script: script, shapes: shapeList, policy: policy, rounds: rounds, peers: wanted
            ) {
                guard let memcpy = memcpyByShape["\(m.rows)x\(m.classes)"] else { continue }
                let w = (rows: m.rows, classes: m.classes)
                var result = ReportRow(
                    timestamp: timestamp, gitSHA: machine.gitSHA, host: machine.host, cpuModel: machine.cpuModel,
                    isa: "-", swiftVersion: machine.swiftVersion, buildConfiguration: machine.buildConfiguration,
                    kernel: m.kernel, dataType: DataType.f32.rawValue, op: m.op, targetKind: m.target_kind,
                    rows: w.rows, classes: w.classes, threads: m.threads, timing: m.timing,
                    bytesPerElement: Operation(rawValue: m.op)?.bytesPerElement(.f32) ?? 8,
                    memcpyMedianNs: memcpy.median,
                    expNsPerElement: expBoundByShape["\(m.rows)x\(m.classes)"]!, maxLossError: m.max_loss_error,
                    maxGradientError: m.max_gradient_error, peakRSSDeltaBytes: nil)
                result.speedupOverScalar = nil
                result.memcpyThreads = memcpyThreadCount.flatMap { threads in
                    memcpyThreadsByShape["\(m.rows)x\(m.classes)"].map { (threads, $0.median) }
                }
                result.alignment = "-"  // the peer's own arrays (64-byte aligned at these sizes)
                rows.append(result)
            }
        }

        // Speedup over `scalar`: the same dtype, op, target, shape, thread count, alignment (a peer's:
        // line-aligned scalar's) and option.
        for i in rows.indices {
            if let scalar = rows.first(where: {
                $0.kernel == "scalar" && $0.dataType == rows[i].dataType && $0.op == rows[i].op
                    && $0.targetKind == rows[i].targetKind
                    && $0.rows == rows[i].rows && $0.classes == rows[i].classes && $0.threads == rows[i].threads
                    && ($0.alignment == rows[i].alignment || rows[i].alignment == "-" && $0.alignment == "line")
                    && $0.options == rows[i].options
            }) {
                rows[i].speedupOverScalar = scalar.timing.median / rows[i].timing.median
            }
        }

        let directory = outputDirectory.map { URL(fileURLWithPath: $0) } ?? repository.appendingPathComponent("Reports")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let date = String(timestamp.prefix(10))
        let stem = "\(date)_\(machine.host)_\(machine.gitSHA)"
        let csvURL = directory.appendingPathComponent(stem + ".csv")
        let mdURL = directory.appendingPathComponent(stem + ".md")
        try ReportWriter.csv(rows).write(to: csvURL, atomically: true, encoding: .utf8)
        let command = (["xent-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        try ReportWriter.markdown(rows, machine: machine, command: command, defaultISA: defaultISA.rawValue)
            .write(to: mdURL, atomically: true, encoding: .utf8)
        progress("wrote \(csvURL.path)")
        progress("wrote \(mdURL.path)")
        print(csvURL.path)
    }
}
