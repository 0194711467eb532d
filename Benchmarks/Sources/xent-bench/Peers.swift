// Peers (numpy, JAX, PyTorch) timed by Benchmarks/peers/peers.py, read back as report rows.
import Foundation

/// One line of peers.py's output (JSON), before the bounds of this run are attached.
struct PeerMeasurement: Decodable {
    let kernel: String
    let op: String
    let target_kind: String
    let rows: Int
    let classes: Int
    let threads: Int
    let times_ns: [Double]
    /// peers.py with --rounds: each round's runs (times_ns holds them all).
    var round_times_ns: [[Double]]? = nil
    let max_loss_error: Double?
    let max_gradient_error: Double?
    // linear_peers.py's rows also carry these.
    var hidden: Int? = nil
    var data: String? = nil
    var peak_rss_delta_bytes: Int? = nil

    /// The case's summary, round by round when it was measured in rounds.
    var timing: TimingSummary {
        guard let rounds = round_times_ns, !rounds.isEmpty else { return TimingSummary(times_ns) }
        return TimingSummary(rounds: rounds.map(TimingSummary.init))
    }
}

enum Peers {
    /// Runs `python peers.py` for the given shapes and returns its measurements; the script's
    /// progress goes straight to this process's standard error. With `rounds` above 1 it times each
    /// shape's peers and ops in that many interleaved rounds (every peer and op once, then again).
    static func measure(
        python: String, script: URL, shapes: [(Int, Int)], policy: RepetitionPolicy, rounds: Int = 1,
        peers: [String]
    ) throws -> [PeerMeasurement] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path,
                             "--shapes", shapes.map { "\($0.0)x\($0.1)" }.joined(separator: ","),
                             "--peers", peers.joined(separator: ","),
                             "--warmup", "\(policy.warmup)", "--min-reps", "\(policy.minRepetitions)",
                             "--max-reps", "\(policy.maxRepetitions)", "--min-time", "\(policy.minSeconds)",
                             "--rounds", "\(rounds)"]
        var environment = ProcessInfo.processInfo.environment
        // One thread each, as every Xent row here.
        for name in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] { environment[name] = "1" }
        environment["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
        process.environment = environment
        return try run(process, script: script)
    }

    /// Runs `python linear_peers.py` (PyTorch's linear cross-entropy paths) for the given N×d×V
    /// shapes at every thread count (the script sets torch's threads per case), with a peak-memory
    /// probe per case unless `memoryProbe` is false. With `rounds` above 1 it times each shape's
    /// cases in that many interleaved rounds (every path, thread count and op once, then again).
    static func measureLinear(
        python: String, script: URL, shapes: [LinearShape], threads: [Int], operations: [Operation],
        policy: RepetitionPolicy, rounds: Int = 1, paths: [String], memoryProbe: Bool
    ) throws -> [PeerMeasurement] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path,
                             "--shapes", shapes.map(\.description).joined(separator: ","),
                             "--paths", paths.joined(separator: ","),
                             "--threads", threads.map(String.init).joined(separator: ","),
                             "--ops", operations.map(\.rawValue).joined(separator: ","),
                             "--warmup", "\(policy.warmup)", "--min-reps", "\(policy.minRepetitions)",
                             "--max-reps", "\(policy.maxRepetitions)", "--min-time", "\(policy.minSeconds)",
                             "--rounds", "\(rounds)"]
            + (memoryProbe ? [] : ["--no-memory-probe"])
        return try run(process, script: script)
    }

    private static func run(_ process: Process, script: URL) throws -> [PeerMeasurement] {
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PeerError(message: "\(script.lastPathComponent) exited with status \(process.terminationStatus)")
        }
        let decoder = JSONDecoder()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try decoder.decode(PeerMeasurement.self, from: Data($0.utf8))
        }
    }
}

struct PeerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
