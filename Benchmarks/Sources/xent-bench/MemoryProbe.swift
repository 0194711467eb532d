// Peak memory of one call, measured in a child process so no earlier case's peak hides it.
import ArgumentParser
import Foundation
import Xent

/// `xent-bench probe-memory`: allocates and touches a shape's buffers, then reports how far one
/// call of the kernel raises the process's peak resident set (getrusage's ru_maxrss). A
/// temporary proportional to rows × classes would show as at least 4 × rows × classes bytes.
struct ProbeMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-memory", abstract: "Print the peak-RSS growth (bytes) of one call.")

    @Option var rows: Int
    @Option var classes: Int
    @Option var op: String
    @Option var target: String
    @Option var isa: String?
    @Option var threads: Int = 1

    func run() throws {
        guard let operation = Operation(rawValue: op), let kind = TargetKind(rawValue: target) else {
            throw ValidationError("unknown op or target")
        }
        let workload = Workload(rows: rows, classes: classes, seed: 1)
        workload.prepareInPlace()
        let ce = SoftmaxCrossEntropy(
            kernel: .vector, instructionSet: isa.flatMap(InstructionSet.init(rawValue:)), threads: threads)
        let before = Self.peakResidentBytes()
        _ = try workload.run(ce, operation, kind)
        print(Self.peakResidentBytes() - before)
    }

    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF_WHO, &usage)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
    }

    /// Runs the probe in a child process (this same executable) and returns its answer.
    static func inChild(rows: Int, classes: Int, op: Operation, target: TargetKind, isa: InstructionSet, threads: Int) -> Int? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
            process.executableURL = Bundle.main.executableURL
        }
        process.arguments = ["probe-memory", "--rows", "\(rows)", "--classes", "\(classes)",
                             "--op", op.rawValue, "--target", target.rawValue, "--isa", isa.rawValue,
                             "--threads", "\(threads)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

#if os(Linux)
/// RUSAGE_SELF as getrusage's parameter type on glibc.
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif
