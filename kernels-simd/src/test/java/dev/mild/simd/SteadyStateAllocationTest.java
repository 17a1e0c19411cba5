package dev.mild.simd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.RandomBatch;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Once C2 has compiled it, a call allocates nothing (the kernel contract). This is easy to break without
 * noticing: a vector passed to a method that C2 did not inline is boxed on the heap, and the kernel then
 * allocates kilobytes per row and runs several times slower while every value stays right.
 *
 * <p>The JIT needs a warm-up that depends on the machine, so each configuration is called until a round of
 * calls allocates nothing, for at most 60 seconds; only a kernel that never gets there fails.
 */
class SteadyStateAllocationTest {

    @Test
    void steadyStateCallsAllocateNothing() {
        assumeTrue(SimdKernelProvider.forcedBits() == 0, "checked at the CPU's own width only");
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported(), "this JVM does not count allocated bytes");
        int rows = 4099; // a partial last block of rows, and a last row that ends the arrays
        for (int p : new int[] {2, 8, 40}) {
            for (int v = 0; v < 4; v++) {
                // logsumexp with distinct and equal margins, nu = 0.5, nu = 1 with additive margins
                RandomBatch data = RandomBatch.of(p, rows, p, v == 1);
                double[] delta = new double[p];
                java.util.Arrays.fill(delta, 0.25);
                LossConfig config = switch (v) {
                    case 2 -> LossConfig.of(data.config().rho(), null, 0.5);
                    case 3 -> LossConfig.of(data.config().rho(), delta, 1.0);
                    default -> data.config();
                };
                float[] loss = new float[rows];
                float[] grad = new float[rows * p];
                try (SimdKernel k = new SimdKernel(KernelOptions.threads(1))) {
                    long deadline = System.nanoTime() + 60_000_000_000L;
                    long bytes = Long.MAX_VALUE;
                    while (bytes > 0 && System.nanoTime() < deadline) {
                        long before = mx.getCurrentThreadAllocatedBytes();
                        for (int i = 0; i < 20; i++) {
                            k.lossAndGradient(config, rows, data.scores(), 0, data.weights(), 0, loss, 0, grad, 0);
                        }
                        bytes = mx.getCurrentThreadAllocatedBytes() - before;
                    }
                    assertTrue(bytes == 0, "p=" + p + " " + config + ": 20 calls still allocate " + bytes
                            + " bytes after a minute of warm-up (layout " + k.layoutOf(config) + ")");
                }
            }
        }
    }
}
