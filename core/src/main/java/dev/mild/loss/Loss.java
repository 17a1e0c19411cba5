package dev.mild.loss;

/**
 * The validating facade over a {@link LossKernel}: a loss configuration bound to a backend. Checks shapes,
 * finiteness and the scores' range ({@link Checks#scores}) once per call (naming row and column), then runs the
 * kernel.
 *
 * <pre>{@code
 * Loss loss = Loss.of(LossConfig.mild(0.5, 1.0, 2.0));   // the default backend (simd when present)
 * float[] grad = new float[scores.length];
 * double mean = loss.evaluate(scores, weights, null, grad);
 * }</pre>
 *
 * Thread-safe when its kernel is. {@link #evaluate(int, float[], int, float[], int, float[], int, float[], int)}
 * takes a separate offset per array; trainers that validated their data once can call {@link #kernel()} directly,
 * which checks only the call's shape.
 */
public final class Loss {
    private final LossConfig config;
    private final LossKernel kernel;

    /**
     * Binds a configuration to a kernel, typically one opened with {@link Backends#open}. The kernel stays the
     * caller's: this class never closes it.
     *
     * @param config the loss to compute
     * @param kernel the backend that computes it
     * @throws dev.mild.InvalidInputException if either is {@code null}
     */
    public Loss(LossConfig config, LossKernel kernel) {
        this.config = Checks.required("config", config);
        this.kernel = Checks.required("kernel", kernel);
    }

    /**
     * The configuration on the process-wide default backend ({@link Backends#shared()}), which every
     * {@code Loss.of} shares and nobody closes (closing its {@link #kernel()} does nothing). That backend uses
     * every core ({@link KernelOptions#DEFAULT}: a batch of more than {@link RowBlockKernel#CHUNK_ROWS} rows runs
     * on worker threads); a service that wants fewer opens its own with {@link Backends#open} and
     * {@code new Loss(config, kernel)}.
     *
     * @param config the loss to compute
     * @return a loss on the shared default backend
     * @throws dev.mild.InvalidInputException if {@code config} is {@code null}, or, while the shared backend is
     *                                        not yet made, as {@link Backends#shared()}
     */
    public static Loss of(LossConfig config) {
        return new Loss(config, Backends.shared());
    }

    /**
     * The loss this facade computes.
     *
     * @return the configuration given at construction
     */
    public LossConfig config() {
        return config;
    }

    /**
     * The backend behind this facade, for trainers that validated their data and call it directly.
     *
     * @return the kernel given at construction ({@link Backends#shared()} for {@link #of})
     */
    public LossKernel kernel() {
        return kernel;
    }

    /**
     * Whole matrices: {@code B = scores.length / p} rows.
     *
     * @param scores  {@code B x p}, row-major. Not modified.
     * @param weights {@code B x p}: the same length as {@code scores}. Not modified.
     * @param rowLoss length {@code >= B}, or {@code null}. Modified.
     * @param grad    {@code B x p} gradient of the mean loss, or {@code null}. Modified.
     * @return the mean loss; {@code 0} when {@code B == 0}
     * @throws dev.mild.InvalidInputException as {@link #evaluate(float[], float[], int, int, float[], float[])},
     *                                        and when {@code scores.length} is not a multiple of p or
     *                                        {@code weights} is longer than {@code scores}
     */
    public double evaluate(float[] scores, float[] weights, float[] rowLoss, float[] grad) {
        int p = config.experts();
        Checks.required("scores", scores);
        if (scores.length % p != 0) {
            throw new dev.mild.InvalidInputException("scores: length " + scores.length + " is not a multiple of p = " + p);
        }
        // B comes from the scores, so longer weights (another p, another batch) were read as B x p without error.
        if (weights != null && weights.length > scores.length) {
            throw new dev.mild.InvalidInputException("weights: length " + weights.length + " but scores has "
                    + scores.length + " (" + scores.length / p + " rows of p = " + p + "): whole matrices must have"
                    + " the same shape (use the fromRow, rows form for part of a larger array)");
        }
        return evaluate(scores, weights, 0, scores.length / p, rowLoss, grad);
    }

    /**
     * A view of rows {@code fromRow .. fromRow+rows-1} of the same arrays: scores, weights and grad at element
     * {@code fromRow * p}, rowLoss at index {@code fromRow}. The gradient is that of the view's mean loss.
     * Outputs may not share elements with the inputs or with each other (no in-place gradient).
     *
     * @param scores  router scores, row-major with {@code p = config().experts()} columns, at least
     *                {@code (fromRow + rows) x p} elements. Not modified.
     * @param weights per-expert weights, the same layout as {@code scores}. Not modified.
     * @param fromRow the view's first row, counted from 0, {@code >= 0}
     * @param rows    the number of rows in the view, {@code >= 0}
     * @param rowLoss each row's loss, written at index {@code fromRow + i}; {@code null} to skip. Modified.
     * @param grad    the gradient of the view's mean loss, written from element {@code fromRow * p};
     *                {@code null} to skip the backward pass. Modified.
     * @return the mean loss over the view; {@code 0} when {@code rows == 0}
     * @throws dev.mild.InvalidInputException on a missing or too short array, a negative {@code fromRow} or
     *                                        {@code rows}, a non-finite value, a row whose scores spread too far
     *                                        or whose weights are too large for float32 ({@link Checks#weights})
     *                                        (naming the array, row and column), or overlapping outputs
     */
    public double evaluate(float[] scores, float[] weights, int fromRow, int rows, float[] rowLoss, float[] grad) {
        int p = config.experts();
        double spread = Checks.scoresSpread("scores", config, scores, fromRow, rows);
        Checks.weights("weights", config, weights, fromRow, rows, spread);
        Checks.output("rowLoss", rowLoss, fromRow, rows, 1);
        Checks.output("grad", grad, fromRow, rows, p);
        int offset = fromRow * p; // within the arrays' lengths, checked above
        Checks.call(config, rows, scores, offset, weights, offset, rowLoss, fromRow, grad, offset); // the overlaps
        return kernel.lossAndGradient(config, rows, scores, offset, weights, offset, rowLoss, fromRow, grad, offset);
    }

    /**
     * {@link LossKernel#lossAndGradient}'s form, with a separate element offset per array (a trainer's mini-batch
     * in arrays laid out differently), checked as {@link #evaluate(float[], float[], int, int, float[], float[])}
     * checks its view: shapes, finite values, the scores' spread and the weights' size. Messages count rows from
     * each array's offset ("row 3 of the call").
     *
     * @param rows          number of rows {@code B >= 0}
     * @param scores        router scores, {@code rows x p} from {@code scoresOffset}, with
     *                      {@code p = config().experts()}. Not modified.
     * @param scoresOffset  element offset of the first score, {@code >= 0}
     * @param weights       per-expert weights, {@code rows x p} from {@code weightsOffset}. Not modified.
     * @param weightsOffset element offset of the first weight, {@code >= 0}
     * @param rowLoss       each row's loss, written at {@code rowLossOffset + i}; {@code null} to skip. Modified.
     * @param rowLossOffset element offset of the first row loss, {@code >= 0} (ignored when {@code rowLoss} is
     *                      {@code null})
     * @param grad          the gradient of the mean loss, {@code rows x p} from {@code gradOffset}, overwritten;
     *                      {@code null} to skip the backward pass. Modified.
     * @param gradOffset    element offset of the first gradient entry, {@code >= 0} (ignored when {@code grad}
     *                      is {@code null})
     * @return the mean loss over the rows; {@code 0} when {@code rows == 0}
     * @throws dev.mild.InvalidInputException before anything is written: on a negative {@code rows} or offset,
     *                                        a missing input, an array too short for its range, overlapping
     *                                        outputs, a non-finite value, a row whose scores spread too far or
     *                                        whose weights are too large for float32
     */
    public double evaluate(int rows, float[] scores, int scoresOffset, float[] weights, int weightsOffset,
                           float[] rowLoss, int rowLossOffset, float[] grad, int gradOffset) {
        Checks.callValues(config, rows, scores, scoresOffset, weights, weightsOffset, rowLoss, rowLossOffset, grad,
                gradOffset);
        return kernel.lossAndGradient(config, rows, scores, scoresOffset, weights, weightsOffset, rowLoss,
                rowLossOffset, grad, gradOffset);
    }
}
