// Hostile arguments: each refusal NUMERICS.md lists, through every entry point, with nothing written.
import Testing
import Xent

/// Sentinel-filled buffers for one call, in one arena so overlap cases can point across them:
/// logits 12 | gradient 12 | rowLosses 4 | rowLogSumExp 4 | targets 12 (Float), then rowArgmax
/// 4 and labels 4 (Int32), then for each 16-bit format (Float16, BFloat16) logits 12 | gradient
/// 12 | targets 12. The shape they fit is 4 rows × 3 classes; labels `[0, 2, 1, 2]`.
final class SentinelArena {
    private static let halfBase = 44 * 4 + 8 * 4
    private static let bytes = halfBase + 2 * 36 * 2
    private let raw: UnsafeMutableRawPointer
    let floats: UnsafeMutableBufferPointer<Float>
    let ints: UnsafeMutableBufferPointer<Int32>

    init() {
        raw = .allocate(byteCount: Self.bytes, alignment: 64)
        floats = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: 44), count: 44)
        ints = UnsafeMutableBufferPointer(start: (raw + 44 * 4).bindMemory(to: Int32.self, capacity: 8), count: 8)
        for i in 0..<12 { floats[i] = Float(i) / 8 - 0.7 }   // logits: valid, so a run would write
        for i in 12..<24 { floats[i] = 42 + Float(i) }       // gradient
        for i in 24..<28 { floats[i] = -7 }                  // rowLosses
        for i in 28..<32 { floats[i] = -8 }                  // rowLogSumExp
        for i in 32..<44 { floats[i] = 0.25 }                // targets
        for i in 0..<4 { ints[i] = -9 }                      // rowArgmax
        for (i, t) in [0, 2, 1, 2].enumerated() { ints[4 + i] = Int32(t) }
        let bf = (raw + Self.halfBase + 72).bindMemory(to: BFloat16.self, capacity: 36)
        for i in 0..<36 { bf[i] = BFloat16(floats[i < 24 ? i : i + 8]) }
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        let f16 = (raw + Self.halfBase).bindMemory(to: Float16.self, capacity: 36)
        for i in 0..<36 { f16[i] = Float16(floats[i < 24 ? i : i + 8]) }
        #endif
    }
    deinit { raw.deallocate() }

    private func part(_ r: Range<Int>) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: floats[r])
    }
    var logits: UnsafeMutableBufferPointer<Float> { part(0..<12) }
    var gradient: UnsafeMutableBufferPointer<Float> { part(12..<24) }
    var rowLosses: UnsafeMutableBufferPointer<Float> { part(24..<28) }
    var rowLogSumExp: UnsafeMutableBufferPointer<Float> { part(28..<32) }
    var targets: UnsafeBufferPointer<Float> { UnsafeBufferPointer(part(32..<44)) }
    var rowArgmax: UnsafeMutableBufferPointer<Int32> { UnsafeMutableBufferPointer(rebasing: ints[0..<4]) }
    var labels: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(rebasing: ints[4..<8]) }

    /// The 16-bit region of `T`'s format: logits, gradient, targets (12 each).
    func half<T: HalfPrecisionFloat>(_: T.Type) -> (
        logits: UnsafeMutableBufferPointer<T>, gradient: UnsafeMutableBufferPointer<T>, targets: UnsafeBufferPointer<T>
    ) {
        let base = (raw + Self.halfBase + (T.halfPrecisionFormat == .binary16 ? 0 : 72)).assumingMemoryBound(to: T.self)
        return (
            UnsafeMutableBufferPointer(start: base, count: 12), UnsafeMutableBufferPointer(start: base + 12, count: 12),
                UnsafeBufferPointer(start: base + 24, count: 12))
    }

    /// Every byte of the arena: a refused call must leave it as it was.
    var snapshot: [UInt8] { Array(UnsafeRawBufferPointer(start: raw, count: Self.bytes)) }
}

/// Borrows `array`'s storage for a call that throws `XentError`. The typed throw stays outside
/// `withUnsafeBufferPointer`, which is only `rethrows` before Swift 6.1 (the error would become
/// `any Error` there and the closure would not compile).
func withBuffer<T>(
    _ array: [T], _ body: (UnsafeBufferPointer<T>) throws(XentError) -> Float
) throws(XentError) -> Float {
    let result: Result<Float, XentError> = array.withUnsafeBufferPointer { p in
        Result { () throws(XentError) in try body(p) }
    }
    return try result.get()
}

/// Borrows `buffer` as the losses of a ``RowStatistics`` for an array or span entry point and
/// copies them back afterwards, thrown or not; a resized array marks the buffer (NaN).
func asStatistics(
    _ buffer: UnsafeMutableBufferPointer<Float>, _ body: (RowStatistics) throws(XentError) -> Float
) throws(XentError) -> Float {
    let statistics = RowStatistics(.losses)
    statistics.losses = Array(buffer)
    defer {
        if statistics.losses.count == buffer.count {
            _ = buffer.update(fromContentsOf: statistics.losses)
        } else {
            buffer[0] = .nan
        }
    }
    return try body(statistics)
}

/// Borrows `buffer` as an array for an array or span entry point and copies it back afterwards,
/// thrown or not; a resized array marks the buffer (NaN), so the arena check sees it.
func asArray(
    _ buffer: UnsafeMutableBufferPointer<Float>, _ body: (inout [Float]) throws(XentError) -> Float
) throws(XentError) -> Float {
    var array = Array(buffer)
    defer {
        if array.count == buffer.count { _ = buffer.update(fromContentsOf: array) } else { buffer[0] = .nan }
    }
    return try body(&array)
}

/// An entry point for class labels: `rows` labels (a prefix of the arena's), the arena's 12
/// logits, outputs cut to `rows` where they are per row.
struct LabelEntry {
    let name: String
    let call:
        (SoftmaxCrossEntropy, SentinelArena, _ rows: Int, _ classes: Int, _ rowStride: Int?) throws(XentError) -> Float

    static var all: [LabelEntry] {
        func t(_ a: SentinelArena, _ rows: Int) -> UnsafeBufferPointer<Int32> {
            UnsafeBufferPointer(rebasing: a.labels[0..<rows])
        }
        func z(_ a: SentinelArena) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(a.logits) }
        func r(_ a: SentinelArena, _ rows: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: a.rowLosses[0..<rows])
        }
        func l(_ a: SentinelArena, _ rows: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: a.rowLogSumExp[0..<rows])
        }
        func m(_ a: SentinelArena, _ rows: Int) -> UnsafeMutableBufferPointer<Int32> {
            UnsafeMutableBufferPointer(rebasing: a.rowArgmax[0..<rows])
        }
        var entries = [
            LabelEntry(name: "loss") { ce, a, n, k, s throws(XentError) in
                try ce.loss(logits: z(a), labels: t(a, n), classes: k, rowStride: s)
            },
            LabelEntry(name: "loss + rowLosses, rowLogSumExp, rowArgmax") { ce, a, n, k, s throws(XentError) in
                try ce.loss(
                    logits: z(a), labels: t(a, n), classes: k, rowStride: s,
                    rowStatistics: .init(losses: r(a, n), logSumExp: l(a, n), argmax: m(a, n)))
            },
            LabelEntry(name: "lossAndGradient") { ce, a, n, k, s throws(XentError) in
                try ce.lossAndGradient(logits: z(a), labels: t(a, n), classes: k, rowStride: s, gradient: a.gradient)
            },
            LabelEntry(name: "lossAndGradient + every output") { ce, a, n, k, s throws(XentError) in
                try ce.lossAndGradient(logits: z(a), labels: t(a, n), classes: k, rowStride: s, gradient: a.gradient,
                                       rowStatistics: .init(losses: r(a, n), logSumExp: l(a, n), argmax: m(a, n)))
            },
            LabelEntry(name: "lossAndGradient, Int64 labels") { ce, a, n, k, s throws(XentError) in
                let wide = Array(t(a, n)).map(Int64.init)
                return try withBuffer(wide) { (w) throws(XentError) in
                    try ce.lossAndGradient(
                        logits: z(a), labels: w, classes: k, rowStride: s, gradient: a.gradient,
                        rowStatistics: .init(losses: r(a, n)))
                }
            },
            LabelEntry(name: "in place") { ce, a, n, k, s throws(XentError) in
                try ce.lossAndGradient(inPlace: a.logits, labels: t(a, n), classes: k, rowStride: s)
            },
            LabelEntry(name: "in place + rowLosses, Int labels") { ce, a, n, k, s throws(XentError) in
                let wide = Array(t(a, n)).map(Int.init)
                return try withBuffer(wide) { (w) throws(XentError) in
                    try ce.lossAndGradient(
                        inPlace: a.logits, labels: w, classes: k, rowStride: s,
                        rowStatistics: .init(losses: r(a, n), logSumExp: l(a, n)))
                }
            },
            LabelEntry(name: "arrays: loss") { ce, a, n, k, s throws(XentError) in
                try ce.loss(logits: Array(a.logits), labels: Array(t(a, n)), classes: k, rowStride: s)
            },
            LabelEntry(name: "arrays: loss + rowLosses") { ce, a, n, k, s throws(XentError) in
                try asStatistics(r(a, n)) { (rl) throws(XentError) in
                    try ce.loss(
                        logits: Array(a.logits), labels: Array(t(a, n)), classes: k, rowStride: s, rowStatistics: rl)
                }
            },
            LabelEntry(name: "arrays: lossAndGradient") { ce, a, n, k, s throws(XentError) in
                try asArray(a.gradient) { (g) throws(XentError) in
                    try ce.lossAndGradient(
                        logits: Array(a.logits), labels: Array(t(a, n)), classes: k, rowStride: s, gradient: &g)
                }
            },
            LabelEntry(name: "arrays: lossAndGradient + rowLosses") { ce, a, n, k, s throws(XentError) in
                try asArray(a.gradient) { (g) throws(XentError) in
                    try asStatistics(r(a, n)) { (rl) throws(XentError) in
                        try ce.lossAndGradient(
                            logits: Array(a.logits), labels: Array(t(a, n)), classes: k, rowStride: s, gradient: &g,
                            rowStatistics: rl)
                    }
                }
            },
            LabelEntry(name: "arrays: in place") { ce, a, n, k, s throws(XentError) in
                try asArray(a.logits) { (zs) throws(XentError) in
                    try ce.lossAndGradient(inPlace: &zs, labels: Array(t(a, n)), classes: k, rowStride: s)
                }
            },
        ]
        entries += halfEntries(BFloat16.self, "BFloat16")
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        entries += halfEntries(Float16.self, "Float16")
        #endif
        #if compiler(>=6.2)
        entries += [
            LabelEntry(name: "spans: loss") { ce, a, n, k, s throws(XentError) in
                let (zs, ts) = (Array(a.logits), Array(t(a, n)))
                return try ce.loss(logits: zs.span, labels: ts.span, classes: k, rowStride: s)
            },
            LabelEntry(name: "spans: lossAndGradient") { ce, a, n, k, s throws(XentError) in
                let (zs, ts) = (Array(a.logits), Array(t(a, n)))
                return try asArray(a.gradient) { (g) throws(XentError) in
                    var span = g.mutableSpan
                    return try ce.lossAndGradient(
                        logits: zs.span, labels: ts.span, classes: k, rowStride: s, gradient: &span)
                }
            },
            LabelEntry(name: "spans: in place") { ce, a, n, k, s throws(XentError) in
                let ts = Array(t(a, n))
                return try asArray(a.logits) { (zs) throws(XentError) in
                    var span = zs.mutableSpan
                    return try ce.lossAndGradient(inPlace: &span, labels: ts.span, classes: k, rowStride: s)
                }
            },
        ]
        #endif
        return entries
    }

    /// The 16-bit entry points: loss, loss and gradient with every output, in place.
    static func halfEntries<T: HalfPrecisionFloat>(_ type: T.Type, _ format: String) -> [LabelEntry] {
        func t(_ a: SentinelArena, _ rows: Int) -> UnsafeBufferPointer<Int32> {
            UnsafeBufferPointer(rebasing: a.labels[0..<rows])
        }
        func r(_ a: SentinelArena, _ rows: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: a.rowLosses[0..<rows])
        }
        func l(_ a: SentinelArena, _ rows: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: a.rowLogSumExp[0..<rows])
        }
        func m(_ a: SentinelArena, _ rows: Int) -> UnsafeMutableBufferPointer<Int32> {
            UnsafeMutableBufferPointer(rebasing: a.rowArgmax[0..<rows])
        }
        return [
            LabelEntry(name: "\(format) loss") { ce, a, n, k, s throws(XentError) in
                try ce.loss(
                    logits: UnsafeBufferPointer(a.half(T.self).logits), labels: t(a, n), classes: k, rowStride: s,
                    rowStatistics: .init(losses: r(a, n)))
            },
            LabelEntry(name: "\(format) lossAndGradient + every output") { ce, a, n, k, s throws(XentError) in
                let h = a.half(T.self)
                return try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(h.logits), labels: t(a, n), classes: k, rowStride: s,
                    gradient: h.gradient,
                    rowStatistics: .init(losses: r(a, n), logSumExp: l(a, n), argmax: m(a, n)))
            },
            LabelEntry(name: "\(format) in place") { ce, a, n, k, s throws(XentError) in
                try ce.lossAndGradient(inPlace: a.half(T.self).logits, labels: t(a, n), classes: k, rowStride: s)
            },
        ]
    }
}

/// An entry point for soft targets over the arena's 12 logits and 12 targets; per-row outputs
/// have the 4 rows that 3 classes give.
struct SoftEntry {
    let name: String
    let call: (SoftmaxCrossEntropy, SentinelArena, _ classes: Int, _ rowStride: Int?) throws(XentError) -> Float

    static var all: [SoftEntry] {
        func z(_ a: SentinelArena) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(a.logits) }
        var entries = [
            SoftEntry(name: "soft loss") { ce, a, k, s throws(XentError) in
                try ce.loss(logits: z(a), targets: a.targets, classes: k, rowStride: s)
            },
            SoftEntry(name: "soft loss + rowLosses, rowLogSumExp, rowArgmax") { ce, a, k, s throws(XentError) in
                try ce.loss(
                    logits: z(a), targets: a.targets, classes: k, rowStride: s,
                    rowStatistics: .init(losses: a.rowLosses, logSumExp: a.rowLogSumExp, argmax: a.rowArgmax))
            },
            SoftEntry(name: "soft lossAndGradient + rowLosses") { ce, a, k, s throws(XentError) in
                try ce.lossAndGradient(
                    logits: z(a), targets: a.targets, classes: k, rowStride: s, gradient: a.gradient,
                    rowStatistics: .init(losses: a.rowLosses))
            },
            SoftEntry(name: "soft in place") { ce, a, k, s throws(XentError) in
                try ce.lossAndGradient(
                    inPlace: a.logits, targets: a.targets, classes: k, rowStride: s,
                    rowStatistics: .init(losses: a.rowLosses))
            },
            SoftEntry(name: "soft arrays: loss + rowLosses") { ce, a, k, s throws(XentError) in
                try asStatistics(a.rowLosses) { (rl) throws(XentError) in
                    try ce.loss(
                        logits: Array(a.logits), targets: Array(a.targets), classes: k, rowStride: s, rowStatistics: rl)
                }
            },
            SoftEntry(name: "soft arrays: lossAndGradient + rowLosses") { ce, a, k, s throws(XentError) in
                try asArray(a.gradient) { (g) throws(XentError) in
                    try asStatistics(a.rowLosses) { (rl) throws(XentError) in
                        try ce.lossAndGradient(
                            logits: Array(a.logits), targets: Array(a.targets), classes: k, rowStride: s, gradient: &g,
                            rowStatistics: rl)
                    }
                }
            },
            SoftEntry(name: "soft arrays: in place") { ce, a, k, s throws(XentError) in
                try asArray(a.logits) { (zs) throws(XentError) in
                    try ce.lossAndGradient(inPlace: &zs, targets: Array(a.targets), classes: k, rowStride: s)
                }
            },
        ]
        entries += halfEntries(BFloat16.self, "BFloat16")
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        entries += halfEntries(Float16.self, "Float16")
        #endif
        #if compiler(>=6.2)
        entries += [
            SoftEntry(name: "soft spans: lossAndGradient") { ce, a, k, s throws(XentError) in
                let (zs, qs) = (Array(a.logits), Array(a.targets))
                return try asArray(a.gradient) { (g) throws(XentError) in
                    var span = g.mutableSpan
                    return try ce.lossAndGradient(
                        logits: zs.span, targets: qs.span, classes: k, rowStride: s, gradient: &span)
                }
            },
            SoftEntry(name: "soft spans: in place") { ce, a, k, s throws(XentError) in
                let qs = Array(a.targets)
                return try asArray(a.logits) { (zs) throws(XentError) in
                    var span = zs.mutableSpan
                    return try ce.lossAndGradient(inPlace: &span, targets: qs.span, classes: k, rowStride: s)
                }
            },
        ]
        #endif
        return entries
    }

    /// The 16-bit entry points: loss with every output, loss and gradient, in place.
    static func halfEntries<T: HalfPrecisionFloat>(_ type: T.Type, _ format: String) -> [SoftEntry] {
        [
            SoftEntry(
                name: "\(format) soft loss + rowLosses, rowLogSumExp, rowArgmax"
            ) { ce, a, k, s throws(XentError) in
                let h = a.half(T.self)
                return try ce.loss(
                    logits: UnsafeBufferPointer(h.logits), targets: h.targets, classes: k, rowStride: s,
                    rowStatistics: .init(losses: a.rowLosses, logSumExp: a.rowLogSumExp, argmax: a.rowArgmax))
            },
            SoftEntry(name: "\(format) soft lossAndGradient") { ce, a, k, s throws(XentError) in
                let h = a.half(T.self)
                return try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(h.logits), targets: h.targets, classes: k, rowStride: s,
                    gradient: h.gradient)
            },
            SoftEntry(name: "\(format) soft in place") { ce, a, k, s throws(XentError) in
                let h = a.half(T.self)
                return try ce.lossAndGradient(
                    inPlace: h.logits, targets: h.targets, classes: k, rowStride: s,
                    rowStatistics: .init(losses: a.rowLosses))
            },
        ]
    }
}

@Suite struct HostileInputTests {
    /// Runs `body` on a fresh arena and checks that it throws an error `matching` accepts, whose
    /// description contains every string of `mentions`, and that not one bit of the arena
    /// (logits, gradient, row outputs, labels) changed.
    func expectRefused(
        _ what: @autoclosure () -> String, mentioning mentions: [String], matching: (XentError) -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation, _ body: (SentinelArena) throws(XentError) -> Float
    ) {
        let arena = SentinelArena()
        let before = arena.snapshot
        do throws(XentError) {
            let value = try body(arena)
            Issue.record("\(what()): accepted, returned \(value)", sourceLocation: sourceLocation)
        } catch {
            #expect(matching(error), "\(what()): unexpected error \(error)", sourceLocation: sourceLocation)
            for word in mentions {
                #expect(
                    error.description.contains(word), "\(what()): “\(error.description)” should mention \(word)",
                    sourceLocation: sourceLocation)
            }
        }
        #expect(arena.snapshot == before, "\(what()): a refused call wrote to a buffer", sourceLocation: sourceLocation)
    }

    func expectRefused(
        _ expected: XentError, _ what: @autoclosure () -> String, mentioning mentions: [String],
        sourceLocation: SourceLocation = #_sourceLocation, _ body: (SentinelArena) throws(XentError) -> Float
    ) {
        expectRefused(
            "\(what()) (expected \(expected))", mentioning: mentions, matching: { $0 == expected },
            sourceLocation: sourceLocation, body)
    }

    // MARK: Options

    /// An option set to a value outside its domain, and how the refusal names it.
    struct BadOption: CustomStringConvertible {
        let name: String
        let value: String
        let set: (inout SoftmaxCrossEntropy) -> Void
        let matches: (XentError) -> Bool
        var description: String { "\(name) = \(value)" }

        static func option(
            _ name: String, _ value: Double, _ set: @escaping (inout SoftmaxCrossEntropy) -> Void
        ) -> BadOption {
            BadOption(name: name, value: "\(value)", set: set) { error in
                guard case .invalidOption(let n, let v, _) = error else { return false }
                return n == name && (v == value || (v.isNaN && value.isNaN)) && v.sign == value.sign
            }
        }

        static var all: [BadOption] {
            var list: [BadOption] = []
            for a in [Float(-0.1), -Float.leastNonzeroMagnitude, Float(1).nextUp, 1.5, .nan, .infinity, -.infinity] {
                list.append(.option("labelSmoothing", Double(a)) { $0.labelSmoothing = a })
            }
            for l in [Float(-1e-6), -.leastNonzeroMagnitude, .nan, .infinity, -.infinity] {
                list.append(.option("zLossScale", Double(l)) { $0.zLossScale = l })
            }
            for g in [Float.nan, .infinity, -.infinity] {
                list.append(.option("gradientScale", Double(g)) { $0.gradientScale = g })
            }
            for d in [0.0, -0.0, -1, .nan, .infinity, -.infinity] {
                list.append(.option("divisor", d) { $0.divisor = d })
            }
            for s in [Float(0), -0.0, -2, .nan, .infinity, -.infinity] {
                list.append(.option("logitScale", Double(s)) { $0.logitScale = s })
            }
            for c in [Float(0), -0.0, -30, .nan, .infinity, -.infinity] {
                list.append(.option("softcap", Double(c)) { $0.softcap = c })
            }
            for (index, w) in [
                (1, Float(-0.5)), (2, -.leastNonzeroMagnitude), (0, .nan), (2, .infinity), (1, -.infinity)
            ] {
                list.append(.option("classWeights[\(index)]", Double(w)) { ce in
                    var weights: [Float] = [1, 0.5, 2]
                    weights[index] = w
                    ce.classWeights = weights
                })
            }
            for count in [0, 2, 4] {
                list.append(BadOption(name: "classWeights", value: "\(count)",
                                      set: { $0.classWeights = [Float](repeating: 1, count: count) }) {
                    $0 == .lengthMismatch(argument: "classWeights", expected: 3, actual: count)
                })
            }
            for threads in [0, -1, Int.min] {
                list.append(BadOption(name: "threads", value: "\(threads)", set: { $0.threads = threads }) {
                    $0 == .invalidThreadCount(threads: threads)
                })
            }
            return list
        }
    }

    @Test(
        "every option outside its domain is refused through every entry point, named with its value, nothing written",
        arguments: Variant.all)
    func invalidOptions(variant: Variant) {
        let labelEntries = LabelEntry.all, softEntries = SoftEntry.all
        for bad in BadOption.all {
            var ce = variant.configuration(.mean)
            bad.set(&ce)
            for entry in labelEntries {
                expectRefused(
                    "\(variant) \(bad) \(entry.name)", mentioning: [bad.name, bad.value], matching: bad.matches
                ) { a throws(XentError) in
                    try entry.call(ce, a, 4, 3, nil)
                }
            }
            for entry in softEntries {
                expectRefused(
                    "\(variant) \(bad) \(entry.name)", mentioning: [bad.name, bad.value], matching: bad.matches
                ) { a throws(XentError) in
                    try entry.call(ce, a, 3, nil)
                }
            }
        }
        // An ISA the CPU lacks: the vector kernel refuses it, naming it.
        if variant.kernel == .vector {
            for isa in InstructionSet.allCases where !isa.isSupported {
                let ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
                for entry in labelEntries {
                    expectRefused(
                        .instructionSetUnavailable(isa), "\(isa) \(entry.name)",
                        mentioning: ["instructionSet", isa.rawValue]
                    ) { a throws(XentError) in
                        try entry.call(ce, a, 4, 3, nil)
                    }
                }
            }
        }
    }

    // MARK: Shapes and lengths

    @Test(
        "class and row counts below 1, strides below classes, buffers of the wrong length: refused, named with values",
        arguments: Variant.all)
    func shapes(variant: Variant) {
        let ce = variant.configuration(.mean)
        for entry in LabelEntry.all {
            for classes in [0, -1, Int.min] {
                expectRefused(
                    .invalidClassCount(classes: classes), "\(variant) \(entry.name)",
                    mentioning: ["classes = \(classes)"]
                ) { a throws(XentError) in
                    try entry.call(ce, a, 4, classes, nil)
                }
            }
            expectRefused(
                .invalidRowCount(rows: 0), "\(variant) \(entry.name)", mentioning: ["rows = 0"]
            ) { a throws(XentError) in
                try entry.call(ce, a, 0, 3, nil)
            }
            // 12 logits are not 4 × 2 nor 4 × 4.
            for classes in [2, 4] {
                expectRefused(
                    .lengthMismatch(argument: "logits", expected: 4 * classes, actual: 12), "\(variant) \(entry.name)",
                    mentioning: ["logits", "12", "\(4 * classes)"]
                ) { a throws(XentError) in
                    try entry.call(ce, a, 4, classes, nil)
                }
            }
            expectRefused(
                .invalidRowStride(rowStride: 2, classes: 3), "\(variant) \(entry.name)",
                mentioning: ["rowStride = 2", "classes = 3"]
            ) { a throws(XentError) in
                try entry.call(ce, a, 4, 3, 2)
            }
            // 4 rows at stride 4 need 3·4 + 3 = 15 logits.
            expectRefused(
                .lengthMismatch(argument: "logits", expected: 15, actual: 12), "\(variant) \(entry.name) stride",
                mentioning: ["logits", "12", "15"]
            ) { a throws(XentError) in
                try entry.call(ce, a, 4, 3, 4)
            }
        }
        for entry in SoftEntry.all {
            for classes in [0, -1, Int.min] {
                expectRefused(
                    .invalidClassCount(classes: classes), "\(variant) \(entry.name)",
                    mentioning: ["classes = \(classes)"]
                ) { a throws(XentError) in
                    try entry.call(ce, a, classes, nil)
                }
            }
            expectRefused(
                .logitsNotMultipleOfClasses(count: 12, classes: 5), "\(variant) \(entry.name)",
                mentioning: ["12", "classes = 5"]
            ) { a throws(XentError) in
                try entry.call(ce, a, 5, nil)
            }
            expectRefused(
                .invalidRowStride(rowStride: 2, classes: 3), "\(variant) \(entry.name)",
                mentioning: ["rowStride = 2", "classes = 3"]
            ) { a throws(XentError) in
                try entry.call(ce, a, 3, 2)
            }
        }
        // Per-buffer lengths, through the unsafe-buffer calls, which take any length.
        let none = variant.configuration(.none)
        let cases: [(XentError, [String], (SentinelArena) throws(XentError) -> Float)] = [
            (.lengthMismatch(argument: "gradient", expected: 12, actual: 11),
             ["gradient", "11", "12"], { a throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3,
                    gradient: UnsafeMutableBufferPointer(rebasing: a.gradient[0..<11]))
            }),
            (.lengthMismatch(argument: "gradient", expected: 12, actual: 16),
             ["gradient", "16", "12"], { a throws(XentError) in
                // The gradient runs on into the row losses: too long, not merely overlapping.
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3,
                    gradient: UnsafeMutableBufferPointer(start: a.gradient.baseAddress, count: 16))
            }),
            (.lengthMismatch(argument: "rowStatistics.losses", expected: 4, actual: 5),
             ["rowStatistics.losses", "5", "4"], { a throws(XentError) in
                try ce.loss(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3,
                    rowStatistics: .init(losses: UnsafeMutableBufferPointer(start: a.rowLosses.baseAddress, count: 5)))
            }),
            (.lengthMismatch(argument: "rowStatistics.logSumExp", expected: 4, actual: 3),
             ["rowStatistics.logSumExp", "3", "4"], { a throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3, gradient: a.gradient,
                    rowStatistics: .init(logSumExp: UnsafeMutableBufferPointer(rebasing: a.rowLogSumExp[0..<3])))
            }),
            (.lengthMismatch(argument: "rowStatistics.argmax", expected: 4, actual: 2),
             ["rowStatistics.argmax", "2", "4"], { a throws(XentError) in
                try ce.loss(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3,
                    rowStatistics: .init(argmax: UnsafeMutableBufferPointer(rebasing: a.rowArgmax[0..<2])))
            }),
            (.lengthMismatch(argument: "rowStatistics.argmax", expected: 4, actual: 3),
             ["rowStatistics.argmax", "3", "4"], { a throws(XentError) in
                try ce.loss(
                    logits: UnsafeBufferPointer(a.logits), targets: a.targets, classes: 3,
                    rowStatistics: .init(argmax: UnsafeMutableBufferPointer(rebasing: a.rowArgmax[0..<3])))
            }),
            (.lengthMismatch(argument: "targets", expected: 12, actual: 11),
             ["targets", "11", "12"], { a throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(a.logits), targets: UnsafeBufferPointer(rebasing: a.targets[0..<11]),
                    classes: 3, gradient: a.gradient)
            }),
            (.lengthMismatch(argument: "rowStatistics.losses", expected: 4, actual: 3),
             ["rowStatistics.losses", "3", "4"], { a throws(XentError) in
                try ce.lossAndGradient(
                    inPlace: a.logits, targets: a.targets, classes: 3,
                    rowStatistics: .init(losses: UnsafeMutableBufferPointer(rebasing: a.rowLosses[0..<3])))
            }),
            (.invalidRowCount(rows: 0), ["rows = 0"], { a throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(rebasing: a.logits[0..<0]),
                    targets: UnsafeBufferPointer(rebasing: a.targets[0..<0]), classes: 3,
                    gradient: UnsafeMutableBufferPointer(rebasing: a.gradient[0..<0]))
            }),
            (.rowLossesRequired, ["rowStatistics.losses", ".none"], { a throws(XentError) in
                try none.loss(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3,
                    rowStatistics: .init(logSumExp: a.rowLogSumExp))
            }),
            (.rowLossesRequired, ["rowStatistics.losses", ".none"], { a throws(XentError) in
                try none.lossAndGradient(
                    logits: UnsafeBufferPointer(a.logits), targets: a.targets, classes: 3, gradient: a.gradient)
            }),
        ]
        for (index, (expected, mentions, body)) in cases.enumerated() {
            expectRefused(expected, "\(variant) length case \(index)", mentioning: mentions, body)
        }
    }

    // MARK: Labels

    @Test(
        "a label outside 0..<classes on the last row is refused, naming row and value, before any row is written",
        arguments: Variant.all)
    func labels(variant: Variant) {
        // Four rows of three classes; rows 0–2 are valid, so a kernel that wrote as it validated
        // would have written them.
        var ce = variant.configuration(.mean)
        let bad: [(Int64, Int32?)] = [
            (3, -100), (-1, -100), (Int64(Int32.max), -100), (Int64(Int32.min), -100),
            (-100, nil),                              // ignoring is off: −100 is just out of range
            (-100, 7),                                // another ignore index: −100 is out of range
            (Int64(1) << 32 | 1, -100),               // 2³² + 1: 1 if it were cut to 32 bits
            ((Int64(1) << 32) - 100, -100),           // −100 if cut to 32 bits: not the ignore index
            (Int64.max, -100), (Int64.min, -100),
        ]
        for (label, ignore) in bad {
            ce.ignoreIndex = ignore
            let mentions = ["labels[3]", "\(label)"]
            let expected = XentError.labelOutOfRange(row: 3, label: Int(label), classes: 3)
            if let narrow = Int32(exactly: label) {
                for entry in LabelEntry.all {
                    expectRefused(
                        expected, "\(variant) label \(label) ignore \(String(describing: ignore)) \(entry.name)",
                        mentioning: mentions
                    ) { a throws(XentError) in
                        a.ints[7] = narrow
                        defer { a.ints[7] = 2 }
                        return try entry.call(ce, a, 4, 3, nil)
                    }
                }
            }
            for width in ["Int64", "Int"] {
                expectRefused(
                    expected, "\(variant) \(width) label \(label)", mentioning: mentions
                ) { a throws(XentError) in
                    let labels: [Int64] = [0, 2, 1, label]
                    if width == "Int" {
                        return try withBuffer(labels.map(Int.init)) { (t) throws(XentError) in
                            try ce.lossAndGradient(
                                inPlace: a.logits, labels: t, classes: 3,
                                rowStatistics: .init(
                                    losses: a.rowLosses, logSumExp: a.rowLogSumExp, argmax: a.rowArgmax))
                        }
                    }
                    return try withBuffer(labels) { (t) throws(XentError) in
                        try ce.lossAndGradient(
                            logits: UnsafeBufferPointer(a.logits), labels: t, classes: 3, gradient: a.gradient,
                            rowStatistics: .init(losses: a.rowLosses, logSumExp: a.rowLogSumExp, argmax: a.rowArgmax))
                    }
                }
            }
        }
    }

    // MARK: Overlapping buffers

    @Test(
        "outputs that overlap an input or each other are refused, naming both, nothing written",
        arguments: Variant.all)
    func overlaps(variant: Variant) {
        let ce = variant.configuration(.mean)
        func z(_ a: SentinelArena) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(a.logits) }
        // Views of arena memory as another buffer: [start, start + count) in floats.
        func view(_ a: SentinelArena, _ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(start: a.floats.baseAddress! + start, count: count)
        }
        /// The arena's gradient region seen as Int32 labels (never read: the overlap is found first).
        func labelsInGradient(_ a: SentinelArena) -> UnsafeBufferPointer<Int32> {
            UnsafeBufferPointer(
                start: UnsafeRawPointer(a.gradient.baseAddress! + 8).assumingMemoryBound(to: Int32.self), count: 4)
        }
        let cases: [(String, String, (SentinelArena) throws(XentError) -> Float)] = [
            ("gradient", "logits", { a throws(XentError) in  // one float past the logits
                try ce.lossAndGradient(logits: z(a), labels: a.labels, classes: 3, gradient: view(a, 1, 12))
            }),
            ("gradient", "logits", { a throws(XentError) in  // the logits start inside the gradient
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(view(a, 4, 12)), labels: a.labels, classes: 3,
                    gradient: view(a, 0, 12))
            }),
            ("gradient", "logits", { a throws(XentError) in  // soft targets, one float before
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(view(a, 13, 12)), targets: a.targets, classes: 3,
                    gradient: view(a, 12, 12))
            }),
            ("gradient", "labels", { a throws(XentError) in
                try ce.lossAndGradient(logits: z(a), labels: labelsInGradient(a), classes: 3, gradient: a.gradient)
            }),
            ("gradient", "labels", { a throws(XentError) in  // in place over the labels
                try ce.lossAndGradient(inPlace: view(a, 12, 12), labels: labelsInGradient(a), classes: 3)
            }),
            ("gradient", "targets", { a throws(XentError) in  // in place, the targets are the logits
                try ce.lossAndGradient(inPlace: a.logits, targets: z(a), classes: 3)
            }),
            ("gradient", "targets", { a throws(XentError) in
                try ce.lossAndGradient(
                    logits: z(a), targets: UnsafeBufferPointer(view(a, 20, 12)), classes: 3, gradient: a.gradient)
            }),
            ("rowStatistics.losses", "logits", { a throws(XentError) in
                try ce.loss(logits: z(a), labels: a.labels, classes: 3, rowStatistics: .init(losses: view(a, 10, 4)))
            }),
            ("rowStatistics.losses", "gradient", { a throws(XentError) in
                try ce.lossAndGradient(
                    logits: z(a), labels: a.labels, classes: 3, gradient: a.gradient,
                    rowStatistics: .init(losses: view(a, 23, 4)))
            }),
            ("rowStatistics.losses", "logits", { a throws(XentError) in  // in place, over the logits (= the gradient)
                try ce.lossAndGradient(
                    inPlace: a.logits, labels: a.labels, classes: 3, rowStatistics: .init(losses: view(a, 0, 4)))
            }),
            ("rowStatistics.losses", "targets", { a throws(XentError) in
                try ce.loss(logits: z(a), targets: a.targets, classes: 3, rowStatistics: .init(losses: view(a, 40, 4)))
            }),
            ("rowStatistics.logSumExp", "rowStatistics.losses", { a throws(XentError) in
                try ce.loss(
                    logits: z(a), labels: a.labels, classes: 3,
                    rowStatistics: .init(losses: a.rowLosses, logSumExp: view(a, 26, 4)))
            }),
            ("rowStatistics.logSumExp", "logits", { a throws(XentError) in
                try ce.loss(
                    logits: z(a), targets: a.targets, classes: 3, rowStatistics: .init(logSumExp: view(a, 8, 4)))
            }),
            ("gradient", "logits", { a throws(XentError) in  // 16-bit, one element past the logits
                let h = a.half(BFloat16.self)
                let shifted = UnsafeMutableBufferPointer(start: h.logits.baseAddress! + 1, count: 12)
                return try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(h.logits), labels: a.labels, classes: 3, gradient: shifted)
            }),
            ("rowStatistics.losses", "logits", { a throws(XentError) in  // 16-bit logits, Float row losses inside them
                let h = a.half(BFloat16.self)
                let inside = UnsafeMutableRawPointer(h.logits.baseAddress! + 2).assumingMemoryBound(to: Float.self)
                return try ce.loss(
                    logits: UnsafeBufferPointer(h.logits), labels: a.labels, classes: 3,
                    rowStatistics: .init(losses: UnsafeMutableBufferPointer(start: inside, count: 4)))
            }),
        ]
        for (first, second, body) in cases {
            expectRefused(
                .overlappingBuffers(first: first, second: second), "\(variant) \(first) over \(second)",
                mentioning: [first, second], body)
        }
    }

    @Test("a rowArgmax output that overlaps another buffer is refused, nothing written",
          arguments: Variant.all)
    func argmaxOverlaps(variant: Variant) {
        let ce = variant.configuration(.mean)
        func argmaxIn(_ a: SentinelArena, _ start: Int) -> UnsafeMutableBufferPointer<Int32> {
            UnsafeMutableBufferPointer(
                start: UnsafeMutableRawPointer(a.floats.baseAddress! + start).assumingMemoryBound(to: Int32.self),
                count: 4)
        }
        let cases: [(String, String, (SentinelArena) throws(XentError) -> Float)] = [
            ("rowStatistics.argmax", "logits", { a throws(XentError) in
                try ce.loss(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3,
                    rowStatistics: .init(argmax: argmaxIn(a, 9)))
            }),
            ("rowStatistics.argmax", "gradient", { a throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3, gradient: a.gradient,
                    rowStatistics: .init(argmax: argmaxIn(a, 20)))
            }),
            ("rowStatistics.argmax", "rowStatistics.logSumExp", { a throws(XentError) in
                try ce.loss(
                    logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3,
                    rowStatistics: .init(logSumExp: a.rowLogSumExp, argmax: argmaxIn(a, 29)))
            }),
            ("rowStatistics.argmax", "targets", { a throws(XentError) in
                try ce.loss(
                    logits: UnsafeBufferPointer(a.logits), targets: a.targets, classes: 3,
                    rowStatistics: .init(argmax: argmaxIn(a, 40)))
            }),
        ]
        for (first, second, body) in cases {
            expectRefused(
                .overlappingBuffers(first: first, second: second), "\(variant) \(first) over \(second)",
                mentioning: [first, second], body)
        }
    }

    // MARK: Sizes that overflow Int

    /// (rows, classes, rowStride) whose rows × stride, or (rows − 1) × stride + classes, does
    /// not fit in Int, over 4 (or 2) real labels and 12 real logits.
    static let overflowingShapes: [(rows: Int, classes: Int, rowStride: Int?)] = [
        (4, Int.max, nil), (4, Int.max / 2, nil), (4, Int.max / 4 + 1, nil), (2, Int.max / 2 + 1, nil),
        (4, 3, Int.max), (4, 3, Int.max / 3 + 1), (4, Int.max, Int.max),
        (2, 1, Int.max / 2 + 1),   // 1 × stride + 1 fits; 2 × stride does not
    ]

    @Test("shapes whose size overflows Int are refused, not wrapped, through every entry point", arguments: Variant.all)
    func overflow(variant: Variant) {
        let ce = variant.configuration(.mean)
        for (rows, classes, stride) in Self.overflowingShapes {
            for entry in LabelEntry.all {
                expectRefused(
                    "\(variant) \(entry.name) rows \(rows) classes \(classes) stride \(String(describing: stride))",
                    mentioning: ["overflows", "rows", "\(stride ?? classes)"],
                    matching: {
                        switch $0 {
                        case .shapeOverflow(rows, _): stride == nil
                        case .rowStrideOverflow(rows, stride, classes): stride != nil
                        default: false
                        }
                    }
                ) { a throws(XentError) in try entry.call(ce, a, rows, classes, stride) }
            }
        }
        // Huge but not overflowing: one row claiming Int.max classes is a length mismatch.
        for entry in LabelEntry.all {
            expectRefused(
                .lengthMismatch(argument: "logits", expected: Int.max, actual: 12),
                "\(variant) \(entry.name) 1 × Int.max", mentioning: ["logits", "\(Int.max)"]
            ) { a throws(XentError) in
                try entry.call(ce, a, 1, Int.max, nil)
            }
        }
        // Soft targets take their row count from the logits, so no product can overflow; huge
        // claims must still be refused, whatever the error. (12 classes with any stride over the
        // arena's 12 logits is one row ending at its last class, a valid view: not among them.)
        for (classes, stride) in [
            (Int.max, nil), (Int.max / 2, nil), (3, Int.max), (11, Int.max), (Int.max, Int.max), (1, Int.max / 2 + 1)
        ] as [(Int, Int?)] {
            for entry in SoftEntry.all {
                expectRefused(
                    "\(variant) \(entry.name) classes \(classes) stride \(String(describing: stride))", mentioning: [],
                    matching: { _ in true }
                ) { a throws(XentError) in
                    try entry.call(ce, a, classes, stride)
                }
            }
        }
    }

    @Test("a rowStride overflow names the stride and the classes")
    func overflowNamesTheStride() {
        let ce = SoftmaxCrossEntropy()
        expectRefused(
            "classes 3, rowStride \(Int.max / 3 + 1)", mentioning: ["rowStride", "\(Int.max / 3 + 1)", "classes = 3"],
            matching: { if case .rowStrideOverflow = $0 { true } else { false } }
        ) { a throws(XentError) in
            try ce.lossAndGradient(
                logits: UnsafeBufferPointer(a.logits), labels: a.labels, classes: 3, rowStride: Int.max / 3 + 1,
                gradient: a.gradient)
        }
    }

    #if compiler(>=6.2)
    // A thread count is only capped by the work there is: a huge one must be served, not trap.
    // Each runs in a child process, so a trap fails the test instead of ending the run.
    @Test("threads = Int.max is served, not a crash",)
    func threadsIntMax() async {
        await #expect(processExitsWith: .success) {
            var ce = SoftmaxCrossEntropy(kernel: .vector)
            ce.threads = .max
            var gradient = [Float]()
            let loss = try ce.lossAndGradient(
                logits: [1, 2, 3, 4, 5, 6], labels: [0, 1, 1] as [Int32], classes: 2, gradient: &gradient)
            precondition(loss.isFinite && gradient.count == 6)
        }
    }

    @Test("threads = Int.max / 2 + 1 is served, not a crash",)
    func threadsHalfIntMax() async {
        await #expect(processExitsWith: .success) {
            var ce = SoftmaxCrossEntropy(kernel: .reference)
            ce.threads = .max / 2 + 1
            var gradient = [Float]()
            let loss = try ce.lossAndGradient(
                logits: [1, 2, 3, 4, 5, 6], labels: [0, 1, 1] as [Int32], classes: 2, gradient: &gradient)
            precondition(loss.isFinite && gradient.count == 6)
        }
    }

    @Test("threads = 2⁴⁰ is served")
    func threadsHuge() throws {
        var ce = SoftmaxCrossEntropy(kernel: .vector)
        ce.threads = 1 << 40
        var gradient = [Float]()
        let loss = try ce.lossAndGradient(
            logits: [Float](repeating: 1, count: 6000), labels: [0, 1, 2] as [Int32], classes: 2000,
            gradient: &gradient)
        #expect(loss.isFinite && gradient.count == 6000)
    }
    #endif
}
