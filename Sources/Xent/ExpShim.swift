// The Swift side of the shim's exp micro-kernel, for the exp-throughput bound (Primitives).
import CXent

/// Writes `y[i] = exp(x[i] − shift)` (when `y` is non-nil) and returns the sum in `Double`.
///
/// Stands on `xent_f32_expminus_sum` (the `raddstoreexpminusmax` micro-kernel of `isa`). `y` may be `x` itself.
/// - Precondition: `shift` is finite; `isa` is supported.
@inline(__always)
func expMinusSum(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>?, count: Int, shift: Float,
    isa: InstructionSet
) -> Double {
    xent_f32_expminus_sum(isa.cValue, x, y, count, shift)
}
