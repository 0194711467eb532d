// Decoding libFuzzer's bytes into one call: shape, options, labels or soft targets, logits.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Xent

/// Reads the input front to back; past its end every read is 0, so any byte string decodes.
struct ByteReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { index >= bytes.count }

    mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func u16() -> Int { Int(byte()) | Int(byte()) << 8 }

    mutating func u32() -> UInt32 { (0..<4).reduce(0) { bits, i in bits | UInt32(byte()) << (8 * i) } }

    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(byte()) % choices.count] }
}

/// SplitMix64: the bulk of a long row comes from a seed in the input, not from its bytes.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func normal(_ sigma: Double) -> Float {
        let u = Double.random(in: .ulpOfOne..<1, using: &self), v = Double.random(in: 0..<1, using: &self)
        return Float(sigma * (-2 * log(u)).squareRoot() * cos(2 * .pi * v))
    }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
}

/// Which entry point a case calls.
enum Call: String { case gradient, inPlace, lossOnly }

/// A deliberate misuse of the buffers, for the error paths (none, most of the time).
enum Misuse: String, CaseIterable {
    case none, shortGradient, rowLossesCount, overlap, targetsCount, logitsCount, rowArgmaxCount, omitRowLosses
}

/// One fuzzed call: everything but the kernel and the ISA, which the harness varies.
struct FuzzCase: CustomStringConvertible {
    var configuration = SoftmaxCrossEntropy()
    var rows = 1
    var classes = 1
    var rowStride: Int? = nil
    /// Class labels (read as Int32 or Int64); nil for soft targets.
    var labels: [Int64]? = nil
    var wideLabels = false
    var targets: [Float] = []
    var logits: [Float] = []
    var call = Call.gradient
    var wantsRowLosses = false
    var wantsLogSumExp = false
    var wantsArgmax = false
    var misuse = Misuse.none
    /// Soft targets with NaN, inf or negative entries: outside the contract, so only crashes,
    /// error agreement and untouched buffers are checked.
    var hostileTargets = false

    /// Elements from one row's start to the next.
    var stride: Int { rowStride ?? classes }

    /// Special logits the input may plant anywhere (code < count), else 4 raw bytes.
    static let specials: [Float] = [
        .nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e30, -1e30,
        .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, 88.72284, 88.7229, -87.33655,
        -103.97208, 3e4, -3e4, 1e10, -1e10, 40, -40, 1, -1, Float(bitPattern: 0x7FC0_0001), -.nan, 1e-30, 89, -89,
    ]

    init(decoding bytes: UnsafeBufferPointer<UInt8>) {
        var r = ByteReader(bytes)
        let flags = r.byte(), flags2 = r.byte()
        let soft = flags & 1 != 0
        call = [.gradient, .gradient, .inPlace, .lossOnly][Int(flags >> 1) & 3]
        wantsRowLosses = flags & 8 != 0
        wantsLogSumExp = flags & 16 != 0
        wantsArgmax = flags & 32 != 0
        wideLabels = flags & 64 != 0
        let long = flags & 128 != 0
        misuse = flags2 % 32 < 25 ? .none : Misuse.allCases[1 + Int(flags2 % 32 - 25)]
        hostileTargets = soft && flags2 >> 5 == 7

        // Shape: up to 8 short rows (tails of every vector width), or 1–2 rows that cross the
        // vector kernel's 2048-float chunks.
        if long {
            rows = 1 + Int(r.byte() % 2)
            classes = 2040 + r.u16() % 6200
        } else {
            rows = 1 + Int(r.byte() % 8)
            let c = r.byte()
            classes = c < 192 ? 1 + Int(c % 48) : 1 + r.u16() % 300
        }
        let s = r.byte()
        switch s {
        case 0..<160: rowStride = nil
        case 160..<250: rowStride = classes + Int(s % 19)
        case 250: rowStride = classes - 1
        default: rowStride = classes
        }
        let extra = rowStride != nil && !soft ? Int(r.byte() % 4) : 0

        // Options: mostly valid values, sometimes each option's invalid ones.
        var ce = SoftmaxCrossEntropy()
        ce.reduction = r.pick([.mean, .mean, .sum, .none])
        ce.ignoreIndex = r.pick([-100, -100, nil, 0, -1, 2])
        ce.labelSmoothing = r.pick([0, 0, 0, 0.1, 1, 0.5, 1e-7, 0.999, -0.1, 1.5, .nan])
        let weightKind = r.byte()
        ce.zLossScale = r.pick([0, 0, 0, 1e-4, 1e-2, 1, 0x1p-140, -1, .infinity, .nan])
        ce.gradientScale = r.pick([1, 1, 1, 0.5, -2, 0, 1e-3, 3e4, -.infinity, .nan])
        ce.divisor = r.pick([nil, nil, nil, 1, 7.5, 1e-3, 4096, 0, -1, .infinity, .nan])
        ce.threads = r.pick([nil, nil, 1, 1, 2, 3, 8, 0, -1])
        ce.logitScale = r.pick([1, 1, 1, 1, 0.5, 2, 1e-3, 1e9, 3, 0, -1, .infinity, .nan])
        ce.softcap = r.pick([nil, nil, nil, nil, 30, 5, 1e-3, 50, 1e30, 0, -1, .infinity, .nan])
        var rng = SplitMix(state: r.u64())

        if weightKind >= 160 {
            var w = (0..<classes).map { _ -> Float in Float.random(in: 0..<2, using: &rng) }
            switch weightKind % 8 {
            case 1: for c in w.indices where rng.chance(0.5) { w[c] = 0 }
            case 2: w = [Float](repeating: 0, count: classes)
            case 3: w = w.map { $0 * 500 }
            case 4: w = w.map { $0 * 1e-30 }
            case 5: w.append(1)
            case 6: w[Int(rng.next() % UInt64(classes))] = -0.5
            case 7: w[Int(rng.next() % UInt64(classes))] = rng.chance(0.5) ? .nan : .infinity
            default: break
            }
            ce.classWeights = w
        }
        // Row weights: mostly none, sometimes valid (zeros, large, tiny), sometimes refused.
        let rowWeightKind = rng.next() % 16
        if rowWeightKind >= 9 {
            var w = (0..<rows).map { _ -> Float in Float.random(in: 0..<3, using: &rng) }
            switch rowWeightKind {
            case 10: for i in w.indices where rng.chance(0.5) { w[i] = 0 }
            case 11: w = w.map { $0 * 1e4 }
            case 12: w = w.map { $0 * 1e-20 }
            case 13: w.removeLast()
            case 14: w[Int(rng.next() % UInt64(rows))] = -1
            case 15: w[Int(rng.next() % UInt64(rows))] = rng.chance(0.5) ? .nan : .infinity
            default: break
            }
            ce.rowWeights = w
        }
        configuration = ce

        // Logits (and soft targets, laid out alike): one kind per row, padding filled with
        // values no kernel may read.
        // (A stride below `classes` is refused; the rows are still generated, overlapping.)
        let count = soft ? rows * stride : (rows - 1) * stride + classes + extra
        let generated = Swift.max(count, (rows - 1) * stride + classes)
        logits = (0..<generated).map { _ in rng.normal(3) }
        for row in 0..<rows {
            let kind = r.byte() % 10
            for j in row * stride ..< row * stride + classes {
                switch kind {
                case 1: if rng.chance(0.3) { logits[j] = rng.chance(0.5) ? 1e30 : -1e30 }
                case 2:
                    logits[j] = rng.chance(0.5) ? logits[j] * 1e-30 : Float(bitPattern: UInt32(rng.next() % 0x80_0000))
                case 3: logits[j] += row % 2 == 0 ? 3e4 : -3e4
                case 5: if rng.chance(0.3) { logits[j] = -.infinity }
                case 6: logits[j] = Float.random(in: -100...100, using: &rng)
                case 7: logits[j] = 0.75
                case 8: logits[j] = j - row * stride < 64 ? Float(bitPattern: r.u32()) : logits[j]
                case 9: logits[j] = rng.chance(0.5) ? -.infinity : (rng.chance(0.5) ? 88.5 : -88.5)
                default: break
                }
            }
            if kind == 4 { logits[row * stride + Int(rng.next() % UInt64(classes))] += 40 }
        }

        if soft {
            targets = (0..<generated).map { _ in Float.random(in: 0..<1, using: &rng) }
            for row in 0..<rows {
                let range = row * stride ..< row * stride + classes
                switch r.byte() % 6 {
                case 0:
                    let total = range.reduce(Float(0)) { $0 + targets[$1] }
                    for j in range { targets[j] /= total }
                case 1:
                    let hot = r.u16() % classes
                    for j in range { targets[j] = j - range.lowerBound == hot ? 1 : 0 }
                case 2: for j in range { targets[j] = 0 }
                case 3: for j in range { targets[j] *= 4 }
                case 4: for j in range where rng.chance(0.9) { targets[j] = 0 }
                default: for j in range { targets[j] = 1 / Float(classes) }
                }
                if hostileTargets {
                    for j in range where rng.chance(0.2) {
                        targets[j] =
                            [Float.nan, .infinity, -1, -.infinity, 1e30, .greatestFiniteMagnitude][Int(rng.next() % 6)]
                    }
                }
            }
        } else {
            let outOfRange: [Int64] = [
                Int64(classes), -1, Int64(Int32.max), Int64(Int32.min), 1 << 33, Int64(classes) + 1
            ]
            labels = (0..<rows).map { _ -> Int64 in
                let k = r.byte()
                switch k % 32 {
                case 0: return -100
                case 1: return outOfRange[Int(k / 32) % outOfRange.count]
                case 2: return Int64(ce.ignoreIndex ?? -100)
                default: return Int64(r.u16() % classes)
                }
            }
            // Int32 labels hold what the Int32 buffer will (1 << 33 becomes 0).
            if !wideLabels { labels = labels!.map { Int64(Int32(truncatingIfNeeded: $0)) } }
        }

        // The rest of the input plants special values: (index, code) pairs.
        while !r.isAtEnd {
            let index = r.u16() % generated
            let code = Int(r.byte())
            logits[index] = code < Self.specials.count ? Self.specials[code] : Float(bitPattern: r.u32())
        }
        logits.removeLast(generated - count)
        if soft { targets.removeLast(generated - count) }
    }

    var description: String {
        let ce = configuration
        var text = "rows \(rows) classes \(classes) stride \(rowStride.map(String.init) ?? "nil") "
            + "logits \(logits.count) "
        text += "\(labels == nil ? "soft" : wideLabels ? "labels64" : "labels32") "
            + "call \(call.rawValue) misuse \(misuse.rawValue)"
        text += " outputs r\(wantsRowLosses ? 1 : 0)l\(wantsLogSumExp ? 1 : 0)a\(wantsArgmax ? 1 : 0)"
            + "\(hostileTargets ? " hostile" : "")\n"
        text += "reduction .\(ce.reduction) ignore \(ce.ignoreIndex.map { "\($0)" } ?? "nil") α \(ce.labelSmoothing)"
        text += " weights \(ce.classWeights.map { "\($0.count): \($0.prefix(6))…" } ?? "nil") λ \(ce.zLossScale)"
        text += " row weights \(ce.rowWeights.map { "\($0.count): \($0.prefix(6))…" } ?? "nil")"
        text += " gradientScale \(ce.gradientScale) divisor \(ce.divisor.map { "\($0)" } ?? "nil")"
        text += " threads \(ce.threads.map(String.init) ?? "nil") s \(ce.logitScale)"
            + " c \(ce.softcap.map { "\($0)" } ?? "nil")\n"
        if let labels { text += "labels \(labels)\n" }
        for row in 0..<rows {
            let range = Swift.min(row * stride, logits.count)
                ..< Swift.min(row * stride + Swift.min(classes, 16), logits.count)
            text += "row \(row): logits \(Array(logits[range]))\(classes > 16 ? "…" : "")"
            if !targets.isEmpty { text += " targets \(Array(targets[range]))" }
            text += "\n"
        }
        return text
    }
}
