// The Span / MutableSpan entry points agree bit for bit with the array ones.
import Testing
import Xent

#if compiler(>=6.2)
@Suite struct SpanTests {
    @Test("spans equal arrays: labels, soft targets, in place", arguments: Variant.all)
    func spansMatchArrays(variant: Variant) throws {
        let (logits, labels) = LogitKind.masked.batch(rows: 4, classes: 33, seed: 9)
        let targets = softTargets(for: logits, classes: 33, seed: 9)
        var ce = variant.configuration(.mean)
        ce.labelSmoothing = 0.1

        var expected = [Float]()
        let arrayLoss = try ce.lossAndGradient(logits: logits, labels: labels, classes: 33, gradient: &expected)
        var gradient = [Float](repeating: 0, count: logits.count)
        var gradientSpan = gradient.mutableSpan
        let spanLoss = try ce.lossAndGradient(
            logits: logits.span, labels: labels.span, classes: 33, gradient: &gradientSpan)
        _ = consume gradientSpan
        #expect(spanLoss == arrayLoss && gradient == expected)
        #expect(try ce.loss(logits: logits.span, labels: labels.span, classes: 33) == arrayLoss)

        var inPlace = logits
        var inPlaceSpan = inPlace.mutableSpan
        let inPlaceLoss = try ce.lossAndGradient(inPlace: &inPlaceSpan, labels: labels.span, classes: 33)
        _ = consume inPlaceSpan
        #expect(inPlaceLoss == arrayLoss && inPlace == expected)

        let softArray = try ce.lossAndGradient(logits: logits, targets: targets, classes: 33, gradient: &expected)
        var softSpan = gradient.mutableSpan
        #expect(
            try ce.lossAndGradient(logits: logits.span, targets: targets.span, classes: 33, gradient: &softSpan)
                == softArray)
        _ = consume softSpan
        #expect(gradient == expected)
        #expect(try ce.loss(logits: logits.span, targets: targets.span, classes: 33) == softArray)
        var softInPlace = logits
        var softInPlaceSpan = softInPlace.mutableSpan
        #expect(try ce.lossAndGradient(inPlace: &softInPlaceSpan, targets: targets.span, classes: 33) == softArray)
        _ = consume softInPlaceSpan
        #expect(softInPlace == expected)
    }
}
#endif
