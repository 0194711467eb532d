// Every kernel variant this machine can run, and buffers with chosen misalignment.
import CXent
import Xent

/// A kernel, and for `.vector` the ISA it is forced to.
struct Variant: CustomStringConvertible, Sendable {
    let kernel: SoftmaxCrossEntropy.Kernel
    let isa: InstructionSet?

    /// `.reference`, `.scalar`, and `.vector` on every ISA this CPU supports.
    static let all: [Variant] =
        [Variant(kernel: .reference, isa: nil), Variant(kernel: .scalar, isa: nil)]
        + InstructionSet.supported.map { Variant(kernel: .vector, isa: $0) }

    func configuration(_ reduction: Reduction, ignoreIndex: Int32? = -100) -> SoftmaxCrossEntropy {
        SoftmaxCrossEntropy(reduction: reduction, ignoreIndex: ignoreIndex, kernel: kernel, instructionSet: isa)
    }

    var description: String { isa.map { "\(kernel)/\($0)" } ?? "\(kernel)" }
}

/// A C ISA's micro-kernel config: the one the CPU runs (`extensions`, CXent.h's
/// `xent_ukernel_config_get`), or the ISA's own without the extensions that may replace some of its
/// kernels (`xent_ukernel_config_get_without_extensions`; AVX512_BF16's bfloat16 rounding).
struct CConfig: CustomStringConvertible, Sendable {
    let isa: xent_isa
    let extensions: Bool

    var kernels: xent_ukernel_config {
        (extensions ? xent_ukernel_config_get(isa) : xent_ukernel_config_get_without_extensions(isa))!.pointee
    }

    /// The configs of `isas` this CPU supports: each ISA's, and its own without extensions where
    /// that is a different config.
    static func all(_ isas: [xent_isa]) -> [CConfig] {
        isas.filter { xent_isa_is_supported($0) != 0 && xent_ukernel_config_get($0) != nil }.flatMap { isa in
            xent_ukernel_config_get(isa) == xent_ukernel_config_get_without_extensions(isa)
                ? [CConfig(isa: isa, extensions: true)]
                : [CConfig(isa: isa, extensions: true), CConfig(isa: isa, extensions: false)]
        }
    }

    var description: String {
        String(cString: xent_isa_name(isa)) + (extensions && xent_ukernel_config_get(isa)
            != xent_ukernel_config_get_without_extensions(isa) ? "+extensions" : "")
    }
}

/// A Float buffer whose start is `offset` floats past a 64-byte boundary.
final class OffsetBuffer {
    private let raw: UnsafeMutableRawPointer
    let buffer: UnsafeMutableBufferPointer<Float>

    init(_ values: [Float], offset: Int) {
        raw = .allocate(byteCount: (values.count + offset) * 4 + 64, alignment: 64)
        let start = raw.assumingMemoryBound(to: Float.self) + offset
        buffer = UnsafeMutableBufferPointer(start: start, count: values.count)
        _ = buffer.initialize(from: values)
    }

    init(repeating value: Float, count: Int, offset: Int) {
        raw = .allocate(byteCount: (count + offset) * 4 + 64, alignment: 64)
        buffer = UnsafeMutableBufferPointer(start: raw.assumingMemoryBound(to: Float.self) + offset, count: count)
        buffer.initialize(repeating: value)
    }

    var array: [Float] { Array(buffer) }
    var readOnly: UnsafeBufferPointer<Float> { UnsafeBufferPointer(buffer) }

    deinit { raw.deallocate() }
}
