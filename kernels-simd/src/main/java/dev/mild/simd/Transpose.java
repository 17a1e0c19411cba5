package dev.mild.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Moves a block of L rows between row-major order ({@code p} floats per row, consecutive rows) and columns
 * ({@code col[j L + i] = row i, expert j}), for {@link RowLanes}.
 *
 * <p>For p a power of two, a shuffle network: the block is p whole vectors, and log2(p) rounds of "even lanes
 * / odd lanes of two vectors" (one two-vector permute each) leave column j in vector j; the way back
 * interleaves. That is p log2(p) permutes per block, against p gathers (or scatters) of L scattered floats,
 * which cost several times more on AVX-512 (the kernel ran 1.13x-1.42x faster at p = 2..8 with the network,
 * commit 8c036a7). Other p use gathers and scatters.
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

    /** Whether the shuffle network handles p (a power of two, 2 to 64). */
    static boolean network(int p) {
        return p >= 2 && p <= 64 && Integer.bitCount(p) == 1;
    }

    /**
     * The L rows {@code src[off .. off + L p)} into columns {@code dst[0 .. p L)}. Not modified: src.
     * Modified: dst, tmp (scratch of p L floats).
     */
    static void columnsIn(float[] src, int off, int p, int[] laneStride, float[] dst, float[] tmp) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        if (!network(p)) {
            for (int j = 0; j < p; j++) {
                FloatVector.fromArray(F, src, off + j, laneStride, 0).intoArray(dst, j * L);
            }
            return;
        }
        if (p <= 8) {
            columnsInSmall(src, off, p, dst);
            return;
        }
        FloatVector even = FloatVector.fromArray(F, EVEN, 0);
        FloatVector odd = FloatVector.fromArray(F, ODD, 0);
        int stages = Integer.numberOfTrailingZeros(p);
        int half = p / 2;
        // Stage k writes dst when (stages - k) is even, so that the last one lands in dst.
        float[] out = stages % 2 == 1 ? dst : tmp;
        for (int i = 0; i < half; i++) {
            FloatVector v0 = FloatVector.fromArray(F, src, off + 2 * i * L);
            FloatVector v1 = FloatVector.fromArray(F, src, off + (2 * i + 1) * L);
            ((FloatVector) even.selectFrom(v0, v1)).intoArray(out, i * L);
            ((FloatVector) odd.selectFrom(v0, v1)).intoArray(out, (i + half) * L);
        }
        for (int stage = 1; stage < stages; stage++) {
            float[] in = out;
            out = in == dst ? tmp : dst;
            for (int i = 0; i < half; i++) {
                FloatVector v0 = FloatVector.fromArray(F, in, 2 * i * L);
                FloatVector v1 = FloatVector.fromArray(F, in, (2 * i + 1) * L);
                ((FloatVector) even.selectFrom(v0, v1)).intoArray(out, i * L);
                ((FloatVector) odd.selectFrom(v0, v1)).intoArray(out, (i + half) * L);
            }
        }
    }

    /**
     * Columns {@code cols[0 .. p L)} back into the L rows {@code dst[off .. off + L p)}. Modified: dst, and
     * cols and tmp (both used as scratch).
     */
    static void rowsOut(float[] cols, int p, int[] laneStride, float[] dst, int off, float[] tmp) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        if (!network(p)) {
            for (int j = 0; j < p; j++) {
                FloatVector.fromArray(F, cols, j * L).intoArray(dst, off + j, laneStride, 0);
            }
            return;
        }
        if (p <= 8) {
            rowsOutSmall(cols, p, dst, off);
            return;
        }
        FloatVector low = FloatVector.fromArray(F, LOW, 0);
        FloatVector high = FloatVector.fromArray(F, HIGH, 0);
        int stages = Integer.numberOfTrailingZeros(p);
        int half = p / 2;
        float[] in = cols;
        for (int stage = 1; stage < stages; stage++) {
            float[] out = in == cols ? tmp : cols;
            for (int i = 0; i < half; i++) {
                FloatVector v0 = FloatVector.fromArray(F, in, i * L);
                FloatVector v1 = FloatVector.fromArray(F, in, (i + half) * L);
                ((FloatVector) low.selectFrom(v0, v1)).intoArray(out, 2 * i * L);
                ((FloatVector) high.selectFrom(v0, v1)).intoArray(out, (2 * i + 1) * L);
            }
            in = out;
        }
        for (int i = 0; i < half; i++) {
            FloatVector v0 = FloatVector.fromArray(F, in, i * L);
            FloatVector v1 = FloatVector.fromArray(F, in, (i + half) * L);
            ((FloatVector) low.selectFrom(v0, v1)).intoArray(dst, off + 2 * i * L);
            ((FloatVector) high.selectFrom(v0, v1)).intoArray(dst, off + (2 * i + 1) * L);
        }
    }

    /**
     * The network for p = 2, 4, 8 with every stage in registers: through scratch memory,
     * each stage's loads would wait on the previous stage's 64-byte stores (measured: a fifth of the kernel's
     * time at p = 8).
     */
    private static void columnsInSmall(float[] src, int off, int p, float[] dst) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector even = FloatVector.fromArray(F, EVEN, 0);
        FloatVector odd = FloatVector.fromArray(F, ODD, 0);
        if (p == 2) {
            FloatVector v0 = FloatVector.fromArray(F, src, off);
            FloatVector v1 = FloatVector.fromArray(F, src, off + L);
            even.selectFrom(v0, v1).intoArray(dst, 0);
            odd.selectFrom(v0, v1).intoArray(dst, L);
        } else if (p == 4) {
            FloatVector v0 = FloatVector.fromArray(F, src, off);
            FloatVector v1 = FloatVector.fromArray(F, src, off + L);
            FloatVector v2 = FloatVector.fromArray(F, src, off + 2 * L);
            FloatVector v3 = FloatVector.fromArray(F, src, off + 3 * L);
            FloatVector a0 = (FloatVector) even.selectFrom(v0, v1);
            FloatVector a1 = (FloatVector) even.selectFrom(v2, v3);
            FloatVector a2 = (FloatVector) odd.selectFrom(v0, v1);
            FloatVector a3 = (FloatVector) odd.selectFrom(v2, v3);
            even.selectFrom(a0, a1).intoArray(dst, 0);
            even.selectFrom(a2, a3).intoArray(dst, L);
            odd.selectFrom(a0, a1).intoArray(dst, 2 * L);
            odd.selectFrom(a2, a3).intoArray(dst, 3 * L);
        } else {
            FloatVector v0 = FloatVector.fromArray(F, src, off);
            FloatVector v1 = FloatVector.fromArray(F, src, off + L);
            FloatVector v2 = FloatVector.fromArray(F, src, off + 2 * L);
            FloatVector v3 = FloatVector.fromArray(F, src, off + 3 * L);
            FloatVector v4 = FloatVector.fromArray(F, src, off + 4 * L);
            FloatVector v5 = FloatVector.fromArray(F, src, off + 5 * L);
            FloatVector v6 = FloatVector.fromArray(F, src, off + 6 * L);
            FloatVector v7 = FloatVector.fromArray(F, src, off + 7 * L);
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
            even.selectFrom(b0, b1).intoArray(dst, 0);
            even.selectFrom(b2, b3).intoArray(dst, L);
            even.selectFrom(b4, b5).intoArray(dst, 2 * L);
            even.selectFrom(b6, b7).intoArray(dst, 3 * L);
            odd.selectFrom(b0, b1).intoArray(dst, 4 * L);
            odd.selectFrom(b2, b3).intoArray(dst, 5 * L);
            odd.selectFrom(b4, b5).intoArray(dst, 6 * L);
            odd.selectFrom(b6, b7).intoArray(dst, 7 * L);
        }
    }

    /** The inverse of {@link #columnsInSmall}. */
    private static void rowsOutSmall(float[] cols, int p, float[] dst, int off) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector low = FloatVector.fromArray(F, LOW, 0);
        FloatVector high = FloatVector.fromArray(F, HIGH, 0);
        if (p == 2) {
            FloatVector c0 = FloatVector.fromArray(F, cols, 0);
            FloatVector c1 = FloatVector.fromArray(F, cols, L);
            low.selectFrom(c0, c1).intoArray(dst, off);
            high.selectFrom(c0, c1).intoArray(dst, off + L);
        } else if (p == 4) {
            FloatVector c0 = FloatVector.fromArray(F, cols, 0);
            FloatVector c1 = FloatVector.fromArray(F, cols, L);
            FloatVector c2 = FloatVector.fromArray(F, cols, 2 * L);
            FloatVector c3 = FloatVector.fromArray(F, cols, 3 * L);
            FloatVector a0 = (FloatVector) low.selectFrom(c0, c2);
            FloatVector a1 = (FloatVector) high.selectFrom(c0, c2);
            FloatVector a2 = (FloatVector) low.selectFrom(c1, c3);
            FloatVector a3 = (FloatVector) high.selectFrom(c1, c3);
            low.selectFrom(a0, a2).intoArray(dst, off);
            high.selectFrom(a0, a2).intoArray(dst, off + L);
            low.selectFrom(a1, a3).intoArray(dst, off + 2 * L);
            high.selectFrom(a1, a3).intoArray(dst, off + 3 * L);
        } else {
            FloatVector c0 = FloatVector.fromArray(F, cols, 0);
            FloatVector c1 = FloatVector.fromArray(F, cols, L);
            FloatVector c2 = FloatVector.fromArray(F, cols, 2 * L);
            FloatVector c3 = FloatVector.fromArray(F, cols, 3 * L);
            FloatVector c4 = FloatVector.fromArray(F, cols, 4 * L);
            FloatVector c5 = FloatVector.fromArray(F, cols, 5 * L);
            FloatVector c6 = FloatVector.fromArray(F, cols, 6 * L);
            FloatVector c7 = FloatVector.fromArray(F, cols, 7 * L);
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
            high.selectFrom(b0, b4).intoArray(dst, off + L);
            low.selectFrom(b1, b5).intoArray(dst, off + 2 * L);
            high.selectFrom(b1, b5).intoArray(dst, off + 3 * L);
            low.selectFrom(b2, b6).intoArray(dst, off + 4 * L);
            high.selectFrom(b2, b6).intoArray(dst, off + 5 * L);
            low.selectFrom(b3, b7).intoArray(dst, off + 6 * L);
            high.selectFrom(b3, b7).intoArray(dst, off + 7 * L);
        }
    }
}
