package dev.mild.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The benchmarks' entry points: the exps in short calls are the same exps as in one long call. */
class SimdRooflineTest {

    @Test
    void expsInCallsAreTheExpsOfTheFirstCallLengthInputsInEveryCall() {
        int block = SimdRoofline.blockLength();
        int call = 4 * block;
        float[] d = new float[16 * block];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (-6.0 * Math.abs(rnd.nextGaussian()));
        }
        float[] whole = new float[d.length];
        float[] inCalls = new float[d.length];
        float[] sum = new float[block];
        SimdRoofline.exp2(d, whole, new float[] {1.4426950f}, sum);
        SimdRoofline.exp2InCalls(d, inCalls, new float[] {1.4426950f}, sum, call);
        for (int i = 0; i < d.length; i++) {
            // The same exp on the same input gives the same bits; and it is 2^u of the float u = d scale, to
            // the exp's stated accuracy (VectorMathTest: 7.9e-8).
            assertEquals(whole[i % call], inCalls[i], "element " + i);
            double want = Math.pow(2.0, d[i % call] * 1.4426950f);
            assertTrue(Math.abs(inCalls[i] - want) <= 2e-7 * want, "element " + i);
        }
        // The last call's lane sums: its 4 blocks of 2 vectors, lane by lane.
        int lanes = block / 2;
        for (int lane = 0; lane < lanes; lane++) {
            double want = 0;
            for (int i = lane; i < call; i += lanes) {
                want += inCalls[i];
            }
            assertEquals(want, sum[lane], 1e-6 * want, "lane " + lane);
        }
    }

    /**
     * The roofline is the kernel's exp loop, and the kernel's calls allocate nothing once compiled; so must the
     * benchmark's. exp2 and exp2InCalls boxed their scale into a new one-element array on every call (24 bytes a call
     * under JMH's -prof gc; ExpRooflineBenchmark measured that allocation with the exps). Calls until a round of them
     * allocates nothing, as {@link SteadyStateAllocationTest} does for the kernel, for at most 20 s.
     */
    @Test
    void compiledCallsAllocateNothing() {
        SteadyStateAllocationTest.assumeCountable();
        int block = SimdRoofline.blockLength();
        float[] d = new float[64 * block];
        float[] e = new float[d.length];
        float[] sum = new float[block];
        float[] scale = {1.4426950f};
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long end = System.nanoTime() + 20_000_000_000L;
        long bytes;
        do {
            long before = mx.getThreadAllocatedBytes(id);
            for (int i = 0; i < 200; i++) {
                SimdRoofline.exp2(d, e, scale, sum);
                SimdRoofline.exp2InCalls(d, e, scale, sum, 4 * block);
            }
            bytes = mx.getThreadAllocatedBytes(id) - before;
        } while (bytes != 0 && System.nanoTime() < end);
        assertEquals(0, bytes, "bytes allocated by 200 calls of each after 20 s");
    }

    @Test
    void callLengthsThatDoNotTileTheInputAreRefused() {
        int block = SimdRoofline.blockLength();
        float[] d = new float[6 * block];
        float[] e = new float[d.length];
        float[] sum = new float[block];
        for (int bad : new int[] {0, -block, block + 1, 4 * block}) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> SimdRoofline.exp2InCalls(d, e, new float[] {1f}, sum, bad));
            assertTrue(ex.getMessage().contains("callLength " + bad), ex.getMessage());
        }
    }
}
