package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.RowBlockKernel;
import dev.mild.testing.TestArrays;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The worker bookkeeping of {@link RowBlockKernel}: an interrupted call, or close() during a call, leaves no
 * worker behind that could write into a later call or keep the caller waiting forever.
 */
class RowBlockKernelTest {
    static final int P = 2;
    static final LossConfig CONFIG = LossConfig.uniform(P, 1.0, 1.0);

    /**
     * A kernel whose row loss is the row's first score, so a batch of constant scores {@code s} has mean
     * {@code s} whichever thread runs which chunk. Hooks let a test hold a chunk on the caller or on a worker.
     */
    static final class ConstantKernel extends RowBlockKernel {
        volatile Thread caller;
        volatile Runnable callerChunkHook;
        volatile Runnable workerChunkHook;

        ConstantKernel(int threads) {
            super(KernelOptions.threads(threads));
        }

        @Override
        public String name() {
            return "constant";
        }

        @Override
        protected double block(LossConfig config, int rows, float[] scores, int scoresOffset, float[] weights,
                               int weightsOffset, float[] rowLoss, int rowLossOffset, float[] grad, int gradOffset,
                               float gradScale) {
            Runnable hook = Thread.currentThread() == caller ? callerChunkHook : workerChunkHook;
            if (hook != null) {
                hook.run();
            }
            float s = scores[scoresOffset];
            if (rowLoss != null) {
                Arrays.fill(rowLoss, rowLossOffset, rowLossOffset + rows, s);
            }
            return rows * (double) s;
        }
    }

    /** Spins (a wait could be cut short by the interrupt flag the test sets) until the condition holds. */
    static void spinUntil(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("waited 10 s for " + what);
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The caller is interrupted while a worker still runs a chunk. Before the fix the caller threw at once;
     * the worker then wrote into the caller's row losses after it had moved on, and its chunk sum landed in
     * the next call's (mean 50.5 instead of 1).
     */
    @Test
    void interruptedCallWaitsForItsWorkerAndLeavesTheNextCallIntact() {
        int rows = 2 * RowBlockKernel.CHUNK_ROWS;
        float[] weights = TestArrays.filled(rows * P, 1f);
        try (ConstantKernel k = new ConstantKernel(2)) {
            Thread caller = Thread.currentThread();
            k.caller = caller;
            // The worker holds its chunk until the caller is blocked waiting for it (the old code never got
            // there: its wait threw at once), so the caller has to handle the interrupt during that wait.
            k.workerChunkHook = () -> {
                k.workerChunkHook = null;
                spinUntil(() -> caller.getState() == Thread.State.WAITING, "the caller to wait for the worker");
            };
            // The caller holds its chunk until the worker has taken the other one.
            k.callerChunkHook = () -> {
                k.callerChunkHook = null;
                spinUntil(() -> k.workerChunkHook == null, "the worker to take a chunk");
            };
            float[] firstLoss = new float[rows];
            caller.interrupt(); // e.g. a cancelled training task
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> k.lossAndGradient(CONFIG,
                    rows, TestArrays.filled(rows * P, 100f), 0, weights, 0, firstLoss, 0, null, 0));
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            assertTrue(Thread.interrupted(), "the interrupt flag is restored for the caller");
            assertArrayEqualsConstant(100f, firstLoss, "the interrupted call's row losses when it threw");

            float[] nextLoss = new float[rows];
            double mean = k.lossAndGradient(CONFIG, rows, TestArrays.filled(rows * P, 1f), 0, weights, 0, nextLoss, 0,
                    null, 0);
            assertEquals(1.0, mean, "mean of the call after the interrupted one");
            assertArrayEqualsConstant(1f, nextLoss, "row losses of the call after the interrupted one");
            assertArrayEqualsConstant(100f, firstLoss, "the interrupted call's row losses after the next call");
        } finally {
            Thread.interrupted();
        }
    }

    /**
     * A chunk that fails on a worker fails the call, with the worker's exception as the cause: the caller's own chunk
     * succeeded, so only the worker's report says the sum misses a chunk (a mutation that dropped that report,
     * found by PIT, returned the mean of half the rows without an error).
     */
    @Test
    void aChunkThatFailsOnAWorkerFailsTheCall() {
        int rows = 2 * RowBlockKernel.CHUNK_ROWS;
        try (ConstantKernel k = new ConstantKernel(2)) {
            k.caller = Thread.currentThread();
            RuntimeException broken = new RuntimeException("broken chunk");
            k.workerChunkHook = () -> {
                k.workerChunkHook = null;
                throw broken;
            };
            // The caller holds its chunk until the worker has taken the other one.
            k.callerChunkHook = () -> {
                k.callerChunkHook = null;
                spinUntil(() -> k.workerChunkHook == null, "the worker to take a chunk");
            };
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> k.lossAndGradient(CONFIG, rows,
                    TestArrays.filled(rows * P, 1f), 0, TestArrays.filled(rows * P, 1f), 0, null, 0, null, 0));
            assertEquals("a loss worker failed", e.getMessage());
            assertSame(broken, e.getCause());
        }
    }

    private static void assertArrayEqualsConstant(float expected, float[] actual, String what) {
        for (int i = 0; i < actual.length; i++) {
            assertEquals(expected, actual[i], what + ", row " + i);
        }
    }

    /**
     * close() from inside a call, on a fresh kernel whose workers have not yet taken the call. Before the fix a
     * worker that saw "closed" first exited without counting itself done, and the caller waited forever.
     */
    @Test
    void closeDuringACallLetsTheCallComplete() {
        int rows = 4 * RowBlockKernel.CHUNK_ROWS;
        float[] scores = TestArrays.filled(rows * P, 3f);
        float[] weights = TestArrays.filled(rows * P, 1f);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            for (int attempt = 0; attempt < 50; attempt++) {
                for (int threads : new int[] {2, 3}) {
                    ConstantKernel k = new ConstantKernel(threads);
                    k.caller = Thread.currentThread();
                    k.callerChunkHook = () -> {
                        k.callerChunkHook = null;
                        k.close();
                    };
                    float[] loss = new float[rows];
                    double mean = k.lossAndGradient(CONFIG, rows, scores, 0, weights, 0, loss, 0, null, 0);
                    assertEquals(3.0, mean, "mean of a call closed in flight, " + threads + " threads");
                    assertArrayEqualsConstant(3f, loss, "row losses of a call closed in flight");
                }
            }
        }, "a call did not return after close() (a worker exited without counting itself done)");
    }

    /**
     * A kernel dropped without close() is collected and its workers stop. Each worker's loop used to be a method of
     * the kernel, so an unclosed kernel stayed reachable from its own idle threads for the life of the JVM (found
     * by a review of the public API's lifetimes). The kernel is used once in parallel first, so the workers have
     * held it during a call.
     */
    @Test
    void aKernelDroppedWithoutCloseIsCollectedAndItsWorkersStop() throws InterruptedException {
        java.util.function.Supplier<List<Thread>> workers = () -> Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("mild-loss-worker-")).toList();
        List<Thread> before = workers.get();
        java.lang.ref.WeakReference<ConstantKernel> ref = dropped(before);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (ref.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(null, ref.get(), "a kernel nobody holds is still reachable (from its worker threads)");
        List<Thread> mine = new ArrayList<>(workers.get());
        mine.removeAll(before);
        for (Thread t : mine) {
            t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            assertTrue(!t.isAlive(), t.getName() + " still runs after its kernel was collected");
        }
    }

    private static java.lang.ref.WeakReference<ConstantKernel> dropped(List<Thread> before) {
        ConstantKernel k = new ConstantKernel(3);
        int rows = 3 * RowBlockKernel.CHUNK_ROWS;
        float[] scores = new float[rows * P];
        Arrays.fill(scores, 0.5f);
        assertEquals(0.5, k.lossAndGradient(CONFIG, rows, scores, 0, new float[rows * P], 0, null, 0, null, 0), 0.0);
        List<Thread> now = new ArrayList<>(Thread.getAllStackTraces().keySet());
        now.removeAll(before);
        assertEquals(2, now.stream().filter(t -> t.getName().startsWith("mild-loss-worker-")).count(),
                "three threads: the caller and two workers");
        return new java.lang.ref.WeakReference<>(k);
    }

    /**
     * close() while eight threads call one kernel (1 or 3 threads of its own; every fast backend, opencl too), as
     * LossKernel.close() describes: each call either returns the bits a lone caller gets or throws
     * IllegalStateException "... backend is closed", nothing else, none hangs, and every call that starts after
     * close() has returned throws. The callers alternate a batch of three chunks (the serialized parallel path) and
     * one of 100 rows (the caller's own thread); close() comes once each has made three calls.
     */
    @TestFactory
    Stream<DynamicTest> closeWhileManyThreadsCallEndsEachCallCleanly() {
        List<DynamicTest> tests = new ArrayList<>();
        int p = 5;
        int rows = 3 * RowBlockKernel.CHUNK_ROWS;
        LossConfig config = LossConfig.mild(0.5, 1.0, 1.0, 2.0, 3.0);
        SplittableRandom random = new SplittableRandom(4);
        float[] scores = TestArrays.gaussian(random, rows * p, 2);
        float[] weights = TestArrays.uniform(random, rows * p, 0, 1);
        int[] sizes = {rows, 100};
        for (String name : Support.fastBackends()) {
            for (int threads : new int[] {1, 3}) {
                tests.add(dynamicTest(name + " threads=" + threads, () -> {
                    float[][] expectedGrad = new float[sizes.length][];
                    long[] expectedMean = new long[sizes.length];
                    try (LossKernel one = Backends.open(name, KernelOptions.threads(1))) {
                        for (int s = 0; s < sizes.length; s++) {
                            expectedGrad[s] = new float[sizes[s] * p];
                            expectedMean[s] = Double.doubleToRawLongBits(one.lossAndGradient(config, sizes[s], scores, 0,
                                    weights, 0, null, 0, expectedGrad[s], 0));
                        }
                    }
                    int callers = 8;
                    LossKernel k = Backends.open(name, KernelOptions.threads(threads));
                    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(callers);
                    java.util.concurrent.atomic.AtomicBoolean closeReturned = new java.util.concurrent.atomic.AtomicBoolean();
                    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(callers);
                    try {
                        List<java.util.concurrent.Future<String>> results = new ArrayList<>();
                        for (int c = 0; c < callers; c++) {
                            int caller = c;
                            results.add(pool.submit(() -> {
                                for (int call = 0; ; call++) {
                                    int s = (call + caller) % sizes.length;
                                    boolean afterClose = closeReturned.get();
                                    float[] grad = new float[sizes[s] * p];
                                    try {
                                        double mean = k.lossAndGradient(config, sizes[s], scores, 0, weights, 0, null, 0,
                                                grad, 0);
                                        if (afterClose) {
                                            return "a call started after close() returned ran";
                                        }
                                        if (Double.doubleToRawLongBits(mean) != expectedMean[s]
                                                || !Arrays.equals(grad, expectedGrad[s])) {
                                            return "a call of " + sizes[s] + " rows gave other bits than a lone caller's";
                                        }
                                    } catch (IllegalStateException e) {
                                        if (e.getMessage() == null || !e.getMessage().contains("is closed")) {
                                            return "unexpected " + e;
                                        }
                                        if (afterClose) {
                                            return null;
                                        }
                                    } catch (RuntimeException e) {
                                        return "unexpected " + e;
                                    }
                                    if (call == 2) {
                                        started.countDown();
                                    }
                                }
                            }));
                        }
                        started.await();
                        k.close();
                        closeReturned.set(true);
                        for (java.util.concurrent.Future<String> f : results) {
                            assertEquals(null, f.get(60, java.util.concurrent.TimeUnit.SECONDS));
                        }
                    } finally {
                        pool.shutdownNow();
                        k.close();
                    }
                }));
            }
        }
        return tests.stream();
    }

    /**
     * A kernel whose worker threads the system refuses part-way (a process's thread or memory limit) stops the ones
     * it had started and says so. Before, Backends.open threw the JVM's OutOfMemoryError "unable to create native
     * thread" (which ./mild reported as a heap too small for the data) and the workers started before it waited for
     * calls for the life of the JVM, with no kernel to close them: 13 of them in this test's child JVM. The child
     * runs under {@code ulimit -v} with 256 MB thread stacks, so that about a dozen threads fit, and asks for
     * {@link KernelOptions#MAX_THREADS}.
     */
    @Test
    void workersThatCannotAllStartAreStoppedAndNamed() throws Exception {
        String out = Support.underAThreadLimit(TooManyWorkersChild.class);
        org.junit.jupiter.api.Assumptions.assumeFalse(out.contains("opened"),
                "every worker started under this limit here: " + out);
        assertTrue(out.contains("open failed: dev.mild.InvalidInputException: cannot start 4096 threads for the loss"
                + " kernel: the system refused worker thread "), out);
        assertTrue(out.contains("use fewer threads"), out);
        assertTrue(out.contains("workers alive: 0"), out);
    }

    /** The child JVM of {@link #workersThatCannotAllStartAreStoppedAndNamed}. */
    static final class TooManyWorkersChild {
        public static void main(String[] args) throws InterruptedException {
            try (LossKernel k = Backends.open("scalar", KernelOptions.threads(KernelOptions.MAX_THREADS))) {
                System.out.println("opened " + k.describe());
            } catch (Throwable t) {
                System.out.println("open failed: " + t);
            }
            // The workers exit once they see the crew closed: wait for them, up to a bound that only the old code
            // (whose workers never exit) reaches.
            long deadline = System.nanoTime() + 20_000_000_000L;
            long alive;
            while ((alive = workers()) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            System.out.println("workers alive: " + alive);
        }

        static long workers() {
            return Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("mild-loss-worker-") && t.isAlive()).count();
        }
    }

    /** A closed kernel refuses every call, however many rows and threads (a one-chunk batch used to run). */
    @Test
    void closedKernelRefusesEveryCall() {
        for (int threads : new int[] {1, 2}) {
            ConstantKernel k = new ConstantKernel(threads);
            k.close();
            k.close(); // closing twice is harmless
            for (int rows : new int[] {0, 1, RowBlockKernel.CHUNK_ROWS, RowBlockKernel.CHUNK_ROWS + 1}) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> k.lossAndGradient(CONFIG,
                        rows, new float[rows * P], 0, new float[rows * P], 0, null, 0, null, 0),
                        rows + " rows, " + threads + " threads");
                assertEquals("constant backend is closed", e.getMessage());
            }
        }
    }

    /**
     * The reviewer's reproducer on the real CPU backends: calls interrupted before they start (some throw,
     * some finish first), each followed by a call whose mean must match a one-thread run bit for bit. Before
     * the fix about one in five following calls was wrong.
     */
    @TestFactory
    Stream<DynamicTest> interruptedCallsDoNotChangeTheNextCallOnCpuBackends() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Support.hostThreadBackends()) {
            tests.add(dynamicTest(name, () -> {
                int p = 64;
                int rows = 2 * RowBlockKernel.CHUNK_ROWS;
                LossConfig config = LossConfig.uniform(p, 1.0, 1.0);
                SplittableRandom random = new SplittableRandom(1);
                float[] scores1 = TestArrays.gaussian(random, rows * p, 1);
                float[] scores2 = TestArrays.gaussian(random, rows * p, 1);
                float[] weights2 = TestArrays.uniform(random, rows * p, 0, 1);
                float[] weights1 = TestArrays.filled(rows * p, 100f); // a mean 100 times the second call's
                double expected;
                try (LossKernel one = Backends.open(name, KernelOptions.threads(1))) {
                    expected = one.lossAndGradient(config, rows, scores2, 0, weights2, 0, null, 0, null, 0);
                }
                float[] grad = new float[rows * p];
                try (LossKernel k = Backends.open(name, KernelOptions.threads(2))) {
                    for (int attempt = 0; attempt < 100; attempt++) {
                        Thread.currentThread().interrupt();
                        try {
                            k.lossAndGradient(config, rows, scores1, 0, weights1, 0, null, 0, grad, 0);
                        } catch (IllegalStateException interrupted) {
                            // expected when the interrupt reached the wait for the worker
                        }
                        assertTrue(Thread.interrupted(), "the interrupt flag is kept");
                        double mean = k.lossAndGradient(config, rows, scores2, 0, weights2, 0, null, 0, null, 0);
                        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(mean),
                                "attempt " + attempt + ": mean " + mean + " after an interrupted call, expected "
                                        + expected);
                    }
                } finally {
                    Thread.interrupted();
                }
            }));
        }
        return tests.stream();
    }
}
