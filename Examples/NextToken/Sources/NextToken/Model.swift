// The model: h = E₁[t−1] + E₂[t−2] (two embedding tables), logits = W·h + b. XentLinear owns
// the logits, the softmax and the loss; the model only gathers H and, from XentLinear's ∂H, ∂W
// and ∂b, scatters ∂H back into the embedding rows and takes an Adam step.

import XentLinear

/// A context-embedding next-token model over a `vocabulary` of tokens, hidden size `dimension`.
struct NextTokenModel {
    let vocabulary: Int
    let dimension: Int
    /// The parameters, each `vocabulary × dimension` row-major except `bias` (`vocabulary`):
    /// `previous` embeds t − 1, `before` embeds t − 2, `weight` is the output layer (row j: class j,
    /// the layout `LinearCrossEntropy` expects, as PyTorch's `Linear.weight`).
    private(set) var previous: [Float], before: [Float], weight: [Float], bias: [Float]
    private var optimizer: [Adam]

    /// Small uniform values from a seeded generator (no libm, so the same bits everywhere), a zero
    /// bias: the first logits are near 0, the starting loss near log(vocabulary).
    init(vocabulary: Int, dimension: Int, seed: UInt64) {
        self.vocabulary = vocabulary
        self.dimension = dimension
        var rng = SplitMix64(seed: seed)
        func uniform(_ count: Int, scale: Float) -> [Float] { (0..<count).map { _ in (2 * rng.unit() - 1) * scale } }
        let n = vocabulary * dimension
        previous = uniform(n, scale: 1)
        before = uniform(n, scale: 1)
        weight = uniform(n, scale: 0.01)
        bias = [Float](repeating: 0, count: vocabulary)
        optimizer = [Adam(n), Adam(n), Adam(n), Adam(vocabulary)]
    }

    /// H for `rows`: `rows.count × dimension`, row i = E₁[previous_i] + E₂[before_i].
    func hidden(_ rows: Rows) -> [Float] {
        let d = dimension
        var h = [Float](repeating: 0, count: rows.count * d)
        for i in 0..<rows.count {
            let a = Int(rows.previous[i]) * d, b = Int(rows.before[i]) * d
            for k in 0..<d { h[i * d + k] = previous[a + k] + before[b + k] }
        }
        return h
    }

    /// One Adam step from XentLinear's gradients for `rows`: ∂W and ∂b as they are, and ∂E₁, ∂E₂
    /// by adding each row of ∂H into the embedding row it came from (rows that share a token add up).
    mutating func step(_ gradients: LinearGradients, rows: Rows, learningRate: Float) {
        let d = dimension
        var dPrevious = [Float](repeating: 0, count: vocabulary * d)
        var dBefore = dPrevious
        for i in 0..<rows.count {
            let a = Int(rows.previous[i]) * d, b = Int(rows.before[i]) * d
            for k in 0..<d {
                let g = gradients.hidden[i * d + k]
                dPrevious[a + k] += g
                dBefore[b + k] += g
            }
        }
        optimizer[0].step(&previous, gradient: dPrevious, learningRate: learningRate)
        optimizer[1].step(&before, gradient: dBefore, learningRate: learningRate)
        optimizer[2].step(&weight, gradient: gradients.weight, learningRate: learningRate)
        optimizer[3].step(&bias, gradient: gradients.bias, learningRate: learningRate)
    }
}

/// Adam (Kingma & Ba, 2015) for one parameter array, with the usual defaults.
struct Adam {
    static let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    private var m: [Float], v: [Float]
    /// β₁ᵗ and β₂ᵗ, kept as running products (no `pow`, so no libm in the update).
    private var beta1Power: Float = 1, beta2Power: Float = 1

    init(_ count: Int) {
        m = [Float](repeating: 0, count: count)
        v = m
    }

    mutating func step(_ parameters: inout [Float], gradient: [Float], learningRate: Float) {
        precondition(gradient.count == parameters.count)
        beta1Power *= Self.beta1
        beta2Power *= Self.beta2
        let (b1, b2) = (Self.beta1, Self.beta2)
        let stepSize = learningRate / (1 - beta1Power)
        let secondCorrection = 1 / (1 - beta2Power)
        for i in parameters.indices {
            let g = gradient[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            parameters[i] -= stepSize * m[i] / ((v[i] * secondCorrection).squareRoot() + Self.epsilon)
        }
    }
}
