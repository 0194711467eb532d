// The fused 16-bit passes (CXent.h: xent_half_rmaxwiden_ukernel_fn,
// xent_half_raddstoreexpminusmax_ukernel_fn, xent_half_vgradientround_ukernel_fn) against the kernels
// each replaces, on every C config that has them (AVX2; AVX-512F, with and without AVX512_BF16): the
// same bits over all 65,536 16-bit patterns, every tail length, a few offsets, and every form of the
// gradient.
import CXent
import Foundation
import Testing
@testable import Xent

#if arch(x86_64)
private let fusedConfigs = CConfig.all([XENT_ISA_AVX512F, XENT_ISA_AVX2]).filter { $0.kernels.f16_rmaxwiden != nil }
private let formats = [XENT_HALF_BINARY16, XENT_HALF_BFLOAT16]

/// Widened values compare by bits; a NaN only as a NaN (the scalar tails of the widen kernels keep a
/// signaling NaN signaling, the conversion instructions quiet it: both are a NaN logit).
private func sameWidened(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

/// Row lengths: every tail of one and a few vectors, around the 64-element loop and the chunk.
private let lengths = Array(1...70) + [127, 128, 129, 511, 2047, 2048, 2049]

/// Rows over every 16-bit pattern once (shuffled by `seed`) and over the patterns `keep` keeps: each
/// set as one row, then rows of every length in `lengths` taken from it in turn.
private func patternRows(seed: UInt64, alsoOnly keep: (UInt16) -> Bool) -> [[UInt16]] {
    var rng = SeededGenerator(seed: seed)
    var patterns = (0...UInt16.max).map { $0 }
    patterns.shuffle(using: &rng)
    var rows: [[UInt16]] = []
    for source in [patterns, patterns.filter(keep)] {
        rows.append(source)
        var start = 0
        for n in lengths {
            rows.append((0..<n).map { source[(start + $0) % source.count] })
            start += n
        }
    }
    return rows
}

@Suite("Fused 16-bit kernels")
struct FusedHalfKernelTests {
    @Test("rmaxwiden = widen then rmax, over every 16-bit pattern", arguments: fusedConfigs, formats)
    func rmaxWiden(config: CConfig, format: xent_half_format) {
        let c = config.kernels
        let fused = (format == XENT_HALF_BFLOAT16 ? c.bf16_rmaxwiden : c.f16_rmaxwiden)!
        let widen = (format == XENT_HALF_BFLOAT16 ? c.bf16_widen : c.f16_widen)!
        let exponentMask: UInt16 = format == XENT_HALF_BFLOAT16 ? 0x7f80 : 0x7c00
        // Every pattern, then finite values only (a NaN-free max).
        for (k, input) in patternRows(seed: 41, alsoOnly: { $0 & exponentMask != exponentMask }).enumerated() {
            let offset = k % 4
            let count = input.count
            // `offset` elements into the buffer, with guards after the row: a large finite
            // value in both formats (binary16 65504, bfloat16 ≈ 2.6e36), which a read past n
            // would make the max of most rows.
            var src = [UInt16](repeating: 0x7bff, count: count + offset + 16)
            src.replaceSubrange(offset..<(offset + count), with: input)
            var a = [Float](repeating: 7, count: count + 16), b = a
            var ma: Float = 0, mb: Float = 0
            src.withUnsafeBufferPointer { s in
                fused(count, s.baseAddress! + offset, &a, &ma, count)
                widen(count, s.baseAddress! + offset, &b, count)
            }
            c.rmax!(count, b, &mb)
            #expect(zip(a, b).allSatisfy(sameWidened), "\(config) \(format) widened, n \(count) offset \(offset)")
            #expect(a[count...].allSatisfy { $0 == 7 }, "\(config) \(format) wrote past n \(count)")
            #expect(ma.bitPattern == mb.bitPattern, "\(config) \(format) max \(ma) vs \(mb), n \(count)")
        }
    }

    @Test("rmaxwiden's max alone = widen then rmax where signs, zeros, infinities and NaNs meet",
          arguments: fusedConfigs, formats)
    func maxAlone(config: CConfig, format: xent_half_format) {
        let c = config.kernels
        let rmaxWiden = (format == XENT_HALF_BFLOAT16 ? c.bf16_rmaxwiden : c.f16_rmaxwiden)!
        let widen = (format == XENT_HALF_BFLOAT16 ? c.bf16_widen : c.f16_widen)!
        let bf16 = format == XENT_HALF_BFLOAT16
        let inf: UInt16 = bf16 ? 0x7f80 : 0x7c00, one: UInt16 = bf16 ? 0x3f80 : 0x3c00
        let plusNaN = inf | 1, minusNaN = inf | 0x8001, minusInf = inf | 0x8000
        // Sets whose max is a corner of the two-accumulator max: every lane a negative NaN (no
        // max), negatives with −0 or a NaN, a positive NaN (which the patterns' signed max sees
        // first) beside finite values, +inf, −inf, zeros of both signs.
        let sets: [[UInt16]] = [
            [minusNaN], [minusNaN, 0xffff], [minusNaN, minusInf], [minusNaN, one | 0x8000], [0x8000],
            [0x8000, 0], [0x8000, one | 0x8000], [plusNaN], [plusNaN, one], [plusNaN, one | 0x8000],
            [0x7fff, 0x8000], [plusNaN, minusNaN], [inf, plusNaN], [minusInf], [minusInf, 0x8001], [one, 0x8000, 1],
        ]
        for set in sets {
            for n in [1, 15, 16, 17, 33, 63, 64, 65, 100, 130] where n >= set.count {
                for position in [0, n / 2, n - set.count] {
                    // The set among copies of its own last element, so the row's max is the set's.
                    var row = [UInt16](repeating: set.last!, count: n)
                    row.replaceSubrange(position..<(position + set.count), with: set)
                    var x = [Float](repeating: 0, count: n)
                    var got: Float = 7, want: Float = 7
                    rmaxWiden(n, row, nil, &got, 0)
                    widen(n, row, &x, n)
                    c.rmax!(n, x, &want)
                    #expect(got.bitPattern == want.bitPattern,
                            "\(config) \(format) \(set) n \(n) at \(position): \(got) vs \(want)")
                    // Rounding down, where −0 + 0 is −0: the widening max's bits (storing the row),
                    // whatever the sign of a zero max.
                    let saved = fegetround()
                    fesetround(FE_DOWNWARD)
                    rmaxWiden(n, row, nil, &got, 0)
                    rmaxWiden(n, row, &x, &want, 0)
                    fesetround(saved)
                    #expect(got.bitPattern == want.bitPattern,
                            "\(config) \(format) \(set) n \(n) at \(position), rounding down: \(got) vs \(want)")
                }
            }
        }
    }

    @Test("raddstoreexpminusmax over 16 bits = widen then the float exp pass, over every 16-bit pattern",
          arguments: fusedConfigs, formats)
    func expPass(config: CConfig, format: xent_half_format) {
        let c = config.kernels
        let fused = (format == XENT_HALF_BFLOAT16 ? c.bf16_raddstoreexpminusmax : c.f16_raddstoreexpminusmax)!
        let rmaxWiden = (format == XENT_HALF_BFLOAT16 ? c.bf16_rmaxwiden : c.f16_rmaxwiden)!
        let widen = (format == XENT_HALF_BFLOAT16 ? c.bf16_widen : c.f16_widen)!
        var rng = SeededGenerator(seed: 44)
        let exponentMask: UInt16 = format == XENT_HALF_BFLOAT16 ? 0x7f80 : 0x7c00
        // Every pattern, then finite values and −inf (a masked class): rows whose sums are numbers.
        var rows = patternRows(seed: 44) { $0 & exponentMask != exponentMask || $0 == exponentMask | 0x8000 }
        // Rows of the most negative finite value, whose max is below any finite fill of a tail.
        let lowest: UInt16 = format == XENT_HALF_BFLOAT16 ? 0xff7f : 0xfbff
        rows += (1...33).map { [UInt16](repeating: lowest, count: $0) }
        for (k, input) in rows.enumerated() {
            let offset = k % 4, count = input.count
            var src = [UInt16](repeating: 0x7bff, count: count + offset + 16)
            src.replaceSubrange(offset..<(offset + count), with: input)
            var x = [Float](repeating: 0, count: count)
            src.withUnsafeBufferPointer { widen(count, $0.baseAddress! + offset, &x, count) }
            // The driver's shift: the max (rmaxwiden storing nothing), 0 for a row of −inf and NaN.
            var m: Float = 0, mf: Float = 0
            src.withUnsafeBufferPointer { rmaxWiden(count, $0.baseAddress! + offset, nil, &m, 0) }
            c.rmax!(count, x, &mf)
            #expect(m.bitPattern == mf.bitPattern, "\(config) \(format) max only \(m) vs \(mf), n \(count)")
            let shift: Float = m == -.infinity ? 0 : m
            let q = (0..<count).map { i in i % 3 == 0 ? 0 : Float.random(in: 0...1, using: &rng) }
            for soft in [false, true] {
                for store in [false, true] {
                    var got = [Float](repeating: 7, count: count + 16), want = got
                    var gradient = [UInt16](repeating: 0xbeef, count: count + 16)
                    var sumsGot = [Double](repeating: 0, count: 3), sumsWant = sumsGot
                    src.withUnsafeBufferPointer { s in
                        got.withUnsafeMutableBufferPointer { y in
                            gradient.withUnsafeMutableBufferPointer { z in
                                fused(count, s.baseAddress! + offset, shift, soft ? q : nil,
                                      store ? y.baseAddress : nil, store ? z.baseAddress : nil, &sumsGot, count)
                            }
                        }
                    }
                    want.withUnsafeMutableBufferPointer { y in
                        c.raddstoreexpminusmax!(count, x, shift, soft ? q : nil, store ? y.baseAddress : nil, 0,
                                                &sumsWant, count)
                    }
                    let form = "\(config) \(format) n \(count) offset \(offset) soft \(soft) store \(store)"
                    let sumCount = soft ? 3 : 1
                    #expect(zip(sumsGot.prefix(sumCount), sumsWant.prefix(sumCount)).allSatisfy {
                        $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)
                    }, "\(form): sums \(sumsGot) vs \(sumsWant)")
                    #expect(zip(got, want).allSatisfy(sameWidened), "\(form): stored exps differ")
                    #expect(gradient.allSatisfy { $0 == 0xbeef }, "\(form): the gradient was written")
                }
            }
        }
    }

    @Test("vgradientround with a = 1 rounds as the ISA's round does: ties, near-ties, every 16-bit value's neighbours",
          arguments: fusedConfigs, formats)
    func rounding(config: CConfig, format: xent_half_format) {
        let c = config.kernels, own = CConfig(isa: config.isa, extensions: false).kernels
        let fused = (format == XENT_HALF_BFLOAT16 ? c.bf16_vgradientround : c.f16_vgradientround)!
        // The ISA's own round kernel, without extensions: AVX512_BF16's rounding against the integer one.
        let round = (format == XENT_HALF_BFLOAT16 ? own.bf16_round : own.f16_round)!
        // Around every 16-bit value h: halfway to the next one (a tie), just below and just above
        // it, and h itself; then random patterns. y·1 is y, so the fused kernel rounds y itself.
        var y: [Float] = []
        for h in 0..<UInt16.max {
            let (low, high): (Float, Float) = format == XENT_HALF_BFLOAT16
                ? (Float(bitPattern: UInt32(h) << 16), Float(bitPattern: UInt32(h + 1) << 16))
                : (Float(Float16(bitPattern: h)), Float(Float16(bitPattern: h + 1)))
            guard low.isFinite, high.isFinite, low.sign == high.sign else { y.append(low); continue }
            let tie = Float((Double(low) + Double(high)) / 2)
            y += [low, tie, tie.nextDown, tie.nextUp]
        }
        var rng = SeededGenerator(seed: 43)
        y += (0..<65536).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }
        y += [0x1p-25, 0x1.8p-25, 0x1p-24, 65504, 65519.99, 65520, .infinity, -.infinity, .nan, -.nan]
        var got = [UInt16](repeating: 0, count: y.count), want = got
        fused(y.count, y, nil, nil, 0, 1, 0, 0, -1, 0, &got, y.count)
        round(y.count, y, &want, y.count)
        let differing = y.indices.filter { got[$0] != want[$0] }.map { (y[$0], got[$0], want[$0]) }
        #expect(differing.isEmpty, "\(config) \(format): \(differing.count) differ, e.g. \(differing.prefix(3))")
    }

    @Test("vgradientround = vgradient, the label's term, then round, every form", arguments: fusedConfigs, formats)
    func vgradientRound(config: CConfig, format: xent_half_format) {
        let c = config.kernels, own = CConfig(isa: config.isa, extensions: false).kernels
        let fused = (format == XENT_HALF_BFLOAT16 ? c.bf16_vgradientround : c.f16_vgradientround)!
        let round = (format == XENT_HALF_BFLOAT16 ? own.bf16_round : own.f16_round)!
        var rng = SeededGenerator(seed: 42)
        let specials: [Float] = [
            -0.0, 0, 1, 0x1p-25, 0x1.8p-25, 0x1p-24, 0x1p-14, 0x1.ffcp-15, 65504, 65519.99, 65520, 0x1.fep127,
            .greatestFiniteMagnitude, .leastNonzeroMagnitude, .infinity, .nan,
        ]
        for n in lengths {
            let offset = n % 4
            // Exps in [0, 1] with some −0 marks (masked classes) and specials; raw bit patterns too.
            var y = (0..<n).map { _ in Float.random(in: 0...1, using: &rng) }
            for i in 0..<n where i % 7 == 3 { y[i] = -0.0 }
            for i in 0..<n where i % 11 == 5 { y[i] = specials.randomElement(using: &rng)! }
            for i in 0..<n where i % 13 == 8 { y[i] = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }
            let q = (0..<n).map { i in i % 5 == 0 ? 0 : Float.random(in: -0.5...1, using: &rng) }
            let w = (0..<n).map { _ in Float.random(in: 0...3, using: &rng) }
            for hasQ in [false, true] {
                for hasW in [false, true] {
                    for smoothing in [false, true] {
                        let a = Float.random(in: 0.5...3e4, using: &rng), b = Float.random(in: 0...2, using: &rng)
                        let d = Float.random(in: 0...0.01, using: &rng)
                        // The label's element less its term: none, the first, the last (a tail's lane
                        // where n is not a multiple of 16), anywhere.
                        let label = [-1, 0, n - 1, Int.random(in: 0..<n, using: &rng)].randomElement(using: &rng)!
                        let labelTerm = Bool.random(using: &rng)
                            ? Float.random(in: -1...1, using: &rng) : specials.randomElement(using: &rng)!
                        var ys = [Float](repeating: 0, count: offset) + y
                        var expected = ys
                        var got = [UInt16](repeating: 0xbeef, count: n + 8), want = got
                        let qs = [Float](repeating: 0, count: offset) + q
                        let ws = [Float](repeating: 0, count: offset) + w
                        qs.withUnsafeBufferPointer { qp in
                            ws.withUnsafeBufferPointer { wp in
                                let qa = hasQ ? qp.baseAddress! + offset : nil
                                let wa = hasW ? wp.baseAddress! + offset : nil
                                ys.withUnsafeMutableBufferPointer { yp in
                                    fused(n, yp.baseAddress! + offset, qa, wa, smoothing ? 1 : 0, a, b, d,
                                          Int64(label), labelTerm, &got, n)
                                }
                                expected.withUnsafeMutableBufferPointer { ep in
                                    c.vgradient!(n, ep.baseAddress! + offset, qa, wa, smoothing ? 1 : 0, a, b, d)
                                    if label >= 0 { ep[offset + label] -= labelTerm }
                                    round(n, ep.baseAddress! + offset, &want, n)
                                }
                            }
                        }
                        let form =
                            "\(config) \(format) n \(n) q \(hasQ) w \(hasW) smoothing \(smoothing) label \(label)"
                        #expect(got == want, "\(form): \(zip(got, want).filter { $0 != $1 }.prefix(4))")
                        #expect(ys[offset...].elementsEqual(y, by: { $0.bitPattern == $1.bitPattern }),
                                "\(form): the exps changed")
                    }
                }
            }
        }
    }
}
#endif
