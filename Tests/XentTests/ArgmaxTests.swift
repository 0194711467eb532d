// The per-row argmax output and the correct-prediction count, every kernel, both thread paths; the
// argmax's search kernels (CXent.h: xent_f32_rfindeq_ukernel_fn, xent_u16_rfindeq_ukernel_fn).
import CXent
import Testing
@testable import Xent

@Suite struct ArgmaxTests {
    @Test("rowArgmax is the first index of each row's max; −1 for ignored and bad rows",
          arguments: Variant.all, [(9, 37), (2, 70_000)])
    func argmax(variant: Variant, shape: (rows: Int, classes: Int)) throws {
        let (rows, classes) = shape
        var (logits, labels) = LogitKind.masked.batch(rows: rows, classes: classes, seed: 17)
        // Ties: the first index wins, also across chunk boundaries.
        logits[classes - 1] = 50
        logits[classes / 2] = 50
        labels[0] = Int32(classes / 2)
        if rows > 2 {
            labels[1] = -100
            logits[2 * classes + 3] = .nan
        }
        let targets = softTargets(for: logits, classes: classes, seed: 17)
        for threads in [1, 2] {
            var ce = variant.configuration(.mean)
            ce.threads = threads
            var argmax = [Int32](repeating: 7, count: rows), softArgmax = [Int32](repeating: 7, count: rows)
            var gradient = logits
            try logits.withUnsafeBufferPointer { z in
                try labels.withUnsafeBufferPointer { t in
                    try argmax.withUnsafeMutableBufferPointer { a in
                        try gradient.withUnsafeMutableBufferPointer { g in
                            _ = try ce.lossAndGradient(
                                inPlace: g, labels: t, classes: classes, rowStatistics: .init(argmax: a))
                        }
                    }
                    try targets.withUnsafeBufferPointer { q in
                        try softArgmax.withUnsafeMutableBufferPointer { a in
                            _ = try ce.loss(logits: z, targets: q, classes: classes, rowStatistics: .init(argmax: a))
                        }
                    }
                }
            }
            for r in 0..<rows {
                let row = logits[r * classes ..< (r + 1) * classes]
                let expected: Int32
                if row.contains(where: \.isNaN) {
                    expected = -1
                } else {
                    let m = row.max()!
                    expected = Int32(row.firstIndex(of: m)! - r * classes)
                }
                #expect(
                    softArgmax[r] == expected, "\(variant) \(threads)t soft row \(r): \(softArgmax[r]) vs \(expected)")
                #expect(
                    argmax[r] == (labels[r] == -100 ? -1 : expected), "\(variant) \(threads)t row \(r): \(argmax[r])")
            }
            #expect(argmax[0] == Int32(classes / 2), "first of tied maxima")
            let correct = try argmax.withUnsafeBufferPointer { a in
                try labels.withUnsafeBufferPointer { t in try ce.correctPredictions(rowArgmax: a, labels: t) }
            }
            let expectedCorrect = (0..<rows).filter { labels[$0] != -100 && argmax[$0] == labels[$0] }.count
            #expect(correct == expectedCorrect && correct >= 1)
        }
    }

    @Test("16-bit in place: the argmax and the gradient as out of place (the search after the exp pass)",
          arguments: Variant.all)
    func halfInPlace(variant: Variant) throws {
        // Rows of one chunk, of two, and of three split over threads; ties across chunks.
        for classes in [37, 2200, 5000] {
            let rows = 3
            var (logits, labels) = LogitKind.masked.batch(rows: rows, classes: classes, seed: 23)
            logits[classes - 1] = 20
            logits[classes / 2] = 20
            labels[0] = Int32(classes / 2)
            for threads in [1, 3] {
                var ce = variant.configuration(.mean)
                ce.threads = threads
                func compare<E: LogitElement>(_ z: [E]) throws {
                    let apart = RowStatistics(.argmax), inPlace = RowStatistics(.argmax)
                    var gradient = z, overwritten = z
                    let loss = try ce.lossAndGradient(
                        logits: z, labels: labels, classes: classes, gradient: &gradient, rowStatistics: apart)
                    let lossInPlace = try ce.lossAndGradient(
                        inPlace: &overwritten, labels: labels, classes: classes, rowStatistics: inPlace)
                    let name = "\(variant) \(E.self) \(classes) classes, \(threads) threads"
                    #expect(apart.argmax == inPlace.argmax && apart.argmax[0] == Int32(classes / 2), "\(name)")
                    #expect(loss.bitPattern == lossInPlace.bitPattern, "\(name)")
                    let bytes = gradient.withUnsafeBytes { Array($0) }
                    #expect(bytes == overwritten.withUnsafeBytes { Array($0) }, "\(name)")
                }
                try compare(logits.map { Float16($0) })
                try compare(logits.map { BFloat16($0) })
            }
        }
    }

    @Test("rfindeq: the first element equal to the value, or n; every ISA's kernels, tails, offsets")
    func searchKernels() {
        // Rows of -1, -2, …; the value at `p` and again further on; a guard past n equal to the value
        // sought, which a read past n would find.
        let lengths = Array(1...70) + [127, 128, 129, 150, 191, 192, 193]
        for isa in InstructionSet.supported {
            let kernels = MicroKernels.config(isa.cValue)
            for n in lengths {
                for offset in 0..<3 {
                    for p in Set([0, n / 2, n - 1, n]) {
                        var x = [Float](repeating: 9, count: n + offset + 16)
                        for i in 0..<n { x[offset + i] = -Float(i + 1) }
                        if p < n { x[offset + p] = 9 }
                        if p + 5 < n { x[offset + p + 5] = 9 }
                        var u = x.indices.map { offset..<(offset + n) ~= $0 ? Float16(x[$0]).bitPattern : 0x8000 }
                        // −0 where a zero max is sought: found by the zero rule (0x7fff), never by
                        // the pattern alone (mask 0); the guards −0 too.
                        if p < n { u[offset + p] = 0x8000 }
                        if p + 5 < n { u[offset + p + 5] = 0 }
                        let found = x.withUnsafeBufferPointer { kernels.rfindeq!(n, $0.baseAddress! + offset, 9) }
                        #expect(found == p, "\(isa) n \(n) offset \(offset): \(found), want \(p)")
                        guard let half = kernels.u16_rfindeq else { continue }
                        u.withUnsafeBufferPointer { b in
                            let x = b.baseAddress! + offset
                            let zero = half(n, x, 0, 0x7fff), pattern = half(n, x, 0x8000, 0)
                            let none = half(n, x, 0x7e00, 0)
                            #expect(zero == p && pattern == p && none == n, "\(isa) n \(n) offset \(offset) p \(p)")
                        }
                    }
                }
            }
            // A NaN is never found; either zero finds the other: in a tail and in the 64-element loop.
            for (at, n) in [(2, 4), (100, 150)] {
                var x = [Float](repeating: .nan, count: n)
                x[at] = -0.0
                x[at + 1] = 0
                x.withUnsafeBufferPointer { b in
                    let x = b.baseAddress!
                    #expect(kernels.rfindeq!(n, x, .nan) == n, "\(isa) NaN, \(n)")
                    #expect(kernels.rfindeq!(n, x, 0) == at && kernels.rfindeq!(n, x, -0.0) == at, "\(isa) ±0, \(n)")
                    #expect(kernels.rfindeq!(n - at - 1, x + at + 1, -0.0) == 0, "\(isa) −0 finds +0, \(n)")
                }
            }
        }
    }

    @Test("the argmax at every position of a row, before and after 16- and 64-element blocks, ties, a zero max",
          arguments: Variant.all)
    func argmaxPositions(variant: Variant) throws {
        // Rows of 70 classes (a 64-element block and a tail), of 150 (two 64-element blocks, one of
        // 16 and a tail) and of 2200 (two chunks, the second of 152): the max at each position of
        // the first, tied with a later one in the same block or the next, and a row whose max is
        // zero (either sign) among negatives; Float, Float16 and BFloat16.
        for classes in [70, 150, 2200] {
            let positions = classes < 2048
                ? Array(0..<classes) : [0, 15, 16, 63, 64, 2047, 2048, 2063, 2064, 2111, 2112, 2175, 2176, 2199]
            var rows: [[Float]] = [], want: [Int32] = []
            for p in positions {
                var row = (0..<classes).map { Float(-(($0 * 7) % 13)) - 1 }
                row[p] = 3
                rows.append(row)
                want.append(Int32(p))
                for later in [p + 1, p + 15, p + 16, p + 17, p + 63, p + 64] where later < classes {
                    var tied = row
                    tied[later] = 3
                    rows.append(tied)
                    want.append(Int32(p))
                }
                var zero = row.map { $0 - 5 }
                zero[p] = p % 2 == 0 ? 0 : -0.0
                if p + 3 < classes { zero[p + 3] = 0 }
                rows.append(zero)
                want.append(Int32(p))
            }
            let logits = rows.flatMap { $0 }
            let labels = [Int32](repeating: 0, count: rows.count)
            let ce = variant.configuration(.sum)
            func argmax<E: LogitElement>(_ z: [E]) throws -> [Int32] {
                let stats = RowStatistics(.argmax)
                _ = try ce.loss(logits: z, labels: labels, classes: classes, rowStatistics: stats)
                return stats.argmax
            }
            #expect(try argmax(logits) == want, "\(variant) Float, \(classes) classes")
            #expect(try argmax(logits.map { Float16($0) }) == want, "\(variant) Float16, \(classes) classes")
            #expect(try argmax(logits.map { BFloat16($0) }) == want, "\(variant) BFloat16, \(classes) classes")
        }
    }

    #if arch(x86_64)
    @Test("a bfloat16 row whose max is subnormal under DAZ alone or flush-to-zero alone: every ISA as SSE2")
    func subnormalMaxUnderFloatControls() throws {
        // Rows of bfloat16 subnormals (0x0058 the largest), one with a zero before them, one with
        // negative values too, one of negative subnormals alone. Flush-to-zero alone leaves the inputs
        // alone: the argmax is the largest subnormal's index. Denormals-are-zero reads them as zeros:
        // the first of them (or the zero), and a vocabulary shard's max +0, as a zero max's.
        let rows: [[UInt16]] = [
            [0x0058], [0x0000, 0x0058], [0x0015, 0x0058, 0x003f], [0x8001, 0x0028, 0x0058], [0x8058, 0x8001, 0x8028],
        ]
        let classes = 3
        var logits: [BFloat16] = []
        for row in rows {
            logits += (0..<classes).map { BFloat16(bitPattern: $0 < row.count ? row[$0] : 0x8050) }
        }
        let labels = [Int32](repeating: 0, count: rows.count)
        func statistics(_ isa: InstructionSet, threads: Int) throws -> ([Int32], [UInt32], UInt32, [UInt64]) {
            let ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa, threads: threads)
            let stats = RowStatistics(.all)
            let loss = try ce.loss(logits: logits, labels: labels, classes: classes, rowStatistics: stats)
            var maxima: [Double] = []
            try ce.shardMaxima(
                logits: logits, labels: labels, shard: VocabShard(classes: classes, offset: 0, count: classes),
                argmax: true, state: VocabShardState(), rowMaxima: &maxima)
            return (stats.argmax, stats.logSumExp.map(\.bitPattern), loss.bitPattern, maxima.map(\.bitPattern))
        }
        let own = xent_float_controls()
        defer { xent_set_float_controls(own) }
        for controls: UInt64 in [0x40, 0x8000] {
            xent_set_float_controls((own & ~0x8040) | controls)
            let want = try statistics(.sse2, threads: 1)
            #expect(!want.0.contains(-1), "controls \(controls): \(want.0)")
            // FTZ alone: the largest subnormal; DAZ: the first of the values that read as zero.
            #expect(
                want.0 == (controls == 0x8000 ? [0, 1, 1, 2, 1] : [0, 0, 0, 0, 0]), "controls \(controls): \(want.0)")
            // The shard's maxima: +0 where every value reads as zero, else the largest subnormal.
            let largest: [UInt16] = [0x0058, 0x0058, 0x0058, 0x0058, 0x8001]
            let maxima = largest.flatMap { bits -> [UInt64] in
                let max = controls == 0x40 ? 0 : Double(Float(BFloat16(bitPattern: bits)))
                return [max.bitPattern, max.bitPattern]
            }
            #expect(want.3 == maxima, "controls \(controls): \(want.3)")
            for isa in InstructionSet.supported where isa != .scalar {
                for threads in [1, 2] {
                    let got = try statistics(isa, threads: threads)
                    #expect(got.0 == want.0 && got.1 == want.1 && got.2 == want.2 && got.3 == want.3,
                            "controls \(controls), \(isa), \(threads)t: \(got) against SSE2's \(want)")
                }
            }
        }
    }
    #endif
}
