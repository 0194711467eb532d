// Where a case's logits, gradient and target buffers start relative to a 64-byte cache line (--alignment).

/// The start of the suite's row buffers (logits, gradient or in-place copy, soft targets, and their
/// 16-bit copies), as a byte offset past a 64-byte line. Labels, row losses and the exp bound's
/// block stay on a line; the memcpy bound is timed on the `line` buffers when the run has them, else
/// on the first alignment's.
enum BufferAlignment: String, CaseIterable {
    /// On a line, as numpy's, PyTorch's and JAX's arrays are at these sizes (the suite's default).
    case line
    /// Where a Swift `[Float]`'s elements start: 48 bytes past a line. Measured on this machine
    /// (Swift 6.3.1, glibc): `[Float](repeating:count:)` of the suite's sizes returned base addresses
    /// ≡ 48 (mod 64) — malloc serves large blocks by mmap, 16 bytes past a page, and an array's
    /// elements start 32 bytes into its block (the object header, count and capacity). A block
    /// reused from the heap can sit at any multiple of 16 instead (32 was also seen).
    case array
    /// One float past a line: every 16-float vector of a row straddles two lines.
    case odd

    var byteOffset: Int {
        switch self {
        case .line: 0
        case .array: 48
        case .odd: 4
        }
    }

    /// Uninitialized room for `capacity` elements starting `byteOffset` bytes past a 64-byte line.
    func allocate<T>(_: T.Type, capacity: Int) -> UnsafeMutableBufferPointer<T> {
        precondition(byteOffset % MemoryLayout<T>.alignment == 0, "\(self) misaligns \(T.self)")
        let buffer: UnsafeMutableBufferPointer<T>
        if self == .line {
            buffer = LineAligned.allocate(T.self, capacity: capacity)
        } else {
            let raw = UnsafeMutableRawPointer.allocate(
                byteCount: byteOffset + Swift.max(1, capacity) * MemoryLayout<T>.stride,
                alignment: Swift.max(LineAligned.alignment, MemoryLayout<T>.alignment))
            buffer = UnsafeMutableBufferPointer(
                start: (raw + byteOffset).bindMemory(to: T.self, capacity: capacity), count: capacity)
        }
        // The report's alignment column states this; hold it to it.
        precondition(Int(bitPattern: buffer.baseAddress!) % LineAligned.alignment == byteOffset)
        return buffer
    }

    /// Frees what ``allocate(_:capacity:)`` returned.
    func deallocate<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        (UnsafeMutableRawPointer(buffer.baseAddress!) - byteOffset).deallocate()
    }
}
