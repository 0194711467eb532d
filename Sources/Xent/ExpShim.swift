// The one place the Swift code calls the C shim and SLEEF (as swift-system's Syscalls.swift).
import CSleef
import CXent

/// Writes `y[i] = exp(x[i] − shift)` (when `y` is non-nil) and returns the sum in `Double`.
///
/// Stands on `xent_f32_expminus_sum` (SLEEF's `u10` exp for `isa`). `y` may be `x` itself.
/// - Precondition: `shift` is finite; `isa` is supported.
@inline(__always)
func expMinusSum(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>?, count: Int, shift: Float,
    isa: InstructionSet
) -> Double {
    xent_f32_expminus_sum(isa.cValue, x, y, count, shift)
}

/// SLEEF's 1-ULP double-precision log (`Sleef_log_u10`), for each row's `log S`.
@inline(__always)
func sleefLog(_ x: Double) -> Double { Sleef_log_u10(x) }
