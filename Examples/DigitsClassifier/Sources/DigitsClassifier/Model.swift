// Softmax regression: logits = X·W + b, and the gradient-descent step from the logits' gradient.

/// A linear classifier from `features` inputs to `classes` logits. Xent owns the softmax and the
/// loss; the model only needs the forward matrix product and, from Xent's `G = ∂loss/∂logits`
/// (`rows × classes`), the chain rule: `∂loss/∂W = Xᵀ·G` and `∂loss/∂b = Σ_rows G`.
struct SoftmaxRegression {
    let features: Int
    let classes: Int
    /// `features × classes`, row-major: `weights[f * classes + c]` links input `f` to class `c`.
    private(set) var weights: [Float]
    private(set) var bias: [Float]

    /// All zeros: the loss is convex in W and b, so plain gradient descent needs no random start.
    /// (An MLP would need one: draw its hidden weights from a seeded `SplitMix64`.)
    init(features: Int, classes: Int) {
        self.features = features
        self.classes = classes
        weights = Array(repeating: 0, count: features * classes)
        bias = Array(repeating: 0, count: classes)
    }

    /// Writes the `rows × classes` logits of `inputs` (`rows × features`) into `logits`.
    func logits(of inputs: UnsafeBufferPointer<Float>, into logits: UnsafeMutableBufferPointer<Float>) {
        let rows = inputs.count / features
        precondition(inputs.count == rows * features && logits.count == rows * classes)
        weights.withUnsafeBufferPointer { w in
            for r in 0..<rows {
                let out = r * classes
                for c in 0..<classes { logits[out + c] = bias[c] }
                for f in 0..<features {
                    let x = inputs[r * features + f]
                    if x == 0 { continue }  // most pixels are blank
                    for c in 0..<classes { logits[out + c] += x * w[f * classes + c] }
                }
            }
        }
    }

    /// One step downhill: `W −= η·Xᵀ·G`, `b −= η·Σ_rows G`, for the `inputs` that produced
    /// the logits whose gradient is `gradient`. Xent has already divided `G` by the batch's rows
    /// (`.mean`), so `η` does not depend on the batch size.
    mutating func step(inputs: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>, learningRate: Float) {
        let rows = inputs.count / features
        precondition(inputs.count == rows * features && gradient.count == rows * classes)
        let (features, classes) = (self.features, self.classes)
        weights.withUnsafeMutableBufferPointer { w in
            for r in 0..<rows {
                let g = r * classes
                for f in 0..<features {
                    let x = learningRate * inputs[r * features + f]
                    if x == 0 { continue }
                    for c in 0..<classes { w[f * classes + c] -= x * gradient[g + c] }
                }
            }
        }
        bias.withUnsafeMutableBufferPointer { b in
            for r in 0..<rows {
                for c in 0..<classes { b[c] -= learningRate * gradient[r * classes + c] }
            }
        }
    }
}
