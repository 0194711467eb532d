// The argmax's search: the first element of a chunk equal to its max, sixteen at a time (an
// element-by-element loop here made a call that asks for the argmax much slower: Performance
// article).

enum ArgmaxSearch {
    /// The index of the first of `x[0 ..< n]` that equals `m` by `==` (so either zero for a zero
    /// `m`, a NaN never), or nil. Blocks of 16 are compared as vectors; the first block holding a
    /// match, and the tail, element by element with the same `==`.
    @inline(__always)
    static func first(_ m: Float, in x: UnsafePointer<Float>, count n: Int) -> Int? {
        let target = SIMD16<Float>(repeating: m)
        var i = 0
        while i + 16 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let hit = unsafeBitCast(v .== target, to: SIMD16<UInt32>.self)
            if anyLane(hit.lowHalf | hit.highHalf) { break }
            i += 16
        }
        while i < n {
            if x[i] == m { return i }
            i += 1
        }
        return nil
    }

    /// The index of the first of the 16-bit patterns `x[0 ..< n]` equal to `bits`, or — where
    /// `zeroMask` is not 0 — whose bits under `zeroMask` are all zero; nil if none. As
    /// ``first(_:in:count:)``, sixteen at a time.
    @inline(__always)
    static func first(_ bits: UInt16, orZeroUnder zeroMask: UInt16, in x: UnsafePointer<UInt16>, count n: Int) -> Int? {
        let target = SIMD16<UInt16>(repeating: bits), mask = SIMD16<UInt16>(repeating: zeroMask)
        let zero = SIMD16<UInt16>(), none = SIMD16<UInt16>(repeating: zeroMask == 0 ? 0xffff : 0)
        var i = 0
        while i + 16 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<UInt16>.self)
            // A zero mask of 0 matches no pattern: `none` sets a bit the test below finds set.
            let hit = unsafeBitCast(v .== target, to: SIMD16<UInt16>.self)
                | unsafeBitCast((v & mask) | none .== zero, to: SIMD16<UInt16>.self)
            if anyLane(unsafeBitCast(hit, to: SIMD8<UInt32>.self)) { break }
            i += 16
        }
        while i < n {
            if x[i] == bits || (zeroMask != 0 && x[i] & zeroMask == 0) { return i }
            i += 1
        }
        return nil
    }

    /// Whether any lane is nonzero: halves OR-ed together (shuffles and ORs, no lane-by-lane loop).
    @inline(__always)
    private static func anyLane(_ v: SIMD8<UInt32>) -> Bool {
        let h4 = v.lowHalf | v.highHalf
        let h2 = h4.lowHalf | h4.highHalf
        return h2[0] | h2[1] != 0
    }
}
