// The buffers of one call, each allocated to its exact size, and the call itself.
import Xent

/// One call's buffers. Each is its own allocation of exactly the size passed, so
/// AddressSanitizer reports any access past one; outputs start as sentinels, so a write where
/// none is allowed shows.
final class Buffers {
    static let sentinel = Float(bitPattern: 0x7FC0_BEEF)
    static let argmaxSentinel: Int32 = -7777

    let fuzzCase: FuzzCase
    /// The logits; for the overlap misuse, also the gradient, which starts inside them.
    let block: UnsafeMutableBufferPointer<Float>
    let logits: UnsafeMutableBufferPointer<Float>
    /// A gradient of its own (nil in place, for a forward call, and for the overlap misuse).
    let separateGradient: UnsafeMutableBufferPointer<Float>?
    let gradient: UnsafeMutableBufferPointer<Float>?
    let targets: UnsafeMutableBufferPointer<Float>?
    let labels32: UnsafeMutableBufferPointer<Int32>?
    let labels64: UnsafeMutableBufferPointer<Int64>?
    let rowLosses: UnsafeMutableBufferPointer<Float>?
    let rowLogSumExp: UnsafeMutableBufferPointer<Float>?
    let rowArgmax: UnsafeMutableBufferPointer<Int32>?
    /// The per-row output buffers, as the entry points take them.
    var rowStatistics: RowStatistics.Buffers {
        RowStatistics.Buffers(losses: rowLosses, logSumExp: rowLogSumExp, argmax: rowArgmax)
    }
    /// Whether a buffer was deliberately passed wrong: the call must throw.
    let misused: Bool

    init(_ c: FuzzCase) {
        fuzzCase = c
        var misused = false
        func filled<T>(_ count: Int, _ value: T) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
            buffer.initialize(repeating: value)
            return buffer
        }
        var logitValues = c.logits
        if c.misuse == .logitsCount { logitValues.append(0.5) }
        let n = logitValues.count
        if c.misuse == .overlap && c.call == .gradient && n >= 2 {
            let offset = n / 2
            block = filled(n + offset, Self.sentinel)
            logits = UnsafeMutableBufferPointer(rebasing: block[0..<n])
            gradient = UnsafeMutableBufferPointer(rebasing: block[offset ..< offset + n])
            separateGradient = nil
            misused = true
        } else {
            block = filled(n, 0)
            logits = block
            switch c.call {
            case .gradient:
                misused = misused || c.misuse == .shortGradient
                separateGradient = filled(c.misuse == .shortGradient ? Swift.max(n - 1, 0) : n, Self.sentinel)
                gradient = separateGradient
            case .inPlace:
                separateGradient = nil
                gradient = logits
            case .lossOnly:
                separateGradient = nil
                gradient = nil
            }
        }
        _ = logits.update(fromContentsOf: logitValues)
        if c.labels == nil {
            var values = c.targets
            if c.misuse == .targetsCount { values.append(0.25); misused = true }
            targets = filled(values.count, 0)
            _ = targets!.update(fromContentsOf: values)
        } else {
            targets = nil
        }
        if let labels = c.labels, c.wideLabels {
            labels64 = filled(labels.count, 0)
            _ = labels64!.update(fromContentsOf: labels)
        } else {
            labels64 = nil
        }
        if let labels = c.labels, !c.wideLabels {
            labels32 = filled(labels.count, 0)
            _ = labels32!.update(fromContentsOf: labels.map { Int32(truncatingIfNeeded: $0) })
        } else {
            labels32 = nil
        }
        let rows = c.rows
        let needRowLosses = c.wantsRowLosses || c.configuration.reduction == .none || c.misuse == .rowLossesCount
        if c.misuse == .omitRowLosses {
            rowLosses = nil
            misused = misused || c.configuration.reduction == .none
        } else if needRowLosses {
            misused = misused || c.misuse == .rowLossesCount
            rowLosses = filled(c.misuse == .rowLossesCount ? rows + 1 : rows, Self.sentinel)
        } else {
            rowLosses = nil
        }
        rowLogSumExp = c.wantsLogSumExp ? filled(rows, Self.sentinel) : nil
        if c.wantsArgmax || c.misuse == .rowArgmaxCount {
            misused = misused || c.misuse == .rowArgmaxCount
            rowArgmax = filled(c.misuse == .rowArgmaxCount ? rows - 1 : rows, Self.argmaxSentinel)
        } else {
            rowArgmax = nil
        }
        self.misused = misused
    }

    deinit {
        block.deallocate()
        separateGradient?.deallocate()
        targets?.deallocate()
        labels32?.deallocate()
        labels64?.deallocate()
        rowLosses?.deallocate()
        rowLogSumExp?.deallocate()
        rowArgmax?.deallocate()
    }

    /// Every bit of every buffer, inputs included.
    var snapshot: [UInt32] {
        var bits = block.map(\.bitPattern)
        bits += separateGradient.map { $0.map(\.bitPattern) } ?? []
        bits += targets.map { $0.map(\.bitPattern) } ?? []
        bits += labels32.map { $0.map { UInt32(bitPattern: $0) } } ?? []
        bits +=
            labels64.map { $0.flatMap { [UInt32(truncatingIfNeeded: $0), UInt32(truncatingIfNeeded: $0 >> 32)] } } ?? []
        bits += rowLosses.map { $0.map(\.bitPattern) } ?? []
        bits += rowLogSumExp.map { $0.map(\.bitPattern) } ?? []
        bits += rowArgmax.map { $0.map { UInt32(bitPattern: $0) } } ?? []
        return bits
    }

    /// Calls the entry point the case names with `configuration`.
    func call(_ ce: SoftmaxCrossEntropy) throws(XentError) -> Float {
        if let labels32 { return try call(ce, labels: UnsafeBufferPointer(labels32)) }
        if let labels64 { return try call(ce, labels: UnsafeBufferPointer(labels64)) }
        let (z, q, k, s) = (
            UnsafeBufferPointer(logits), UnsafeBufferPointer(targets!), fuzzCase.classes, fuzzCase.rowStride
        )
        switch fuzzCase.call {
        case .lossOnly:
            return try ce.loss(logits: z, targets: q, classes: k, rowStride: s, rowStatistics: rowStatistics)
        case .gradient:
            return try ce.lossAndGradient(logits: z, targets: q, classes: k, rowStride: s, gradient: gradient!,
                                          rowStatistics: rowStatistics)
        case .inPlace:
            return try ce.lossAndGradient(
                inPlace: logits, targets: q, classes: k, rowStride: s, rowStatistics: rowStatistics)
        }
    }

    private func call<Label: ClassLabel>(
        _ ce: SoftmaxCrossEntropy, labels t: UnsafeBufferPointer<Label>
    ) throws(XentError) -> Float {
        let (z, k, s) = (UnsafeBufferPointer(logits), fuzzCase.classes, fuzzCase.rowStride)
        switch fuzzCase.call {
        case .lossOnly:
            return try ce.loss(logits: z, labels: t, classes: k, rowStride: s, rowStatistics: rowStatistics)
        case .gradient:
            return try ce.lossAndGradient(logits: z, labels: t, classes: k, rowStride: s, gradient: gradient!,
                                          rowStatistics: rowStatistics)
        case .inPlace:
            return try ce.lossAndGradient(
                inPlace: logits, labels: t, classes: k, rowStride: s, rowStatistics: rowStatistics)
        }
    }
}
