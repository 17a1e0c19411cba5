package dev.mild.simd;

import dev.mild.router.DenseProduct;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A dense layer's product {@code out = in W} on vector lanes, bit-identical to {@link dev.mild.router.Dense#multiply}
 * (see {@link DenseProduct}): lanes are outputs, and each output's sum runs over the inputs in the same blocks of
 * four with separate multiplies and adds, so only the number of outputs done at once differs.
 *
 * <p>Written out in one method, no helper taking or returning a vector (C2 boxes a vector it passes to a call it
 * did not inline). Outputs go four vectors at a time (then one, then one by one), each block's sums held in registers over
 * all inputs, and the weights are one flat array read row after row. The plain product instead keeps its sums
 * in memory and the weights as row arrays, which C2 needs to vectorize it at all, and then does so with
 * 128-bit vectors. Measured on an AVX-512 machine (Zen 5), 64 outputs: d = 186 inputs 0.21 us against 0.87 us,
 * d = 784 1.6 us against 3.7 us (the weights no longer fit in L1 there); bench/PERFORMANCE.md has the JMH runs.
 */
final class SimdDenseLayer implements DenseProduct.Layer {
    private final int nIn;
    private final int nOut;
    private final float[] w;

    SimdDenseLayer(int nIn, int nOut) {
        if (nIn < 1 || nOut < 1) {
            throw new IllegalArgumentException("a layer needs at least one input and one output, got " + nIn + " x " + nOut);
        }
        if ((long) nIn * nOut > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a layer of " + nIn + " x " + nOut + " weights does not fit one Java array");
        }
        this.nIn = nIn;
        this.nOut = nOut;
        this.w = new float[nIn * nOut];
    }

    @Override
    public void load(float[] weights) {
        if (weights.length < w.length) {
            throw new IllegalArgumentException(weights.length + " weights for a layer of " + nIn + " x " + nOut);
        }
        System.arraycopy(weights, 0, w, 0, w.length);
    }

    @Override
    public void multiply(float[] in, int inOff, float[] out) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int n = nOut;
        int blocks = nIn / 4 * 4;
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = FloatVector.zero(F);
            FloatVector s2 = FloatVector.zero(F);
            FloatVector s3 = FloatVector.zero(F);
            int c = 0;
            for (; c < blocks; c += 4) {
                float a0 = in[inOff + c];
                float a1 = in[inOff + c + 1];
                float a2 = in[inOff + c + 2];
                float a3 = in[inOff + c + 3];
                int o0 = c * n + j;
                int o1 = o0 + n;
                int o2 = o1 + n;
                int o3 = o2 + n;
                s0 = s0.add(FloatVector.fromArray(F, w, o0).mul(a0).add(FloatVector.fromArray(F, w, o1).mul(a1))
                        .add(FloatVector.fromArray(F, w, o2).mul(a2)).add(FloatVector.fromArray(F, w, o3).mul(a3)));
                s1 = s1.add(FloatVector.fromArray(F, w, o0 + L).mul(a0).add(FloatVector.fromArray(F, w, o1 + L).mul(a1))
                        .add(FloatVector.fromArray(F, w, o2 + L).mul(a2)).add(FloatVector.fromArray(F, w, o3 + L).mul(a3)));
                s2 = s2.add(FloatVector.fromArray(F, w, o0 + 2 * L).mul(a0)
                        .add(FloatVector.fromArray(F, w, o1 + 2 * L).mul(a1))
                        .add(FloatVector.fromArray(F, w, o2 + 2 * L).mul(a2))
                        .add(FloatVector.fromArray(F, w, o3 + 2 * L).mul(a3)));
                s3 = s3.add(FloatVector.fromArray(F, w, o0 + 3 * L).mul(a0)
                        .add(FloatVector.fromArray(F, w, o1 + 3 * L).mul(a1))
                        .add(FloatVector.fromArray(F, w, o2 + 3 * L).mul(a2))
                        .add(FloatVector.fromArray(F, w, o3 + 3 * L).mul(a3)));
            }
            for (; c < nIn; c++) {
                float a0 = in[inOff + c];
                int o = c * n + j;
                s0 = s0.add(FloatVector.fromArray(F, w, o).mul(a0));
                s1 = s1.add(FloatVector.fromArray(F, w, o + L).mul(a0));
                s2 = s2.add(FloatVector.fromArray(F, w, o + 2 * L).mul(a0));
                s3 = s3.add(FloatVector.fromArray(F, w, o + 3 * L).mul(a0));
            }
            s0.intoArray(out, j);
            s1.intoArray(out, j + L);
            s2.intoArray(out, j + 2 * L);
            s3.intoArray(out, j + 3 * L);
        }
        for (; j + L <= n; j += L) {
            FloatVector s = FloatVector.zero(F);
            int c = 0;
            for (; c < blocks; c += 4) {
                int o0 = c * n + j;
                s = s.add(FloatVector.fromArray(F, w, o0).mul(in[inOff + c])
                        .add(FloatVector.fromArray(F, w, o0 + n).mul(in[inOff + c + 1]))
                        .add(FloatVector.fromArray(F, w, o0 + 2 * n).mul(in[inOff + c + 2]))
                        .add(FloatVector.fromArray(F, w, o0 + 3 * n).mul(in[inOff + c + 3])));
            }
            for (; c < nIn; c++) {
                s = s.add(FloatVector.fromArray(F, w, c * n + j).mul(in[inOff + c]));
            }
            s.intoArray(out, j);
        }
        for (; j < n; j++) { // fewer outputs left than a vector holds (the score layer: one per expert)
            float s = 0f;
            int c = 0;
            for (; c < blocks; c += 4) {
                int o0 = c * n + j;
                s += in[inOff + c] * w[o0] + in[inOff + c + 1] * w[o0 + n] + in[inOff + c + 2] * w[o0 + 2 * n]
                        + in[inOff + c + 3] * w[o0 + 3 * n];
            }
            for (; c < nIn; c++) {
                s += in[inOff + c] * w[c * n + j];
            }
            out[j] = s;
        }
    }
}
