package dev.mild.simd;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.RandomBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongPredicate;

/**
 * {@link SimdDenseProduct#warmUp} and {@link SimdKernel#warmUp}: every path of the kernels on small made-up inputs
 * (for the dense products, blocks of four vectors, pairs, single vectors, single outputs, row and input tails on
 * two small layers), round after round, until the JIT has compiled them. Until then the Vector API runs as plain Java that allocates an object
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

    /** HotSpot's tiered policy compiles a method with C2 after 5,000 calls (fewer with loops): past that, twice. */
    private static final int MIN_ROUNDS = 10_000;

    private static volatile boolean denseCompiled;
    private static volatile boolean lossCompiled;
    // Locks with a timeout, not synchronized: a thread asking for a short warm-up while another runs a long one
    // waited for the long one's whole bound (a call given 50 ms returned after the other's 1.5 s).
    private static final ReentrantLock DENSE = new ReentrantLock();
    private static final ReentrantLock LOSS = new ReentrantLock();

    /** Whether some thread is running the loss kernel's warm-up now (for SimdWarmUpTest). */
    static boolean lossWarmUpRunning() {
        return LOSS.isLocked();
    }

    /** {@link SimdDenseProduct#warmUp}. */
    static boolean denseProducts(long maxMillis) {
        return once(DENSE, () -> denseCompiled, maxMillis, SimdWarmUp::denseProductsLocked);
    }

    private static boolean denseProductsLocked(long deadline) {
        int L = Species.L;
        int wide = 4 * L + L + 1;   // one block of four vectors, one vector, one output left over
        int rows = 5;               // one block of four rows and one row left over
        int narrow = 5;             // one block of four inputs and one left over; fewer outputs than lanes
        SimdDenseLayer fewToMany = new SimdDenseLayer(narrow, wide, true);
        SimdDenseLayer manyToFew = new SimdDenseLayer(wide, narrow, true);
        // Outputs that fill whole vectors too: C2 turns a branch never taken into a trap, and at 64 outputs the
        // first real products then fell back to the interpreter (SimdWarmUpTest).
        SimdDenseLayer whole = new SimdDenseLayer(narrow, 2 * L, true);
        float[] weights = new float[narrow * wide];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = ((i * 37) % 17 - 8) / 64f;
        }
        fewToMany.load(weights);
        manyToFew.load(weights);
        whole.load(weights);
        float[][] in = new float[rows][wide];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < wide; c++) {
                in[r][c] = ((r * 11 + c * 5) % 13 - 6) / 8f;
            }
        }
        float[][] out = new float[rows][wide];
        float[][] grad = new float[wide][wide];
        denseCompiled = untilCompiled(250, deadline, i -> {
            fewToMany.multiply(in[0], 0, out[0]);
            fewToMany.multiplyRows(in, 0, rows, out);
            manyToFew.multiplyRows(in, 0, rows, out);
            whole.multiply(in[1], 0, out[1]);
            whole.multiplyRows(in, 0, rows, out);
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
        });
        return denseCompiled;
    }

    /**
     * {@link SimdKernel#warmUp}: both layouts and both members on batches of 17 rows (a block of lanes and a row
     * left over at every width): 2, 3 (not a power of two), 8 and 16 experts (tiles in registers) with distinct
     * margins, 8 with equal ones; experts in lanes at 40, 64 and 130 experts with equal margins and at 64 with two
     * margins (3 rows each); at 8 the general member ({@code nu = 0.5}) and additive margins. With experts in lanes
     * at 40 only, calls at 64 experts (16 lanes) and at 96 and 130 (8 lanes) after the warm-up allocated again: the
     * number of vectors a row takes reaches code C2 had not compiled. One kernel per configuration, single-threaded, so each keeps its plan.
     */
    static boolean lossKernel(long maxMillis) {
        return once(LOSS, () -> lossCompiled, maxMillis, SimdWarmUp::lossKernelLocked);
    }

    private static boolean lossKernelLocked(long deadline) {
        int rows = 17;
        double[] delta = new double[8];
        java.util.Arrays.fill(delta, 0.25);
        RandomBatch eight = RandomBatch.of(8, rows, 8, false);
        RandomBatch many = RandomBatch.of(64, 3, 64, true);
        double[] twoMargins = new double[64];
        for (int k = 0; k < 64; k++) {
            twoMargins[k] = k < 32 ? 1.0 : 0.5;
        }
        List<RandomBatch> batches = List.of(RandomBatch.of(2, rows, 2, false), RandomBatch.of(3, rows, 3, false),
                eight, RandomBatch.of(16, rows, 16, false), RandomBatch.of(9, rows, 8, true),
                RandomBatch.of(40, 3, 40, true), many, RandomBatch.of(130, 3, 130, true),
                new RandomBatch(3, 64, many.scores(), many.weights(), LossConfig.of(twoMargins, null, 1.0)),
                RandomBatch.of(5, rows, 8, false, 0.5),
                new RandomBatch(rows, 8, eight.scores(), eight.weights(), LossConfig.of(eight.config().rho(), delta, 1.0)));
        List<SimdKernel> kernels = new ArrayList<>();
        float[] loss = new float[rows];
        float[] grad = new float[rows * 130];
        try {
            for (int k = 0; k < batches.size(); k++) {
                kernels.add(new SimdKernel(KernelOptions.threads(1)));
            }
            lossCompiled = untilCompiled(20, deadline, i -> {
                for (int k = 0; k < batches.size(); k++) {
                    RandomBatch b = batches.get(k);
                    kernels.get(k).lossAndGradient(b.config(), b.rows(), b.scores(), 0, b.weights(), 0, loss, 0, grad, 0);
                }
            });
            for (int k = 0; k < batches.size() && lossCompiled; k++) {
                RandomBatch b = batches.get(k);
                SimdKernel kernel = kernels.get(k);
                lossCompiled = onAFreshThread(deadline, i -> kernel.lossAndGradient(b.config(), b.rows(), b.scores(), 0,
                        b.weights(), 0, loss, 0, grad, 0));
            }
            if (!lossCompiled) {
                logStillAllocating(batches, kernels, loss, grad);
            }
        } finally {
            kernels.forEach(SimdKernel::close);
        }
        return lossCompiled;
    }

    /**
     * One configuration's calls again on a new thread, until compiled again. The rounds above run on one thread's
     * scratch, grown once to the largest p and then reused; another thread's first call grows a scratch of its own,
     * arrays sized for its p, which the compiled code had never seen. Without this, the first calls of the first
     * other thread after the warm-up sent the compiled kernel back to the interpreter (C2's traps in
     * {@code Scratch.ensure} and a loop predicate in {@code VectorMath.exp2Groups}): at 64 rows of 8 experts, about
     * 1,100 calls 20 times slower that allocated 60 KB each, until the JIT had compiled it again.
     */
    private static boolean onAFreshThread(long deadline, java.util.function.IntConsumer round) {
        boolean[] compiled = new boolean[1];
        Thread fresh = new Thread(() -> {
            Runnable hook = beforeFreshThreadRounds;
            if (hook != null) {
                hook.run();
            }
            compiled[0] = untilCompiled(20, deadline, round);
        }, "mild-simd-warm-up");
        fresh.setDaemon(true);
        fresh.start();
        boolean interrupted = false;
        while (true) {
            try {
                fresh.join(); // it checks the deadline after every round
                break;
            } catch (InterruptedException e) {
                // Stop it and still wait: the caller closes the kernels it calls once this returns. Returning at
                // once left it calling closed kernels, and it died with a stack trace on its own thread.
                interrupted = true;
                fresh.interrupt();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            return false;
        }
        return compiled[0];
    }

    /** For SimdWarmUpTest: runs on each fresh thread before its rounds, to hold it there; null in use. */
    static volatile Runnable beforeFreshThreadRounds;

    /**
     * Says which configurations still allocate when the warm-up ends at its bound, so that a {@code false} can be
     * told apart: a JIT still busy (every configuration allocates), or one configuration compiled into code that
     * allocates (a boxed vector), which stays that way in this JVM. In one CI run a warm-up ended at its bound five
     * times in a row in the test suite's JVM, and nothing said why.
     */
    private static void logStillAllocating(List<RandomBatch> batches, List<SimdKernel> kernels, float[] loss,
                                           float[] grad) {
        com.sun.management.ThreadMXBean allocations = allocationCounter();
        if (allocations == null || !LOG.isLoggable(System.Logger.Level.WARNING)) {
            return;
        }
        StringBuilder still = new StringBuilder();
        for (int k = 0; k < batches.size(); k++) {
            RandomBatch b = batches.get(k);
            long before = allocations.getCurrentThreadAllocatedBytes();
            kernels.get(k).lossAndGradient(b.config(), b.rows(), b.scores(), 0, b.weights(), 0, loss, 0, grad, 0);
            long bytes = allocations.getCurrentThreadAllocatedBytes() - before;
            if (bytes > 0) {
                LossConfig c = b.config();
                still.append(still.isEmpty() ? "" : "; ").append(c.experts()).append(" experts, ")
                        .append(c.groups() == 1 ? "one margin" : c.groups() + " margins")
                        .append(c.nu() != 1.0 ? ", nu " + c.nu() : "").append(c.hasDelta() ? ", additive margins" : "")
                        .append(": ").append(bytes).append(" bytes a call of ").append(b.rows()).append(" rows");
            }
        }
        LOG.log(System.Logger.Level.WARNING, "simd loss kernel: the warm-up ended at its bound with calls still"
                + " allocating (" + (still.isEmpty() ? "none in a last check" : still) + ")");
    }

    private static final System.Logger LOG = System.getLogger("dev.mild");

    /** {@link System#nanoTime} {@code maxMillis} from now, saturated (a bound of Long.MAX_VALUE ms overflowed). */
    private static long deadline(long maxMillis) {
        try {
            return Math.addExact(System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(Math.max(0, maxMillis)));
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Runs {@code warmUp} with the deadline {@code maxMillis} from now, unless {@code done}; waits for another
     * thread's run of it at most until that deadline, then answers {@code done} (also on interrupt).
     */
    private static boolean once(ReentrantLock lock, BooleanSupplier done, long maxMillis, LongPredicate warmUp) {
        if (done.getAsBoolean()) {
            return true;
        }
        long deadline = deadline(maxMillis);
        try {
            if (!lock.tryLock(Math.max(0, maxMillis), TimeUnit.MILLISECONDS)) {
                return done.getAsBoolean();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return done.getAsBoolean();
        }
        try {
            return done.getAsBoolean() || warmUp.test(deadline);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code round} (given its number in the chunk) in chunks of {@code roundsPerChunk}: {@code true} at the
     * first chunk that allocates nothing; {@code false} past {@code deadline} ({@link System#nanoTime}) or once the
     * thread is interrupted, or, where
     * the JVM does not count allocated bytes, after {@link #MIN_ROUNDS} rounds. The deadline is checked after every
     * round, not every chunk: uncompiled, a chunk of the loss kernel's rounds took 3-5 s on a loaded machine, so a
     * warm-up bounded at 1 ms returned after that long.
     */
    static boolean untilCompiled(int roundsPerChunk, long deadline, java.util.function.IntConsumer round) {
        com.sun.management.ThreadMXBean allocations = allocationCounter();
        for (int done = 0; ; done += roundsPerChunk) {
            long before = allocations == null ? 0 : allocations.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < roundsPerChunk; i++) {
                if (Thread.currentThread().isInterrupted()) {
                    return false;   // asked to stop (the flag stays set for the caller)
                }
                round.accept(i);
                if (i < roundsPerChunk - 1 && System.nanoTime() >= deadline) {
                    return false;   // a part of a chunk cannot show it allocates nothing
                }
            }
            if (allocations == null) {
                if (done + roundsPerChunk >= MIN_ROUNDS || System.nanoTime() >= deadline) {
                    return false;
                }
            } else if (allocations.getCurrentThreadAllocatedBytes() == before) {
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
