package dev.mild.router;

import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import org.ejml.concurrency.EjmlConcurrency;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;
import org.ejml.dense.row.CommonOps_MT_FDRM;

/**
 * Forward and backward passes of one {@link Mlp} over mini-batches, with every workspace allocated once, for at
 * most {@code maxRows} rows. Dense products are EJML's (STYLE.md): for layer {@code l} with input {@code A_l}
 * ({@code B x n_l}) and output delta {@code D_l = dLoss/dZ_l} ({@code B x n_{l+1}}):
 *
 * <pre>
 *   forward:   Z_l = A_l W_l + 1 b_l                       (mult)
 *   backward:  dW_l = A_l^T D_l,  db_l = 1^T D_l           (multTransA, column sums)
 *              D_{l-1} = (D_l W_l^T) * [Z_{l-1} > 0]        (multTransB, ReLU mask)
 * </pre>
 *
 * The output delta is the loss kernel's gradient of the <em>mean</em> surrogate loss with respect to the
 * scores, so the parameter gradients are those of the batch mean.
 *
 * <p>A batch is gathered into the preallocated input matrix (rows picked by an index array, so a shuffled
 * epoch needs no copy of the data set); that copy is {@code B x d} floats against {@code B x d x h}
 * multiply-adds of the first layer. EJML reshapes the workspaces for a shorter last batch without allocating.
 *
 * <p>Determinism: every output element is a sum in a fixed order, whether the products run on one thread
 * ({@code CommonOps_FDRM}) or several ({@code CommonOps_MT_FDRM} splits output rows between threads, so
 * each element is still summed by one thread in the same order). Not thread-safe: one instance per trainer.
 */
public final class Backprop {
    private final Mlp net;
    private final int maxRows;
    private final boolean parallel;
    private final FMatrixRMaj input;
    private final FMatrixRMaj[] w;      // views of the network's live weight arrays
    private final FMatrixRMaj[] z;      // pre-activations per layer; z[L-1] holds the scores
    private final FMatrixRMaj[] a;      // ReLU activations of hidden layers: a[l] = relu(z[l]), l < L-1
    private final FMatrixRMaj[] delta;  // dLoss/dz per layer
    private final FMatrixRMaj[] gradW;
    private final float[][] gradB;
    private final float[] batchWeights;

    /**
     * @param net     the network to train; its arrays are viewed, not copied, so updates to them are seen
     * @param maxRows the largest batch
     * @param threads threads for the dense products ({@code 1}: single-threaded EJML; more: EJML's
     *                concurrent operations, whose pool size is process-wide)
     */
    public Backprop(Mlp net, int maxRows, int threads) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        }
        this.net = net;
        this.maxRows = maxRows;
        this.parallel = threads > 1;
        if (parallel) {
            EjmlConcurrency.setMaxThreads(threads);
        }
        int layers = net.layers();
        input = new FMatrixRMaj(maxRows, net.inputs());
        w = new FMatrixRMaj[layers];
        z = new FMatrixRMaj[layers];
        a = new FMatrixRMaj[layers];
        delta = new FMatrixRMaj[layers];
        gradW = new FMatrixRMaj[layers];
        gradB = new float[layers][];
        for (int l = 0; l < layers; l++) {
            int in = net.size(l);
            int out = net.size(l + 1);
            w[l] = FMatrixRMaj.wrap(in, out, net.weights(l));
            z[l] = new FMatrixRMaj(maxRows, out);
            a[l] = l < layers - 1 ? new FMatrixRMaj(maxRows, out) : null;
            delta[l] = new FMatrixRMaj(maxRows, out);
            gradW[l] = new FMatrixRMaj(in, out);
            gradB[l] = new float[out];
        }
        batchWeights = new float[maxRows * net.outputs()];
    }

    public Mlp network() {
        return net;
    }

    public int maxRows() {
        return maxRows;
    }

    /**
     * Forward pass over {@code rows} rows: row {@code r} of the batch is row {@code order[from + r]} of
     * {@code x} ({@code n x d}), or row {@code from + r} when {@code order} is null.
     *
     * @return the {@code rows x p} scores, row-major, valid until the next call. Not a copy.
     */
    public float[] forward(float[] x, int[] order, int from, int rows) {
        if (rows < 1 || rows > maxRows) {
            throw new IllegalArgumentException("rows must be in 1.." + maxRows + ", got " + rows);
        }
        int d = net.inputs();
        input.reshape(rows, d, false);
        gather(x, d, order, from, rows, input.data);
        FMatrixRMaj in = input;
        for (int l = 0; l < net.layers(); l++) {
            int out = net.size(l + 1);
            z[l].reshape(rows, out, false);
            mult(in, w[l], z[l]);
            float[] zd = z[l].data;
            float[] b = net.biases(l);
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) {
                    zd[o + j] += b[j];
                }
            }
            if (a[l] != null) {
                a[l].reshape(rows, out, false);
                float[] ad = a[l].data;
                int n = rows * out;
                for (int i = 0; i < n; i++) {
                    ad[i] = Math.max(zd[i], 0f);
                }
                in = a[l];
            }
        }
        return z[net.layers() - 1].data;
    }

    /**
     * Forward, the surrogate loss and its gradient, and the backward pass. Afterwards
     * {@link #weightGradient} and {@link #biasGradient} hold {@code d(mean loss)/d(parameters)}.
     *
     * @param weights per-row expert weights {@code w} ({@code n x p}), rows picked like those of {@code x}
     * @return the batch's mean surrogate loss
     */
    public double lossAndGradient(LossKernel kernel, LossConfig config, float[] x, float[] weights,
                                  int[] order, int from, int rows) {
        int p = net.outputs();
        float[] scores = forward(x, order, from, rows);
        gather(weights, p, order, from, rows, batchWeights);
        int last = net.layers() - 1;
        delta[last].reshape(rows, p, false);
        double loss = kernel.lossAndGradient(config, rows, scores, 0, batchWeights, 0, null, 0, delta[last].data, 0);
        for (int l = last; l >= 0; l--) {
            FMatrixRMaj in = l == 0 ? input : a[l - 1];
            multTransA(in, delta[l], gradW[l]);
            columnSums(delta[l], rows, gradB[l]);
            if (l > 0) {
                FMatrixRMaj below = delta[l - 1];
                below.reshape(rows, net.size(l), false);
                multTransB(delta[l], w[l], below);
                float[] bd = below.data;
                float[] zd = z[l - 1].data;
                int n = rows * net.size(l);
                for (int i = 0; i < n; i++) {
                    if (!(zd[i] > 0f)) {
                        bd[i] = 0f;
                    }
                }
            }
        }
        return loss;
    }

    /** {@code d(mean loss)/dW_l} of the last {@link #lossAndGradient} call, {@code sizes[l] x sizes[l+1]}. */
    public float[] weightGradient(int l) {
        return gradW[l].data;
    }

    /** {@code d(mean loss)/db_l} of the last call. */
    public float[] biasGradient(int l) {
        return gradB[l];
    }

    private static void gather(float[] src, int width, int[] order, int from, int rows, float[] dst) {
        if (order == null) {
            System.arraycopy(src, from * width, dst, 0, rows * width);
            return;
        }
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, order[from + r] * width, dst, r * width, width);
        }
    }

    private static void columnSums(FMatrixRMaj m, int rows, float[] out) {
        int cols = m.numCols;
        java.util.Arrays.fill(out, 0f);
        float[] d = m.data;
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) {
                out[j] += d[o + j];
            }
        }
    }

    private void mult(FMatrixRMaj x, FMatrixRMaj y, FMatrixRMaj out) {
        if (parallel) {
            CommonOps_MT_FDRM.mult(x, y, out);
        } else {
            CommonOps_FDRM.mult(x, y, out);
        }
    }

    private void multTransA(FMatrixRMaj x, FMatrixRMaj y, FMatrixRMaj out) {
        if (parallel) {
            CommonOps_MT_FDRM.multTransA(x, y, out);
        } else {
            CommonOps_FDRM.multTransA(x, y, out);
        }
    }

    private void multTransB(FMatrixRMaj x, FMatrixRMaj y, FMatrixRMaj out) {
        if (parallel) {
            CommonOps_MT_FDRM.multTransB(x, y, out);
        } else {
            CommonOps_FDRM.multTransB(x, y, out);
        }
    }
}
