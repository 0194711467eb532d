// Float16 and bfloat16 logits: the conversions, bit-for-bit agreement with the Float path on the
// widened inputs, and NUMERICS.md's bounds plus half an ulp of the format against the Double truth.
import CXent
import Foundation
import Testing
@testable import Xent

/// A 16-bit format under test, with its conversions.
protocol HalfUnderTest: HalfPrecisionFloat {
    init(rounding value: Float)
    var widened: Float { get }
    /// Half an ulp of the format at `x` (relative part), and at its smallest subnormal spacing.
    static func halfUlp(_ x: Double) -> Double
}

extension Float16: HalfUnderTest {
    init(rounding value: Float) { self.init(value) }
    var widened: Float { Float(self) }
    static func halfUlp(_ x: Double) -> Double { Swift.max(abs(x) * 0x1p-11, 0x1p-25) }
}

extension BFloat16: HalfUnderTest {
    init(rounding value: Float) { self.init(value) }
    var widened: Float { float }
    static func halfUlp(_ x: Double) -> Double { abs(x) * 0x1p-8 + 1e-38 }
}

@Suite struct HalfPrecisionTests {
    @Test("16-bit arrays and spans equal the unsafe-buffer calls, bit for bit", arguments: Variant.all)
    func arraysAndSpans(variant: Variant) throws {
        try arraysAndSpans(Float16.self, variant: variant)
        try arraysAndSpans(BFloat16.self, variant: variant)
    }

    func arraysAndSpans<H: HalfUnderTest>(_: H.Type, variant: Variant) throws {
        let (rows, classes) = (4, 37)
        var (floats, labels) = LogitKind.normal.batch(rows: rows, classes: classes, seed: 17)
        labels[1] = -100
        let logits = floats.map(H.init(rounding:))
        let targets = softTargets(for: floats, classes: classes, seed: 17).map(H.init(rounding:))
        floats = []
        let ce = variant.configuration(.mean)
        for soft in [false, true] {
            // The unsafe-buffer call: the reference for the others.
            var gradient = [H](repeating: H(rounding: 0), count: logits.count)
            var losses = [Float](repeating: 0, count: rows), lse = losses, argmax = [Int32](repeating: 0, count: rows)
            let loss = try logits.withUnsafeBufferPointer { z in
                try gradient.withUnsafeMutableBufferPointer { g in
                    try losses.withUnsafeMutableBufferPointer { r in
                        try lse.withUnsafeMutableBufferPointer { l in
                            try argmax.withUnsafeMutableBufferPointer { a in
                                let outputs = RowStatistics.Buffers(losses: r, logSumExp: l, argmax: a)
                                return soft
                                    ? try targets.withUnsafeBufferPointer { q in
                                        try ce.lossAndGradient(
                                            logits: z, targets: q, classes: classes, gradient: g,
                                            rowStatistics: outputs)
                                    }
                                    : try labels.withUnsafeBufferPointer { t in
                                        try ce.lossAndGradient(
                                            logits: z, labels: t, classes: classes, gradient: g, rowStatistics: outputs)
                                    }
                            }
                        }
                    }
                }
            }
            let bits = gradient.map(\.widened.bitPattern)
            func same(_ statistics: RowStatistics) -> Bool {
                statistics.losses == losses && statistics.logSumExp.map(\.bitPattern) == lse.map(\.bitPattern)
                    && statistics.argmax == argmax
            }
            let context = "\(variant) \(H.self) soft \(soft)"

            let arrayStats = RowStatistics()
            var arrayGradient = [H]()
            let a = soft
                ? try ce.lossAndGradient(
                    logits: logits, targets: targets, classes: classes, gradient: &arrayGradient,
                    rowStatistics: arrayStats)
                : try ce.lossAndGradient(
                    logits: logits, labels: labels, classes: classes, gradient: &arrayGradient,
                    rowStatistics: arrayStats)
            #expect(
                a == loss && arrayGradient.map(\.widened.bitPattern) == bits && same(arrayStats), "\(context) arrays")
            let f = soft
                ? try ce.loss(logits: logits, targets: targets, classes: classes)
                : try ce.loss(logits: logits, labels: labels, classes: classes)
            #expect(f == loss, "\(context) array forward")
            var inPlace = logits
            let i = soft
                ? try ce.lossAndGradient(inPlace: &inPlace, targets: targets, classes: classes)
                : try ce.lossAndGradient(inPlace: &inPlace, labels: labels, classes: classes)
            #expect(i == loss && inPlace.map(\.widened.bitPattern) == bits, "\(context) array in place")

            #if compiler(>=6.2)
            var spanGradient = [H](repeating: H(rounding: 0), count: logits.count)
            var gs = spanGradient.mutableSpan
            let spanStats = RowStatistics()
            let s = soft
                ? try ce.lossAndGradient(
                    logits: logits.span, targets: targets.span, classes: classes, gradient: &gs,
                    rowStatistics: spanStats)
                : try ce.lossAndGradient(
                    logits: logits.span, labels: labels.span, classes: classes, gradient: &gs, rowStatistics: spanStats)
            _ = consume gs
            #expect(s == loss && spanGradient.map(\.widened.bitPattern) == bits && same(spanStats), "\(context) spans")
            var spanInPlace = logits
            var ips = spanInPlace.mutableSpan
            let si = soft
                ? try ce.lossAndGradient(inPlace: &ips, targets: targets.span, classes: classes)
                : try ce.lossAndGradient(inPlace: &ips, labels: labels.span, classes: classes)
            _ = consume ips
            #expect(si == loss && spanInPlace.map(\.widened.bitPattern) == bits, "\(context) span in place")
            #endif
        }
    }

    @Test("widening is exact and rounding is IEEE's to nearest even, on every ISA")
    func conversions() throws {
        var rng = SeededGenerator(seed: 99)
        var floats: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, 65504, 65520,
                               65519.99, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-26, .leastNonzeroMagnitude,
                               3.140625, 1.00390625]
        for _ in 0..<20000 { floats.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))) }
        for _ in 0..<20000 { floats.append(rng.normal(sd: 10)) }
        let halves = (0...UInt16.max).map { $0 }
        for isa in InstructionSet.supported {
            // Widening: all 65536 patterns of both formats.
            for format in [XENT_HALF_BINARY16, XENT_HALF_BFLOAT16] {
                var wide = [Float](repeating: 0, count: halves.count)
                MicroKernels.widen(cISA(isa), format, halves, &wide, count: halves.count)
                for (h, w) in zip(halves, wide) {
                    let expected =
                        format == XENT_HALF_BINARY16 ? Float(Float16(bitPattern: h)) : BFloat16(bitPattern: h).float
                    #expect(w.bitPattern == expected.bitPattern || (w.isNaN && expected.isNaN), "\(isa) widen \(h)")
                }
            }
            // Rounding: against Swift's Float16(_:) and BFloat16(_:) (checked by hand below).
            var f16 = [UInt16](repeating: 0, count: floats.count), bf16 = f16
            MicroKernels.round(cISA(isa), XENT_HALF_BINARY16, floats, &f16, count: floats.count)
            MicroKernels.round(cISA(isa), XENT_HALF_BFLOAT16, floats, &bf16, count: floats.count)
            var mismatches = 0
            for (i, x) in floats.enumerated() {
                let e16 = Float16(x), eb = BFloat16(x)
                if !(f16[i] == e16.bitPattern || (x.isNaN && Float16(bitPattern: f16[i]).isNaN)) { mismatches += 1 }
                if !(bf16[i] == eb.bitPattern || (x.isNaN && BFloat16(bitPattern: bf16[i]).float.isNaN)) {
                    mismatches += 1
                }
            }
            #expect(mismatches == 0, "\(isa): \(mismatches) roundings differ")
        }
        // BFloat16's rounding by hand: ties to even, overflow to inf, NaN kept quiet.
        #expect(BFloat16(Float(bitPattern: 0x3f80_8000)).bitPattern == 0x3f80)  // tie, even below
        #expect(BFloat16(Float(bitPattern: 0x3f81_8000)).bitPattern == 0x3f82)  // tie, even above
        #expect(BFloat16(Float(bitPattern: 0x3f80_8001)).bitPattern == 0x3f81)
        #expect(BFloat16(.greatestFiniteMagnitude).float == .infinity)
        #expect(BFloat16(Float(bitPattern: 0x7f80_0001)).float.isNaN)
        #expect(BFloat16(3.14159).float == 3.140625 && BFloat16(3.14159).bitPattern == 0x4049)
    }

    @Test("Float16 logits: the Float path's bits rounded once, and within the bounds", arguments: Variant.all)
    func float16(variant: Variant) throws {
        try check(Float16.self, variant: variant)
    }

    @Test("bfloat16 logits: the Float path's bits rounded once, and within the bounds", arguments: Variant.all)
    func bfloat16(variant: Variant) throws {
        try check(BFloat16.self, variant: variant)
    }

    func check<H: HalfUnderTest>(_: H.Type, variant: Variant) throws {
        for classes in [37, 3000] {
            for kind in [LogitKind.normal, .dominant, .masked, .tiny] {
                let rows = 5
                let (raw, rawLabels) = kind.batch(rows: rows, classes: classes, seed: 21)
                var labels = rawLabels
                labels[1] = -100
                let half = raw.map { H(rounding: $0) }
                let logits = half.map(\.widened)
                let softRaw = softTargets(for: logits, classes: classes, seed: 21)
                let softHalf = softRaw.map { H(rounding: $0) }
                let soft = softHalf.map(\.widened)
                for threads in [1, 2] {
                    var ce = variant.configuration(.mean)
                    ce.threads = threads
                    let context = "\(H.self) \(variant) \(classes) \(kind) threads \(threads)"
                    for useSoft in [false, true] {
                        // The Float path on the widened inputs.
                        var floatGradient = [Float]()
                        let floatRows = RowStatistics(.losses)
                        let floatLoss = useSoft
                            ? try ce.lossAndGradient(
                                logits: logits, targets: soft, classes: classes, gradient: &floatGradient,
                                rowStatistics: floatRows)
                            : try ce.lossAndGradient(
                                logits: logits, labels: labels, classes: classes, gradient: &floatGradient,
                                rowStatistics: floatRows)
                        for inPlace in [false, true] {
                            var gradient = inPlace ? half : [H](repeating: H(rounding: 7), count: half.count)
                            var rowLosses = [Float](repeating: 0, count: rows)
                            var lse = [Float](repeating: 0, count: rows)
                            let loss: Float = try half.withUnsafeBufferPointer { z in
                                try gradient.withUnsafeMutableBufferPointer { g in
                                    try rowLosses.withUnsafeMutableBufferPointer { r in
                                        try lse.withUnsafeMutableBufferPointer { l in
                                            switch (useSoft, inPlace) {
                                            case (false, false):
                                                return try labels.withUnsafeBufferPointer { t in
                                                    try ce.lossAndGradient(
                                                        logits: z, labels: t, classes: classes, gradient: g,
                                                        rowStatistics: .init(losses: r, logSumExp: l))
                                                }
                                            case (false, true):
                                                return try labels.withUnsafeBufferPointer { t in
                                                    try ce.lossAndGradient(
                                                        inPlace: g, labels: t, classes: classes,
                                                        rowStatistics: .init(losses: r, logSumExp: l))
                                                }
                                            case (true, false):
                                                return try softHalf.withUnsafeBufferPointer { q in
                                                    try ce.lossAndGradient(
                                                        logits: z, targets: q, classes: classes, gradient: g,
                                                        rowStatistics: .init(losses: r, logSumExp: l))
                                                }
                                            case (true, true):
                                                return try softHalf.withUnsafeBufferPointer { q in
                                                    try ce.lossAndGradient(
                                                        inPlace: g, targets: q, classes: classes,
                                                        rowStatistics: .init(losses: r, logSumExp: l))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            let where_ = "\(context) soft \(useSoft) inPlace \(inPlace)"
                            // Bit for bit: the same Float computation, rounded once.
                            #expect(
                                loss.bitPattern == floatLoss.bitPattern,
                                "\(where_): loss \(loss) vs Float \(floatLoss)")
                            #expect(rowLosses == floatRows.losses, "\(where_): row losses")
                            let rounded = floatGradient.map { H(rounding: $0).widened.bitPattern }
                            #expect(
                                gradient.map(\.widened.bitPattern) == rounded,
                                "\(where_): gradient is not the Float one rounded")
                            // And the bound against the Double truth on the same (rounded) inputs.
                            let counted = useSoft ? rows : rows - 1
                            var worst = 0.0
                            for r in 0..<rows where useSoft || labels[r] != -100 {
                                let range = r * classes ..< (r + 1) * classes
                                let q =
                                    useSoft
                                    ? soft[range].map(Double.init)
                                    : (0..<classes).map { $0 == Int(labels[r]) ? 1.0 : 0.0 }
                                let truth = try #require(RowTruth(logits: logits[range], targets: q))
                                for j in 0..<classes {
                                    let expected = truth.gradient(j) / Double(counted)
                                    let bound =
                                        truth.gradientBound(
                                            j, z: logits[range.lowerBound + j], scale: 1 / Double(counted))
                                        + H.halfUlp(expected)
                                    worst = max(
                                        worst, abs(Double(gradient[range.lowerBound + j].widened) - expected) / bound)
                                }
                                #expect(
                                    abs(Double(lse[r]) - truth.lse) <= 1e-6 * max(1, abs(truth.lse))
                                        + Double(Float(truth.lse).ulp))
                            }
                            #expect(worst <= 1, "\(where_): gradient error \(worst)× the bound")
                            if !useSoft {
                                #expect(
                                    gradient[classes ..< 2 * classes].allSatisfy { $0.widened == 0 },
                                    "\(where_): ignored row")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("16-bit forward over rows of several chunks: the Float path's loss and row outputs, bit for bit",
          arguments: Variant.all)
    func forwardChunks(variant: Variant) throws {
        try forwardChunks(Float16.self, variant: variant)
        try forwardChunks(BFloat16.self, variant: variant)
    }

    /// Forward only over rows of 5000 classes (two whole chunks and a partial one), with a transform
    /// (its own scratch), smoothing, soft targets and the argmax, on one thread and two, against the
    /// Float call on the widened inputs; and with none of the options (where an ISA has it, the exp
    /// pass over the 16-bit logits themselves).
    func forwardChunks<H: HalfUnderTest>(_: H.Type, variant: Variant) throws {
        let (rows, classes) = (3, 5000)
        let (raw, labels) = LogitKind.normal.batch(rows: rows, classes: classes, seed: 29)
        var half = raw.map { H(rounding: $0) }
        // Each row's max in its last chunk, so the argmax and the combine depend on every chunk.
        for r in 0..<rows { half[r * classes + 4500 + r] = H(rounding: 40) }
        let logits = half.map(\.widened)
        let softHalf = softTargets(for: logits, classes: classes, seed: 29).map { H(rounding: $0) }
        let soft = softHalf.map(\.widened)
        for (scale, cap, smoothing) in [(Float(1), Float(0), Float(0)), (1, 0, 0.1), (0.5, 0, 0.1), (1, 30, 0.1)] {
            for threads in [1, 2] {
                var ce = variant.configuration(.mean)
                ce.threads = threads
                ce.logitScale = scale
                ce.softcap = cap > 0 ? cap : nil
                ce.labelSmoothing = smoothing
                for useSoft in [false, true] {
                    let halfRows = RowStatistics(), floatRows = RowStatistics()
                    let halfLoss = useSoft
                        ? try ce.loss(logits: half, targets: softHalf, classes: classes, rowStatistics: halfRows)
                        : try ce.loss(logits: half, labels: labels, classes: classes, rowStatistics: halfRows)
                    let floatLoss = useSoft
                        ? try ce.loss(logits: logits, targets: soft, classes: classes, rowStatistics: floatRows)
                        : try ce.loss(logits: logits, labels: labels, classes: classes, rowStatistics: floatRows)
                    let context = "\(variant) \(H.self) scale \(scale) cap \(cap) smoothing \(smoothing) "
                        + "threads \(threads) soft \(useSoft)"
                    #expect(halfLoss.bitPattern == floatLoss.bitPattern, "\(context): loss")
                    #expect(halfRows.losses.map(\.bitPattern) == floatRows.losses.map(\.bitPattern), "\(context)")
                    #expect(halfRows.logSumExp.map(\.bitPattern) == floatRows.logSumExp.map(\.bitPattern), "\(context)")
                    #expect(halfRows.argmax == floatRows.argmax, "\(context): argmax")
                    #expect(halfRows.argmax == (0..<rows).map { Int32(4500 + $0) }, "\(context): argmax")
                }
            }
        }
    }

    @Test("16-bit argmax: the Float path's, with zero, −0, −inf and ties around the max", arguments: Variant.all)
    func argmaxSpecials(variant: Variant) throws {
        try argmaxSpecials(Float16.self, variant: variant)
        try argmaxSpecials(BFloat16.self, variant: variant)
    }

    /// Label rows with no transform or smoothing over two chunks: zero maxima whose first zero is −0
    /// (in one chunk, and across the two), a max after a chunk of masked classes, a tie across the
    /// chunks; on one thread, two (claiming blocks of rows) and three (each row's chunks split). (A
    /// row holding NaN has no argmax: −1 on every path.)
    func argmaxSpecials<H: HalfUnderTest>(_: H.Type, variant: Variant) throws {
        let (rows, classes) = (5, 3000)
        let (raw, _) = LogitKind.normal.batch(rows: rows, classes: classes, seed: 31)
        let labels: [Int32] = [9, 2500, 2900, 2100, 2999]
        var logits = raw.map { -abs($0) - 1 }
        logits[0 * classes + 7] = -0.0
        logits[0 * classes + 9] = 0
        logits[1 * classes + 2500] = 0
        logits[1 * classes + 2600] = -0.0
        for i in 0..<2048 { logits[2 * classes + i] = -.infinity }
        logits[2 * classes + 2900] = 2
        logits[2 * classes + 2950] = 2
        for i in 0..<100 { logits[3 * classes + 20 * i] = -.infinity }
        logits[3 * classes + 1001] = 5
        logits[3 * classes + 2200] = 5
        logits[4 * classes + 100] = -0.0
        logits[4 * classes + 2999] = 0
        let half = logits.map { H(rounding: $0) }
        let widened = half.map(\.widened)
        for threads in [1, 2, 3] {
            var ce = variant.configuration(.none)
            ce.threads = threads
            let halfRows = RowStatistics(), floatRows = RowStatistics()
            var halfGradient = [H](repeating: H(rounding: 0), count: rows * classes)
            var floatGradient = [Float](repeating: 0, count: rows * classes)
            _ = try ce.lossAndGradient(logits: half, labels: labels, classes: classes, gradient: &halfGradient,
                                       rowStatistics: halfRows)
            _ = try ce.lossAndGradient(logits: widened, labels: labels, classes: classes, gradient: &floatGradient,
                                       rowStatistics: floatRows)
            let context = "\(variant) \(H.self) threads \(threads)"
            #expect(halfRows.argmax == floatRows.argmax, "\(context)")
            #expect(halfRows.argmax == [7, 2500, 2900, 1001, 100], "\(context)")
            #expect(halfRows.losses.map(\.bitPattern) == floatRows.losses.map(\.bitPattern), "\(context)")
        }
    }

    @Test("one long 16-bit row split over threads: the bits of one thread, the Float path's rounded",
          arguments: Variant.all)
    func longRowThreads(variant: Variant) throws {
        let classes = 9000
        let (raw, labels) = LogitKind.masked.batch(rows: 1, classes: classes, seed: 8)
        let half = raw.map { Float16($0) }
        let logits = half.map { Float($0) }
        let soft = softTargets(for: logits, classes: classes, seed: 8).map { Float16($0) }
        let weights = (0..<classes).map { Float(1 + $0 % 5) / 4 }
        // Smoothing and a logit scale (the logits widened into the workspace); no option, and class
        // weights (where an ISA has it, the exp pass over the 16-bit logits, but for soft targets
        // with class weights).
        for (option, useSoft) in [0, 1, 2].flatMap({ o in [false, true].map { (o, $0) } }) {
            var results: [[Float16]] = [], losses: [Float] = []
            for threads in [1, 2, 3] {
                var ce = variant.configuration(.mean)
                ce.threads = threads
                if option == 0 {
                    ce.labelSmoothing = 0.1
                    ce.logitScale = 0.5
                }
                if option == 2 { ce.classWeights = weights }
                var gradient = [Float16](repeating: 0, count: classes)
                losses.append(try half.withUnsafeBufferPointer { z in
                    try gradient.withUnsafeMutableBufferPointer { g in
                        useSoft
                            ? try soft.withUnsafeBufferPointer { q in
                                try ce.lossAndGradient(logits: z, targets: q, classes: classes, gradient: g)
                            }
                            : try labels.withUnsafeBufferPointer { t in
                                try ce.lossAndGradient(logits: z, labels: t, classes: classes, gradient: g)
                            }
                    }
                })
                results.append(gradient)
                if threads == 1 {
                    var floatGradient = [Float]()
                    let floatLoss = useSoft
                        ? try ce.lossAndGradient(
                            logits: logits, targets: soft.map { Float($0) }, classes: classes, gradient: &floatGradient)
                        : try ce.lossAndGradient(
                            logits: logits, labels: labels, classes: classes, gradient: &floatGradient)
                    #expect(floatLoss.bitPattern == losses[0].bitPattern, "\(variant) option \(option) soft \(useSoft)")
                    #expect(
                        floatGradient.map { Float16($0).bitPattern } == gradient.map(\.bitPattern),
                        "\(variant) option \(option) soft \(useSoft)")
                }
            }
            #expect(
                losses.allSatisfy { $0.bitPattern == losses[0].bitPattern },
                "\(variant) option \(option) soft \(useSoft): \(losses)")
            #expect(
                results.allSatisfy { $0.map(\.bitPattern) == results[0].map(\.bitPattern) },
                "\(variant) option \(option) soft \(useSoft)")
        }
    }

    @Test("the label's p_t − 1 survives when p_t rounds to 1 in 16 bits", arguments: Variant.all)
    func labelTermIsFormedInFloat(variant: Variant) throws {
        // p_t = 1 / (1 + 9·e⁻¹²) ≈ 1 − 5.5e-5: 1.0 in bfloat16 and nearly in Float16.
        let classes = 10
        var logits = [BFloat16](repeating: BFloat16(0), count: classes)
        logits[3] = BFloat16(12)
        let ce = variant.configuration(.sum)
        var gradient = [BFloat16](repeating: BFloat16(0), count: classes)
        _ = try logits.withUnsafeBufferPointer { z in
            try [Int32(3)].withUnsafeBufferPointer { t in
                try gradient.withUnsafeMutableBufferPointer { g in
                    try ce.lossAndGradient(logits: z, labels: t, classes: classes, gradient: g)
                }
            }
        }
        let expected = -9 * exp(-12.0) / (1 + 9 * exp(-12.0))
        #expect(
            abs(Double(gradient[3].float) - expected) <= abs(expected) * 0x1p-8,
            "g_t = \(gradient[3]), want \(expected)")
    }

    @Test("a 16-bit row holding NaN or +inf gets a NaN gradient row; the others are finite", arguments: Variant.all)
    func badRows(variant: Variant) throws {
        let classes = 3000  // two chunks
        var logits = [Float16](repeating: 0.5, count: 3 * classes)
        logits[10] = .nan
        logits[2 * classes + 2500] = .infinity
        for threads in [1, 2] {
            var ce = variant.configuration(.sum)
            ce.threads = threads
            var gradient = [Float16](repeating: 7, count: logits.count)
            let loss = try logits.withUnsafeBufferPointer { z in
                try [Int32(1), 2, 3].withUnsafeBufferPointer { t in
                    try gradient.withUnsafeMutableBufferPointer { g in
                        try ce.lossAndGradient(logits: z, labels: t, classes: classes, gradient: g)
                    }
                }
            }
            #expect(loss.isNaN)
            #expect(
                gradient[0 ..< classes].allSatisfy { $0.isNaN } && gradient[(2 * classes)...].allSatisfy { $0.isNaN },
                "\(variant)")
            #expect(gradient[classes ..< 2 * classes].allSatisfy { $0.isFinite }, "\(variant)")
        }
    }

    @Test("16-bit calls validate like Float ones, before writing anything", arguments: Variant.all)
    func errors(variant: Variant) throws {
        let logits = [Float16](repeating: 1, count: 10)
        var gradient = [Float16](repeating: 7, count: 9)
        let ce = variant.configuration(.mean)
        #expect(throws: XentError.lengthMismatch(argument: "gradient", expected: 10, actual: 9)) {
            try logits.withUnsafeBufferPointer { z in
                try [Int32(0), 1].withUnsafeBufferPointer { t in
                    try gradient.withUnsafeMutableBufferPointer { g in
                        try ce.lossAndGradient(logits: z, labels: t, classes: 5, gradient: g)
                    }
                }
            }
        }
        #expect(gradient.allSatisfy { $0 == 7 })
        var overlapping = [Float16](repeating: 7, count: 12)
        #expect(throws: XentError.overlappingBuffers(first: "gradient", second: "logits")) {
            try overlapping.withUnsafeMutableBufferPointer { all in
                let z = UnsafeBufferPointer(rebasing: all[0..<10])
                let g = UnsafeMutableBufferPointer(rebasing: all[2..<12])
                return try [Int32(0), 1].withUnsafeBufferPointer { t in
                    try ce.lossAndGradient(logits: z, labels: t, classes: 5, gradient: g)
                }
            }
        }
        #expect(overlapping.allSatisfy { $0 == 7 })
    }
}
