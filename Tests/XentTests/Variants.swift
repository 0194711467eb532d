// Every kernel variant this machine can run, and buffers with chosen misalignment.
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
