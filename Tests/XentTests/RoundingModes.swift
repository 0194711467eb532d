// The four IEEE rounding modes, for the tests that hold a kernel to SLEEF's bits in each of them
// (ExpTests, TanhTests): MXCSR's mode steers both the library functions and the inlined copies.
import Foundation

/// The four modes, as `fesetround` sets them (on x86-64, in MXCSR too), with their names.
let roundingModes: [(name: String, mode: Int32)] = [
    ("to nearest", FE_TONEAREST), ("down", FE_DOWNWARD), ("up", FE_UPWARD), ("toward zero", FE_TOWARDZERO),
]

/// `body`'s result, run with the calling thread's rounding mode set to `mode` (restored after).
func inRoundingMode<Result>(_ mode: Int32, _ body: () -> Result) -> Result {
    let saved = fegetround()
    fesetround(mode)
    defer { fesetround(saved) }
    return body()
}
