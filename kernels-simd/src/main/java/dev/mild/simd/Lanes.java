package dev.mild.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two loops every layout spends its time in, over whole vectors of a scratch array. Kept as small
 * methods: C2 turns Vector API calls into SIMD instructions only where it inlines them, and stops inlining in
 * very large methods, so the hot loops live here and pass arrays, never vectors, across calls.
 */
final class Lanes {
    private Lanes() {
    }

    /**
     * {@code e[eOff + i] = 2^(d[i] scale)} for {@code i < length} (a multiple of 2L: callers pad with
     * {@code -inf}, whose exp is 0), and the lane-wise sum of those vectors into {@code sum[sumOff .. sumOff + L)}.
     * Two exps per iteration into two partial sums: measured 30% faster than one at the kernel's lengths.
     */
    static void exp2Sum(float[] d, float[] e, int eOff, int length, float scale, float[] sum, int sumOff) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector z0 = FloatVector.zero(F);
        FloatVector z1 = FloatVector.zero(F);
        for (int i = 0; i < length; i += 2 * L) {
            FloatVector e0 = VectorMath.exp2(FloatVector.fromArray(F, d, i).mul(scale));
            FloatVector e1 = VectorMath.exp2(FloatVector.fromArray(F, d, i + L).mul(scale));
            e0.intoArray(e, eOff + i);
            e1.intoArray(e, eOff + i + L);
            z0 = z0.add(e0);
            z1 = z1.add(e1);
        }
        z0.add(z1).intoArray(sum, sumOff);
    }

    /**
     * Two exp loops in one, over {@code length} floats (a multiple of L) each: {@code e[eOff0 + i] =
     * 2^(d[i] scale0)} with their lane-wise sum into {@code sum[sumOff0..]}, and {@code e[eOff1 + i] =
     * 2^(d[dOff1 + i] scale1)} with theirs into {@code sum[sumOff1..]}. Rows in
     * lanes calls it for two groups over the same inputs, or for the two halves of one group ({@code
     * combine}: both sums added into {@code sum[sumOff0..]}). One method for both keeps the kernel at two
     * inlined copies of {@link VectorMath#exp2}: with more, C2's inlining budget runs out and vectors get boxed.
     */
    static void exp2SumPair(float[] d, int dOff1, int length, float[] e, int eOff0, int eOff1,
                            float scale0, float scale1, float[] sum, int sumOff0, int sumOff1, boolean combine) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector z0 = FloatVector.zero(F);
        FloatVector z1 = FloatVector.zero(F);
        for (int i = 0; i < length; i += L) {
            FloatVector e0 = VectorMath.exp2(FloatVector.fromArray(F, d, i).mul(scale0));
            FloatVector e1 = VectorMath.exp2(FloatVector.fromArray(F, d, dOff1 + i).mul(scale1));
            e0.intoArray(e, eOff0 + i);
            e1.intoArray(e, eOff1 + i);
            z0 = z0.add(e0);
            z1 = z1.add(e1);
        }
        if (combine) {
            z0.add(z1).intoArray(sum, sumOff0);
        } else {
            z0.intoArray(sum, sumOff0);
            z1.intoArray(sum, sumOff1);
        }
    }

    /**
     * The gradient's softmax part for a batch of groups, rows in lanes:
     * {@code g[j L + i] += sum_b e[b stride + j L + i] * coef[b L + i]} for columns {@code j < p}.
     * Each column is loaded and stored once per batch, not once per group; two columns per pass share each
     * coefficient load (measured: 2-6% more rows/s at p = 8, alternating runs of the two builds).
     */
    static void addScaledColumns(float[] e, int stride, int batch, int p, float[] coef, float[] g) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int j = 0;
        for (; j + L < p * L; j += 2 * L) {
            FloatVector acc0 = FloatVector.fromArray(F, g, j);
            FloatVector acc1 = FloatVector.fromArray(F, g, j + L);
            for (int b = 0; b < batch; b++) {
                FloatVector c = FloatVector.fromArray(F, coef, b * L);
                acc0 = FloatVector.fromArray(F, e, b * stride + j).fma(c, acc0);
                acc1 = FloatVector.fromArray(F, e, b * stride + j + L).fma(c, acc1);
            }
            acc0.intoArray(g, j);
            acc1.intoArray(g, j + L);
        }
        for (; j < p * L; j += L) {
            FloatVector acc = FloatVector.fromArray(F, g, j);
            for (int b = 0; b < batch; b++) {
                acc = FloatVector.fromArray(F, e, b * stride + j).fma(FloatVector.fromArray(F, coef, b * L), acc);
            }
            acc.intoArray(g, j);
        }
    }

    /** {@code g[i] += e[i] * coef[i mod L]} for {@code i < length} (a multiple of L). */
    static void addScaled(float[] e, float[] g, int length, float[] coef) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector c = FloatVector.fromArray(F, coef, 0);
        for (int i = 0; i < length; i += L) {
            FloatVector.fromArray(F, e, i).fma(c, FloatVector.fromArray(F, g, i)).intoArray(g, i);
        }
    }

    /** {@code out[i] = log(1 + z[i])} for {@code i < length} (a multiple of L): the kernel's log lanes, for benchmarks. */
    static void log1p(float[] z, float[] out, int length) {
        VectorSpecies<Float> F = Species.F;
        for (int i = 0; i < length; i += Species.L) {
            FloatVector zi = FloatVector.fromArray(F, z, i);
            FloatVector u = zi.add(1f);
            VectorMath.log1p(zi, u, u.broadcast(1f).div(u)).intoArray(out, i);
        }
    }
}
