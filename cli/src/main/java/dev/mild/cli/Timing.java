package dev.mild.cli;

import java.util.function.LongSupplier;

/** Warm-up for the commands that time a kernel (throughput, demo --family). */
final class Timing {
    private Timing() {
    }

    /**
     * Warm-up ends when no call was 5% faster than every call before it for this long, and for at least as long
     * as the warm-up had run until that last gain...
     */
    private static final long SETTLE_NANOS = 200_000_000L;
    /** ...and no call of the last this many either (a slow call can outlast SETTLE_NANOS on its own)... */
    private static final int SETTLE_CALLS = 5;
    /** ...or after this long. */
    private static final long MAX_WARMUP_NANOS = 20_000_000_000L;

    /**
     * Runs {@code call} until it stops getting faster. Cold, the Vector API runs in the interpreter, about
     * 1000 times slower than compiled, and C2 compiles the kernel in steps over about a second of calls. The
     * pauses between steps grow with the machine's load: on a busy 2-core machine one of over 200 ms came
     * at 0.6 s, with calls still 200 times slower than compiled. So the quiet time asked for grows with the
     * warm-up (at least as long as it took to reach the last gain); a fixed one either wastes time or measures
     * the JIT.
     */
    static void warmUp(Runnable call) {
        warmUp(call, System::nanoTime);
    }

    /** {@link #warmUp(Runnable)} on the given clock (nanoseconds), which tests can drive. */
    static void warmUp(Runnable call, LongSupplier clock) {
        long start = clock.getAsLong();
        long lastGain = start;
        int callsSinceGain = 0;
        double best = Double.POSITIVE_INFINITY;
        while (true) {
            long t0 = clock.getAsLong();
            call.run();
            long t1 = clock.getAsLong();
            if (t1 - t0 < 0.95 * best) {
                lastGain = t1;
                callsSinceGain = 0;
            } else {
                callsSinceGain++;
            }
            best = Math.min(best, t1 - t0);
            long quietNeeded = Math.max(SETTLE_NANOS, lastGain - start);
            boolean settled = t1 - lastGain >= quietNeeded && callsSinceGain >= SETTLE_CALLS;
            if (settled || t1 - start >= MAX_WARMUP_NANOS) {
                return;
            }
        }
    }
}
