// What a report records about where and how it was measured.
import Foundation

struct MachineInfo {
    let host: String
    let cpuModel: String
    let swiftVersion: String
    let gitSHA: String
    let buildConfiguration: String
    let cores: Int

    static func current(repository: URL) -> MachineInfo {
        MachineInfo(
            host: ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "unknown",
            cpuModel: cpuModelName(),
            swiftVersion: swiftVersion(),
            gitSHA: gitDescription(repository),
            buildConfiguration: buildConfiguration,
            cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    static var buildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    /// "6.3.1" from `swift --version`'s first line.
    private static func swiftVersion() -> String {
        guard let line = firstLine(of: runProgram("swift", ["--version"])),
              let range = line.range(of: #"\d+\.\d+(\.\d+)?"#, options: .regularExpression)
        else { return "unknown" }
        return String(line[range])
    }

    private static func cpuModelName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
                ?? "unknown"
        }
        return "unknown"
    }

    /// The short SHA of HEAD, with "-dirty" when the work tree has uncommitted changes.
    private static func gitDescription(_ repository: URL) -> String {
        guard let sha = firstLine(of: runProgram("git", ["-C", repository.path, "rev-parse", "--short", "HEAD"])) else {
            return "nogit"
        }
        let status = runProgram("git", ["-C", repository.path, "status", "--porcelain", "--untracked-files=no"]) ?? ""
        return status.isEmpty ? sha : sha + "-dirty"
    }

    private static func firstLine(of text: String?) -> String? {
        text?.split(separator: "\n").first.map(String.init)
    }
}

/// Runs a program found on PATH and returns its standard output, or nil if it failed.
func runProgram(_ program: String, _ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [program] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
