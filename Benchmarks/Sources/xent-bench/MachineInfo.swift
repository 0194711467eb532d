// What a report records about where and how it was measured.
import Foundation
import Xent

struct MachineInfo {
    let host: String
    let cpuModel: String
    /// What tells apart machines that share a model name (a VM's "AMD EPYC" has been a Zen 1 and a
    /// Zen 3 here, with other caches and another exp speed): "family 25 model 1; L2 512 KiB, L3 32 MiB",
    /// from /proc/cpuinfo and sysfs; empty where they are not available.
    let cpuDetails: String
    let swiftVersion: String
    let gitSHA: String
    let buildConfiguration: String
    /// The CPUs the suite may run on (its affinity mask and CPU quota, as a call with `threads = nil`
    /// counts them): what `--threads all` uses.
    let cores: Int

    /// The reports' "Machine:" line: "AMD EPYC (family 25 model 1; …), 2 cores, host `vm`".
    var summaryLine: String {
        let details = cpuDetails.isEmpty ? "" : " (\(cpuDetails))"
        return "- Machine: \(cpuModel)\(details), \(cores) core\(cores == 1 ? "" : "s"), host `\(host)`\n"
    }

    static func current(repository: URL) -> MachineInfo {
        MachineInfo(
            host: ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "unknown",
            cpuModel: cpuModelName(),
            cpuDetails: cpuDetails(),
            swiftVersion: swiftVersion(),
            gitSHA: gitDescription(repository),
            buildConfiguration: buildConfiguration,
            cores: SoftmaxCrossEntropy.availableCPUs)
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

    private static func cpuDetails() -> String {
        var parts: [String] = []
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            var fields: [String: String] = [:]
            // The first processor's block: it ends at the first empty line.
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.isEmpty { break }
                let pair = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { fields[pair[0]] = pair[1] }
            }
            if let family = fields["cpu family"], let model = fields["model"] {
                parts.append("family \(family) model \(model)")
            }
        }
        // The unified caches of CPU 0 (sysfs writes sizes as "512K"), L2 per core, L3 shared.
        var caches: [String] = []
        for index in 0..<8 {
            let directory = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            func read(_ name: String) -> String? {
                (try? String(contentsOfFile: directory + name, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let level = read("level"), let type = read("type"), let size = read("size") else { break }
            guard type == "Unified", size.hasSuffix("K"), let kib = Int(size.dropLast()) else { continue }
            caches.append("L\(level) " + (kib >= 1024 && kib % 1024 == 0 ? "\(kib / 1024) MiB" : "\(kib) KiB"))
        }
        if !caches.isEmpty { parts.append(caches.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
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
