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
    /// A ``VocabShard`` that is not a slice of its vocabulary: `offset < 0`, `count < 1` or
    /// `offset + count > classes`.
    case invalidShard(offset: Int, count: Int, classes: Int)
    /// ``VocabShard/split(classes:shards:aligned:)`` cannot cut `classes` into `shards` slices:
    /// fewer than 1, more than the classes, or — aligned — more than the chunks.
    case invalidShardCount(shards: Int, classes: Int, aligned: Bool)
    /// The shards' statistics, ordered by offset, do not tile `0 ..< classes`: the shard at
    /// `offset` (or the end of the last one) is not where the previous one ended, `expected`.
    case shardsDoNotTile(offset: Int, expected: Int, classes: Int)
    /// Gathered shard statistics whose element count is not a whole number of blocks of `block`.
    case statisticsNotMultipleOfBlock(count: Int, block: Int)
    /// A shard's statistics were made for another call: its `field` (the vocabulary, the rows, the
    /// options, the element type, the target kind) is `actual` where this rank's is `expected`.
    case shardStatisticsMismatch(field: String, expected: Double, actual: Double)
    /// A value in the shard statistics (or row maxima) outside its domain: a corrupted or
    /// reordered buffer, or shards that disagree on a row.
    case invalidShardStatistics(field: String, row: Int, value: Double)
    /// A vocabulary-shard step called out of order, or with buffers other than those its state was
    /// begun with.
    case shardStepOutOfOrder(step: String, reason: String)
    /// An operation the configured ``SoftmaxCrossEntropy/kernel`` does not offer (vocabulary
    /// shards run on `.vector` only).
    case unsupportedKernel(SoftmaxCrossEntropy.Kernel, operation: String)
    /// A buffer whose length must be a whole multiple of a count (`multiple`, named by `of`) is
    /// not: the fused linear head's hidden states (`rows × hidden`) or soft targets (`rows ×
    /// classes`), or soft-target logits with a `rowStride` that neither divides their count nor
    /// leaves a last row of `classes` (`(rows − 1) × rowStride + classes`).
    case lengthNotMultiple(argument: String, count: Int, multiple: Int, of: String)

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
            // In place is the one sharing allowed: say so where the caller may have meant it.
            let rule = first == "gradient" && (second == "logits" || second == "targets")
                ? "gradient may be the very same buffer as logits, and overlap nothing else"
                : "an output may share no memory with another buffer the call, or a later shard step, uses"
            return "\(first) overlaps \(second); \(rule)"
        case .nonFiniteValue(let argument, let value):
            return "\(argument) = \(value) is invalid: it must be finite"
        case .invalidOption(let name, let value, let requirement):
            return "\(name) = \(value) is invalid: it must be \(requirement)"
        case .invalidThreadCount(let threads):
            return "threads = \(threads) is invalid: use nil (automatic) or at least 1"
        case .instructionSetUnavailable(let isa):
            return "instructionSet = .\(isa) is not supported on this CPU or in this build"
        case .invalidShard(let offset, let count, let classes):
            return "shard offset = \(offset), count = \(count) is not a slice of 0..<\(classes)"
        case .invalidShardCount(let shards, let classes, let aligned):
            return "shards = \(shards) cannot split \(classes) classes"
                + (aligned ? " into slices of whole \(VocabShard.alignment(classes: classes))-class chunks" : "")
        case .shardsDoNotTile(let offset, let expected, let classes):
            return "the shards do not tile 0..<\(classes): one starts (or the last ends) at \(offset), "
                + "not at \(expected)"
        case .statisticsNotMultipleOfBlock(let count, let block):
            return "statistics holds \(count) elements, not a positive multiple of a shard's block of \(block)"
        case .shardStatisticsMismatch(let field, let expected, let actual):
            return "a shard's statistics have \(field) = \(actual) where this rank's is \(expected)"
        case .invalidShardStatistics(let field, let row, let value):
            return "shard statistics: \(field) of row \(row) = \(value) is outside its domain"
        case .shardStepOutOfOrder(let step, let reason):
            return "\(step) cannot run now: \(reason)"
        case .unsupportedKernel(let kernel, let operation):
            return "kernel = .\(kernel) does not offer \(operation); use .vector"
        case .lengthNotMultiple(let argument, let count, let multiple, let of):
            return "\(argument) holds \(count) elements, not a whole nonzero multiple of \(multiple) (\(of))"
        }
    }
}
