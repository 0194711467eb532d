// The vocabulary-shard steps timed as one rank that holds the whole rows as its only shard, the
// exchanges the identity: what the steps cost beside a plain call on the same data.
import Xent

final class ShardBuffers {
    let state = VocabShardState()
    let maxima: UnsafeMutableBufferPointer<Double>
    let block: UnsafeMutableBufferPointer<Double>

    init(rows: Int) {
        maxima = LineAligned.allocate(Double.self, capacity: rows * VocabShard.maximaPerRow)
        block = LineAligned.allocate(Double.self, capacity: VocabShard.statisticsCount(rows: rows))
        maxima.initialize(repeating: 0)
        block.initialize(repeating: 0)
    }

    deinit {
        LineAligned.deallocate(maxima)
        LineAligned.deallocate(block)
    }

    /// Steps 1–3 (`.shardForward`) or 1–4 (`.shardForwardGradient`); returns the loss.
    func run<E: LogitElement>(
        _ ce: SoftmaxCrossEntropy, _ operation: Operation, _ target: TargetKind, logits: UnsafeBufferPointer<E>,
        targets: UnsafeBufferPointer<E>, labels: UnsafeBufferPointer<Int32>, gradient: UnsafeMutableBufferPointer<E>,
        classes: Int
    ) throws -> Float {
        let shard = try VocabShard(classes: classes, offset: 0, count: classes)
        let g = operation == .shardForwardGradient ? gradient : nil
        switch target {
        case .labels:
            try ce.shardMaxima(
                logits: logits, labels: labels, shard: shard, gradient: g, state: state, rowMaxima: maxima)
        case .soft:
            try ce.shardMaxima(
                logits: logits, targets: targets, shard: shard, gradient: g, state: state, rowMaxima: maxima)
        }
        // One rank: the maximum over ranks is its own maxima, the gathered blocks its own block.
        try ce.shardStatistics(rowMaxima: UnsafeBufferPointer(maxima), state: state, statistics: block)
        let loss = try ce.combineShards(statistics: UnsafeBufferPointer(block), state: state)
        if let g {
            switch target {
            case .labels: try ce.shardGradient(gradient: g, state: state)
            case .soft: try ce.shardGradient(targets: targets, gradient: g, state: state)
            }
        }
        return loss
    }
}
