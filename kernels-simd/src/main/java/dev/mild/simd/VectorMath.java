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
 * fused multiply-add, integer shifts) of whatever species the arguments have.
 *
 * <p>Why not {@code VectorOperators.EXP}/{@code LOG}: on this JDK they call Intel SVML once C2 has compiled
 * the caller and a per-lane {@code Math.exp} before that, so the same inputs gave different bits on the first
 * call and after warm-up (659 of 65536 lanes differed in a measurement), which breaks the kernel's promise of
 * bit-identical results. They were also no faster here: AVX-512, one thread, ~2.9e9 exp/s for SVML against
 * ~2.9e9 for {@link #exp2} (see the README's performance section). Everything below uses only IEEE basic
 * operations and {@code fma}, which give the same bits compiled or interpreted.
 *
 * <p>Accuracy (maximum relative error, measured by {@code VectorMathTest} against {@link StrictMath} over the
 * ranges the kernel uses): float {@link #exp2} 7.9e-8 (1.3 units of 2^-24) for {@code u} in [-126, 1],
 * float {@link #log1p} 8.1e-8 for z in [1e-30, 1e6]; double exp, log, log1p 2.2e-16, softplus 3.8e-16,
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

    static final float LOG2E_F = 1.4426950408889634f;
    private static final float LN2_HI_F = 0.693145751953125f;   // 12 significant bits: k * LN2_HI_F is exact
    private static final float LN2_LO_F = 1.4286067653e-06f;
    private static final double LN2_HI = 6.93147180369123816490e-01; // fdlibm's split of ln 2
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double LOG2E = 1.4426950408889634;

    private static final int SQRT_HALF_F_BITS = 0x3f3504f3;                 // sqrt(1/2) as float
    private static final long SQRT_HALF_D_BITS = 0x3fe6a09e667f3bcdL;       // sqrt(1/2) as double

    /**
     * {@code 2^u} for {@code u <= 127}, in float lanes. Results below 2^-126 (the smallest normal float) are
     * flushed towards zero ({@code u <= -127} gives exactly 0, {@code -inf} included), which is harmless
     * where this is used: terms added to a sum that already holds 1.
     *
     * <p>{@code u = n + r} with n the nearest integer and {@code |r| <= 1/2} (exact in float), {@code 2^r} by the
     * minimax polynomial, {@code 2^n} built in the exponent bits: 12 lane operations.
     */
    static FloatVector exp2(FloatVector u) {
        // A compare and a blend: max() has Math.max's -0.0 and NaN rules, which cost C2 six instructions.
        u = u.blend(V_MIN_EXP2, u.lt(V_MIN_EXP2));
        FloatVector t = u.add(V_ROUND_F);
        FloatVector r = u.sub(t.sub(V_ROUND_F));
        FloatVector q = r.fma(V_E6, V_E5);
        q = q.fma(r, V_E4);
        q = q.fma(r, V_E3);
        q = q.fma(r, V_E2);
        q = q.fma(r, V_E1);
        q = q.fma(r, V_ONE);
        // The low bits of t hold n; (n + 127) << 23 is 2^n, and 0 when n = -127.
        FloatVector scale = ((IntVector) t.reinterpretAsInts()).add(V_BIAS).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return q.mul(scale);
    }

    // exp2's constants as vectors: C2 folds static final vectors into constant loads, which keeps the
    // compiled graph of a loop with two inlined exp2 small enough that C2 keeps inlining (it stops at a node
    // budget, and then boxes every vector it passes to a call).
    private static final FloatVector V_MIN_EXP2 = FloatVector.broadcast(Species.F, -127f);
    private static final FloatVector V_ROUND_F = FloatVector.broadcast(Species.F, ROUND_F);
    private static final FloatVector V_E1 = FloatVector.broadcast(Species.F, E1);
    private static final FloatVector V_E2 = FloatVector.broadcast(Species.F, E2);
    private static final FloatVector V_E3 = FloatVector.broadcast(Species.F, E3);
    private static final FloatVector V_E4 = FloatVector.broadcast(Species.F, E4);
    private static final FloatVector V_E5 = FloatVector.broadcast(Species.F, E5);
    private static final FloatVector V_E6 = FloatVector.broadcast(Species.F, E6);
    private static final FloatVector V_ONE = FloatVector.broadcast(Species.F, 1f);
    private static final IntVector V_BIAS = IntVector.broadcast(VectorSpecies.of(int.class, Species.F.vectorShape()), 127);

    /**
     * {@code log(1 + z)} for {@code 0 <= z < 2^24}, in float lanes, given {@code u = 1 + z} (rounded) and
     * {@code invU = 1 / u}, which the caller needs anyway ({@code Z} and {@code 1/Z} of a softmax). Exact
     * for tiny z (the rounding of u is corrected), so {@code log Z} keeps its digits when the winner dominates.
     *
     * <pre>
     *   u = 2^k (1 + f),  sqrt(1/2) &lt;= 1 + f &lt; sqrt(2)
     *   log(1 + f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R(s^2))),  s = f / (2 + f)
     *   log(1 + z) = k ln2 + log(1 + f) + (z - (u - 1)) / u
     * </pre>
     * R is the atanh series to {@code s^9} (truncation below 2e-9 relative).
     */
    static FloatVector log1p(FloatVector z, FloatVector u, FloatVector invU) {
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
        FloatVector corr = z.sub(u.sub(1f)).mul(invU);
        FloatVector low = s.fma(hfsq.add(r), kf.fma(kf.broadcast(LN2_LO_F), corr));
        return kf.fma(kf.broadcast(LN2_HI_F), f.sub(hfsq.sub(low)));
    }

    // ---- double lanes, for the general member of the family (nu != 1 or delta != 0) -------------------------

    /**
     * {@code e^x} in double lanes: {@code x = n ln2 + r} (Cody-Waite, {@code |r| <= ln2/2}), Taylor series of
     * {@code e^r} to degree 13 (truncation 4e-18), {@code 2^n} in the exponent bits. Overflows to +inf above
     * ~709.7; below ~-708.4 flushes towards 0 ({@code -inf} gives 0).
     */
    static DoubleVector exp(DoubleVector x) {
        x = x.blend(-709.0, x.lt(-709.0)); // not max/min: see exp2
        x = x.blend(709.8, x.compare(VectorOperators.GT, 709.8));
        DoubleVector t = x.fma(LOG2E, ROUND_D);
        DoubleVector n = t.sub(ROUND_D);
        DoubleVector r = n.fma(n.broadcast(-LN2_HI), x);
        r = n.fma(n.broadcast(-LN2_LO), r);
        DoubleVector q = expTaylor(r);
        DoubleVector scale = ((LongVector) t.reinterpretAsLongs()).add(1023L).lanewise(VectorOperators.LSHL, 52)
                .reinterpretAsDoubles();
        return q.mul(scale);
    }

    /** {@code sum_{i=0..13} r^i / i!} by Horner. */
    private static DoubleVector expTaylor(DoubleVector r) {
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
        return q.fma(r, F0);
    }

    // Polynomial coefficients as constant vectors (C2 folds static final vectors into constant loads): fewer
    // graph nodes than a broadcast per use, which keeps each compiled method within the node budget past
    // which C2 stops inlining vector calls and boxes their arguments.
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
     * {@code e^x - 1} in double lanes: the Taylor series without its constant term where {@code |x| < ln2/2}
     * (no cancellation near 0), {@code exp(x) - 1} elsewhere.
     */
    static DoubleVector expm1(DoubleVector x) {
        DoubleVector q = x.fma(F14, F13);
        q = q.fma(x, F12);
        q = q.fma(x, F11);
        q = q.fma(x, F10);
        q = q.fma(x, F9);
        q = q.fma(x, F8);
        q = q.fma(x, F7);
        q = q.fma(x, F6);
        q = q.fma(x, F5);
        q = q.fma(x, F4);
        q = q.fma(x, F3);
        q = q.fma(x, F2);
        DoubleVector small = q.mul(x).fma(x, x);
        VectorMask<Double> isSmall = x.abs().lt(0.34657359027997264);
        return exp(x).sub(1.0).blend(small, isSmall);
    }

    /** {@code log(x)} in double lanes for normal {@code x > 0}; {@code x == 0} gives {@code -inf}. */
    static DoubleVector log(DoubleVector x) {
        LongVector ix = ((LongVector) x.reinterpretAsLongs()).sub(SQRT_HALF_D_BITS);
        DoubleVector f = ix.and(0x000fffffffffffffL).add(SQRT_HALF_D_BITS).reinterpretAsDoubles().sub(1.0);
        DoubleVector y = log1pReduced(f, exponent(ix), x.broadcast(0.0));
        return y.blend(Double.NEGATIVE_INFINITY, x.eq(0.0));
    }

    /** {@code log(1 + v)} in double lanes for {@code 0 <= v < 2^52}, exact for tiny v. */
    static DoubleVector log1p(DoubleVector v) {
        DoubleVector u = v.add(1.0);
        LongVector ix = ((LongVector) u.reinterpretAsLongs()).sub(SQRT_HALF_D_BITS);
        DoubleVector f = ix.and(0x000fffffffffffffL).add(SQRT_HALF_D_BITS).reinterpretAsDoubles().sub(1.0);
        DoubleVector corr = v.sub(u.sub(1.0)).div(u);
        return log1pReduced(f, exponent(ix), corr);
    }

    /**
     * The k of {@code x = 2^k (1 + f)} as a double, from {@code ix = bits(x) - bits(sqrt(1/2))}: shifted with
     * a bias so the shift is logical, and converted through the 1.5 * 2^52 trick, because AVX2 has neither
     * a 64-bit arithmetic shift nor a long-to-double conversion.
     */
    private static DoubleVector exponent(LongVector ix) {
        return ix.add(1023L << 52).lanewise(VectorOperators.LSHR, 52).add(Double.doubleToRawLongBits(ROUND_D))
                .reinterpretAsDoubles().sub(ROUND_D + 1023.0);
    }

    /**
     * {@code k ln2 + log(1 + f) + corr} for {@code sqrt(1/2) <= 1 + f < sqrt(2)}: the atanh series in
     * {@code s = f/(2+f)} to {@code s^21} (truncation below 1e-18 relative), arranged as in fdlibm so that
     * the leading {@code f} is added last.
     */
    private static DoubleVector log1pReduced(DoubleVector f, DoubleVector kd, DoubleVector corr) {
        DoubleVector s = f.div(f.add(2.0));
        DoubleVector z = s.mul(s);
        DoubleVector r = z.fma(A10, A9);
        r = r.fma(z, A8);
        r = r.fma(z, A7);
        r = r.fma(z, A6);
        r = r.fma(z, A5);
        r = r.fma(z, A4);
        r = r.fma(z, A3);
        r = r.fma(z, A2);
        r = r.fma(z, A1);
        r = r.mul(z);
        DoubleVector hfsq = f.mul(f).mul(0.5);
        DoubleVector low = s.fma(hfsq.add(r), kd.fma(kd.broadcast(LN2_LO), corr));
        return kd.fma(kd.broadcast(LN2_HI), f.sub(hfsq.sub(low)));
    }

    /** {@code log(1 + e^y) = max(y, 0) + log1p(e^-|y|)}: no overflow, {@code softplus(-inf) = 0}. */
    static DoubleVector softplus(DoubleVector y) {
        return y.blend(0.0, y.lt(0.0)).add(log1p(exp(y.abs().neg())));
    }
}
