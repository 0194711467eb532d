// The summary's speed targets (issue 15): one table per target — shape, measured ratio, threshold, verdict.
import Foundation

extension ReportWriter {
    /// Issue 15's targets, checked against this report's medians and, with rounds, the range of its
    /// rounds (``Spread``, ``Verdict``), on the alignment of ``targetAlignment(_:)``. Each target is a
    /// section with a table; a target the run has no cases for is left out.
    static func targets(_ rows: [ReportRow], defaultISA: String) -> String {
        let alignment = targetAlignment(rows)
        let others = rows.contains { $0.alignment != alignment && $0.alignment != "-" }
        let targets = SpeedTargets(
            rows: rows.filter { $0.alignment == alignment || $0.alignment == "-" }, defaultISA: defaultISA)
        let sections = [
            targets.fwdgradAgainstRoofline(), targets.forwardAgainstExp(), targets.sixteenBitAgainstFloat(),
            targets.threadsAgainstOne(), targets.againstFastestPeer(), targets.againstScalar(),
        ].filter { !$0.isEmpty }
        guard !sections.isEmpty else { return "" }
        var out = "## Speed targets (issue 15)\n\n"
        out += "The vector kernel on \(defaultISA), f32 logits, class labels, one thread"
            + (others || alignment != BufferAlignment.line.rawValue ? ", \(alignment)-aligned buffers" : "")
            + ", unless a table says otherwise; the issue states the targets on the suite's default shapes, "
            + "this run checks its own. A case's roofline is the slower of its two bounds in this run, "
            + "max(memcpy bound, exp bound × elements); \"memory\" or \"exp\" says which.\n\n"
        if rows.contains(where: { $0.timing.rounds > 1 }) {
            out += "Measured: the value from the medians, (min–max) over the rounds. A ratio to a bound divides "
                + "each round median by the bound; a ratio of two Xent cases (16-bit vs Float, threads, vs "
                + "scalar) is taken round by round, the range being that of the per-round ratios; vector vs a "
                + "peer, whose rounds ran apart from Xent's, is the ratio of the medians with the range [peer's "
                + "lowest round median / vector's highest, peer's highest / vector's lowest]. Verdict: yes when "
                + "the whole range meets the threshold, no when none of it does, within noise when the threshold "
                + "lies inside it; n/a where the issue asks for the ratio only.\n\n"
        } else {
            out += "Verdict: yes or no by the median; n/a where the issue asks for the ratio only.\n\n"
        }
        out += "A figure that two decimals would print as its threshold's digits, without equalling it, is "
            + "printed with as many more as tell them apart.\n\n"
        return out + sections.joined()
    }
}

/// The cases the targets compare, found by what they are, and one table per target.
private struct SpeedTargets {
    let rows: [ReportRow]
    let defaultISA: String
    let shapes: [(Int, Int)]

    init(rows: [ReportRow], defaultISA: String) {
        self.rows = rows
        self.defaultISA = defaultISA
        shapes = ReportWriter.uniqueShapes(rows)
    }

    /// The vector kernel on the default ISA in one case.
    func vector(
        _ shape: (Int, Int), _ op: String, dataType: String = "f32", target: String = "labels", threads: Int = 1
    ) -> ReportRow? {
        rows.first {
            $0.kernel == "vector" && $0.isa == defaultISA && $0.rows == shape.0 && $0.classes == shape.1
                && $0.op == op && $0.dataType == dataType && $0.targetKind == target && $0.threads == threads
        }
    }

    /// 1.35 → "≤ 1.35×".
    static func atMost(_ threshold: Double, _ format: String = "%g") -> String {
        "≤ " + String(format: format, threshold) + "×"
    }
    static func atLeast(_ threshold: Double) -> String { "≥ " + String(format: "%g", threshold) + "×" }

    /// A section: its heading, what it checks, and its table — text in the first `textColumns`
    /// columns, numbers right-aligned, verdicts (the columns headed "verdict" or "stretch …")
    /// centred — then `footnote`, what columns beside the verdict mean; empty without rows.
    static func section(
        _ title: String, _ note: String, _ header: [String], textColumns: Int, _ lines: [[String]],
        footnote: String = ""
    ) -> String {
        guard !lines.isEmpty else { return "" }
        var out = "### \(title)\n\n" + (note.isEmpty ? "" : note + "\n\n")
        out += "| " + header.joined(separator: " | ") + " |\n|"
        out += header.enumerated().map { index, name in
            if index < textColumns { return "---|" }
            return name == "verdict" || name.hasPrefix("stretch") ? ":---:|" : "---:|"
        }.joined() + "\n"
        for line in lines { out += "| " + line.joined(separator: " | ") + " |\n" }
        return out + "\n" + (footnote.isEmpty ? "" : footnote + "\n\n")
    }

    static func shapeName(_ shape: (Int, Int)) -> String { "\(shape.0)×\(shape.1)" }

    /// Target 1: forward+gradient ≤ 1.35× the roofline on every shape (stretch ≤ 1.2×).
    func fwdgradAgainstRoofline() -> String {
        let (threshold, stretch) = (1.35, 1.2)
        let lines = shapes.compactMap { shape -> [String]? in
            guard let v = vector(shape, "fwdgrad") else { return nil }
            let ratio = Spread(v.timing, over: v.rooflineNs)
            return [
                Self.shapeName(shape),
                String(format: "%.3f (%@)", v.rooflineNs / v.elements, v.isMemoryBound ? "memory" : "exp"),
                ratio.text("%.2f", suffix: "×", thresholds: [threshold, stretch]), Self.atMost(threshold),
                Verdict.atMost(threshold, ratio).rawValue,
                Verdict.atMost(stretch, ratio).rawValue,
            ]
        }
        return Self.section(
            "fwd+grad ≤ 1.35× the roofline (stretch ≤ 1.2×)", "",
            ["shape", "roofline (ns/element)", "× roofline", "threshold", "verdict", "stretch ≤ 1.2×"],
            textColumns: 2, lines)
    }

    /// Target 1, forward only: ≤ 1.25× the exp bound (a forward call writes no gradient, so its
    /// bound is the exp alone).
    func forwardAgainstExp() -> String {
        let threshold = 1.25
        let lines = shapes.compactMap { shape -> [String]? in
            guard let v = vector(shape, "fwd") else { return nil }
            let ratio = Spread(v.timing, over: v.expNsPerElement * v.elements)
            return [
                Self.shapeName(shape), String(format: "%.3f", v.expNsPerElement),
                ratio.text("%.2f", suffix: "×", thresholds: [threshold]),
                Self.atMost(threshold), Verdict.atMost(threshold, ratio).rawValue,
            ]
        }
        return Self.section(
            "fwd ≤ 1.25× the exp bound", "",
            ["shape", "exp bound (ns/element)", "× exp bound", "threshold", "verdict"], textColumns: 1, lines)
    }

    /// Target 2: 16-bit logits and gradients never slower than Float, and ≤ 0.8× Float's time where
    /// Float is memory-bound — per op and target kind the report has, each 16-bit type beside the other.
    func sixteenBitAgainstFloat() -> String {
        let targetKinds = rows.map(\.targetKind).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let dataTypes = ["f16", "bf16"].filter { t in rows.contains { $0.dataType == t } }
        var lines: [[String]] = []
        for shape in shapes {
            for target in targetKinds {
                for op in ["fwd", "fwdgrad"] {
                    guard let float = vector(shape, op, target: target) else { continue }
                    let threshold = float.isMemoryBound ? 0.8 : 1.0
                    var line = [
                        Self.shapeName(shape), float.isMemoryBound ? "memory" : "exp", op, target,
                        Self.atMost(threshold, "%.1f"),
                    ]
                    var measured = false
                    for dataType in dataTypes {
                        guard let half = vector(shape, op, dataType: dataType, target: target) else {
                            line += ["–", "–"]
                            continue
                        }
                        let ratio = Spread.pairedRatio(half.timing, float.timing)
                        measured = true
                        line += [
                            ratio.text("%.2f", suffix: "×", thresholds: [threshold]),
                            Verdict.atMost(threshold, ratio).rawValue,
                        ]
                    }
                    if measured { lines.append(line) }
                }
            }
        }
        return Self.section(
            "16-bit ≤ 1.0× Float's time, ≤ 0.8× where Float is memory-bound",
            "Each 16-bit case's time over the same case in f32 (below 1 is faster). \"Float bound\": the f32 "
                + "roofline's larger bound, \"memory\" where the shape's f32 memcpy bound exceeds its exp bound "
                + "× elements.",
            ["shape", "Float bound", "op", "target", "threshold"]
                + dataTypes.flatMap { ["\($0) × f32 time", "verdict"] }, textColumns: 4, lines)
    }

    /// Target 3: two threads ≥ 1.8× one thread on forward+gradient; other thread counts are
    /// reported without a target. Beside the verdict, what the memory system allowed: the threaded
    /// memcpy bound's speedup over the one-thread bound, and the threaded case over its own roofline
    /// (where one thread is near the memory bound, 1.8× needs memory that scales).
    func threadsAgainstOne() -> String {
        let threshold = 1.8
        let counts = Set(rows.filter { $0.kernel == "vector" && $0.threads > 1 }.map(\.threads)).sorted()
        var lines: [[String]] = []
        for shape in shapes {
            guard let one = vector(shape, "fwdgrad") else { continue }
            for count in counts {
                guard let many = vector(shape, "fwdgrad", threads: count) else { continue }
                let speedup = Spread.pairedRatio(one.timing, many.timing)
                let memcpySpeedup = many.memcpyThreads.flatMap { bound in
                    bound.threads == count ? one.memcpyMedianNs / bound.medianNs : nil
                }
                lines.append([
                    Self.shapeName(shape), String(count),
                    speedup.text("%.2f", suffix: "×", thresholds: count == 2 ? [threshold] : []),
                    memcpySpeedup.map { String(format: "%.2f×", $0) } ?? "–",
                    many.rooflineThreadsNs.map { Spread(many.timing, over: $0).text("%.2f", suffix: "×") } ?? "–",
                    count == 2 ? Self.atLeast(threshold) : "–",
                    (count == 2 ? Verdict.atLeast(threshold, speedup) : .notApplicable).rawValue,
                ])
            }
        }
        return Self.section(
            "Two threads ≥ 1.8× one thread (fwd+grad)", "One thread's time over the threaded case's.",
            ["shape", "threads", "speedup", "memcpy speedup", "× threaded roofline", "threshold", "verdict"],
            textColumns: 1, lines,
            footnote: "\"memcpy speedup\" is the one-thread memcpy bound over the same copy split in contiguous "
                + "pieces over the case's threads (what the memory system gave them in this run, the verdict's "
                + "ceiling where one thread is near the memory bound), and \"× threaded roofline\" the threaded "
                + "case's time over max(that threaded memcpy bound, exp bound × elements / threads); – where the "
                + "run measured no threaded memcpy bound on that count.")
    }

    /// Target 4: ≥ 2× the fastest peer where that peer takes ≥ 2.5× the roofline; where it is
    /// faster, the ratio only.
    func againstFastestPeer() -> String {
        let (threshold, slowPeer) = (2.0, 2.5)
        let peers = rows.filter {
            !["reference", "scalar", "vector"].contains($0.kernel) && $0.threads == 1 && $0.targetKind == "labels"
                && $0.op == "fwdgrad"
        }
        let lines = shapes.compactMap { shape -> [String]? in
            guard let v = vector(shape, "fwdgrad"),
                  let fastest = peers.filter({ $0.rows == shape.0 && $0.classes == shape.1 })
                      .min(by: { $0.timing.median < $1.timing.median })
            else { return nil }
            let peerRoofline = Spread(fastest.timing, over: v.rooflineNs)
            let ratio = Spread.unpairedRatio(fastest.timing, v.timing)
            let applies = peerRoofline.value >= slowPeer
            return [
                Self.shapeName(shape), fastest.kernel, peerRoofline.text("%.2f", suffix: "×"),
                ratio.text("%.2f", suffix: "×", thresholds: applies ? [threshold] : []),
                applies ? Self.atLeast(threshold) : "–",
                (applies ? Verdict.atLeast(threshold, ratio) : .notApplicable).rawValue,
            ]
        }
        return Self.section(
            "≥ 2× the fastest peer where it takes ≥ 2.5× the roofline (fwd+grad)",
            "The fastest peer: the lowest median of the peers (one thread each) on the shape; its time over the "
                + "roofline decides, by the median, whether the target applies (elsewhere the ratio only).",
            ["shape", "fastest peer", "peer × roofline", "speedup", "threshold", "verdict"], textColumns: 2, lines)
    }

    /// Issue 15, item 5: ≥ 10× the scalar kernel is a ratio to report, not a target.
    func againstScalar() -> String {
        let lines = shapes.compactMap { shape -> [String]? in
            guard let v = vector(shape, "fwdgrad"),
                  let scalar = rows.first(where: {
                      $0.kernel == "scalar" && $0.dataType == "f32" && $0.op == "fwdgrad" && $0.targetKind == "labels"
                          && $0.rows == shape.0 && $0.classes == shape.1 && $0.threads == 1
                  })
            else { return nil }
            return [Self.shapeName(shape), Spread.pairedRatio(scalar.timing, v.timing).text("%.1f", suffix: "×")]
        }
        return Self.section(
            "Reported: vector vs scalar (fwd+grad)", "The issue asks for ≥ 10× as a ratio to report, not a target.",
            ["shape", "speedup"], textColumns: 1, lines)
    }
}
