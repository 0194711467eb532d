// The report's schema (one row per case), the CSV writer, and the Markdown summary.
import Foundation

/// One measured case. Columns are documented in Reports/README.md.
struct ReportRow {
    var timestamp: String
    var gitSHA: String
    var host: String
    var cpuModel: String
    var isa: String
    var swiftVersion: String
    var buildConfiguration: String
    var kernel: String
    var op: String
    var targetKind: String
    var rows: Int
    var classes: Int
    var threads: Int
    var timing: TimingSummary
    var bytesPerElement: Double
    var memcpyMedianNs: Double
    var expNsPerElement: Double
    var speedupOverScalar: Double? = nil
    var maxLossError: Double?
    var maxGradientError: Double?
    var peakRSSDeltaBytes: Int?

    var elements: Double { Double(rows) * Double(classes) }
    var nsPerElement: Double { timing.median / elements }
    var gigabytesPerSecond: Double { elements * bytesPerElement / timing.median }
    var memcpyRatio: Double { timing.median / memcpyMedianNs }
    var expBoundRatio: Double { timing.median / (expNsPerElement * elements) }

    static let columns = [
        "timestamp", "git_sha", "host", "cpu_model", "isa", "swift_version", "build_configuration",
        "kernel", "op", "target_kind", "rows", "classes", "threads", "repetitions",
        "min_ns", "median_ns", "p90_ns", "max_ns", "ns_per_element", "gb_per_s",
        "memcpy_median_ns", "memcpy_ratio", "exp_ns_per_element", "exp_bound_ratio",
        "speedup_vs_scalar", "max_loss_error", "max_gradient_error", "peak_rss_delta_bytes",
    ]

    var fields: [String] {
        func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }
        func opt(_ x: Double?) -> String { x.map { String(format: "%.3e", $0) } ?? "" }
        return [
            timestamp, gitSHA, host, cpuModel, isa, swiftVersion, buildConfiguration,
            kernel, op, targetKind, String(rows), String(classes), String(threads), String(timing.repetitions),
            f(timing.min, 8), f(timing.median, 8), f(timing.p90, 8), f(timing.max, 8), f(nsPerElement),
            f(gigabytesPerSecond), f(memcpyMedianNs, 8), f(memcpyRatio), f(expNsPerElement), f(expBoundRatio),
            speedupOverScalar.map { f($0) } ?? "", opt(maxLossError), opt(maxGradientError),
            peakRSSDeltaBytes.map(String.init) ?? "",
        ]
    }
}

enum ReportWriter {
    /// RFC 4180: quote a field holding a comma, quote or newline.
    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func csv(_ rows: [ReportRow]) -> String {
        ([ReportRow.columns.joined(separator: ",")]
            + rows.map { $0.fields.map(csvField).joined(separator: ",") }).joined(separator: "\n") + "\n"
    }

    /// Per shape: every kernel's forward+gradient on class labels against the bounds and
    /// `scalar`, then the speed targets of the performance issue, each marked met or missed.
    static func markdown(_ rows: [ReportRow], machine: MachineInfo, command: String, defaultISA: String) -> String {
        var out = "# Xent performance report\n\n"
        out += "- Machine: \(machine.cpuModel), \(machine.cores) cores, host `\(machine.host)`\n"
        out += "- Build: Swift \(machine.swiftVersion), \(machine.buildConfiguration); Xent at `\(machine.gitSHA)`\n"
        out += "- Command: `\(command)`\n"
        out += "- Medians of repeated runs in one process; ratios are to bounds measured in the same run.\n\n"
        let shapes = uniqueShapes(rows)
        for (r, k) in shapes {
            let shapeRows = rows.filter { $0.rows == r && $0.classes == k }
            guard let first = shapeRows.first else { continue }
            out += "## \(r) × \(k)\n\n"
            out += String(format: "memcpy bound %.3f ns/element; exp bound %.3f ns/element\n\n",
                          first.memcpyMedianNs / first.elements, first.expNsPerElement)
            out += "| kernel | isa | threads | op | target | ns/element | GB/s | × memcpy | × exp bound | speedup vs scalar | max loss err | max grad err |\n"
            out += "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
            for row in shapeRows where row.op != "inplace" {
                out += "| \(row.kernel) | \(row.isa) | \(row.threads) | \(row.op) | \(row.targetKind) | "
                out += String(format: "%.3f | %.2f | %.2f | %.2f | ", row.nsPerElement, row.gigabytesPerSecond, row.memcpyRatio, row.expBoundRatio)
                out += (row.speedupOverScalar.map { String(format: "%.1f×", $0) } ?? "–") + " | "
                out += (row.maxLossError.map { String(format: "%.1e", $0) } ?? "–") + " | "
                out += (row.maxGradientError.map { String(format: "%.1e", $0) } ?? "–") + " |\n"
            }
            out += "\n"
        }
        out += targets(rows, defaultISA: defaultISA)
        return out
    }

    /// The performance issue's single-thread targets, checked against this report's medians.
    static func targets(_ rows: [ReportRow], defaultISA: String) -> String {
        var out = "## Speed targets (class labels; single thread unless stated)\n\n| target | shape | measured | met |\n|---|---|---:|:---:|\n"
        let vector = rows.filter { $0.kernel == "vector" && $0.isa == defaultISA && $0.threads == 1 && $0.targetKind == "labels" }
        let peers = rows.filter { !["reference", "scalar", "vector"].contains($0.kernel) && $0.threads == 1 && $0.targetKind == "labels" }
        for v in vector where v.op == "fwdgrad" {
            let shape = "\(v.rows)×\(v.classes)"
            if v.classes >= 1000 {
                out += String(format: "| fwd+grad ≤ 1.6× memcpy (stretch 1.3×) | %@ | %.2f× | %@ |\n", shape, v.memcpyRatio, v.memcpyRatio <= 1.6 ? "yes" : "no")
            }
            if let s = v.speedupOverScalar {
                out += String(format: "| vector ≥ 10× scalar | %@ | %.1f× | %@ |\n", shape, s, s >= 10 ? "yes" : "no")
            }
            let samePeers = peers.filter { $0.rows == v.rows && $0.classes == v.classes && $0.op == "fwdgrad" }
            if let fastest = samePeers.min(by: { $0.timing.median < $1.timing.median }) {
                let ratio = fastest.timing.median / v.timing.median
                out += String(format: "| vector ≥ 2× the fastest peer (%@) | %@ | %.2f× | %@ |\n", fastest.kernel, shape, ratio, ratio >= 2 ? "yes" : "no")
            }
        }
        let threaded = rows.filter { $0.kernel == "vector" && $0.isa == defaultISA && $0.threads > 1 && $0.targetKind == "labels" && $0.op == "fwdgrad" }
        for t in threaded {
            if let one = vector.first(where: { $0.op == "fwdgrad" && $0.rows == t.rows && $0.classes == t.classes }) {
                let speedup = one.timing.median / t.timing.median
                out += String(format: "| %d threads ≥ 1.7× one thread (fwd+grad) | %d×%d | %.2f× | %@ |\n", t.threads, t.rows, t.classes, speedup, speedup >= 1.7 ? "yes" : "no")
            }
        }
        for v in vector where v.op == "fwd" {
            out += String(format: "| fwd ≤ 1.5× exp bound | %d×%d | %.2f× | %@ |\n", v.rows, v.classes, v.expBoundRatio, v.expBoundRatio <= 1.5 ? "yes" : "no")
        }
        return out + "\n"
    }

    static func uniqueShapes(_ rows: [ReportRow]) -> [(Int, Int)] {
        var seen = Set<[Int]>()
        var shapes: [(Int, Int)] = []
        for row in rows where seen.insert([row.rows, row.classes]).inserted { shapes.append((row.rows, row.classes)) }
        return shapes
    }
}

