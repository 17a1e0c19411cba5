package dev.mild.loss;

/**
 * The float64 truth the tests and {@code mild golden} compare every backend with. Written to be obviously
 * correct rather than fast: for every expert k it evaluates MATH.md's formulas term by term, O(p^2) per row,
 * in log space (a log-sum-exp over {@code k' != k} with its own maximum), so it shares no algebraic shortcut
 * with the fast kernels. Exponents are split at the row maximum m, {@code a_k (f_j - f_k) = a_k (f_j - m) +
 * a_k (m - f_k)}, so that the large part {@code x = a_k (m - f_k)} cancels exactly in the gradient's
 * {@code x - nu log S} when nu = 1 instead of rounding away the small terms beside it.
 *
 * <pre>
 *   log S_k     = softplus(delta_k + logsumexp_{k' != k} a_k (f_k' - f_k))
 *   loss_i      = sum_k w_k Phi(S_k)
 *   dloss/df_j  = sum_k w_k S_k^(-nu) dS_k/df_j, with
 *   dS_k/df_j   = a_k exp(delta_k + a_k (f_j - f_k))                              (j != k)
 *   dS_k/df_k   = -a_k (S_k - 1) = -sum_{j != k} a_k exp(delta_k + a_k (f_j - f_k))
 * </pre>
 */
public final class ReferenceKernel implements LossKernel {

    /** The backend's name, {@code reference}, as {@link Backends#open} takes it. */
    public static final String NAME = "reference";

    /** A kernel that holds nothing: {@link #close()} does nothing and it keeps working after it. */
    public ReferenceKernel() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Tolerance tolerance() {
        return Tolerance.FLOAT64;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here each row is computed in float64 from the float32 inputs (widened exactly) and rounded to float32 once,
     * when written; the mean returned is that of the float64 row losses.
     */
    @Override
    public double lossAndGradient(LossConfig config, int rows,
                                  float[] scores, int scoresOffset,
                                  float[] weights, int weightsOffset,
                                  float[] rowLoss, int rowLossOffset,
                                  float[] grad, int gradOffset) {
        Checks.call(config, rows, scores, scoresOffset, weights, weightsOffset, rowLoss, rowLossOffset, grad, gradOffset);
        int p = config.experts();
        double[] f = new double[p];
        double[] w = new double[p];
        double[] g = new double[p];
        double[] out = new double[2];
        double sum = 0.0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < p; j++) {
                f[j] = scores[scoresOffset + i * p + j];
                w[j] = weights[weightsOffset + i * p + j];
            }
            row(config, f, 0, w, 0, grad == null ? null : g, null, 0, 1.0 / rows, out);
            double loss = out[0];
            if (rowLoss != null) {
                rowLoss[rowLossOffset + i] = (float) loss;
            }
            if (grad != null) {
                for (int j = 0; j < p; j++) {
                    grad[gradOffset + i * p + j] = (float) g[j];
                }
            }
            sum += loss;
        }
        return rows == 0 ? 0.0 : sum / rows;
    }

    /**
     * The float64 entry point: the same contract as {@link LossKernel#lossAndGradient} on float64 arrays,
     * with all offsets 0 ({@code scores} and {@code weights} are {@code rows x p}). As there, the arguments are checked
     * before anything is written, in constant time: a configuration, {@code rows >= 0}, present inputs, arrays long
     * enough, and no output that is another argument's array (an in-place {@code grad == scores} would read
     * overwritten scores). The values are not checked: a NaN gives NaN.
     *
     * @param config  the loss. Not modified.
     * @param rows    number of rows {@code B >= 0}
     * @param scores  router scores {@code f}, {@code rows x p} with {@code p = config.experts()}. Not modified.
     * @param weights per-expert weights {@code w}, {@code rows x p}. Not modified.
     * @param rowLoss per-row losses {@code loss_i = sum_k w_k Phi(S_k)}, length {@code rows}, or {@code null}.
     *                Modified.
     * @param grad    gradient of the mean loss, {@code (1/B) dloss_i/df_j} at {@code i * p + j}, {@code rows x p},
     *                overwritten, or {@code null}. Modified.
     * @return the mean loss {@code (1/B) sum_i loss_i}, {@code 0} when {@code rows == 0}
     * @throws dev.mild.InvalidInputException when the configuration or an input is {@code null}, {@code rows < 0},
     *                                        an array is too short, or an output is another argument's array
     */
    public static double evaluate(LossConfig config, int rows, double[] scores, double[] weights,
                                  double[] rowLoss, double[] grad) {
        return evaluate(config, rows, scores, weights, rowLoss, grad, null);
    }

    /**
     * {@link #evaluate(LossConfig, int, double[], double[], double[], double[])}, and also the size of each
     * row's terms, {@code sum_k |w_k| Phi(S_k)}: the scale {@link Tolerance} measures a float32 backend's loss
     * error against (with signed weights a row's loss can be far smaller than its terms).
     *
     * @param config      the loss. Not modified.
     * @param rows        number of rows {@code B >= 0}
     * @param scores      router scores {@code f}, {@code rows x p}. Not modified.
     * @param weights     per-expert weights {@code w}, {@code rows x p}. Not modified.
     * @param rowLoss     per-row losses, length {@code rows}, or {@code null}. Modified.
     * @param grad        gradient of the mean loss, {@code rows x p}, or {@code null}. Modified.
     * @param rowTermSize {@code sum_k |w_k| Phi(S_k)} for each row ({@code >= 0}, since {@code Phi(S) >= 0} for
     *                    {@code S >= 1}), length {@code rows}, or {@code null}. Modified.
     * @return the mean loss, {@code 0} when {@code rows == 0}
     * @throws dev.mild.InvalidInputException as {@link #evaluate(LossConfig, int, double[], double[], double[],
     *                                        double[])}, also for the outputs added here
     */
    public static double evaluate(LossConfig config, int rows, double[] scores, double[] weights,
                                  double[] rowLoss, double[] grad, double[] rowTermSize) {
        return evaluate(config, rows, scores, weights, rowLoss, grad, rowTermSize, null);
    }

    /**
     * {@link #evaluate(LossConfig, int, double[], double[], double[], double[], double[])}, and also the size of
     * each gradient entry's terms: the scale {@link Tolerance} measures a float32 backend's gradient error against
     * near a stationary point, where the gradient is far smaller than its terms. For entry (i, j) it is the sum of
     * the absolute values of MATH.md's additive contributions to {@code d(mean loss)/d f_ij}:
     * <pre>
     *   T_ij = (1/B) [ sum_{k != j} |w_k| a_k exp(delta_k + a_k (f_j - f_k)) S_k^(-nu)      (expert k's softmax part)
     *                  + |w_j| a_j (S_j - 1) S_j^(-nu) ]                                    (expert j's own part)
     * </pre>
     * so {@code |g_ij| <= T_ij}, with equality when the contributions share a sign. The own part
     * {@code a_j (S_j - 1) = sum_{k != j} a_j exp(delta_j + a_j (f_k - f_j))} is itself a sum of positive terms,
     * so how it is split does not change T. (For nu = 1, delta = 0 MATH.md also writes the gradient as
     * {@code sum_k w_k a_k (softmax(a_k f)_j - 1[j == k])}, which splits the own part into two terms that cancel
     * in part; T is the smaller, unsplit size.)
     *
     * @param config       the loss. Not modified.
     * @param rows         number of rows {@code B >= 0}
     * @param scores       router scores {@code f}, {@code rows x p}. Not modified.
     * @param weights      per-expert weights {@code w}, {@code rows x p}. Not modified.
     * @param rowLoss      per-row losses, length {@code rows}, or {@code null}. Modified.
     * @param grad         gradient of the mean loss, {@code rows x p}, or {@code null}. Modified.
     * @param rowTermSize  {@code sum_k |w_k| Phi(S_k)} for each row, length {@code rows}, or {@code null}. Modified.
     * @param gradTermSize {@code T}, {@code rows x p}, or {@code null}. Modified. The other outputs are the same
     *                     whether or not it is given.
     * @return the mean loss, {@code 0} when {@code rows == 0}
     * @throws dev.mild.InvalidInputException as {@link #evaluate(LossConfig, int, double[], double[], double[],
     *                                        double[])}, also for the outputs added here
     */
    public static double evaluate(LossConfig config, int rows, double[] scores, double[] weights,
                                  double[] rowLoss, double[] grad, double[] rowTermSize, double[] gradTermSize) {
        Checks.callFloat64(config, rows, scores, weights, rowLoss, grad, rowTermSize, gradTermSize);
        int p = config.experts();
        double[] out = new double[2];
        double sum = 0.0;
        for (int i = 0; i < rows; i++) {
            row(config, scores, i * p, weights, i * p, grad, gradTermSize, i * p, 1.0 / rows, out);
            if (rowLoss != null) {
                rowLoss[i] = out[0];
            }
            if (rowTermSize != null) {
                rowTermSize[i] = out[1];
            }
            sum += out[0];
        }
        return rows == 0 ? 0.0 : sum / rows;
    }

    /**
     * One row: {@code out[0] = loss_i}, {@code out[1] = sum_k |w_k| Phi(S_k)}; writes {@code gradScale * dloss_i/df}
     * into {@code grad} and the size of its terms into {@code gradTerms}, each when non-null.
     */
    private static void row(LossConfig c, double[] f, int fo, double[] w, int wo, double[] grad, double[] gradTerms,
                            int go, double gradScale, double[] out) {
        int p = c.experts();
        double nu = c.nu();
        for (int j = 0; j < p; j++) {
            if (grad != null) {
                grad[go + j] = 0.0;
            }
            if (gradTerms != null) {
                gradTerms[go + j] = 0.0;
            }
        }
        // Exponents are taken relative to the row maximum m: a (f_j - f_k) = y_j + x with y_j = a (f_j - m) <= 0
        // and x = a (m - f_k) >= 0, and x never meets the small terms it would swallow (see below).
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < p; j++) {
            m = Math.max(m, f[fo + j]);
        }
        double loss = 0.0;
        double termSize = 0.0;
        for (int k = 0; k < p; k++) {
            double a = c.inverseMargin(k);
            double delta = c.delta(k);
            double x = a * (m - f[fo + k]);
            // logOthers = log sum_{j != k} exp(y_j), shifted by its own maximum.
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < p; j++) {
                if (j != k) {
                    max = Math.max(max, a * (f[fo + j] - m));
                }
            }
            double logOthers = Double.NEGATIVE_INFINITY;
            if (max != Double.NEGATIVE_INFINITY) {
                double s = 0.0;
                for (int j = 0; j < p; j++) {
                    if (j != k) {
                        s += Math.exp(a * (f[fo + j] - m) - max);
                    }
                }
                logOthers = max + Math.log(s);
            }
            // log S = softplus(v), v = u + logOthers, u = delta + x
            double u = delta + x;
            double v = u + logOthers;
            double tail = LogSpace.softplusTail(v);
            double logS = Math.max(v, 0.0) + tail;
            double phi = LogSpace.phi(logS, nu);
            loss += w[wo + k] * phi;
            termSize += Math.abs(w[wo + k]) * phi;
            if (grad != null || gradTerms != null) {
                // u - nu log S, the exponent every term of expert k shares. Written as u - nu (u + logOthers + tail)
                // it took logOthers back out of a sum with u, where x of 1e16 (rho 1e-16, a score gap of 1) had
                // rounded it away: the gradient was 2x off for two tied top scores, and 2e-4 off at x = 3e12.
                double shared = v > 0 ? (1.0 - nu) * u - nu * (logOthers + tail) : u - nu * tail;
                for (int j = 0; j < p; j++) {
                    if (j != k) {
                        // w_k S_k^-nu dS_k/df_j: expert k's softmax part of entry j, and one piece of its own part
                        double t = w[wo + k] * a * Math.exp(a * (f[fo + j] - m) + shared) * gradScale;
                        if (grad != null) {
                            grad[go + j] += t;
                            grad[go + k] -= t;
                        }
                        if (gradTerms != null) {
                            gradTerms[go + j] += Math.abs(t);
                            gradTerms[go + k] += Math.abs(t);
                        }
                    }
                }
            }
        }
        out[0] = loss;
        out[1] = termSize;
    }
}
