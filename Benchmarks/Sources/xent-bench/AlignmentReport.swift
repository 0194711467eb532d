// The summary's alignment table: each vector case off the line against the same case on it (--alignment).
import Foundation

extension ReportWriter {
    /// Per shape, every vector case measured on a line and off it: its time over the line-aligned
    /// one's, taken round by round (the alignments of a case run back to back), and the issue's
    /// target for Swift arrays, array ≤ 1.03 × line (at most 3% slower; faster meets it).
    /// Empty unless the report has line rows and others.
    static func alignmentRatios(_ rows: [ReportRow]) -> String {
        let line = BufferAlignment.line.rawValue
        let others = [BufferAlignment.array, .odd].map(\.rawValue).filter { a in rows.contains { $0.alignment == a } }
        guard !others.isEmpty, rows.contains(where: { $0.alignment == line }) else { return "" }
        let withOptions = rows.contains { $0.options != CallOption.plain.rawValue }
        var out = "## Buffer alignment (vector kernel)\n\n"
        out += "Time over the same case with its buffers on a 64-byte line (below 1 is faster): `array` starts "
            + "them 48 bytes past a line, where a large Swift `[Float]`'s elements start here; `odd` one float "
            + "past a line. Target: array ≤ 1.03 × line"
            + (rows.contains { $0.timing.rounds > 1 }
                ? "; (min–max) over the rounds, the ratio taken round by round, \"within noise\" when 1.03 lies "
                    + "inside it" : "")
            + ".\n\n"
        out += "| shape | isa | dtype | op | target | threads | " + (withOptions ? "options | " : "")
            + others.map { "\($0) / line" }.joined(separator: " | ")
            + (others.contains(BufferAlignment.array.rawValue) ? " | array ≤ 1.03× line" : "") + " |\n"
        out += "|---|---|---|---|---|---:|" + (withOptions ? "---|" : "")
            + String(repeating: "---:|", count: others.count)
            + (others.contains(BufferAlignment.array.rawValue) ? ":---:|" : "") + "\n"
        for base in rows where base.kernel == "vector" && base.alignment == line {
            out += "| \(base.rows)×\(base.classes) | \(base.isa) | \(base.dataType) | \(base.op) | \(base.targetKind) "
                + "| \(base.threads) |" + (withOptions ? " \(base.options) |" : "")
            var verdict = "–"
            for other in others {
                guard let row = rows.first(where: {
                    $0.alignment == other && $0.options == base.options && $0.isSameCase(as: base)
                }) else {
                    out += " – |"
                    continue
                }
                let ratio = Spread.pairedRatio(row.timing, base.timing)
                let judged = other == BufferAlignment.array.rawValue
                out += " " + ratio.text("%.3f", thresholds: judged ? [1.03] : []) + " |"
                if judged { verdict = Verdict.atMost(1.03, ratio).rawValue }
            }
            out += others.contains(BufferAlignment.array.rawValue) ? " \(verdict) |\n" : "\n"
        }
        return out + "\n"
    }
}
