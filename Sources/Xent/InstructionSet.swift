// The ISAs the vector kernel's C shim is built for, and which one this process uses.
import CXent

/// An instruction set the vector kernel's exp primitive (SLEEF through the `CXent` shim) can run on.
///
/// The process-wide choice, ``active``, is made once, on first use: the `XENT_ISA` environment
/// variable (`avx512`, `avx2`, `sse2`, `advsimd`, `scalar`) if it names a supported ISA, else the
/// best one the CPU supports. An unsupported or unknown `XENT_ISA` is reported once on standard
/// error and ignored. ``SoftmaxCrossEntropy/instructionSet`` overrides the choice per call site.
public enum InstructionSet: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// AVX-512F, 16 lanes (`Sleef_expf16_u10avx512f`'s algorithm, inlined: the same bits).
    case avx512
    /// AVX2 with FMA, 8 lanes (`Sleef_expf8_u10avx2`'s operations, inlined: the same bits).
    case avx2
    /// SSE2, the x86-64 baseline, 4 lanes (`Sleef_expf4_u10sse2`).
    case sse2
    /// arm64 AdvSIMD, 4 lanes (`Sleef_expf4_u10advsimd`).
    case advsimd
    /// The portable Swift SIMD kernels over SLEEF's pure-C `Sleef_expf1_u10purec` (the same bits as SSE2 on any
    /// host).
    case scalar

    /// The ISA this process uses when ``SoftmaxCrossEntropy/instructionSet`` is `nil`.
    public static var active: InstructionSet { InstructionSet(xent_isa_default()) }

    /// Every ISA this CPU and build support, fastest first.
    public static var supported: [InstructionSet] { allCases.filter(\.isSupported) }

    /// Whether this CPU (and OS, and build) can run the primitive for this ISA.
    public var isSupported: Bool { xent_isa_is_supported(cValue) != 0 }

    /// The name `XENT_ISA` uses for this ISA.
    public var description: String { rawValue }

    init(_ isa: xent_isa) {
        switch isa {
        case XENT_ISA_AVX512F: self = .avx512
        case XENT_ISA_AVX2: self = .avx2
        case XENT_ISA_SSE2: self = .sse2
        case XENT_ISA_ADVSIMD: self = .advsimd
        default: self = .scalar
        }
    }

    var cValue: xent_isa {
        switch self {
        case .avx512: return XENT_ISA_AVX512F
        case .avx2: return XENT_ISA_AVX2
        case .sse2: return XENT_ISA_SSE2
        case .advsimd: return XENT_ISA_ADVSIMD
        case .scalar: return XENT_ISA_SCALAR
        }
    }
}
