// One config of micro-kernels per ISA: the C ones (AVX-512F, AVX2, SSE2) from the shim, the Swift
// ones (AdvSIMD, the portable fallback) built here as `@convention(c)` functions in the same
// struct, so the row driver calls every ISA's kernels the same way.
import CXent

enum MicroKernels {
    /// The micro-kernels of `isa` (which must be supported).
    static func config(_ isa: xent_isa) -> xent_ukernel_config {
        if let c = xent_ukernel_config_get(isa) { return c.pointee }
        #if arch(arm64)
        if isa == XENT_ISA_ADVSIMD { return advsimd }
        #endif
        return portable
    }

    #if arch(arm64)
    static let advsimd = xent_ukernel_config(
        isa: XENT_ISA_ADVSIMD,
        rmax: { n, x, m in m!.pointee = rmaxKernel(n, x!) },
        rfindeq: { n, x, value in rfindeqKernel(n, x!, value) },
        raddstoreexpminusmax: { n, x, shift, q, y, mark, sums, prefetchLimit in
            raddstoreexpminusmaxKernel(AdvSIMDKernels.self, n, x!, shift, q, y, mark != 0, sums!, prefetchLimit)
        },
        rsumtargets: { n, x, shift, q, w, smoothing, sums in
            rsumtargetsKernel(AdvSIMDKernels.self, n, x!, shift, q, w, smoothing != 0, sums!)
        },
        vtransform: { n, x, t, s, c in vtransformKernel(AdvSIMDKernels.self, n, x!, t!, s, c) },
        vgradient: { n, y, q, w, smoothing, a, b, d in vgradientKernel(n, y!, q, w, smoothing != 0, a, b, d) },
        vgradientsoftcap: { n, y, q, w, smoothing, shift, a, b, d, c, label, labelTerm in
            vgradientsoftcapKernel(
                AdvSIMDKernels.self, n, y!, q, w, smoothing != 0, shift, a, b, d, c, Int(label), labelTerm)
        },
        f16_widen: { n, src, dst, _ in f16WidenKernel(n, src!, dst!) },
        f16_round: { n, src, dst, _ in f16RoundKernel(n, src!, dst!) },
        bf16_widen: { n, src, dst, _ in bf16WidenKernel(n, src!, dst!) },
        bf16_round: { n, src, dst, _ in bf16RoundKernel(n, src!, dst!) },
        f16_rmaxwiden: nil, f16_vgradientround: nil, bf16_rmaxwiden: nil, bf16_vgradientround: nil, u16_rfindeq: nil,
        f16_raddstoreexpminusmax: nil, bf16_raddstoreexpminusmax: nil, raddexpminusmax_rmaxnext: nil,
        f16_raddexpminusmax_rmaxnext: nil, bf16_raddexpminusmax_rmaxnext: nil, raddstoreexpscaledminusmax: nil,
        raddexpscaledminusmax_rmaxnext: nil, raddstoreexpminusmax_targets: nil, vtransform_rmax: nil)
    #endif

    static let portable = xent_ukernel_config(
        isa: XENT_ISA_SCALAR,
        rmax: { n, x, m in m!.pointee = rmaxKernel(n, x!) },
        rfindeq: { n, x, value in rfindeqKernel(n, x!, value) },
        raddstoreexpminusmax: { n, x, shift, q, y, mark, sums, prefetchLimit in
            raddstoreexpminusmaxKernel(PortableKernels.self, n, x!, shift, q, y, mark != 0, sums!, prefetchLimit)
        },
        rsumtargets: { n, x, shift, q, w, smoothing, sums in
            rsumtargetsKernel(PortableKernels.self, n, x!, shift, q, w, smoothing != 0, sums!)
        },
        vtransform: { n, x, t, s, c in vtransformKernel(PortableKernels.self, n, x!, t!, s, c) },
        vgradient: { n, y, q, w, smoothing, a, b, d in vgradientKernel(n, y!, q, w, smoothing != 0, a, b, d) },
        vgradientsoftcap: { n, y, q, w, smoothing, shift, a, b, d, c, label, labelTerm in
            vgradientsoftcapKernel(
                PortableKernels.self, n, y!, q, w, smoothing != 0, shift, a, b, d, c, Int(label), labelTerm)
        },
        f16_widen: { n, src, dst, _ in f16WidenKernel(n, src!, dst!) },
        f16_round: { n, src, dst, _ in f16RoundKernel(n, src!, dst!) },
        bf16_widen: { n, src, dst, _ in bf16WidenKernel(n, src!, dst!) },
        bf16_round: { n, src, dst, _ in bf16RoundKernel(n, src!, dst!) },
        f16_rmaxwiden: nil, f16_vgradientround: nil, bf16_rmaxwiden: nil, bf16_vgradientround: nil, u16_rfindeq: nil,
        f16_raddstoreexpminusmax: nil, bf16_raddstoreexpminusmax: nil, raddexpminusmax_rmaxnext: nil,
        f16_raddexpminusmax_rmaxnext: nil, bf16_raddexpminusmax_rmaxnext: nil, raddstoreexpscaledminusmax: nil,
        raddexpscaledminusmax_rmaxnext: nil, raddstoreexpminusmax_targets: nil, vtransform_rmax: nil)

    /// `dst[i] = src[i]` widened to float for `i < n`, by the 16-bit micro-kernel of `isa`, which
    /// may prefetch `src` below `prefetchLimit` (CXent.h; `n` without one: only the elements given).
    static func widen(
        _ isa: xent_isa, _ format: xent_half_format, _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>,
        count n: Int, prefetchLimit: Int? = nil
    ) {
        let c = config(isa)
        (format == XENT_HALF_BFLOAT16 ? c.bf16_widen : c.f16_widen)!(n, src, dst, prefetchLimit ?? n)
    }

    /// `dst[i] = src[i]` rounded to 16 bits for `i < n`, by the 16-bit micro-kernel of `isa`, which
    /// may prefetch `dst` below `prefetchLimit` (as ``widen(_:_:_:_:count:prefetchLimit:)``).
    static func round(
        _ isa: xent_isa, _ format: xent_half_format, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>,
        count n: Int, prefetchLimit: Int? = nil
    ) {
        let c = config(isa)
        (format == XENT_HALF_BFLOAT16 ? c.bf16_round : c.f16_round)!(n, src, dst, prefetchLimit ?? n)
    }

    /// `y[i] = exp(x[i] − shift)` (when `y` is not nil) and their sum, by the `raddstoreexpminusmax`
    /// micro-kernel of `isa`, prefetching nothing past the `n` elements. `shift` must be finite.
    static func expMinusSum(
        _ isa: xent_isa, _ x: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>?, count n: Int, shift: Float
    ) -> Double {
        var sum = 0.0
        if n > 0, let x { config(isa).raddstoreexpminusmax!(n, x, shift, nil, y, 0, &sum, n) }
        return sum
    }
}
