// The one boundary to the BLAS: single-precision GEMM and the thread count, over OpenBLAS's CBLAS
// on Linux and Accelerate's on Apple platforms.
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
import Xent

/// The BLAS calls of the fused linear head. Every matrix is row-major `Float`.
enum BLAS {
    /// `C = alpha·op(A)·op(B) + beta·C` (`cblas_sgemm`, row-major): `op(A)` is `m × k`, `op(B)`
    /// `k × n`, `C` `m × n`; `lda`, `ldb`, `ldc` are the row strides of the matrices as stored.
    @inline(__always)
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The largest dimension the BLAS's 32-bit integer interface takes.
    static let maxDimension = Int(Int32.max)

    /// Makes sure the BLAS computes every call on the calling thread: XentLinear runs its own
    /// threads over fixed jobs, so that the bits do not depend on the thread count. OpenBLAS's
    /// thread count is process-wide and has no per-call form, and changing it while another
    /// thread is inside OpenBLAS is not safe; so it is set to 1 when it is not 1 already, and left
    /// so (the docs say it). Accelerate's setting (`BLASSetThreading`, macOS 15 and later) is per
    /// thread and is not touched here: Accelerate may use threads of its own inside a product.
    static func useCallingThreadOnly() {
        #if !canImport(Accelerate)
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
        #endif
    }

    /// The library in use, for reports: OpenBLAS's configuration string, or "Accelerate".
    static var name: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        return String(cString: openblas_get_config())
        #endif
    }
}
