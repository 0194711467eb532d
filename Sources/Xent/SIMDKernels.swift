// The float micro-kernels of arm64's AdvSIMD and of the portable fallback, in Swift SIMD types: the
// algorithms of xent_f32x16.h (the AVX-512F, AVX2 and SSE2 kernels, C), with the same
// signatures (CXent.h) and the same order of every sum on 16 float and 8 double lanes, so that
// AdvSIMD gives the canonical ISAs' bits. SLEEF's exp and tanh are reached through the C shim a
// block at a time (`SIMDKernelISA`); everything else is lane-wise Swift.
import CXent

/// The block whose float sums are added into the double accumulators at its end (`XENT_EXP_BLOCK`).
private let expBlock = 512
/// How far ahead the exp pass prefetches (the row driver's next chunk), so the next chunk's memory
/// traffic overlaps this chunk's exps.
private let prefetchDistance = Int(XENT_PREFETCH_DISTANCE)
/// The exps are computed this many at a time into a stack buffer (1 KiB: Swift allocates a
/// temporary of at most that size on the stack without asking the runtime). A multiple of 32, so
/// a pair of vectors never straddles two of them.
private let expSpan = 256

// MARK: rmax

/// `xent_f32_rmax_ukernel_fn`: the largest of `x[0 ..< n]`, ignoring NaN, +0 rather than −0. A max
/// is exact in any order, so this kernel need not follow the C one's (four accumulators would
/// not fit the sixteen registers of x86-64's baseline beside the loads).
@inline(__always)
func rmaxKernel(_ n: Int, _ x: UnsafePointer<Float>) -> Float {
    var acc0 = Float32x16(repeating: -.infinity), acc1 = acc0
    var i = 0
    while i + 32 <= n {
        acc0 = Float32x16.load(x + i).maximum(acc0)
        acc1 = Float32x16.load(x + i + 16).maximum(acc1)
        i += 32
    }
    if i + 16 <= n {
        acc0 = Float32x16.load(x + i).maximum(acc0)
        i += 16
    }
    if i < n { acc1 = Float32x16.load(x + i, count: n - i, fill: -.infinity).maximum(acc1) }
    // A zero max as +0, so that its sign does not depend on the order of the lanes; by a compare, as
    // the C kernels' xent_plus_zero (an addition would flush a subnormal max under flush-to-zero).
    let m = acc1.maximum(acc0).reduceMaximum()
    return m == 0 ? 0 : m
}

// MARK: rfindeq

/// `xent_f32_rfindeq_ukernel_fn`: the index of the first of `x[0 ..< n]` equal to `value` by `==`,
/// or n. Blocks of 16 compared as vectors, their lanes OR-ed by halves (shuffles, not a lane-by-lane
/// loop); the first block holding a match, and the tail, element by element with the same `==`.
func rfindeqKernel(_ n: Int, _ x: UnsafePointer<Float>, _ value: Float) -> Int {
    let target = Float32x16(repeating: value)
    var i = 0
    while i + 16 <= n {
        let hit = unsafeBitCast(Float32x16.load(x + i) .== target, to: SIMD16<UInt32>.self)
        let h8 = hit.lowHalf | hit.highHalf, h4 = h8.lowHalf | h8.highHalf, h2 = h4.lowHalf | h4.highHalf
        if h2[0] | h2[1] != 0 { break }
        i += 16
    }
    while i < n && !(x[i] == value) { i += 1 }
    return i
}

// MARK: raddstoreexpminusmax

/// Soft targets' sums over one vector: Σq into `q0`/`q1` (lanes 0–7, 8–15), Σ q·(shift − x) into
/// `g0`/`g1`, x replaced by 0 where q is 0 (so a masked class without a target adds nothing).
@inline(__always)
private func addSoftSums<K: SIMDKernelISA>(
    _: K.Type, _ v: Float32x16, _ q: Float32x16, _ shift: Float64x8,
    _ q0: inout Float64x8, _ q1: inout Float64x8, _ g0: inout Float64x8, _ g1: inout Float64x8
) {
    let qx = v.keeping(nonzero: q)
    let ql = q.low, qh = q.high
    q0 += ql
    q1 += qh
    g0 = K.multiplyAdd(shift - qx.low, ql, g0)
    g1 = K.multiplyAdd(shift - qx.high, qh, g1)
}

/// `xent_f32_raddstoreexpminusmax_ukernel_fn`'s body; `store`, `soft` and `mark` are constants
/// where it is inlined. A span of the row at a time: its soft-target sums (their accumulators take
/// the vectors in order, so a pass of their own adds in the C kernels' order, and the exp loop
/// keeps fewer registers live), its exps into a stack buffer (SLEEF through C, prefetching the
/// next chunk below `prefetchLimit`), then the exps stored (marked) and summed.
@inline(__always)
private func raddstoreexpminusmax<K: SIMDKernelISA>(
    _: K.Type, _ n: Int, _ x: UnsafePointer<Float>, _ shift: Float, _ q: UnsafePointer<Float>?,
    _ y: UnsafeMutablePointer<Float>?, _ sums: UnsafeMutablePointer<Double>, prefetchLimit: Int,
    store: Bool, soft: Bool, mark: Bool
) {
    let dshift = Float64x8(repeating: Double(shift))
    var s0 = Float64x8(), s1 = s0, q0 = s0, q1 = s0, g0 = s0, g1 = s0
    withUnsafeTemporaryAllocation(of: Float.self, capacity: expSpan) { buffer in
        let e = buffer.baseAddress!
        var block = 0
        while block < n {
            let blockEnd = min(block + expBlock, n)
            var a0 = Float32x16(), a1 = a0
            var base = block
            while base < blockEnd {
                let len = min(expSpan, blockEnd - base)
                let nvec = len / 16, rest = len % 16
                let xs = x + base
                if soft {
                    let qs = q! + base
                    for k in 0..<nvec {
                        addSoftSums(K.self, .load(xs + 16 * k), .load(qs + 16 * k), dshift, &q0, &q1, &g0, &g1)
                    }
                    if rest > 0 {
                        // Missing lanes: x = −inf and q = 0 (no target), so they add nothing.
                        addSoftSums(
                            K.self, .load(xs + 16 * nvec, count: rest, fill: -.infinity),
                            .load(qs + 16 * nvec, count: rest, fill: 0), dshift, &q0, &q1, &g0, &g1)
                    }
                }
                var ahead = xent_prefetch_ahead(
                    read: (xs + prefetchDistance, soft ? q! + base + prefetchDistance : nil),
                    write: store ? y! + base + prefetchDistance : nil,
                    limit: max(0, prefetchLimit - base - prefetchDistance))
                K.expMinus(len, xs, shift, e, &ahead)
                var k = 0
                while k + 2 <= nvec {
                    let e0 = Float32x16.load(e + 16 * k), e1 = Float32x16.load(e + 16 * k + 16)
                    if store {
                        let yk = y! + base + 16 * k
                        if mark {
                            e0.marking(masked: .load(xs + 16 * k)).store(yk)
                            e1.marking(masked: .load(xs + 16 * k + 16)).store(yk + 16)
                        } else {
                            e0.store(yk)
                            e1.store(yk + 16)
                        }
                    }
                    a0 += e0
                    a1 += e1
                    k += 2
                }
                // Only the block's last span can end in an odd vector or a partial one.
                if k < nvec {
                    let e0 = Float32x16.load(e + 16 * k)
                    if store { (mark ? e0.marking(masked: .load(xs + 16 * k)) : e0).store(y! + base + 16 * k) }
                    a0 += e0
                }
                if rest > 0 {
                    // Missing lanes: exp(−inf − shift) = 0 adds nothing.
                    let ev = Float32x16.load(e + 16 * nvec, count: rest, fill: 0)
                    if store {
                        let v = Float32x16.load(xs + 16 * nvec, count: rest, fill: -.infinity)
                        (mark ? ev.marking(masked: v) : ev).store(y! + base + 16 * nvec, count: rest)
                    }
                    a1 += ev
                }
                base += len
            }
            let a = a0 + a1
            s0 += a.low
            s1 += a.high
            block = blockEnd
        }
    }
    sums[0] = (s0 + s1).reduceSum()
    if soft {
        sums[1] = (q0 + q1).reduceSum()
        sums[2] = (g0 + g1).reduceSum()
    }
}

/// `xent_f32_raddstoreexpminusmax_ukernel_fn` (CXent.h): one specialization per combination.
@inline(__always)
func raddstoreexpminusmaxKernel<K: SIMDKernelISA>(
    _ isa: K.Type, _ n: Int, _ x: UnsafePointer<Float>, _ shift: Float, _ q: UnsafePointer<Float>?,
    _ y: UnsafeMutablePointer<Float>?, _ markMasked: Bool, _ sums: UnsafeMutablePointer<Double>, _ prefetchLimit: Int
) {
    @inline(__always)
    func run(_ q: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>?, store: Bool, soft: Bool, mark: Bool) {
        raddstoreexpminusmax(
            isa, n, x, shift, q, y, sums, prefetchLimit: prefetchLimit, store: store, soft: soft, mark: mark)
    }
    switch (q != nil, y != nil, markMasked) {
    case (true, false, _): run(q, nil, store: false, soft: true, mark: false)
    case (true, true, true): run(q, y, store: true, soft: true, mark: true)
    case (true, true, false): run(q, y, store: true, soft: true, mark: false)
    case (false, false, _): run(nil, nil, store: false, soft: false, mark: false)
    case (false, true, true): run(nil, y, store: true, soft: false, mark: true)
    case (false, true, false): run(nil, y, store: true, soft: false, mark: false)
    }
}

// MARK: rsumtargets

/// The target sums' accumulators (`xent_target_sums`), two of each for lanes 0–7 and 8–15.
private struct TargetSums {
    var q = (Float64x8(), Float64x8()), qGap = (Float64x8(), Float64x8())
    var unmasked = (Float64x8(), Float64x8()), w = (Float64x8(), Float64x8()), wGap = (Float64x8(), Float64x8())
}

/// One vector's target sums; `hasQ`, `hasW`, `smoothing` say which are present.
@inline(__always)
private func addTargetSums<K: SIMDKernelISA>(
    _: K.Type, _ v: Float32x16, _ vq: Float32x16, _ vw: Float32x16, _ shift: Float64x8, hasQ: Bool, hasW: Bool,
    smoothing: Bool, _ acc: inout TargetSums
) {
    if hasQ {
        let qx = (hasW ? v.keeping(nonzero: vw) : v).keeping(nonzero: vq)
        let ql = hasW ? vq.low * vw.low : vq.low
        let qh = hasW ? vq.high * vw.high : vq.high
        acc.q.0 += ql
        acc.q.1 += qh
        acc.qGap.0 = K.multiplyAdd(shift - qx.low, ql, acc.qGap.0)
        acc.qGap.1 = K.multiplyAdd(shift - qx.high, qh, acc.qGap.1)
    }
    if smoothing {
        let live = Float32x16(repeating: 1).keeping(unmasked: v)
        let lw = vw.keeping(unmasked: v)
        let lx = v.keeping(unmasked: v)
        acc.unmasked.0 += live.low
        acc.unmasked.1 += live.high
        acc.w.0 += lw.low
        acc.w.1 += lw.high
        acc.wGap.0 = K.multiplyAdd(shift - lx.low, lw.low, acc.wGap.0)
        acc.wGap.1 = K.multiplyAdd(shift - lx.high, lw.high, acc.wGap.1)
    }
}

/// `xent_f32_rsumtargets_ukernel_fn` (CXent.h).
@inline(__always)
func rsumtargetsKernel<K: SIMDKernelISA>(
    _ isa: K.Type, _ n: Int, _ x: UnsafePointer<Float>, _ shift: Float, _ q: UnsafePointer<Float>?,
    _ w: UnsafePointer<Float>?, _ smoothing: Bool, _ sums: UnsafeMutablePointer<Double>
) {
    let dshift = Float64x8(repeating: Double(shift))
    let one = Float32x16(repeating: 1), zero = Float32x16()
    var acc = TargetSums()
    var i = 0
    while i + 16 <= n {
        addTargetSums(
            isa, .load(x + i), q.map { .load($0 + i) } ?? zero, w.map { .load($0 + i) } ?? one, dshift,
            hasQ: q != nil, hasW: w != nil, smoothing: smoothing, &acc)
        i += 16
    }
    if i < n {
        // Missing lanes: x = −inf (masked), q = 0 and w = 0, so they add nothing.
        let rest = n - i
        addTargetSums(
            isa, .load(x + i, count: rest, fill: -.infinity), q.map { .load($0 + i, count: rest, fill: 0) } ?? zero,
            w.map { .load($0 + i, count: rest, fill: 0) } ?? one, dshift, hasQ: q != nil, hasW: w != nil,
            smoothing: smoothing, &acc)
    }
    sums[0] = q != nil ? (acc.q.0 + acc.q.1).reduceSum() : 0
    sums[1] = q != nil ? (acc.qGap.0 + acc.qGap.1).reduceSum() : 0
    sums[2] = smoothing ? (acc.unmasked.0 + acc.unmasked.1).reduceSum() : 0
    sums[3] = smoothing ? (acc.w.0 + acc.w.1).reduceSum() : 0
    sums[4] = smoothing ? (acc.wGap.0 + acc.wGap.1).reduceSum() : 0
}

// MARK: vtransform

/// `xent_f32_vtransform_ukernel_fn` (CXent.h): `t = s·x`, then with `c > 0`, `t = c·tanh(t / c)`.
@inline(__always)
func vtransformKernel<K: SIMDKernelISA>(
    _ isa: K.Type, _ n: Int, _ x: UnsafePointer<Float>, _ t: UnsafeMutablePointer<Float>, _ s: Float, _ c: Float
) {
    let vs = Float32x16(repeating: s), vc = Float32x16(repeating: c > 0 ? c : 1)
    let full = n / 16 * 16, rest = n - full
    var i = 0
    while i < full {
        let v = Float32x16.load(x + i) * vs
        (c > 0 ? v / vc : v).store(t + i)
        i += 16
    }
    if rest > 0 {
        let v = Float32x16.load(x + full, count: rest, fill: 0) * vs
        (c > 0 ? v / vc : v).store(t + full, count: rest)
    }
    guard c > 0 else { return }
    K.tanh(n, t, t)
    i = 0
    while i < full {
        (Float32x16.load(t + i) * vc).store(t + i)
        i += 16
    }
    if rest > 0 { (Float32x16.load(t + full, count: rest, fill: 0) * vc).store(t + full, count: rest) }
}

// MARK: vgradient

/// One vector of the general form: `e·a − w·(q·b + [e not −0]·d)`.
@inline(__always)
private func gradientVector(
    _ e: Float32x16, _ vq: Float32x16, _ vw: Float32x16, _ va: Float32x16, _ vb: Float32x16, _ vd: Float32x16,
    hasQ: Bool, hasW: Bool
) -> Float32x16 {
    var t = vd.keeping(unmarked: e)
    if hasQ { t = vq * vb + t }
    if hasW { t = t * vw }
    return e * va - t
}

/// `xent_f32_vgradient_ukernel_fn` (CXent.h): `y = y·a − w·(q·b + [y not −0]·d)`.
@inline(__always)
func vgradientKernel(
    _ n: Int, _ y: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>?, _ w: UnsafePointer<Float>?,
    _ smoothing: Bool, _ a: Float, _ b: Float, _ d: Float
) {
    let va = Float32x16(repeating: a)
    var i = 0
    if w != nil || smoothing {
        let vb = Float32x16(repeating: b), vd = Float32x16(repeating: smoothing ? d : 0), zero = Float32x16()
        while i + 16 <= n {
            gradientVector(
                .load(y + i), q.map { .load($0 + i) } ?? zero, w.map { .load($0 + i) } ?? zero, va, vb, vd,
                hasQ: q != nil, hasW: w != nil
            ).store(y + i)
            i += 16
        }
        if i < n {
            let rest = n - i
            gradientVector(
                .load(y + i, count: rest, fill: 0), q.map { .load($0 + i, count: rest, fill: 0) } ?? zero,
                w.map { .load($0 + i, count: rest, fill: 0) } ?? zero, va, vb, vd, hasQ: q != nil, hasW: w != nil
            ).store(y + i, count: rest)
        }
    } else if let q {
        let vb = Float32x16(repeating: b)
        while i + 16 <= n {
            (Float32x16.load(y + i) * va - Float32x16.load(q + i) * vb).store(y + i)
            i += 16
        }
        if i < n {
            let rest = n - i
            (Float32x16.load(y + i, count: rest, fill: 0) * va - Float32x16.load(q + i, count: rest, fill: 0) * vb)
                .store(y + i, count: rest)
        }
    } else {
        while i + 32 <= n {
            (Float32x16.load(y + i) * va).store(y + i)
            (Float32x16.load(y + i + 16) * va).store(y + i + 16)
            i += 32
        }
        while i + 16 <= n {
            (Float32x16.load(y + i) * va).store(y + i)
            i += 16
        }
        if i < n { (Float32x16.load(y + i, count: n - i, fill: 0) * va).store(y + i, count: n - i) }
    }
}

// MARK: vgradientsoftcap

/// One vector under a softcap: `(e·a − w·(q·b + d))·(1 − (t/c)²)`, `e = exp(t − shift)`.
@inline(__always)
private func gradientSoftcapVector(
    _ t: Float32x16, _ e: Float32x16, _ vq: Float32x16, _ vw: Float32x16, _ va: Float32x16, _ vb: Float32x16,
    _ vd: Float32x16, _ vc: Float32x16, hasQ: Bool, hasW: Bool
) -> Float32x16 {
    let r = t / vc
    var target = vd
    if hasQ { target = vq * vb + target }
    if hasW { target = target * vw }
    let g = e * va - target
    return g * (Float32x16(repeating: 1) - r * r)
}

/// `xent_f32_vgradientsoftcap_ukernel_fn` (CXent.h).
@inline(__always)
func vgradientsoftcapKernel<K: SIMDKernelISA>(
    _: K.Type, _ n: Int, _ y: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>?, _ w: UnsafePointer<Float>?,
    _ smoothing: Bool, _ shift: Float, _ a: Float, _ b: Float, _ d: Float, _ c: Float, _ label: Int,
    _ labelTerm: Float
) {
    let va = Float32x16(repeating: a), vb = Float32x16(repeating: b)
    let vd = Float32x16(repeating: smoothing ? d : 0), vc = Float32x16(repeating: c), zero = Float32x16()
    let hasQ = q != nil, hasW = w != nil
    var labelT = label >= 0 ? y[label] : 0  // before it is overwritten
    withUnsafeTemporaryAllocation(of: Float.self, capacity: expSpan) { buffer in
        let e = buffer.baseAddress!
        var base = 0
        while base < n {
            let len = min(expSpan, n - base)
            K.expMinus(len, y + base, shift, e, nil)
            var k = 0
            while k + 16 <= len {
                let i = base + k
                gradientSoftcapVector(
                    .load(y + i), .load(e + k), q.map { .load($0 + i) } ?? zero, w.map { .load($0 + i) } ?? zero, va,
                    vb, vd, vc, hasQ: hasQ, hasW: hasW
                ).store(y + i)
                k += 16
            }
            if k < len {
                let i = base + k, rest = len - k
                gradientSoftcapVector(
                    .load(y + i, count: rest, fill: 0), .load(e + k, count: rest, fill: 0),
                    q.map { .load($0 + i, count: rest, fill: 0) } ?? zero,
                    w.map { .load($0 + i, count: rest, fill: 0) } ?? zero, va, vb, vd, vc, hasQ: hasQ, hasW: hasW
                ).store(y + i, count: rest)
            }
            base += len
        }
    }
    // The label's term inside the chain factor: where p_t ≈ 1 the bracket cancels to ≈ 0 before the
    // (then tiny) factor multiplies it, as NUMERICS.md's chain rule reads.
    if label >= 0 {
        var e: Float = 0
        K.expMinus(1, &labelT, shift, &e, nil)
        let r = labelT / c
        var target: Float = smoothing ? d : 0
        if let q { target = q[label] * b + target }
        if let w { target = target * w[label] }
        y[label] = (e * a - target - labelTerm) * (1 - r * r)
    }
}
