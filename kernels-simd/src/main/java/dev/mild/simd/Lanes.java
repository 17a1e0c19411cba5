package dev.mild.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The gradient's loops over whole vectors of a scratch array (the exp and log loops are in {@link VectorMath}).
 * Kept as small methods that pass arrays, never vectors: C2 turns Vector API calls into SIMD instructions only
 * where it inlines them, stops inlining in very large methods, and boxes a vector passed to a call it left.
 */
final class Lanes {
    private Lanes() {
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
}
