package dev.mild.loss;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shared bookkeeping for CPU backends: splits a batch into fixed chunks of {@link #CHUNK_ROWS} rows, runs them
 * on the caller's thread plus a pool the caller sized, and sums the chunks' losses in chunk order. Because
 * the chunking does not depend on the thread count, the mean loss is bit-identical for any number of threads
 * (per-row outputs never depend on it). A backend only writes {@link #block}.
 *
 * <p>Calls on one instance are serialized when they run in parallel; batches of one chunk run on the caller's
 * thread without locking or allocation.
 */
public abstract class RowBlockKernel implements LossKernel {

    /** Rows per chunk: the unit of parallel work and of the loss summation. */
    public static final int CHUNK_ROWS = 2048;

    private final int threads;
    private final ExecutorService pool;
    private final Object parallelLock = new Object();

    // State of the parallel call in progress, guarded by parallelLock (workers read it after the latch is set).
    private final Runnable[] workers;
    private final AtomicInteger nextChunk = new AtomicInteger();
    private volatile Job job;

    protected RowBlockKernel(KernelOptions options) {
        this.threads = options.resolvedThreads();
        if (threads > 1) {
            this.pool = Executors.newFixedThreadPool(threads - 1, r -> {
                Thread t = new Thread(r, "mild-" + name() + "-worker");
                t.setDaemon(true);
                return t;
            });
            this.workers = new Runnable[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = this::workerLoop;
            }
        } else {
            this.pool = null;
            this.workers = new Runnable[0];
        }
    }

    @Override
    public String describe() {
        return name() + " (" + threads + (threads == 1 ? " thread)" : " threads)");
    }

    /** Threads this instance uses (the caller's thread included). */
    public final int threads() {
        return threads;
    }

    /**
     * Processes {@code rows} rows (at most {@link #CHUNK_ROWS}) starting at the given offsets.
     *
     * @param gradScale multiply each row's gradient by this ({@code 1/B} of the whole batch)
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
        if (rows == 0) {
            return 0.0;
        }
        float gradScale = 1.0f / rows;
        int chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        if (chunks == 1 || pool == null) {
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
        synchronized (parallelLock) {
            Job j = new Job(config, rows, chunks, scores, scoresOffset, weights, weightsOffset,
                    rowLoss, rowLossOffset, grad, gradOffset, gradScale, Math.min(workers.length, chunks - 1));
            nextChunk.set(0);
            job = j;
            for (int i = 0; i < j.helpers; i++) {
                pool.execute(workers[i]);
            }
            runChunks(j);
            try {
                j.done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for loss workers", e);
            }
            job = null;
            if (j.failure != null) {
                throw new IllegalStateException("a loss worker failed", j.failure);
            }
            double sum = 0.0;
            for (double partial : j.partials) {
                sum += partial;
            }
            return sum / rows;
        }
    }

    private void workerLoop() {
        Job j = job;
        try {
            runChunks(j);
        } catch (Throwable t) {
            j.failure = t;
        } finally {
            j.done.countDown();
        }
    }

    private void runChunks(Job j) {
        int p = j.config.experts();
        for (int c = nextChunk.getAndIncrement(); c < j.chunks; c = nextChunk.getAndIncrement()) {
            int r0 = c * CHUNK_ROWS;
            int n = Math.min(CHUNK_ROWS, j.rows - r0);
            j.partials[c] = block(j.config, n, j.scores, j.scoresOffset + r0 * p, j.weights, j.weightsOffset + r0 * p,
                    j.rowLoss, j.rowLossOffset + r0, j.grad, j.gradOffset + r0 * p, j.gradScale);
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    private static final class Job {
        final LossConfig config;
        final int rows, chunks, scoresOffset, weightsOffset, rowLossOffset, gradOffset, helpers;
        final float[] scores, weights, rowLoss, grad;
        final float gradScale;
        final double[] partials;
        final CountDownLatch done;
        volatile Throwable failure;

        Job(LossConfig config, int rows, int chunks, float[] scores, int scoresOffset, float[] weights,
            int weightsOffset, float[] rowLoss, int rowLossOffset, float[] grad, int gradOffset, float gradScale,
            int helpers) {
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
            this.helpers = helpers;
            this.partials = new double[chunks];
            this.done = new CountDownLatch(helpers);
        }
    }
}
