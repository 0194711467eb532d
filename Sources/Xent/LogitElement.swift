// The element types Xent reads logits and soft targets in and writes gradients in.

/// A floating-point type Xent reads logits and soft targets in and writes gradients in: `Float`,
/// and the 16-bit ``HalfPrecisionFloat`` types `Float16` and ``BFloat16``.
///
/// Every entry point of ``SoftmaxCrossEntropy`` is generic over it; the type is turned into a
/// storage format once per call, so the rows run through the same non-generic code whatever the
/// element type. `Float` logits are read directly; 16-bit ones are widened row by row into a
/// per-thread `Float` workspace (see <doc:HalfPrecisionLogits>).
///
/// The set is closed: the one requirement, `_logitLayout`, has a type only Xent can create
/// (a ``HalfPrecisionFloat`` gets it from its ``HalfPrecisionFloat/halfPrecisionFormat``), and a
/// conforming type whose size is not its layout's stops the program with a precondition failure
/// before any element is read.
public protocol LogitElement: BitwiseCopyable, Sendable {
    /// How Xent reads and writes a buffer of this type.
    static var _logitLayout: _LogitLayout { get }
}

/// The storage format of a ``LogitElement`` buffer. Not for use outside Xent: there is no public
/// initializer.
public struct _LogitLayout: Sendable {
    let storage: Storage
}

extension Float: LogitElement {
    public static var _logitLayout: _LogitLayout { _LogitLayout(storage: .float32) }
}

extension HalfPrecisionFloat {
    /// The 16-bit storage in ``halfPrecisionFormat``.
    public static var _logitLayout: _LogitLayout { _LogitLayout(storage: .half(halfPrecisionFormat.cValue)) }
}

extension Storage {
    /// The storage of `Element`; a type whose size is not the storage's element size is a
    /// programming error, refused before anything is read.
    init<Element: LogitElement>(_: Element.Type) {
        let storage = Element._logitLayout.storage
        precondition(
            MemoryLayout<Element>.size == storage.elementSize && MemoryLayout<Element>.stride == storage.elementSize,
            "LogitElement: \(Element.self) is \(MemoryLayout<Element>.size) bytes, not \(storage.elementSize)")
        self = storage
    }
}
