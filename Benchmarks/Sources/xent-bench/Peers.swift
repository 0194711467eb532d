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
    let max_loss_error: Double?
    let max_gradient_error: Double?
}

enum Peers {
    /// Runs `python peers.py` for the given shapes and returns its measurements; the script's
    /// progress goes straight to this process's standard error.
    static func measure(
        python: String, script: URL, shapes: [(Int, Int)], policy: RepetitionPolicy, peers: [String]
    ) throws -> [PeerMeasurement] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path,
                             "--shapes", shapes.map { "\($0.0)x\($0.1)" }.joined(separator: ","),
                             "--peers", peers.joined(separator: ","),
                             "--warmup", "\(policy.warmup)", "--min-reps", "\(policy.minRepetitions)",
                             "--max-reps", "\(policy.maxRepetitions)", "--min-time", "\(policy.minSeconds)"]
        var environment = ProcessInfo.processInfo.environment
        // One thread each, as every Xent row here.
        for name in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] { environment[name] = "1" }
        environment["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
        process.environment = environment
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
