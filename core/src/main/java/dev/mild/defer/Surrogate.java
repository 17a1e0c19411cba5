package dev.mild.defer;

import dev.mild.InvalidInputException;
import dev.mild.loss.Checks;
import dev.mild.loss.LossConfig;
import java.util.Arrays;

/**
 * The named losses of MATH.md's table, each a configuration of the one kernel ({@link LossConfig}) plus a
 * rule that turns a cost matrix into the kernel's weights:
 *
 * <table>
 *   <caption>Surrogates</caption>
 *   <tr><th>name</th><th>weights w_k</th><th>rho</th><th>nu</th><th>delta</th></tr>
 *   <tr><td>mild</td><td>rewards (default sum-others)</td><td>per expert</td><td>1</td><td>0</td></tr>
 *   <tr><td>compsum</td><td>rewards</td><td>per expert</td><td>any</td><td>0</td></tr>
 *   <tr><td>tdef</td><td>sum-others</td><td>1</td><td>1</td><td>0</td></tr>
 *   <tr><td>realizable-log</td><td>sum-others - p + 2</td><td>1</td><td>1</td><td>0</td></tr>
 *   <tr><td>realizable-mae</td><td>sum-others - p + 2</td><td>1</td><td>2</td><td>0</td></tr>
 *   <tr><td>multitask</td><td>sum-others of mixed costs</td><td>1</td><td>any</td><td>0</td></tr>
 *   <tr><td>ce</td><td>one-hot of the oracle expert</td><td>1</td><td>1</td><td>0</td></tr>
 *   <tr><td>cwce</td><td>one-hot times n / (p n_k)</td><td>1</td><td>1</td><td>0</td></tr>
 *   <tr><td>ldam</td><td>one-hot of the oracle expert</td><td>1/s</td><td>1</td><td>s C / n_k^(1/4)</td></tr>
 * </table>
 */
public final class Surrogate {

    /** The loss families, with their command-line names. */
    public enum Kind {
        /** {@code mild}: {@link #mild(double[], Rewards)}. */
        MILD("mild"),
        /** {@code compsum}: {@link #compSum}. */
        COMPSUM("compsum"),
        /** {@code tdef}: {@link #tdef}. */
        TDEF("tdef"),
        /** {@code realizable-log}: {@link #realizableLog}. */
        REALIZABLE_LOG("realizable-log"),
        /** {@code realizable-mae}: {@link #realizableMae}. */
        REALIZABLE_MAE("realizable-mae"),
        /** {@code multitask}: {@link #multiTask}. */
        MULTITASK("multitask"),
        /** {@code ce}: {@link #ce}. */
        CE("ce"),
        /** {@code cwce}: {@link #cwce}. */
        CWCE("cwce"),
        /** {@code ldam}: {@link #ldam}. */
        LDAM("ldam");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /**
         * The command-line name.
         *
         * @return the name in the table above ({@code mild}, {@code realizable-log}, ...)
         */
        public String label() {
            return label;
        }

        /**
         * Looks a loss up by its command-line name.
         *
         * @param name a {@link #label()}, matched exactly (case-sensitive)
         * @return the kind with that label
         * @throws InvalidInputException when no kind has that label (also for {@code null}), listing the known ones
         */
        public static Kind byName(String name) {
            for (Kind k : values()) {
                if (k.label.equals(name)) {
                    return k;
                }
            }
            throw new InvalidInputException("unknown loss \"" + name + "\" (known: "
                    + String.join(", ", Arrays.stream(values()).map(Kind::label).toList()) + ")");
        }
    }

    private final Kind kind;
    private final LossConfig config;
    private final Rewards rewards;          // null for the oracle one-hot losses
    private final double[] oracleWeight;    // per expert, for the one-hot losses

    private Surrogate(Kind kind, LossConfig config, Rewards rewards, double[] oracleWeight) {
        this.kind = kind;
        this.config = config;
        this.rewards = rewards;
        this.oracleWeight = oracleWeight;
    }

    /**
     * MILD with the paper's rewards ({@code sum-others}).
     *
     * @param rho one margin {@code rho_k} per expert; their number is p. Not modified (copied).
     * @return {@code mild(rho, Rewards.SUM_OTHERS)}
     * @throws InvalidInputException as {@link LossConfig#mild}: no margin, or one outside
     *                               {@code [MIN_RHO, MAX_RHO]}
     */
    public static Surrogate mild(double... rho) {
        return mild(rho, Rewards.SUM_OTHERS);
    }

    /**
     * MILD's logsumexp loss with per-expert margins and the given rewards: {@code nu = 1}, {@code delta = 0}.
     *
     * @param rho     one margin {@code rho_k} per expert; their number is p. Not modified (copied).
     * @param rewards how costs become weights, not {@code null}
     * @return the loss, of kind {@link Kind#MILD}
     * @throws InvalidInputException as {@link LossConfig#mild}, or when {@code rewards} is {@code null}
     */
    public static Surrogate mild(double[] rho, Rewards rewards) {
        Checks.required("rewards", rewards); // it failed later, in weights(), with a NullPointerException
        return new Surrogate(Kind.MILD, LossConfig.mild(rho), rewards, null);
    }

    /**
     * The comp-sum member of MILD (App. G): per-expert margins, exponent {@code nu}, {@code delta = 0}.
     *
     * @param rho     one margin {@code rho_k} per expert; their number is p. Not modified (copied).
     * @param nu      the exponent, finite and {@code >= 0} ({@code 1}: MILD's logsumexp)
     * @param rewards how costs become weights, not {@code null}
     * @return the loss, of kind {@link Kind#COMPSUM}
     * @throws InvalidInputException as {@link LossConfig#of}: no margin, a margin out of range, a {@code nu}
     *                               that is negative or not finite, or a {@code nu < 1} whose loss would leave
     *                               float32's range even for equal scores; or when {@code rewards} is {@code null}
     */
    public static Surrogate compSum(double[] rho, double nu, Rewards rewards) {
        Checks.required("rewards", rewards);
        return new Surrogate(Kind.COMPSUM, LossConfig.of(rho, null, nu), rewards, null);
    }

    /**
     * TDEF (Mao et al. 2023a): sum-others weights, all margins 1, logistic ({@code nu = 1}).
     *
     * @param p the number of experts, {@code >= 1}
     * @return the loss, of kind {@link Kind#TDEF}
     * @throws InvalidInputException when {@code p < 1}
     */
    public static Surrogate tdef(int p) {
        return new Surrogate(Kind.TDEF, LossConfig.uniform(p, 1.0, 1.0), Rewards.SUM_OTHERS, null);
    }

    /**
     * Realizable L_Psi with {@code Psi = -log} (Mao, Mohri, Zhong 2025): {@link Rewards#REALIZABLE} weights,
     * margins 1, {@code nu = 1}.
     *
     * @param p the number of experts, {@code >= 1}
     * @return the loss, of kind {@link Kind#REALIZABLE_LOG}
     * @throws InvalidInputException when {@code p < 1}
     */
    public static Surrogate realizableLog(int p) {
        return new Surrogate(Kind.REALIZABLE_LOG, LossConfig.uniform(p, 1.0, 1.0), Rewards.REALIZABLE, null);
    }

    /**
     * Realizable L_Psi with {@code Psi = 1 - u} (the MAE member, {@code nu = 2}): {@link Rewards#REALIZABLE}
     * weights, margins 1.
     *
     * @param p the number of experts, {@code >= 1}
     * @return the loss, of kind {@link Kind#REALIZABLE_MAE}
     * @throws InvalidInputException when {@code p < 1}
     */
    public static Surrogate realizableMae(int p) {
        return new Surrogate(Kind.REALIZABLE_MAE, LossConfig.uniform(p, 1.0, 2.0), Rewards.REALIZABLE, null);
    }

    /**
     * Two-stage multi-task deferral (Montreuil et al.): sum-others of costs from {@link #mixCosts}, margins 1.
     *
     * @param p  the number of experts, {@code >= 1}
     * @param nu the exponent, finite and {@code >= 0}
     * @return the loss, of kind {@link Kind#MULTITASK}
     * @throws InvalidInputException when {@code p < 1} or {@code nu} is refused (as {@link LossConfig#uniform})
     */
    public static Surrogate multiTask(int p, double nu) {
        return new Surrogate(Kind.MULTITASK, LossConfig.uniform(p, 1.0, nu), Rewards.SUM_OTHERS, null);
    }

    /**
     * Cross-entropy on the oracle expert: weight 1 on the row's {@link Deferral#oracle} expert (ties to the
     * lowest index), 0 elsewhere; margins 1, {@code nu = 1}.
     *
     * @param p the number of experts, {@code >= 1}
     * @return the loss, of kind {@link Kind#CE}, with no rewards rule
     * @throws InvalidInputException when {@code p < 1}
     */
    public static Surrogate ce(int p) {
        LossConfig config = LossConfig.uniform(p, 1.0, 1.0); // refuses p < 1 before the array below
        double[] ones = new double[p];
        Arrays.fill(ones, 1.0);
        return new Surrogate(Kind.CE, config, null, ones);
    }

    /**
     * Class-weighted cross-entropy: the oracle expert's row weighted by {@code n / (p n_k)}, so balanced
     * counts give weight 1; an expert the training set never picks is weighted as if it had one row.
     *
     * @param oracleCounts {@code n_k}, rows the oracle gives each expert on the training split, each {@code >= 0};
     *                     their number is p. Not modified.
     * @return the loss, of kind {@link Kind#CWCE}: expert k's one-hot weight is
     *         {@code max(n, 1) / (p max(n_k, 1))} with {@code n = sum_k n_k}; margins 1, {@code nu = 1}
     * @throws InvalidInputException when {@code oracleCounts} is {@code null} or empty, or a count is negative
     */
    public static Surrogate cwce(int[] oracleCounts) {
        counts("CWCE", oracleCounts);
        int p = oracleCounts.length;
        long n = Arrays.stream(oracleCounts).asLongStream().sum();
        double[] w = new double[p];
        for (int k = 0; k < p; k++) {
            w[k] = (double) Math.max(n, 1) / ((double) p * Math.max(oracleCounts[k], 1));
        }
        return new Surrogate(Kind.CWCE, LossConfig.uniform(p, 1.0, 1.0), null, w);
    }

    /**
     * LDAM (Cao et al. 2019) on the oracle expert: logit scale {@code s} ({@code rho = 1/s}) and additive
     * margin {@code delta_k = s C / n_k^(1/4)}, with C set so the largest margin among the experts that own
     * training rows (the rarest of them) is {@code maxMargin} (the LDAM paper uses 0.5). An expert with
     * {@code n_k = 0} is the rarest of all and gets {@code maxMargin} too; it takes no part in setting C, since
     * no row's one-hot weight falls on it and its margin never enters the loss (flooring its count at 1 had
     * made C as small as for a one-row expert and shrunk every applied margin: counts 100, 10, 0 gave the
     * 10-row expert 0.28 instead of 0.5).
     *
     * @param oracleCounts {@code n_k}, rows the oracle gives each expert on the training split, each {@code >= 0};
     *                     their number is p. Not modified.
     * @param scale        the logit scale {@code s}, finite and {@code > 0}; every {@code rho_k = 1/s}
     * @param maxMargin    the largest margin before scaling, finite and {@code >= 0}: {@code delta_k} is at most
     *                     {@code s * maxMargin}
     * @return the loss, of kind {@link Kind#LDAM}: weight 1 on the oracle expert, {@code nu = 1},
     *         {@code delta_k = s * maxMargin * (n_min / n_k)^(1/4)} with {@code n_min} the smallest positive count
     *         ({@code s * maxMargin} when {@code n_k = 0})
     * @throws InvalidInputException when {@code oracleCounts} is {@code null} or empty or has a negative count,
     *                               {@code scale} or {@code maxMargin} is out of range, or the margins are beyond
     *                               what {@link LossConfig#of} accepts ({@code 1/s} outside
     *                               {@code [MIN_RHO, MAX_RHO]}, a {@code delta_k} above
     *                               {@link LossConfig#maxDelta maxDelta(1/s)})
     */
    public static Surrogate ldam(int[] oracleCounts, double scale, double maxMargin) {
        counts("LDAM", oracleCounts);
        int p = oracleCounts.length;
        if (!(scale > 0) || !Double.isFinite(scale) || !(maxMargin >= 0) || !Double.isFinite(maxMargin)) {
            throw new InvalidInputException("LDAM needs a finite scale s > 0 and max margin >= 0, got s = " + scale
                    + ", max margin = " + maxMargin);
        }
        double minQuarter = Double.POSITIVE_INFINITY;
        for (int k = 0; k < p; k++) {
            if (oracleCounts[k] > 0) {
                minQuarter = Math.min(minQuarter, Math.pow(oracleCounts[k], 0.25));
            }
        }
        double[] delta = new double[p];
        for (int k = 0; k < p; k++) {
            // C / n_k^(1/4) = maxMargin * (n_rarest / n_k)^(1/4); with no rows at all every margin is maxMargin.
            double margin = oracleCounts[k] == 0 ? maxMargin : maxMargin * minQuarter / Math.pow(oracleCounts[k], 0.25);
            delta[k] = scale * margin;
        }
        double[] rho = new double[p];
        Arrays.fill(rho, 1.0 / scale);
        double[] ones = new double[p];
        Arrays.fill(ones, 1.0);
        return new Surrogate(Kind.LDAM, LossConfig.of(rho, delta, 1.0), null, ones);
    }

    /**
     * Costs of the multi-task setting: {@code c_ik = lambdaClass * classError_ik + lambdaReg * regression_ik
     * + beta_k}, all {@code rows x p} (beta per expert, may be null).
     *
     * @param classError  {@code rows x p} classification errors, finite. Not modified.
     * @param regression  {@code rows x p} regression losses, finite. Not modified.
     * @param rows        the number of rows, {@code >= 0}
     * @param p           the number of experts, {@code >= 1}
     * @param lambdaClass the weight of the classification error, finite
     * @param lambdaReg   the weight of the regression loss, finite
     * @param beta        one price {@code beta_k} per expert (length p), finite; {@code null} for none. Not
     *                    modified.
     * @return a new {@code rows x p} cost matrix; a sum that overflows is infinite (not checked here: the weights
     *         made from it refuse it)
     * @throws InvalidInputException when a matrix is {@code null}, too short or not finite, {@code p < 1},
     *                               {@code rows < 0}, a lambda is not finite, or {@code beta} has another length
     *                               or a non-finite price
     */
    public static double[] mixCosts(double[] classError, double[] regression, int rows, int p,
                                    double lambdaClass, double lambdaReg, double[] beta) {
        Checks.finiteMatrix("class errors", classError, 0, rows, p);
        Checks.finiteMatrix("regression losses", regression, 0, rows, p);
        if (!Double.isFinite(lambdaClass) || !Double.isFinite(lambdaReg)) {
            throw new InvalidInputException("the mixing weights must be finite, got lambdaClass = " + lambdaClass
                    + ", lambdaReg = " + lambdaReg);
        }
        if (beta != null) {
            if (beta.length != p) {
                throw new InvalidInputException("beta has " + beta.length + " prices for " + p + " experts");
            }
            Checks.finiteMatrix("beta", beta, 0, 1, p);
        }
        double[] c = new double[rows * p];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < p; k++) {
                c[i * p + k] = lambdaClass * classError[i * p + k] + lambdaReg * regression[i * p + k]
                        + (beta == null ? 0.0 : beta[k]);
            }
        }
        return c;
    }

    /** Oracle counts for the one-hot losses: present, at least one expert, none negative. */
    private static void counts(String loss, int[] oracleCounts) {
        Checks.required(loss + ": oracle counts", oracleCounts);
        if (oracleCounts.length < 1) {
            throw new InvalidInputException(loss + ": a loss needs at least one expert (p >= 1), got no counts");
        }
        for (int k = 0; k < oracleCounts.length; k++) {
            if (oracleCounts[k] < 0) {
                throw new InvalidInputException(loss + ": the oracle count of expert " + (k + 1) + " (1-based) is "
                        + oracleCounts[k] + "; counts are rows, >= 0");
            }
        }
    }

    /**
     * Which loss of the table this is.
     *
     * @return the kind given by the factory that made it
     */
    public Kind kind() {
        return kind;
    }

    /**
     * The kernel's configuration: margins, additive margins and exponent.
     *
     * @return the configuration, as in the table above
     */
    public LossConfig config() {
        return config;
    }

    /**
     * The rewards rule, or {@code null} for the one-hot oracle losses (ce, cwce, ldam).
     *
     * @return the rule {@link #weights} applies to costs; {@code null} for ce, cwce and ldam
     */
    public Rewards rewards() {
        return rewards;
    }

    /**
     * Number of experts.
     *
     * @return {@code p = config().experts()}, {@code >= 1}
     */
    public int experts() {
        return config.experts();
    }

    /**
     * The kernel's weights for a cost matrix.
     *
     * @param costs {@code rows x p}, finite; in {@code [0, 1]} with {@code one-minus} rewards. Not modified.
     * @param rows  the number of rows, {@code >= 0}
     * @param out   {@code rows x p}: the rewards rule's weights rounded to float32, or for ce, cwce and ldam the
     *              one-hot weight of the row's {@link Deferral#oracle} expert. Modified.
     * @throws InvalidInputException before anything is written: when {@code costs} or {@code out} is
     *                               {@code null} or too short, {@code rows < 0}, a cost is not finite (or outside
     *                               {@code [0, 1]} with {@code one-minus}), or a weight does not fit float32
     *                               (as {@link Rewards#apply(double[], int, int, float[])})
     */
    public void weights(double[] costs, int rows, float[] out) {
        int p = config.experts();
        if (rewards == Rewards.ONE_MINUS) {
            // 1 - c is a reward only for c in [0, 1]; outside, the weights change sign and the lemma fails.
            Checks.unitInterval("costs (one-minus rewards need [0, 1])", costs, 0, rows, p);
        }
        if (rewards != null) {
            rewards.apply(costs, rows, p, out);
            return;
        }
        Checks.finiteMatrix("costs", costs, 0, rows, p);
        Checks.shape("weights output", out == null ? -1 : out.length, 0, rows, p);
        for (int i = 0; i < rows; i++) {
            int k = Deferral.oracle(costs, i * p, p);
            for (int j = 0; j < p; j++) {
                out[i * p + j] = j == k ? (float) oracleWeight[k] : 0f;
            }
        }
    }

    @Override
    public String toString() {
        return kind.label() + (rewards != null && rewards != Rewards.SUM_OTHERS ? " (" + rewards.label() + ")" : "")
                + " " + config;
    }
}
