// Every ISA's C primitive against SLEEF's scalar u10 exp on the same input: tails, alignments,
// in place, sum only, special values. Wrong lanes from a vector ABI mismatch cannot pass this.
import CSleef
import Foundation
import CXent
import Testing
@testable import Xent

/// The distance in ulps between two finite non-negative floats (exp's range).
func ulpDistance(_ a: Float, _ b: Float) -> UInt32 {
    a.bitPattern > b.bitPattern ? a.bitPattern - b.bitPattern : b.bitPattern - a.bitPattern
}

private let lengths = Array(0...70) + [127, 128, 129, 511, 512, 513, 1000, 1024, 4099]

@Suite struct ShimTests {
    @Test("the raddstoreexpminusmax micro-kernel matches Sleef_expf_u10 element by element", arguments: InstructionSet.supported)
    func matchesScalarSleef(isa: InstructionSet) {
        var rng = SeededGenerator(seed: 42)
        for n in lengths {
            for offset in 0..<4 {
                let shift = Float.random(in: -5..<5, using: &rng)
                let x = OffsetBuffer((0..<n).map { _ in Float.random(in: -110..<15, using: &rng) }, offset: offset)
                let y = OffsetBuffer(repeating: 42, count: n + 1, offset: 3 - offset)
                let sum = isaCValue(isa).withExpMinusSum(x.readOnly.baseAddress, y.buffer.baseAddress, n, shift)
                var exact = 0.0
                for i in 0..<n {
                    let expected = Sleef_expf_u10(x.buffer[i] - shift)
                    let got = y.buffer[i]
                    exact += Double(got)
                    if ulpDistance(got, expected) > 1 {
                        Issue.record("\(isa) n=\(n) offset=\(offset): exp(\(x.buffer[i]) − \(shift)) = \(got), scalar SLEEF \(expected)")
                        break
                    }
                }
                #expect(y.buffer[n] == 42, "\(isa) n=\(n): wrote past the end")
                #expect(abs(sum - exact) <= 64 * 0x1p-24 * exact, "\(isa) n=\(n): sum \(sum), elements add to \(exact)")

                // Sum only (y = NULL) and in place (y = x) give the same sum and values.
                let sumOnly = isaCValue(isa).withExpMinusSum(x.readOnly.baseAddress, nil, n, shift)
                #expect(sumOnly == sum, "\(isa) n=\(n): sum-only \(sumOnly) vs stored \(sum)")
                let inPlace = isaCValue(isa).withExpMinusSum(x.readOnly.baseAddress, x.buffer.baseAddress, n, shift)
                #expect(inPlace == sum, "\(isa) n=\(n): in-place sum \(inPlace) vs \(sum)")
                #expect(Array(x.buffer) == Array(y.buffer.prefix(n)), "\(isa) n=\(n): in-place values differ")
            }
        }
    }

    @Test("special values: −inf → 0, NaN → NaN, overflow → +inf, underflow → 0", arguments: InstructionSet.supported)
    func specialValues(isa: InstructionSet) {
        let x: [Float] = [-.infinity, .nan, 0, 100, -200, 88.5, -87.3, -103.9, 1e-30, -1e30, 1e30,
                          .leastNonzeroMagnitude, 2, 3, 4, 5, 6, 7]
        for n in [x.count, 16, 8, 4, 3] {
            var y = [Float](repeating: 42, count: n)
            let sum = x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    isaCValue(isa).withExpMinusSum(xp.baseAddress, yp.baseAddress, n, 0)
                }
            }
            for i in 0..<n {
                let expected = Sleef_expf_u10(x[i])
                if expected.isNaN {
                    #expect(y[i].isNaN, "\(isa): exp(\(x[i])) = \(y[i])")
                } else {
                    #expect(ulpDistance(y[i], expected) <= 1, "\(isa): exp(\(x[i])) = \(y[i]), scalar SLEEF \(expected)")
                }
            }
            #expect(sum.isNaN, "\(isa): a NaN input must make the sum NaN")
        }
    }

    @Test("the process-wide ISA is supported, and the baseline ISAs always are")
    func activeISA() {
        #expect(InstructionSet.active.isSupported)
        #expect(InstructionSet.supported.contains(.scalar))
        #if arch(x86_64)
        #expect(InstructionSet.supported.contains(.sse2))
        #expect(!InstructionSet.advsimd.isSupported)
        #endif
        if getenv("XENT_ISA") == nil {
            #expect(InstructionSet.active == InstructionSet.supported.first, "without XENT_ISA the best ISA is used")
        }
    }

    @Test("xent_f64_log is SLEEF's 2-lane u10 log pinned per ISA family on every element, tails included, writing nothing past n")
    func batchedLog() {
        var rng = SeededGenerator(seed: 7)
        for isa in InstructionSet.supported.map(cISA) {
            for n in [0, 1, 2, 3, 4, 5, 63, 64, 65, 130] {
                // S ≥ 1 in the kernel; also values across the whole range and its ends.
                var x = (0..<n).map { _ in Double.random(in: 1..<1e7, using: &rng) }
                let specials: [Double] = [1, 2, .ulpOfOne + 1, 0x1p-1074, .leastNormalMagnitude, .greatestFiniteMagnitude, 0.5, 3e5]
                for k in 0..<Swift.min(n, specials.count) { x[k] = specials[k] }
                var y = [Double](repeating: 42, count: n + 1)
                y.withUnsafeMutableBufferPointer { xent_f64_log(isa, x, $0.baseAddress, n) }
                for i in 0..<n {
                    #if arch(x86_64)
                    // The same function one pair at a time (the value paired with it changes no
                    // lane), pinned whatever the host: the FMA algorithm for the canonical ISAs,
                    // SSE2's otherwise (the dispatcher would pick by the host, and the two differ
                    // in rare last bits).
                    let pair = xent_isa_is_canonical(isa) != 0
                        ? Sleef_logd2_u10avx2128(SIMD2(x[i], 1)) : Sleef_logd2_u10sse2(SIMD2(x[i], 1))
                    #expect(y[i].bitPattern == pair[0].bitPattern, "\(isa) n=\(n): log(\(x[i])) = \(y[i]), SLEEF \(pair[0])")
                    #endif
                    // And within 1 ulp of the libm log, as u10 promises.
                    let libm = Foundation.log(x[i])
                    #expect(abs(y[i] - libm) <= libm.ulp, "n=\(n): log(\(x[i])) = \(y[i]), libm \(libm)")
                }
                #expect(y[n] == 42, "n=\(n): wrote past the end")
            }
        }
    }
}

/// The C enum value whose `xent_isa_name` is the Swift case's name (so the names agree too).
func cISA(_ isa: InstructionSet) -> xent_isa {
    let match = (0..<Int32(XENT_ISA_COUNT)).first { String(cString: xent_isa_name(xent_isa(rawValue: UInt32($0)))) == isa.rawValue }
    return xent_isa(rawValue: UInt32(match!))
}

private func isaCValue(_ isa: InstructionSet) -> ShimCall { ShimCall(cISA: cISA(isa)) }

/// Calls the C primitive for one ISA.
private struct ShimCall {
    let cISA: xent_isa
    func withExpMinusSum(_ x: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>?, _ n: Int, _ shift: Float) -> Double {
        MicroKernels.expMinusSum(cISA, x, y, count: n, shift: shift)
    }
}
