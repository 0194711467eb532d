// A validated batch: raw pointers and a shape that every kernel may trust.

/// What the rows are scored against.
enum Targets {
    /// One class index per row; rows equal to `ignoreIndex` take no part.
    case labels(LabelPointer, ignoreIndex: Int64?)
    /// A matrix of target weights, laid out like the logits (same row stride).
    case soft(UnsafePointer<Float>)
}

/// Buffers and shape after every check of the contract has passed; built only by the throwing
/// initializers below, so the kernels never re-check.
struct Batch {
    let logits: UnsafePointer<Float>
    let targets: Targets
    let gradient: UnsafeMutablePointer<Float>?
    let rowLosses: UnsafeMutablePointer<Float>?
    let rowLogSumExp: UnsafeMutablePointer<Float>?
    let rowArgmax: UnsafeMutablePointer<Int32>?
    let rows: Int
    let classes: Int
    /// Elements from one row's start to the next (≥ classes); columns past `classes` are never
    /// read or written.
    let stride: Int
    /// Rows that take part: not ignored. `.mean` divides by this.
    let participatingRows: Int

    /// Validates a class-label batch; throws before anything is written.
    ///
    /// With a row stride, `logits` (and `gradient`) must hold `(rows − 1) × rowStride + classes`
    /// elements at least; elements past that and the padding columns are not touched.
    init<Label: ClassLabel>(
        logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Label>, classes: Int,
        rowStride: Int?, ignoreIndex: Int32?, gradient: UnsafeMutableBufferPointer<Float>?,
        rowLosses: UnsafeMutableBufferPointer<Float>?, rowLogSumExp: UnsafeMutableBufferPointer<Float>?,
        rowArgmax: UnsafeMutableBufferPointer<Int32>?, reduction: Reduction
    ) throws(XentError) {
        let rows = labels.count
        let stride = try Self.checkShape(rows: rows, classes: classes, rowStride: rowStride, logits: logits)
        try Self.checkOutputs(
            logits: logits, gradient: gradient, rowLosses: rowLosses, rowLogSumExp: rowLogSumExp, rowArgmax: rowArgmax, rows: rows,
            reduction: reduction, others: [("labels", UnsafeRawBufferPointer(labels))])
        // The entry points are generic over the label type and, public and not inlinable, run
        // unspecialized: every per-label step goes through the concrete LabelPointer instead
        // (a generic loop here cost ~140 ns per row, measured at 4096 × 1000).
        let labelPointer = LabelPointer(labels.baseAddress!)
        let ignore = ignoreIndex.map(Int64.init)
        let participating = try labelPointer.validate(
            count: rows, classes: Int64(classes), ignoreIndex: ignore)
        self.logits = logits.baseAddress!
        self.targets = .labels(labelPointer, ignoreIndex: ignore)
        self.gradient = gradient?.baseAddress
        self.rowLosses = rowLosses?.baseAddress
        self.rowLogSumExp = rowLogSumExp?.baseAddress
        self.rowArgmax = rowArgmax?.baseAddress
        self.rows = rows
        self.classes = classes
        self.stride = stride
        self.participatingRows = participating
    }

    /// Validates a soft-target batch (rows = `logits.count / rowStride`, the stride defaulting to
    /// `classes`); throws before anything is written. `targets` has the logits' layout.
    init(
        logits: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>, classes: Int,
        rowStride: Int?, gradient: UnsafeMutableBufferPointer<Float>?,
        rowLosses: UnsafeMutableBufferPointer<Float>?, rowLogSumExp: UnsafeMutableBufferPointer<Float>?,
        rowArgmax: UnsafeMutableBufferPointer<Int32>?, reduction: Reduction
    ) throws(XentError) {
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        let stride = rowStride ?? classes
        guard stride >= classes else { throw .invalidRowStride(rowStride: stride, classes: classes) }
        guard logits.count % stride == 0 else {
            throw .logitsNotMultipleOfClasses(count: logits.count, classes: stride)
        }
        let rows = logits.count / stride
        _ = try Self.checkShape(rows: rows, classes: classes, rowStride: rowStride, logits: logits)
        guard targets.count == logits.count else {
            throw .lengthMismatch(argument: "targets", expected: logits.count, actual: targets.count)
        }
        try Self.checkOutputs(
            logits: logits, gradient: gradient, rowLosses: rowLosses, rowLogSumExp: rowLogSumExp, rowArgmax: rowArgmax, rows: rows,
            reduction: reduction, others: [("targets", UnsafeRawBufferPointer(targets))])
        self.logits = logits.baseAddress!
        self.targets = .soft(targets.baseAddress!)
        self.gradient = gradient?.baseAddress
        self.rowLosses = rowLosses?.baseAddress
        self.rowLogSumExp = rowLogSumExp?.baseAddress
        self.rowArgmax = rowArgmax?.baseAddress
        self.rows = rows
        self.classes = classes
        self.stride = stride
        self.participatingRows = rows
    }

    /// Checks the shape against `logits` and returns the row stride. Without a stride the
    /// logits hold exactly rows × classes; with one, at least (rows − 1) × stride + classes.
    private static func checkShape(
        rows: Int, classes: Int, rowStride: Int?, logits: UnsafeBufferPointer<Float>
    ) throws(XentError) -> Int {
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        guard rows >= 1 else { throw .invalidRowCount(rows: rows) }
        let stride = rowStride ?? classes
        guard stride >= classes else { throw .invalidRowStride(rowStride: stride, classes: classes) }
        let (span, overflow1) = (rows - 1).multipliedReportingOverflow(by: stride)
        let (needed, overflow2) = span.addingReportingOverflow(classes)
        let (_, overflow3) = rows.multipliedReportingOverflow(by: stride)
        guard !overflow1, !overflow2, !overflow3 else { throw .shapeOverflow(rows: rows, classes: stride) }
        if rowStride == nil {
            guard logits.count == needed else {
                throw .lengthMismatch(argument: "logits", expected: needed, actual: logits.count)
            }
        } else {
            guard logits.count >= needed else {
                throw .lengthMismatch(argument: "logits", expected: needed, actual: logits.count)
            }
        }
        return stride
    }

    /// Output lengths, `.none`'s need for `rowLosses`, and aliasing: `gradient` may be the very
    /// buffer `logits` is (in place); no other pair of buffers may share a byte.
    private static func checkOutputs(
        logits: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>?,
        rowLosses: UnsafeMutableBufferPointer<Float>?, rowLogSumExp: UnsafeMutableBufferPointer<Float>?,
        rowArgmax: UnsafeMutableBufferPointer<Int32>?, rows: Int, reduction: Reduction,
        others: [(String, UnsafeRawBufferPointer)]
    ) throws(XentError) {
        if let gradient, gradient.count != logits.count {
            throw .lengthMismatch(argument: "gradient", expected: logits.count, actual: gradient.count)
        }
        if let rowLosses, rowLosses.count != rows {
            throw .lengthMismatch(argument: "rowLosses", expected: rows, actual: rowLosses.count)
        }
        if let rowLogSumExp, rowLogSumExp.count != rows {
            throw .lengthMismatch(argument: "rowLogSumExp", expected: rows, actual: rowLogSumExp.count)
        }
        if let rowArgmax, rowArgmax.count != rows {
            throw .lengthMismatch(argument: "rowArgmax", expected: rows, actual: rowArgmax.count)
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
        let outputs: [(String, UnsafeRawBufferPointer?)] = [
            ("rowLosses", rowLosses.map(UnsafeRawBufferPointer.init)),
            ("rowLogSumExp", rowLogSumExp.map(UnsafeRawBufferPointer.init)),
            ("rowArgmax", rowArgmax.map(UnsafeRawBufferPointer.init)),
        ]
        for (name, output) in outputs {
            guard let bytes = output else { continue }
            for (other, otherBytes) in inputs where overlaps(bytes, otherBytes) {
                throw .overlappingBuffers(first: name, second: other)
            }
            inputs.append((name, bytes))
        }
    }

    private static func overlaps(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let a0 = a.baseAddress, let b0 = b.baseAddress, a.count > 0, b.count > 0 else {
            return false
        }
        return a0 < b0 + b.count && b0 < a0 + a.count
    }
}
