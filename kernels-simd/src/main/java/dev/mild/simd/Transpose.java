package dev.mild.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Moves a block of L rows between row-major order ({@code p} floats per row, consecutive rows) and columns
 * ({@code col[j L + i] = row i, expert j}), for {@link RowLanes}.
 *
 * <p>A shuffle network on n vectors held in registers: log2(n) rounds of "even lanes / odd lanes of two
 * vectors" (one two-vector permute each) turn n vectors of rows into n vectors of columns; the way back
 * interleaves. For p a power of two below L the block is p whole vectors (n = p); for p a multiple of L it is
 * p / L tiles of L x L, vector k of tile t being row k's experts {@code tL .. tL + L - 1} (n = L). That is
 * log2(n) permutes per vector, against p gathers of L scattered floats, which cost several
 * times more on AVX-512 (the kernel ran 1.13x-1.42x faster at p = 2..8 with the network, commit 8c036a7).
 * Other p use gathers, both ways. Every round stays in registers: through scratch memory each round's loads
 * wait on the round before's 64-byte stores (a fifth of the kernel's time at p = 8 once; at p = 32 with equal
 * margins the rounds through memory took 40% of the samples).
 * Blocks are always L whole rows (RowLanes pads the last one).
 */
final class Transpose {
    private Transpose() {
    }

    // Index vectors into the 2L lanes of two vectors (selectFrom takes them as float lanes).
    private static final float[] EVEN = new float[Species.L];
    private static final float[] ODD = new float[Species.L];
    private static final float[] LOW = new float[Species.L];
    private static final float[] HIGH = new float[Species.L];

    static {
        int l = Species.L;
        for (int i = 0; i < l; i++) {
            EVEN[i] = 2 * i;
            ODD[i] = 2 * i + 1;
        }
        for (int i = 0; i < l / 2; i++) {
            LOW[2 * i] = i;
            LOW[2 * i + 1] = l + i;
            HIGH[2 * i] = l / 2 + i;
            HIGH[2 * i + 1] = l + l / 2 + i;
        }
    }

    /** Whether the shuffle network handles p: a multiple of L, or a power of two from 2 to L. */
    static boolean network(int p) {
        return p % Species.L == 0 || (p >= 2 && Integer.bitCount(p) == 1);
    }

    /** The L rows {@code src[off .. off + L p)} into columns {@code dst[0 .. p L)}. Not modified: src. Modified: dst. */
    static void columnsIn(float[] src, int off, int p, int[] laneStride, float[] dst) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        if (p % L == 0) {
            for (int t = 0; t < p / L; t++) {
                columnsInNetwork(src, off + t * L, p, L, dst, t * L * L);
            }
        } else if (network(p)) {
            columnsInNetwork(src, off, L, p, dst, 0);
        } else {
            for (int j = 0; j < p; j++) {
                FloatVector.fromArray(F, src, off + j, laneStride, 0).intoArray(dst, j * L);
            }
        }
    }

    /**
     * Columns {@code cols[0 .. p L)} back into the L rows {@code dst[off .. off + L p)}. For p without a network,
     * p vectors of consecutive floats, each gathered from the columns by {@code rowGather} ({@link Plan#rowGather});
     * not a scatter per column: AVX2 has no scatter instruction, and there the Vector API's scatter runs Java code
     * that allocates about 40 bytes a row (AllocationTest, with -XX:UseAVX=2 on an AVX-512 machine too).
     * Modified: dst.
     */
    static void rowsOut(float[] cols, int p, int[] rowGather, float[] dst, int off) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        if (p % L == 0) {
            for (int t = 0; t < p / L; t++) {
                rowsOutNetwork(cols, t * L * L, L, dst, off + t * L, p);
            }
        } else if (network(p)) {
            rowsOutNetwork(cols, 0, p, dst, off, L);
        } else {
            for (int k = 0; k < p; k++) {
                FloatVector.fromArray(F, cols, 0, rowGather, k * L).intoArray(dst, off + k * L);
            }
        }
    }

    /**
     * The network on n vectors (2, 4, 8 or 16), vector k read at {@code src[off + k stride]}: vector j of the
     * result, written to {@code dst[dOff + j L]}, holds lane j of every vector read (n = L, a tile; a smaller n: the n L floats
     * read as one row-major block of L rows of n experts).
     */
    private static void columnsInNetwork(float[] src, int off, int stride, int n, float[] dst, int dOff) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector even = FloatVector.fromArray(F, EVEN, 0);
        FloatVector odd = FloatVector.fromArray(F, ODD, 0);
        if (n == 2) {
            FloatVector v0 = FloatVector.fromArray(F, src, off);
            FloatVector v1 = FloatVector.fromArray(F, src, off + stride);
            even.selectFrom(v0, v1).intoArray(dst, dOff);
            odd.selectFrom(v0, v1).intoArray(dst, dOff + L);
        } else if (n == 4) {
            FloatVector v0 = FloatVector.fromArray(F, src, off);
            FloatVector v1 = FloatVector.fromArray(F, src, off + stride);
            FloatVector v2 = FloatVector.fromArray(F, src, off + 2 * stride);
            FloatVector v3 = FloatVector.fromArray(F, src, off + 3 * stride);
            FloatVector a0 = (FloatVector) even.selectFrom(v0, v1);
            FloatVector a1 = (FloatVector) even.selectFrom(v2, v3);
            FloatVector a2 = (FloatVector) odd.selectFrom(v0, v1);
            FloatVector a3 = (FloatVector) odd.selectFrom(v2, v3);
            even.selectFrom(a0, a1).intoArray(dst, dOff);
            even.selectFrom(a2, a3).intoArray(dst, dOff + L);
            odd.selectFrom(a0, a1).intoArray(dst, dOff + 2 * L);
            odd.selectFrom(a2, a3).intoArray(dst, dOff + 3 * L);
        } else if (n == 8) {
            FloatVector v0 = FloatVector.fromArray(F, src, off);
            FloatVector v1 = FloatVector.fromArray(F, src, off + stride);
            FloatVector v2 = FloatVector.fromArray(F, src, off + 2 * stride);
            FloatVector v3 = FloatVector.fromArray(F, src, off + 3 * stride);
            FloatVector v4 = FloatVector.fromArray(F, src, off + 4 * stride);
            FloatVector v5 = FloatVector.fromArray(F, src, off + 5 * stride);
            FloatVector v6 = FloatVector.fromArray(F, src, off + 6 * stride);
            FloatVector v7 = FloatVector.fromArray(F, src, off + 7 * stride);
            FloatVector a0 = (FloatVector) even.selectFrom(v0, v1);
            FloatVector a1 = (FloatVector) even.selectFrom(v2, v3);
            FloatVector a2 = (FloatVector) even.selectFrom(v4, v5);
            FloatVector a3 = (FloatVector) even.selectFrom(v6, v7);
            FloatVector a4 = (FloatVector) odd.selectFrom(v0, v1);
            FloatVector a5 = (FloatVector) odd.selectFrom(v2, v3);
            FloatVector a6 = (FloatVector) odd.selectFrom(v4, v5);
            FloatVector a7 = (FloatVector) odd.selectFrom(v6, v7);
            FloatVector b0 = (FloatVector) even.selectFrom(a0, a1);
            FloatVector b1 = (FloatVector) even.selectFrom(a2, a3);
            FloatVector b2 = (FloatVector) even.selectFrom(a4, a5);
            FloatVector b3 = (FloatVector) even.selectFrom(a6, a7);
            FloatVector b4 = (FloatVector) odd.selectFrom(a0, a1);
            FloatVector b5 = (FloatVector) odd.selectFrom(a2, a3);
            FloatVector b6 = (FloatVector) odd.selectFrom(a4, a5);
            FloatVector b7 = (FloatVector) odd.selectFrom(a6, a7);
            even.selectFrom(b0, b1).intoArray(dst, dOff);
            even.selectFrom(b2, b3).intoArray(dst, dOff + L);
            even.selectFrom(b4, b5).intoArray(dst, dOff + 2 * L);
            even.selectFrom(b6, b7).intoArray(dst, dOff + 3 * L);
            odd.selectFrom(b0, b1).intoArray(dst, dOff + 4 * L);
            odd.selectFrom(b2, b3).intoArray(dst, dOff + 5 * L);
            odd.selectFrom(b4, b5).intoArray(dst, dOff + 6 * L);
            odd.selectFrom(b6, b7).intoArray(dst, dOff + 7 * L);
        } else {
            FloatVector v0 = FloatVector.fromArray(F, src, off);
            FloatVector v1 = FloatVector.fromArray(F, src, off + stride);
            FloatVector v2 = FloatVector.fromArray(F, src, off + 2 * stride);
            FloatVector v3 = FloatVector.fromArray(F, src, off + 3 * stride);
            FloatVector v4 = FloatVector.fromArray(F, src, off + 4 * stride);
            FloatVector v5 = FloatVector.fromArray(F, src, off + 5 * stride);
            FloatVector v6 = FloatVector.fromArray(F, src, off + 6 * stride);
            FloatVector v7 = FloatVector.fromArray(F, src, off + 7 * stride);
            FloatVector v8 = FloatVector.fromArray(F, src, off + 8 * stride);
            FloatVector v9 = FloatVector.fromArray(F, src, off + 9 * stride);
            FloatVector v10 = FloatVector.fromArray(F, src, off + 10 * stride);
            FloatVector v11 = FloatVector.fromArray(F, src, off + 11 * stride);
            FloatVector v12 = FloatVector.fromArray(F, src, off + 12 * stride);
            FloatVector v13 = FloatVector.fromArray(F, src, off + 13 * stride);
            FloatVector v14 = FloatVector.fromArray(F, src, off + 14 * stride);
            FloatVector v15 = FloatVector.fromArray(F, src, off + 15 * stride);
            FloatVector a0 = (FloatVector) even.selectFrom(v0, v1);
            FloatVector a1 = (FloatVector) even.selectFrom(v2, v3);
            FloatVector a2 = (FloatVector) even.selectFrom(v4, v5);
            FloatVector a3 = (FloatVector) even.selectFrom(v6, v7);
            FloatVector a4 = (FloatVector) even.selectFrom(v8, v9);
            FloatVector a5 = (FloatVector) even.selectFrom(v10, v11);
            FloatVector a6 = (FloatVector) even.selectFrom(v12, v13);
            FloatVector a7 = (FloatVector) even.selectFrom(v14, v15);
            FloatVector a8 = (FloatVector) odd.selectFrom(v0, v1);
            FloatVector a9 = (FloatVector) odd.selectFrom(v2, v3);
            FloatVector a10 = (FloatVector) odd.selectFrom(v4, v5);
            FloatVector a11 = (FloatVector) odd.selectFrom(v6, v7);
            FloatVector a12 = (FloatVector) odd.selectFrom(v8, v9);
            FloatVector a13 = (FloatVector) odd.selectFrom(v10, v11);
            FloatVector a14 = (FloatVector) odd.selectFrom(v12, v13);
            FloatVector a15 = (FloatVector) odd.selectFrom(v14, v15);
            FloatVector b0 = (FloatVector) even.selectFrom(a0, a1);
            FloatVector b1 = (FloatVector) even.selectFrom(a2, a3);
            FloatVector b2 = (FloatVector) even.selectFrom(a4, a5);
            FloatVector b3 = (FloatVector) even.selectFrom(a6, a7);
            FloatVector b4 = (FloatVector) even.selectFrom(a8, a9);
            FloatVector b5 = (FloatVector) even.selectFrom(a10, a11);
            FloatVector b6 = (FloatVector) even.selectFrom(a12, a13);
            FloatVector b7 = (FloatVector) even.selectFrom(a14, a15);
            FloatVector b8 = (FloatVector) odd.selectFrom(a0, a1);
            FloatVector b9 = (FloatVector) odd.selectFrom(a2, a3);
            FloatVector b10 = (FloatVector) odd.selectFrom(a4, a5);
            FloatVector b11 = (FloatVector) odd.selectFrom(a6, a7);
            FloatVector b12 = (FloatVector) odd.selectFrom(a8, a9);
            FloatVector b13 = (FloatVector) odd.selectFrom(a10, a11);
            FloatVector b14 = (FloatVector) odd.selectFrom(a12, a13);
            FloatVector b15 = (FloatVector) odd.selectFrom(a14, a15);
            FloatVector d0 = (FloatVector) even.selectFrom(b0, b1);
            FloatVector d1 = (FloatVector) even.selectFrom(b2, b3);
            FloatVector d2 = (FloatVector) even.selectFrom(b4, b5);
            FloatVector d3 = (FloatVector) even.selectFrom(b6, b7);
            FloatVector d4 = (FloatVector) even.selectFrom(b8, b9);
            FloatVector d5 = (FloatVector) even.selectFrom(b10, b11);
            FloatVector d6 = (FloatVector) even.selectFrom(b12, b13);
            FloatVector d7 = (FloatVector) even.selectFrom(b14, b15);
            FloatVector d8 = (FloatVector) odd.selectFrom(b0, b1);
            FloatVector d9 = (FloatVector) odd.selectFrom(b2, b3);
            FloatVector d10 = (FloatVector) odd.selectFrom(b4, b5);
            FloatVector d11 = (FloatVector) odd.selectFrom(b6, b7);
            FloatVector d12 = (FloatVector) odd.selectFrom(b8, b9);
            FloatVector d13 = (FloatVector) odd.selectFrom(b10, b11);
            FloatVector d14 = (FloatVector) odd.selectFrom(b12, b13);
            FloatVector d15 = (FloatVector) odd.selectFrom(b14, b15);
            even.selectFrom(d0, d1).intoArray(dst, dOff);
            even.selectFrom(d2, d3).intoArray(dst, dOff + L);
            even.selectFrom(d4, d5).intoArray(dst, dOff + 2 * L);
            even.selectFrom(d6, d7).intoArray(dst, dOff + 3 * L);
            even.selectFrom(d8, d9).intoArray(dst, dOff + 4 * L);
            even.selectFrom(d10, d11).intoArray(dst, dOff + 5 * L);
            even.selectFrom(d12, d13).intoArray(dst, dOff + 6 * L);
            even.selectFrom(d14, d15).intoArray(dst, dOff + 7 * L);
            odd.selectFrom(d0, d1).intoArray(dst, dOff + 8 * L);
            odd.selectFrom(d2, d3).intoArray(dst, dOff + 9 * L);
            odd.selectFrom(d4, d5).intoArray(dst, dOff + 10 * L);
            odd.selectFrom(d6, d7).intoArray(dst, dOff + 11 * L);
            odd.selectFrom(d8, d9).intoArray(dst, dOff + 12 * L);
            odd.selectFrom(d10, d11).intoArray(dst, dOff + 13 * L);
            odd.selectFrom(d12, d13).intoArray(dst, dOff + 14 * L);
            odd.selectFrom(d14, d15).intoArray(dst, dOff + 15 * L);
        }
    }

    /** The inverse of {@link #columnsInNetwork}: n vectors from {@code cols[cOff + j L]}, vector k to {@code dst[off + k stride]}. */
    private static void rowsOutNetwork(float[] cols, int cOff, int n, float[] dst, int off, int stride) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector low = FloatVector.fromArray(F, LOW, 0);
        FloatVector high = FloatVector.fromArray(F, HIGH, 0);
        if (n == 2) {
            FloatVector c0 = FloatVector.fromArray(F, cols, cOff);
            FloatVector c1 = FloatVector.fromArray(F, cols, cOff + L);
            low.selectFrom(c0, c1).intoArray(dst, off);
            high.selectFrom(c0, c1).intoArray(dst, off + stride);
        } else if (n == 4) {
            FloatVector c0 = FloatVector.fromArray(F, cols, cOff);
            FloatVector c1 = FloatVector.fromArray(F, cols, cOff + L);
            FloatVector c2 = FloatVector.fromArray(F, cols, cOff + 2 * L);
            FloatVector c3 = FloatVector.fromArray(F, cols, cOff + 3 * L);
            FloatVector a0 = (FloatVector) low.selectFrom(c0, c2);
            FloatVector a1 = (FloatVector) high.selectFrom(c0, c2);
            FloatVector a2 = (FloatVector) low.selectFrom(c1, c3);
            FloatVector a3 = (FloatVector) high.selectFrom(c1, c3);
            low.selectFrom(a0, a2).intoArray(dst, off);
            high.selectFrom(a0, a2).intoArray(dst, off + stride);
            low.selectFrom(a1, a3).intoArray(dst, off + 2 * stride);
            high.selectFrom(a1, a3).intoArray(dst, off + 3 * stride);
        } else if (n == 8) {
            FloatVector c0 = FloatVector.fromArray(F, cols, cOff);
            FloatVector c1 = FloatVector.fromArray(F, cols, cOff + L);
            FloatVector c2 = FloatVector.fromArray(F, cols, cOff + 2 * L);
            FloatVector c3 = FloatVector.fromArray(F, cols, cOff + 3 * L);
            FloatVector c4 = FloatVector.fromArray(F, cols, cOff + 4 * L);
            FloatVector c5 = FloatVector.fromArray(F, cols, cOff + 5 * L);
            FloatVector c6 = FloatVector.fromArray(F, cols, cOff + 6 * L);
            FloatVector c7 = FloatVector.fromArray(F, cols, cOff + 7 * L);
            FloatVector a0 = (FloatVector) low.selectFrom(c0, c4);
            FloatVector a1 = (FloatVector) high.selectFrom(c0, c4);
            FloatVector a2 = (FloatVector) low.selectFrom(c1, c5);
            FloatVector a3 = (FloatVector) high.selectFrom(c1, c5);
            FloatVector a4 = (FloatVector) low.selectFrom(c2, c6);
            FloatVector a5 = (FloatVector) high.selectFrom(c2, c6);
            FloatVector a6 = (FloatVector) low.selectFrom(c3, c7);
            FloatVector a7 = (FloatVector) high.selectFrom(c3, c7);
            FloatVector b0 = (FloatVector) low.selectFrom(a0, a4);
            FloatVector b1 = (FloatVector) high.selectFrom(a0, a4);
            FloatVector b2 = (FloatVector) low.selectFrom(a1, a5);
            FloatVector b3 = (FloatVector) high.selectFrom(a1, a5);
            FloatVector b4 = (FloatVector) low.selectFrom(a2, a6);
            FloatVector b5 = (FloatVector) high.selectFrom(a2, a6);
            FloatVector b6 = (FloatVector) low.selectFrom(a3, a7);
            FloatVector b7 = (FloatVector) high.selectFrom(a3, a7);
            low.selectFrom(b0, b4).intoArray(dst, off);
            high.selectFrom(b0, b4).intoArray(dst, off + stride);
            low.selectFrom(b1, b5).intoArray(dst, off + 2 * stride);
            high.selectFrom(b1, b5).intoArray(dst, off + 3 * stride);
            low.selectFrom(b2, b6).intoArray(dst, off + 4 * stride);
            high.selectFrom(b2, b6).intoArray(dst, off + 5 * stride);
            low.selectFrom(b3, b7).intoArray(dst, off + 6 * stride);
            high.selectFrom(b3, b7).intoArray(dst, off + 7 * stride);
        } else {
            FloatVector c0 = FloatVector.fromArray(F, cols, cOff);
            FloatVector c1 = FloatVector.fromArray(F, cols, cOff + L);
            FloatVector c2 = FloatVector.fromArray(F, cols, cOff + 2 * L);
            FloatVector c3 = FloatVector.fromArray(F, cols, cOff + 3 * L);
            FloatVector c4 = FloatVector.fromArray(F, cols, cOff + 4 * L);
            FloatVector c5 = FloatVector.fromArray(F, cols, cOff + 5 * L);
            FloatVector c6 = FloatVector.fromArray(F, cols, cOff + 6 * L);
            FloatVector c7 = FloatVector.fromArray(F, cols, cOff + 7 * L);
            FloatVector c8 = FloatVector.fromArray(F, cols, cOff + 8 * L);
            FloatVector c9 = FloatVector.fromArray(F, cols, cOff + 9 * L);
            FloatVector c10 = FloatVector.fromArray(F, cols, cOff + 10 * L);
            FloatVector c11 = FloatVector.fromArray(F, cols, cOff + 11 * L);
            FloatVector c12 = FloatVector.fromArray(F, cols, cOff + 12 * L);
            FloatVector c13 = FloatVector.fromArray(F, cols, cOff + 13 * L);
            FloatVector c14 = FloatVector.fromArray(F, cols, cOff + 14 * L);
            FloatVector c15 = FloatVector.fromArray(F, cols, cOff + 15 * L);
            FloatVector a0 = (FloatVector) low.selectFrom(c0, c8);
            FloatVector a1 = (FloatVector) high.selectFrom(c0, c8);
            FloatVector a2 = (FloatVector) low.selectFrom(c1, c9);
            FloatVector a3 = (FloatVector) high.selectFrom(c1, c9);
            FloatVector a4 = (FloatVector) low.selectFrom(c2, c10);
            FloatVector a5 = (FloatVector) high.selectFrom(c2, c10);
            FloatVector a6 = (FloatVector) low.selectFrom(c3, c11);
            FloatVector a7 = (FloatVector) high.selectFrom(c3, c11);
            FloatVector a8 = (FloatVector) low.selectFrom(c4, c12);
            FloatVector a9 = (FloatVector) high.selectFrom(c4, c12);
            FloatVector a10 = (FloatVector) low.selectFrom(c5, c13);
            FloatVector a11 = (FloatVector) high.selectFrom(c5, c13);
            FloatVector a12 = (FloatVector) low.selectFrom(c6, c14);
            FloatVector a13 = (FloatVector) high.selectFrom(c6, c14);
            FloatVector a14 = (FloatVector) low.selectFrom(c7, c15);
            FloatVector a15 = (FloatVector) high.selectFrom(c7, c15);
            FloatVector b0 = (FloatVector) low.selectFrom(a0, a8);
            FloatVector b1 = (FloatVector) high.selectFrom(a0, a8);
            FloatVector b2 = (FloatVector) low.selectFrom(a1, a9);
            FloatVector b3 = (FloatVector) high.selectFrom(a1, a9);
            FloatVector b4 = (FloatVector) low.selectFrom(a2, a10);
            FloatVector b5 = (FloatVector) high.selectFrom(a2, a10);
            FloatVector b6 = (FloatVector) low.selectFrom(a3, a11);
            FloatVector b7 = (FloatVector) high.selectFrom(a3, a11);
            FloatVector b8 = (FloatVector) low.selectFrom(a4, a12);
            FloatVector b9 = (FloatVector) high.selectFrom(a4, a12);
            FloatVector b10 = (FloatVector) low.selectFrom(a5, a13);
            FloatVector b11 = (FloatVector) high.selectFrom(a5, a13);
            FloatVector b12 = (FloatVector) low.selectFrom(a6, a14);
            FloatVector b13 = (FloatVector) high.selectFrom(a6, a14);
            FloatVector b14 = (FloatVector) low.selectFrom(a7, a15);
            FloatVector b15 = (FloatVector) high.selectFrom(a7, a15);
            FloatVector d0 = (FloatVector) low.selectFrom(b0, b8);
            FloatVector d1 = (FloatVector) high.selectFrom(b0, b8);
            FloatVector d2 = (FloatVector) low.selectFrom(b1, b9);
            FloatVector d3 = (FloatVector) high.selectFrom(b1, b9);
            FloatVector d4 = (FloatVector) low.selectFrom(b2, b10);
            FloatVector d5 = (FloatVector) high.selectFrom(b2, b10);
            FloatVector d6 = (FloatVector) low.selectFrom(b3, b11);
            FloatVector d7 = (FloatVector) high.selectFrom(b3, b11);
            FloatVector d8 = (FloatVector) low.selectFrom(b4, b12);
            FloatVector d9 = (FloatVector) high.selectFrom(b4, b12);
            FloatVector d10 = (FloatVector) low.selectFrom(b5, b13);
            FloatVector d11 = (FloatVector) high.selectFrom(b5, b13);
            FloatVector d12 = (FloatVector) low.selectFrom(b6, b14);
            FloatVector d13 = (FloatVector) high.selectFrom(b6, b14);
            FloatVector d14 = (FloatVector) low.selectFrom(b7, b15);
            FloatVector d15 = (FloatVector) high.selectFrom(b7, b15);
            low.selectFrom(d0, d8).intoArray(dst, off);
            high.selectFrom(d0, d8).intoArray(dst, off + stride);
            low.selectFrom(d1, d9).intoArray(dst, off + 2 * stride);
            high.selectFrom(d1, d9).intoArray(dst, off + 3 * stride);
            low.selectFrom(d2, d10).intoArray(dst, off + 4 * stride);
            high.selectFrom(d2, d10).intoArray(dst, off + 5 * stride);
            low.selectFrom(d3, d11).intoArray(dst, off + 6 * stride);
            high.selectFrom(d3, d11).intoArray(dst, off + 7 * stride);
            low.selectFrom(d4, d12).intoArray(dst, off + 8 * stride);
            high.selectFrom(d4, d12).intoArray(dst, off + 9 * stride);
            low.selectFrom(d5, d13).intoArray(dst, off + 10 * stride);
            high.selectFrom(d5, d13).intoArray(dst, off + 11 * stride);
            low.selectFrom(d6, d14).intoArray(dst, off + 12 * stride);
            high.selectFrom(d6, d14).intoArray(dst, off + 13 * stride);
            low.selectFrom(d7, d15).intoArray(dst, off + 14 * stride);
            high.selectFrom(d7, d15).intoArray(dst, off + 15 * stride);
        }
    }
}
