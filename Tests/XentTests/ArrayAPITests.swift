// The array entry points agree bit for bit with the buffer ones they wrap.
import Testing
import Xent

@Suite struct ArrayAPITests {
    @Test("arrays equal buffers: labels and soft targets, every kernel", arguments: Variant.all)
    func arraysMatchBuffers(variant: Variant) throws {
        let (logits, labels) = LogitKind.normal.batch(rows: 3, classes: 41, seed: 3)
        let targets = softTargets(for: logits, classes: 41, seed: 3)
        let ce = variant.configuration(.mean)

        var gArray = [Float]()
        let rArray = RowStatistics(.losses)
        let a = try ce.lossAndGradient(
            logits: logits, labels: labels, classes: 41, gradient: &gArray, rowStatistics: rArray)
        var gBuffer = [Float](repeating: 0, count: logits.count), rBuffer = [Float](repeating: 0, count: 3)
        let b = try logits.withUnsafeBufferPointer { z in
            try labels.withUnsafeBufferPointer { t in
                try gBuffer.withUnsafeMutableBufferPointer { g in
                    try rBuffer.withUnsafeMutableBufferPointer { r in
                        try ce.lossAndGradient(
                            logits: z, labels: t, classes: 41, gradient: g, rowStatistics: .init(losses: r))
                    }
                }
            }
        }
        #expect(a == b && gArray == gBuffer && rArray.losses == rBuffer)
        #expect(try ce.loss(logits: logits, labels: labels, classes: 41) == a)
        var inPlace = logits
        #expect(try ce.lossAndGradient(inPlace: &inPlace, labels: labels, classes: 41) == a && inPlace == gArray)

        var gSoft = [Float]()
        let rSoft = RowStatistics(.losses)
        let s = try ce.lossAndGradient(logits: logits, targets: targets, classes: 41, gradient: &gSoft)
        #expect(try ce.loss(logits: logits, targets: targets, classes: 41, rowStatistics: rSoft) == s)
        var softInPlace = logits
        #expect(
            try ce.lossAndGradient(inPlace: &softInPlace, targets: targets, classes: 41) == s && softInPlace == gSoft)
        #expect(rSoft.losses.count == 3)
    }
}
