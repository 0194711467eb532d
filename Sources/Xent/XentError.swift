// The typed errors every entry point throws before writing anything.

/// An argument that Xent refuses, thrown before any output buffer is written.
///
/// Each case names the argument and the offending value (and the row, for labels); its
/// ``description`` is a sentence fit for a log.
public enum XentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `classes` is below 1.
    case invalidClassCount(classes: Int)
    /// The batch has no rows (`labels` or `logits` is empty).
    case invalidRowCount(rows: Int)
    /// `rows × classes` does not fit in `Int`.
    case shapeOverflow(rows: Int, classes: Int)
    /// `rows × rowStride` (or the span `(rows − 1) × rowStride + classes`) does not fit in `Int`.
    case rowStrideOverflow(rows: Int, rowStride: Int, classes: Int)
    /// `rowStride` is smaller than `classes`.
    case invalidRowStride(rowStride: Int, classes: Int)
    /// A buffer's element count does not match the shape.
    case lengthMismatch(argument: String, expected: Int, actual: Int)
    /// With soft targets the row count is `logits.count / classes`, which must be exact.
    case logitsNotMultipleOfClasses(count: Int, classes: Int)
    /// A class label outside `0 ..< classes` that is not the ignore index.
    case labelOutOfRange(row: Int, label: Int, classes: Int)
    /// `reduction` is `.none`, whose per-row losses need somewhere to go: a ``RowStatistics``
    /// that fills ``RowStatistics/losses`` (or, over unsafe buffers, a
    /// ``RowStatistics/Buffers/losses`` buffer).
    case rowLossesRequired
    /// The argmax is asked for but `classes` exceeds `Int32.max`, the largest class index an
    /// ``RowStatistics/argmax`` entry holds.
    case argmaxOutOfRange(classes: Int)
    /// Two buffers share memory where that is not allowed (only `gradient` may be the very same
    /// buffer as `logits`, for an in-place call).
    case overlappingBuffers(first: String, second: String)
    /// A scalar argument that must be finite is infinite or NaN.
    case nonFiniteValue(argument: String, value: Double)
    /// An option of ``SoftmaxCrossEntropy`` holds a value outside its domain.
    case invalidOption(name: String, value: Double, requirement: String)
    /// `threads` is below 1.
    case invalidThreadCount(threads: Int)
    /// `instructionSet` names an ISA this CPU (or this build) does not support.
    case instructionSetUnavailable(InstructionSet)

    /// A sentence naming the argument and the offending value (and the row, for labels).
    public var description: String {
        switch self {
        case .invalidClassCount(let classes):
            return "classes = \(classes) is invalid: a row needs at least 1 class"
        case .invalidRowCount(let rows):
            return "rows = \(rows) is invalid: the batch needs at least 1 row"
        case .shapeOverflow(let rows, let classes):
            return "rows × classes = \(rows) × \(classes) overflows Int"
        case .rowStrideOverflow(let rows, let rowStride, let classes):
            return "rows × rowStride = \(rows) × \(rowStride) overflows Int (classes = \(classes))"
        case .invalidRowStride(let rowStride, let classes):
            return "rowStride = \(rowStride) is invalid: it must be at least classes = \(classes)"
        case .lengthMismatch(let argument, let expected, let actual):
            return "\(argument) holds \(actual) elements; the shape needs \(expected)"
        case .logitsNotMultipleOfClasses(let count, let classes):
            return "logits holds \(count) elements, not a multiple of classes = \(classes)"
        case .labelOutOfRange(let row, let label, let classes):
            return "labels[\(row)] = \(label) is outside 0..<\(classes) and is not the ignore index"
        case .rowLossesRequired:
            return "rowStatistics.losses is missing but reduction is .none, which returns per-row losses there"
        case .argmaxOutOfRange(let classes):
            return "classes = \(classes) is too many for rowStatistics.argmax: its Int32 holds at most \(Int32.max)"
        case .overlappingBuffers(let first, let second):
            return "\(first) overlaps \(second); only gradient may be the very same buffer as logits"
        case .nonFiniteValue(let argument, let value):
            return "\(argument) = \(value) is invalid: it must be finite"
        case .invalidOption(let name, let value, let requirement):
            return "\(name) = \(value) is invalid: it must be \(requirement)"
        case .invalidThreadCount(let threads):
            return "threads = \(threads) is invalid: use nil (automatic) or at least 1"
        case .instructionSetUnavailable(let isa):
            return "instructionSet = .\(isa) is not supported on this CPU or in this build"
        }
    }
}
