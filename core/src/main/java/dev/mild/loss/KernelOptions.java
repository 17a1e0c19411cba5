package dev.mild.loss;

/**
 * How to build a backend.
 *
 * @param threads worker threads for backends that split rows across cores; {@code 0} means all available
 *                processors. Results are identical for every thread count (fixed-size row chunks, summed in
 *                chunk order).
 * @param device  a device selector for backends with devices (OpenCL: a name substring or an index);
 *                {@code null} for the backend's own rule.
 */
public record KernelOptions(int threads, String device) {

    /** All cores, default device. */
    public static final KernelOptions DEFAULT = new KernelOptions(0, null);

    public KernelOptions {
        if (threads < 0) {
            throw new dev.mild.InvalidInputException("threads must be >= 0 (0 = all cores), got " + threads);
        }
    }

    public static KernelOptions threads(int threads) {
        return new KernelOptions(threads, null);
    }

    /** The thread count to use: {@code threads}, or the number of available processors when 0. */
    public int resolvedThreads() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
