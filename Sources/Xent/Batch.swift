// A validated batch: raw pointers and a shape that every kernel may trust.

/// What the rows are scored against.
enum Targets {
    /// One class index per row; rows equal to `ignoreIndex` take no part.
    case labels(UnsafePointer<Int32>, ignoreIndex: Int32?)
    /// A `rows × classes` matrix of target weights.
    case soft(UnsafePointer<Float>)
}

/// Buffers and shape after every check of the contract has passed; built only by the throwing
/// initializers below, so the kernels never re-check.
struct Batch {
    let logits: UnsafePointer<Float>
    let targets: Targets
    let gradient: UnsafeMutablePointer<Float>?
    let rowLosses: UnsafeMutablePointer<Float>?
    let rows: Int
    let classes: Int
    /// Rows that take part: not ignored. `.mean` divides by this.
    let participatingRows: Int

    /// Validates a class-label batch; throws before anything is written.
    init(
        logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, classes: Int,
        ignoreIndex: Int32?, gradient: UnsafeMutableBufferPointer<Float>?,
        rowLosses: UnsafeMutableBufferPointer<Float>?, reduction: Reduction
    ) throws(XentError) {
        let rows = labels.count
        try Self.checkShape(rows: rows, classes: classes, logits: logits)
        try Self.checkOutputs(
            logits: logits, gradient: gradient, rowLosses: rowLosses, rows: rows,
            reduction: reduction, others: [])
        var participating = 0
        for (row, label) in labels.enumerated() {
            if let ignoreIndex, label == ignoreIndex { continue }
            guard label >= 0 && Int(label) < classes else {
                throw .labelOutOfRange(row: row, label: Int(label), classes: classes)
            }
            participating += 1
        }
        self.logits = logits.baseAddress!
        self.targets = .labels(labels.baseAddress!, ignoreIndex: ignoreIndex)
        self.gradient = gradient?.baseAddress
        self.rowLosses = rowLosses?.baseAddress
        self.rows = rows
        self.classes = classes
        self.participatingRows = participating
    }

    /// Validates a soft-target batch (rows = `logits.count / classes`); throws before anything
    /// is written.
    init(
        logits: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>, classes: Int,
        gradient: UnsafeMutableBufferPointer<Float>?, rowLosses: UnsafeMutableBufferPointer<Float>?,
        reduction: Reduction
    ) throws(XentError) {
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        guard logits.count % classes == 0 else {
            throw .logitsNotMultipleOfClasses(count: logits.count, classes: classes)
        }
        let rows = logits.count / classes
        try Self.checkShape(rows: rows, classes: classes, logits: logits)
        guard targets.count == logits.count else {
            throw .lengthMismatch(argument: "targets", expected: logits.count, actual: targets.count)
        }
        try Self.checkOutputs(
            logits: logits, gradient: gradient, rowLosses: rowLosses, rows: rows,
            reduction: reduction, others: [("targets", UnsafeRawBufferPointer(targets))])
        self.logits = logits.baseAddress!
        self.targets = .soft(targets.baseAddress!)
        self.gradient = gradient?.baseAddress
        self.rowLosses = rowLosses?.baseAddress
        self.rows = rows
        self.classes = classes
        self.participatingRows = rows
    }

    private static func checkShape(
        rows: Int, classes: Int, logits: UnsafeBufferPointer<Float>
    ) throws(XentError) {
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        guard rows >= 1 else { throw .invalidRowCount(rows: rows) }
        let (elements, overflow) = rows.multipliedReportingOverflow(by: classes)
        guard !overflow else { throw .shapeOverflow(rows: rows, classes: classes) }
        guard logits.count == elements else {
            throw .lengthMismatch(argument: "logits", expected: elements, actual: logits.count)
        }
    }

    /// Output lengths, `.none`'s need for `rowLosses`, and aliasing: `gradient` may be the very
    /// buffer `logits` is (in place); no other pair of buffers may share a byte.
    private static func checkOutputs(
        logits: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>?,
        rowLosses: UnsafeMutableBufferPointer<Float>?, rows: Int, reduction: Reduction,
        others: [(String, UnsafeRawBufferPointer)]
    ) throws(XentError) {
        if let gradient, gradient.count != logits.count {
            throw .lengthMismatch(argument: "gradient", expected: logits.count, actual: gradient.count)
        }
        if let rowLosses, rowLosses.count != rows {
            throw .lengthMismatch(argument: "rowLosses", expected: rows, actual: rowLosses.count)
        }
        if reduction == .none && rowLosses == nil { throw .rowLossesRequired }

        let logitsBytes = UnsafeRawBufferPointer(logits)
        var inputs: [(String, UnsafeRawBufferPointer)] = [("logits", logitsBytes)] + others
        if let gradient {
            let bytes = UnsafeRawBufferPointer(gradient)
            let inPlace = bytes.baseAddress == logitsBytes.baseAddress
            for (name, other) in inputs where !(inPlace && name == "logits") {
                if overlaps(bytes, other) { throw .overlappingBuffers(first: "gradient", second: name) }
            }
            inputs.append(("gradient", bytes))
        }
        if let rowLosses {
            let bytes = UnsafeRawBufferPointer(rowLosses)
            for (name, other) in inputs where overlaps(bytes, other) {
                throw .overlappingBuffers(first: "rowLosses", second: name)
            }
        }
    }

    private static func overlaps(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let a0 = a.baseAddress, let b0 = b.baseAddress, a.count > 0, b.count > 0 else {
            return false
        }
        return a0 < b0 + b.count && b0 < a0 + a.count
    }
}
