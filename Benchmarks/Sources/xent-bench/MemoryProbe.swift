// Peak memory of one call, measured in a child process so no earlier case's peak hides it.
import ArgumentParser
import Foundation
import Xent

/// `xent-bench probe-memory`: allocates and touches a shape's buffers, then reports how far one
/// call of the kernel raises the process's peak resident set. A temporary proportional to
/// rows × classes would show as at least 2 × rows × classes bytes (4 × for f32); 16-bit calls
/// show their per-thread Float workspace, `classes` floats per row worker (twice that with soft
/// targets), and every call a constant of a few hundred KiB (heap and stack first touched).
struct ProbeMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-memory", abstract: "Print the peak-RSS growth (bytes) of one call.")

    @Option var rows: Int
    @Option var classes: Int
    @Option var op: String
    @Option var target: String
    @Option var isa: String?
    @Option var dtype: String = DataType.f32.rawValue
    @Option var threads: Int = 1
    @Option var alignment: String = BufferAlignment.line.rawValue

    func validate() throws {
        guard rows >= 1, classes >= 1, !rows.multipliedReportingOverflow(by: classes).overflow else {
            throw ValidationError("--rows and --classes must be ≥ 1, their product an Int")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1") }
        if let isa {
            guard let set = InstructionSet(rawValue: isa) else {
                throw ValidationError("--isa: unknown value '\(isa)'")
            }
            guard set.isSupported else { throw ValidationError("--isa: \(isa) is not supported on this CPU") }
        }
    }

    func run() throws {
        guard let operation = Operation(rawValue: op), let kind = TargetKind(rawValue: target),
              let dataType = DataType(rawValue: dtype), let placement = BufferAlignment(rawValue: alignment)
        else { throw ValidationError("unknown op, target, dtype or alignment") }
        let workload = Workload(rows: rows, classes: classes, seed: 1, dataTypes: [dataType], alignment: placement)
        workload.prepareInPlace(dataType)
        let ce = SoftmaxCrossEntropy(
            kernel: .vector, instructionSet: isa.map { InstructionSet(rawValue: $0)! }, threads: threads)
        // The same call on a tiny shape first, so the code it runs and any lazily initialized
        // state are resident before the peak is read.
        let tiny = Workload(rows: 2 * threads, classes: 16, seed: 1, dataTypes: [dataType])
        tiny.prepareInPlace(dataType)
        _ = try tiny.run(ce, operation, kind, dataType)
        let before = Self.peakResidentBytes()
        _ = try workload.run(ce, operation, kind, dataType)
        print(Self.peakResidentBytes() - before)
    }

    /// The process's peak resident set, bytes. On Linux `VmHWM` of /proc/self/status, not
    /// getrusage's ru_maxrss: a child spawned by vfork + exec (Foundation's `Process`) inherits
    /// the parent's ru_maxrss, which hid any growth smaller than the parent's footprint.
    static func peakResidentBytes() -> Int {
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kilobytes = Int(line.dropFirst("VmHWM:".count).filter(\.isNumber)) {
            return kilobytes * 1024
        }
        #endif
        var usage = rusage()
        getrusage(RUSAGE_SELF_WHO, &usage)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
    }

    /// Runs the probe in a child process (this same executable) and returns its answer.
    static func inChild(
        rows: Int, classes: Int, dataType: DataType, op: Operation, target: TargetKind, isa: InstructionSet,
        threads: Int, alignment: BufferAlignment = .line
    ) -> Int? {
        runChild([
            "probe-memory", "--rows", "\(rows)", "--classes", "\(classes)", "--dtype", dataType.rawValue,
            "--op", op.rawValue, "--target", target.rawValue, "--isa", isa.rawValue,
            "--threads", "\(threads)", "--alignment", alignment.rawValue,
        ])
    }

    /// Runs this same executable with `arguments` (a probe subcommand) and returns the number it
    /// prints, or nil when it could not run or printed something else.
    static func runChild(_ arguments: [String]) -> Int? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
            process.executableURL = Bundle.main.executableURL
        }
        process.arguments = arguments
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
