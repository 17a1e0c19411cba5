package dev.mild.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.TimeValue;

/** Parameters JMH passes through as given: an empty batch is refused, a short warm-up is warned about. */
class BenchParamsTest {

    @Test
    void aBatchBelowOneRowIsRefusedByEveryLossAndProductBenchmark() {
        assertEquals(1, BenchParams.rows("batch", 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchParams.rows("batch", 0));
        assertEquals("-p batch=0: the benchmark measures rows and needs at least 1 (an empty batch times only the call)",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BenchParams.rows("batch", -3));

        LossThroughputBenchmark loss = new LossThroughputBenchmark();
        loss.backend = "scalar";
        loss.experts = 8;
        loss.batch = 0;
        loss.nu = 1;
        // The check comes before the trial's parameters are read or a kernel is opened.
        assertEquals(e.getMessage(), assertThrows(IllegalArgumentException.class, () -> loss.setUp(null)).getMessage());

        DenseProductBenchmark dense = new DenseProductBenchmark();
        dense.d = 186;
        dense.hidden = 64;
        dense.batch = 0;
        assertEquals(e.getMessage(), assertThrows(IllegalArgumentException.class, dense::setUp).getMessage());

        OpenClResidencyBenchmark opencl = new OpenClResidencyBenchmark();
        opencl.experts = 8;
        opencl.batch = 0;
        assertEquals(e.getMessage(), assertThrows(IllegalArgumentException.class, opencl::setUp).getMessage());
    }

    @Test
    void aWarmUpShorterThanTheCompileTimeIsWarnedAbout() {
        assertNull(BenchParams.shortWarmUp(3, TimeValue.seconds(1)));
        assertNull(BenchParams.shortWarmUp(2, TimeValue.seconds(1)));
        assertEquals("warning: a warm-up of 500 ms (-wi 1 -w 500 ms); the simd kernel takes about 2 s of calls to be"
                + " compiled, so the first iterations may measure uncompiled code and read low",
                BenchParams.shortWarmUp(1, TimeValue.milliseconds(500)));
        assertEquals("warning: a warm-up of 0 ms (-wi 0 -w 1 s); the simd kernel takes about 2 s of calls to be"
                + " compiled, so the first iterations may measure uncompiled code and read low",
                BenchParams.shortWarmUp(0, TimeValue.seconds(1)));
    }
}
