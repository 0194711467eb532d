// The 16-bit micro-kernels of arm64's AdvSIMD and the portable fallback (CXent.h:
// xent_half_widen_ukernel_fn, xent_half_round_ukernel_fn) in Swift: the same bits as the C ones of
// xent_half.c — widening is exact and rounding is IEEE's to nearest even, NaN kept a NaN.

// One element at a time, with selects rather than branches: loops the compiler vectorizes. The same
// steps on `SIMD16` values went through the standard library's generic lane-by-lane conversions and
// masks, many times slower (Performance article).

/// bfloat16 widened: float's top half, a shift.
@inline(__always)
func bf16WidenKernel(_ n: Int, _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>) {
    for i in 0..<n { dst[i] = Float(bitPattern: UInt32(src[i]) &<< 16) }
}

/// Float rounded to bfloat16, as ``BFloat16/init(_:)`` rounds.
@inline(__always)
func bf16RoundKernel(_ n: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>) {
    for i in 0..<n { dst[i] = BFloat16(src[i]).bitPattern }
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

/// IEEE binary16 widened to float, exactly.
@inline(__always)
func f16WidenKernel(_ n: Int, _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>) {
    for i in 0..<n { dst[i] = f16Widen(src[i]) }
}

/// inf and NaN, zero and subnormals (by a float multiplication, exact), normals (by re-biasing the
/// exponent).
@inline(__always)
private func f16Widen(_ half: UInt16) -> Float {
    let h = UInt32(half)
    let sign = (h & 0x8000) &<< 16
    let exponent = (h &>> 10) & 0x1f
    let fraction = h & 0x3ff
    let normal = sign | ((exponent &+ 112) &<< 23) | (fraction &<< 13)
    let special = sign | 0x7f80_0000 | (fraction &<< 13)
    let tiny = (Float(Int32(bitPattern: fraction)) * 0x1p-24).bitPattern | sign
    return Float(bitPattern: exponent == 0x1f ? special : exponent == 0 ? tiny : normal)
}

/// Float rounded to IEEE binary16, to nearest even.
@inline(__always)
func f16RoundKernel(_ n: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>) {
    for i in 0..<n { dst[i] = f16Round(src[i]) }
}

/// Overflow to inf, NaN kept quiet, the subnormal range by letting a float addition round at 2⁻²⁴,
/// the normal range by adding half an ulp minus one (plus the kept lsb) before truncating.
@inline(__always)
private func f16Round(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = bits & 0x8000_0000
    let x = bits ^ sign
    let big: UInt32 = x > 0x7f80_0000 ? 0x7e00 | ((x &>> 13) & 0x3ff) : 0x7c00
    let tiny = (Float(bitPattern: x) + 0.5).bitPattern &- Float(0.5).bitPattern
    let normal = (x &+ (UInt32(bitPattern: -112) &<< 23) &+ 0xfff &+ ((x &>> 13) & 1)) &>> 13
    let h = x >= 0x4780_0000 ? big : x < 0x3880_0000 ? tiny : normal
    return UInt16(truncatingIfNeeded: h | (sign &>> 16))
}
#endif
