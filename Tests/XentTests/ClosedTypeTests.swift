// Only Int32, Int64 and Int are class labels; only Float, Float16 and BFloat16 are logits.
import Testing
import Xent

// A 16-bit label type. `extension Int16: ClassLabel {}` alone does not compile: the protocol's
// requirement `_classLabelLayout` has a type only Xent can create, so Int16 cannot provide one of
// its own ("type 'Int16' does not conform to protocol 'ClassLabel'"). Forwarding Int32's layout,
// as here, compiles, and every call then traps on the size check before it reads a label (the
// exit test below): the buffer is never read as 32-bit values past its end.
extension Int16: ClassLabel {
    public static var _classLabelLayout: _ClassLabelLayout { Int32._classLabelLayout }
}

// The same for logits: Double forwarding Float's layout traps before any logit is read.
extension Double: LogitElement {
    public static var _logitLayout: _LogitLayout { Float._logitLayout }
}

@Suite struct ClosedTypeTests {
    #if compiler(>=6.2)
    @Test("a 16-bit label type traps before any label is read, arrays and buffers")
    func int16LabelsTrap() async {
        await #expect(processExitsWith: .failure) {
            let logits = [Float](repeating: 0, count: 8)
            _ = try? SoftmaxCrossEntropy().loss(logits: logits, labels: [Int16(0), 1, 2, 3], classes: 2)
        }
        await #expect(processExitsWith: .failure) {
            let logits = [Float](repeating: 0, count: 8)
            let labels: [Int16] = [0, 1, 2, 3]
            _ = try? logits.withUnsafeBufferPointer { z in
                try labels.withUnsafeBufferPointer { t in
                    try SoftmaxCrossEntropy().loss(logits: z, labels: t, classes: 2)
                }
            }
        }
        await #expect(processExitsWith: .failure) {
            _ = try? SoftmaxCrossEntropy().correctPredictions(rowArgmax: [0, 1], labels: [Int16(0), 1])
        }
    }

    @Test("a logit type of the wrong size traps before any logit is read")
    func doubleLogitsTrap() async {
        await #expect(processExitsWith: .failure) {
            var gradient = [Double]()
            _ = try? SoftmaxCrossEntropy().lossAndGradient(
                logits: [0, 1, 2, 3] as [Double], labels: [Int32(0), 1], classes: 2, gradient: &gradient)
        }
    }
    #endif

    @Test("the label types that conform are read at their width", arguments: Variant.all)
    func labelWidths(variant: Variant) throws {
        let ce = variant.configuration(.sum)
        let (logits, labels) = LogitKind.normal.batch(rows: 5, classes: 9, seed: 21)
        let narrow = try ce.loss(logits: logits, labels: labels, classes: 9)
        #expect(try ce.loss(logits: logits, labels: labels.map(Int64.init), classes: 9) == narrow)
        #expect(try ce.loss(logits: logits, labels: labels.map(Int.init), classes: 9) == narrow)
    }

    @Test("an argmax with more classes than Int32 holds is refused before anything is written")
    func argmaxBeyondInt32() {
        let classes = Int(Int32.max) + 1
        // The call throws while validating, before it reads a logit or writes an output, so the
        // logits buffer may claim more elements than it holds; a regression would read past it.
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { storage.deallocate() }
        let logits = UnsafeBufferPointer(start: storage, count: classes)
        var argmax: [Int32] = [7], losses: [Float] = [7]
        let labels: [Int32] = [0]
        labels.withUnsafeBufferPointer { t in
            argmax.withUnsafeMutableBufferPointer { a in
                losses.withUnsafeMutableBufferPointer { r in
                    let outputs = RowStatistics.Buffers(losses: r, argmax: a)
                    #expect(throws: XentError.argmaxOutOfRange(classes: classes)) {
                        try SoftmaxCrossEntropy().loss(
                            logits: logits, labels: t, classes: classes, rowStatistics: outputs)
                    }
                }
            }
        }
        #expect(argmax == [7] && losses == [7])
        #expect(XentError.argmaxOutOfRange(classes: classes).description.contains("\(classes)"))
    }
}
