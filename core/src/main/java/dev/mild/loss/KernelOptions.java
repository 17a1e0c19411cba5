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

    /**
     * The most threads a backend may be given: far past any core count worth splitting a batch over, and far
     * below what would exhaust memory (Integer.MAX_VALUE threads failed with an OutOfMemoryError; the CLI's
     * {@code --threads} takes the same bound).
     */
    public static final int MAX_THREADS = 4096;

    /**
     * Checks the thread count.
     *
     * @throws dev.mild.InvalidInputException if {@code threads} is negative or above {@link #MAX_THREADS}
     */
    public KernelOptions {
        if (threads < 0 || threads > MAX_THREADS) {
            throw new dev.mild.InvalidInputException("threads must be in 0.." + MAX_THREADS + " (0 = all cores), got "
                    + threads);
        }
    }

    /**
     * The given thread count with the backend's default device.
     *
     * @param threads worker threads, 0 for all available processors, at most {@link #MAX_THREADS}
     * @return options with that thread count and a {@code null} device
     * @throws dev.mild.InvalidInputException if {@code threads} is negative or above {@link #MAX_THREADS}
     */
    public static KernelOptions threads(int threads) {
        return new KernelOptions(threads, null);
    }

    /**
     * The thread count to use: {@code threads}, or the number of available processors when 0.
     *
     * @return the number of threads, at least 1
     */
    public int resolvedThreads() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
