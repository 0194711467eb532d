// One rank's slice of a vocabulary, and the flat layouts its statistics travel in.

/// One rank's slice `offset ..< offset + count` of a vocabulary of `classes` (V) classes, for
/// vocabulary-parallel cross-entropy (<doc:VocabularyParallel>).
///
/// Every rank holds the logits of its slice for every row; labels are global class indices. The
/// shards of one call tile `0 ..< classes`. When every boundary between them is a multiple of
/// ``alignment(classes:)``, the sharded loss, row outputs and gradient are bitwise those of one
/// call on the whole rows; otherwise they are within NUMERICS.md's bounds.
public struct VocabShard: Sendable, Hashable, CustomStringConvertible {
    /// The vocabulary's size V.
    public let classes: Int
    /// The first class of the slice.
    public let offset: Int
    /// The classes in the slice (≥ 1).
    public let count: Int

    /// The slice `offset ..< offset + count` of `0 ..< classes`; throws
    /// ``XentError/invalidShard(offset:count:classes:)`` if it is not one.
    public init(classes: Int, offset: Int, count: Int) throws(XentError) {
        guard classes >= 1, offset >= 0, count >= 1, offset < classes, count <= classes - offset else {
            throw .invalidShard(offset: offset, count: count, classes: classes)
        }
        self.classes = classes
        self.offset = offset
        self.count = count
    }

    /// The unit shard boundaries must be multiples of for bitwise equality with one call on the
    /// whole rows: the vector kernel's chunk length for rows of `classes` (2048 up to 1,048,576
    /// classes).
    public static func alignment(classes: Int) -> Int { RowPipeline.chunkLength(classes: max(1, classes)) }

    /// Whether both ends of the slice are multiples of ``alignment(classes:)`` (or the vocabulary's end).
    public var isAligned: Bool {
        let unit = Self.alignment(classes: classes)
        return offset % unit == 0 && (offset + count == classes || (offset + count) % unit == 0)
    }

    /// `shards` slices tiling `0 ..< classes`, in order. `aligned` (the default) deals out whole
    /// chunks of ``alignment(classes:)`` as evenly as possible (the first shards take one more),
    /// so the result is bitwise that of one call; it needs `shards` ≤ the chunk count. Otherwise
    /// the classes are dealt out as evenly as possible.
    public static func split(classes: Int, shards: Int, aligned: Bool = true) throws(XentError) -> [VocabShard] {
        guard classes >= 1, shards >= 1, shards <= classes else {
            throw .invalidShardCount(shards: shards, classes: classes, aligned: aligned)
        }
        let unit = aligned ? alignment(classes: classes) : 1
        let units = (classes + unit - 1) / unit
        guard shards <= units else { throw .invalidShardCount(shards: shards, classes: classes, aligned: aligned) }
        var result = [VocabShard]()
        var start = 0
        for k in 0..<shards {
            let take = units / shards + (k < units % shards ? 1 : 0)
            let end = min(classes, start + take * unit)
            result.append(try VocabShard(classes: classes, offset: start, count: end - start))
            start = end
        }
        return result
    }

    public var description: String { "VocabShard(\(offset)..<\(offset + count) of \(classes))" }
}

extension VocabShard {
    /// Doubles per row of the row maxima (the first exchange): the max of the transformed logits
    /// and the max of the caller's logits, each −inf for an empty or ignored row. Combine the
    /// ranks' buffers with an element-wise maximum (an `MPI_MAX` all-reduce is exact in any order).
    public static let maximaPerRow = 2

    /// Doubles in the header of a shard's statistics block (the second exchange).
    public static let statisticsHeaderCount = 8
    /// Doubles per row in a shard's statistics block.
    public static let statisticsPerRow = 32

    /// The Doubles in one shard's statistics block for `rows` rows: `8 + 32 × rows`.
    public static func statisticsCount(rows: Int) -> Int { statisticsHeaderCount + statisticsPerRow * rows }

    /// Doubles per row of the all-reduce form's element-wise-maximum buffer.
    public static let allReduceMaximumPerRow = 1
    /// Doubles per row of the all-reduce form's element-wise-sum buffer.
    public static let allReduceSumPerRow = 9
}
