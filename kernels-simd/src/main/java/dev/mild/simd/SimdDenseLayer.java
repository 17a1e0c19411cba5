package dev.mild.simd;

import dev.mild.router.DenseProduct;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A dense layer's product {@code out = in W} on vector lanes, bit-identical to {@link dev.mild.router.Dense#multiply}
 * (see {@link DenseProduct}): lanes are outputs, and each output's sum runs over the inputs in the same blocks of
 * four with separate multiplies and adds, so only the number of outputs done at once differs.
 *
 * <p>Each loop nest is written out in one method that takes and returns no vector (C2 boxes a vector it passes to
 * a call it did not inline). One row ({@link #multiply}): outputs four vectors at a time (then one, then the rest
 * as one more vector whose extra lanes read padding and are not stored), each block's sums held in registers over
 * all inputs, the weights one flat array read row after row. A
 * batch ({@link #multiplyRows}): four rows at a time share each weight vector. Times {@code W^T}
 * ({@link #multiplyTransposed}, training layers only): the inputs are the lanes, over a transposed copy. The plain product instead keeps its sums
 * in memory and the weights as row arrays, which C2 needs to vectorize it at all, and then does so with
 * 128-bit vectors. Measured on an AVX-512 machine (Zen 5), 64 outputs: d = 186 inputs 0.21 us against 0.87 us,
 * d = 784 1.6 us against 3.7 us (the weights no longer fit in L1 there); bench/PERFORMANCE.md has the JMH runs.
 */
final class SimdDenseLayer implements DenseProduct.Layer {
    private final int nIn;
    private final int nOut;
    private final float[] w;
    /** A training layer's weights again, transposed ({@code nOut x nIn}), for {@link #multiplyTransposed}; else null. */
    private final float[] wt;

    SimdDenseLayer(int nIn, int nOut, boolean transposedToo) {
        if (nIn < 1 || nOut < 1) {
            throw new IllegalArgumentException("a layer needs at least one input and one output, got " + nIn + " x " + nOut);
        }
        if ((long) nIn * nOut > Integer.MAX_VALUE - 16 - Species.L) {
            throw new IllegalArgumentException("a layer of " + nIn + " x " + nOut + " weights does not fit one Java array");
        }
        this.nIn = nIn;
        this.nOut = nOut;
        this.w = new float[nIn * nOut + Species.L]; // padded: a last vector of fewer outputs loads past the end
        this.wt = transposedToo ? new float[nIn * nOut] : null;
    }

    @Override
    public void load(float[] weights) {
        if (weights.length < nIn * nOut) {
            throw new IllegalArgumentException(weights.length + " weights for a layer of " + nIn + " x " + nOut);
        }
        System.arraycopy(weights, 0, w, 0, nIn * nOut);
        if (wt != null) {
            for (int c = 0; c < nIn; c++) {
                for (int j = 0; j < nOut; j++) {
                    wt[j * nIn + c] = w[c * nOut + j];
                }
            }
        }
    }

    /**
     * Lanes are inputs {@code c} here, over the transposed copy: each output's sum runs over {@code j} in order,
     * as {@link dev.mild.router.Dense#multiplyTransposed}'s scalar loop does, four vectors of sums at a time in
     * registers (then one, then one output at a time). Plain Java cannot vectorize that loop: a float sum in a
     * fixed order is a chain C2 keeps scalar.
     */
    @Override
    public void multiplyTransposed(float[] delta, float[] out) {
        transposed(delta, null, out);
    }

    /** A lane's sum where its {@code z} is above 0, else 0: a compare and a blend, no branch. */
    @Override
    public void multiplyTransposedThroughRelu(float[] delta, float[] z, float[] out) {
        transposed(delta, z, out);
    }

    /** Both products by {@code W^T}; {@code z} null: no ReLU. */
    private void transposed(float[] delta, float[] z, float[] out) {
        if (wt == null) {
            throw new IllegalStateException("this layer was made by DenseProduct.layer; multiplying by W^T needs one"
                    + " made by trainingLayer");
        }
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int n = nIn; // outputs of this product: one per input of the layer
        int c = 0;
        for (; c + 4 * L <= n; c += 4 * L) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = FloatVector.zero(F);
            FloatVector s2 = FloatVector.zero(F);
            FloatVector s3 = FloatVector.zero(F);
            for (int j = 0; j < nOut; j++) {
                float dj = delta[j];
                int o = j * n + c;
                s0 = s0.add(FloatVector.fromArray(F, wt, o).mul(dj));
                s1 = s1.add(FloatVector.fromArray(F, wt, o + L).mul(dj));
                s2 = s2.add(FloatVector.fromArray(F, wt, o + 2 * L).mul(dj));
                s3 = s3.add(FloatVector.fromArray(F, wt, o + 3 * L).mul(dj));
            }
            if (z != null) {
                FloatVector zero = FloatVector.zero(F);
                s0 = zero.blend(s0, FloatVector.fromArray(F, z, c).compare(VectorOperators.GT, 0f));
                s1 = zero.blend(s1, FloatVector.fromArray(F, z, c + L).compare(VectorOperators.GT, 0f));
                s2 = zero.blend(s2, FloatVector.fromArray(F, z, c + 2 * L).compare(VectorOperators.GT, 0f));
                s3 = zero.blend(s3, FloatVector.fromArray(F, z, c + 3 * L).compare(VectorOperators.GT, 0f));
            }
            s0.intoArray(out, c);
            s1.intoArray(out, c + L);
            s2.intoArray(out, c + 2 * L);
            s3.intoArray(out, c + 3 * L);
        }
        for (; c + L <= n; c += L) {
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < nOut; j++) {
                s = s.add(FloatVector.fromArray(F, wt, j * n + c).mul(delta[j]));
            }
            if (z != null) {
                s = FloatVector.zero(F).blend(s, FloatVector.fromArray(F, z, c).compare(VectorOperators.GT, 0f));
            }
            s.intoArray(out, c);
        }
        for (; c < n; c++) {
            float s = 0f;
            for (int j = 0; j < nOut; j++) {
                s += delta[j] * wt[j * n + c];
            }
            out[c] = z == null || z[c] > 0f ? s : 0f;
        }
    }

    @Override
    public void multiply(float[] in, int inOff, float[] out) {
        multiplyFrom(in, inOff, out, 0);
    }

    /**
     * Four rows at a time ({@link #fourRows}) for the outputs two vectors at a time cover, the rest of those rows
     * and the rows left over one by one.
     */
    @Override
    public void multiplyRows(float[][] in, int from, int to, float[][] out) {
        int L = Species.L;
        int pairs = nOut / (2 * L) * (2 * L);
        int r = from;
        for (; r + 4 <= to; r += 4) {
            if (pairs > 0) {
                fourRows(in, r, out, pairs);
            }
            for (int j = pairs; j < nOut; j += L) {
                fourRowsOneVector(in, r, out, j);
            }
        }
        for (; r < to; r++) {
            multiplyFrom(in[r], 0, out[r], 0);
        }
    }

    /**
     * Rows r..r+3, the outputs from j in one vector (all L of them, or the fewer that are left: the score layer's,
     * whose extra lanes read the next weight row or the padding and are not stored): four sums in registers
     * sharing each weight vector, as {@link #fourRows} does for pairs of vectors.
     */
    private void fourRowsOneVector(float[][] in, int r, float[][] out, int j) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int n = nOut;
        int blocks = nIn / 4 * 4;
        float[] x0 = in[r];
        float[] x1 = in[r + 1];
        float[] x2 = in[r + 2];
        float[] x3 = in[r + 3];
        FloatVector p = FloatVector.zero(F);
        FloatVector q = FloatVector.zero(F);
        FloatVector u = FloatVector.zero(F);
        FloatVector v = FloatVector.zero(F);
        int c = 0;
        for (; c < blocks; c += 4) {
            int o0 = c * n + j;
            FloatVector w0 = FloatVector.fromArray(F, w, o0);
            FloatVector w1 = FloatVector.fromArray(F, w, o0 + n);
            FloatVector w2 = FloatVector.fromArray(F, w, o0 + 2 * n);
            FloatVector w3 = FloatVector.fromArray(F, w, o0 + 3 * n);
            p = p.add(w0.mul(x0[c]).add(w1.mul(x0[c + 1])).add(w2.mul(x0[c + 2])).add(w3.mul(x0[c + 3])));
            q = q.add(w0.mul(x1[c]).add(w1.mul(x1[c + 1])).add(w2.mul(x1[c + 2])).add(w3.mul(x1[c + 3])));
            u = u.add(w0.mul(x2[c]).add(w1.mul(x2[c + 1])).add(w2.mul(x2[c + 2])).add(w3.mul(x2[c + 3])));
            v = v.add(w0.mul(x3[c]).add(w1.mul(x3[c + 1])).add(w2.mul(x3[c + 2])).add(w3.mul(x3[c + 3])));
        }
        for (; c < nIn; c++) {
            FloatVector w0 = FloatVector.fromArray(F, w, c * n + j);
            p = p.add(w0.mul(x0[c]));
            q = q.add(w0.mul(x1[c]));
            u = u.add(w0.mul(x2[c]));
            v = v.add(w0.mul(x3[c]));
        }
        if (j + L <= n) {
            p.intoArray(out[r], j);
            q.intoArray(out[r + 1], j);
            u.intoArray(out[r + 2], j);
            v.intoArray(out[r + 3], j);
        } else {
            for (int k = 0; j + k < n; k++) { // lane by lane: a masked store past a row's end allocates
                out[r][j + k] = p.lane(k);
                out[r + 1][j + k] = q.lane(k);
                out[r + 2][j + k] = u.lane(k);
                out[r + 3][j + k] = v.lane(k);
            }
        }
    }

    /**
     * Rows r..r+3, outputs below {@code pairs} (a multiple of 2L), two vectors at a time: eight sums in registers,
     * and each weight vector loaded once for four rows instead of once per row (measured: 2.1x at 784 inputs,
     * where the weights come from L2, 1.3x at 186).
     */
    private void fourRows(float[][] in, int r, float[][] out, int pairs) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int n = nOut;
        int blocks = nIn / 4 * 4;
        float[] x0 = in[r];
        float[] x1 = in[r + 1];
        float[] x2 = in[r + 2];
        float[] x3 = in[r + 3];
        for (int j = 0; j < pairs; j += 2 * L) {
            FloatVector p0 = FloatVector.zero(F);
            FloatVector p1 = FloatVector.zero(F);
            FloatVector q0 = FloatVector.zero(F);
            FloatVector q1 = FloatVector.zero(F);
            FloatVector u0 = FloatVector.zero(F);
            FloatVector u1 = FloatVector.zero(F);
            FloatVector v0 = FloatVector.zero(F);
            FloatVector v1 = FloatVector.zero(F);
            int c = 0;
            for (; c < blocks; c += 4) {
                int o0 = c * n + j;
                int o1 = o0 + n;
                int o2 = o1 + n;
                int o3 = o2 + n;
                FloatVector w00 = FloatVector.fromArray(F, w, o0);
                FloatVector w10 = FloatVector.fromArray(F, w, o1);
                FloatVector w20 = FloatVector.fromArray(F, w, o2);
                FloatVector w30 = FloatVector.fromArray(F, w, o3);
                FloatVector w01 = FloatVector.fromArray(F, w, o0 + L);
                FloatVector w11 = FloatVector.fromArray(F, w, o1 + L);
                FloatVector w21 = FloatVector.fromArray(F, w, o2 + L);
                FloatVector w31 = FloatVector.fromArray(F, w, o3 + L);
                p0 = p0.add(w00.mul(x0[c]).add(w10.mul(x0[c + 1])).add(w20.mul(x0[c + 2])).add(w30.mul(x0[c + 3])));
                p1 = p1.add(w01.mul(x0[c]).add(w11.mul(x0[c + 1])).add(w21.mul(x0[c + 2])).add(w31.mul(x0[c + 3])));
                q0 = q0.add(w00.mul(x1[c]).add(w10.mul(x1[c + 1])).add(w20.mul(x1[c + 2])).add(w30.mul(x1[c + 3])));
                q1 = q1.add(w01.mul(x1[c]).add(w11.mul(x1[c + 1])).add(w21.mul(x1[c + 2])).add(w31.mul(x1[c + 3])));
                u0 = u0.add(w00.mul(x2[c]).add(w10.mul(x2[c + 1])).add(w20.mul(x2[c + 2])).add(w30.mul(x2[c + 3])));
                u1 = u1.add(w01.mul(x2[c]).add(w11.mul(x2[c + 1])).add(w21.mul(x2[c + 2])).add(w31.mul(x2[c + 3])));
                v0 = v0.add(w00.mul(x3[c]).add(w10.mul(x3[c + 1])).add(w20.mul(x3[c + 2])).add(w30.mul(x3[c + 3])));
                v1 = v1.add(w01.mul(x3[c]).add(w11.mul(x3[c + 1])).add(w21.mul(x3[c + 2])).add(w31.mul(x3[c + 3])));
            }
            for (; c < nIn; c++) {
                FloatVector w0 = FloatVector.fromArray(F, w, c * n + j);
                FloatVector w1 = FloatVector.fromArray(F, w, c * n + j + L);
                p0 = p0.add(w0.mul(x0[c]));
                p1 = p1.add(w1.mul(x0[c]));
                q0 = q0.add(w0.mul(x1[c]));
                q1 = q1.add(w1.mul(x1[c]));
                u0 = u0.add(w0.mul(x2[c]));
                u1 = u1.add(w1.mul(x2[c]));
                v0 = v0.add(w0.mul(x3[c]));
                v1 = v1.add(w1.mul(x3[c]));
            }
            p0.intoArray(out[r], j);
            p1.intoArray(out[r], j + L);
            q0.intoArray(out[r + 1], j);
            q1.intoArray(out[r + 1], j + L);
            u0.intoArray(out[r + 2], j);
            u1.intoArray(out[r + 2], j + L);
            v0.intoArray(out[r + 3], j);
            v1.intoArray(out[r + 3], j + L);
        }
    }

    /**
     * One row, outputs from {@code j0}: four vectors at a time, then one, then the outputs left over as one more
     * vector (the score layer's 3 outputs of 64 inputs, 1024 rows: 31 us against 57 us one output at a time).
     */
    private void multiplyFrom(float[] in, int inOff, float[] out, int j0) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int n = nOut;
        int blocks = nIn / 4 * 4;
        int j = j0;
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
        // Then one vector at a time. The last may hold fewer outputs than lanes (the score layer: one per expert):
        // its lanes past n read the next weight row or the padding, and are not stored.
        for (; j < n; j += L) {
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
            if (j + L <= n) {
                s.intoArray(out, j);
            } else {
                for (int k = 0; j + k < n; k++) {
                    out[j + k] = s.lane(k); // not a masked store: one past the array's end takes the Vector API's slow path
                }
            }
        }
    }
}
