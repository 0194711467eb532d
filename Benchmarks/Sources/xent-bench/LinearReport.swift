// The linear-head report's extra columns and its Markdown summary.
import Foundation

/// A linear-head row's columns beyond the softmax schema (Reports/README.md, "Linear-head reports").
struct LinearColumns {
    /// d, the hidden size (`rows` is N, `classes` V).
    var hidden: Int
    /// `random` or `peaked` (``LinearData``).
    var data: String
    /// The head's nominal flops for the shape and op: `2·N·d·V` (fwd) or `6·N·d·V` (fwdgrad), the
    /// same for every row of a shape and op, so `gflop_per_s` compares times.
    var flops: Double
    /// Gradient filtering rows: the share of tiles skipped.
    var filterSkipped: Double? = nil
    /// Gradient filtering rows: max |Δ∂H| / max |∂H| or max |Δ∂W| / max |∂W| against the unfiltered
    /// head on the same data, whichever is larger.
    var filterError: Double? = nil

    static let columns = ["hidden", "data", "flops", "gflop_per_s", "filter_skipped", "filter_error"]

    static func fields(_ row: ReportRow) -> [String] {
        guard let l = row.linear else { return columns.map { _ in "" } }
        return [
            String(l.hidden), l.data, String(format: "%.6g", l.flops),
            String(format: "%.4g", l.flops / row.timing.median),
            l.filterSkipped.map { String(format: "%.4f", $0) } ?? "",
            l.filterError.map { String(format: "%.3e", $0) } ?? "",
        ]
    }
}

extension ReportWriter {
    /// Per shape, every linear case with its ratio to the sgemm+xent roofline; then the linear
    /// head's targets, each marked met, missed or (with rounds) within noise.
    static func linearMarkdown(_ rows: [ReportRow], machine: MachineInfo, command: String, blas: String) -> String {
        var out = "# Xent linear-head report\n\n"
        out += machine.summaryLine
        out += "- Build: Swift \(machine.swiftVersion), \(machine.buildConfiguration); Xent at `\(machine.gitSHA)`; "
            + "BLAS: \(blas)\n"
        if blasFellBack {
            out += "- **Warning**: OpenBLAS ran its generic Prescott (SSE3) kernels (it does not know this CPU); "
                + "every sgemm here, the head's included, is several times slower than with OPENBLAS_CORETYPE set.\n"
        }
        out += "- Command: `\(command)`\n"
        let rounds = rows.map(\.timing.rounds).max() ?? 1
        if rounds > 1 {
            out += "- \(rounds) rounds, interleaved in time over each shape's cases (every case of the shape once, "
                + "then again, …; PyTorch's rounds after Xent's, in their own process): a time is the median of the "
                + "case's round medians, (min–max) the range of its round medians; `sgemm+xent` is summed round by "
                + "round; a bound is the lowest of its measurements. \"× roofline\" and the targets' ratios give "
                + "their range over the rounds, and a target whose threshold lies in that range is \"within noise\".\n"
        }
        out += "- Medians of repeated runs in one process, "
            + (rounds > 1 ? "over the rounds as above" : "(min–max) beside them")
            + ". `sgemm+xent` is the sum of the "
            + "`sgemm` row (the three products alone on the whole shapes; fwd: the logits only) and the `xent` row "
            + "(Xent alone on the whole N × V logits, in place for fwdgrad)"
            + (rounds > 1 ? ", taken in every round: its statistics are those of the round sums" : "")
            + "; \"× roofline\" is a row's median over "
            + "that sum's at the same threads and op. GFLOP/s counts the head's nominal flops (2·N·d·V fwd, "
            + "6·N·d·V fwdgrad) for every row. Peak RSS Δ: one call's growth in a fresh process above the inputs "
            + "and outputs (H, W, b, labels; ∂H, ∂W, ∂b). Errors: 8 rows' losses and ∂H × N against Double; "
            + "`xent-linear-filter` rows: filtering at 2⁻¹², the share of tiles skipped and the largest change "
            + "of ∂H or ∂W relative to its largest entry.\n\n"
        for shape in linearShapes(rows) {
            let shapeRows = rows.filter { matches($0, shape) }
            guard let first = shapeRows.first else { continue }
            out += "## N × d × V = \(shape.rows) × \(shape.hidden) × \(shape.classes)\n\n"
            out += String(format: "memcpy of the logits %.3f ns/element; exp bound %.3f ns/element\n\n",
                          first.memcpyMedianNs / first.elements, first.expNsPerElement)
            let timeHeader = rounds > 1 ? "median ms (rounds)" : "median ms (min–max)"
            out += "| case | data | threads | op | \(timeHeader) | GFLOP/s | × roofline | peak RSS Δ MiB "
                + "| skipped | filter err | max loss err | max ∂H×N err |\n"
            out += "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
            for row in shapeRows {
                let l = row.linear!
                let roofline = shapeRows.first {
                    $0.kernel == "sgemm+xent" && $0.op == row.op && $0.threads == row.threads
                }
                out += "| \(row.kernel) | \(l.data) | \(row.threads) | \(row.op) | "
                let (low, high) = rounds > 1
                    ? (row.timing.lowestRoundMedian, row.timing.highestRoundMedian) : (row.timing.min, row.timing.max)
                out += String(format: "%.2f (%.2f–%.2f) | %.1f | ", row.timing.median / 1e6, low / 1e6, high / 1e6,
                              l.flops / row.timing.median)
                out += (roofline.map { linearRatio(row, over: $0).text("%.2f") } ?? "–") + " | "
                out += (row.peakRSSDeltaBytes.map { String(format: "%.1f", Double($0) / 1048576) } ?? "–") + " | "
                out += (l.filterSkipped.map { String(format: "%.1f%%", 100 * $0) } ?? "–") + " | "
                out += (l.filterError.map { String(format: "%.1e", $0) } ?? "–") + " | "
                out += (row.maxLossError.map { String(format: "%.1e", $0) } ?? "–") + " | "
                out += (row.maxGradientError.map { String(format: "%.1e", $0) } ?? "–") + " |\n"
            }
            out += "\n"
        }
        out += linearTargets(rows)
        return out
    }

    /// The linear head's targets: ≤ 1.10 × the sgemm+xent roofline; faster than every PyTorch path
    /// (eager, linear_cross_entropy, chunked; `mm` is PyTorch's roofline, not a path); peak memory
    /// ≤ 1/8 of eager's; filtered on peaked logits ≥ 2× faster than eager. With rounds, a time
    /// target's verdict is read from its range over the rounds (``Verdict``), as the softmax summary's.
    static func linearTargets(_ rows: [ReportRow]) -> String {
        var out = "## Targets\n\n"
        out += "| target | shape | threads | op | measured | met |\n|---|---|---:|---|---:|:---:|\n"
        var met = 0, noise = 0, total = 0
        func line(_ target: String, _ row: ReportRow, _ measured: String, _ verdict: Verdict) {
            total += 1
            if verdict == .met { met += 1 }
            if verdict == .withinNoise { noise += 1 }
            let text = verdict == .met ? "met" : verdict == .withinNoise ? "within noise" : "**missed**"
            out += "| \(target) | \(row.rows)×\(row.linear!.hidden)×\(row.classes) | \(row.threads) | \(row.op) | "
                + "\(measured) | \(text) |\n"
        }
        let heads = rows.filter {
            $0.kernel == LinearCase.head.rawValue && $0.linear?.data == LinearData.random.rawValue
        }
        func same(_ a: ReportRow, _ b: ReportRow) -> Bool {
            a.rows == b.rows && a.classes == b.classes && a.linear?.hidden == b.linear?.hidden && a.op == b.op
                && a.threads == b.threads
        }
        let torch = rows.filter { $0.kernel.hasPrefix("torch ") && !$0.kernel.hasSuffix(" mm") }
        for head in heads {
            if let roofline = rows.first(where: { $0.kernel == "sgemm+xent" && same($0, head) }) {
                let ratio = linearRatio(head, over: roofline)
                line("xent-linear ≤ 1.10 × (sgemm+xent)", head, ratio.text("%.2f", suffix: "×", thresholds: [1.10]),
                     .atMost(1.10, ratio))
            }
            for peer in torch where same(peer, head) {
                let speedup = Spread.unpairedRatio(peer.timing, head.timing)
                line("xent-linear faster than \(peer.kernel) (its time / ours > 1)", head,
                     speedup.text("%.2f", suffix: "×", thresholds: [1]), .above(1, speedup))
            }
            if let eager = torch.first(where: { $0.kernel.hasSuffix(" eager") && same($0, head) }),
               let ours = head.peakRSSDeltaBytes, let theirs = eager.peakRSSDeltaBytes, theirs > 0 {
                let ratio = Double(ours) / Double(theirs)
                line("peak memory ≤ 1/8 of PyTorch eager", head,
                     String(format: "1/%.1f (%.1f vs %.1f MiB)", 1 / ratio, Double(ours) / 1048576,
                            Double(theirs) / 1048576), ratio <= 0.125 ? .met : .missed)
            }
        }
        for filtered in rows where filtered.kernel == LinearCase.filtered.rawValue
            && filtered.linear?.data == LinearData.peaked.rawValue {
            if let eager = torch.first(where: { $0.kernel.hasSuffix(" eager") && same($0, filtered) }) {
                let speedup = Spread.unpairedRatio(eager.timing, filtered.timing)
                line("xent-linear-filter on peaked logits ≥ 2× faster than PyTorch eager", filtered,
                     speedup.text("%.2f", suffix: "×", thresholds: [2]), .atLeast(2, speedup))
            }
        }
        if total == 0 { return out + "(no targets: run with --peers-python for the PyTorch ones)\n" }
        return out + "\n\(met) of \(total) met" + (noise > 0 ? ", \(noise) within noise" : "") + ".\n"
    }

    /// A linear row over the same shape's `sgemm+xent` roofline: an Xent row round by round (every
    /// round times both), a PyTorch row with the unpaired range (its rounds ran afterwards, in its own
    /// process).
    static func linearRatio(_ row: ReportRow, over roofline: ReportRow) -> Spread {
        row.kernel.hasPrefix("torch ")
            ? Spread.unpairedRatio(row.timing, roofline.timing) : Spread.pairedRatio(row.timing, roofline.timing)
    }

    static func matches(_ row: ReportRow, _ shape: LinearShape) -> Bool {
        row.rows == shape.rows && row.classes == shape.classes && row.linear?.hidden == shape.hidden
    }

    static func linearShapes(_ rows: [ReportRow]) -> [LinearShape] {
        var shapes: [LinearShape] = []
        for row in rows {
            guard let l = row.linear else { continue }
            let shape = LinearShape(rows: row.rows, hidden: l.hidden, classes: row.classes)
            if !shapes.contains(shape) { shapes.append(shape) }
        }
        return shapes
    }
}
