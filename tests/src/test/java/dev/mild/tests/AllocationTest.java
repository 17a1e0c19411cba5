package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The hot path allocates nothing: after a warm-up, thousands of calls of a CPU backend (one chunk on the
 * caller's thread, and several chunks on a pool) leave the calling thread's allocation counter where it
 * was, up to a few hundred bytes of JIT and class-loading noise.
 */
class AllocationTest {
    static final long NOISE_BYTES = 2048;

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
                                    // Compiled first: 300 calls alone left simd interpreted when this class ran by
                                    // itself (13 MB over the 2000 calls), and passed only after other tests.
                                    assumeTrue(k.warmUp(60_000), "the JIT did not compile " + name + " within 60 s");
                                    for (int i = 0; i < 300; i++) {
                                        call(k, d, loss, grad, rows);
                                    }
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
                    assumeTrue(k.warmUp(60_000), "the JIT did not compile " + name + " within 60 s");
                    for (int i = 0; i < 300; i++) {
                        call(k, i % 2 == 0 ? d.config() : other, d, loss, grad, rows);
                    }
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

    private static void call(LossKernel k, RandomBatch d, float[] loss, float[] grad, int rows) {
        call(k, d.config(), d, loss, grad, rows);
    }

    private static void call(LossKernel k, LossConfig config, RandomBatch d, float[] loss, float[] grad, int rows) {
        k.lossAndGradient(config, rows, d.scores(), 0, d.weights(), 0, loss, 0, grad, 0);
    }
}
