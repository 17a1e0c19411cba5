package dev.mild.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A layer's weight gradient {@code dW[c][j] += sum_r in[r][c] delta[r][j]} on vector lanes, bit-identical to
 * {@link dev.mild.router.Dense#accumulateOuter}: each element starts from its value in {@code dW} and adds the
 * batch rows in the same blocks of four ({@code ((x_r d_r + x_r+1 d_r+1) + x_r+2 d_r+2) + x_r+3 d_r+3}), then
 * the rows left over one at a time, with separate multiplies and adds. Lanes are outputs {@code j}.
 *
 * <p>Tiles of four weight rows by two vectors of outputs: the eight sums stay in registers over all batch rows,
 * and each block of four batch rows' {@code delta} vectors is loaded once for the four weight rows (the plain
 * version loads and stores its sums once per block of batch rows). Then single vectors for what the tiles leave;
 * outputs fewer than a vector holds (the score layer's, one per expert) take the weight rows as lanes instead
 * (64 x 3 over 1024 rows: 12 us, two vectors of weight rows at a time, against 181 us one output at a time). Each helper is one loop nest that takes and returns no vector (C2 boxes a vector it
 * passes to a call it did not inline). Measured on the Zen 5 machine (1024 rows, 64 outputs): 0.27 ms against
 * 0.77 ms at 186 inputs, 1.2 ms against 3.4 ms at 784.
 */
final class SimdOuterProduct {
    private SimdOuterProduct() {
    }

    static void accumulate(float[][] in, float[][] delta, int rows, float[][] dw, int c0, int c1, int n) {
        int L = Species.L;
        int pairs = n / (2 * L) * (2 * L);
        int vectors = n / L * L;
        int c = c0;
        for (; c + 4 <= c1; c += 4) {
            for (int j = 0; j < pairs; j += 2 * L) {
                tile(in, delta, rows, dw, c, j);
            }
            for (int k = c; k < c + 4; k++) {
                for (int j = pairs; j < vectors; j += L) {
                    oneVector(in, delta, rows, dw[k], k, j);
                }
            }
        }
        for (; c < c1; c++) {
            for (int j = 0; j < vectors; j += L) {
                oneVector(in, delta, rows, dw[c], c, j);
            }
        }
        // Outputs left over, fewer than a vector holds (the score layer's: one per expert): the weight rows are
        // the lanes, then the weight rows left over one output at a time.
        if (vectors < n) {
            c = c0;
            for (; c + 2 * L <= c1; c += 2 * L) {
                for (int j = vectors; j < n; j++) {
                    inputLanesTwo(in, delta, rows, dw, c, j);
                }
            }
            for (; c + L <= c1; c += L) {
                for (int j = vectors; j < n; j++) {
                    inputLanes(in, delta, rows, dw, c, j);
                }
            }
            for (; c < c1; c++) {
                for (int j = vectors; j < n; j++) {
                    oneOutput(in, delta, rows, dw[c], c, j);
                }
            }
        }
    }

    /** Weight rows c..c+3, outputs j..j+2L. */
    private static void tile(float[][] in, float[][] delta, int rows, float[][] dw, int c, int j) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        float[] g0 = dw[c];
        float[] g1 = dw[c + 1];
        float[] g2 = dw[c + 2];
        float[] g3 = dw[c + 3];
        FloatVector s00 = FloatVector.fromArray(F, g0, j);
        FloatVector s01 = FloatVector.fromArray(F, g0, j + L);
        FloatVector s10 = FloatVector.fromArray(F, g1, j);
        FloatVector s11 = FloatVector.fromArray(F, g1, j + L);
        FloatVector s20 = FloatVector.fromArray(F, g2, j);
        FloatVector s21 = FloatVector.fromArray(F, g2, j + L);
        FloatVector s30 = FloatVector.fromArray(F, g3, j);
        FloatVector s31 = FloatVector.fromArray(F, g3, j + L);
        int blocks = rows / 4 * 4;
        int r = 0;
        for (; r < blocks; r += 4) {
            float[] i0 = in[r];
            float[] i1 = in[r + 1];
            float[] i2 = in[r + 2];
            float[] i3 = in[r + 3];
            FloatVector d00 = FloatVector.fromArray(F, delta[r], j);
            FloatVector d01 = FloatVector.fromArray(F, delta[r], j + L);
            FloatVector d10 = FloatVector.fromArray(F, delta[r + 1], j);
            FloatVector d11 = FloatVector.fromArray(F, delta[r + 1], j + L);
            FloatVector d20 = FloatVector.fromArray(F, delta[r + 2], j);
            FloatVector d21 = FloatVector.fromArray(F, delta[r + 2], j + L);
            FloatVector d30 = FloatVector.fromArray(F, delta[r + 3], j);
            FloatVector d31 = FloatVector.fromArray(F, delta[r + 3], j + L);
            float x0 = i0[c];
            float x1 = i1[c];
            float x2 = i2[c];
            float x3 = i3[c];
            s00 = s00.add(d00.mul(x0).add(d10.mul(x1)).add(d20.mul(x2)).add(d30.mul(x3)));
            s01 = s01.add(d01.mul(x0).add(d11.mul(x1)).add(d21.mul(x2)).add(d31.mul(x3)));
            x0 = i0[c + 1];
            x1 = i1[c + 1];
            x2 = i2[c + 1];
            x3 = i3[c + 1];
            s10 = s10.add(d00.mul(x0).add(d10.mul(x1)).add(d20.mul(x2)).add(d30.mul(x3)));
            s11 = s11.add(d01.mul(x0).add(d11.mul(x1)).add(d21.mul(x2)).add(d31.mul(x3)));
            x0 = i0[c + 2];
            x1 = i1[c + 2];
            x2 = i2[c + 2];
            x3 = i3[c + 2];
            s20 = s20.add(d00.mul(x0).add(d10.mul(x1)).add(d20.mul(x2)).add(d30.mul(x3)));
            s21 = s21.add(d01.mul(x0).add(d11.mul(x1)).add(d21.mul(x2)).add(d31.mul(x3)));
            x0 = i0[c + 3];
            x1 = i1[c + 3];
            x2 = i2[c + 3];
            x3 = i3[c + 3];
            s30 = s30.add(d00.mul(x0).add(d10.mul(x1)).add(d20.mul(x2)).add(d30.mul(x3)));
            s31 = s31.add(d01.mul(x0).add(d11.mul(x1)).add(d21.mul(x2)).add(d31.mul(x3)));
        }
        for (; r < rows; r++) {
            float[] i0 = in[r];
            FloatVector d0 = FloatVector.fromArray(F, delta[r], j);
            FloatVector d1 = FloatVector.fromArray(F, delta[r], j + L);
            s00 = s00.add(d0.mul(i0[c]));
            s01 = s01.add(d1.mul(i0[c]));
            s10 = s10.add(d0.mul(i0[c + 1]));
            s11 = s11.add(d1.mul(i0[c + 1]));
            s20 = s20.add(d0.mul(i0[c + 2]));
            s21 = s21.add(d1.mul(i0[c + 2]));
            s30 = s30.add(d0.mul(i0[c + 3]));
            s31 = s31.add(d1.mul(i0[c + 3]));
        }
        s00.intoArray(g0, j);
        s01.intoArray(g0, j + L);
        s10.intoArray(g1, j);
        s11.intoArray(g1, j + L);
        s20.intoArray(g2, j);
        s21.intoArray(g2, j + L);
        s30.intoArray(g3, j);
        s31.intoArray(g3, j + L);
    }

    /** Weight row c, outputs j..j+L. */
    private static void oneVector(float[][] in, float[][] delta, int rows, float[] g, int c, int j) {
        VectorSpecies<Float> F = Species.F;
        FloatVector s = FloatVector.fromArray(F, g, j);
        int blocks = rows / 4 * 4;
        int r = 0;
        for (; r < blocks; r += 4) {
            s = s.add(FloatVector.fromArray(F, delta[r], j).mul(in[r][c])
                    .add(FloatVector.fromArray(F, delta[r + 1], j).mul(in[r + 1][c]))
                    .add(FloatVector.fromArray(F, delta[r + 2], j).mul(in[r + 2][c]))
                    .add(FloatVector.fromArray(F, delta[r + 3], j).mul(in[r + 3][c])));
        }
        for (; r < rows; r++) {
            s = s.add(FloatVector.fromArray(F, delta[r], j).mul(in[r][c]));
        }
        s.intoArray(g, j);
    }

    /**
     * Weight rows c..c+L (the lanes), output j. Each weight row's element is its own array's, so the sums start
     * from and go back to {@code dw} lane by lane ({@code withLane} and {@code lane} with constant indices, which
     * C2 compiles to inserts and extracts); over the batch rows they stay in one register.
     */
    private static void inputLanes(float[][] in, float[][] delta, int rows, float[][] dw, int c, int j) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector s = FloatVector.zero(F);
        for (int k = 0; k < L; k++) {
            s = s.withLane(k, dw[c + k][j]);
        }
        int blocks = rows / 4 * 4;
        int r = 0;
        for (; r < blocks; r += 4) {
            s = s.add(FloatVector.fromArray(F, in[r], c).mul(delta[r][j])
                    .add(FloatVector.fromArray(F, in[r + 1], c).mul(delta[r + 1][j]))
                    .add(FloatVector.fromArray(F, in[r + 2], c).mul(delta[r + 2][j]))
                    .add(FloatVector.fromArray(F, in[r + 3], c).mul(delta[r + 3][j])));
        }
        for (; r < rows; r++) {
            s = s.add(FloatVector.fromArray(F, in[r], c).mul(delta[r][j]));
        }
        for (int k = 0; k < L; k++) {
            dw[c + k][j] = s.lane(k);
        }
    }

    /**
     * {@link #inputLanes} for weight rows c..c+2L: two sums, two chains of adds that overlap where one waits on
     * its own latency (the batch rows are a chain per sum).
     */
    private static void inputLanesTwo(float[][] in, float[][] delta, int rows, float[][] dw, int c, int j) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector s = FloatVector.zero(F);
        FloatVector t = FloatVector.zero(F);
        for (int k = 0; k < L; k++) {
            s = s.withLane(k, dw[c + k][j]);
            t = t.withLane(k, dw[c + L + k][j]);
        }
        int blocks = rows / 4 * 4;
        int r = 0;
        for (; r < blocks; r += 4) {
            float d0 = delta[r][j];
            float d1 = delta[r + 1][j];
            float d2 = delta[r + 2][j];
            float d3 = delta[r + 3][j];
            s = s.add(FloatVector.fromArray(F, in[r], c).mul(d0)
                    .add(FloatVector.fromArray(F, in[r + 1], c).mul(d1))
                    .add(FloatVector.fromArray(F, in[r + 2], c).mul(d2))
                    .add(FloatVector.fromArray(F, in[r + 3], c).mul(d3)));
            t = t.add(FloatVector.fromArray(F, in[r], c + L).mul(d0)
                    .add(FloatVector.fromArray(F, in[r + 1], c + L).mul(d1))
                    .add(FloatVector.fromArray(F, in[r + 2], c + L).mul(d2))
                    .add(FloatVector.fromArray(F, in[r + 3], c + L).mul(d3)));
        }
        for (; r < rows; r++) {
            s = s.add(FloatVector.fromArray(F, in[r], c).mul(delta[r][j]));
            t = t.add(FloatVector.fromArray(F, in[r], c + L).mul(delta[r][j]));
        }
        for (int k = 0; k < L; k++) {
            dw[c + k][j] = s.lane(k);
            dw[c + L + k][j] = t.lane(k);
        }
    }

    /** Weight row c, output j (fewer outputs left than a vector holds, and fewer weight rows than lanes). */
    private static void oneOutput(float[][] in, float[][] delta, int rows, float[] g, int c, int j) {
        float s = g[j];
        int blocks = rows / 4 * 4;
        int r = 0;
        for (; r < blocks; r += 4) {
            s += in[r][c] * delta[r][j] + in[r + 1][c] * delta[r + 1][j] + in[r + 2][c] * delta[r + 2][j]
                    + in[r + 3][c] * delta[r + 3][j];
        }
        for (; r < rows; r++) {
            s += in[r][c] * delta[r][j];
        }
        g[j] = s;
    }
}
