// The integer types Xent takes as class labels: Int32, Int64 and Int, and no others.

/// An integer type whose buffers Xent reads as class labels: `Int32`, `Int64` and `Int`.
///
/// Labels are compared with ``SoftmaxCrossEntropy/ignoreIndex`` after widening to `Int64`, so a
/// label of −100 is ignored whatever its type.
///
/// The set is closed: Xent reads a label buffer as 32- or 64-bit integers, so the protocol's one
/// requirement, `_classLabelLayout`, has a type only Xent can create. A type that forwards
/// another conformance's layout anyway is checked against it before any label is read, and a
/// mismatch (a 16-bit type, say) stops the program with a precondition failure.
public protocol ClassLabel: FixedWidthInteger, SignedInteger, Sendable {
    /// How Xent reads a buffer of this type; provided by `Int32`, `Int64` and `Int` only.
    static var _classLabelLayout: _ClassLabelLayout { get }
}

/// The width Xent reads a ``ClassLabel`` buffer with. Not for use outside Xent: there is no
/// public initializer.
public struct _ClassLabelLayout: Sendable {
    /// 4 or 8.
    let bytes: Int
}

extension Int32: ClassLabel {
    public static var _classLabelLayout: _ClassLabelLayout { _ClassLabelLayout(bytes: 4) }
}

extension Int64: ClassLabel {
    public static var _classLabelLayout: _ClassLabelLayout { _ClassLabelLayout(bytes: 8) }
}

extension Int: ClassLabel {
    /// `Int64`'s layout on 64-bit platforms, `Int32`'s on 32-bit ones.
    public static var _classLabelLayout: _ClassLabelLayout { _ClassLabelLayout(bytes: MemoryLayout<Int>.size) }
}

/// A validated label buffer, 32 or 64 bits wide.
enum LabelPointer {
    case int32(UnsafePointer<Int32>)
    case int64(UnsafePointer<Int64>)

    /// Views a ``ClassLabel`` buffer by its layout; traps, before reading a label, when the type
    /// is not as wide as the layout it claims.
    init<Label: ClassLabel>(_ base: UnsafePointer<Label>) {
        let layout = Label._classLabelLayout
        precondition(
            MemoryLayout<Label>.size == layout.bytes && MemoryLayout<Label>.stride == layout.bytes,
            "ClassLabel: \(Label.self) is \(MemoryLayout<Label>.size) bytes, not \(layout.bytes); "
                + "only Int32, Int64 and Int are class labels")
        let raw = UnsafeRawPointer(base)
        if layout.bytes == 4 {
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
