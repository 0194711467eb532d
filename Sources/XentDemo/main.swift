// xent-demo: a toy batch through Xent's fused loss and gradient, printed.
import Foundation
import Xent

let classes = 4
let logits: [Float] = [
    2.0, 1.0, 0.1, -1.0,   // row 0: label 0 (confident and right)
    0.5, 2.5, 0.3, 0.0,    // row 1: label 2 (confident and wrong)
    1.0, 1.0, 1.0, 1.0,    // row 2: ignored (label −100)
]
let labels: [Int32] = [0, 2, -100]

var ce = SoftmaxCrossEntropy()  // reduction .mean, ignoreIndex −100, kernel .vector
var gradient = [Float]()
let rows = RowStatistics(.losses)

func show(_ row: ArraySlice<Float>) -> String {
    row.map { String(format: "%+.5f", $0) }.joined(separator: " ")
}

do {
    let loss = try ce.lossAndGradient(
        logits: logits, labels: labels, classes: classes, gradient: &gradient,
        rowStatistics: rows)
    print("Xent \(ce.kernel) kernel on \(ce.activeInstructionSet)")
    print("labels:", labels.map(String.init).joined(separator: " "))
    print("row losses:", rows.losses.map { String(format: "%.5f", $0) }.joined(separator: " "))
    print("mean loss (over \(labels.filter { $0 != -100 }.count) rows):", String(format: "%.6f", loss))
    print("gradient (p − onehot, divided by the mean's denominator):")
    for row in 0..<labels.count {
        print("  row \(row):", show(gradient[row * classes ..< (row + 1) * classes]))
    }

    ce.kernel = .reference
    let reference = try ce.loss(logits: logits, labels: labels, classes: classes)
    print("reference kernel (Double):", String(format: "%.6f", reference))

    // A bad label is refused before anything is written.
    _ = try ce.loss(logits: logits, labels: [0, 7, 1], classes: classes)
} catch {
    print("error:", error)
}
