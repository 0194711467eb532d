// A validated batch: raw pointers and a shape that every kernel may trust.

import CXent

/// What the rows are scored against.
enum Targets {
    /// One class index per row; rows equal to `ignoreIndex` take no part.
    case labels(LabelPointer, ignoreIndex: Int64?)
    /// A matrix of target weights, laid out like the logits (same row stride and storage).
    case soft(UnsafeRawPointer)
}

/// How the logits, soft targets and gradient are stored.
enum Storage: Equatable {
    /// `Float`, which the kernels read and write directly.
    case float32
    /// A 16-bit format: computed in `Float` through a per-thread workspace, the gradient rounded
    /// back once (see `Batch.row`).
    case half(xent_half_format)

    var elementSize: Int { self == .float32 ? 4 : 2 }
}

/// Buffers and shape after every check of the contract has passed; built only by the throwing
/// initializers below, so the kernels never re-check.
struct Batch {
    let logits: UnsafeRawPointer
    /// The elements in `logits` (and in soft targets and the gradient, which match it).
    let logitsCount: Int
    let targets: Targets
    let gradient: UnsafeMutableRawPointer?
    let storage: Storage
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

    /// The one row-count rule of every entry point: one row per label; with soft targets,
    /// `logitsCount / rowStride` (the stride defaulting to `classes`) where that divides exactly,
    /// or — with a `rowStride` — the rows of a view that ends at its last row's last class,
    /// `(rows − 1) × rowStride + classes` elements (the two agree when `classes == rowStride`).
    /// Throws for a class count, stride or division that leaves no row count to speak of; the
    /// shape itself is checked by the initializers.
    static func rowCount(
        logitsCount: Int, labelCount: Int?, classes: Int, rowStride: Int?
    ) throws(XentError) -> Int {
        if let labelCount { return labelCount }
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        let stride = rowStride ?? classes
        guard stride >= classes else { throw .invalidRowStride(rowStride: stride, classes: classes) }
        guard logitsCount % stride == 0 else {
            // With a stride, the division is by it: an error saying "classes = <stride>" misled.
            guard rowStride == nil else {
                // Rows `rowStride` apart in a wider matrix, viewed from the first row's start to the last
                // row's last class: the span a class-label batch needs, and what a view of a vocabulary
                // shard's columns (other than the last shard's) holds.
                if logitsCount >= classes && (logitsCount - classes) % stride == 0 {
                    return (logitsCount - classes) / stride + 1
                }
                throw .lengthNotMultiple(argument: "logits", count: logitsCount, multiple: stride, of: "rowStride")
            }
            throw .logitsNotMultipleOfClasses(count: logitsCount, classes: classes)
        }
        return logitsCount / stride
    }

    /// Validates a class-label batch; throws before anything is written. `labelClasses` is the
    /// range labels index when the rows are a vocabulary shard (`classes` of them).
    ///
    /// With a row stride, `logits` (and `gradient`) must hold `(rows − 1) × rowStride + classes`
    /// elements at least; elements past that and the padding columns are not touched.
    init<Element: LogitElement, Label: ClassLabel>(
        logits: UnsafeBufferPointer<Element>, labels: UnsafeBufferPointer<Label>, classes: Int,
        rowStride: Int?, ignoreIndex: Int32?, gradient: UnsafeMutableBufferPointer<Element>?,
        rowStatistics: RowStatistics.Buffers, reduction: Reduction, labelClasses: Int? = nil
    ) throws(XentError) {
        let storage = Storage(Element.self)
        let rows = try Self.rowCount(
            logitsCount: logits.count, labelCount: labels.count, classes: classes, rowStride: rowStride)
        let stride = try Self.checkShape(rows: rows, classes: classes, rowStride: rowStride, logitsCount: logits.count)
        try Self.checkOutputs(
            logits: UnsafeRawBufferPointer(logits), logitsCount: logits.count,
            gradient: gradient.map { (UnsafeRawBufferPointer($0), $0.count) },
            rowStatistics: rowStatistics, rows: rows, classes: classes,
            reduction: reduction, other: ("labels", UnsafeRawBufferPointer(labels)))
        // The entry points are generic over the label type and, public and not inlinable, run
        // unspecialized: every per-label step goes through the concrete LabelPointer instead (a
        // generic loop here cost a visible share of a short row; the Performance article).
        let labelPointer = LabelPointer(labels.baseAddress!)
        let ignore = ignoreIndex.map(Int64.init)
        let participating = try labelPointer.validate(
            count: rows, classes: Int64(labelClasses ?? classes), ignoreIndex: ignore)
        self.logits = UnsafeRawPointer(logits.baseAddress!)
        self.logitsCount = logits.count
        self.targets = .labels(labelPointer, ignoreIndex: ignore)
        self.gradient = gradient.map { UnsafeMutableRawPointer($0.baseAddress!) }
        self.storage = storage
        self.rowLosses = rowStatistics.losses?.baseAddress
        self.rowLogSumExp = rowStatistics.logSumExp?.baseAddress
        self.rowArgmax = rowStatistics.argmax?.baseAddress
        self.rows = rows
        self.classes = classes
        self.stride = stride
        self.participatingRows = participating
    }

    /// Validates a soft-target batch (rows by ``rowCount(logitsCount:labelCount:classes:rowStride:)``);
    /// throws before anything is written. `targets` has the logits' layout.
    init<Element: LogitElement>(
        logits: UnsafeBufferPointer<Element>, targets: UnsafeBufferPointer<Element>, classes: Int,
        rowStride: Int?, gradient: UnsafeMutableBufferPointer<Element>?,
        rowStatistics: RowStatistics.Buffers, reduction: Reduction
    ) throws(XentError) {
        let storage = Storage(Element.self)
        let rows = try Self.rowCount(logitsCount: logits.count, labelCount: nil, classes: classes, rowStride: rowStride)
        let stride = try Self.checkShape(rows: rows, classes: classes, rowStride: rowStride, logitsCount: logits.count)
        guard targets.count == logits.count else {
            throw .lengthMismatch(argument: "targets", expected: logits.count, actual: targets.count)
        }
        try Self.checkOutputs(
            logits: UnsafeRawBufferPointer(logits), logitsCount: logits.count,
            gradient: gradient.map { (UnsafeRawBufferPointer($0), $0.count) },
            rowStatistics: rowStatistics, rows: rows, classes: classes,
            reduction: reduction, other: ("targets", UnsafeRawBufferPointer(targets)))
        self.logits = UnsafeRawPointer(logits.baseAddress!)
        self.logitsCount = logits.count
        self.targets = .soft(UnsafeRawPointer(targets.baseAddress!))
        self.gradient = gradient.map { UnsafeMutableRawPointer($0.baseAddress!) }
        self.storage = storage
        self.rowLosses = rowStatistics.losses?.baseAddress
        self.rowLogSumExp = rowStatistics.logSumExp?.baseAddress
        self.rowArgmax = rowStatistics.argmax?.baseAddress
        self.rows = rows
        self.classes = classes
        self.stride = stride
        self.participatingRows = rows
    }

    /// Checks the shape against the logits' element count and returns the row stride. Without a
    /// stride the logits hold exactly rows × classes; with one, at least
    /// (rows − 1) × stride + classes.
    private static func checkShape(
        rows: Int, classes: Int, rowStride: Int?, logitsCount: Int
    ) throws(XentError) -> Int {
        guard classes >= 1 else { throw .invalidClassCount(classes: classes) }
        guard rows >= 1 else { throw .invalidRowCount(rows: rows) }
        let stride = rowStride ?? classes
        guard stride >= classes else { throw .invalidRowStride(rowStride: stride, classes: classes) }
        let (span, overflow1) = (rows - 1).multipliedReportingOverflow(by: stride)
        let (needed, overflow2) = span.addingReportingOverflow(classes)
        let (_, overflow3) = rows.multipliedReportingOverflow(by: stride)
        guard !overflow1, !overflow2, !overflow3 else {
            guard let rowStride else { throw .shapeOverflow(rows: rows, classes: classes) }
            throw .rowStrideOverflow(rows: rows, rowStride: rowStride, classes: classes)
        }
        if rowStride == nil {
            guard logitsCount == needed else {
                throw .lengthMismatch(argument: "logits", expected: needed, actual: logitsCount)
            }
        } else {
            guard logitsCount >= needed else {
                throw .lengthMismatch(argument: "logits", expected: needed, actual: logitsCount)
            }
        }
        return stride
    }

    /// Output lengths, `.none`'s need for `rowLosses`, an argmax that fits `Int32`, and aliasing:
    /// `gradient` may be the very buffer `logits` is (in place); no other pair of buffers may
    /// share a byte. Allocates nothing (the buffers are compared pairwise from a fixed table).
    private static func checkOutputs(
        logits: UnsafeRawBufferPointer, logitsCount: Int, gradient: (bytes: UnsafeRawBufferPointer, count: Int)?,
        rowStatistics: RowStatistics.Buffers, rows: Int, classes: Int, reduction: Reduction,
        other: (name: StaticString, bytes: UnsafeRawBufferPointer)
    ) throws(XentError) {
        let rowLosses = rowStatistics.losses, rowLogSumExp = rowStatistics.logSumExp
        let rowArgmax = rowStatistics.argmax
        if let gradient, gradient.count != logitsCount {
            throw .lengthMismatch(argument: "gradient", expected: logitsCount, actual: gradient.count)
        }
        if let rowLosses, rowLosses.count != rows {
            throw .lengthMismatch(argument: "rowStatistics.losses", expected: rows, actual: rowLosses.count)
        }
        if let rowLogSumExp, rowLogSumExp.count != rows {
            throw .lengthMismatch(argument: "rowStatistics.logSumExp", expected: rows, actual: rowLogSumExp.count)
        }
        if let rowArgmax, rowArgmax.count != rows {
            throw .lengthMismatch(argument: "rowStatistics.argmax", expected: rows, actual: rowArgmax.count)
        }
        if reduction == .none && rowLosses == nil { throw .rowLossesRequired }
        if rowArgmax != nil && classes > Int(Int32.max) { throw .argmaxOutOfRange(classes: classes) }

        // Inputs first, then outputs: each output is checked against everything before it.
        let table: (
            (StaticString, UnsafeRawBufferPointer?), (StaticString, UnsafeRawBufferPointer?),
            (StaticString, UnsafeRawBufferPointer?), (StaticString, UnsafeRawBufferPointer?),
            (StaticString, UnsafeRawBufferPointer?), (StaticString, UnsafeRawBufferPointer?)
        ) = (
            ("logits", logits), (other.name, other.bytes), ("gradient", gradient?.bytes),
            ("rowStatistics.losses", rowLosses.map(UnsafeRawBufferPointer.init)),
            ("rowStatistics.logSumExp", rowLogSumExp.map(UnsafeRawBufferPointer.init)),
            ("rowStatistics.argmax", rowArgmax.map(UnsafeRawBufferPointer.init))
        )
        try withUnsafeBytes(of: table) { (raw) throws(XentError) in
            // A homogeneous tuple is laid out as an array of its element; its byte count is not
            // a multiple of the stride (the last element has no tail padding), so count is given.
            let entries = UnsafeBufferPointer(
                start: raw.baseAddress!.assumingMemoryBound(to: (StaticString, UnsafeRawBufferPointer?).self), count: 6)
            for later in 2..<entries.count {
                guard let bytes = entries[later].1 else { continue }
                for earlier in 0..<later {
                    guard let otherBytes = entries[earlier].1, overlaps(bytes, otherBytes) else { continue }
                    // The one allowed sharing: an in-place gradient is the logits buffer itself.
                    if later == 2 && earlier == 0 && bytes.baseAddress == otherBytes.baseAddress { continue }
                    throw .overlappingBuffers(first: "\(entries[later].0)", second: "\(entries[earlier].0)")
                }
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
