// The AVX-512 and AVX2 kernels evaluate SLEEF's u10 tanh inline (xent_sleef_tanh_inline.h), several
// vectors at once, rather than calling Sleef_tanhf16_u10avx512f / Sleef_tanhf8_u10avx2: the softcap
// is SLEEF's 1-ULP tanh (NUMERICS.md), so each inlined copy must agree with its library function on
// every input, bit for bit, through the softcap transform's paths (groups of vectors, single vectors,
// tails, with and without the max; xent_tanh_mismatches rotates them over the inputs).
import CXent
import Foundation
import Testing
@testable import Xent

/// The ISAs whose kernel inlines SLEEF's tanh, where this CPU has them.
private let inlinedTanhISAs = [InstructionSet.avx512, .avx2].filter(\.isSupported)

/// `XENT_EXHAUSTIVE_EXP` set (`.ci/run`, a release build): every one of the 2³² float inputs.
private let exhaustive = ProcessInfo.processInfo.environment["XENT_EXHAUSTIVE_EXP"] != nil

@Suite struct TanhTests {
    /// Every 61st input (70 million), which walks every exponent and sign with varied mantissas, in
    /// the default rounding mode; every input in every mode when exhaustive.
    @Test("the kernel's inlined tanh is SLEEF's library tanh, bit for bit", arguments: inlinedTanhISAs)
    func inlinedTanhIsSleefs(isa: InstructionSet) {
        let stride: UInt64 = exhaustive ? 1 : 61
        let count = (UInt64(1) << 32) / stride
        for (name, mode) in exhaustive ? roundingModes : Array(roundingModes.prefix(1)) {
            let mismatches = inRoundingMode(mode) { xent_tanh_mismatches(cISA(isa), 0, count, stride) }
            #expect(
                mismatches == 0,
                "\(isa), rounding \(name): \(mismatches) of \(count) inputs (stride \(stride)) differ from SLEEF")
        }
    }

    /// Around SLEEF's limit (|x| > 8.664339742 gives ±1), where tanh reaches 1 in float, ±0, the
    /// subnormals' edge, ±inf, NaNs of both signs and payloads, and where the double-float
    /// arithmetic changes form (|x| near 1, the exp's reduction steps at multiples of log 2): 4096
    /// consecutive patterns on either side of each, in each of MXCSR's rounding modes (SLEEF rounds
    /// q in the current mode, and so does the inlined copy), with every 4099th input of the rest.
    @Test("the inputs that matter most, in every rounding mode", arguments: inlinedTanhISAs)
    func limitsInEveryRoundingMode(isa: InstructionSet) {
        let centers: [Float] = [8.664339742, -8.664339742, 9.010913, 0, -0.0, .leastNormalMagnitude, 1, -1,
                                0.6931472, 2.0794415, .infinity, -.infinity, .nan, -Float.nan,
                                Float(bitPattern: 0x7FA0_0001)]
        for (name, mode) in roundingModes {
            let mismatches = inRoundingMode(mode) {
                var mismatches: [(String, Int64)] = []
                for center in centers {
                    let first = (UInt64(center.bitPattern) &- 4096) & 0xFFFF_FFFF
                    mismatches.append(("around \(center)", xent_tanh_mismatches(cISA(isa), first, 8192, 1)))
                }
                let stride: UInt64 = 4099
                mismatches.append(("every \(stride)th", xent_tanh_mismatches(cISA(isa), 0, (1 << 32) / stride, stride)))
                return mismatches
            }
            for (inputs, count) in mismatches {
                #expect(count == 0,
                        "\(isa), rounding \(name): \(count) inputs \(inputs) differ from SLEEF's library tanh")
            }
        }
    }

    /// NUMERICS.md's cross-ISA promise rests on SLEEF's FMA tanh giving the same bits at every
    /// width; each inlined copy is pinned to its library function above, so this compares the two
    /// kernels' softcaps directly (scale 1, cap 1): every 997th input, every input when exhaustive.
    @Test("the AVX-512F and AVX2 kernels' softcaps are the same bits", .enabled(if: inlinedTanhISAs.count == 2))
    func sameTanhAcrossWidths() {
        let n = 4096
        let stride: UInt32 = exhaustive ? 1 : 997
        var x = [Float](repeating: 0, count: n), a = x, b = x
        var pattern: UInt32 = 0, differing = 0, total = 0
        let avx512 = xent_ukernel_config_get(cISA(.avx512))!.pointee.vtransform!
        let avx2 = xent_ukernel_config_get(cISA(.avx2))!.pointee.vtransform!
        while total < (1 << 32) / Int(stride) {
            for i in 0..<n {
                x[i] = Float(bitPattern: pattern)
                pattern &+= stride
            }
            avx512(n, x, &a, 1, 1)
            avx2(n, x, &b, 1, 1)
            for i in 0..<n where a[i].bitPattern != b[i].bitPattern { differing += 1 }
            total += n
        }
        #expect(differing == 0, "\(differing) of \(total) inputs give different tanhs on AVX-512F and AVX2")
    }

    @Test("ISAs without an inlined tanh, or missing here, say so (−1)")
    func notInlined() {
        for isa in InstructionSet.allCases where !inlinedTanhISAs.contains(isa) {
            #expect(xent_tanh_mismatches(cISA(isa), 0, 16, 1) == -1, "\(isa)")
        }
    }
}
