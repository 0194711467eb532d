// The buffers one training step works in, allocated once so that the hot path allocates nothing.

/// Room for up to `capacity` examples: their inputs and labels (copied from a data set) and the
/// logits, gradient and predictions that the model and Xent write. One is allocated before
/// training and reused for every step.
final class MinibatchBuffers {
    let capacity: Int
    private let inputs: UnsafeMutableBufferPointer<Float>
    private let labels: UnsafeMutableBufferPointer<Int32>
    private let logits: UnsafeMutableBufferPointer<Float>
    private let gradient: UnsafeMutableBufferPointer<Float>
    private let predictions: UnsafeMutableBufferPointer<Int32>

    init(capacity: Int) {
        self.capacity = capacity
        inputs = .allocate(capacity: capacity * Dataset.featureCount)
        labels = .allocate(capacity: capacity)
        logits = .allocate(capacity: capacity * Dataset.classCount)
        gradient = .allocate(capacity: capacity * Dataset.classCount)
        predictions = .allocate(capacity: capacity)
    }

    deinit {
        inputs.deallocate()
        labels.deallocate()
        logits.deallocate()
        gradient.deallocate()
        predictions.deallocate()
    }

    /// Copies the examples at `indices` (at most `capacity`) into the buffers and returns views
    /// of exactly that many rows: the shapes Xent checks its arguments against.
    func load(_ indices: ArraySlice<Int>, from data: Dataset) -> Minibatch {
        let rows = indices.count
        precondition(rows <= capacity)
        let width = Dataset.featureCount
        data.features.withUnsafeBufferPointer { source in
            for (row, example) in indices.enumerated() {
                for f in 0..<width { inputs[row * width + f] = source[example * width + f] }
                labels[row] = data.labels[example]
            }
        }
        let k = Dataset.classCount
        return Minibatch(
            rows: rows,
            inputs: UnsafeBufferPointer(rebasing: inputs[..<(rows * width)]),
            labels: UnsafeBufferPointer(rebasing: labels[..<rows]),
            logits: UnsafeMutableBufferPointer(rebasing: logits[..<(rows * k)]),
            gradient: UnsafeMutableBufferPointer(rebasing: gradient[..<(rows * k)]),
            predictions: UnsafeMutableBufferPointer(rebasing: predictions[..<rows]))
    }
}

/// `rows` examples loaded into a ``MinibatchBuffers``; valid while it lives and until its next `load`.
struct Minibatch {
    let rows: Int
    let inputs: UnsafeBufferPointer<Float>               // rows × features
    let labels: UnsafeBufferPointer<Int32>               // rows
    let logits: UnsafeMutableBufferPointer<Float>        // rows × classes, written by the model
    let gradient: UnsafeMutableBufferPointer<Float>      // rows × classes, written by Xent
    let predictions: UnsafeMutableBufferPointer<Int32>   // rows, each row's argmax, written by Xent
}
