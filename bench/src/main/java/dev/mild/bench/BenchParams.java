package dev.mild.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.runner.options.TimeValue;

/** Checks of benchmark parameters that JMH passes through as given ({@code -p batch=0}, {@code -w 100ms}). */
public final class BenchParams {
    private BenchParams() {
    }

    /**
     * A row count parameter, refused below 1: an empty batch times the call alone, and the report would turn that
     * into 0 rows per second. (The kernels accept empty batches; the benchmarks measure rows.)
     *
     * @param name  the parameter's name, for the message
     * @param value its value
     * @return the value
     * @throws IllegalArgumentException when it is below 1
     */
    public static int rows(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException("-p " + name + "=" + value + ": the benchmark measures rows and needs"
                    + " at least 1 (an empty batch times only the call)");
        }
        return value;
    }

    /** About how long {@code simd}'s kernel runs before C2 has compiled it (LossKernel.warmUp's javadoc). */
    static final long COMPILE_MILLIS = 2_000;

    /**
     * A warning for a JMH warm-up too short for the {@code simd} kernel to be compiled in, or null: until C2 compiles
     * it the Vector API runs as plain Java, so the first iterations would be measured on the interpreter's code.
     *
     * @param params the trial's parameters (JMH injects them into a {@code @Setup} method)
     * @return the warning, or {@code null} when the warm-up lasts at least {@link #COMPILE_MILLIS}
     */
    static String shortWarmUp(BenchmarkParams params) {
        return shortWarmUp(params.getWarmup().getCount(), params.getWarmup().getTime());
    }

    /** {@link #shortWarmUp(BenchmarkParams)} from the warm-up's iterations and time per iteration. */
    static String shortWarmUp(int iterations, TimeValue time) {
        long millis = iterations * time.convertTo(TimeUnit.MILLISECONDS);
        if (millis >= COMPILE_MILLIS) {
            return null;
        }
        return "warning: a warm-up of " + millis + " ms (-wi " + iterations + " -w " + time + "); the simd kernel"
                + " takes about " + COMPILE_MILLIS / 1000 + " s of calls to be compiled, so the first iterations may"
                + " measure uncompiled code and read low";
    }
}
