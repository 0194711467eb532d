// One batch: its shape, inputs, options and entry point, run through Xent's public API, and the
// hashes of its outputs' bits.
import Xent

enum Format: String { case f32, f16, bf16 }
enum LabelType: String { case i32, i64, int }
/// The entry point: the loss alone, loss and gradient into a second buffer, or in place.
enum Entry: String { case forward = "fwd", gradient = "grad", inPlace = "inplace" }
/// Which per-row outputs are asked for.
enum Statistics: String { case all = "stats", argmax = "argmax-only", none = "no-stats" }

/// A row made special after the batch is drawn.
enum Special: String {
    case nan            // one NaN logit: loss NaN, gradient row NaN
    case posInf         // one +inf logit: the same
    case allMasked      // every logit −inf: the same
    case targetMasked   // the label's logit −inf (soft: mass on a masked class): loss +inf
    case ignored        // label = the ignore index, with a NaN logit that must not matter
}

struct Case {
    var group: String
    var rows: Int
    var classes: Int
    var padding = 0
    var kind: LogitKind = .normal
    var soft = false
    var format: Format = .f32
    var labelType: LabelType = .i32
    var entry: Entry = .gradient
    var statistics: Statistics = .all
    var specials: [(row: Int, special: Special)] = []
    var seed: UInt64
    var ce = SoftmaxCrossEntropy(kernel: .vector, threads: 1)

    var stride: Int { classes + padding }

    /// Every choice that differs from the defaults, with no spaces (the file's fields are
    /// space-separated).
    var name: String {
        var parts = [group, "\(rows)x\(classes)", kind.rawValue, soft ? "soft" : "labels", format.rawValue,
                     "t\(ce.threads ?? 0)", "\(ce.reduction)"]
        if padding > 0 { parts.append("stride+\(padding)") }
        if labelType != .i32 { parts.append(labelType.rawValue) }
        if entry != .gradient { parts.append(entry.rawValue) }
        if statistics != .all { parts.append(statistics.rawValue) }
        if ce.ignoreIndex != -100 { parts.append("ignore=\(ce.ignoreIndex.map { "\($0)" } ?? "nil")") }
        if ce.labelSmoothing != 0 { parts.append("alpha=\(ce.labelSmoothing)") }
        if ce.classWeights != nil { parts.append("weights") }
        if ce.zLossScale != 0 { parts.append("zloss=\(ce.zLossScale)") }
        if ce.logitScale != 1 { parts.append("scale=\(ce.logitScale)") }
        if let c = ce.softcap { parts.append("softcap=\(c)") }
        if ce.gradientScale != 1 { parts.append("gscale=\(ce.gradientScale)") }
        if let d = ce.divisor { parts.append("divisor=\(d)") }
        for (row, special) in specials { parts.append("row\(row)=\(special.rawValue)") }
        parts.append("seed\(seed)")
        return parts.joined(separator: "/")
    }

    /// The hashes of the outputs' bits: the loss itself, then FNV-1a over the row losses, the
    /// row log-sum-exps, the row argmaxes and the whole gradient buffer (padding included).
    /// Every NaN is hashed as one pattern: NUMERICS.md promises where NaN appears, not its payload.
    struct Result: Equatable {
        var loss: UInt32
        var rowLosses = FNV1a(), logSumExp = FNV1a(), argmax = FNV1a(), gradient = FNV1a()

        var fields: [(String, String)] {
            [("loss", hex(UInt64(loss), digits: 8)), ("rows", hex(rowLosses.value)), ("lse", hex(logSumExp.value)),
             ("argmax", hex(argmax.value)), ("grad", hex(gradient.value))]
        }
    }

    func run() throws(XentError) -> Result {
        // Soft targets' row count is the element count over the stride; labels' last row may stop
        // at its last class.
        let count = soft ? rows * stride : (rows - 1) * stride + classes
        var (logits, labels) = kind.batch(rows: rows, classes: classes, stride: stride, count: count, seed: seed)
        var rng = SplitMix64(seed: seed ^ 0xC0FFEE)
        for (row, special) in specials {
            let base = row * stride
            let j = special == .targetMasked ? Int(labels[row]) : rng.below(classes)
            switch special {
            case .nan: logits[base + j] = .nan
            case .posInf: logits[base + j] = .infinity
            case .allMasked: for k in 0..<classes { logits[base + k] = -.infinity }
            case .targetMasked: logits[base + j] = -.infinity
            case .ignored:
                labels[row] = ce.ignoreIndex!
                logits[base + j] = .nan
            }
        }
        var targets = softTargets(for: logits, rows: rows, classes: classes, stride: stride, seed: seed)
        for (row, special) in specials where special == .targetMasked {
            targets[row * stride + Int(labels[row])] = 0.5   // mass on the masked class
        }
        switch format {
        case .f32: return try run(logits: logits, targets: targets, labels: labels)
        case .f16:
            return try run(logits: logits.map { Float16($0) }, targets: targets.map { Float16($0) }, labels: labels)
        case .bf16:
            return try run(logits: logits.map { BFloat16($0) }, targets: targets.map { BFloat16($0) }, labels: labels)
        }
    }

    private func run<Element: LogitElement>(
        logits: [Element], targets: [Element], labels: [Int32]
    ) throws(XentError) -> Result {
        switch labelType {
        case .i32: return try run(logits, targets, labels)
        case .i64: return try run(logits, targets, labels.map { Int64($0) })
        case .int: return try run(logits, targets, labels.map { Int($0) })
        }
    }

    private func run<Element: LogitElement, Label: ClassLabel>(
        _ logits: [Element], _ targets: [Element], _ labels: [Label]
    ) throws(XentError) -> Result {
        let rowStatistics: RowStatistics? = switch statistics {
        case .all: RowStatistics(.all)
        case .argmax: RowStatistics([.argmax])
        case .none: nil
        }
        let rowStride = padding > 0 ? stride : nil
        // The gradient buffer starts as a sentinel, so the padding (never written) is hashed too.
        var gradient = [Element](repeating: logits[logits.count - 1], count: logits.count)
        var inPlace = logits
        let loss: Float
        switch (entry, soft) {
        case (.forward, false):
            loss = try ce.loss(logits: logits, labels: labels, classes: classes, rowStride: rowStride,
                               rowStatistics: rowStatistics)
        case (.forward, true):
            loss = try ce.loss(logits: logits, targets: targets, classes: classes, rowStride: rowStride,
                               rowStatistics: rowStatistics)
        case (.gradient, false):
            loss = try ce.lossAndGradient(logits: logits, labels: labels, classes: classes, rowStride: rowStride,
                                          gradient: &gradient, rowStatistics: rowStatistics)
        case (.gradient, true):
            loss = try ce.lossAndGradient(logits: logits, targets: targets, classes: classes, rowStride: rowStride,
                                          gradient: &gradient, rowStatistics: rowStatistics)
        case (.inPlace, false):
            loss = try ce.lossAndGradient(inPlace: &inPlace, labels: labels, classes: classes, rowStride: rowStride,
                                          rowStatistics: rowStatistics)
        case (.inPlace, true):
            loss = try ce.lossAndGradient(inPlace: &inPlace, targets: targets, classes: classes,
                                          rowStride: rowStride, rowStatistics: rowStatistics)
        }
        var result = Result(loss: canonical(loss))
        if let rowStatistics {
            for x in rowStatistics.losses { result.rowLosses.add(canonical(x)) }
            for x in rowStatistics.logSumExp { result.logSumExp.add(canonical(x)) }
            for i in rowStatistics.argmax { result.argmax.add(UInt32(bitPattern: i)) }
        }
        switch entry {
        case .forward: break
        case .gradient: result.gradient.add(bitsOf: gradient, format: format)
        case .inPlace: result.gradient.add(bitsOf: inPlace, format: format)
        }
        return result
    }
}

/// A Float's bits, any NaN as the one quiet NaN.
func canonical(_ x: Float) -> UInt32 { x.isNaN ? 0x7fc0_0000 : x.bitPattern }

/// FNV-1a, 64 bits, over the little-endian bytes of each value added.
struct FNV1a: Equatable {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ x: UInt32) {
        for shift in [0, 8, 16, 24] as [UInt32] { byte(UInt8(truncatingIfNeeded: x >> shift)) }
    }

    mutating func add(_ x: UInt16) {
        byte(UInt8(truncatingIfNeeded: x))
        byte(UInt8(truncatingIfNeeded: x >> 8))
    }

    private mutating func byte(_ b: UInt8) {
        value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3
    }

    /// Every element's storage bits, NaN canonical (binary16 0x7e00, bfloat16 0x7fc0).
    mutating func add<Element: LogitElement>(bitsOf buffer: [Element], format: Format) {
        buffer.withUnsafeBytes { raw in
            switch format {
            case .f32:
                for x in raw.bindMemory(to: Float.self) { add(canonical(x)) }
            case .f16:
                for b in raw.bindMemory(to: UInt16.self) {
                    add(b & 0x7c00 == 0x7c00 && b & 0x03ff != 0 ? UInt16(0x7e00) : b)
                }
            case .bf16:
                for b in raw.bindMemory(to: UInt16.self) {
                    add(b & 0x7f80 == 0x7f80 && b & 0x007f != 0 ? UInt16(0x7fc0) : b)
                }
            }
        }
    }
}

func hex(_ x: UInt64, digits: Int = 16) -> String {
    let s = String(x, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}
