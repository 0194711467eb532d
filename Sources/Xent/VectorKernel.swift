// The default kernel: SIMD16<Float> passes in Swift, SLEEF's vector exp through the C shim.

/// `.vector`: the same arithmetic as ``ReferenceKernel`` (which it must match within NUMERICS.md's
/// tolerances), in three passes over a row:
///
/// 1. `m = max z` with `SIMD16<Float>` (two accumulators, reduced once per row);
/// 2. `e_j = exp(z_j − m)` written into the gradient row and summed, by the C shim (SLEEF `u10`
///    exp for ``isa``, float accumulators per 512-element chunk, chunks added in `Double`);
/// 3. `g_j = e_j · (scale / S)`, then the target term subtracted, with `SIMD16<Float>`.
///
/// One exp per element; the logits are read twice (pass 1 and pass 2; with soft targets, pass 2
/// also takes `Σq` and `Σ q·(m − z)` from each L1-resident chunk) and nothing is allocated.
struct VectorKernel: RowKernel {
    let isa: InstructionSet

    typealias Vector = SIMD16<Float>
    static var lanes: Int { Vector.scalarCount }

    /// `max z`, or nil when the row holds +inf or every class is masked. A NaN logit is not
    /// seen here (comparisons with NaN are false); it makes the exp sum NaN in pass 2 instead.
    @inline(__always)
    static func rowMax(_ z: UnsafePointer<Float>, classes: Int) -> Float? {
        let raw = UnsafeRawPointer(z)
        var acc0 = Vector(repeating: -.infinity)
        var acc1 = acc0
        var j = 0
        while j + 2 * lanes <= classes {
            let a = raw.loadUnaligned(fromByteOffset: j * 4, as: Vector.self)
            let b = raw.loadUnaligned(fromByteOffset: (j + lanes) * 4, as: Vector.self)
            // `replacing(with:where:)`: pointwiseMax is ~50× slower here.
            acc0 = acc0.replacing(with: a, where: a .> acc0)
            acc1 = acc1.replacing(with: b, where: b .> acc1)
            j += 2 * lanes
        }
        if j + lanes <= classes {
            let a = raw.loadUnaligned(fromByteOffset: j * 4, as: Vector.self)
            acc0 = acc0.replacing(with: a, where: a .> acc0)
            j += lanes
        }
        acc0 = acc0.replacing(with: acc1, where: acc1 .> acc0)
        var m = acc0.max()
        while j < classes {
            if z[j] > m { m = z[j] }
            j += 1
        }
        return m.isFinite ? m : nil
    }

    /// `g_j ← g_j · a − q_j · b` (soft targets) or `g_j ← g_j · a` (q nil).
    @inline(__always)
    static func scale(
        _ g: UnsafeMutablePointer<Float>, classes: Int, by a: Float,
        minus q: UnsafePointer<Float>? = nil, times b: Float = 0
    ) {
        let raw = UnsafeMutableRawPointer(g)
        var j = 0
        if let q {
            let rawQ = UnsafeRawPointer(q)
            while j + lanes <= classes {
                let e = raw.loadUnaligned(fromByteOffset: j * 4, as: Vector.self)
                let t = rawQ.loadUnaligned(fromByteOffset: j * 4, as: Vector.self)
                raw.storeBytes(of: e * a - t * b, toByteOffset: j * 4, as: Vector.self)
                j += lanes
            }
            while j < classes {
                g[j] = g[j] * a - q[j] * b
                j += 1
            }
        } else {
            while j + lanes <= classes {
                let e = raw.loadUnaligned(fromByteOffset: j * 4, as: Vector.self)
                raw.storeBytes(of: e * a, toByteOffset: j * 4, as: Vector.self)
                j += lanes
            }
            while j < classes {
                g[j] *= a
                j += 1
            }
        }
    }

    func labelRow(
        _ z: UnsafePointer<Float>, classes: Int, label t: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Double
    ) -> Double {
        guard let m = Self.rowMax(z, classes: classes) else { return .nan }
        let zt = z[t]  // read before an in-place gradient overwrites it
        let s = expMinusSum(z, into: gradient, count: classes, shift: m, isa: isa)
        guard !s.isNaN else { return .nan }
        if let g = gradient {
            Self.scale(g, classes: classes, by: Float(gradientScale / s))
            g[t] -= Float(gradientScale)
        }
        return (Double(m) - Double(zt)) + sleefLog(s)
    }

    func softRow(
        _ z: UnsafePointer<Float>, targets q: UnsafePointer<Float>, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, gradientScale: Double
    ) -> Double {
        guard let m = Self.rowMax(z, classes: classes) else { return .nan }
        // ℓ = Σq·log S + Σ q_c·(m − z_c): both terms ≥ 0, so nothing cancels. The shim takes the
        // target sums from each chunk of z before it stores that chunk's exp (in place too).
        let (s, sumQ, sumQGap) = expMinusSum(
            z, targets: q, into: gradient, count: classes, shift: m, isa: isa)
        guard !s.isNaN else { return .nan }
        if let g = gradient {
            Self.scale(
                g, classes: classes, by: Float(sumQ * gradientScale / s), minus: q,
                times: Float(gradientScale))
        }
        return sumQ * sleefLog(s) + sumQGap
    }
}
