package dev.mild.loss;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shared bookkeeping for CPU backends: splits a batch into fixed chunks of {@link #CHUNK_ROWS} rows, runs them
 * on the caller's thread plus {@code threads - 1} workers, and sums the chunks' losses in chunk order. Because
 * the chunking does not depend on the thread count, the mean loss is bit-identical for any number of threads
 * (per-row outputs never depend on it). A backend only writes {@link #block}.
 *
 * <p>The workers are persistent daemon threads woken through a monitor, and a call's state lives in fields
 * reused from call to call, so a parallel call allocates nothing. Parallel calls on one instance are
 * serialized; a batch of one chunk runs on the caller's thread without locking.
 *
 * <p>A parallel call returns or throws only once every worker is done with it, so no worker writes into its
 * arrays, or into the next call's chunk sums, afterwards. If the caller is interrupted while it waits for the
 * workers, it still waits for them, then throws {@link IllegalStateException} with the interrupt flag set.
 * After {@link #close()} every call throws {@link IllegalStateException}; a call already in flight completes.
 *
 * <p>The workers hold the kernel only during a call (through {@link Crew}), so a kernel dropped without
 * {@link #close()} is still collected, and a {@link Cleaner} then stops its workers. Before, each worker's loop
 * was a method of the kernel: an unclosed kernel stayed reachable from its own idle threads, and kept them, for
 * the life of the JVM.
 */
public abstract class RowBlockKernel implements LossKernel {

    /** Rows per chunk: the unit of parallel work and of the loss summation. */
    public static final int CHUNK_ROWS = 2048;

    /** Stops the workers of kernels dropped without close(); one thread for every kernel, made on first use. */
    private static final class Collector {
        static final Cleaner CLEANER = Cleaner.create();
    }

    private final int threads;
    private final Crew crew;

    /**
     * A kernel with {@code options.resolvedThreads()} threads; with more than one, starts the workers.
     *
     * @param options the thread count (the device is not used)
     */
    protected RowBlockKernel(KernelOptions options) {
        this.threads = options.resolvedThreads();
        this.crew = new Crew(threads - 1);
        if (threads > 1) {
            Collector.CLEANER.register(this, crew::close); // crew::close holds the crew, not this kernel
        }
    }

    @Override
    public String describe() {
        return name() + " (" + threadCount() + ")";
    }

    /**
     * The number of threads this instance uses.
     *
     * @return the thread count, the caller's thread included; at least 1
     */
    public final int threads() {
        return threads;
    }

    /**
     * {@link #threads()} as words, for {@link #describe()}.
     *
     * @return "1 thread", "4 threads" and so on
     */
    protected final String threadCount() {
        return threads + (threads == 1 ? " thread" : " threads");
    }

    /**
     * Processes {@code rows} rows (at most {@link #CHUNK_ROWS}) starting at the given offsets. The arguments are
     * already checked ({@link Checks#call}); the values are not. May run on a worker thread, concurrently with other
     * blocks of the same call.
     *
     * @param config        the loss configuration
     * @param rows          the number of rows, 1 to {@link #CHUNK_ROWS}
     * @param scores        the scores, row-major {@code [rows][p]} from {@code scoresOffset}
     * @param scoresOffset  the block's first score element
     * @param weights       the weights, row-major {@code [rows][p]} from {@code weightsOffset}
     * @param weightsOffset the block's first weight element
     * @param rowLoss       where each row's loss goes, or null
     * @param rowLossOffset the block's first row-loss element
     * @param grad          where the gradient goes, row-major {@code [rows][p]}, or null
     * @param gradOffset    the block's first gradient element
     * @param gradScale     multiply each row's gradient by this ({@code 1/B} of the whole batch)
     * @return the sum of the rows' losses, in float64
     */
    protected abstract double block(LossConfig config, int rows,
                                    float[] scores, int scoresOffset,
                                    float[] weights, int weightsOffset,
                                    float[] rowLoss, int rowLossOffset,
                                    float[] grad, int gradOffset,
                                    float gradScale);

    @Override
    public final double lossAndGradient(LossConfig config, int rows,
                                        float[] scores, int scoresOffset,
                                        float[] weights, int weightsOffset,
                                        float[] rowLoss, int rowLossOffset,
                                        float[] grad, int gradOffset) {
        if (crew.closed) {
            throw closedException();
        }
        Checks.call(config, rows, scores, scoresOffset, weights, weightsOffset, rowLoss, rowLossOffset, grad, gradOffset);
        if (rows == 0) {
            return 0.0;
        }
        float gradScale = 1.0f / rows;
        int chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        if (chunks == 1 || crew.workers.length == 0) {
            int p = config.experts();
            double sum = 0.0;
            for (int c = 0; c < chunks; c++) {
                int r0 = c * CHUNK_ROWS;
                int n = Math.min(CHUNK_ROWS, rows - r0);
                sum += block(config, n, scores, scoresOffset + r0 * p, weights, weightsOffset + r0 * p,
                        rowLoss, rowLossOffset + r0, grad, gradOffset + r0 * p, gradScale);
            }
            return sum / rows;
        }
        synchronized (this) { // one parallel call at a time per instance
            return crew.run(this, config, rows, chunks, scores, scoresOffset, weights, weightsOffset, rowLoss,
                    rowLossOffset, grad, gradOffset, gradScale);
        }
    }

    /**
     * Stops the worker threads once they are done with a call in flight (which completes); every later call
     * throws {@link IllegalStateException}. Does not wait for the workers to exit.
     */
    @Override
    public void close() {
        crew.close();
    }

    private IllegalStateException closedException() {
        return new IllegalStateException(name() + " backend is closed");
    }

    /**
     * The worker threads and the state of the call in progress. Written by the caller under the monitor before it
     * bumps the generation, read by workers after they see the new generation under the same monitor. The
     * kernel itself is one of those fields: set for a call, cleared after it.
     */
    private static final class Crew {
        final Thread[] workers;
        private final Object monitor = new Object();
        private final AtomicInteger nextChunk = new AtomicInteger();

        private RowBlockKernel kernel;
        private LossConfig config;
        private int rows, chunks, scoresOffset, weightsOffset, rowLossOffset, gradOffset;
        private float[] scores, weights, rowLoss, grad;
        private float gradScale;
        private double[] partials = new double[0];
        private long generation; // bumped once per parallel call; each worker takes part in every generation
        private int busyWorkers; // workers not yet done with the current generation
        private Throwable failure;
        volatile boolean closed; // volatile: the single-chunk path reads it without the monitor

        Crew(int count) {
            workers = new Thread[count];
            for (int i = 0; i < count; i++) {
                Thread t = new Thread(this::workerLoop, "mild-loss-worker-" + i);
                t.setDaemon(true);
                workers[i] = t;
                try {
                    t.start();
                } catch (OutOfMemoryError e) { // "unable to create native thread": a process or memory limit
                    // The workers already started would wait for calls forever: no kernel is returned to close them.
                    close();
                    throw new dev.mild.InvalidInputException("cannot start " + (count + 1) + " threads for the loss"
                            + " kernel: the system refused worker thread " + (i + 1) + " of " + count + " ("
                            + e.getMessage() + "); use fewer threads", e);
                }
            }
        }

        double run(RowBlockKernel kernel, LossConfig config, int rows, int chunks,
                   float[] scores, int scoresOffset, float[] weights, int weightsOffset,
                   float[] rowLoss, int rowLossOffset, float[] grad, int gradOffset, float gradScale) {
            synchronized (monitor) {
                if (closed) { // close() ran since the caller's check: no worker would take this call
                    throw kernel.closedException();
                }
                this.kernel = kernel;
                this.config = config;
                this.rows = rows;
                this.chunks = chunks;
                this.scores = scores;
                this.scoresOffset = scoresOffset;
                this.weights = weights;
                this.weightsOffset = weightsOffset;
                this.rowLoss = rowLoss;
                this.rowLossOffset = rowLossOffset;
                this.grad = grad;
                this.gradOffset = gradOffset;
                this.gradScale = gradScale;
                if (partials.length < chunks) {
                    partials = new double[Math.max(chunks, 2 * partials.length)];
                }
                failure = null;
                nextChunk.set(0);
                busyWorkers = workers.length;
                generation++;
                monitor.notifyAll();
            }
            Throwable mine = null;
            try {
                runChunks();
            } catch (Throwable t) {
                mine = t;
                nextChunk.set(chunks); // the call fails anyway: hand out no more chunks
            }
            // Wait for every worker even when interrupted: a worker still running a chunk would write it into
            // the next call's partials and into arrays this caller has moved on from. The caller's runChunks
            // only ends once all chunks are handed out, so the wait is at most one chunk per worker.
            boolean interrupted = false;
            synchronized (monitor) {
                while (busyWorkers > 0) {
                    try {
                        monitor.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                // Pin neither the caller's arrays nor the kernel: idle workers must not keep it reachable
                this.scores = this.weights = this.rowLoss = this.grad = null;
                this.kernel = null;
                this.config = null;
                if (mine == null) {
                    mine = failure;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt(); // restore it for the caller to act on
                throw new IllegalStateException("interrupted while waiting for loss workers", mine);
            }
            if (mine != null) {
                throw new IllegalStateException("a loss worker failed", mine);
            }
            double sum = 0.0;
            for (int c = 0; c < chunks; c++) {
                sum += partials[c];
            }
            return sum / rows;
        }

        private void workerLoop() {
            long seen = 0;
            while (true) {
                synchronized (monitor) {
                    // A published call is taken even after close(): its caller waits for every worker to count
                    // busyWorkers down. close() stops new calls, so a worker that has seen the last one may exit.
                    while (generation == seen) {
                        if (closed) {
                            return;
                        }
                        try {
                            monitor.wait();
                        } catch (InterruptedException e) {
                            // ignored: a worker that left would never count a later call done; close() stops it
                        }
                    }
                    seen = generation;
                }
                Throwable failed = null;
                try {
                    runChunks();
                } catch (Throwable t) {
                    failed = t;
                }
                synchronized (monitor) {
                    if (failed != null && failure == null) {
                        failure = failed;
                    }
                    if (--busyWorkers == 0) {
                        monitor.notifyAll();
                    }
                }
            }
        }

        private void runChunks() {
            int p = config.experts();
            for (int c = nextChunk.getAndIncrement(); c < chunks; c = nextChunk.getAndIncrement()) {
                int r0 = c * CHUNK_ROWS;
                int n = Math.min(CHUNK_ROWS, rows - r0);
                partials[c] = kernel.block(config, n, scores, scoresOffset + r0 * p, weights, weightsOffset + r0 * p,
                        rowLoss, rowLossOffset + r0, grad, gradOffset + r0 * p, gradScale);
            }
        }

        void close() {
            synchronized (monitor) {
                closed = true;
                monitor.notifyAll();
            }
        }
    }
}
