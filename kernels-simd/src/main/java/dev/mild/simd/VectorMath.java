package dev.mild.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The transcendental lanes the SIMD kernel needs, written out in ordinary lane-wise operations (add, multiply,
 * fused multiply-add, integer shifts): the float exp loop and log loop of the logsumexp member, and the double
 * functions of the general member. Every method takes and fills arrays; none takes or returns a vector (see the
 * double lanes below for why).
 *
 * <p>Why not {@code VectorOperators.EXP}/{@code LOG}: on this JDK they call Intel SVML once C2 has compiled
 * the caller and a per-lane {@code Math.exp} before that, so the same inputs gave different bits on the first
 * call and after warm-up (659 of 65536 lanes differed in a measurement), which breaks the kernel's promise of
 * bit-identical results. They were also slower here: AVX-512, one thread, 4.36e9 exps/s for SVML against 5.34e9
 * for this class's exp2 in the same loop (bench/report.sh, 2026-12-01 11:01 UTC). Everything below uses
 * only IEEE basic operations and {@code fma}, which give the same bits compiled or interpreted.
 *
 * <p>Accuracy (maximum relative error, measured by {@code VectorMathTest} against {@link StrictMath} over the
 * ranges the kernel uses): float exp2 ({@link #exp2Groups}) 7.9e-8 (1.3 units of 2^-24) for {@code u} in [-126, 1],
 * float {@code log1p} 8.1e-8 for z in [1e-30, 1e6]; double exp, log, log1p 2.2e-16, softplus 3.8e-16,
 * expm1 4.3e-16. The float32 golden tolerance is 1e-5.
 */
final class VectorMath {
    private VectorMath() {
    }

    // 2^r on [-1/2, 1/2] as 1 + r q(r): relative-error minimax of degree 6 (Lawson's iteration on a Chebyshev
    // grid, kernels-simd/tools/exp2_minimax.py), error 2.0e-9 before float rounding.
    private static final float E1 = 0.6931471824645996f;
    private static final float E2 = 0.24022647738456726f;
    private static final float E3 = 0.055503323674201965f;
    private static final float E4 = 0.00961843691766262f;
    private static final float E5 = 0.0013398873852565885f;
    private static final float E6 = 0.00015353361959569156f;

    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer held in the low mantissa bits. */
    private static final float ROUND_F = 12582912f;
    /** 1.5 * 2^52, the same for doubles. */
    private static final double ROUND_D = 6755399441055744.0;

    private static final float LN2_HI_F = 0.693145751953125f;   // 12 significant bits: k * LN2_HI_F is exact
    private static final float LN2_LO_F = 1.4286067653e-06f;
    private static final double LN2_HI = 6.93147180369123816490e-01; // fdlibm's split of ln 2
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double LOG2E = 1.4426950408889634;

    private static final int SQRT_HALF_F_BITS = 0x3f3504f3;                 // sqrt(1/2) as float
    private static final long SQRT_HALF_D_BITS = 0x3fe6a09e667f3bcdL;       // sqrt(1/2) as double

    /**
     * The exp loop, for {@code count} softmaxes (groups) over the same inputs: {@code e[eOff + g length + i] =
     * 2^(d[i] scales[scaleOff + g])} for {@code i < length}, and the lane-wise sum of group g's vectors into
     * {@code sum[sumOff + g L .. + L)}. {@code length} is a multiple of L, and of 2L when count is odd; callers pad
     * with {@code -inf}, whose exp is 0. Two exps per iteration into two partial sums (measured 30% faster than
     * one): groups go through in pairs, and an odd last group as its two halves.
     *
     * <p>{@code 2^u} for {@code u <= 127}. Results below 2^-126 (the smallest normal float) are flushed towards
     * zero ({@code u <= -127} gives exactly 0, {@code -inf} included), which is harmless where this is used:
     * terms added to a sum that already holds 1. {@code u = n + r} with n the nearest integer and {@code |r| <=
     * 1/2} (exact in float), {@code 2^r} by the minimax polynomial, {@code 2^n} built in the exponent bits: 11
     * lane operations.
     *
     * <p>Written out once per stream rather than called with a vector (see the double lanes below for why not
     * vectors; through an array, one vector at a time, the kernel ran at 0.84x). All groups of a call in one
     * method: as a call per pair of groups, too large for C2 to inline into the kernel's block loop, the kernel
     * ran at 0.94x at p = 8 with distinct margins.
     */
    static void exp2Groups(float[] d, int length, float[] e, int eOff, float[] scales, int scaleOff,
                           float[] sum, int sumOff, int count) {
        int L = Species.L;
        assert length % L == 0 && (count % 2 == 0 || length % (2 * L) == 0) : "length " + length + ", count " + count;
        for (int g = 0; g < count; g += 2) {
            boolean pair = g + 1 < count;
            int each = pair ? length : length / 2;         // an odd last group: its two halves
            int dOff1 = pair ? 0 : each;
            int eOff0 = eOff + g * length;
            int eOff1 = pair ? eOff0 + length : eOff0 + each;
            float scale0 = scales[scaleOff + g];
            float scale1 = scales[scaleOff + (pair ? g + 1 : g)];
            FloatVector z0 = FloatVector.zero(Species.F);
            FloatVector z1 = z0;
            for (int i = 0; i < each; i += L) {
                FloatVector u0 = FloatVector.fromArray(Species.F, d, i).mul(scale0);
                FloatVector u1 = FloatVector.fromArray(Species.F, d, dOff1 + i).mul(scale1);
                // A compare and a blend: max() has Math.max's -0.0 and NaN rules, which cost C2 six instructions.
                u0 = u0.blend(V_MIN_EXP2, u0.lt(V_MIN_EXP2));
                u1 = u1.blend(V_MIN_EXP2, u1.lt(V_MIN_EXP2));
                FloatVector t0 = u0.add(V_ROUND_BIASED);
                FloatVector t1 = u1.add(V_ROUND_BIASED);
                FloatVector r0 = u0.sub(t0.sub(V_ROUND_BIASED));
                FloatVector r1 = u1.sub(t1.sub(V_ROUND_BIASED));
                // The low bits of t hold n + 127 (the bits above them shift out): << 23 is 2^n, 0 when n = -127.
                FloatVector e0 = r0.fma(V_E6, V_E5).fma(r0, V_E4).fma(r0, V_E3).fma(r0, V_E2).fma(r0, V_E1)
                        .fma(r0, V_ONE).mul(t0.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
                FloatVector e1 = r1.fma(V_E6, V_E5).fma(r1, V_E4).fma(r1, V_E3).fma(r1, V_E2).fma(r1, V_E1)
                        .fma(r1, V_ONE).mul(t1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
                e0.intoArray(e, eOff0 + i);
                e1.intoArray(e, eOff1 + i);
                z0 = z0.add(e0);
                z1 = z1.add(e1);
            }
            if (pair) {
                z0.intoArray(sum, sumOff + g * L);
                z1.intoArray(sum, sumOff + (g + 1) * L);
            } else {
                z0.add(z1).intoArray(sum, sumOff + g * L);
            }
        }
    }

    // exp2's constants as vectors: C2 folds static final vectors into constant loads, which keeps the
    // compiled graph of the exp loop small (C2 stops inlining past a node budget).
    private static final FloatVector V_MIN_EXP2 = FloatVector.broadcast(Species.F, -127f);
    /**
     * 1.5 * 2^23 + 127, exact in float: {@code u + this} rounds u to the nearest integer n and holds n + 127 in
     * its low mantissa bits, so 2^n is those bits shifted into the exponent, without adding the bias.
     */
    private static final FloatVector V_ROUND_BIASED = FloatVector.broadcast(Species.F, ROUND_F + 127f);
    private static final FloatVector V_E1 = FloatVector.broadcast(Species.F, E1);
    private static final FloatVector V_E2 = FloatVector.broadcast(Species.F, E2);
    private static final FloatVector V_E3 = FloatVector.broadcast(Species.F, E3);
    private static final FloatVector V_E4 = FloatVector.broadcast(Species.F, E4);
    private static final FloatVector V_E5 = FloatVector.broadcast(Species.F, E5);
    private static final FloatVector V_E6 = FloatVector.broadcast(Species.F, E6);
    private static final FloatVector V_ONE = FloatVector.broadcast(Species.F, 1f);

    /**
     * {@code out[i] = log(1 + z[i])} and {@code inverse[i] = 1 / u} with {@code u = 1 + z[i]} rounded, for
     * {@code i < length} (a multiple of L) and {@code 0 <= z < 2^24}, in float lanes: a softmax's {@code log Z} and
     * the {@code 1/Z} its gradient needs, from {@code zRest = Z - 1}. Exact for tiny z (the rounding of u is
     * corrected), so {@code log Z} keeps its digits when the winner dominates. A loop over arrays, not a function
     * of vectors, for the reason given at the double lanes below; the logs of a batch of softmaxes are
     * independent, so the CPU overlaps their divisions.
     *
     * <pre>
     *   u = 2^k (1 + f),  sqrt(1/2) &lt;= 1 + f &lt; sqrt(2)
     *   log(1 + f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R(s^2))),  s = f / (2 + f)
     *   log(1 + z) = k ln2 + log(1 + f) + (z - (u - 1)) / u
     * </pre>
     * R is the atanh series to {@code s^9} (truncation below 2e-9 relative).
     */
    static void log1p(float[] z, float[] out, float[] inverse, int length) {
        for (int i = 0; i < length; i += Species.L) {
            FloatVector zi = FloatVector.fromArray(Species.F, z, i);
            FloatVector u = zi.add(1f);
            FloatVector invU = u.broadcast(1f).div(u);
            IntVector ix = ((IntVector) u.reinterpretAsInts()).sub(SQRT_HALF_F_BITS);
            IntVector k = ix.lanewise(VectorOperators.ASHR, 23);
            FloatVector m = ix.and(0x007fffff).add(SQRT_HALF_F_BITS).reinterpretAsFloats();
            FloatVector f = m.sub(1f);
            FloatVector s = f.div(f.add(2f));
            FloatVector s2 = s.mul(s);
            FloatVector r = s2.fma(2f / 9, 2f / 7);
            r = r.fma(s2, s2.broadcast(2f / 5));
            r = r.fma(s2, s2.broadcast(2f / 3));
            r = r.mul(s2);
            FloatVector hfsq = f.mul(f).mul(0.5f);
            FloatVector kf = (FloatVector) k.convert(VectorOperators.I2F, 0);
            FloatVector corr = zi.sub(u.sub(1f)).mul(invU);
            FloatVector low = s.fma(hfsq.add(r), kf.fma(kf.broadcast(LN2_LO_F), corr));
            invU.intoArray(inverse, i);
            kf.fma(kf.broadcast(LN2_HI_F), f.sub(hfsq.sub(low))).intoArray(out, i);
        }
    }

    // ---- double lanes, for the general member of the family (nu != 1 or delta != 0) -------------------------
    //
    // These pass arrays, never vectors: each reads one vector of Species.D lanes at {@code off} and writes one.
    // C2 boxes a vector on the heap when it passes it to a method it did not inline, and whether it inlines a
    // call depends on how large the compile the call lands in has grown (a node budget), which depends on the
    // order compilations finish in. A helper that took vectors left some JVMs allocating on every call of the
    // general member and others not (SteadyStateAllocationTest); a call that passes arrays costs a plain call
    // at worst. So each function below is written out in one method, and composite ones call others through
    // arrays.

    /**
     * {@code out = e^x} in double lanes ({@code out} may be {@code x}): {@code x = n ln2 + r} (Cody-Waite,
     * {@code |r| <= ln2/2}), Taylor series of {@code e^r} to degree 13 (truncation 4e-18) by Horner, {@code 2^n}
     * in the exponent bits. Overflows to +inf above ~709.7; below ~-708.4 flushes towards 0 ({@code -inf} gives 0).
     */
    static void exp(double[] x, double[] out, int off) {
        DoubleVector v = DoubleVector.fromArray(Species.D, x, off);
        v = v.blend(-709.0, v.lt(-709.0)); // not max/min: see exp2Groups
        v = v.blend(709.8, v.compare(VectorOperators.GT, 709.8));
        DoubleVector t = v.fma(LOG2E, ROUND_D);
        DoubleVector n = t.sub(ROUND_D);
        DoubleVector r = n.fma(n.broadcast(-LN2_HI), v);
        r = n.fma(n.broadcast(-LN2_LO), r);
        DoubleVector q = r.fma(F13, F12);
        q = q.fma(r, F11);
        q = q.fma(r, F10);
        q = q.fma(r, F9);
        q = q.fma(r, F8);
        q = q.fma(r, F7);
        q = q.fma(r, F6);
        q = q.fma(r, F5);
        q = q.fma(r, F4);
        q = q.fma(r, F3);
        q = q.fma(r, F2);
        q = q.fma(r, F1);
        q = q.fma(r, F0);
        DoubleVector scale = ((LongVector) t.reinterpretAsLongs()).add(1023L).lanewise(VectorOperators.LSHL, 52)
                .reinterpretAsDoubles();
        q.mul(scale).intoArray(out, off);
    }

    // Polynomial coefficients as constant vectors (C2 folds static final vectors into constant loads): fewer
    // graph nodes than a broadcast per use, which keeps each compiled method within the node budget past
    // which C2 stops inlining.
    private static final DoubleVector F0 = inverseFactorial(0);
    private static final DoubleVector F1 = inverseFactorial(1);
    private static final DoubleVector F2 = inverseFactorial(2);
    private static final DoubleVector F3 = inverseFactorial(3);
    private static final DoubleVector F4 = inverseFactorial(4);
    private static final DoubleVector F5 = inverseFactorial(5);
    private static final DoubleVector F6 = inverseFactorial(6);
    private static final DoubleVector F7 = inverseFactorial(7);
    private static final DoubleVector F8 = inverseFactorial(8);
    private static final DoubleVector F9 = inverseFactorial(9);
    private static final DoubleVector F10 = inverseFactorial(10);
    private static final DoubleVector F11 = inverseFactorial(11);
    private static final DoubleVector F12 = inverseFactorial(12);
    private static final DoubleVector F13 = inverseFactorial(13);
    private static final DoubleVector F14 = inverseFactorial(14);
    private static final DoubleVector V_LN2_HI = DoubleVector.broadcast(Species.D, LN2_HI);
    private static final DoubleVector V_LN2_LO = DoubleVector.broadcast(Species.D, LN2_LO);
    private static final DoubleVector A1 = DoubleVector.broadcast(Species.D, 2.0 / 3);
    private static final DoubleVector A2 = DoubleVector.broadcast(Species.D, 2.0 / 5);
    private static final DoubleVector A3 = DoubleVector.broadcast(Species.D, 2.0 / 7);
    private static final DoubleVector A4 = DoubleVector.broadcast(Species.D, 2.0 / 9);
    private static final DoubleVector A5 = DoubleVector.broadcast(Species.D, 2.0 / 11);
    private static final DoubleVector A6 = DoubleVector.broadcast(Species.D, 2.0 / 13);
    private static final DoubleVector A7 = DoubleVector.broadcast(Species.D, 2.0 / 15);
    private static final DoubleVector A8 = DoubleVector.broadcast(Species.D, 2.0 / 17);
    private static final DoubleVector A9 = DoubleVector.broadcast(Species.D, 2.0 / 19);
    private static final DoubleVector A10 = DoubleVector.broadcast(Species.D, 2.0 / 21);

    private static DoubleVector inverseFactorial(int n) {
        double f = 1.0;
        for (int i = 2; i <= n; i++) {
            f *= i;
        }
        return DoubleVector.broadcast(Species.D, 1.0 / f);
    }

    /**
     * {@code out = e^x - 1} in double lanes, {@code out} not {@code x}: the Taylor series without its constant
     * term where {@code |x| < ln2/2} (no cancellation near 0), {@code exp(x) - 1} elsewhere.
     */
    static void expm1(double[] x, double[] out, int off) {
        exp(x, out, off);
        DoubleVector v = DoubleVector.fromArray(Species.D, x, off);
        DoubleVector q = v.fma(F14, F13);
        q = q.fma(v, F12);
        q = q.fma(v, F11);
        q = q.fma(v, F10);
        q = q.fma(v, F9);
        q = q.fma(v, F8);
        q = q.fma(v, F7);
        q = q.fma(v, F6);
        q = q.fma(v, F5);
        q = q.fma(v, F4);
        q = q.fma(v, F3);
        q = q.fma(v, F2);
        DoubleVector small = q.mul(v).fma(v, v);
        VectorMask<Double> isSmall = v.abs().lt(0.34657359027997264);
        DoubleVector.fromArray(Species.D, out, off).sub(1.0).blend(small, isSmall).intoArray(out, off);
    }

    /** {@code out = log(x)} in double lanes for normal {@code x > 0}; {@code x == 0} gives {@code -inf}. */
    static void log(double[] x, double[] out, int off) {
        logOf(x, false, out, off);
    }

    /** {@code out = log(1 + v)} in double lanes for {@code 0 <= v < 2^52}, exact for tiny v. */
    static void log1p(double[] v, double[] out, int off) {
        logOf(v, true, out, off);
    }

    /**
     * {@code log(u) + corr} with {@code u = x} ({@code corr = 0}) or {@code u = 1 + x} rounded ({@code corr
     * = (x - (u - 1)) / u}, the rounding of u corrected). {@code u = 2^k (1 + f)} with {@code sqrt(1/2) <= 1 + f
     * < sqrt(2)}; {@code log(1 + f)} by the atanh series in {@code s = f/(2+f)} to {@code s^21} (truncation below
     * 1e-18 relative), arranged as in fdlibm so that the leading {@code f} is added last. The two cases differ by
     * blends, not branches, so the method holds no vector that depends on control flow wherever C2 compiles it.
     */
    private static void logOf(double[] x, boolean onePlus, double[] out, int off) {
        DoubleVector v = DoubleVector.fromArray(Species.D, x, off);
        DoubleVector u = v.add(onePlus ? 1.0 : 0.0);
        DoubleVector corr = v.sub(u.sub(1.0)).div(u).blend(0.0, Species.D.maskAll(!onePlus));
        LongVector ix = ((LongVector) u.reinterpretAsLongs()).sub(SQRT_HALF_D_BITS);
        DoubleVector f = ix.and(0x000fffffffffffffL).add(SQRT_HALF_D_BITS).reinterpretAsDoubles().sub(1.0);
        // k shifted with a bias so the shift is logical, and converted through the 1.5 * 2^52 trick, because
        // AVX2 has neither a 64-bit arithmetic shift nor a long-to-double conversion.
        DoubleVector kd = ix.add(1023L << 52).lanewise(VectorOperators.LSHR, 52).add(Double.doubleToRawLongBits(ROUND_D))
                .reinterpretAsDoubles().sub(ROUND_D + 1023.0);
        DoubleVector s = f.div(f.add(2.0));
        DoubleVector z = s.mul(s);
        // One chain, not a statement per step: fewer bytecodes keep this method under C2's size limit for
        // inlining a hot call (FreqInlineSize, 325 bytes), so log and log1p inline it.
        DoubleVector r = z.fma(A10, A9).fma(z, A8).fma(z, A7).fma(z, A6).fma(z, A5).fma(z, A4).fma(z, A3).fma(z, A2)
                .fma(z, A1).mul(z);
        DoubleVector hfsq = f.mul(f).mul(0.5);
        DoubleVector low = s.fma(hfsq.add(r), kd.fma(V_LN2_LO, corr));
        kd.fma(V_LN2_HI, f.sub(hfsq.sub(low))).blend(Double.NEGATIVE_INFINITY, u.eq(0.0)).intoArray(out, off);
    }

    /**
     * {@code out = log(1 + e^y) = max(y, 0) + log1p(e^-|y|)} ({@code out} may be {@code y}), and {@code tmp =
     * log1p(e^-|y|)}, the tail, which CompSum's gradient exponent uses: no overflow, {@code softplus(-inf) = 0}.
     */
    static void softplus(double[] y, double[] tmp, double[] out, int off) {
        DoubleVector.fromArray(Species.D, y, off).abs().neg().intoArray(tmp, off);
        exp(tmp, tmp, off);
        log1p(tmp, tmp, off);
        DoubleVector yv = DoubleVector.fromArray(Species.D, y, off);
        yv.blend(0.0, yv.lt(0.0)).add(DoubleVector.fromArray(Species.D, tmp, off)).intoArray(out, off);
    }
}
