package dev.mild.loss;

/**
 * The float32 fallback every machine has: plain Java loops, the same algorithm the SIMD backend vectorizes.
 *
 * <p>Per row and per distinct margin {@code a} (one softmax each):
 * <pre>
 *   m = max_j f_j (first index j*),  e_j = exp(a (f_j - m)),  zRest = sum_{j != j*} e_j,  Z = 1 + zRest
 *   others_k = sum_{k' != k} exp(a (f_k' - m)) = (k == j*) ? zRest : Z - e_k
 *   log S_k  = softplus(delta_k + a (m - f_k) + log others_k)
 *   grad_j  += e_j * sum_{k in group} w_k a exp(delta_k + a (m - f_k) - nu log S_k)
 *              - [j in group] a w_j S_j^(-nu) (S_j - 1 + exp(delta_j)),   S_j - 1 = e^(delta_j + a (m - f_j)) others_j
 * </pre>
 * Everything is taken relative to the row maximum, so scores of 1e4 and rho of 1e-3 stay finite; keeping
 * {@code zRest} apart from the leading 1 keeps {@code log S} exact when the winner dominates. For the same
 * reason the top expert j* (where {@code e_j* = 1}) takes its share in one float64 term: its softmax part and
 * its own part are both about {@code a w_j*} and differ by {@code a w_j* S^-nu (S - 1)}, far smaller when the
 * winner dominates, so it gets {@code sum_{k != j*} c_k - a w_j* S_j*^-nu e^delta_j* zRest} directly
 * ({@code a (sum_{k != j*} w_k - w_j* zRest) / Z} when nu = 1, delta = 0). With
 * {@code nu = 1, delta = 0} this reduces to {@code log S_k = a (m - f_k) + log Z} and
 * {@code grad_j = e_j a sum(w)/Z - a w_j}: p exps and one log per group.
 *
 * <p>Scores and exps are float32; row sums and the loss accumulate in float64 (cheap here, and it keeps long
 * rows within the float32 tolerance).
 */
public final class ScalarKernel extends RowBlockKernel {

    /** The backend's name, {@value}. */
    public static final String NAME = "scalar";

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[64]);

    /**
     * A scalar kernel with the given thread count.
     *
     * @param options the thread count (the device is not used)
     */
    public ScalarKernel(KernelOptions options) {
        super(options);
    }

    /** A scalar kernel on the caller's thread only. */
    public ScalarKernel() {
        this(KernelOptions.threads(1));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected double block(LossConfig config, int rows,
                           float[] scores, int scoresOffset,
                           float[] weights, int weightsOffset,
                           float[] rowLoss, int rowLossOffset,
                           float[] grad, int gradOffset,
                           float gradScale) {
        int p = config.experts();
        float[] e = SCRATCH.get();
        if (e.length < p) {
            e = new float[Math.max(p, 2 * e.length)];
            SCRATCH.set(e);
        }
        boolean logSumExp = config.isLogSumExp();
        double nu = config.nu();
        double sum = 0.0;
        for (int i = 0; i < rows; i++) {
            int s = scoresOffset + i * p;
            int w = weightsOffset + i * p;
            int g = gradOffset + i * p;

            float m = scores[s];
            int top = 0;
            for (int j = 1; j < p; j++) {
                if (scores[s + j] > m) {
                    m = scores[s + j];
                    top = j;
                }
            }
            if (grad != null) {
                for (int j = 0; j < p; j++) {
                    grad[g + j] = 0f;
                }
            }
            double loss = 0.0;
            for (int grp = 0; grp < config.groups(); grp++) {
                float a = (float) config.groupInverseMargin(grp);
                double zRest = 0.0;
                for (int j = 0; j < p; j++) {
                    float ej = (float) Math.exp(a * (scores[s + j] - m));
                    e[j] = ej;
                    if (j != top) {
                        zRest += ej;
                    }
                }
                double z = 1.0 + zRest;
                int from = config.groupStart(grp);
                int to = config.groupStart(grp + 1);
                boolean topInGroup = config.groupOf(top) == grp;
                // coef = sum_k c_k feeds every e_j; the top expert instead gets its share with its own
                // terms combined exactly (see the class comment), since e_top = 1 and the two can cancel.
                double coef;
                double topShare;
                if (logSumExp) {
                    double logZ = Math.log1p(zRest);
                    double sumW = 0.0;
                    double sumWRest = 0.0;
                    for (int t = from; t < to; t++) {
                        int k = config.groupMember(t);
                        float wk = weights[w + k];
                        loss += wk * ((double) (a * (m - scores[s + k])) + logZ);
                        sumW += wk;
                        if (k != top) {
                            sumWRest += wk;
                            if (grad != null) {
                                grad[g + k] -= a * wk * gradScale;
                            }
                        }
                    }
                    coef = a * sumW / z;
                    topShare = topInGroup ? a * (sumWRest - weights[w + top] * zRest) / z : coef;
                } else {
                    coef = 0.0;
                    double coefRest = 0.0;
                    double topOwn = 0.0;
                    for (int t = from; t < to; t++) {
                        int k = config.groupMember(t);
                        float wk = weights[w + k];
                        double others = k == top ? zRest : z - e[k];
                        // x in double from the float scores (the difference is exact there): formed in float it
                        // kept 1.5 ulp of itself, and Phi ~ e^((1-nu) x) turned that into 1e-5 of the loss near
                        // the score spread's limit (nu = 0, x = 66)
                        double x = config.inverseMargin(k) * ((double) m - scores[s + k]);
                        double u = config.delta(k) + x;
                        double logOthers = Math.log(others);
                        double v = u + logOthers;
                        double tail = LogSpace.softplusTail(v);
                        double logS = Math.max(v, 0.0) + tail; // softplus(v)
                        loss += wk * LogSpace.phi(logS, nu);
                        if (grad != null) {
                            // eEx = exp(u - nu log S), and eEx * others = (S - 1) S^-nu. Not formed as
                            // u - nu (u + logOthers + tail): x of 1e16 (rho 1e-16, a score gap of 1) had rounded
                            // logOthers away in the sum, and the gradient was 2x off for two tied top scores.
                            double eEx = Math.exp(v > 0 ? (1.0 - nu) * u - nu * (logOthers + tail) : u - nu * tail);
                            double ck = wk * a * eEx;
                            coef += ck;
                            if (k == top) {
                                // c_top - own_top = -a w S^-nu (S - 1), and S_top - 1 = e^delta zRest exactly.
                                topOwn = -a * wk * Math.exp(-nu * logS) * config.expDelta(k) * zRest;
                            } else {
                                coefRest += ck;
                                // S^-nu (S - 1 + e^delta), with S - 1 from its parts: as S^(1-nu) + (e^delta - 1) S^-nu
                                // it lost the whole term to 1 - 1/S when S - 1 is below double's resolution
                                // (a negative delta: -69 gave a gradient 115% off).
                                double own = eEx * others + config.expDelta(k) * Math.exp(-nu * logS);
                                grad[g + k] -= (float) (a * wk * own * gradScale);
                            }
                        }
                    }
                    topShare = topInGroup ? coefRest + topOwn : coef;
                }
                if (grad != null) {
                    float c = (float) (coef * gradScale);
                    for (int j = 0; j < p; j++) {
                        if (j != top) {
                            grad[g + j] += e[j] * c;
                        }
                    }
                    grad[g + top] += (float) (topShare * gradScale);
                }
            }
            if (rowLoss != null) {
                rowLoss[rowLossOffset + i] = (float) loss;
            }
            sum += loss;
        }
        return sum;
    }
}
