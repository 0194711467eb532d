// The two bounds every case is compared with, measured in the same run on the same machine.
import Dispatch
import Xent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum Bounds {
    /// The memory roofline: `memcpy` of the case's logits into its gradient buffer (read
    /// rows × classes elements of `dataType`, write as many), median nanoseconds for the whole
    /// shape. With `threads` above 1, the threaded memcpy bound: the same copy cut into `threads`
    /// equal contiguous pieces, one per thread through Dispatch's concurrentPerform, on which Xent's
    /// threads run too — a threaded case's memory bound, since a second thread need not get twice
    /// the bandwidth (0.9–1.9× one thread's on this shared VM, Reports/README.md). Xent's threads
    /// claim their blocks as they go; equal pieces suffice here because a bound is the lowest of
    /// its measurements, one where the threads started together and ran at one speed.
    static func memcpyNanoseconds(
        _ workload: Workload, _ dataType: DataType, threads: Int = 1, policy: RepetitionPolicy
    ) -> TimingSummary {
        let bytes = workload.elements * dataType.size
        let source: UnsafeRawPointer, destination: UnsafeMutableRawPointer
        if dataType == .f32 {
            (source, destination) = (UnsafeRawPointer(workload.logits.baseAddress!),
                                     UnsafeMutableRawPointer(workload.scratch.baseAddress!))
        } else {
            let half = workload.half(dataType)
            (source, destination) = (half.logitsBytes, half.scratchBytes)
        }
        if threads == 1 { return measure(policy) { memcpy(destination, source, bytes) } }
        // Addresses as integers: the pieces are disjoint, which the closure's types cannot say.
        let (from, to) = (Int(bitPattern: source), Int(bitPattern: destination))
        // Piece boundaries on 64-byte multiples, so no cache line of the destination is written by two threads.
        let start: @Sendable (Int) -> Int = { piece in piece == threads ? bytes : piece * bytes / threads / 64 * 64 }
        return measure(policy) {
            DispatchQueue.concurrentPerform(iterations: threads) { piece in
                let (begin, end) = (start(piece), start(piece + 1))
                memcpy(UnsafeMutableRawPointer(bitPattern: to + begin)!, UnsafeRawPointer(bitPattern: from + begin)!,
                       end - begin)
            }
        }
    }

    /// The exp-throughput bound: SLEEF's `u10` exp (the shim's primitive, stored and summed) over
    /// an L1-resident block of 4096 floats, nanoseconds per element.
    static func expNanosecondsPerElement(isa: InstructionSet, policy: RepetitionPolicy) throws -> Double {
        let n = 4096
        let x = LineAligned.allocate(Float.self, capacity: n)
        let y = LineAligned.allocate(Float.self, capacity: n)
        defer { LineAligned.deallocate(x); LineAligned.deallocate(y) }
        for i in 0..<n { x[i] = Float(i % 97) * 0.25 - 12 }
        y.initialize(repeating: 0)
        var sink = 0.0
        let blocks = 64  // 256 Ki elements per timed run, so the clock's cost vanishes
        let timing = measure(policy) {
            for _ in 0..<blocks {
                sink +=
                    (try? Primitives.expMinusShiftSum(UnsafeBufferPointer(x), into: y, shift: 1, instructionSet: isa))
                    ?? 0
            }
        }
        if sink.isNaN { print("", terminator: "") }
        return timing.median / Double(n * blocks)
    }
}
