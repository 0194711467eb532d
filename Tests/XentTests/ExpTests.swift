// The AVX-512 kernel evaluates SLEEF's u10 exp inline (xent_expf16_avx512f.h) rather than calling
// Sleef_expf16_u10avx512f: NUMERICS.md asks for SLEEF's 1-ULP exp, so the two must agree on every
// input, bit for bit.
import CXent
import Foundation
import Testing
import Xent

@Suite struct ExpTests {
    /// Every one of the 2³² float bit patterns when `XENT_EXHAUSTIVE_EXP` is set (`.ci/run` does:
    /// ~75 s in a debug build); otherwise every 61st (70 million, ~1 s), which walks every exponent
    /// and sign with varied mantissas.
    @Test("the AVX-512 kernel's inlined exp is Sleef_expf16_u10avx512f, bit for bit",
          .enabled(if: InstructionSet.avx512.isSupported))
    func inlinedExpIsSleefs() {
        let exhaustive = ProcessInfo.processInfo.environment["XENT_EXHAUSTIVE_EXP"] != nil
        let stride: UInt64 = exhaustive ? 1 : 61
        let count = (UInt64(1) << 32) / stride
        let mismatches = xent_expf16_mismatches(0, count, stride)
        #expect(mismatches == 0, "\(mismatches) of \(count) inputs (stride \(stride)) differ from SLEEF's library exp")
    }

    @Test("the inputs that matter most, one by one: the exp's limits and the ends of its range",
          .enabled(if: InstructionSet.avx512.isSupported))
    func limits() {
        // Around −104 and 100 (SLEEF's limits), the overflow and subnormal thresholds, ±0, ±inf,
        // NaNs of both signs and payloads: 4096 consecutive patterns on either side of each.
        let centers: [Float] = [-104, 100, 88.72283, -87.33654, -103.27893, 0, .infinity, -.infinity, .nan,
                                -Float.nan, Float(bitPattern: 0x7FA0_0001), Float.leastNormalMagnitude, 1]
        for center in centers {
            let first = UInt64(center.bitPattern) &- 4096 & 0xFFFF_FFFF
            let mismatches = xent_expf16_mismatches(first, 8192, 1)
            #expect(mismatches == 0, "\(mismatches) inputs around \(center) differ from SLEEF's library exp")
        }
    }
}
