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
        float sink = SimdRoofline.exp2(d, whole, new float[] {1.4426950f}, sum);
        assertEquals(sum[0], sink, "exp2 returns its first lane sum");
        sink = SimdRoofline.exp2InCalls(d, inCalls, new float[] {1.4426950f}, sum, call);
        assertEquals(sum[0], sink, "exp2InCalls returns its last call's first lane sum");
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
     * The other entry points compute what they promise, against {@link StrictMath} in double: the kernel's float
     * log1p and {@code 1/(1 + z)} (to VectorMathTest's two units of 2^-24, and the float division's bits), and the
     * Vector API's EXP and LOG1P that the benchmarks compare them with, with the lane sums of EXP.
     */
    @Test
    void logAndTheVectorApiComparisonsComputeTheirFunctions() {
        int block = SimdRoofline.blockLength();
        int lanes = block / 2;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] z = new float[8 * block];
        float[] d = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) Math.pow(10, 6 - 12 * rnd.nextDouble()); // 1e-6 .. 1e6, as the kernel's zRest ranges
            d[i] = (float) (-6.0 * rnd.nextDouble());
        }
        float[] out = new float[z.length];
        float[] inverse = new float[z.length];
        float sink = SimdRoofline.log1p(z, out, inverse);
        assertEquals(out[0], sink, "log1p returns its first output");
        float[] api = new float[z.length];
        sink = SimdRoofline.vectorApiLog1p(z, api);
        assertEquals(api[0], sink, "vectorApiLog1p returns its first output");
        for (int i = 0; i < z.length; i++) {
            double want = StrictMath.log1p(z[i]);
            assertEquals(want, out[i], 0x1p-23 * want, "log1p at z = " + z[i]);
            assertEquals(1f / (1f + z[i]), inverse[i], 0f, "1/(1 + z) at z = " + z[i]);
            assertEquals(want, api[i], 0x1p-22 * want, "Vector API LOG1P at z = " + z[i]);
        }
        float[] e = new float[d.length];
        float[] sum = new float[block];
        float scale = 1.4426950f;
        sink = SimdRoofline.vectorApiExp(d, e, scale, sum);
        assertEquals(sum[0], sink, "vectorApiExp returns its first lane sum");
        for (int i = 0; i < d.length; i++) {
            // e^(d scale ln2) = 2^(d scale), less the float rounding of ln2 and of the product (|d scale ln2| < 6:
            // half an ulp of 6 is 2.4e-7 of the exponent, so of the result) and EXP's own error.
            double want = Math.pow(2.0, d[i] * (double) scale);
            assertEquals(want, e[i], 1e-6 * want, "Vector API EXP at d = " + d[i]);
        }
        for (int lane = 0; lane < lanes; lane++) {
            double want = 0;
            for (int i = lane; i < d.length; i += lanes) {
                want += e[i];
            }
            assertEquals(want, sum[lane], 1e-6 * want, "Vector API EXP, lane sum " + lane);
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
