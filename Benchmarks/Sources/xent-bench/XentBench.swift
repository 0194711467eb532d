// xent-bench: times Xent's kernels (and peers) against the machine's bounds; writes CSV reports.
import ArgumentParser
import Foundation
import Xent

@main
struct XentBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xent-bench",
        abstract: "Time Xent's softmax cross-entropy kernels against memcpy, SLEEF's exp and peers.",
        discussion: """
            Every case runs in this one process: warm-up, then repetitions until --min-time \
            (at least --min-reps, at most --max-reps), on seeded N(0, 3²) logits (rounded to \
            Float16 and bfloat16 for --dtypes f16,bf16). Each case's accuracy is measured \
            against the .reference kernel on the same data. Progress goes \
            to standard error; the report goes to Reports/<UTC date>_<host>_<git sha>.csv with \
            a Markdown summary beside it.
            """,
        subcommands: [Run.self, ProbeMemory.self, ProbeLinearMemory.self],
        defaultSubcommand: Run.self)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the suite (the default).")

    static let defaultShapes = "4096x1000,1024x32000,256x50257,64x128256,8x262144,16x1048576"
    static let defaultKernels = "reference,scalar,vector", defaultISAs = "all", defaultTargets = "labels,soft"
    static let defaultDataTypes = "f32,f16,bf16", quickShapes = "64x1000,8x32000"

    @Option(help: "Comma-separated shapes rows×classes, e.g. 4096x1000,8x262144.")
    var shapes: String = Run.defaultShapes

    @Option(help: "Comma-separated kernels: reference, scalar, vector.")
    var kernels: String = Run.defaultKernels

    @Option(help: "ISAs to force the vector kernel to (comma-separated), or 'all' for every one this CPU has.")
    var isas: String = Run.defaultISAs

    @Option(help: """
        Comma-separated operations: fwd, fwdgrad, inplace, shardfwd, shardfwdgrad (the vocabulary-shard \
        steps on one shard of the whole rows; vector kernel only).
        """)
    var ops: String = "fwd,fwdgrad,inplace"

    @Option(help: "Comma-separated target kinds: labels, soft.")
    var targets: String = Run.defaultTargets

    @Option(help: """
        Comma-separated call options, or 'all': plain (none), scale (logitScale 2), softcap (30), smoothing \
        (labelSmoothing 0.1), class-weights, zloss (zLossScale 1e-4), row-weights (weights seeded, uniform in \
        [0.5, 1.5)). Every case runs with each, back to back after the plain call, which always runs; the CSV has an \
        options column, and the summary a table of each option's time over the plain call's (taken round by \
        round) and leaves the speed targets to the plain calls. Peak memory is probed on plain calls only.
        """)
    var options: String = CallOption.plain.rawValue

    @Option(
        help: """
            Comma-separated logit types: f32, f16 (Float16), bf16 (bfloat16). \
            The 16-bit types run the scalar kernel and the vector kernel on the default ISA (on the ISAs \
            --isas names, when it names some).
            """)
    var dtypes: String = Run.defaultDataTypes

    @Option(
        help: """
            Comma-separated thread counts, 'all' for every CPU the suite may run on (affinity, quota). \
            Above 1 thread only scalar and the vector kernel on the default ISA run.
            """)
    var threads: String = "1,all"

    @Option(name: .customLong("min-reps"), help: "Fewest timed repetitions per case.")
    var minRepetitions: Int = 5

    @Option(name: .customLong("max-reps"), help: "Most timed repetitions per case.")
    var maxRepetitions: Int = 50

    @Option(name: .customLong("min-time"), help: "Seconds of timed repetitions to aim for per case.")
    var minSeconds: Double = 0.5

    @Option(help: """
        Measure every case in this many rounds, interleaved in time: every shape's cases once, then all of \
        them again, … (a shape's data drawn again each round from the seed; a lone shape keeps its buffers). \
        A case's times are the median of its \
        round medians; the CSV adds rounds, round_median_min_ns and round_median_max_ns, and the summary \
        reads a target whose threshold lies between the lowest and highest round as "within noise". Bounds: \
        the lowest measurement of all rounds. Peers run their rounds after Xent's, in their own process. \
        With --linear the rounds go over one shape's cases at a time (its data is drawn once).
        """)
    var rounds: Int = 1

    @Option(help: """
        Comma-separated starts of the logits, gradient and target buffers (and their 16-bit copies): line (on \
        a 64-byte line, as the peers' arrays), array (48 bytes past a line, where a large Swift [Float]'s \
        elements start here), odd (4 bytes, one float, past a line). Several are measured back to back per \
        case; the CSV and the summary carry an alignment column, and the summary adds each vector case's \
        time ratio array/line and odd/line, with the target array ≤ 1.03 × line. The targets use the line \
        rows (else the first alignment's). The softmax suite only (not --linear).
        """)
    var alignment: String = BufferAlignment.line.rawValue

    @Option(help: "Seed of the logits, labels and soft targets.")
    var seed: UInt64 = 2026

    @Flag(help: "Small shapes and few repetitions: finishes in seconds (checks the pipeline, not the speed).")
    var quick = false

    @Option(help: "Python interpreter with the peers installed (Benchmarks/peers/setup.sh); omit to skip peers.")
    var peersPython: String?

    @Option(help: "Comma-separated peers to run with --peers-python: numpy, jax, torch.")
    var peers: String = "numpy,jax,torch"

    @Option(help: "Directory for the report (default: Reports/ of the repository).")
    var outputDirectory: String?

    @Flag(help: "Skip the per-case peak-memory probe (a child process per vector case).")
    var noMemoryProbe = false

    @Flag(help: """
        The fused linear head instead of the softmax cases: XentLinear against the sgemm roofline, Xent on \
        the whole logits, gradient filtering and (with --peers-python) PyTorch's linear cross-entropy paths. \
        Takes --linear-shapes, --ops fwd,fwdgrad, --threads, --rounds, the repetition options and --peers \
        (eager,lce,lce-chunked,mm); writes Reports/<UTC date>_linear-head.csv and .md.
        """)
    var linear = false

    @Option(name: .customLong("linear-cases"), help: """
        Comma-separated linear cases: xent-linear, roofline (sgemm, xent and their sum), filter \
        (xent-linear with gradient filtering on random and peaked logits). All by default; fewer for profiling.
        """)
    var linearCases: String = "xent-linear,roofline,filter"

    @Option(
        name: .customLong("linear-workspace-mib"),
        help: "The head's workspaceBytes in MiB (default 32, the library's).")
    var linearWorkspaceMiB: Int = 32

    @Option(name: .customLong("linear-shapes"), help: "Comma-separated linear shapes N×d×V, e.g. 1024x512x32000.")
    var linearShapes: String = Run.defaultLinearShapes

    mutating func validate() throws {
        if quick && shapes == Run.defaultShapes { shapes = Run.quickShapes }
        if quick && linearShapes == Run.defaultLinearShapes { linearShapes = Run.quickLinearShapes }
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1") }
        guard minSeconds.isFinite && minSeconds >= 0 else {
            throw ValidationError("--min-time must be a number of seconds ≥ 0")
        }
        if linear {
            guard alignments == [.line] else {
                throw ValidationError("--alignment: the linear suite's buffers are on a line")
            }
            // The softmax suite's options have no meaning here: refuse them rather than drop them.
            for (name, value, standard) in [
                ("--shapes", shapes, quick ? Run.quickShapes : Run.defaultShapes),
                ("--kernels", kernels, Run.defaultKernels), ("--isas", isas, Run.defaultISAs),
                ("--targets", targets, Run.defaultTargets), ("--dtypes", dtypes, Run.defaultDataTypes),
                ("--options", options, CallOption.plain.rawValue),
            ] where value != standard {
                throw ValidationError("\(name) is an option of the softmax suite; --linear takes --linear-shapes")
            }
            if ops == "fwd,fwdgrad,inplace" { ops = "fwd,fwdgrad" }
            if peers == "numpy,jax,torch" { peers = Run.linearPeerPaths }
            _ = try linearOperations
            _ = try linearCaseChoices
            guard linearWorkspaceMiB >= 1 else { throw ValidationError("--linear-workspace-mib must be ≥ 1") }
            guard LinearShape.parse(linearShapes) != nil else {
                throw ValidationError("--linear-shapes: give N×d×V triples such as 1024x512x32000")
            }
        }
        try checkPeers(linear ? Run.linearPeerPaths : "numpy,jax,torch")
        if quick {
            minRepetitions = min(minRepetitions, 3)
            maxRepetitions = min(maxRepetitions, 5)
            minSeconds = min(minSeconds, 0.01)
        }
        if !linear { try checkShapes() }
        guard minRepetitions >= 1, maxRepetitions >= minRepetitions else {
            throw ValidationError("--min-reps must be ≥ 1 and ≤ --max-reps")
        }
        for item in threads.split(separator: ",", omittingEmptySubsequences: false)
        where item != "all" && (Int(item) ?? 0) < 1 {
            throw ValidationError("--threads: '\(item)' is not a positive count or 'all' (e.g. 1,all)")
        }
        guard !threadCounts.isEmpty else { throw ValidationError("--threads: give positive counts or 'all'") }
        let kernelList = try kernelChoices()
        let operations = try list(ops, Operation.init(rawValue:), "--ops")
        _ = try list(targets, TargetKind.init(rawValue:), "--targets")
        _ = try dataTypes()
        _ = try callOptions()
        _ = try list(alignment, BufferAlignment.init(rawValue:), "--alignment")
        if !linear && operations.allSatisfy(\.isShard) && !kernelList.contains(where: { $0.kernel == .vector }) {
            throw ValidationError("--ops \(ops): the shard steps run the vector kernel only; add vector to --kernels")
        }
        try checkOutputDirectory()
    }

    /// Every --shapes item a positive rows×classes pair whose buffers this machine can hold.
    private func checkShapes() throws {
        for item in shapes.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let rows = parts[0], let classes = parts[1], rows > 0, classes > 0 else {
                throw ValidationError("--shapes: '\(item)' is not a rows×classes pair such as 4096x1000")
            }
            // The logits, the gradient and the soft targets in Float, and the accuracy check's two
            // gradients: at least 20 bytes an element (16-bit copies add to it).
            let (elements, overflow) = rows.multipliedReportingOverflow(by: classes)
            guard !overflow else { throw ValidationError("--shapes: \(item) has more elements than Int holds") }
            let bytes = Double(elements) * 20
            guard bytes <= Double(ProcessInfo.processInfo.physicalMemory) else {
                throw ValidationError(
                    "--shapes: \(item) needs more than \(String(format: "%.0f", bytes / 0x1p30)) GiB; this machine has "
                        + "\(ProcessInfo.processInfo.physicalMemory >> 30) GiB")
            }
        }
    }

    /// --peers names known to the suite's scripts, and --peers-python a program that runs.
    private func checkPeers(_ known: String) throws {
        let names = known.split(separator: ",")
        for name in peers.split(separator: ",", omittingEmptySubsequences: false) where !names.contains(name) {
            throw ValidationError("--peers: unknown peer '\(name)' (\(known))")
        }
        if let peersPython, runProgram(peersPython, ["-c", "pass"]) == nil {
            throw ValidationError("--peers-python: \(peersPython) does not run")
        }
    }

    /// The report's directory exists (or is made) and takes a file: checked before any case runs.
    private func checkOutputDirectory() throws {
        let directory = outputDirectory.map { URL(fileURLWithPath: $0) }
            ?? Self.repositoryRoot().appendingPathComponent("Reports")
        let probe = directory.appendingPathComponent(".xent-bench-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data().write(to: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw ValidationError("--output-directory: cannot write a report in \(directory.path)")
        }
    }

    /// The --alignment list, each once, in the order given (``list(_:_:_:)``; validate() refused
    /// unknown values).
    var alignments: [BufferAlignment] {
        (try? list(alignment, BufferAlignment.init(rawValue:), "--alignment")) ?? []
    }

    /// The --dtypes, each once, in `DataType`'s order.
    func dataTypes() throws -> [DataType] {
        let wanted = try list(dtypes, DataType.init(rawValue:), "--dtypes")
        guard !wanted.isEmpty else { throw ValidationError("--dtypes: give f32, f16 or bf16") }
        return DataType.allCases.filter(wanted.contains)
    }

    /// The --options, plain first (each option's cost is a ratio to it), then the others in the order given.
    func callOptions() throws -> [CallOption] {
        let wanted = options == "all" ? CallOption.allCases : try list(options, CallOption.init(rawValue:), "--options")
        return [.plain] + wanted.filter { $0 != .plain }
    }

    /// The --shapes pairs (``checkShapes()`` has refused any other item).
    var parsedShapes: [(Int, Int)] {
        shapes.split(separator: ",").compactMap { item in
            let parts = item.lowercased().split(separator: "x").compactMap { Int($0) }
            return parts.count == 2 && parts[0] > 0 && parts[1] > 0 ? (parts[0], parts[1]) : nil
        }
    }

    var threadCounts: [Int] {
        var counts: [Int] = []
        for item in threads.split(separator: ",") {
            guard let count = item == "all" ? SoftmaxCrossEntropy.availableCPUs : Int(item) else { continue }
            if !counts.contains(count) { counts.append(count) }
        }
        return counts
    }

    /// The comma-separated values of `option`: at least one, each known, each once (a value given
    /// twice would be measured twice in a row and counted as two rounds of its case).
    func list<T: Equatable>(_ text: String, _ make: (String) -> T?, _ option: String) throws -> [T] {
        var values: [T] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = make(String(item)) else { throw ValidationError("\(option): unknown value '\(item)'") }
            if !values.contains(value) { values.append(value) }
        }
        guard !values.isEmpty else { throw ValidationError("\(option): give at least one value") }
        return values
    }

    func kernelChoices() throws -> [KernelChoice] {
        let kinds = try list(kernels, SoftmaxCrossEntropy.Kernel.init(rawValue:), "--kernels")
        let forced: [InstructionSet] = isas == "all"
            ? InstructionSet.supported
            : try list(isas, InstructionSet.init(rawValue:), "--isas")
        for isa in forced where !isa.isSupported {
            throw ValidationError("--isas: \(isa) is not supported on this CPU")
        }
        return kinds.flatMap { kind in
            kind == .vector
                ? forced.map { KernelChoice(kernel: .vector, isa: $0) }
                : [KernelChoice(kernel: kind, isa: nil)]
        }
    }

    func run() throws {
        let repository = Self.repositoryRoot()
        let machine = MachineInfo.current(repository: repository)
        let policy = RepetitionPolicy(
            warmup: quick ? 1 : 2, minRepetitions: minRepetitions, maxRepetitions: maxRepetitions,
            minSeconds: minSeconds)
        if linear {
            return try runLinear(repository: repository, machine: machine, policy: policy,
                                 timestamp: ISO8601DateFormatter().string(from: Date()))
        }
        try runSoftmax(repository: repository, machine: machine, policy: policy)
    }

    /// The repository holding this benchmark: the one it was built from (its sources' path, where
    /// the peers' scripts are), else the git top level of the working directory, else the working
    /// directory (or its parent when run from Benchmarks/).
    static func repositoryRoot() -> URL {
        let built = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        if FileManager.default.fileExists(atPath: built.appendingPathComponent("Benchmarks/peers/peers.py").path) {
            return built
        }
        if let top = runProgram("git", ["rev-parse", "--show-toplevel"]) { return URL(fileURLWithPath: top) }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return cwd.lastPathComponent == "Benchmarks" ? cwd.deletingLastPathComponent() : cwd
    }
}

/// Progress goes to standard error, so a long run shows where it is and stdout stays clean.
func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
