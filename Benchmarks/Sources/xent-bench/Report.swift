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
    /// The linear-head columns (`--linear` reports only).
    var linear: LinearColumns? = nil

    var elements: Double { Double(rows) * Double(classes) }
    var nsPerElement: Double { timing.median / elements }
    var gigabytesPerSecond: Double { elements * bytesPerElement / timing.median }
    var memcpyRatio: Double { timing.median / memcpyMedianNs }
    var expBoundRatio: Double { timing.median / (expNsPerElement * elements) }

    static let columns = [
        "timestamp", "git_sha", "host", "cpu_model", "isa", "swift_version", "build_configuration",
        "kernel", "dtype", "op", "target_kind", "rows", "classes", "threads", "repetitions",
        "min_ns", "median_ns", "p90_ns", "max_ns", "ns_per_element", "gb_per_s",
        "memcpy_median_ns", "memcpy_ratio", "exp_ns_per_element", "exp_bound_ratio",
        "speedup_vs_scalar", "max_loss_error", "max_gradient_error", "peak_rss_delta_bytes",
        "rounds", "round_median_min_ns", "round_median_max_ns", "alignment",
    ]

    var fields: [String] {
        func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }
        func opt(_ x: Double?) -> String { x.map { String(format: "%.3e", $0) } ?? "" }
        return [
            timestamp, gitSHA, host, cpuModel, isa, swiftVersion, buildConfiguration,
            kernel, dataType, op, targetKind, String(rows), String(classes), String(threads),
            String(timing.repetitions),
            f(timing.min, 8), f(timing.median, 8), f(timing.p90, 8), f(timing.max, 8), f(nsPerElement),
            f(gigabytesPerSecond), f(memcpyMedianNs, 8), f(memcpyRatio), f(expNsPerElement), f(expBoundRatio),
            speedupOverScalar.map { f($0) } ?? "", opt(maxLossError), opt(maxGradientError),
            peakRSSDeltaBytes.map(String.init) ?? "",
            String(timing.rounds), f(timing.lowestRoundMedian, 8), f(timing.highestRoundMedian, 8), alignment,
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

    /// Per shape: every case but in-place against the bounds and `scalar`, and the 16-bit types
    /// beside Float; then the speed targets of the performance issue, each marked met or missed.
    static func markdown(_ rows: [ReportRow], machine: MachineInfo, command: String, defaultISA: String) -> String {
        var out = "# Xent performance report\n\n"
        out += "- Machine: \(machine.cpuModel), \(machine.cores) cores, host `\(machine.host)`\n"
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
        let shapes = uniqueShapes(rows)
        for (r, k) in shapes {
            let shapeRows = rows.filter { $0.rows == r && $0.classes == k }
            guard let first = shapeRows.first else { continue }
            out += "## \(r) × \(k)\n\n"
            var bounds: [String] = []
            if let f32 = shapeRows.first(where: { $0.dataType == "f32" }) {
                bounds.append(String(format: "memcpy bound %.3f ns/element", f32.memcpyMedianNs / f32.elements))
            }
            if let half = shapeRows.first(where: { $0.dataType != "f32" }) {
                bounds.append(
                    String(format: "16-bit memcpy bound %.3f ns/element", half.memcpyMedianNs / half.elements))
            }
            bounds.append(String(format: "exp bound %.3f ns/element", first.expNsPerElement))
            out += bounds.joined(separator: "; ") + "\n\n"
            out += "| kernel | isa | dtype | threads | alignment | op | target | ns/element | GB/s | × memcpy "
                + "| × exp bound | speedup vs scalar | max loss err | max grad err |\n"
            out += "|---|---|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
            for row in shapeRows where row.op != "inplace" {
                out += "| \(row.kernel) | \(row.isa) | \(row.dataType) | \(row.threads) | \(row.alignment) | \(row.op) "
                    + "| \(row.targetKind) | "
                out += Spread(row.timing, over: row.elements).text("%.3f") + " | "
                out += String(
                    format: "%.2f | %.2f | %.2f | ", row.gigabytesPerSecond, row.memcpyRatio, row.expBoundRatio)
                out += (row.speedupOverScalar.map { String(format: "%.1f×", $0) } ?? "–") + " | "
                out += (row.maxLossError.map { String(format: "%.1e", $0) } ?? "–") + " | "
                out += (row.maxGradientError.map { String(format: "%.1e", $0) } ?? "–") + " |\n"
            }
            out += "\n" + halfAgainstFloat(shapeRows, defaultISA: defaultISA)
        }
        out += alignmentRatios(rows)
        out += targets(rows, defaultISA: defaultISA)
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
                && $0.threads == 1
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

    /// The performance issue's single-thread targets, checked against this report's medians and, with
    /// rounds, the range of its rounds (``Spread``, ``Verdict``).
    ///
    /// Each per-element target is also stated as the time it asks for ("needs", ns/element) beside
    /// the exp bound measured in the same run: where it asks for less than the exp bound, no kernel
    /// that calls NUMERICS.md's exp (SLEEF's `u10`) once per element can meet it on this machine,
    /// and the last column says so.
    static func targets(_ rows: [ReportRow], defaultISA: String) -> String {
        let alignment = targetAlignment(rows)
        let onlyLine = rows.allSatisfy { $0.alignment == alignment || $0.alignment == "-" } && alignment == "line"
        var out = "## Speed targets (f32 logits, class labels; single thread unless stated"
            + (onlyLine ? "" : "; \(alignment)-aligned buffers") + ")\n\n"
        out +=
            "\"needs\" is the time per element the target asks for; \"below exp bound\" marks a target that asks for "
        out += "less than SLEEF's `u10` exp alone takes per element here (the exp bound, same run), which NUMERICS.md "
        out += "requires once per element.\n\n"
        if rows.contains(where: { $0.timing.rounds > 1 }) {
            out += "Measured: the value from the medians, (min–max) over the rounds. A ratio to a bound divides "
                + "each round median by the bound; a ratio of two Xent cases (vs scalar, threads) is taken round by "
                + "round, the range being that of the per-round ratios; vector vs a peer, whose rounds ran apart "
                + "from Xent's, is the ratio of the medians with the range [peer's lowest round median / vector's "
                + "highest, peer's highest / vector's lowest]. Met: the whole range meets the target; no: none of "
                + "it does; within noise: the threshold lies inside the range.\n\n"
        }
        out += "| target | shape | measured | met | needs (ns/element) | exp bound (ns/element) | reachable |\n"
        out += "|---|---|---:|:---:|---:|---:|:---:|\n"
        func line(
            _ target: String, _ shape: String, _ measured: String, _ verdict: Verdict, needs: Double?, exp: Double
        ) -> String {
            let reach = needs.map { $0 >= exp ? "yes" : "below exp bound" } ?? "–"
            let needsText = needs.map { String(format: "%.3f", $0) } ?? "–"
            return "| \(target) | \(shape) | \(measured) | \(verdict.rawValue) | \(needsText) | "
                + String(format: "%.3f", exp) + " | \(reach) |\n"
        }
        // The targets are Float's, on one alignment.
        let rows = rows.filter { $0.dataType == "f32" && ($0.alignment == alignment || $0.alignment == "-") }
        let vector = rows.filter {
            $0.kernel == "vector" && $0.isa == defaultISA && $0.threads == 1 && $0.targetKind == "labels"
        }
        let peers = rows.filter {
            !["reference", "scalar", "vector"].contains($0.kernel) && $0.threads == 1 && $0.targetKind == "labels"
        }
        for v in vector where v.op == "fwdgrad" {
            let shape = "\(v.rows)×\(v.classes)"
            let exp = v.expNsPerElement
            if v.classes >= 1000 {
                let memcpy = Spread(v.timing, over: v.memcpyMedianNs)
                out += line(
                    "fwd+grad ≤ 1.6× memcpy (stretch 1.3×)", shape, memcpy.text("%.2f", suffix: "×"),
                    .atMost(1.6, memcpy), needs: 1.6 * v.memcpyMedianNs / v.elements, exp: exp)
            }
            if let scalar = rows.first(where: {
                $0.kernel == "scalar" && $0.op == v.op && $0.targetKind == v.targetKind && $0.rows == v.rows
                    && $0.classes == v.classes && $0.threads == v.threads
            }) {
                let speedup = Spread.pairedRatio(scalar.timing, v.timing)
                out += line(
                    "vector ≥ 10× scalar", shape, speedup.text("%.1f", suffix: "×"), .atLeast(10, speedup),
                    needs: scalar.nsPerElement / 10, exp: exp)
            }
            let samePeers = peers.filter { $0.rows == v.rows && $0.classes == v.classes && $0.op == "fwdgrad" }
            if let fastest = samePeers.min(by: { $0.timing.median < $1.timing.median }) {
                let ratio = Spread.unpairedRatio(fastest.timing, v.timing)
                out += line(
                    "vector ≥ 2× the fastest peer (\(fastest.kernel))", shape, ratio.text("%.2f", suffix: "×"),
                    .atLeast(2, ratio), needs: fastest.nsPerElement / 2, exp: exp)
            }
        }
        let threaded = rows.filter {
            $0.kernel == "vector" && $0.isa == defaultISA && $0.threads > 1 && $0.targetKind == "labels"
                && $0.op == "fwdgrad"
        }
        for t in threaded {
            if let one = vector.first(where: { $0.op == "fwdgrad" && $0.rows == t.rows && $0.classes == t.classes }) {
                let speedup = Spread.pairedRatio(one.timing, t.timing)
                out += line(
                    "\(t.threads) threads ≥ 1.7× one thread (fwd+grad)", "\(t.rows)×\(t.classes)",
                    speedup.text("%.2f", suffix: "×"), .atLeast(1.7, speedup), needs: nil, exp: t.expNsPerElement)
            }
        }
        for v in vector where v.op == "fwd" {
            // Stated against the exp bound itself: always reachable, so no "needs" to compare.
            let ratio = Spread(v.timing, over: v.expNsPerElement * v.elements)
            out += line(
                "fwd ≤ 1.5× exp bound", "\(v.rows)×\(v.classes)", ratio.text("%.2f", suffix: "×"),
                .atMost(1.5, ratio), needs: nil, exp: v.expNsPerElement)
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

