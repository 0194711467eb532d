// The 16-bit micro-kernels of arm64's AdvSIMD and the portable fallback (CXent.h:
// xent_half_widen_ukernel_fn, xent_half_round_ukernel_fn) in Swift: the same bits as the C ones of
// xent_half.c — widening is exact and rounding is IEEE's to nearest even, NaN kept a NaN.

/// bfloat16 widened: float's top half, a shift.
@inline(__always)
func bf16WidenKernel(_ n: Int, _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 16 <= n {
        let h = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<UInt16>.self)
        Float32x16(bitPattern: SIMD16<UInt32>(truncatingIfNeeded: h) &<< 16).store(dst + i)
        i += 16
    }
    while i < n {
        dst[i] = Float(bitPattern: UInt32(src[i]) << 16)
        i += 1
    }
}

/// Float rounded to bfloat16: half an ulp of the kept part added (ties to even), a NaN kept quiet
/// (the addition could carry its payload into inf).
@inline(__always)
func bf16RoundKernel(_ n: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>) {
    var i = 0
    while i + 16 <= n {
        let u = Float32x16.load(src + i).bitPattern
        let rounded = (u &+ 0x7fff &+ ((u &>> 16) & 1)) &>> 16
        let nan = (u &>> 16) | 0x40
        let h = rounded.replacing(with: nan, where: (u & 0x7fff_ffff) .> 0x7f80_0000)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: h), as: SIMD16<UInt16>.self)
        i += 16
    }
    while i < n {
        let u = src[i].bitPattern
        dst[i] = (u & 0x7fff_ffff) > 0x7f80_0000 ? UInt16(truncatingIfNeeded: u >> 16) | 0x40
            : UInt16(truncatingIfNeeded: (u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
        i += 1
    }
}

#if arch(arm64)
// On arm64 `Float16` conversions are instructions (fcvtl, fcvtn: exact, and to nearest even).

/// IEEE binary16 widened to float.
@inline(__always)
func f16WidenKernel(_ n: Int, _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>) {
    for i in 0..<n { dst[i] = Float(Float16(bitPattern: src[i])) }
}

/// Float rounded to IEEE binary16.
@inline(__always)
func f16RoundKernel(_ n: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>) {
    for i in 0..<n { dst[i] = Float16(src[i]).bitPattern }
}
#else
// Elsewhere (on x86-64, whose baseline lacks F16C, and other platforms) a `Float16` conversion may
// be a library call per element: integer arithmetic instead, after F. Giesen's half conversions.

/// IEEE binary16 widened to float, exactly: inf and NaN, zero and subnormals (by a float
/// multiplication, exact), normals (by re-biasing the exponent).
@inline(__always)
func f16WidenKernel(_ n: Int, _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 16 <= n {
        f16Widen(SIMD16<UInt32>(truncatingIfNeeded: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<UInt16>.self)))
            .store(dst + i)
        i += 16
    }
    if i < n {
        var h = SIMD16<UInt32>()
        for j in 0..<(n - i) { h[j] = UInt32(src[i + j]) }
        f16Widen(h).store(dst + i, count: n - i)
    }
}

@inline(__always)
private func f16Widen(_ h: SIMD16<UInt32>) -> Float32x16 {
    let sign = (h & 0x8000) &<< 16
    let exponent = (h &>> 10) & 0x1f
    let fraction = h & 0x3ff
    let normal = sign | ((exponent &+ 112) &<< 23) | (fraction &<< 13)
    let special = sign | 0x7f80_0000 | (fraction &<< 13)
    let tiny = (Float32x16(SIMD16<Int32>(truncatingIfNeeded: fraction)) * 0x1p-24).bitPattern | sign
    let bits = normal.replacing(with: special, where: exponent .== 0x1f).replacing(with: tiny, where: exponent .== 0)
    return Float32x16(bitPattern: bits)
}

/// Float rounded to IEEE binary16, to nearest even: overflow to inf, NaN kept quiet, the
/// subnormal range by letting a float addition round at 2⁻²⁴, the normal range by adding half an
/// ulp minus one (plus the kept lsb) before truncating.
@inline(__always)
func f16RoundKernel(_ n: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>) {
    var i = 0
    while i + 16 <= n {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f16Round(.load(src + i)), as: SIMD16<UInt16>.self)
        i += 16
    }
    if i < n {
        let h = f16Round(.load(src + i, count: n - i, fill: 0))
        for j in 0..<(n - i) { dst[i + j] = h[j] }
    }
}

@inline(__always)
private func f16Round(_ f: Float32x16) -> SIMD16<UInt16> {
    let bits = f.bitPattern
    let sign = bits & 0x8000_0000
    let x = bits ^ sign
    let big = SIMD16<UInt32>(repeating: 0x7c00).replacing(with: 0x7e00 | ((x &>> 13) & 0x3ff), where: x .> 0x7f80_0000)
    let tiny = (Float32x16(bitPattern: x) + 0.5).bitPattern &- Float(0.5).bitPattern
    let normal = (x &+ (UInt32(bitPattern: -112) &<< 23) &+ 0xfff &+ ((x &>> 13) & 1)) &>> 13
    let h = normal.replacing(with: big, where: x .>= 0x4780_0000).replacing(with: tiny, where: x .< 0x3880_0000)
    return SIMD16<UInt16>(truncatingIfNeeded: h | (sign &>> 16))
}
#endif
