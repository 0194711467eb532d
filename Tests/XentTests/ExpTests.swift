// The AVX-512 and AVX2 kernels evaluate SLEEF's u10 exp inline (xent_sleef_exp_inline.h) rather
// than calling Sleef_expf16_u10avx512f / Sleef_expf8_u10avx2: NUMERICS.md asks for SLEEF's 1-ULP
// exp, so each inlined copy must agree with its library function on every input, bit for bit.
import CXent
import Foundation
import Testing
@testable import Xent

/// The ISAs whose kernel inlines SLEEF's exp, where this CPU has them.
private let inlinedExpISAs = [InstructionSet.avx512, .avx2].filter(\.isSupported)

@Suite struct ExpTests {
    /// Every one of the 2³² float bit patterns when `XENT_EXHAUSTIVE_EXP` is set (`.ci/run` does, in
    /// a release build; ~75 s per ISA in a debug one); otherwise every 61st (70 million, ~1 s), which
    /// walks every exponent and sign with varied mantissas.
    @Test("the kernel's inlined exp is SLEEF's library exp, bit for bit", arguments: inlinedExpISAs)
    func inlinedExpIsSleefs(isa: InstructionSet) {
        let exhaustive = ProcessInfo.processInfo.environment["XENT_EXHAUSTIVE_EXP"] != nil
        let stride: UInt64 = exhaustive ? 1 : 61
        let count = (UInt64(1) << 32) / stride
        let mismatches = xent_exp_mismatches(cISA(isa), 0, count, stride)
        #expect(
            mismatches == 0,
            "\(isa): \(mismatches) of \(count) inputs (stride \(stride)) differ from SLEEF's library exp")
    }

    @Test(
        "the inputs that matter most, one by one: the exp's limits and the ends of its range",
        arguments: inlinedExpISAs)
    func limits(isa: InstructionSet) {
        // Around −104 and 100 (SLEEF's limits), the overflow and subnormal thresholds, ±86 (the
        // ends of AVX2's short form), ±0, ±inf, NaNs of both signs and payloads, 1: 4096
        // consecutive patterns on either side of each.
        let centers: [Float] = [-104, 100, 88.72283, -87.33654, -103.27893, 86, -86, 0, -0.0, .infinity, -.infinity,
                                .nan, -Float.nan, Float(bitPattern: 0x7FA0_0001), Float.leastNormalMagnitude, 1]
        for center in centers {
            let first = (UInt64(center.bitPattern) &- 4096) & 0xFFFF_FFFF
            let mismatches = xent_exp_mismatches(cISA(isa), first, 8192, 1)
            #expect(mismatches == 0, "\(isa): \(mismatches) inputs around \(center) differ from SLEEF's library exp")
        }
    }

    /// MXCSR's rounding mode steers both the library function and AVX2's inlined copy (both forms
    /// round q in the current mode, as SLEEF's cvtps2dq does). It gives SLEEF's bits in every mode
    /// for inputs up to 100; above 100, rounding down or toward zero, SLEEF gives +inf and it the
    /// largest float (its clamp at 100 stands for SLEEF's compare), which the default mode never
    /// meets. Walks around the limits, and every 4099th input of the rest, in each mode. (Round-up
    /// tells −104 from the values below it: a lower limit taken at ≤ −104 fails only in that mode.)
    /// AVX-512's copy rounds q to nearest explicitly (vrndscaleps), so it is held to SLEEF's bits in
    /// the default mode only, above.
    @Test("AVX2's inlined exp in every rounding mode: SLEEF's bits up to 100",
          arguments: inlinedExpISAs.filter { $0 == .avx2 })
    func everyRoundingMode(isa: InstructionSet) {
        let centers: [Float] = [-104, -103.97208, -103.27893, -87.33654, -86, 86, 88.72283, 0, -0.0, -.infinity, .nan,
                                -Float.nan, .leastNormalMagnitude, 1]
        let hundred = UInt64(Float(100).bitPattern), stride: UInt64 = 4099
        for (name, mode) in roundingModes {
            let mismatches = inRoundingMode(mode) {
                var mismatches: [(String, Int64)] = []
                for center in centers {
                    let first = (UInt64(center.bitPattern) &- 4096) & 0xFFFF_FFFF
                    mismatches.append(("around \(center)", xent_exp_mismatches(cISA(isa), first, 8192, 1)))
                }
                mismatches.append(("in [+0, 100]", xent_exp_mismatches(cISA(isa), 0, hundred / stride + 1, stride)))
                mismatches.append(("below +0", xent_exp_mismatches(cISA(isa), 1 << 31, (1 << 31) / stride, stride)))
                if mode == FE_TONEAREST || mode == FE_UPWARD {
                    let count = (0x7FFF_FFFF - hundred - 1) / stride + 1
                    mismatches.append(("above 100", xent_exp_mismatches(cISA(isa), hundred + 1, count, stride)))
                }
                return mismatches
            }
            for (inputs, count) in mismatches {
                #expect(count == 0,
                        "\(isa), rounding \(name): \(count) inputs \(inputs) differ from SLEEF's library exp")
            }
        }
    }

    /// AVX2 takes a short form of the exp for a pair of 16-lane vectors whose every lane has
    /// |x| < 86 (and for a lone vector whose 16 do), zeroing the lanes below −104 (−inf) when those
    /// are the only ones outside, and the full form otherwise. The walks above reach the zeroing
    /// only with every lane below −104, so here one lane of each pair holds a value outside the
    /// range (±inf, NaN, 88.5, 100, −90, −104, the float just below −104, −200, −1e30), at every
    /// position in turn, the others ordinary logits, then the same with −inf in a second lane;
    /// every result must be what its input gives in a pair of +inf, which takes the full form
    /// (SLEEF's, above), in each rounding mode. A range test that missed a lane or a register, or
    /// let a lane that needs the full form ride with a −inf, fails.
    @Test("the inlined exp in vectors mixing the short form's range with values outside it",
          arguments: inlinedExpISAs)
    func mixedVectors(isa: InstructionSet) {
        let outside: [Float] = [.infinity, -.infinity, .nan, 88.5, 100, -90, -104, Float(-104).nextDown, -200, -1e30]
        var x: [Float] = []
        for value in outside {
            for position in 0..<32 {
                x += (0..<32).map { $0 == position ? value : -Float(($0 * 7 + position) % 29) * 2.9 }
            }
            for position in 0..<32 {
                x += (0..<32).map {
                    $0 == position
                        ? value : $0 == (position + 13) % 32 ? -.infinity : -Float(($0 * 5 + position) % 31) * 2.7
                }
            }
        }
        func exps(_ input: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: input.count)
            _ = MicroKernels.expMinusSum(cISA(isa), input, &y, count: input.count, shift: 0)
            return y
        }
        for (name, mode) in roundingModes {
            let saved = fegetround()
            fesetround(mode)
            defer { fesetround(saved) }
            // Pairs, and each pair's first vector alone (the single-vector path).
            let pairs = exps(x)
            var differing = 0
            for (i, input) in x.enumerated() {
                let alone = exps([input] + [Float](repeating: .infinity, count: 31))[0]
                if pairs[i].bitPattern != alone.bitPattern { differing += 1 }
                let first = i - i % 32
                if i % 32 < 16 && exps(Array(x[first ..< first + 16]))[i % 32].bitPattern != alone.bitPattern {
                    differing += 1
                }
            }
            #expect(differing == 0,
                    "\(isa), rounding \(name): \(differing) results differ from their input's in a full-form pair")
        }
    }

    /// The exhaustive run (CI) must check something: on an x86-64 CPU without AVX2 the two tests
    /// above have no arguments (fine for `swift test` there, not for the check CI relies on).
    @Test("the exhaustive run checks at least one inlined exp",
          .enabled(if: ProcessInfo.processInfo.environment["XENT_EXHAUSTIVE_EXP"] != nil))
    func exhaustiveRunChecksSomething() {
        #if arch(x86_64)
        #expect(!inlinedExpISAs.isEmpty, "neither AVX2 nor AVX-512 here: the inlined exp went unchecked")
        #endif
    }

    /// NUMERICS.md's cross-ISA promise rests on SLEEF's FMA exp giving the same bits at every
    /// width; each inlined copy is pinned to its library function above, so a SLEEF release that
    /// changed one width's algorithm fails there or here. (AdvSIMD: Scripts/test-arm64.sh, its exp blocks.)
    @Test("the AVX-512F and AVX2 kernels' exps are the same bits (every 997th input)",
          .enabled(if: inlinedExpISAs.count == 2))
    func sameExpAcrossWidths() {
        let n = 4096
        var x = [Float](repeating: 0, count: n), a = x, b = x
        var pattern: UInt32 = 0, differing = 0, total = 0
        while total < (1 << 32) / 997 {
            for i in 0..<n {
                x[i] = Float(bitPattern: pattern)
                pattern &+= 997
            }
            _ = MicroKernels.expMinusSum(cISA(.avx512), x, &a, count: n, shift: 0)
            _ = MicroKernels.expMinusSum(cISA(.avx2), x, &b, count: n, shift: 0)
            for i in 0..<n where a[i].bitPattern != b[i].bitPattern && !(a[i].isNaN && b[i].isNaN) { differing += 1 }
            total += n
        }
        #expect(differing == 0, "\(differing) of \(total) inputs give different exps on AVX-512F and AVX2")
    }

    @Test("ISAs without an inlined exp, or missing here, say so (−1)")
    func notInlined() {
        for isa in InstructionSet.allCases where !inlinedExpISAs.contains(isa) {
            #expect(xent_exp_mismatches(cISA(isa), 0, 16, 1) == -1, "\(isa)")
        }
    }
}
