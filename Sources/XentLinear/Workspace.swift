// The block's logits, allocated where the system may refuse them: a budget such as `.max` asks for
// every row's logits at once, and a refusal must be a typed error, not a trap.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Xent

/// `count` floats of workspace, freed by ``release()``.
struct Workspace {
    let floats: UnsafeMutablePointer<Float>

    /// Throws `invalidOption` naming ``LinearCrossEntropy/workspaceBytes`` (`budget`) where the
    /// system refuses the memory (or its size overflows).
    init(floats count: Int, budget: Int) throws(XentError) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow, let raw = malloc(bytes) else {
            throw .invalidOption(
                name: "workspaceBytes", value: Double(budget),
                requirement: "a workspace this system allocates (\(count) floats of logits were refused)")
        }
        floats = raw.bindMemory(to: Float.self, capacity: count)
    }

    func release() { free(floats) }
}
