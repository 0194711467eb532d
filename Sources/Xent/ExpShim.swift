// The Swift side of the shim's exp micro-kernel, for the exp-throughput bound (Primitives).
import CXent

/// Writes `y[i] = exp(x[i] − shift)` (when `y` is non-nil) and returns the sum in `Double`.
///
/// The `raddstoreexpminusmax` micro-kernel of `isa`. `y` may be `x` itself.
/// - Precondition: `shift` is finite; `isa` is supported.
@inline(__always)
func expMinusSum(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>?, count: Int, shift: Float,
    isa: InstructionSet
) -> Double {
    MicroKernels.expMinusSum(isa.cValue, x, y, count: count, shift: shift)
}
