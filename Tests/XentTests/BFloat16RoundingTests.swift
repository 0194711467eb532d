// Every C config's bfloat16 round kernel against the integer rounding of xent_half.c, on float bit
// patterns: where AVX512_BF16 is there, its vcvtneps2bf16 (which reads a subnormal as zero) with the
// kernel's own handling of subnormals must give the integer rounding's bits on every input.
import CXent
import Xent
import Foundation
import Testing

#if arch(x86_64)
@Suite struct BFloat16RoundingTests {
    /// Every one of the 2³² float bit patterns when `XENT_EXHAUSTIVE_EXP` is set (`.ci/run` does,
    /// for the exp as for this); otherwise every 61st, which walks every exponent and sign.
    @Test("the round kernel is the integer rounding, bit for bit",
          arguments: CConfig.all([XENT_ISA_AVX512F, XENT_ISA_AVX2, XENT_ISA_SSE2]))
    func roundKernel(config: CConfig) {
        let exhaustive = ProcessInfo.processInfo.environment["XENT_EXHAUSTIVE_EXP"] != nil
        let stride: UInt64 = exhaustive ? 1 : 61
        let count = (UInt64(1) << 32) / stride
        let mismatches = xent_bf16_round_mismatches(config.kernels.bf16_round, 0, count, stride)
        #expect(mismatches == 0, "\(config): \(mismatches) of \(count) inputs (stride \(stride)) round differently")
    }

    @Test("subnormals, both signs, among normal values in one vector", arguments: CConfig.all([XENT_ISA_AVX512F]))
    func subnormalsInAVector(config: CConfig) {
        // One subnormal at each lane of a 16-lane vector of normal values (each one's rounding not
        // zero's), beside a vector of normal values — after it for an even lane, before it for an
        // odd one, so a kernel that rounds 32 values at once (AVX512_BF16's vcvtne2ps2bf16) finds
        // it in either half —, a whole vector of them, then a tail of five with one.
        var x: [Float] = []
        let normal = (0..<16).map { Float($0 + 1) * 0.37 }
        for lane in 0..<16 {
            var v = normal
            v[lane] = Float(bitPattern: lane % 2 == 0 ? 0x0040_8001 + UInt32(lane) : 0x807f_ffff)
            x += lane % 2 == 0 ? normal + v : v + normal
        }
        x += (0..<16).map { Float(bitPattern: 0x0000_8000 + UInt32($0) << 16) }
        x += [1, 2, Float(bitPattern: 0x0070_0000), -3, 4]
        var got = [UInt16](repeating: 0, count: x.count), want = got
        config.kernels.bf16_round(x.count, x, &got, x.count)
        CConfig(isa: config.isa, extensions: false).kernels.bf16_round(x.count, x, &want, x.count)
        #expect(got == want, "\(config): \(zip(got, want).filter { $0 != $1 }.prefix(4))")
        #expect(got[16] == 0x0041 && got[33] == 0x8080 && got[x.count - 3] == 0x0070,
                "\(config): \(got[16]) \(got[33]) \(got[x.count - 3])")
    }

    @Test("with denormals-are-zero set alone, every ISA rounds a subnormal gradient to the same bfloat16 bits")
    func denormalsAreZero() throws {
        // 64 rows with the max 0 and the rest 80-90 below it: with `.mean`, gradient entries
        // p/64 below Float's least normal (2⁻¹²⁶) come from normal exps, which DAZ leaves alone.
        let (rows, classes) = (64, 96)
        let logits = (0..<rows * classes).map { i in
            BFloat16(i % classes == 0 ? 0 : -80 - Float((i * 7 + i / classes) % 21) / 2)
        }
        let labels = (0..<rows).map { Int32($0 % classes) }
        func gradient(_ isa: InstructionSet) throws -> [UInt16] {
            let ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa, threads: 1)
            var g = [BFloat16](repeating: BFloat16(0), count: logits.count)
            _ = try logits.withUnsafeBufferPointer { z in
                try labels.withUnsafeBufferPointer { t in
                    try g.withUnsafeMutableBufferPointer { g in
                        try ce.lossAndGradient(logits: z, labels: t, classes: classes, gradient: g)
                    }
                }
            }
            return g.map(\.bitPattern)
        }
        let own = xent_float_controls()
        xent_set_float_controls((own & ~0x8000) | 0x40)  // DAZ, not flush-to-zero
        defer { xent_set_float_controls(own) }
        if InstructionSet.avx512.isSupported {
            let config = xent_ukernel_config_get(XENT_ISA_AVX512F)
            #expect(config == xent_ukernel_config_get_without_extensions(XENT_ISA_AVX512F),
                    "under DAZ, AVX-512F's config without the extensions")
        }
        let isas = InstructionSet.supported.filter { $0 != .scalar }
        let want = try gradient(.sse2)
        #expect(want.filter { $0 & 0x7f80 == 0 && $0 & 0x7f != 0 }.count > 100, "subnormal bfloat16 entries")
        for isa in isas {
            let got = try gradient(isa)
            #expect(got == want, "\(isa): \(zip(got, want).filter { $0 != $1 }.count) entries differ from SSE2's")
        }
    }
}
#endif
