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
    var dataType: String
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
    /// Where the row buffers started (``BufferAlignment``'s raw value; `-` for peers, whose arrays are
    /// their own).
    var alignment = BufferAlignment.line.rawValue
    /// The call option the case set (``CallOption``'s raw value; `plain` for none, and for peers).
    var options = CallOption.plain.rawValue
    /// The shape's threaded memcpy bound (``Bounds/memcpyNanoseconds(_:_:threads:policy:)``) for this
    /// row's element size, on the run's largest thread count; nil when the run has no thread count above 1.
    var memcpyThreads: (threads: Int, medianNs: Double)? = nil
    /// The linear-head columns (`--linear` reports only).
    var linear: LinearColumns? = nil

    var elements: Double { Double(rows) * Double(classes) }
    /// The same kernel, ISA, type, operation, targets, shape and thread count as `other`: what two
    /// measurements of one case share (their alignment and option are the caller's to compare).
    func isSameCase(as other: ReportRow) -> Bool {
        kernel == other.kernel && isa == other.isa && dataType == other.dataType && op == other.op
            && targetKind == other.targetKind && rows == other.rows && classes == other.classes
            && threads == other.threads
    }
    var nsPerElement: Double { timing.median / elements }
    var gigabytesPerSecond: Double { elements * bytesPerElement / timing.median }
    var memcpyRatio: Double { timing.median / memcpyMedianNs }
    var expBoundRatio: Double { timing.median / (expNsPerElement * elements) }
    /// The case's roofline (issue 15): the slower of its two bounds for the whole shape, memcpy
    /// (its element size) and exp (its ISA's) × elements — no kernel can beat either.
    var rooflineNs: Double { Swift.max(memcpyMedianNs, expNsPerElement * elements) }
    var rooflineRatio: Double { timing.median / rooflineNs }
    /// The memcpy bound above the exp bound × elements: the roofline is memory's.
    var isMemoryBound: Bool { memcpyMedianNs > expNsPerElement * elements }
    /// A threaded case's roofline: the slower of the threaded memcpy bound and the exp bound shared by
    /// its threads, exp × elements / threads (exp runs on each core at the one-thread rate); only where
    /// the row ran on the bound's thread count (another count has no memory bound measured).
    var rooflineThreadsNs: Double? {
        guard let memcpyThreads, threads > 1, threads == memcpyThreads.threads else { return nil }
        return Swift.max(memcpyThreads.medianNs, expNsPerElement * elements / Double(threads))
    }
    var rooflineThreadsRatio: Double? { rooflineThreadsNs.map { timing.median / $0 } }

    static let columns = [
        "timestamp", "git_sha", "host", "cpu_model", "isa", "swift_version", "build_configuration",
        "kernel", "dtype", "op", "target_kind", "rows", "classes", "threads", "repetitions",
        "min_ns", "median_ns", "p90_ns", "max_ns", "ns_per_element", "gb_per_s",
        "memcpy_median_ns", "memcpy_ratio", "exp_ns_per_element", "exp_bound_ratio", "roofline_ns", "roofline_ratio",
        "speedup_vs_scalar", "max_loss_error", "max_gradient_error", "peak_rss_delta_bytes",
        "rounds", "round_median_min_ns", "round_median_max_ns", "alignment",
        // After the older columns, so readers of earlier reports find those where they were.
        "memcpy_threads", "memcpy_threads_median_ns", "roofline_threads_ns", "roofline_threads_ratio",
        "options",
    ]

    var fields: [String] {
        func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }
        func opt(_ x: Double?) -> String { x.map { String(format: "%.3e", $0) } ?? "" }
        return [
            timestamp, gitSHA, host, cpuModel, isa, swiftVersion, buildConfiguration,
            kernel, dataType, op, targetKind, String(rows), String(classes), String(threads),
            String(timing.repetitions),
            f(timing.min, 8), f(timing.median, 8), f(timing.p90, 8), f(timing.max, 8), f(nsPerElement),
            f(gigabytesPerSecond), f(memcpyMedianNs, 8), f(memcpyRatio), f(expNsPerElement, 8), f(expBoundRatio),
            f(rooflineNs, 8), f(rooflineRatio),
            speedupOverScalar.map { f($0) } ?? "", opt(maxLossError), opt(maxGradientError),
            peakRSSDeltaBytes.map(String.init) ?? "",
            String(timing.rounds), f(timing.lowestRoundMedian, 8), f(timing.highestRoundMedian, 8), alignment,
            memcpyThreads.map { String($0.threads) } ?? "", memcpyThreads.map { f($0.medianNs, 8) } ?? "",
            rooflineThreadsNs.map { f($0, 8) } ?? "", rooflineThreadsRatio.map { f($0) } ?? "",
            options,
        ]
    }
}

enum ReportWriter {
    /// RFC 4180: quote a field holding a comma, quote or newline.
    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// The schema's columns; a linear report (any row with linear columns) adds
    /// ``LinearColumns/columns`` after them, empty where a row has none.
    static func csv(_ rows: [ReportRow]) -> String {
        let linear = rows.contains { $0.linear != nil }
        let header = ReportRow.columns + (linear ? LinearColumns.columns : [])
        return ([header.joined(separator: ",")]
            + rows.map { row in
                (row.fields + (linear ? LinearColumns.fields(row) : [])).map(csvField).joined(separator: ",")
            }).joined(separator: "\n") + "\n"
    }

    /// Per shape: every case but in-place against the bounds, the roofline and `scalar`, and the 16-bit
    /// types beside Float; then the alignment table, the options' costs (OptionCosts.swift) and issue 15's
    /// speed targets on the plain calls (SpeedTargets.swift).
    static func markdown(_ rows: [ReportRow], machine: MachineInfo, command: String, defaultISA: String) -> String {
        var out = "# Xent performance report\n\n"
        out += machine.summaryLine
        out += "- Build: Swift \(machine.swiftVersion), \(machine.buildConfiguration); Xent at `\(machine.gitSHA)`\n"
        out += "- Command: `\(command)`\n"
        out += "- Medians of repeated runs in one process; ratios are to bounds measured in the same run.\n"
        let rounds = rows.map(\.timing.rounds).max() ?? 1
        if rounds > 1 {
            out += "- \(rounds) rounds, interleaved in time (every case once, then every case again, …; the peers' "
                + "rounds after Xent's, in their own process): a time is the median of the case's round medians, "
                + "(min–max) the range of its round medians; a bound is the lowest of its measurements over all "
                + "rounds.\n"
        }
        out += "\n"
        let withOptions = rows.contains { $0.options != CallOption.plain.rawValue }
        let shapes = uniqueShapes(rows)
        for (r, k) in shapes {
            let shapeRows = rows.filter { $0.rows == r && $0.classes == k }
            guard let first = shapeRows.first else { continue }
            out += "## \(r) × \(k)\n\n"
            var bounds: [String] = []
            // The threaded memcpy bound beside the one-thread bound, where the run measured one.
            func memcpyBound(_ row: ReportRow) -> String {
                String(format: "memcpy bound %.3f ns/element", row.memcpyMedianNs / row.elements)
                    + (row.memcpyThreads.map {
                        String(format: " (%d threads %.3f ns/element)", $0.threads, $0.medianNs / row.elements)
                    } ?? "")
            }
            if let f32 = shapeRows.first(where: { $0.dataType == "f32" }) {
                bounds.append(memcpyBound(f32))
            }
            if let half = shapeRows.first(where: { $0.dataType != "f32" }) {
                bounds.append("16-bit " + memcpyBound(half))
            }
            // The exp bound is the ISA's: the header gives the one the targets use (the default ISA's
            // vector rows), else the first row's, and names it.
            let boundRows = shapeRows.filter { $0.kernel == "vector" && $0.isa == defaultISA }
            let boundRow = boundRows.first ?? first
            bounds.append(String(format: "exp bound %.3f ns/element (%@)", boundRow.expNsPerElement, boundRow.isa))
            if let f32 = (boundRows.isEmpty ? shapeRows : boundRows).first(where: { $0.dataType == "f32" }) {
                bounds.append(String(format: "f32 roofline %.3f ns/element (%@)", f32.rooflineNs / f32.elements,
                                     f32.isMemoryBound ? "memory-bound" : "exp-bound"))
            }
            out += bounds.joined(separator: "; ") + "\n\n"
            // The bounds here are one thread's; the threads table has the threaded roofline.
            // An options column where the run set some (--options).
            out += "| kernel | isa | dtype | threads | alignment | op | target | " + (withOptions ? "options | " : "")
                + "ns/element | GB/s | × memcpy | × exp bound | × roofline (1 thread) | speedup vs scalar "
                + "| max loss err | max grad err |\n"
            out += "|---|---|---|---:|---|---|---|" + (withOptions ? "---|" : "")
                + String(repeating: "---:|", count: 8) + "\n"
            for row in shapeRows where row.op != "inplace" {
                out += "| \(row.kernel) | \(row.isa) | \(row.dataType) | \(row.threads) | \(row.alignment) | \(row.op) "
                    + "| \(row.targetKind) | " + (withOptions ? "\(row.options) | " : "")
                out += Spread(row.timing, over: row.elements).text("%.3f") + " | "
                out += String(
                    format: "%.2f | %.2f | %.2f | %.2f | ", row.gigabytesPerSecond, row.memcpyRatio, row.expBoundRatio,
                    row.rooflineRatio)
                out += (row.speedupOverScalar.map { String(format: "%.1f×", $0) } ?? "–") + " | "
                out += (row.maxLossError.map { String(format: "%.1e", $0) } ?? "–") + " | "
                out += (row.maxGradientError.map { String(format: "%.1e", $0) } ?? "–") + " |\n"
            }
            out += "\n" + halfAgainstFloat(shapeRows, defaultISA: defaultISA)
        }
        out += alignmentRatios(rows)
        out += optionCosts(rows)
        out += targets(rows.filter { $0.options == CallOption.plain.rawValue }, defaultISA: defaultISA)
        return out
    }

    /// The alignment the targets are checked on: `line` (the peers' and the default) when the report
    /// has it, else the first one measured.
    static func targetAlignment(_ rows: [ReportRow]) -> String {
        let ours = rows.map(\.alignment).filter { $0 != "-" }
        return ours.contains(BufferAlignment.line.rawValue) ? BufferAlignment.line.rawValue
            : ours.first ?? BufferAlignment.line.rawValue
    }

    /// The 16-bit types beside Float on one shape: the default vector kernel, forward+gradient on
    /// class labels, one thread; each against its own memcpy bound and Float's time.
    static func halfAgainstFloat(_ shapeRows: [ReportRow], defaultISA: String) -> String {
        let cases = shapeRows.filter {
            $0.kernel == "vector" && $0.isa == defaultISA && $0.op == "fwdgrad" && $0.targetKind == "labels"
                && $0.threads == 1 && $0.options == CallOption.plain.rawValue
        }
        guard cases.contains(where: { $0.dataType != "f32" }) else { return "" }
        var out =
            "16-bit vs Float (vector on \(defaultISA), fwdgrad, labels, 1 thread; × f32 time below 1 is faster):\n\n"
        out += "| dtype | alignment | ns/element | GB/s | × memcpy (own size) | × f32 time | max grad err |\n"
            + "|---|---|---:|---:|---:|---:|---:|\n"
        for row in cases {
            let float = cases.first { $0.dataType == "f32" && $0.alignment == row.alignment }
            out += "| \(row.dataType) | \(row.alignment) | " + Spread(row.timing, over: row.elements).text("%.3f")
            out += String(format: " | %.2f | %.2f | ", row.gigabytesPerSecond, row.memcpyRatio)
            out += (float.map { Spread.pairedRatio(row.timing, $0.timing).text("%.2f") } ?? "–") + " | "
            out += (row.maxGradientError.map { String(format: "%.1e", $0) } ?? "–") + " |\n"
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

