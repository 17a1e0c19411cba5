package dev.mild.cli;

/** Warm-up for the commands that time a kernel (throughput, demo --family). */
final class Timing {
    private Timing() {
    }

    /** Warm-up ends when no call in this long was 5% faster than every call before it... */
    private static final long SETTLE_NANOS = 200_000_000L;
    /** ...and no call of the last this many either (a slow call can outlast SETTLE_NANOS on its own)... */
    private static final int SETTLE_CALLS = 5;
    /** ...or after this long. */
    private static final long MAX_WARMUP_NANOS = 20_000_000_000L;

    /**
     * Runs {@code call} until it stops getting faster. Cold, the Vector API runs in the interpreter, about
     * 1000 times slower than compiled, and C2 compiles the kernel in steps over about a second of calls
     * (plateaus of up to 0.1 s were seen); a fixed warm-up either wastes time or measures the JIT.
     */
    static void warmUp(Runnable call) {
        long start = System.nanoTime();
        long lastGain = start;
        int callsSinceGain = 0;
        double best = Double.POSITIVE_INFINITY;
        while (true) {
            long t0 = System.nanoTime();
            call.run();
            long t1 = System.nanoTime();
            if (t1 - t0 < 0.95 * best) {
                lastGain = t1;
                callsSinceGain = 0;
            } else {
                callsSinceGain++;
            }
            best = Math.min(best, t1 - t0);
            boolean settled = t1 - lastGain >= SETTLE_NANOS && callsSinceGain >= SETTLE_CALLS;
            if (settled || t1 - start >= MAX_WARMUP_NANOS) {
                return;
            }
        }
    }
}
