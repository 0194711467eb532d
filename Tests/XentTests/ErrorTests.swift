// Every refusal: the right typed error, a message naming argument and value, nothing written.
import Testing
import Xent

@Suite struct ErrorTests {
    /// Runs `body` against sentinel-filled output buffers and checks that it throws `expected`,
    /// that the message names `mentions`, and that no output (nor the logits) changed.
    func expectRefused(
        _ expected: XentError, mentioning mentions: [String],
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (
            UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>
        ) throws(XentError) -> Float
    ) {
        // One arena so overlap cases can point into it: logits 12 floats, gradient 12, row losses 4.
        var arena = (0..<32).map { Float($0) / 8 }
        let before = arena
        arena.withUnsafeMutableBufferPointer { a in
            let logits = UnsafeMutableBufferPointer(rebasing: a[0..<12])
            let gradient = UnsafeMutableBufferPointer(rebasing: a[12..<24])
            let rowLosses = UnsafeMutableBufferPointer(rebasing: a[24..<28])
            do throws(XentError) {
                let value = try body(logits, gradient, rowLosses)
                Issue.record("expected \(expected), got a result \(value)", sourceLocation: sourceLocation)
            } catch {
                #expect(error == expected, sourceLocation: sourceLocation)
                for word in mentions {
                    #expect(
                        error.description.contains(word), "“\(error.description)” should mention \(word)",
                        sourceLocation: sourceLocation)
                }
            }
        }
        #expect(arena == before, "an error case wrote to a buffer", sourceLocation: sourceLocation)
    }

    @Test("label-target errors", arguments: Variant.all)
    func labelErrors(variant: Variant) {
        let ce = variant.configuration(.mean)
        let none = variant.configuration(.none)
        let labels: [Int32] = [0, 1, 3, 2]
        labels.withUnsafeBufferPointer { t in
            expectRefused(.invalidClassCount(classes: 0), mentioning: ["classes", "0"]) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(logits: UnsafeBufferPointer(z), labels: t, classes: 0, gradient: g)
            }
            expectRefused(.invalidClassCount(classes: -3), mentioning: ["classes", "-3"]) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(logits: UnsafeBufferPointer(z), labels: t, classes: -3, gradient: g)
            }
            expectRefused(.invalidRowCount(rows: 0), mentioning: ["rows", "0"]) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(z), labels: UnsafeBufferPointer(rebasing: t[0..<0]), classes: 3,
                    gradient: g)
            }
            expectRefused(
                .lengthMismatch(argument: "logits", expected: 12, actual: 11), mentioning: ["logits", "11", "12"]
            ) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(rebasing: z[0..<11]), labels: t, classes: 3, gradient: g)
            }
            expectRefused(
                .lengthMismatch(argument: "gradient", expected: 12, actual: 10), mentioning: ["gradient", "10", "12"]
            ) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(z), labels: t, classes: 3,
                    gradient: UnsafeMutableBufferPointer(rebasing: g[0..<10]))
            }
            expectRefused(
                .lengthMismatch(argument: "rowStatistics.losses", expected: 4, actual: 3),
                mentioning: ["rowStatistics.losses", "3", "4"]
            ) { z, g, r throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(z), labels: t, classes: 3, gradient: g,
                    rowStatistics: .init(losses: UnsafeMutableBufferPointer(rebasing: r[0..<3])))
            }
            expectRefused(
                .rowLossesRequired, mentioning: ["rowStatistics.losses", ".none"]
            ) { z, g, _ throws(XentError) in
                try none.lossAndGradient(logits: UnsafeBufferPointer(z), labels: t, classes: 3, gradient: g)
            }
            expectRefused(
                .labelOutOfRange(row: 2, label: 3, classes: 3), mentioning: ["labels[2]", "3"]
            ) { z, g, r throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(z), labels: t, classes: 3, gradient: g, rowStatistics: .init(losses: r))
            }
            expectRefused(
                .labelOutOfRange(row: 2, label: 3, classes: 3), mentioning: ["labels[2]"]
            ) { z, _, _ throws(XentError) in
                try ce.lossAndGradient(inPlace: z, labels: t, classes: 3)
            }
            expectRefused(
                .shapeOverflow(rows: 4, classes: Int.max / 2), mentioning: ["overflows", "4"]
            ) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(logits: UnsafeBufferPointer(z), labels: t, classes: Int.max / 2, gradient: g)
            }
            expectRefused(.overlappingBuffers(first: "gradient", second: "logits"), mentioning: ["gradient", "logits"])
            { z, g, _ throws(XentError) in
                let shifted = UnsafeMutableBufferPointer(start: z.baseAddress! + 1, count: 12)
                return try ce.lossAndGradient(logits: UnsafeBufferPointer(z), labels: t, classes: 3, gradient: shifted)
            }
            expectRefused(
                .overlappingBuffers(first: "rowStatistics.losses", second: "gradient"),
                mentioning: ["rowStatistics.losses", "gradient"]
            ) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(z), labels: t, classes: 3, gradient: g,
                    rowStatistics: .init(losses: UnsafeMutableBufferPointer(rebasing: g[8..<12])))
            }
            expectRefused(
                .overlappingBuffers(first: "rowStatistics.losses", second: "logits"),
                mentioning: ["rowStatistics.losses", "logits"]
            ) { z, _, _ throws(XentError) in
                try ce.loss(
                    logits: UnsafeBufferPointer(z), labels: t, classes: 3,
                    rowStatistics: .init(losses: UnsafeMutableBufferPointer(rebasing: z[0..<4])))
            }
        }
        // A negative label that is not the ignore index.
        #expect(throws: XentError.labelOutOfRange(row: 1, label: -1, classes: 3)) {
            try ce.loss(logits: [Float](repeating: 0, count: 6), labels: [0, -1], classes: 3)
        }
    }

    @Test("soft-target errors", arguments: Variant.all)
    func softErrors(variant: Variant) {
        let ce = variant.configuration(.mean)
        let targets = [Float](repeating: 0.25, count: 12)
        targets.withUnsafeBufferPointer { q in
            expectRefused(
                .logitsNotMultipleOfClasses(count: 12, classes: 5), mentioning: ["12", "5"]
            ) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(logits: UnsafeBufferPointer(z), targets: q, classes: 5, gradient: g)
            }
            // With a stride, the division is by the stride, and the error says so.
            expectRefused(
                .lengthNotMultiple(argument: "logits", count: 12, multiple: 5, of: "rowStride"),
                mentioning: ["12", "5", "rowStride"]
            ) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(z), targets: q, classes: 3, rowStride: 5, gradient: g)
            }
            expectRefused(
                .lengthMismatch(argument: "targets", expected: 12, actual: 9), mentioning: ["targets", "9"]
            ) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(z), targets: UnsafeBufferPointer(rebasing: q[0..<9]), classes: 3,
                    gradient: g)
            }
            expectRefused(.invalidRowCount(rows: 0), mentioning: ["rows"]) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(
                    logits: UnsafeBufferPointer(rebasing: z[0..<0]), targets: UnsafeBufferPointer(rebasing: q[0..<0]),
                    classes: 3, gradient: UnsafeMutableBufferPointer(rebasing: g[0..<0]))
            }
            expectRefused(.invalidClassCount(classes: 0), mentioning: ["classes"]) { z, g, _ throws(XentError) in
                try ce.lossAndGradient(logits: UnsafeBufferPointer(z), targets: q, classes: 0, gradient: g)
            }
            expectRefused(.rowLossesRequired, mentioning: ["rowStatistics.losses"]) { z, _, _ throws(XentError) in
                try variant.configuration(.none).lossAndGradient(inPlace: z, targets: q, classes: 3)
            }
        }
        expectRefused(
            .overlappingBuffers(first: "gradient", second: "targets"), mentioning: ["gradient", "targets"]
        ) { z, g, _ throws(XentError) in
            try ce.lossAndGradient(
                logits: UnsafeBufferPointer(z), targets: UnsafeBufferPointer(g), classes: 3, gradient: g)
        }
    }

    @Test("the first class or row weight that is not finite and ≥ 0 is named, wherever it lies")
    func firstBadWeight() throws {
        let classes = 70, rows = 2
        let logits = [Float](repeating: 0.5, count: rows * classes)
        let labels: [Int32] = [3, 69]
        // Positions before, on and after the 16-weight blocks' edges, and the last (a partial block).
        for at in [0, 5, 15, 16, 17, 31, 47, 63, 64, 69] {
            for bad: Float in [.nan, -.nan, .infinity, -.infinity, -1, -.leastNonzeroMagnitude] {
                var weights = (0..<classes).map { Float($0 % 5) }  // zeros included
                weights[1] = -0.0  // ≥ 0, accepted
                weights[at] = bad
                if at < 60 { weights[at + 9] = .nan }  // a later one is not the one named
                var ce = SoftmaxCrossEntropy()
                ce.classWeights = weights
                do throws(XentError) {
                    _ = try ce.loss(logits: logits, labels: labels, classes: classes)
                    Issue.record("classWeights[\(at)] = \(bad) accepted")
                } catch .invalidOption(let name, let value, _) {
                    // NaN ≠ NaN: the value compared as what it is.
                    #expect(name == "classWeights[\(at)]" && (value == Double(bad) || value.isNaN && bad.isNaN),
                            "\(name) = \(value), expected classWeights[\(at)] = \(bad)")
                } catch {
                    Issue.record("classWeights[\(at)] = \(bad): \(error)")
                }
            }
        }
        var ce = SoftmaxCrossEntropy()
        ce.classWeights = (0..<classes).map { Float($0 % 5) }
        ce.rowWeights = [1, .infinity]
        let expected = XentError.invalidOption(name: "rowWeights[1]", value: .infinity, requirement: "finite and ≥ 0")
        #expect(throws: expected) {
            _ = try ce.loss(logits: logits, labels: labels, classes: classes)
        }
        ce.rowWeights = [0, -0.0]
        _ = try ce.loss(logits: logits, labels: labels, classes: classes)
        // Row weights past a block of 16: the first bad one of two.
        let manyRows = 40
        let manyLogits = [Float](repeating: 0.5, count: manyRows * classes)
        let manyLabels = (0..<manyRows).map { Int32($0 % classes) }
        var rowWeights = [Float](repeating: 1, count: manyRows)
        rowWeights[17] = -2
        rowWeights[33] = .nan
        ce.rowWeights = rowWeights
        #expect(throws: XentError.invalidOption(name: "rowWeights[17]", value: -2, requirement: "finite and ≥ 0")) {
            _ = try ce.loss(logits: manyLogits, labels: manyLabels, classes: classes)
        }
    }

    @Test("an instruction set the CPU lacks is refused")
    func unavailableISA() throws {
        let missing = InstructionSet.allCases.filter { !$0.isSupported }
        for isa in missing {
            let ce = SoftmaxCrossEntropy(kernel: .vector, instructionSet: isa)
            var gradient = [Float](repeating: 42, count: 3)
            #expect(throws: XentError.instructionSetUnavailable(isa)) {
                try ce.lossAndGradient(logits: [1, 2, 3], labels: [0], classes: 3, gradient: &gradient)
            }
            #expect(gradient == [42, 42, 42])
        }
    }

    @Test("arrays: an error leaves inout arrays untouched")
    func arraysUntouched() {
        var gradient: [Float] = [7]
        let rows = RowStatistics()
        rows.losses = [8, 9]
        #expect(throws: XentError.labelOutOfRange(row: 0, label: 5, classes: 2)) {
            try SoftmaxCrossEntropy().lossAndGradient(
                logits: [1, 2], labels: [5], classes: 2, gradient: &gradient, rowStatistics: rows)
        }
        #expect(gradient == [7] && rows.losses == [8, 9] && rows.logSumExp.isEmpty && rows.argmax.isEmpty)
        var logits: [Float] = [1, 2]
        #expect(throws: XentError.self) {
            try SoftmaxCrossEntropy().lossAndGradient(inPlace: &logits, labels: [2], classes: 2)
        }
        #expect(logits == [1, 2])
    }
}
