// The max and scaling micro-kernels at every start within a 64-byte line: the C kernels take the
// elements before the first register boundary apart (xent_f32x16.h, xent_head_to_register), so
// every head length of every ISA — up to 3, 7 and 15 floats on SSE2, AVX2 and AVX-512F — must give
// the values a plain loop gives and write nothing past n.
import CXent
import Testing
@testable import Xent

private let rowLengths = Array(1...70) + [127, 128, 129, 1000, 2047, 2048, 2049]

@Suite struct RegisterHeadTests {
    @Test("rmax at offsets 0–15 floats: the largest non-NaN element, −inf for none, +0 for a zero max",
          arguments: InstructionSet.supported)
    func rmax(isa: InstructionSet) {
        let kernels = MicroKernels.config(cISA(isa))
        var rng = SeededGenerator(seed: 15)
        for n in rowLengths {
            for offset in 0..<16 {
                for kind in 0..<4 {
                    let x = OffsetBuffer((0..<n).map { _ -> Float in
                        switch kind {
                        case 0: return rng.normal(sd: 3)
                        case 1: return Bool.random(using: &rng) ? .nan : -.infinity
                        case 2:
                            if Bool.random(using: &rng) { return -0.0 }
                            return Int.random(in: 0..<3, using: &rng) == 0 ? 0 : -1
                        default: return Int.random(in: 0..<4, using: &rng) == 0 ? .nan : rng.normal(sd: 3)
                        }
                    }, offset: offset)
                    // The one largest value at a random place, the head included.
                    if kind == 0 { x.buffer[Int.random(in: 0..<n, using: &rng)] = 100 }
                    var expected = -Float.infinity
                    for v in x.buffer where !v.isNaN && v > expected { expected = v }
                    if expected == 0 { expected = 0 }
                    var got: Float = .nan
                    kernels.rmax!(n, x.readOnly.baseAddress, &got)
                    #expect(got.bitPattern == expected.bitPattern,
                            "\(isa) n=\(n) offset=\(offset) kind \(kind): \(got), expected \(expected)")
                }
            }
        }
    }

    @Test("vgradient at offsets 0–15 floats, every path: the plain loop's bits, nothing written past n",
          arguments: InstructionSet.supported)
    func vgradient(isa: InstructionSet) {
        let kernels = MicroKernels.config(cISA(isa))
        var rng = SeededGenerator(seed: 16)
        let (a, b, d): (Float, Float, Float) = (1.7, 0.7, 1e-3)
        for n in rowLengths {
            for offset in 0..<16 {
                // Exps in [0, 1] with −0 marks (masked classes); q and w start elsewhere in their lines.
                let e = (0..<n).map { _ in
                    Int.random(in: 0..<6, using: &rng) == 0 ? -0.0 : Float.random(in: 0...1, using: &rng)
                }
                let q = OffsetBuffer((0..<n).map { _ in
                    Bool.random(using: &rng) ? Float.random(in: 0..<1, using: &rng) : 0
                }, offset: (offset + 5) % 16)
                let w = OffsetBuffer((0..<n).map { _ in Float.random(in: 0..<2, using: &rng) }, offset: 15 - offset)
                for path in 0..<8 {
                    let hasQ = path & 1 != 0, hasW = path & 2 != 0, smoothing = path & 4 != 0
                    let y = OffsetBuffer(e + [Float](repeating: 42, count: 16), offset: offset)
                    kernels.vgradient!(
                        n, y.buffer.baseAddress, hasQ ? q.readOnly.baseAddress : nil,
                        hasW ? w.readOnly.baseAddress : nil, smoothing ? 1 : 0, a, b, d)
                    var wrong = 0
                    for i in 0..<n {
                        // The kernels' operations in their order (CXent.h, xent_f32_vgradient_ukernel_fn).
                        let expected: Float
                        if hasW || smoothing {
                            var t: Float = smoothing && e[i].bitPattern != (-0.0 as Float).bitPattern ? d : 0
                            if hasQ { t = q.buffer[i] * b + t }
                            if hasW { t = t * w.buffer[i] }
                            expected = e[i] * a - t
                        } else if hasQ {
                            expected = e[i] * a - q.buffer[i] * b
                        } else {
                            expected = e[i] * a
                        }
                        if y.buffer[i].bitPattern != expected.bitPattern { wrong += 1 }
                    }
                    #expect(wrong == 0, "\(isa) n=\(n) offset=\(offset) path \(path): \(wrong) elements differ")
                    #expect(y.buffer[n...].allSatisfy { $0 == 42 }, "\(isa) n=\(n) offset=\(offset): wrote past n")
                }
            }
        }
    }
}
