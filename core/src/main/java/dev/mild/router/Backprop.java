package dev.mild.router;

import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * Forward and backward passes of one {@link Mlp} over mini-batches, with every workspace allocated once, for at
 * most {@code maxRows} rows. For layer {@code l} with input {@code A_l} ({@code B x n_l}) and output delta
 * {@code D_l = dLoss/dZ_l} ({@code B x n_{l+1}}):
 *
 * <pre>
 *   forward:   Z_l = A_l W_l + 1 b_l,   A_{l+1} = max(0, Z_l)
 *   backward:  dW_l = A_l^T D_l,  db_l = 1^T D_l
 *              D_{l-1} = (D_l W_l^T) * [Z_{l-1} > 0]
 * </pre>
 *
 * The output delta is the loss kernel's gradient of the <em>mean</em> surrogate loss with respect to the
 * scores, so the parameter gradients are those of the batch mean.
 *
 * <p>Layout: batch matrices are row arrays. Every product (forward, weight gradient, the delta passed down a
 * layer) goes through {@link DenseProduct#fastest()}, as the {@link Router}'s do (every dense product gives the
 * same bits, so scores agree bit for bit and training gives the same model). The network's flat weights are
 * copied into the product's layers at each pass ({@code d x h} floats against {@code B x d x h} multiply-adds)
 * and the gradients copied back to flat arrays for the optimizer. A batch is gathered row by
 * row (rows picked by an index array, so a shuffled epoch needs no copy of the data set).
 *
 * <p>Threads: batch rows (forward, delta) and weight rows (gradient) are split into contiguous ranges, one per
 * thread; every output element is computed by one thread in a fixed order, so results do not depend on the
 * thread count. Not thread-safe: one instance per trainer; {@link #close} stops its threads. close() may come from
 * another thread during a pass (a cancelled training): that pass finishes or throws {@link IllegalStateException},
 * and every pass after it throws one.
 */
public final class Backprop implements AutoCloseable {
    private final Mlp net;
    private final int maxRows;
    private final int threads;
    private final ExecutorService pool;
    private final DenseProduct product;
    private final DenseProduct.Layer[] layerWeights; // each layer's weights, in the dense product's layout
    private final float[][] input;     // batch input rows
    private final float[][][] z;       // pre-activations per layer; z[L-1] holds the scores
    private final float[][][] a;       // ReLU activations of hidden layers (a[l] = relu(z[l]), l < L-1)
    private final float[][][] delta;   // dLoss/dz per layer
    private final float[][][] gradRows;
    private final float[][] gradW;     // flat gradients for the optimizer
    private final float[][] gradB;
    private final float[] scores;      // flat B x p for the loss kernel
    private final float[] scoreGrad;
    private final float[] batchWeights;
    private volatile boolean closed; // volatile: close() may come from another thread

    /**
     * Workspaces for batches of up to {@code maxRows} rows of {@code net}, and {@code threads - 1} pool threads.
     *
     * @param net     the network; its flat parameters are read at every pass, so optimizer updates are seen
     * @param maxRows the largest batch
     * @param threads threads for the products (the caller's thread included)
     * @throws IllegalArgumentException if {@code maxRows} or {@code threads} is below 1
     */
    public Backprop(Mlp net, int maxRows, int threads) {
        if (maxRows < 1 || threads < 1) {
            throw new IllegalArgumentException("maxRows and threads must be >= 1, got " + maxRows + ", " + threads);
        }
        this.net = net;
        this.maxRows = maxRows;
        this.threads = threads;
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "mild-backprop");
            t.setDaemon(true);
            return t;
        }) : null;
        int layers = net.layers();
        product = DenseProduct.fastest();
        layerWeights = new DenseProduct.Layer[layers];
        z = new float[layers][][];
        a = new float[layers][][];
        delta = new float[layers][][];
        gradRows = new float[layers][][];
        gradW = new float[layers][];
        gradB = new float[layers][];
        input = new float[maxRows][net.inputs()];
        for (int l = 0; l < layers; l++) {
            int in = net.size(l);
            int out = net.size(l + 1);
            // The backward pass multiplies by W_l^T only above the input layer.
            layerWeights[l] = l > 0 ? product.trainingLayer(in, out) : product.layer(in, out);
            z[l] = new float[maxRows][out];
            a[l] = l < layers - 1 ? new float[maxRows][out] : null;
            delta[l] = new float[maxRows][out];
            gradRows[l] = new float[in][out];
            gradW[l] = new float[in * out];
            gradB[l] = new float[out];
        }
        int p = net.outputs();
        scores = new float[maxRows * p];
        scoreGrad = new float[maxRows * p];
        batchWeights = new float[maxRows * p];
    }

    /**
     * The network this instance trains.
     *
     * @return the network given to the constructor
     */
    public Mlp network() {
        return net;
    }

    /**
     * The largest batch a pass takes.
     *
     * @return {@code maxRows} as given to the constructor
     */
    public int maxRows() {
        return maxRows;
    }

    /**
     * Forward pass over {@code rows} rows: row {@code r} of the batch is row {@code order[from + r]} of
     * {@code x} ({@code n x d}, flat), or row {@code from + r} when {@code order} is null.
     *
     * @param x     the data set's inputs, row-major {@code [n][d]}. Not modified.
     * @param order row indices into {@code x}, or null for rows in order. Not modified.
     * @param from  the batch's first position in {@code order} (or first row of {@code x} when it is null)
     * @param rows  the batch size, 1 to {@link #maxRows()}
     * @return the {@code rows x p} scores, flat row-major, valid until the next call. Not a copy.
     * @throws IllegalArgumentException if {@code rows} is outside {@code 1..maxRows()}
     * @throws IllegalStateException    if this instance is closed, or was closed or interrupted during the pass
     */
    public float[] forward(float[] x, int[] order, int from, int rows) {
        if (rows < 1 || rows > maxRows) {
            throw new IllegalArgumentException("rows must be in 1.." + maxRows + ", got " + rows);
        }
        ensureOpen();
        int d = net.inputs();
        for (int l = 0; l < net.layers(); l++) {
            layerWeights[l].load(net.weights(l));
        }
        for (int r = 0; r < rows; r++) {
            int src = (order == null ? from + r : order[from + r]) * d;
            System.arraycopy(x, src, input[r], 0, d);
        }
        parallel(rows, this::forwardRows);
        int p = net.outputs();
        Dense.copyOut(z[net.layers() - 1], rows, p, scores);
        return scores;
    }

    private void forwardRows(int r0, int r1) {
        for (int l = 0; l < net.layers(); l++) {
            int out = net.size(l + 1);
            float[][] src = l == 0 ? input : a[l - 1];
            float[] b = net.biases(l);
            layerWeights[l].multiplyRows(src, r0, r1, z[l]);
            for (int r = r0; r < r1; r++) {
                float[] zr = z[l][r];
                for (int j = 0; j < out; j++) {
                    zr[j] += b[j];
                }
                if (a[l] != null) {
                    float[] ar = a[l][r];
                    for (int j = 0; j < out; j++) {
                        ar[j] = Math.max(zr[j], 0f);
                    }
                }
            }
        }
    }

    /**
     * Forward, the surrogate loss and its gradient, and the backward pass. Afterwards
     * {@link #weightGradient} and {@link #biasGradient} hold {@code d(mean loss)/d(parameters)}.
     *
     * @param kernel  the loss kernel that computes the loss and its gradient with respect to the scores
     * @param config  the surrogate loss, with {@code p} equal to the network's outputs
     * @param x       the data set's inputs, row-major {@code [n][d]}. Not modified.
     * @param weights per-row expert weights {@code w} ({@code n x p}), rows picked like those of {@code x}
     * @param order   row indices into {@code x} and {@code weights}, or null for rows in order. Not modified.
     * @param from    the batch's first position in {@code order} (or first row when it is null)
     * @param rows    the batch size, 1 to {@link #maxRows()}
     * @return the batch's mean surrogate loss
     * @throws IllegalArgumentException if {@code rows} is outside {@code 1..maxRows()}, or as the kernel throws
     * @throws IllegalStateException    if this instance is closed, or was closed or interrupted during the pass
     */
    public double lossAndGradient(LossKernel kernel, LossConfig config, float[] x, float[] weights,
                                  int[] order, int from, int rows) {
        int p = net.outputs();
        forward(x, order, from, rows);
        for (int r = 0; r < rows; r++) {
            int src = (order == null ? from + r : order[from + r]) * p;
            System.arraycopy(weights, src, batchWeights, r * p, p);
        }
        double loss = kernel.lossAndGradient(config, rows, scores, 0, batchWeights, 0, null, 0, scoreGrad, 0);
        int last = net.layers() - 1;
        Dense.copyIn(scoreGrad, delta[last], rows, p);
        for (int l = last; l >= 0; l--) {
            int layer = l;
            int in = net.size(l);
            int out = net.size(l + 1);
            float[][] src = l == 0 ? input : a[l - 1];
            float[][] g = gradRows[l];
            for (int c = 0; c < in; c++) {
                java.util.Arrays.fill(g[c], 0f);
            }
            parallel(in, (c0, c1) -> product.accumulateOuter(src, delta[layer], rows, g, c0, c1, out));
            Dense.copyOut(g, in, out, gradW[l]);
            float[] gb = gradB[l];
            java.util.Arrays.fill(gb, 0f);
            for (int r = 0; r < rows; r++) {
                float[] dr = delta[l][r];
                for (int j = 0; j < out; j++) {
                    gb[j] += dr[j];
                }
            }
            if (l > 0) {
                parallel(rows, (r0, r1) -> {
                    for (int r = r0; r < r1; r++) {
                        layerWeights[layer].multiplyTransposedThroughRelu(delta[layer][r], z[layer - 1][r],
                                delta[layer - 1][r]);
                    }
                });
            }
        }
        return loss;
    }

    /**
     * {@code d(mean loss)/dW_l} of the last {@link #lossAndGradient} call.
     *
     * @param l the layer, 0 for the input layer
     * @return the gradient, flat row-major {@code [sizes[l]][sizes[l+1]]}; not a copy, overwritten by the next call
     */
    public float[] weightGradient(int l) {
        return gradW[l];
    }

    /**
     * {@code d(mean loss)/db_l} of the last {@link #lossAndGradient} call.
     *
     * @param l the layer, 0 for the input layer
     * @return the gradient, {@code sizes[l+1]} values; not a copy, overwritten by the next call
     */
    public float[] biasGradient(int l) {
        return gradB[l];
    }

    /**
     * Stops the pool's threads once a pass in flight is done with them; every later pass throws
     * {@link IllegalStateException}. Idempotent. Not shutdownNow(): that drops the ranges still queued without
     * completing their futures, and a pass in flight waited for them forever.
     */
    @Override
    public void close() {
        closed = true;
        if (pool != null) {
            pool.shutdown();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this Backprop is closed");
        }
    }

    @FunctionalInterface
    private interface Range {
        void run(int from, int to);
    }

    /**
     * Splits {@code [0, n)} into one contiguous range per thread; the caller runs the first. Returns or throws
     * only when every range is done: a pool thread still writing after an interrupt or a failure would
     * overwrite the next pass's arrays.
     */
    private void parallel(int n, Range body) {
        int parts = Math.min(threads, Math.max(1, n / 8));
        if (parts <= 1) {
            body.run(0, n);
            return;
        }
        ensureOpen();
        List<Future<?>> futures = new ArrayList<>(parts - 1);
        Throwable failure = null;
        for (int t = 1; t < parts; t++) {
            int from = (int) ((long) n * t / parts);
            int to = (int) ((long) n * (t + 1) / parts);
            try {
                futures.add(pool.submit(() -> body.run(from, to)));
            } catch (RejectedExecutionException e) { // closed since ensureOpen: wait for the ranges already submitted
                failure = new IllegalStateException("this Backprop was closed during a pass", e);
                break;
            } catch (OutOfMemoryError e) { // the pool could not start a thread: wait for the ranges already submitted
                failure = e.getMessage() != null && e.getMessage().startsWith("unable to create native thread")
                        ? new dev.mild.InvalidInputException("cannot start " + threads + " threads for training: the"
                                + " system refused one (" + e.getMessage() + "); use fewer threads", e)
                        : e;
                break;
            }
        }
        if (failure == null) {
            try {
                body.run(0, (int) ((long) n / parts));
            } catch (RuntimeException | Error e) {
                failure = e;
            }
        }
        boolean interrupted = false;
        for (Future<?> f : futures) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // wait on: the range is bounded work
                } catch (ExecutionException e) {
                    failure = failure == null ? new IllegalStateException("a training thread failed", e.getCause()) : failure;
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (interrupted) {
            throw new IllegalStateException("interrupted while training");
        }
    }
}
