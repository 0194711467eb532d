// The ISAs whose micro-kernels are Swift SIMD code, and the canonical 16-lane vector they share.
import CXent

/// The canonical vector of the micro-kernels (CXent.h, xent_f32x16.h): every sum is defined on 16
/// float lanes, whatever the register width. On arm64 it is four NEON registers (the baseline ISA,
/// which Swift compiles for without flags); elsewhere what the platform's baseline has.
typealias Float32x16 = SIMD16<Float>
/// The 8 double lanes the float sums are widened into (lanes 0–7 and 8–15 of a ``Float32x16``).
typealias Float64x8 = SIMD8<Double>

/// An ISA whose micro-kernels are the Swift ones of SIMDKernels.swift: what differs between such
/// ISAs is SLEEF's float exp and tanh (reached through the C shim with pointers, a block at a
/// time: never a SIMD value across the boundary) and whether a double multiply-add is fused.
protocol SIMDKernelISA {
    static var isa: xent_isa { get }
    /// `y[i] = exp(x[i] − shift)` for `i < n`, SLEEF's u10 float exp of this ISA, prefetching the
    /// streams `ahead` names as it goes.
    static func expMinus(
        _ n: Int, _ x: UnsafePointer<Float>, _ shift: Float, _ y: UnsafeMutablePointer<Float>,
        _ ahead: UnsafePointer<xent_prefetch_ahead>?)
    /// `y[i] = tanh(x[i])` for `i < n`, SLEEF's u10 float tanh of this ISA (`y` may be `x`).
    static func tanh(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>)
    /// `a·b + c`: fused (one rounding) on the ISAs that promise the canonical bits, two roundings
    /// on the others, as their C kernels did (`xent_f64x8_fma`).
    static func multiplyAdd(_ a: Float64x8, _ b: Float64x8, _ c: Float64x8) -> Float64x8
}

#if arch(arm64)
/// arm64 AdvSIMD: the canonical bits (NUMERICS.md "Determinism"), `Sleef_expf4_u10advsimd`'s exp
/// (an FMA algorithm, equal to AVX-512F's and AVX2's exp on every input; inlined in its C block)
/// and fused multiply-adds.
enum AdvSIMDKernels: SIMDKernelISA {
    static var isa: xent_isa { XENT_ISA_ADVSIMD }
    @inline(__always)
    static func expMinus(
        _ n: Int, _ x: UnsafePointer<Float>, _ shift: Float, _ y: UnsafeMutablePointer<Float>,
        _ ahead: UnsafePointer<xent_prefetch_ahead>?
    ) {
        xent_f32_vexpminus__advsimd(n, x, shift, y, ahead)
    }
    @inline(__always)
    static func tanh(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        xent_f32_vtanh__advsimd(n, x, y)
    }
    @inline(__always)
    static func multiplyAdd(_ a: Float64x8, _ b: Float64x8, _ c: Float64x8) -> Float64x8 {
        c.addingProduct(a, b)
    }
}
#endif

/// The portable kernels, on any platform Swift builds for: SLEEF's pure-C non-FMA functions
/// (`Sleef_expf1_u10purec`, whose bits are SSE2's on any host) and unfused multiply-adds.
enum PortableKernels: SIMDKernelISA {
    static var isa: xent_isa { XENT_ISA_SCALAR }
    @inline(__always)
    static func expMinus(
        _ n: Int, _ x: UnsafePointer<Float>, _ shift: Float, _ y: UnsafeMutablePointer<Float>,
        _ ahead: UnsafePointer<xent_prefetch_ahead>?
    ) {
        xent_f32_vexpminus__scalar(n, x, shift, y, ahead)
    }
    @inline(__always)
    static func tanh(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        xent_f32_vtanh__scalar(n, x, y)
    }
    @inline(__always)
    static func multiplyAdd(_ a: Float64x8, _ b: Float64x8, _ c: Float64x8) -> Float64x8 { a * b + c }
}

// MARK: - The lane-wise operations of xent_f32x16.h, on Swift SIMD types

extension SIMD16 where Scalar == Float {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }

    /// `p[0 ..< n]` (n in 1…15) and `fill` in the other lanes; reads nothing past `p + n`.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, count n: Int, fill: Float) -> Self {
        // Through memory: a lane set by a variable index is a store and a reload of the whole vector.
        var v = Self(repeating: fill)
        withUnsafeMutableBytes(of: &v) { lanes in
            let l = lanes.baseAddress!.assumingMemoryBound(to: Float.self)
            for i in 0..<n { l[i] = p[i] }
        }
        return v
    }

    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }

    /// Writes lanes `0 ..< n` only.
    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>, count n: Int) {
        withUnsafeBytes(of: self) { lanes in
            let l = lanes.baseAddress!.assumingMemoryBound(to: Float.self)
            for i in 0..<n { p[i] = l[i] }
        }
    }

    // Selects are bit operations and every compare is between two vectors: the standard library's
    // `replacing(with:where:)` and its compares against a scalar are lane-by-lane loops, which the
    // compiler does not always make vector instructions (on arm64 it did not: Performance article).

    /// The larger lane of `self` and `acc`; `acc`'s where `self`'s is a NaN (x86's `maxps`).
    @inline(__always)
    func maximum(_ acc: Self) -> Self { acc.selecting(self, where: self .> acc) }

    /// The largest lane (no lane is NaN). Once per row: its selects stay the standard library's.
    @inline(__always)
    func reduceMaximum() -> Float {
        let m8 = highHalf.replacing(with: lowHalf, where: lowHalf .> highHalf)
        let m4 = m8.highHalf.replacing(with: m8.lowHalf, where: m8.lowHalf .> m8.highHalf)
        let m2 = m4.highHalf.replacing(with: m4.lowHalf, where: m4.lowHalf .> m4.highHalf)
        return m2[0] > m2[1] ? m2[0] : m2[1]
    }

    /// `self` where `q ≠ 0` (a NaN counts), else +0.
    @inline(__always)
    func keeping(nonzero q: Self) -> Self { clearing(where: q .== Self()) }

    /// `self` where `x ≠ −inf` (not masked), else +0.
    @inline(__always)
    func keeping(unmasked x: Self) -> Self { clearing(where: x .== Self(repeating: -.infinity)) }

    /// −0 where `x = −inf` (a masked class), else `self`.
    @inline(__always)
    func marking(masked x: Self) -> Self {
        let m = (x .== Self(repeating: -.infinity)).bits
        return Self(bitPattern: (bitPattern & ~m) | (m & 0x8000_0000))
    }

    /// `self` where `e` is not −0 (bitwise: not marked masked), else +0.
    @inline(__always)
    func keeping(unmarked e: Self) -> Self {
        clearing(where: e.bitPattern .== SIMD16<UInt32>(repeating: 0x8000_0000))
    }

    /// +0 in the lanes where `mask` is set.
    @inline(__always)
    func clearing(where mask: SIMDMask<SIMD16<Int32>>) -> Self { Self(bitPattern: bitPattern & ~mask.bits) }

    /// `other`'s lanes where `mask` is set, `self`'s elsewhere.
    @inline(__always)
    func selecting(_ other: Self, where mask: SIMDMask<SIMD16<Int32>>) -> Self {
        let m = mask.bits
        return Self(bitPattern: (other.bitPattern & m) | (bitPattern & ~m))
    }

    /// Lanes 0–7 widened to `Double`.
    @inline(__always)
    var low: Float64x8 { Float64x8(lowHalf) }
    /// Lanes 8–15 widened to `Double`.
    @inline(__always)
    var high: Float64x8 { Float64x8(highHalf) }
}

extension SIMDMask where Storage == SIMD16<Int32> {
    /// All ones in the lanes that are set, zeros in the others.
    @inline(__always)
    var bits: SIMD16<UInt32> { unsafeBitCast(self, to: SIMD16<UInt32>.self) }
}

extension SIMD8 where Scalar == Double {
    /// `((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7))`, exactly in this order (`xent_f64x8_reduce`).
    @inline(__always)
    func reduceSum() -> Double {
        ((self[0] + self[4]) + (self[2] + self[6])) + ((self[1] + self[5]) + (self[3] + self[7]))
    }
}

extension SIMD16 where Scalar == Float {
    @inline(__always)
    init(bitPattern bits: SIMD16<UInt32>) { self = unsafeBitCast(bits, to: Self.self) }
    @inline(__always)
    var bitPattern: SIMD16<UInt32> { unsafeBitCast(self, to: SIMD16<UInt32>.self) }
}
