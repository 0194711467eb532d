// Gradient accumulation over micro-batches with XentLinear, checked against one call on the
// whole batch: how to split a batch that does not fit in memory at once.

import Xent
import XentLinear

/// One batch through the head twice: once whole, once as two micro-batches with
/// `accumulate: true` and `divisor` set to the whole batch's participating rows. The losses add
/// up, ∂W and ∂b accumulate in one ``LinearGradients``, and each micro-batch's ∂H is its rows of
/// the whole batch's ∂H.
struct AccumulationCheck {
    let loss: Float, accumulatedLoss: Float
    let microBatchRows: [Int], divisor: Int
    /// The largest differences, and the largest magnitude of each whole-batch gradient.
    let hidden: (difference: Float, scale: Float)
    let weight: (difference: Float, scale: Float)
    let bias: (difference: Float, scale: Float)

    init(head: LinearCrossEntropy, model: NextTokenModel, batch: Rows, classes: Int) throws(XentError) {
        let whole = LinearGradients()
        loss = try head.lossAndGradients(
            hidden: model.hidden(batch), weight: model.weight, bias: model.bias, labels: batch.labels,
            classes: classes, gradients: whole)

        // Every micro-batch divides by the whole batch's real tokens, so the micro-batches' losses
        // and gradients add up to the whole batch's `.mean`.
        let participating = batch.participating
        var micro = head
        micro.crossEntropy.divisor = Double(participating)
        let accumulated = LinearGradients()  // empty: the first accumulating call starts from zeros
        var hiddenGradient: [Float] = []
        var sum: Float = 0
        let half = batch.count / 2
        microBatchRows = [half, batch.count - half]
        divisor = participating
        for range in [0..<half, half..<batch.count] {
            let part = batch.slice(range)
            // The divisor does not divide the z-loss part: each call divides it by its own
            // participating rows. Scaling λ by this micro-batch's share of the rows makes its
            // z-loss part the whole batch's share as well.
            micro.crossEntropy.zLossScale = head.crossEntropy.zLossScale * Float(part.participating)
                / Float(participating)
            sum += try micro.lossAndGradients(
                hidden: model.hidden(part), weight: model.weight, bias: model.bias, labels: part.labels,
                classes: classes, gradients: accumulated, accumulate: true)
            hiddenGradient += accumulated.hidden  // ∂H is per micro-batch, overwritten by each call
        }
        accumulatedLoss = sum
        hidden = Self.compare(hiddenGradient, whole.hidden)
        weight = Self.compare(accumulated.weight, whole.weight)
        bias = Self.compare(accumulated.bias, whole.bias)
    }

    /// Float rounding only: the products and sums are the same up to their order of additions.
    var passed: Bool {
        abs(accumulatedLoss - loss) <= 1e-5 * abs(loss)
            && [hidden, weight, bias].allSatisfy { $0.difference <= 1e-4 * $0.scale }
    }

    var summary: String {
        let worst = [hidden, weight, bias].map { $0.scale > 0 ? $0.difference / $0.scale : 0 }.max() ?? 0
        return String(
            format: "accumulated micro-batches of %d + %d rows (divisor %d) vs one call: loss %.7f vs %.7f\n"
                + "  max |difference| ∂H %.1e, ∂W %.1e, ∂b %.1e: at most %.1e of the largest entry, %@",
            microBatchRows[0], microBatchRows[1], divisor, accumulatedLoss, loss, hidden.difference, weight.difference,
            bias.difference, worst, passed ? "within 1e-4" : "NOT within 1e-4")
    }

    private static func compare(_ a: [Float], _ b: [Float]) -> (difference: Float, scale: Float) {
        precondition(a.count == b.count)
        var difference: Float = 0, scale: Float = 0
        for i in a.indices {
            difference = max(difference, abs(a[i] - b[i]))
            scale = max(scale, abs(b[i]))
        }
        return (difference, scale)
    }
}
