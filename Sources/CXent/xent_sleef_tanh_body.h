// The body of xent_sleef_tanh_inline.h's tanh, written once for every register width: that header
// includes it once per width (AVX-512F and AVX2 on x86-64, AdvSIMD on arm64), after defining
//   XENT_TANH_V, XENT_TANH_VI     the float and int32 register types (__m512/__m512i, __m256/__m256i,
//                                 float32x4_t/int32x4_t)
//   XENT_TANH_OP(op)              the intrinsic of that width: _mm512_##op or _mm256_##op (AdvSIMD:
//                                 a macro per x86 name, the AdvSIMD operation with its rounding)
//   XENT_TANH_NAME(name)          a name with the width in it
//   XENT_TANH_FN                  the attributes of every function here (target, always_inline)
// and, as XENT_TANH_NAME(...) functions, the operations whose form differs between the widths:
// as_float (an int32 register's bits), abs, neg, zero_below_limit and finish (below).
// No include guard: included once per width.
//
// A transcription of SLEEF's code (src/libm/sleefsimdsp.c's xtanhf and expk2f, src/common/df.h):
// SLEEF is Copyright Naoki Shibata and contributors 2010 - 2020, distributed under the Boost
// Software License, Version 1.0, whose full text xent_sleef_exp_inline.h carries.

typedef struct {
    XENT_TANH_V hi[XENT_TANH_MAX_VECTORS], lo[XENT_TANH_MAX_VECTORS];
} XENT_TANH_NAME(df);

#define XENT_TANH_EACH(n) for (size_t k = 0; k < (n); k++)

// df.h's operations, FMA forms, on n double-floats (hi + lo) at once; the comment names each.
// dfadd2_vf2_vf2_vf(x, y): y a float per vector.
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(add2_f)(XENT_TANH_NAME(df) x, const XENT_TANH_V *y, size_t n) {
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V s = XENT_TANH_OP(add_ps)(x.hi[k], y[k]), v = XENT_TANH_OP(sub_ps)(s, x.hi[k]);
        const XENT_TANH_V t = XENT_TANH_OP(add_ps)(XENT_TANH_OP(sub_ps)(x.hi[k], XENT_TANH_OP(sub_ps)(s, v)),
                                                   XENT_TANH_OP(sub_ps)(y[k], v));
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(add_ps)(t, x.lo[k]);
    }
    return r;
}

// dfadd2_vf2_vf2_vf(x, c): c one constant.
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(add2_c)(XENT_TANH_NAME(df) x, float c, size_t n) {
    XENT_TANH_V y[XENT_TANH_MAX_VECTORS];
    XENT_TANH_EACH(n) y[k] = XENT_TANH_OP(set1_ps)(c);
    return XENT_TANH_NAME(add2_f)(x, y, n);
}

// dfadd2_vf2_vf2_vf2(x, y).
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(add2)(XENT_TANH_NAME(df) x, XENT_TANH_NAME(df) y, size_t n) {
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V s = XENT_TANH_OP(add_ps)(x.hi[k], y.hi[k]), v = XENT_TANH_OP(sub_ps)(s, x.hi[k]);
        const XENT_TANH_V t = XENT_TANH_OP(add_ps)(XENT_TANH_OP(sub_ps)(x.hi[k], XENT_TANH_OP(sub_ps)(s, v)),
                                                   XENT_TANH_OP(sub_ps)(y.hi[k], v));
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(add_ps)(t, XENT_TANH_OP(add_ps)(x.lo[k], y.lo[k]));
    }
    return r;
}

// dfadd_vf2_vf2_vf2(x, y) (|x| ≥ |y|): the low part summed left to right, as vadd_vf_4vf does.
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(add)(XENT_TANH_NAME(df) x, XENT_TANH_NAME(df) y, size_t n) {
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V s = XENT_TANH_OP(add_ps)(x.hi[k], y.hi[k]);
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(add_ps)(
            XENT_TANH_OP(add_ps)(XENT_TANH_OP(add_ps)(XENT_TANH_OP(sub_ps)(x.hi[k], s), y.hi[k]), x.lo[k]), y.lo[k]);
    }
    return r;
}

// dfadd_vf2_vf_vf2(1, x).
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(one_plus)(XENT_TANH_NAME(df) x, size_t n) {
    const XENT_TANH_V one = XENT_TANH_OP(set1_ps)(1.0f);
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V s = XENT_TANH_OP(add_ps)(one, x.hi[k]);
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(add_ps)(XENT_TANH_OP(add_ps)(XENT_TANH_OP(sub_ps)(one, s), x.hi[k]), x.lo[k]);
    }
    return r;
}

// dfmul_vf2_vf2_vf(x, y).
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(mul_f)(XENT_TANH_NAME(df) x, const XENT_TANH_V *y, size_t n) {
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V s = XENT_TANH_OP(mul_ps)(x.hi[k], y[k]);
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(fmadd_ps)(x.lo[k], y[k], XENT_TANH_OP(fmsub_ps)(x.hi[k], y[k], s));
    }
    return r;
}

// dfmul_vf2_vf2_vf2(x, y).
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(mul)(XENT_TANH_NAME(df) x, XENT_TANH_NAME(df) y, size_t n) {
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V s = XENT_TANH_OP(mul_ps)(x.hi[k], y.hi[k]);
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(fmadd_ps)(
            x.hi[k], y.lo[k],
            XENT_TANH_OP(fmadd_ps)(x.lo[k], y.hi[k], XENT_TANH_OP(fmsub_ps)(x.hi[k], y.hi[k], s)));
    }
    return r;
}

// dfsqu_vf2_vf2(x).
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(square)(XENT_TANH_NAME(df) x, size_t n) {
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V s = XENT_TANH_OP(mul_ps)(x.hi[k], x.hi[k]);
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(fmadd_ps)(XENT_TANH_OP(add_ps)(x.hi[k], x.hi[k]), x.lo[k],
                                         XENT_TANH_OP(fmsub_ps)(x.hi[k], x.hi[k], s));
    }
    return r;
}

// dfrec_vf2_vf2(d).
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(reciprocal)(XENT_TANH_NAME(df) d, size_t n) {
    const XENT_TANH_V one = XENT_TANH_OP(set1_ps)(1.0f);
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V s = XENT_TANH_OP(div_ps)(one, d.hi[k]);
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(mul_ps)(
            s, XENT_TANH_OP(fnmadd_ps)(d.lo[k], s, XENT_TANH_OP(fnmadd_ps)(d.hi[k], s, one)));
    }
    return r;
}

// dfdiv_vf2_vf2_vf2(a, d).
XENT_TANH_FN XENT_TANH_NAME(df) XENT_TANH_NAME(divide)(XENT_TANH_NAME(df) a, XENT_TANH_NAME(df) d, size_t n) {
    const XENT_TANH_V one = XENT_TANH_OP(set1_ps)(1.0f);
    XENT_TANH_NAME(df) r;
    XENT_TANH_EACH(n) {
        const XENT_TANH_V t = XENT_TANH_OP(div_ps)(one, d.hi[k]);
        const XENT_TANH_V s = XENT_TANH_OP(mul_ps)(a.hi[k], t), u = XENT_TANH_OP(fmsub_ps)(t, a.hi[k], s);
        const XENT_TANH_V v = XENT_TANH_OP(fnmadd_ps)(d.lo[k], t, XENT_TANH_OP(fnmadd_ps)(d.hi[k], t, one));
        r.hi[k] = s;
        r.lo[k] = XENT_TANH_OP(fmadd_ps)(s, v, XENT_TANH_OP(fmadd_ps)(a.lo[k], t, u));
    }
    return r;
}

// vldexp2_vf_vf_vi2(d, q): d·2^(q>>1)·2^(q−(q>>1)), each factor a power of two built in the
// exponent field.
XENT_TANH_FN XENT_TANH_V XENT_TANH_NAME(ldexp2)(XENT_TANH_V d, XENT_TANH_VI q) {
    const XENT_TANH_VI half = XENT_TANH_OP(srai_epi32)(q, 1), one = XENT_TANH_OP(set1_epi32)(0x3f800000);
    d = XENT_TANH_OP(mul_ps)(
        d, XENT_TANH_NAME(as_float)(XENT_TANH_OP(add_epi32)(XENT_TANH_OP(slli_epi32)(half, 23), one)));
    return XENT_TANH_OP(mul_ps)(d, XENT_TANH_NAME(as_float)(XENT_TANH_OP(add_epi32)(
                                       XENT_TANH_OP(slli_epi32)(XENT_TANH_OP(sub_epi32)(q, half), 23), one)));
}

/// v[k] = tanh(v[k]) for k < n (1 ≤ n ≤ XENT_TANH_MAX_VECTORS), SLEEF's xtanhf bit for bit. The n
/// vectors go through each step together: independent chains the core overlaps.
XENT_TANH_FN void XENT_TANH_NAME(tanh)(XENT_TANH_V *v, size_t n) {
    // SLEEF's names: y = |x| (here abs_x); d the double-float argument of expk2f, then its result
    // (here e); e = 1/d (here r); the quotient d (here t).
    XENT_TANH_V abs_x[XENT_TANH_MAX_VECTORS], u[XENT_TANH_MAX_VECTORS];
    // −q·log 2 in two parts: q·(−L2U) (exact in float) and q·(−L2L).
    XENT_TANH_V minus_q_log2_hi[XENT_TANH_MAX_VECTORS], minus_q_log2_lo[XENT_TANH_MAX_VECTORS];
    XENT_TANH_VI q[XENT_TANH_MAX_VECTORS];
    XENT_TANH_NAME(df) d;
    // expk2f(|x| + 0): q = rint(d·(1/log 2)) as SLEEF's vrint_vi2_vf rounds it — on x86 in MXCSR's
    // mode (vcvtps2dq), on AdvSIMD to nearest even in every mode (vrndnq) — and s = d − q·log 2.
    XENT_TANH_EACH(n) {
        abs_x[k] = XENT_TANH_NAME(abs)(v[k]);
        d.hi[k] = abs_x[k];
        d.lo[k] = XENT_TANH_OP(setzero_ps)();
        q[k] = XENT_TANH_OP(cvtps_epi32)(
            XENT_TANH_OP(mul_ps)(XENT_TANH_OP(add_ps)(d.hi[k], d.lo[k]), XENT_TANH_OP(set1_ps)(XENT_LOG2E)));
        const XENT_TANH_V qf = XENT_TANH_OP(cvtepi32_ps)(q[k]);
        minus_q_log2_hi[k] = XENT_TANH_OP(mul_ps)(qf, XENT_TANH_OP(set1_ps)(-0.693145751953125f));
        minus_q_log2_lo[k] = XENT_TANH_OP(mul_ps)(qf, XENT_TANH_OP(set1_ps)(-1.428606765330187045e-06f));
    }
    XENT_TANH_NAME(df) s =
        XENT_TANH_NAME(add2_f)(XENT_TANH_NAME(add2_f)(d, minus_q_log2_hi, n), minus_q_log2_lo, n);
    XENT_TANH_EACH(n) {
        XENT_TANH_V p = XENT_TANH_OP(set1_ps)(+0.1980960224e-3f);
        p = XENT_TANH_OP(fmadd_ps)(p, s.hi[k], XENT_TANH_OP(set1_ps)(+0.1394256484e-2f));
        p = XENT_TANH_OP(fmadd_ps)(p, s.hi[k], XENT_TANH_OP(set1_ps)(+0.8333456703e-2f));
        u[k] = XENT_TANH_OP(fmadd_ps)(p, s.hi[k], XENT_TANH_OP(set1_ps)(+0.4166637361e-1f));
    }
    XENT_TANH_NAME(df) e = XENT_TANH_NAME(add2_c)(XENT_TANH_NAME(mul_f)(s, u, n),
                                                  +0.166666659414234244790680580464e+0f, n);
    e = XENT_TANH_NAME(add2_c)(XENT_TANH_NAME(mul)(s, e, n), 0.5f, n);
    e = XENT_TANH_NAME(add2)(s, XENT_TANH_NAME(mul)(XENT_TANH_NAME(square)(s, n), e, n), n);
    e = XENT_TANH_NAME(one_plus)(e, n);
    XENT_TANH_EACH(n) {
        e.hi[k] = XENT_TANH_NAME(ldexp2)(e.hi[k], q[k]);
        e.lo[k] = XENT_TANH_NAME(ldexp2)(e.lo[k], q[k]);
        XENT_TANH_NAME(zero_below_limit)(&e.hi[k], &e.lo[k], d.hi[k]);
    }
    // tanh = (e − 1/e) / (e + 1/e) in double-float, then its limits.
    const XENT_TANH_NAME(df) r = XENT_TANH_NAME(reciprocal)(e, n);
    XENT_TANH_NAME(df) minus_r;
    XENT_TANH_EACH(n) {
        minus_r.hi[k] = XENT_TANH_NAME(neg)(r.hi[k]);
        minus_r.lo[k] = XENT_TANH_NAME(neg)(r.lo[k]);
    }
    const XENT_TANH_NAME(df) t =
        XENT_TANH_NAME(divide)(XENT_TANH_NAME(add)(e, minus_r, n), XENT_TANH_NAME(add)(e, r, n), n);
    XENT_TANH_EACH(n) v[k] = XENT_TANH_NAME(finish)(XENT_TANH_OP(add_ps)(t.hi[k], t.lo[k]), abs_x[k], v[k]);
}

#undef XENT_TANH_EACH
