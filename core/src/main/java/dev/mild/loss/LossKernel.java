package dev.mild.loss;

/**
 * A loss backend: the forward and backward pass of the surrogate family ({@link LossConfig}) over a block of
 * rows. This is the whole contract a backend implements; {@link Loss} is the validating facade in front of it.
 *
 * <p>Arrays are row-major with {@code p = config.experts()} columns. Offsets are element offsets, so a
 * trainer can run mini-batches as views into larger arrays without copying. The outputs may not share elements
 * with the inputs or with each other: a kernel writes them while it still reads the inputs. Implementations
 * check the call's shape in constant time before they write anything ({@link Checks#call}: offsets, lengths,
 * {@code rows >= 0}, no overlap; an {@link dev.mild.InvalidInputException} names the array) and trust the values:
 * finiteness, the scores' spread and the weights' size cost a pass over the data, which {@link Loss} makes
 * (also with separate offsets per array) and a trainer that validated its data once may skip.
 *
 * <p>Implementations must be safe to call from several threads (a backend with internal threads may serialize
 * calls), and must give bit-identical results for the same inputs and thread count. The CPU backends
 * ({@code scalar}, {@code simd}) allocate nothing per call once the JIT has compiled them, but for each calling
 * thread's working arrays, made on its first call and grown for a larger p ({@code simd}: 13 KB at p = 8, 95 KB at
 * p = 130; {@code scalar} under 1 KB): on virtual threads, which are new for every task, each task's first call
 * makes them. Before the JIT has compiled it the
 * {@code simd} backend allocates heavily (the Vector API's objects are only optimized away by the compiler:
 * measured here, about 160 KB per 64-row call over the first seconds). The others allocate a little per call:
 * {@code opencl} about 300 bytes (JOCL wraps each host array it copies), the float64 {@code reference} its row
 * buffers (it is the truth for tests, not a hot path).
 */
public interface LossKernel extends AutoCloseable {

    /**
     * The backend's name, as listed by {@link Backends} ({@code reference}, {@code scalar}, ...).
     *
     * @return the name {@link Backends#open} takes for this backend
     */
    String name();

    /**
     * One line for logs: the name and what was chosen at run time (vector width, device, threads).
     *
     * @return a human-readable description; by default just {@link #name()}
     */
    default String describe() {
        return name();
    }

    /**
     * How close this backend is promised to be to the float64 reference (tested against the golden files).
     *
     * @return {@link Tolerance#FLOAT32} for the float32 backends (the default); {@link Tolerance#FLOAT64} for
     *         {@code reference}
     */
    default Tolerance tolerance() {
        return Tolerance.FLOAT32;
    }

    /**
     * Per-row losses, their mean, and the gradient of the mean.
     *
     * @param config        the loss. Not modified.
     * @param rows          number of rows {@code B >= 0}
     * @param scores        router scores {@code f}, {@code rows x p} from {@code scoresOffset}. Not modified.
     * @param scoresOffset  element offset of the first score, {@code >= 0}
     * @param weights       per-expert weights {@code w}, {@code rows x p} from {@code weightsOffset}. Not modified.
     * @param weightsOffset element offset of the first weight, {@code >= 0}
     * @param rowLoss       {@code loss_i} for each row, written at {@code rowLossOffset + i}; {@code null} to skip. Modified.
     * @param rowLossOffset element offset of the first row loss, {@code >= 0} (ignored when {@code rowLoss} is
     *                      {@code null})
     * @param grad          {@code d(mean loss)/d f}, {@code rows x p} from {@code gradOffset}, overwritten;
     *                      {@code null} to skip the backward pass. Modified.
     * @param gradOffset    element offset of the first gradient entry, {@code >= 0} (ignored when {@code grad} is
     *                      {@code null})
     * @return the mean loss {@code (1/B) sum_i loss_i}, accumulated in float64; {@code 0} when {@code rows == 0}
     * @throws dev.mild.InvalidInputException as {@link Checks#call}, before anything is written
     */
    double lossAndGradient(LossConfig config, int rows,
                           float[] scores, int scoresOffset,
                           float[] weights, int weightsOffset,
                           float[] rowLoss, int rowLossOffset,
                           float[] grad, int gradOffset);

    /**
     * Runs this backend on small made-up batches until the JIT has compiled it, for at most {@code maxMillis}, so
     * that the first real calls run at full speed and allocate nothing (but a per-thread buffer that grows once for a
     * larger batch). {@code simd} needs this: until C2 compiles it, the Vector API runs as plain Java that
     * allocates its vectors and is up to 1000 times slower (measured on the Zen 5 machine: about one second of
     * 10,000-row calls before it reaches its speed; this warm-up takes about 1.5 s, most of it the
     * compiler's). Call it at startup, or on a thread of its own; it changes no result. Thread-safe. It checks
     * {@code maxMillis} after each round of calls, so it may return one round later (in a fresh JVM the first round
     * takes about a second, while the Vector API's classes load), and a thread that finds another running it waits
     * for that one at most {@code maxMillis}. Interrupting the thread that runs it stops it after the round in hand
     * (it returns {@code false} with the thread's interrupt status kept).
     *
     * @param maxMillis the time budget in milliseconds (a negative value counts as 0); checked between rounds, so
     *                  it may be overrun by one round
     * @return {@code true} when the calls allocated nothing (so they are compiled) before {@code maxMillis}; backends
     *         that need no warm-up return {@code true} at once ({@code scalar}: plain Java, quick to compile;
     *         {@code reference} and {@code opencl} allocate on every call anyway)
     */
    default boolean warmUp(long maxMillis) {
        return true;
    }

    /**
     * Releases threads or device resources. The caller that opened a kernel ({@link Backends#open}) owns it and
     * closes it: a CPU backend with more than one thread runs {@code threads - 1} worker threads until then (a
     * kernel dropped without close() has them stopped only when the garbage collector finds it). Closing twice does nothing. After it, the CPU and device backends
     * ({@code scalar}, {@code simd}, {@code opencl}) throw {@link IllegalStateException} on every
     * {@link #lossAndGradient} call, even one of 0 rows; {@code reference}, which holds nothing (this default), keeps
     * working. {@link #warmUp} still runs: it warms the JVM's compiled code up on kernels of its own, not this one.
     */
    @Override
    default void close() {
    }
}
