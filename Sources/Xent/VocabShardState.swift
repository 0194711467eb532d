// What one rank keeps between the steps of a vocabulary-sharded call.
import CXent

/// What a rank keeps between the steps of a vocabulary-parallel call (<doc:VocabularyParallel>):
/// the chunk sums of its slice of every row, the rows' maxima, and the combined row totals.
///
/// Create one per rank and pass it to every step of a call; reuse it for the next call (its
/// per-row and per-chunk storage is kept, so calls of the same shape do not allocate it again;
/// the combine allocates a few small arrays per call). Each step checks that it
/// follows its predecessor with the same options, shard and buffers, and throws
/// ``XentError/shardStepOutOfOrder(step:reason:)`` otherwise. Not `Sendable`: one rank's calls
/// run one after another.
public final class VocabShardState {
    /// The step last completed.
    enum Step: Int { case none, maxima, statistics, combined }

    var step = Step.none
    /// Whether the gradient step has turned the stored exps into the gradient (it runs once).
    var gradientWritten = false
    /// The configuration the call began with; every later step must be given the same.
    var options = SoftmaxCrossEntropy()
    var shard = try! VocabShard(classes: 1, offset: 0, count: 1)
    var rows = 0
    var stride = 0
    var storage = Storage.float32
    var soft = false
    var argmax = false
    var isa = XENT_ISA_SCALAR
    /// The micro-kernels the steps use instead of ``isa``'s (a test's, which wrap them).
    var kernels: xent_ukernel_config?
    var workers = 1
    /// The caller's buffers (address, element count), which the gradient step must be given again.
    var targets: (UnsafeRawPointer, Int)?
    var gradient: (UnsafeMutableRawPointer, Int)?

    /// Per row: what the steps learn about it (written by one worker per row, through a pointer).
    struct Row {
        /// The label (−1 for soft targets); whether it is ignored; whether this shard owns it.
        var label = -1
        var ignored = false, owns = false
        /// The owner's transformed target logit and class weight (the combine: the owner's).
        var targetLogit = 0.0, targetWeight = 0.0
        /// This shard's maxima (transformed, raw), then the global ones.
        var localMax = -Float.infinity, localRawMax = -Float.infinity
        var rowMax = -Float.infinity, rawMax = -Float.infinity
        /// The combined sums, and whether the row's result is NaN (its gradient is NaN-filled).
        var sums = RowSums()
        var isNaN = false
    }

    var rowInfo: [Row] = []
    /// The row chunk grid over this shard: global chunks `firstChunk ..< firstChunk + chunksPerRow`.
    var chunkLength = 0, firstChunk = 0, chunksPerRow = 0
    /// `rows × chunksPerRow` chunk sums (their `toRow` set by the statistics step).
    var table: [ChunkSums] = []
    /// 16-bit logits with a gradient: the rows widened to `Float`, where the exps wait for the
    /// gradient step (`rows × count`).
    var floats: [Float] = []
    /// The denominators of the combined call.
    var crossEntropyDenominator = 1.0, zLossDenominator = 1.0

    /// An empty state.
    public init() {}

    /// The caller's buffers a later step still needs, as bytes: what no later step's output may
    /// overlap — the gradient (where the stored exps wait for step 4, which writes it) and, with a
    /// gradient, the soft targets step 4 reads again. The logits are not read after step 1: the
    /// caller may free or reuse them, so a later output may lie where they were.
    var keptBuffers: [(name: String, bytes: UnsafeRawBufferPointer)] {
        let size = storage.elementSize
        var kept = [(String, UnsafeRawBufferPointer)]()
        if let gradient {
            kept.append(("gradient", UnsafeRawBufferPointer(start: gradient.0, count: gradient.1 * size)))
            if let targets {
                kept.append(("targets", UnsafeRawBufferPointer(start: targets.0, count: targets.1 * size)))
            }
        }
        return kept
    }

    /// The start and length, in the shard's own columns, of chunk `c` (`0 ..< chunksPerRow`).
    @inline(__always)
    func piece(_ c: Int) -> (base: Int, count: Int) {
        let start = Swift.max((firstChunk + c) * chunkLength, shard.offset)
        let end = Swift.min((firstChunk + c + 1) * chunkLength, shard.offset + shard.count)
        return (start - shard.offset, end - start)
    }

    /// Resizes `array` to `count` elements, reusing its storage.
    static func resize<T>(_ array: inout [T], _ count: Int, _ value: T) {
        if array.count != count {
            array.removeAll(keepingCapacity: true)
            array.append(contentsOf: repeatElement(value, count: count))
        }
    }

    func requireStep(_ expected: Step, _ name: String, options: SoftmaxCrossEntropy) throws(XentError) {
        guard step.rawValue >= expected.rawValue else {
            let names = ["no step", "shardMaxima", "shardStatistics", "combineShards"]
            throw .shardStepOutOfOrder(step: name, reason: "it needs \(names[expected.rawValue]) first")
        }
        guard options == self.options else {
            throw .shardStepOutOfOrder(step: name, reason: "its options differ from those shardMaxima was given")
        }
    }

    /// The fingerprint of everything the ranks must agree on besides the shape: the options that
    /// shape the sums (a zero and its negative alike), the row weights and the rows' labels (48 bits
    /// of FNV-1a, exact in a Double; the element type and target kind are in ``flags``). A rank
    /// whose labels differ in a row whose label another shard owns would otherwise go unnoticed:
    /// only the owner reads the label's logit.
    var fingerprint: Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bits: UInt64) {
            var b = bits
            for _ in 0..<8 {
                hash = (hash ^ (b & 0xff)) &* 0x100_0000_01b3
                b >>= 8
            }
        }
        mix(UInt64(bitPattern: Int64(options.ignoreIndex ?? Int32.min)) ^ (options.ignoreIndex == nil ? 1 << 40 : 0))
        // −0 passes the options' checks and means what +0 does.
        mix(UInt64(options.labelSmoothing == 0 ? 0 : options.labelSmoothing.bitPattern))
        mix(UInt64(options.zLossScale == 0 ? 0 : options.zLossScale.bitPattern))
        mix(UInt64(options.logitScale.bitPattern))
        mix(UInt64((options.softcap ?? 0).bitPattern))
        mix(UInt64(options.gradientScale.bitPattern))
        mix((options.divisor ?? -1).bitPattern)
        mix(options.reduction == .mean ? 1 : options.reduction == .sum ? 2 : 3)
        mix(options.classWeights == nil ? 0 : 1)
        // Every rank scores the same rows: the row weights must be the same everywhere.
        if let rowWeights = options.rowWeights {
            mix(UInt64(rowWeights.count))
            for r in rowWeights { mix(UInt64(r.bitPattern)) }
        }
        for row in rowInfo { mix(UInt64(bitPattern: Int64(row.label))) }
        return Double(hash >> 16)
    }

    /// The header's flags: soft targets, argmax, smoothing, class weights, storage, z-loss.
    var flags: Double {
        var f = 0
        if soft { f |= 1 }
        if argmax { f |= 2 }
        if options.labelSmoothing != 0 { f |= 4 }
        if options.classWeights != nil { f |= 8 }
        if case .half(let format) = storage { f |= format == XENT_HALF_BFLOAT16 ? 32 : 16 }
        if options.zLossScale != 0 { f |= 64 }
        return Double(f)
    }
}
