// The two bounds every case is compared with, measured in the same run on the same machine.
import Xent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum Bounds {
    /// The memory roofline: `memcpy` of the case's logits into its gradient buffer (read
    /// rows × classes elements of `dataType`, write as many), median nanoseconds for the whole
    /// shape.
    static func memcpyNanoseconds(
        _ workload: Workload, _ dataType: DataType, policy: RepetitionPolicy
    ) -> TimingSummary {
        let bytes = workload.elements * dataType.size
        if dataType == .f32 {
            return measure(policy) { memcpy(workload.scratch.baseAddress!, workload.logits.baseAddress!, bytes) }
        }
        let half = workload.half(dataType)
        let source = half.logitsBytes, destination = half.scratchBytes
        return measure(policy) { memcpy(destination, source, bytes) }
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
