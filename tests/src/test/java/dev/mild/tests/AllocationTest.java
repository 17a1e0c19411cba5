package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.RandomBatch;
import dev.mild.loss.RowBlockKernel;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The hot path allocates nothing: after a warm-up, thousands of calls of a CPU backend (one chunk on the
 * caller's thread, and several chunks on a pool) leave the calling thread's allocation counter where it
 * was, up to a few hundred bytes of JIT and class-loading noise.
 *
 * <p>Each case warms up on its own calls, until a round of them allocates no more than that noise (the JIT has
 * compiled this path), and fails if that does not happen within {@link #WARM_UP_SECONDS}: a kernel that still
 * allocates after so many calls is the bug this test is for (a vector C2 boxes for good). It used
 * {@code LossKernel.warmUp(60_000)} and skipped when that returned false; in one CI run (beeea79) that warm-up,
 * which compiles eleven configurations, did not finish in the full suite's JVM, and all five SIMD cases were
 * skipped after 300 s.
 */
class AllocationTest {
    static final long NOISE_BYTES = 2048;
    /** How long a case may call before its calls stop allocating; C2 needs a few seconds at most. */
    static final int WARM_UP_SECONDS = 120;
    private static final int ROUND = 100;

    @TestFactory
    Stream<DynamicTest> cpuBackendsDoNotAllocatePerCall() {
        var bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean tb && tb.isThreadAllocatedMemorySupported(),
                "this JVM cannot count allocated bytes per thread");
        com.sun.management.ThreadMXBean threadBean = (com.sun.management.ThreadMXBean) bean;
        threadBean.setThreadAllocatedMemoryEnabled(true);
        List<DynamicTest> tests = new ArrayList<>();
        // The device backend (opencl) is left to OpenClTest, which checks it releases what it holds over 10,000 calls.
        for (String name : Support.hostThreadBackends()) {
            for (int threads : new int[] {1, 2}) {
                for (boolean equal : new boolean[] {false, true}) {
                    tests.add(dynamicTest(name + " threads=" + threads + (equal ? " equal" : " distinct") + " rho",
                            () -> {
                                try (LossKernel k = Backends.open(name, KernelOptions.threads(threads))) {
                                    // 3 chunks: with 2 threads the pool runs; with 1 the caller loops.
                                    int rows = 2 * RowBlockKernel.CHUNK_ROWS + 5;
                                    RandomBatch d = RandomBatch.of(9, rows, 5, equal);
                                    float[] loss = new float[rows];
                                    float[] grad = new float[rows * 5];
                                    // Compiled first, on these very calls: a fixed 300 left simd interpreted when
                                    // this class ran by itself (13 MB over the 2000 calls).
                                    untilQuiet(threadBean, name, i -> call(k, d, loss, grad, i % 2 == 0 ? rows : 37));
                                    long before = threadBean.getCurrentThreadAllocatedBytes();
                                    for (int i = 0; i < 2000; i++) {
                                        call(k, d, loss, grad, i % 2 == 0 ? rows : 37);
                                    }
                                    long allocated = threadBean.getCurrentThreadAllocatedBytes() - before;
                                    assertTrue(allocated <= NOISE_BYTES, name + " allocated " + allocated
                                            + " bytes over 2000 calls");
                                }
                            }));
                }
            }
        }
        // One kernel serving two losses in turn (two Loss.of share the default backend): simd kept one plan and
        // rebuilt it on every switch, about 560 bytes a call.
        for (String name : Support.hostThreadBackends()) {
            tests.add(dynamicTest(name + " two configurations in turn", () -> {
                try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
                    int rows = 2 * RowBlockKernel.CHUNK_ROWS + 5;
                    RandomBatch d = RandomBatch.of(9, rows, 5, false);
                    LossConfig other = LossConfig.mild(2.0, 1.5, 1.0, 0.75, 0.5);
                    float[] loss = new float[rows];
                    float[] grad = new float[rows * 5];
                    untilQuiet(threadBean, name, i -> call(k, i % 2 == 0 ? d.config() : other, d, loss, grad,
                            i % 4 < 2 ? rows : 37));
                    long before = threadBean.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 2000; i++) {
                        call(k, i % 2 == 0 ? d.config() : other, d, loss, grad, i % 4 < 2 ? rows : 37);
                    }
                    long allocated = threadBean.getCurrentThreadAllocatedBytes() - before;
                    assertTrue(allocated <= NOISE_BYTES, name + " allocated " + allocated
                            + " bytes over 2000 calls alternating two configurations");
                }
            }));
        }
        return tests.stream();
    }

    /**
     * Rounds of {@link #ROUND} calls ({@code call} given the call's number) until one allocates at most
     * {@link #NOISE_BYTES}; fails after {@link #WARM_UP_SECONDS} with what the last round allocated.
     */
    private static void untilQuiet(com.sun.management.ThreadMXBean bean, String name, IntConsumer call) {
        long deadline = System.nanoTime() + WARM_UP_SECONDS * 1_000_000_000L;
        for (int rounds = 1; ; rounds++) {
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < ROUND; i++) {
                call.accept(i);
            }
            long allocated = bean.getCurrentThreadAllocatedBytes() - before;
            if (allocated <= NOISE_BYTES) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail(name + " still allocated " + allocated / ROUND + " bytes a call after " + rounds * ROUND
                        + " calls in " + WARM_UP_SECONDS + " s: its hot path allocates (a boxed vector, a buffer made per"
                        + " call), or the JIT never compiled it");
            }
        }
    }

    private static void call(LossKernel k, RandomBatch d, float[] loss, float[] grad, int rows) {
        call(k, d.config(), d, loss, grad, rows);
    }

    private static void call(LossKernel k, LossConfig config, RandomBatch d, float[] loss, float[] grad, int rows) {
        k.lossAndGradient(config, rows, d.scores(), 0, d.weights(), 0, loss, 0, grad, 0);
    }
}
