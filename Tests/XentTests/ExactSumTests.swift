// The order-free sum the row combine uses: the same bits for any order and grouping of the terms,
// a single term back unchanged, exact rounding where the exact sum is known.
import Testing
@testable import Xent

@Suite struct ExactSumTests {
    /// Terms across the whole range: subnormals, tiny, around 1, huge, both signs.
    static func term(_ g: inout SeededGenerator) -> Double {
        let exponent = Int.random(in: -1080...1020, using: &g)
        let significand = Double.random(in: 1..<2, using: &g)
        let x = Double(sign: .plus, exponent: exponent, significand: significand)
        return Bool.random(using: &g) ? -x : x
    }

    static func sum(_ terms: [Double]) -> ExactSum {
        var s = ExactSum()
        for x in terms { s.add(x) }
        return s
    }

    @Test("one term comes back unchanged, subnormals and extremes included")
    func singleTerm() {
        var g = SeededGenerator(seed: 1)
        // (±0 is not a term: an empty sum is +0, checked below.)
        var terms = (0..<20_000).map { _ in Self.term(&g) }.filter { $0 != 0 }
        terms += [
            .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, 1, -1, 0x1p-1074 * 3, 0x1.fffffffffffffp-1022, 0x1p32, 0x1p32.nextDown,
        ]
        for x in terms {
            let value = Self.sum([x]).value
            #expect(value.bitPattern == x.bitPattern, "\(x) came back as \(value)")
        }
        #expect(Self.sum([]).value.bitPattern == (0.0).bitPattern)
        #expect(Self.sum([-0.0, 0.0]).value.bitPattern == (0.0).bitPattern)
        #expect(Self.sum([5, -5]).value.bitPattern == (0.0).bitPattern)
    }

    @Test("any order and any grouping of the terms gives the same sum", arguments: 0..<6)
    func orderFree(seed: UInt64) {
        var g = SeededGenerator(seed: 100 + seed)
        for trial in 0..<300 {
            let count = Int.random(in: 1...600, using: &g)
            // Narrow and wide spreads of magnitudes: most sums here are rows of a few dozen
            // binades; the wide ones exercise the window's shifts.
            let narrow = trial % 2 == 0
            let terms: [Double] = (0..<count).map { _ in
                if narrow {
                    let x = Double(sign: .plus, exponent: Int.random(in: -30...30, using: &g),
                                   significand: Double.random(in: 1..<2, using: &g))
                    return trial % 4 == 0 && Bool.random(using: &g) ? -x : x
                }
                return Self.term(&g)
            }
            let reference = Self.sum(terms)
            let shuffled = Self.sum(terms.shuffled(using: &g))
            #expect(shuffled == reference, "trial \(trial): shuffled terms")
            #expect(shuffled.value.bitPattern == reference.value.bitPattern)
            // Cut into 1–5 groups of a shuffled order, summed apart, merged in a random order.
            let order = terms.shuffled(using: &g)
            let groups = Int.random(in: 1...5, using: &g)
            var cuts = (0..<(groups - 1)).map { _ in Int.random(in: 0...count, using: &g) }.sorted()
            cuts = [0] + cuts + [count]
            var parts = (0..<groups).map { Self.sum(Array(order[cuts[$0]..<cuts[$0 + 1]])) }
            parts.shuffle(using: &g)
            var merged = ExactSum()
            for part in parts { merged.merge(part) }
            #expect(merged == reference, "trial \(trial): \(groups) groups merged")
            #expect(merged.value.bitPattern == reference.value.bitPattern)
        }
    }

    @Test("the sum is the exact one rounded once (terms on a grid where the exact sum is known)")
    func correctlyRounded() {
        var g = SeededGenerator(seed: 7)
        for trial in 0..<2000 {
            // Multiples of 2⁻²⁰ below 2³⁰: the exact sum is an Int64 count of 2⁻²⁰, and
            // Double(Int64) rounds it once to nearest even.
            let count = Int.random(in: 1...400, using: &g)
            var exact: Int64 = 0
            var terms = [Double]()
            for _ in 0..<count {
                let units = Int64.random(in: -(1 << 50)...(1 << 50), using: &g) >> Int.random(in: 0...40, using: &g)
                exact += units
                terms.append(Double(units) * 0x1p-20)
            }
            let expected = Double(exact) * 0x1p-20
            let value = Self.sum(terms).value
            #expect(value.bitPattern == expected.bitPattern, "trial \(trial): \(value) vs \(expected)")
        }
        // Far below the largest term, a term's digits fall out of the window: what is dropped is
        // below 2⁻⁶⁴ of it.
        #expect(Self.sum([0x1p100, 1, -0x1p100]).value == 0)
        #expect(Self.sum([0x1p60, 1, -0x1p60]).value == 1)
    }

    @Test("non-finite terms: IEEE sums in any order, and they win over the finite part")
    func nonFinite() {
        #expect(Self.sum([1, .infinity, 2]).value == .infinity)
        #expect(Self.sum([-.infinity, 1]).value == -.infinity)
        #expect(Self.sum([.infinity, 3, -.infinity]).value.isNaN)
        #expect(Self.sum([-.infinity, .infinity]).value.isNaN)
        #expect(Self.sum([.nan, 1]).value.isNaN)
        #expect(Self.sum([1, .nan]).value.isNaN)
        var a = Self.sum([1, 2]), b = Self.sum([.infinity])
        a.merge(b)
        #expect(a.value == .infinity)
        b.merge(Self.sum([.nan]))
        #expect(b.value.isNaN)
    }

    @Test("the flat layout reads back what was written, and refuses values outside its domain")
    func flatLayout() {
        var g = SeededGenerator(seed: 9)
        for _ in 0..<500 {
            let s = Self.sum((0..<Int.random(in: 0...50, using: &g)).map { _ in Self.term(&g) })
            var flat = [Double](repeating: 0, count: ExactSum.flatCount)
            flat.withUnsafeMutableBufferPointer { s.write(to: $0.baseAddress!) }
            let back = flat.withUnsafeBufferPointer { ExactSum(reading: $0.baseAddress!) }
            #expect(back == s)
        }
        let bad: [[Double]] = [
            [0.5, 0, 0, 0, 0], [40, 0, 0, 0, 0], [.nan, 0, 0, 0, 0], [3, 1.5, 0, 0, 0], [3, 0x1p53, 0, 0, 0],
            [3, 0, 0, 0, 2], [-.infinity, 1, 0, 0, 0],
        ]
        for flat in bad {
            #expect(flat.withUnsafeBufferPointer { ExactSum(reading: $0.baseAddress!) } == nil, "\(flat)")
        }
    }
}
