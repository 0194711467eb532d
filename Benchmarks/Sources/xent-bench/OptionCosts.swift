// The summary's options table: each case with a call option against the same plain call (--options).
import Foundation

extension ReportWriter {
    /// Per case measured with call options (on the targets' alignment): the plain call's time, then each
    /// option's time over it, taken round by round (a case's options run back to back, like its alignments).
    /// Empty unless the report has a case with an option.
    static func optionCosts(_ rows: [ReportRow]) -> String {
        let plain = CallOption.plain.rawValue
        let options = CallOption.allCases.map(\.rawValue)
            .filter { option in option != plain && rows.contains { $0.options == option } }
        guard !options.isEmpty else { return "" }
        let alignment = targetAlignment(rows)
        var out = "## What the options cost\n\n"
        out += "Each option's time over the plain call's in the same case (the same data, kernel, type, "
            + "operation, targets and threads; "
            + (rows.contains { $0.alignment != alignment && $0.alignment != "-" } ? "\(alignment)-aligned buffers; "
                : "")
            + "above 1 is slower)"
            + (rows.contains { $0.timing.rounds > 1 } ? ", (min–max) the range of the ratios round by round" : "")
            + ". The settings: "
            + CallOption.allCases.filter { options.contains($0.rawValue) }.map { "`\($0.rawValue)` \($0.setting)" }
                .joined(separator: ", ")
            + ".\n\n"
        out += "| shape | kernel | isa | dtype | op | target | threads | plain (ns/element) | "
            + options.map { "\($0) × plain" }.joined(separator: " | ") + " |\n"
        out += "|---|---|---|---|---|---|---:|---:|" + String(repeating: "---:|", count: options.count) + "\n"
        for base in rows where base.options == plain && base.alignment == alignment {
            let withOption = options.map { option in
                rows.first { $0.options == option && $0.alignment == base.alignment && $0.isSameCase(as: base) }
            }
            guard withOption.contains(where: { $0 != nil }) else { continue }
            out += "| \(base.rows)×\(base.classes) | \(base.kernel) | \(base.isa) | \(base.dataType) | \(base.op) "
                + "| \(base.targetKind) | \(base.threads) | " + Spread(base.timing, over: base.elements).text("%.3f")
                + " |"
            for row in withOption {
                let ratio = row.map { Spread.pairedRatio($0.timing, base.timing).text("%.2f", suffix: "×") }
                out += " " + (ratio ?? "–") + " |"
            }
            out += "\n"
        }
        return out + "\n"
    }
}
