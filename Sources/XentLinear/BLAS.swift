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

    /// Runs `body` with the BLAS limited to `threads` threads (nil: its own default), and restores
    /// the previous setting. OpenBLAS's setting is process-wide; Accelerate has none (it chooses).
    static func withThreads<R>(_ threads: Int?, _ body: () throws(XentError) -> R) throws(XentError) -> R {
        #if canImport(Accelerate)
        return try body()
        #else
        guard let threads else { return try body() }
        let previous = openblas_get_num_threads()
        openblas_set_num_threads(Int32(clamping: threads))
        defer { openblas_set_num_threads(previous) }
        return try body()
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
