package dev.mild.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The measuring part of {@code ./mild throughput} ({@link ThroughputCommand#medianRate}, after the warm-up) on a
 * simulated clock, as {@link TimingTest}: each call advances it by the time the call takes.
 */
class ThroughputMeasureTest {

    private static final long MS = 1_000_000L;

    /**
     * A kernel of 1 ms a call whose first measured call the machine slowed to 30 ms (another process on the other
     * core, a page fault): the figure is the 1 ms calls' rate, over the --seconds asked for. The rounds used to be
     * sized from that one call (3 calls each instead of 100) and counted (seconds / 0.1 of them), so the run
     * measured for 87 ms of 3 s; on the 2-core machine --seconds 4 measured for 1.7 s in one run of ten.
     */
    @Test
    void oneSlowCallDoesNotShortenTheMeasuringTime() {
        long[] now = {0};
        int[] calls = {0};
        double rate = ThroughputCommand.medianRate(() -> now[0] += calls[0]++ == 0 ? 30 * MS : MS, 1000, 3.0,
                () -> now[0]);
        assertEquals(1e6, rate, 1e-6, "1000 rows a millisecond");
        assertTrue(now[0] >= 3000 * MS && now[0] <= 3200 * MS, "measured for " + now[0] / MS + " ms of 3000");
    }

    /** A steady kernel: rounds of about 0.1 s for as long as asked, and its rate. */
    @Test
    void aSteadyKernelIsMeasuredForTheSecondsAskedFor() {
        for (double seconds : new double[] {0.5, 3.0, 4.0}) {
            long[] now = {0};
            double rate = ThroughputCommand.medianRate(() -> now[0] += 2 * MS, 4096, seconds, () -> now[0]);
            assertEquals(4096 / 2e-3, rate, 1e-3);
            long asked = (long) (seconds * 1000);
            assertTrue(now[0] / MS >= asked && now[0] / MS <= asked + 110, "measured for " + now[0] / MS + " ms of "
                    + asked);
        }
    }
}
