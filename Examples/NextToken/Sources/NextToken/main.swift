// next-token: a next-token model's output layer, logits = W·h + b over a word vocabulary, trained
// with XentLinear's fused linear cross-entropy, which never holds the rows × vocabulary logits and
// returns ∂H as well as ∂W and ∂b — so the context embeddings under h train too. The training loop
// below is the part to copy into an app.

import Foundation  // exit, FileHandle, String(format:)
import Xent
import XentLinear

let options: Options
do {
    options = try Options(parsing: Array(CommandLine.arguments.dropFirst()))
} catch .help {
    print(Options.usage)
    exit(0)
} catch .invalid(let message) {
    fail("\(message)\n\(Options.usage)", status: 2)
}

// The data: paragraphs of a generated toy language (Grammar.swift) from one seeded stream (held
// out: the documents after the training ones), tokenized by words.
let grammar = Grammar(languageSeed: 2026)
var textRNG = SplitMix64(seed: options.seed)
let trainTexts = (0..<options.documents).map { _ in grammar.document(&textRNG) }
let heldOutTexts = (0..<max(1, options.documents / 10)).map { _ in grammar.document(&textRNG) }
let vocabulary = Vocabulary(of: trainTexts)
let trainDocuments = trainTexts.map(vocabulary.tokenize)
let heldOut = Rows(heldOutTexts.map(vocabulary.tokenize))
let baselines = Baselines(train: Rows(trainDocuments), heldOut: heldOut, vocabulary: vocabulary.count)
let classes = vocabulary.count

// The training loss: Xent's `.mean` with label smoothing and a z-loss (the options of a
// `SoftmaxCrossEntropy` apply to the fused head's logits unchanged). Padding rows carry the
// ignore index, so `.mean` divides by the batch's real tokens. The held-out loss is the plain
// cross-entropy, comparable with the baselines.
var trainLoss = SoftmaxCrossEntropy()
trainLoss.labelSmoothing = options.labelSmoothing
trainLoss.zLossScale = options.zLoss
let head = LinearCrossEntropy(trainLoss)
let evaluationHead = LinearCrossEntropy()
let ignoreIndex = trainLoss.ignoreIndex ?? -100

var model = NextTokenModel(vocabulary: classes, dimension: options.dimension, seed: options.seed &+ 1)
var orderRNG = SplitMix64(seed: options.seed &+ 2)  // the epochs' document orders

print("""
    corpus: \(trainDocuments.count) training documents (\(trainDocuments.reduce(0) { $0 + $1.count }) tokens), \
    \(heldOutTexts.count) held out (\(heldOut.count) tokens); vocabulary \(classes) words (seed \(options.seed))
    e.g. "\(heldOutTexts[0].split(separator: " ").prefix(20).joined(separator: " ")) …"
    model: h = E1[t-1] + E2[t-2], d = \(options.dimension); logits = W·h + b, W \(classes)×\(options.dimension); \
    Adam, learning rate \(options.learningRate)
    loss: XentLinear, batches of \(options.batchSize) rows (whole documents, padding ignored); Xent \
    \(trainLoss.kernel) kernel on \(trainLoss.activeInstructionSet)
    train loss: label smoothing \(options.labelSmoothing), z-loss \(options.zLoss), mean of the last 25 steps; \
    held-out loss: plain cross-entropy
    held-out baselines (nats/token): unigram entropy \(format(baselines.unigram)), \
    bigram counts \(format(baselines.bigram))
    """)

/// The held-out loss (plain cross-entropy) and next-token accuracy: one fused call over every
/// held-out row (the head cuts them into blocks of logits of at most 32 MiB), each row's argmax
/// taken in the same pass.
func evaluate(_ model: NextTokenModel) throws(XentError) -> (loss: Double, accuracy: Double) {
    let predictions = RowStatistics([.argmax])
    let loss = try evaluationHead.loss(
        hidden: model.hidden(heldOut), weight: model.weight, bias: model.bias, labels: heldOut.labels,
        classes: classes, rowStatistics: predictions)
    let correct = try evaluationHead.crossEntropy.correctPredictions(
        rowArgmax: predictions.argmax, labels: heldOut.labels)
    return (Double(loss), Double(correct) / Double(heldOut.participating))
}

let clock = ContinuousClock()
let started = clock.now
let start: (loss: Double, accuracy: Double)
var final: (loss: Double, accuracy: Double)
var batches: [Rows] = []
var lastBatch = Rows()
do {
    start = try evaluate(model)
    final = start
    print("step   0/\(options.steps)                    held-out loss \(format(start.loss))  " +
          "acc \(String(format: "%5.1f%%", 100 * start.accuracy))")
    let gradients = LinearGradients()  // ∂H, ∂W, ∂b: sized by the first call, reused after
    var windowLoss = 0.0, windowSteps = 0
    for step in 1...options.steps {
        if batches.isEmpty {  // a new epoch: the documents in a new order, packed into batches
            var order = Array(trainDocuments.indices)
            orderRNG.shuffle(&order)
            batches = packBatches(trainDocuments, order: order, rows: options.batchSize, ignoreIndex: ignoreIndex)
            batches.reverse()  // taken from the end
        }
        let batch = batches.removeLast()

        // Forward to h, then the fused call: the batch's loss and ∂H, ∂W, ∂b in one pass over
        // row blocks of logits (∂W and ∂b overwritten, as `accumulate` is false).
        let hidden = model.hidden(batch)
        let loss = try head.lossAndGradients(
            hidden: hidden, weight: model.weight, bias: model.bias, labels: batch.labels, classes: classes,
            gradients: gradients)

        // Backward into the embeddings (∂E from ∂H) and the update.
        model.step(gradients, rows: batch, learningRate: options.learningRate)

        windowLoss += Double(loss)
        windowSteps += 1
        if step % 25 == 0 || step == options.steps {
            final = try evaluate(model)
            print(String(
                format: "step %3d/%d  train loss %.4f  held-out loss %.4f  acc %5.1f%%", step, options.steps,
                windowLoss / Double(windowSteps), final.loss, 100 * final.accuracy))
            windowLoss = 0
            windowSteps = 0
        }
        lastBatch = batch
    }
} catch {
    fail("XentLinear: \(error)", status: 1)  // a shape or label the model got wrong: a bug, not bad luck
}
let trained = clock.now - started

// Gradient accumulation: the last batch again, as two micro-batches whose ∂W and ∂b add up in
// one `LinearGradients`, against one call on the whole batch.
let accumulation: AccumulationCheck
do {
    accumulation = try AccumulationCheck(head: head, model: model, batch: lastBatch, classes: classes)
} catch {
    fail("XentLinear: \(error)", status: 1)
}
print(accumulation.summary)

// The checks CI relies on, with margin: a run with the defaults ends near 0.64× the unigram
// entropy and 0.53× the starting loss; with the embeddings frozen (no use of ∂H) it stops near
// 0.84× and 0.70×, so a broken ∂H fails.
let belowUnigram = final.loss < 0.75 * baselines.unigram
let belowStart = final.loss < 0.6 * start.loss
print(
    String(format: "final held-out loss %.4f (accuracy %.1f%%), bigram counts %.4f\n", final.loss,
           100 * final.accuracy, baselines.bigram)
        + (belowUnigram ? "  below" : "  NOT below") + " 0.75 × the unigram entropy \(format(baselines.unigram)), "
        + (belowStart ? "below" : "NOT below") + " 0.6 × the starting loss \(format(start.loss))")
print(String(format: "trained %d steps in %.2f s", options.steps, seconds(trained)))
exit(belowUnigram && belowStart && accumulation.passed ? 0 : 1)

func format(_ value: Double) -> String { String(format: "%.4f", value) }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("next-token: \(message)\n".utf8))
    exit(status)
}
