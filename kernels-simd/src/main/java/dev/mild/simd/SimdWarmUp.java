package dev.mild.simd;

/**
 * {@link SimdDenseProduct#warmUp}: every path of {@link SimdDenseLayer} and {@link SimdOuterProduct} (blocks of
 * four vectors, pairs, single vectors, single outputs, row and input tails) on two small layers, round after
 * round, until the JIT has compiled them. Until then the Vector API runs as plain Java that allocates an object
 * per vector operation, 10-100 times slower: on the Zen 5 machine a Fashion-MNIST training spent about its
 * first second there (a one-epoch training took 2.1 s, 1.7 s with this run while the data loads).
 *
 * <p>Compiled is judged by what a chunk of rounds allocates: nothing once C2 has compiled every kernel (the
 * kernel contract SteadyStateAllocationTest checks), an object per vector operation before, in the interpreter
 * and in C1's code alike. Judging by time instead failed: rounds got 50 times faster while the four-row product,
 * a small part of a round, still ran in C1's code. Where the JVM does not count allocated bytes, it cannot tell,
 * and runs {@link #MIN_ROUNDS} rounds. The small shapes keep the uncompiled rounds cheap: the time is mostly the
 * compiler's (0.5 s on the Zen 5 machine). The sums go to arrays nobody reads; the values stay small.
 */
final class SimdWarmUp {
    private SimdWarmUp() {
    }

    private static final int ROUNDS_PER_CHUNK = 250;
    /** HotSpot's tiered policy compiles a method with C2 after 5,000 calls (fewer with loops): past that, twice. */
    private static final int MIN_ROUNDS = 10_000;

    private static boolean compiled;

    static synchronized boolean run(long maxMillis) {
        if (compiled) {
            return true;
        }
        int L = Species.L;
        int wide = 4 * L + L + 1;   // one block of four vectors, one vector, one output left over
        int rows = 5;               // one block of four rows and one row left over
        int narrow = 5;             // one block of four inputs and one left over; fewer outputs than lanes
        SimdDenseLayer fewToMany = new SimdDenseLayer(narrow, wide, true);
        SimdDenseLayer manyToFew = new SimdDenseLayer(wide, narrow, true);
        float[] weights = new float[narrow * wide];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = ((i * 37) % 17 - 8) / 64f;
        }
        fewToMany.load(weights);
        manyToFew.load(weights);
        float[][] in = new float[rows][wide];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < wide; c++) {
                in[r][c] = ((r * 11 + c * 5) % 13 - 6) / 8f;
            }
        }
        float[][] out = new float[rows][wide];
        float[][] grad = new float[wide][wide];
        com.sun.management.ThreadMXBean allocations = allocationCounter();
        long deadline = System.nanoTime() + maxMillis * 1_000_000L;
        for (int round = 0; ; round += ROUNDS_PER_CHUNK) {
            long before = allocations == null ? 0 : allocations.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < ROUNDS_PER_CHUNK; i++) {
                fewToMany.multiply(in[0], 0, out[0]);
                fewToMany.multiplyRows(in, 0, rows, out);
                manyToFew.multiplyRows(in, 0, rows, out);
                manyToFew.multiplyTransposed(in[0], out[1]);
                fewToMany.multiplyTransposed(in[1], out[2]);
                manyToFew.multiplyTransposedThroughRelu(in[2], in[3], out[3]);   // some inputs above 0, some not
                fewToMany.multiplyTransposedThroughRelu(in[3], in[4], out[4]);
                SimdOuterProduct.accumulate(in, in, rows, grad, 0, narrow, wide);
                SimdOuterProduct.accumulate(in, in, rows, grad, 0, wide, narrow);   // weight rows as lanes
                if (i % 64 == 0) {
                    for (float[] g : grad) {
                        java.util.Arrays.fill(g, 0f);   // keeps the sums small
                    }
                }
            }
            if (allocations == null) {
                if (round + ROUNDS_PER_CHUNK >= MIN_ROUNDS || System.nanoTime() >= deadline) {
                    return false;
                }
            } else if (allocations.getCurrentThreadAllocatedBytes() == before) {
                compiled = true;
                return true;
            } else if (System.nanoTime() >= deadline) {
                return false;
            }
        }
    }

    /** The JVM's count of bytes allocated by this thread, or null where it has none. */
    private static com.sun.management.ThreadMXBean allocationCounter() {
        try {
            if (java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx
                    && mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled()) {
                return mx;
            }
        } catch (LinkageError | RuntimeException e) {
            // no jdk.management module here
        }
        return null;
    }
}
