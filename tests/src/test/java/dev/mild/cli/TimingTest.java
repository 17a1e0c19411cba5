package dev.mild.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The warm-up of throughput and demo --family ({@link Timing#warmUp}) on a simulated clock: each call advances
 * it by the time the call would take at that moment of a JIT's progress, so the tests are exact and instant.
 */
class TimingTest {

    private static final long MS = 1_000_000L;

    /** A kernel whose call time follows the JIT: the nanoseconds of a call started at a time since the start. */
    private interface Jit {
        long callNanos(long sinceStart);
    }

    /** Runs the warm-up on the simulated kernel; returns the simulated time at which it ended. */
    private static long warmUpEnd(Jit jit) {
        long[] now = {0};
        Timing.warmUp(() -> now[0] += jit.callNanos(now[0]), () -> now[0]);
        return now[0];
    }

    /**
     * What a busy 2-core machine showed for the SIMD kernel at B = 1024 (./mild throughput --seconds 0.2 gave
     * 0.3M-2.5M rows/s in 5 of 8 runs instead of 97M): calls getting faster until 0.6 s (2.4 ms), then 250 ms
     * without a gain while C2 compiles, then 10 us. The warm-up must not end in that pause.
     */
    @Test
    void aLongCompilePauseAfterManyGainsIsNotTheEnd() {
        Jit jit = t -> t < 600 * MS ? Math.max(2_400_000L, 50 * MS - t / 12) // 50 ms down to 2.4 ms by 0.6 s
                : t < 850 * MS ? 2_400_000L
                : 10_000L;
        long end = warmUpEnd(jit);
        assertTrue(end > 850 * MS, "ended at " + end / MS + " ms, in the compile pause");
        // Then it waits as long again as it took to reach the fast calls (the last slow call ends a little after
        // 850 ms): about 1.7 s in all.
        assertTrue(end >= 1700 * MS && end <= 1710 * MS, "ended at " + end / MS + " ms");
    }

    /** A kernel that is fast at once (already compiled) still ends after the short minimum, not at once. */
    @Test
    void aSteadyKernelEndsAfterTheMinimumQuietTime() {
        long end = warmUpEnd(t -> 1 * MS);
        assertEquals(200, end / MS, 1);
    }

    /** A kernel that gets 6% faster every 150 ms, forever: the warm-up ends at its 20 s limit. */
    @Test
    void aKernelThatNeverSettlesStopsAtTheLimit() {
        long end = warmUpEnd(t -> (long) (10 * MS * Math.pow(0.94, t / (150 * MS))));
        assertEquals(20_000, end / MS, 15);
    }
}
