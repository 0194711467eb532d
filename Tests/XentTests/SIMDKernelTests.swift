// The Swift SIMD micro-kernels (SIMDKernels.swift) against the C ones, kernel by kernel.
//
// On arm64 the Swift kernels run with SLEEF's FMA exp and tanh and fused double multiply-adds, and
// must give the AVX-512F kernels' bits. On x86-64 the same Swift code can run with those
// ingredients too, taken from the AVX2 C kernels: this suite checks there, on every option path,
// over tails and special values, that the Swift kernels' order of operations is the C kernels'
// (Scripts/test-arm64-swift.sh then checks the whole package on arm64 itself).
import CXent
import Testing
@testable import Xent

#if arch(x86_64)
/// The Swift kernels' canonical ingredients on x86-64: the AVX2 kernels' exp (SLEEF's FMA
/// `Sleef_expf8_u10avx2`, inlined) and tanh, and fused multiply-adds (`addingProduct`).
enum CanonicalOnX86: SIMDKernelISA {
    static var isa: xent_isa { XENT_ISA_AVX2 }
    static func expMinus(
        _ n: Int, _ x: UnsafePointer<Float>, _ shift: Float, _ y: UnsafeMutablePointer<Float>,
        _ ahead: UnsafePointer<xent_prefetch_ahead>?
    ) {
        var sum = 0.0
        xent_ukernel_config_get(XENT_ISA_AVX2)!.pointee.raddstoreexpminusmax!(n, x, shift, nil, y, 0, &sum, n)
    }
    static func tanh(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        // c·tanh(s·x / c) with s = c = 1 is tanh(x), exactly.
        xent_ukernel_config_get(XENT_ISA_AVX2)!.pointee.vtransform!(n, x, y, 1, 1)
    }
    static func multiplyAdd(_ a: Float64x8, _ b: Float64x8, _ c: Float64x8) -> Float64x8 { c.addingProduct(a, b) }
}

private let hasCanonicalC = xent_isa_is_supported(XENT_ISA_AVX512F) != 0 && xent_isa_is_supported(XENT_ISA_AVX2) != 0

/// Rows of every tail length and a few long ones, of several kinds, at offsets 0–3 from a 64-byte line.
struct KernelRow {
    let values: OffsetBuffer
    let description: String
    var count: Int { values.buffer.count }

    static func all() -> [KernelRow] {
        var rng = SeededGenerator(seed: 2026)
        var rows: [KernelRow] = []
        for n in Array(1...70) + [511, 512, 513, 1000, 2047, 2048, 4100] {
            for kind in 0..<5 {
                let x: [Float] = (0..<n).map { i in
                    switch kind {
                    case 0: return rng.normal(sd: 3)
                    case 1: return Int.random(in: 0..<3, using: &rng) == 0 ? -.infinity : rng.normal(sd: 3)
                    case 2: return Bool.random(using: &rng) ? 1e30 : -1e30
                    case 3: return rng.normal() * 1e-30
                    default: return i % 17 == 5 ? .nan : 3e4 + rng.normal(sd: 3)
                    }
                }
                rows.append(
                    KernelRow(values: OffsetBuffer(x, offset: (n + kind) % 4), description: "n=\(n) kind \(kind)"))
            }
        }
        return rows
    }
}

private func bits(_ x: UnsafeBufferPointer<Float>) -> [UInt32] { x.map { $0.isNaN ? 0x7fc0_0000 : $0.bitPattern } }
private func bits(_ x: [Double]) -> [UInt64] { x.map { $0.isNaN ? 0x7ff8_0000_0000_0000 : $0.bitPattern } }

@Suite(.enabled(if: hasCanonicalC)) struct SIMDKernelTests {
    let c = xent_ukernel_config_get(XENT_ISA_AVX512F)!.pointee
    let rows = KernelRow.all()

    @Test("rmax: the Swift kernel equals AVX-512F's")
    func rmax() {
        for row in rows {
            var m: Float = 0
            c.rmax!(row.count, row.values.readOnly.baseAddress, &m)
            let swift = rmaxKernel(row.count, row.values.readOnly.baseAddress!)
            #expect(swift.bitPattern == m.bitPattern, "\(row.description)")
        }
    }

    @Test("raddstoreexpminusmax: sums and stored exps equal AVX-512F's on every path")
    func raddstoreexpminusmax() {
        var rng = SeededGenerator(seed: 7)
        for row in rows {
            let n = row.count
            let x = row.values.readOnly.baseAddress!
            var m: Float = 0
            c.rmax!(n, x, &m)
            let q = (0..<n).map { _ in Bool.random(using: &rng) ? Float.random(in: 0..<1, using: &rng) : 0 }
            for shift in [m == -.infinity || m.isNaN ? 0 : m, 0] {
                for soft in [false, true] {
                    for store in 0..<3 {  // none, separate, in place
                        for mark in [false, true] where store > 0 || !mark {
                            var results: [([UInt64], [UInt32])] = []
                            for swift in [false, true] {
                                let y = OffsetBuffer(Array(row.values.buffer), offset: 1)
                                let out: UnsafeMutablePointer<Float>? =
                                    store == 0 ? nil : store == 1 ? y.buffer.baseAddress : nil
                                var sums = [Double](repeating: -1, count: 3)
                                q.withUnsafeBufferPointer { qp in
                                    let qq = soft ? qp.baseAddress : nil
                                    if store == 2 {
                                        // In place: a copy of the row is both x and y.
                                        let inPlace = y.buffer.baseAddress!
                                        if swift {
                                            raddstoreexpminusmaxKernel(
                                                CanonicalOnX86.self, n, inPlace, shift, qq, inPlace, mark, &sums, n)
                                        } else {
                                            c.raddstoreexpminusmax!(
                                                n, inPlace, shift, qq, inPlace, mark ? 1 : 0, &sums, n)
                                        }
                                    } else if swift {
                                        raddstoreexpminusmaxKernel(
                                            CanonicalOnX86.self, n, x, shift, qq, out, mark, &sums, n)
                                    } else {
                                        c.raddstoreexpminusmax!(n, x, shift, qq, out, mark ? 1 : 0, &sums, n)
                                    }
                                }
                                let stored = store == 0 ? [] : bits(UnsafeBufferPointer(y.buffer))
                                results.append((bits(soft ? sums : [sums[0]]), stored))
                            }
                            #expect(results[0].0 == results[1].0 && results[0].1 == results[1].1,
                                    "\(row.description) shift \(shift) soft \(soft) store \(store) mark \(mark)")
                        }
                    }
                }
            }
        }
    }

    @Test("rsumtargets: the five sums equal AVX-512F's for every combination of q, w and smoothing")
    func rsumtargets() {
        var rng = SeededGenerator(seed: 8)
        for row in rows {
            let n = row.count
            let x = row.values.readOnly.baseAddress!
            var m: Float = 0
            c.rmax!(n, x, &m)
            let shift = m == -.infinity || m.isNaN ? 0 : m
            let q = (0..<n).map { _ in Bool.random(using: &rng) ? Float.random(in: 0..<1, using: &rng) : 0 }
            let w = (0..<n).map { _ in Float.random(in: 0..<2, using: &rng) }
            for path in 0..<8 {
                let hasQ = path & 1 != 0, hasW = path & 2 != 0, smoothing = path & 4 != 0
                var a = [Double](repeating: -1, count: 5), b = a
                q.withUnsafeBufferPointer { qp in
                    w.withUnsafeBufferPointer { wp in
                        let qq = hasQ ? qp.baseAddress : nil, ww = hasW ? wp.baseAddress : nil
                        c.rsumtargets!(n, x, shift, qq, ww, smoothing ? 1 : 0, &a)
                        rsumtargetsKernel(CanonicalOnX86.self, n, x, shift, qq, ww, smoothing, &b)
                    }
                }
                #expect(bits(a) == bits(b), "\(row.description) q \(hasQ) w \(hasW) smoothing \(smoothing)")
            }
        }
    }

    @Test("vtransform: scaled and softcapped logits equal AVX-512F's")
    func vtransform() {
        for row in rows {
            let n = row.count
            for (s, cap) in [(Float(0.7), Float(0)), (1.3, 20), (1, 30), (2.5, 5)] {
                let a = OffsetBuffer(repeating: 0, count: n, offset: 0)
                let b = OffsetBuffer(repeating: 0, count: n, offset: 2)
                c.vtransform!(n, row.values.readOnly.baseAddress, a.buffer.baseAddress, s, cap)
                vtransformKernel(
                    CanonicalOnX86.self, n, row.values.readOnly.baseAddress!, b.buffer.baseAddress!, s, cap)
                #expect(bits(UnsafeBufferPointer(a.buffer)) == bits(UnsafeBufferPointer(b.buffer)),
                        "\(row.description) s \(s) c \(cap)")
            }
        }
    }

    @Test("vgradient and vgradientsoftcap: the gradient equals AVX-512F's on every path")
    func gradients() {
        var rng = SeededGenerator(seed: 9)
        for row in rows {
            let n = row.count
            // Stored exps in [0, 1] with some −0 marks (masked classes).
            let e = (0..<n).map { _ in
                Int.random(in: 0..<7, using: &rng) == 0 ? -0.0 : Float.random(in: 0...1, using: &rng)
            }
            let t = (0..<n).map { _ in Float.random(in: -20...20, using: &rng) }
            let q = (0..<n).map { _ in Bool.random(using: &rng) ? Float.random(in: 0..<1, using: &rng) : 0 }
            let w = (0..<n).map { _ in Float.random(in: 0..<2, using: &rng) }
            let (a, b, d) = (Float.random(in: 0.1..<3, using: &rng), Float(0.7), Float(1e-3))
            let shift = t.max()!
            let label = n > 1 ? Int.random(in: 0..<n, using: &rng) : -1
            for path in 0..<8 {
                let hasQ = path & 1 != 0, hasW = path & 2 != 0, smoothing = path & 4 != 0
                q.withUnsafeBufferPointer { qp in
                    w.withUnsafeBufferPointer { wp in
                        let qq = hasQ ? qp.baseAddress : nil, ww = hasW ? wp.baseAddress : nil
                        var ya = e, yb = e
                        c.vgradient!(n, &ya, qq, ww, smoothing ? 1 : 0, a, b, d)
                        vgradientKernel(n, &yb, qq, ww, smoothing, a, b, d)
                        #expect(ya.map(\.bitPattern) == yb.map(\.bitPattern), "vgradient \(row.description) \(path)")
                        for at in [-1, label] {
                            var sa = t, sb = t
                            c.vgradientsoftcap!(n, &sa, qq, ww, smoothing ? 1 : 0, shift, a, b, d, 20, Int64(at), 0.3)
                            vgradientsoftcapKernel(
                                CanonicalOnX86.self, n, &sb, qq, ww, smoothing, shift, a, b, d, 20, at, 0.3)
                            #expect(sa.map(\.bitPattern) == sb.map(\.bitPattern),
                                    "vgradientsoftcap \(row.description) \(path) label \(at)")
                        }
                    }
                }
            }
        }
    }

    @Test("16-bit widen and round: the Swift kernels equal AVX-512F's, NaN payloads aside")
    func half() {
        let halves = (0...UInt16.max).map { $0 }
        var rng = SeededGenerator(seed: 10)
        var floats = (0..<65536).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }
        floats += [0x1p-25, 0x1.8p-25, 0x1p-24, 65504, 65519.99, 65520, .infinity, -.infinity, .nan]
        for (format, sw, sr) in [(XENT_HALF_BINARY16, f16WidenKernel, f16RoundKernel),
                                 (XENT_HALF_BFLOAT16, bf16WidenKernel, bf16RoundKernel)] {
            // Odd lengths, so every tail length is exercised.
            for n in [halves.count, 1, 15, 17, 33] {
                var a = [Float](repeating: 0, count: n), b = a
                (format == XENT_HALF_BFLOAT16 ? c.bf16_widen : c.f16_widen)!(n, halves, &a, n)
                sw(n, halves, &b)
                let same = zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
                #expect(same, "widen \(format) \(n)")
                let m = min(n, floats.count)
                var ha = [UInt16](repeating: 0, count: m), hb = ha
                (format == XENT_HALF_BFLOAT16 ? c.bf16_round : c.f16_round)!(m, floats, &ha, m)
                sr(m, floats, &hb)
                #expect(ha == hb, "round \(format) \(m)")
            }
        }
    }
}
#endif
