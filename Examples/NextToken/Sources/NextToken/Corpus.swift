// From generated text to training rows: a word vocabulary, token ids, the (context, next token)
// rows of each document, batches packed from whole documents, and the count-based baselines.

import Foundation  // log

/// Word-level tokens: `<pad>` and `<bos>` (contexts before a document's start and in padding
/// rows), `<unk>`, then the training text's words, most frequent first.
struct Vocabulary {
    static let pad: Int32 = 0, bos: Int32 = 1, unknown: Int32 = 2
    let words: [String]
    private let ids: [String: Int32]

    var count: Int { words.count }

    /// The vocabulary of `texts` (split on spaces); ties in frequency in string order, so the ids
    /// do not depend on dictionary order.
    init(of texts: [String]) {
        var counts: [String: Int] = [:]
        for text in texts { for word in text.split(separator: " ") { counts[String(word), default: 0] += 1 } }
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        words = ["<pad>", "<bos>", "<unk>"] + ranked.map(\.key)
        ids = Dictionary(uniqueKeysWithValues: words.enumerated().map { ($1, Int32($0)) })
    }

    func tokenize(_ text: String) -> [Int32] {
        text.split(separator: " ").map { ids[String($0)] ?? Self.unknown }
    }
}

/// Rows of (the two previous tokens, the next token): the model's inputs and Xent's labels.
struct Rows {
    var previous: [Int32] = []  // t − 1 (`<bos>` at a document's start)
    var before: [Int32] = []    // t − 2
    var labels: [Int32] = []    // t; `ignoreIndex` (−100) in padding rows
    var count: Int { labels.count }

    /// Every position of `documents`, in order.
    init(_ documents: [[Int32]]) {
        for document in documents { append(document) }
    }

    init() {}

    mutating func append(_ document: [Int32]) {
        for (i, token) in document.enumerated() {
            previous.append(i >= 1 ? document[i - 1] : Vocabulary.bos)
            before.append(i >= 2 ? document[i - 2] : Vocabulary.bos)
            labels.append(token)
        }
    }

    /// Fills up to `rows` rows with padding: a `<pad>` context and the ignore index as label, so
    /// they take no part in the loss, `.mean`'s denominator or any gradient.
    mutating func pad(to rows: Int, ignoreIndex: Int32) {
        let missing = rows - count
        previous += repeatElement(Vocabulary.pad, count: missing)
        before += repeatElement(Vocabulary.pad, count: missing)
        labels += repeatElement(ignoreIndex, count: missing)
    }

    /// The rows whose label is a token (not padding).
    var participating: Int { labels.count { $0 >= 0 } }

    /// Rows `range` as a batch of their own (a micro-batch).
    func slice(_ range: Range<Int>) -> Rows {
        var part = Rows()
        part.previous = Array(previous[range])
        part.before = Array(before[range])
        part.labels = Array(labels[range])
        return part
    }
}

/// Batches of exactly `rows` rows, each holding whole documents (taken in `order`, as many as
/// fit) and padded at the end, as sequence packing does. A document longer than `rows` is cut.
func packBatches(_ documents: [[Int32]], order: [Int], rows: Int, ignoreIndex: Int32) -> [Rows] {
    var batches: [Rows] = []
    var current = Rows()
    for index in order {
        let document = Array(documents[index].prefix(rows))
        if current.count + document.count > rows {
            current.pad(to: rows, ignoreIndex: ignoreIndex)
            batches.append(current)
            current = Rows()
        }
        current.append(document)
    }
    if current.count > 0 {
        current.pad(to: rows, ignoreIndex: ignoreIndex)
        batches.append(current)
    }
    return batches
}

/// The count models a trained model should beat: held-out cross-entropies, in nats per token.
struct Baselines {
    /// The training tokens' unigram distribution (add-one smoothed over the vocabulary): what a
    /// model that ignores its context can reach at best, up to smoothing.
    let unigram: Double
    /// A bigram count model (the previous token only), its counts smoothed towards the unigram
    /// (Dirichlet, β = 10): a reference for what one token of context is worth.
    let bigram: Double

    init(train: Rows, heldOut: Rows, vocabulary: Int) {
        let v = vocabulary
        var unigramCounts = [Double](repeating: 1, count: v)
        var pairCounts = [Double](repeating: 0, count: v * v)
        var contextCounts = [Double](repeating: 0, count: v)
        for i in 0..<train.count where train.labels[i] >= 0 {
            let (a, t) = (Int(train.previous[i]), Int(train.labels[i]))
            unigramCounts[t] += 1
            pairCounts[a * v + t] += 1
            contextCounts[a] += 1
        }
        let total = unigramCounts.reduce(0, +)
        let beta = 10.0
        var unigramSum = 0.0, bigramSum = 0.0
        for i in 0..<heldOut.count where heldOut.labels[i] >= 0 {
            let (a, t) = (Int(heldOut.previous[i]), Int(heldOut.labels[i]))
            let p = unigramCounts[t] / total
            unigramSum -= log(p)
            bigramSum -= log((pairCounts[a * v + t] + beta * p) / (contextCounts[a] + beta))
        }
        let n = Double(heldOut.participating)
        unigram = unigramSum / n
        bigram = bigramSum / n
    }
}
