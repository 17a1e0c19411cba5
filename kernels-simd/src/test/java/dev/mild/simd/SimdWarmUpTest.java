package dev.mild.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.RandomBatch;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link SimdDenseProduct#warmUp} does what it promises: once it says the products are compiled, the first calls on
 * new layers of real shapes (a Fashion-MNIST layer, a hidden one, a score layer) allocate nothing, where in a JVM
 * without it the same calls allocate (so the count can see it). Each in a fresh JVM ({@link #main}), as a command
 * or a service starts.
 */
class SimdWarmUpTest {
    private static final Pattern BYTES = Pattern.compile("first calls: (\\d+) bytes");
    /**
     * What the calls after a warm-up may allocate in all: a vector or two once, when the JIT recompiles a method
     * under load (96 bytes at 256 bits, the load average at 6, in one of three runs). A call that ran uncompiled would
     * allocate kilobytes; without the warm-up these calls allocate about 1 GB.
     */
    private static final long JIT_NOISE_BYTES = 1024;

    @Test
    void afterTheWarmUpTheFirstProductsOnRealShapesAllocateNothing() throws IOException, InterruptedException {
        // Float lanes only, so every width counts (SteadyStateAllocationTest's 128-bit exception is about double masks).
        assumeTrue(((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).isThreadAllocatedMemorySupported(),
                "this JVM does not count allocated bytes");
        SteadyStateAllocationTest.Child cold = SteadyStateAllocationTest.runChild(SimdWarmUpTest.class, List.of(), 120, "cold");
        assertEquals(0, cold.exit(), cold.output());
        assertTrue(bytes(cold) > 0, "without the warm-up the first calls run uncompiled and allocate: " + cold.output());

        SteadyStateAllocationTest.Child warm = SteadyStateAllocationTest.runChild(SimdWarmUpTest.class, List.of(), 120, "warm");
        assertEquals(0, warm.exit(), warm.output());
        assumeTrue(warm.output().contains("warmUp: true"), "the compiler did not finish within the bound here: "
                + warm.output());
        assertTrue(bytes(warm) <= JIT_NOISE_BYTES, "the first calls after warmUp() allocate: " + warm.output());
    }

    /**
     * The loss kernel's warm-up: afterwards calls on real batch sizes allocate nothing from the second call of each
     * configuration on (the first may grow the per-thread scratch once), where without it they allocate.
     */
    @Test
    void afterTheWarmUpTheLossKernelAllocatesNothing() throws IOException, InterruptedException {
        SteadyStateAllocationTest.assumeCountable(); // the general member's double masks at 128 bits on x86 allocate
        SteadyStateAllocationTest.Child cold = SteadyStateAllocationTest.runChild(SimdWarmUpTest.class, List.of(), 120, "cold", "loss");
        assertEquals(0, cold.exit(), cold.output());
        assertTrue(bytes(cold) > 0, "without the warm-up the calls run uncompiled and allocate: " + cold.output());

        SteadyStateAllocationTest.Child warm = SteadyStateAllocationTest.runChild(SimdWarmUpTest.class, List.of(), 120, "warm", "loss");
        assertEquals(0, warm.exit(), warm.output());
        assumeTrue(warm.output().contains("warmUp: true"), "the compiler did not finish within the bound here: "
                + warm.output());
        assertTrue(bytes(warm) <= JIT_NOISE_BYTES, "calls after warmUp() allocate: " + warm.output());
    }

    /**
     * The same calls on another thread than the warm-up's, as a service's pool or a trainer's threads make them: the
     * first call of each configuration grows that thread's own scratch, and nothing more is allocated. Before the
     * warm-up ran its calls on fresh threads too, the first other thread's calls went back to the interpreter (C2
     * had compiled the kernel for the warm-up thread's scratch, grown to the largest p): at 64 rows of 8 experts,
     * about 1,100 calls 20 times slower that allocated 60 KB each (an embedding review).
     */
    @Test
    void afterTheWarmUpAnotherThreadsCallsAllocateNothing() throws IOException, InterruptedException {
        SteadyStateAllocationTest.assumeCountable();
        SteadyStateAllocationTest.Child warm = SteadyStateAllocationTest.runChild(SimdWarmUpTest.class, List.of(), 120,
                "warm", "loss", "thread");
        assertEquals(0, warm.exit(), warm.output());
        assumeTrue(warm.output().contains("warmUp: true"), "the compiler did not finish within the bound here: "
                + warm.output());
        assertTrue(bytes(warm) <= JIT_NOISE_BYTES, "another thread's calls after warmUp() allocate: " + warm.output());
    }

    @Test
    void laterCallsReturnAtOnceAndTheBoundIsKept() {
        long t0 = System.nanoTime();
        boolean first = SimdWarmUp.denseProducts(1);   // 1 ms: far too short to see compiled code, unless already compiled
        long took = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(took < 1000, "a 1 ms bound took " + took + " ms"); // one round past the bound at most
        if (first) {
            assertTrue(SimdWarmUp.denseProducts(0));
        }
    }

    /**
     * The bound is checked after every round, not only after a chunk: a chunk of the loss kernel's 20 rounds ran
     * 3-5 s uncompiled on a loaded machine, and a warm-up bounded at 1 ms took that long. A chunk that ends within
     * the bound and allocates nothing still says compiled.
     */
    @Test
    void theBoundIsCheckedAfterEveryRound() {
        int[] rounds = {0};
        assertFalse(SimdWarmUp.untilCompiled(20, System.nanoTime() - 1, i -> rounds[0]++));
        assertEquals(1, rounds[0], "rounds run after the deadline had passed");

        rounds[0] = 0;
        boolean counted = ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).isThreadAllocatedMemoryEnabled();
        assertEquals(counted, SimdWarmUp.untilCompiled(20, Long.MAX_VALUE, i -> rounds[0]++));
        assertEquals(counted ? 20 : 10_000, rounds[0], "a chunk that allocates nothing ends the warm-up");
    }

    /** An interrupted thread's warm-up stops after the round in hand and keeps the thread's interrupt status. */
    @Test
    void anInterruptStopsTheRounds() {
        int[] rounds = {0};
        assertFalse(SimdWarmUp.untilCompiled(20, Long.MAX_VALUE, i -> {
            if (++rounds[0] == 3) {
                Thread.currentThread().interrupt();
            }
        }));
        assertTrue(Thread.interrupted(), "the interrupt status was cleared"); // and cleared here for the next test
        assertEquals(3, rounds[0], "rounds run after the interrupt");
    }

    /**
     * A short warm-up asked for while another thread runs a long one returns within its own bound, not the other's:
     * both were synchronized, and a 50 ms call waited for the other's whole warm-up (about 1.5 s here). In a fresh
     * JVM, so that the first warm-up really runs.
     */
    @Test
    void aShortWarmUpDoesNotWaitForALongOne() throws IOException, InterruptedException {
        SteadyStateAllocationTest.Child child = SteadyStateAllocationTest.runChild(SimdWarmUpTest.class, List.of(), 120,
                "contended");
        assertEquals(0, child.exit(), child.output());
        Matcher m = Pattern.compile("second: (true|false) in (\\d+) ms, first still running: (true|false)")
                .matcher(child.output());
        assertTrue(m.find(), child.output());
        assumeTrue(m.group(3).equals("true"), "the first warm-up ended before the second call returned: " + child.output());
        assertTrue(Long.parseLong(m.group(2)) < 500, "a 50 ms warm-up waited for the other one: " + child.output());
    }

    /**
     * A warm-up that ends at its bound says which configurations still allocate, and how much: here a 1 ms bound in
     * a fresh JVM, where nothing is compiled yet, so every configuration is named.
     */
    @Test
    void aWarmUpEndedAtItsBoundSaysWhatStillAllocates() throws IOException, InterruptedException {
        SteadyStateAllocationTest.assumeCountable();
        SteadyStateAllocationTest.Child child = SteadyStateAllocationTest.runChild(SimdWarmUpTest.class, List.of(), 120,
                "short");
        assertEquals(0, child.exit(), child.output());
        assertTrue(child.output().contains("warmUp: false"), child.output());
        Matcher m = Pattern.compile("simd loss kernel: the warm-up ended at its bound with calls still allocating \\((.*)\\)")
                .matcher(child.output());
        assertTrue(m.find(), child.output());
        String still = m.group(1);
        for (String part : new String[] {"2 experts, 2 margins: ", "130 experts, one margin: ", "64 experts, 2 margins: ",
                "8 experts, 8 margins, nu 0.5: ", "8 experts, 8 margins, additive margins: "}) {
            assertTrue(still.contains(part), part + " in: " + still);
        }
        assertTrue(still.matches("(\\d+ experts, [^:]+: [1-9]\\d* bytes a call of \\d+ rows(; |$))+"), still);
    }

    /**
     * Interrupting a warm-up while its fresh thread runs (see {@code SimdWarmUp.onAFreshThread}) stops that thread
     * before the warm-up returns and closes the kernels it calls. It returned at once and closed them under the
     * thread, which then died on a closed kernel with a stack trace of its own. The fresh thread is held at its start
     * (a test hook) so that the interrupt always comes while it runs; in a fresh JVM, so that the warm-up runs.
     */
    @Test
    void anInterruptedWarmUpStopsItsFreshThreadBeforeReturning() throws IOException, InterruptedException {
        SteadyStateAllocationTest.assumeCountable(); // the fresh threads start once the rounds allocate nothing
        SteadyStateAllocationTest.Child child = SteadyStateAllocationTest.runChild(SimdWarmUpTest.class, List.of(), 120,
                "interrupted");
        assertEquals(0, child.exit(), child.output());
        assumeTrue(!child.output().contains("no fresh thread"), "the warm-up did not reach its fresh threads here: "
                + child.output());
        assertTrue(child.output().contains("returned: false, fresh thread still running: false, died: []"),
                child.output());
    }

    private static long bytes(SteadyStateAllocationTest.Child child) {
        Matcher m = BYTES.matcher(child.output());
        assertTrue(m.find(), child.output());
        return Long.parseLong(m.group(1));
    }

    /** {@code contended}: two warm-ups at once. {@code warm}: the warm-up first; {@code cold}: not. Then the first calls of every dense product, or with {@code loss} the loss kernel. */
    public static void main(String[] args) throws InterruptedException {
        if (args[0].equals("short")) {
            System.out.println("warmUp: " + SimdWarmUp.lossKernel(1));
            return;
        }
        if (args[0].equals("interrupted")) {
            interrupted();
            return;
        }
        if (args[0].equals("contended")) {
            // 5 s: far longer than the second's 50 ms, and at 128 bits, where the warm-up never ends (see
            // SimdKernel.warmUp), the child waited out a 60 s bound in every build
            Thread first = new Thread(() -> SimdWarmUp.lossKernel(5_000));
            first.start();
            // Until the first holds the warm-up: a fixed 100 ms sleep was too short on a loaded machine, and the
            // second call, finding the warm-up free, ran it itself (4 s, in a fresh clone's CI beside other builds)
            long waitUntil = System.nanoTime() + 60_000_000_000L;
            while (!SimdWarmUp.lossWarmUpRunning() && first.isAlive() && System.nanoTime() < waitUntil) {
                Thread.sleep(1);
            }
            long t0 = System.nanoTime();
            boolean second = SimdWarmUp.lossKernel(50);
            long took = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("second: " + second + " in " + took + " ms, first still running: " + first.isAlive());
            first.join();
            return;
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (args.length > 1 && args[1].equals("loss")) {
            boolean warm = args[0].equals("warm");
            if (args.length > 2 && args[2].equals("thread")) {
                Thread other = new Thread(() -> lossOnAnotherThread(mx));
                if (warm) {
                    try (SimdKernel k = new SimdKernel(KernelOptions.threads(1))) {
                        System.out.println("warmUp: " + k.warmUp(20_000));
                    }
                }
                other.start();
                other.join();
                return;
            }
            loss(warm, mx);
            return;
        }
        if (args[0].equals("warm")) {
            System.out.println("warmUp: " + new SimdDenseProduct().warmUp(60_000));
        }
        Random rnd = new Random(7);
        long bytes = 0;
        for (int[] shape : new int[][] {{784, 64}, {64, 64}, {64, 3}}) {
            SimdDenseLayer layer = new SimdDenseLayer(shape[0], shape[1], true);
            float[] w = new float[shape[0] * shape[1]];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) rnd.nextGaussian() * 0.05f;
            }
            layer.load(w);
            int rows = 67;
            float[][] in = new float[rows][shape[0]];
            float[][] delta = new float[rows][shape[1]];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < shape[0]; c++) {
                    in[r][c] = (float) rnd.nextGaussian();
                }
                for (int j = 0; j < shape[1]; j++) {
                    delta[r][j] = (float) rnd.nextGaussian();
                }
            }
            float[][] out = new float[rows][shape[1]];
            float[] down = new float[shape[0]];
            float[][] dw = new float[shape[0]][shape[1]];
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 3; i++) {
                layer.multiply(in[i], 0, out[i]);
                layer.multiplyRows(in, 0, rows, out);
                layer.multiplyTransposed(delta[i], down);
                layer.multiplyTransposedThroughRelu(delta[i], in[i + 1], down);
                SimdOuterProduct.accumulate(in, delta, rows, dw, 0, shape[0], shape[1]);
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            System.out.println(shape[0] + " x " + shape[1] + ": " + allocated + " bytes");
            bytes += allocated;
        }
        System.out.println("first calls: " + bytes + " bytes");
    }

    /** Interrupts a warm-up while its first fresh thread is held at its start, then lets that thread go on. */
    private static void interrupted() throws InterruptedException {
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<Thread> fresh = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Throwable> died = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> died.add(e));
        SimdWarmUp.beforeFreshThreadRounds = () -> {
            fresh.add(Thread.currentThread());
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the warm-up's own loop sees it
            }
        };
        boolean[] returned = new boolean[1];
        Thread caller = new Thread(() -> returned[0] = SimdWarmUp.lossKernel(60_000));
        caller.start();
        if (!held.await(90, java.util.concurrent.TimeUnit.SECONDS)) {
            System.out.println("no fresh thread: the rounds were not compiled within the bound");
            caller.join();
            return;
        }
        caller.interrupt();
        caller.join();
        boolean running = fresh.stream().anyMatch(Thread::isAlive);
        release.countDown();
        for (Thread t : fresh) {
            t.join();
        }
        System.out.println("returned: " + returned[0] + ", fresh thread still running: " + running + ", died: " + died);
    }

    /**
     * A service's calls after the warm-up, on a thread that has not called the kernel yet: 64 rows of 8 experts
     * with equal and distinct margins, 5 experts, and the general member; one call each, then 100 measured.
     */
    private static void lossOnAnotherThread(com.sun.management.ThreadMXBean mx) {
        List<RandomBatch> batches = List.of(RandomBatch.of(1, 64, 8, true), RandomBatch.of(2, 64, 8, false),
                RandomBatch.of(3, 64, 5, false), RandomBatch.of(4, 64, 8, false, 0.5));
        printFirstCalls(batches, 100, null, new float[64 * 8], mx);
    }

    /**
     * The loss kernel: one call each of seven configurations at sizes the warm-up did not use (4099 rows; 200 rows
     * of 64, 96 and 130 experts in lanes), then three more measured.
     */
    private static void loss(boolean warmUp, com.sun.management.ThreadMXBean mx) {
        if (warmUp) {
            try (SimdKernel k = new SimdKernel(KernelOptions.threads(1))) {
                System.out.println("warmUp: " + k.warmUp(20_000));
            }
        }
        int rows = 4099;
        double[] delta = new double[8];
        java.util.Arrays.fill(delta, 0.5);
        RandomBatch eight = RandomBatch.of(1, rows, 8, false);
        double[] twoMargins = new double[96];
        for (int k = 0; k < 96; k++) {
            twoMargins[k] = k % 2 == 0 ? 1.0 : 2.0;
        }
        RandomBatch wide = RandomBatch.of(6, 200, 96, false);
        List<RandomBatch> batches = List.of(eight, RandomBatch.of(2, rows, 3, true), RandomBatch.of(3, 200, 64, true),
                RandomBatch.of(7, 200, 130, true), new RandomBatch(200, 96, wide.scores(), wide.weights(),
                        LossConfig.of(twoMargins, null, 1.0)),
                RandomBatch.of(4, rows, 5, false, 0.5),
                new RandomBatch(rows, 8, eight.scores(), eight.weights(), LossConfig.of(eight.config().rho(), delta, 1.0)));
        printFirstCalls(batches, 3, new float[rows], new float[rows * 130], mx);
    }

    /**
     * On a new kernel, one call of each batch (it may grow this thread's scratch), then {@code measured} more whose
     * allocated bytes are printed, and their sum as "first calls: N bytes".
     */
    private static void printFirstCalls(List<RandomBatch> batches, int measured, float[] loss, float[] grad,
                                        com.sun.management.ThreadMXBean mx) {
        long bytes = 0;
        try (SimdKernel k = new SimdKernel(KernelOptions.threads(1))) {
            for (RandomBatch b : batches) {
                k.lossAndGradient(b.config(), b.rows(), b.scores(), 0, b.weights(), 0, loss, 0, grad, 0);
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < measured; i++) {
                    k.lossAndGradient(b.config(), b.rows(), b.scores(), 0, b.weights(), 0, loss, 0, grad, 0);
                }
                long allocated = mx.getCurrentThreadAllocatedBytes() - before;
                System.out.println(b.experts() + " experts, " + b.config() + ": " + allocated + " bytes");
                bytes += allocated;
            }
        }
        System.out.println("first calls: " + bytes + " bytes");
    }
}
