// Direct, checked access to the shim's exp primitive: for the exp-throughput bound and for tests.

/// The building block under the `.vector` kernel, exposed for measurement.
///
/// The performance suite times ``expMinusShiftSum(_:into:shift:instructionSet:)`` over an
/// L1-resident block to get the machine's exp-throughput bound: no softmax cross-entropy can run
/// faster per element than the exp it needs.
public enum Primitives {
    /// Writes `y[i] = exp(x[i] − shift)` and returns `Σ_i exp(x[i] − shift)` in `Double`.
    ///
    /// Equivalent to `y[i] = Sleef_expf_u10(x[i] − shift)` (within 1 ulp: the vector `u10`
    /// exp of the ISA), summed with several float accumulators per 512 elements, the blocks
    /// added in `Double`. `y` may be `nil` (sum only) or the very buffer `x` is.
    ///
    /// - Throws: ``XentError/lengthMismatch(argument:expected:actual:)`` if `y` and `x` differ
    ///   in length, ``XentError/nonFiniteValue(argument:value:)`` for an infinite or NaN `shift`,
    ///   ``XentError/instructionSetUnavailable(_:)`` for an ISA the CPU lacks.
    public static func expMinusShiftSum(
        _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>?, shift: Float,
        instructionSet: InstructionSet = .active
    ) throws(XentError) -> Double {
        if let y, y.count != x.count {
            throw .lengthMismatch(argument: "y", expected: x.count, actual: y.count)
        }
        guard shift.isFinite else { throw .nonFiniteValue(argument: "shift", value: Double(shift)) }
        guard instructionSet.isSupported else { throw .instructionSetUnavailable(instructionSet) }
        guard let base = x.baseAddress, !x.isEmpty else { return 0 }
        return expMinusSum(base, into: y?.baseAddress, count: x.count, shift: shift, isa: instructionSet)
    }
}
