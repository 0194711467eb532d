// The integer types Xent takes as class labels: Int32, Int64 and Int.

/// An integer type whose buffers Xent reads as class labels: `Int32`, `Int64` and `Int`.
///
/// Labels are compared with ``SoftmaxCrossEntropy/ignoreIndex`` after widening to `Int64`, so a
/// label of −100 is ignored whatever its type.
public protocol ClassLabel: FixedWidthInteger, SignedInteger, Sendable {}

extension Int32: ClassLabel {}
extension Int64: ClassLabel {}
extension Int: ClassLabel {}

/// A validated label buffer, 32 or 64 bits wide.
enum LabelPointer {
    case int32(UnsafePointer<Int32>)
    case int64(UnsafePointer<Int64>)

    /// Views any ``ClassLabel`` buffer by its width (`Int` has `Int64`'s layout on 64-bit
    /// platforms and `Int32`'s on 32-bit ones).
    init<Label: ClassLabel>(_ base: UnsafePointer<Label>) {
        let raw = UnsafeRawPointer(base)
        if MemoryLayout<Label>.size == 4 {
            self = .int32(raw.assumingMemoryBound(to: Int32.self))
        } else {
            self = .int64(raw.assumingMemoryBound(to: Int64.self))
        }
    }

    /// Checks every label: in `0 ..< classes` or the ignore index. Returns the rows that take part.
    func validate(count: Int, classes: Int64, ignoreIndex: Int64?) throws(XentError) -> Int {
        switch self {
        case .int32(let p): return try Self.validate(p, count: count, classes: classes, ignoreIndex: ignoreIndex)
        case .int64(let p): return try Self.validate(p, count: count, classes: classes, ignoreIndex: ignoreIndex)
        }
    }

    @inline(__always)
    private static func validate<T: FixedWidthInteger & SignedInteger>(
        _ labels: UnsafePointer<T>, count: Int, classes: Int64, ignoreIndex: Int64?
    ) throws(XentError) -> Int {
        var participating = 0
        for row in 0..<count {
            let label = Int64(labels[row])
            if let ignoreIndex, label == ignoreIndex { continue }
            guard label >= 0 && label < classes else {
                throw .labelOutOfRange(row: row, label: Int(label), classes: Int(classes))
            }
            participating += 1
        }
        return participating
    }

    @inline(__always)
    subscript(row: Int) -> Int64 {
        switch self {
        case .int32(let p): return Int64(p[row])
        case .int64(let p): return p[row]
        }
    }
}
