package dev.mild.loss;

import dev.mild.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;

/**
 * One member of the surrogate family of MATH.md, for {@code p} experts:
 *
 * <pre>
 *   S_k     = 1 + exp(delta_k) * sum_{k' != k} exp(a_k (f_k' - f_k)),   a_k = 1 / rho_k
 *   Phi(S)  = log S                       if nu == 1
 *           = (S^(1-nu) - 1) / (1 - nu)   otherwise
 *   loss_i  = sum_k w_k Phi(S_k)
 * </pre>
 *
 * With {@code delta = 0} and {@code nu = 1} this is MILD's logsumexp loss {@code l~_rho}. The weights
 * {@code w} are not part of the configuration: they are data (rewards computed from costs), passed per row.
 *
 * <p>Immutable and validated on construction: {@code p >= 1}, every rho in {@code [MIN_RHO, MAX_RHO]}, every
 * delta in {@code [-maxDelta(rho_k), maxDelta(rho_k)]} (see {@link #maxDelta}), {@code nu} finite and {@code >= 0}: what the
 * float32 kernels can form (see {@link #FACTOR_LIMIT}). The scores have a limit of their own,
 * {@link #maxScoreSpread}, checked by {@link Checks#scores}. It also precomputes what every kernel needs: the
 * inverse margins {@code a_k}, {@code exp(delta_k)}, and the experts grouped by distinct {@code a}, because a row
 * costs one softmax per distinct margin (equal margins collapse to one).
 */
public final class LossConfig {
    /**
     * How far from 1 the configuration and a row's scores may push the numbers the float32 kernels form:
     * {@code 1/rho} and the gradient's scales {@code exp(+-delta)/rho} stay within
     * {@code [1/FACTOR_LIMIT, FACTOR_LIMIT]}; {@code (max_j f_j - f_k)/rho}, {@code Phi(S)} and the gradient's
     * {@code S^(1-nu)/rho} at most {@code FACTOR_LIMIT}. float32's normal numbers span [1.2e-38, 3.4e38]; what is
     * left beyond this limit (a factor of about 1e8 on either side) is room for the weights that multiply those
     * numbers and for the sums over experts. Right at float32's edges the kernels failed: at rho = 4.3e-39
     * (1/rho still a float32) weights of 2 made every float32 gradient NaN, at rho = 1e37 with delta = 88 the
     * OpenCL gradient lost a term to underflow, and at rho = 1e50 the SIMD kernel gave NaN (log2(e)/rho is 0).
     */
    public static final double FACTOR_LIMIT = 1e30;
    /** The smallest margin accepted: {@code 1/rho <= FACTOR_LIMIT}. */
    public static final double MIN_RHO = 1e-30;
    /** The largest margin accepted: {@code 1/rho >= 1/FACTOR_LIMIT} (the loss hardly depends on the scores there). */
    public static final double MAX_RHO = 1e30;

    private final int p;
    private final double[] rho;
    private final double[] a;
    private final double[] delta;
    private final double[] expDelta;
    private final double nu;
    private final boolean hasDelta;
    // The largest row spread max_j f_j - min_j f_j of scores that keeps every factor within FACTOR_LIMIT, and why.
    private final SpreadLimit spreadLimit;

    private record SpreadLimit(double value, String reason) {
    }

    // Experts grouped by distinct a, in order of first appearance: members of group g are
    // groupMembers[groupStart[g] .. groupStart[g+1]-1].
    private final double[] groupA;
    private final int[] groupStart;
    private final int[] groupMembers;
    private final int[] groupOf;

    private LossConfig(double[] rho, double[] delta, double nu) {
        this.p = rho.length;
        this.rho = rho;
        this.nu = nu + 0.0; // -0.0 becomes 0.0: equals compares nu with ==, hashCode its bits
        this.a = new double[p];
        for (int k = 0; k < p; k++) {
            a[k] = 1.0 / rho[k];
        }
        this.delta = delta;
        this.expDelta = new double[p];
        boolean anyDelta = false;
        for (int k = 0; k < p; k++) {
            delta[k] += 0.0; // -0.0 becomes 0.0, the same loss, so the same config for equals and hashCode
            expDelta[k] = Math.exp(delta[k]);
            anyDelta |= delta[k] != 0.0;
        }
        this.hasDelta = anyDelta;

        this.spreadLimit = spreadLimit(rho, a, delta, nu);

        groupOf = new int[p];
        double[] distinct = new double[p];
        int groups = 0;
        for (int k = 0; k < p; k++) {
            int g = 0;
            while (g < groups && distinct[g] != a[k]) {
                g++;
            }
            if (g == groups) {
                distinct[groups++] = a[k];
            }
            groupOf[k] = g;
        }
        groupA = Arrays.copyOf(distinct, groups);
        groupStart = new int[groups + 1];
        for (int k = 0; k < p; k++) {
            groupStart[groupOf[k] + 1]++;
        }
        for (int g = 0; g < groups; g++) {
            groupStart[g + 1] += groupStart[g];
        }
        groupMembers = new int[p];
        int[] fill = Arrays.copyOf(groupStart, groups);
        for (int k = 0; k < p; k++) {
            groupMembers[fill[groupOf[k]]++] = k;
        }
    }

    /**
     * The general member.
     *
     * @param rho   per-expert margins, each in {@code [}{@link #MIN_RHO}{@code , }{@link #MAX_RHO}{@code ]}.
     *              Not modified (copied).
     * @param delta per-expert additive margins, each finite and at most {@link #maxDelta maxDelta(rho_k)} in
     *              magnitude, or
     *              {@code null} for all zero. Not modified.
     * @param nu    the comp-sum exponent, finite and {@code >= 0} ({@code 1}: log, {@code 2}: MAE-like).
     * @return the validated configuration, with {@code p = rho.length} experts
     * @throws InvalidInputException naming the offending expert, counted from 1 as the CLI counts them
     */
    public static LossConfig of(double[] rho, double[] delta, double nu) {
        if (rho == null || rho.length < 1) {
            throw new InvalidInputException("a loss needs at least one expert (p >= 1), got p = "
                    + (rho == null ? 0 : rho.length));
        }
        for (int k = 0; k < rho.length; k++) {
            if (!(rho[k] > 0.0) || !Double.isFinite(rho[k])) {
                throw new InvalidInputException("rho of expert " + (k + 1) + " (1-based) must be finite and > 0, got "
                        + rho[k]);
            }
            if (rho[k] < MIN_RHO || rho[k] > MAX_RHO) {
                throw new InvalidInputException("rho of expert " + (k + 1) + " (1-based) is " + rho[k]
                        + ", outside the accepted [" + MIN_RHO + ", " + MAX_RHO + "]: the float32 kernels form 1/rho,"
                        + " which must stay within that range (the rest of float32's range is room for the weights)");
            }
        }
        if (delta != null) {
            if (delta.length != rho.length) {
                throw new InvalidInputException("delta has " + delta.length + " entries but rho has " + rho.length
                        + ": give one additive margin per expert");
            }
            for (int k = 0; k < delta.length; k++) {
                if (!Double.isFinite(delta[k])) {
                    throw new InvalidInputException("delta of expert " + (k + 1) + " (1-based) must be finite, got "
                            + delta[k]);
                }
                if (delta[k] != 0.0 && Math.abs(delta[k]) > maxDelta(rho[k])) {
                    String bound = String.format(Locale.ROOT, "%.2f", Math.max(0, maxDelta(rho[k])));
                    throw new InvalidInputException("delta of expert " + (k + 1) + " (1-based) is " + delta[k]
                            + " with rho = " + rho[k] + ", outside the accepted [-" + bound + ", " + bound + "]"
                            + ": the float32 kernels scale the gradient by exp(delta)/rho and exp(-delta)/rho, which"
                            + " must stay within [" + MIN_RHO + ", " + MAX_RHO + "]");
                }
            }
        }
        if (!(nu >= 0.0) || !Double.isFinite(nu)) {
            throw new InvalidInputException("nu must be finite and >= 0, got " + nu);
        }
        return new LossConfig(rho.clone(), delta == null ? new double[rho.length] : delta.clone(), nu);
    }

    /**
     * The largest additive margin accepted with margin {@code rho}, in magnitude: {@code exp(+-delta)/rho} within
     * {@code [1/FACTOR_LIMIT, FACTOR_LIMIT]}, i.e. {@code log(FACTOR_LIMIT) - |log rho|} (69.1 at rho = 1).
     * The bound holds for negative deltas too ({@code |delta| <= maxDelta}): there {@code exp(-delta)/rho} is the
     * large factor (delta = -69 with rho = 1e-20 lost a whole gradient term on every float32 backend), and where
     * the scores nearly cancel a negative delta, a term's exponent {@code delta + (f_j - f_k)/rho} keeps a float32
     * rounding error of a few 1e-8 of |delta| (6e-6 of the loss at delta = -69, within {@link Tolerance#FLOAT32};
     * 3.5e-5 at delta = -1429, rho 0.7, a score gap of 1000, which was accepted before and is not now).
     *
     * @param rho a margin in {@code [}{@link #MIN_RHO}{@code , }{@link #MAX_RHO}{@code ]}
     * @return the bound on {@code |delta|}, {@code >= 0} for such a margin (0 at either end of the range)
     */
    public static double maxDelta(double rho) {
        return Math.log(FACTOR_LIMIT) - Math.abs(Math.log(rho));
    }

    /**
     * MILD's loss {@code l~_rho}: per-expert margins, {@code nu = 1}, no additive margin.
     *
     * @param rho one margin per expert, each in {@code [}{@link #MIN_RHO}{@code , }{@link #MAX_RHO}{@code ]}; the
     *            number given is the number of experts. Not modified (copied).
     * @return the validated configuration
     * @throws InvalidInputException when no margin is given or one is out of range (as {@link #of})
     */
    public static LossConfig mild(double... rho) {
        return of(rho, null, 1.0);
    }

    /**
     * The same margin for every expert ({@code rho = 1} is TDEF's and the realizable losses' shape).
     *
     * @param p   the number of experts, {@code >= 1}
     * @param rho the margin of every expert, in {@code [}{@link #MIN_RHO}{@code , }{@link #MAX_RHO}{@code ]}
     * @param nu  the comp-sum exponent, finite and {@code >= 0}
     * @return the validated configuration, with no additive margin
     * @throws InvalidInputException when {@code p < 1}, or as {@link #of}
     */
    public static LossConfig uniform(int p, double rho, double nu) {
        if (p < 1) {
            throw new InvalidInputException("a loss needs at least one expert (p >= 1), got p = " + p);
        }
        double[] r = new double[p];
        Arrays.fill(r, rho);
        return of(r, null, nu);
    }

    /**
     * Number of experts.
     *
     * @return {@code p}, the number of score and weight columns per row, {@code >= 1}
     */
    public int experts() {
        return p;
    }

    /**
     * Margin of expert k.
     *
     * @param k the expert, counted from 0, in {@code 0 .. experts() - 1}
     * @return {@code rho_k}
     * @throws ArrayIndexOutOfBoundsException when {@code k} is out of range
     */
    public double rho(int k) {
        return rho[k];
    }

    /**
     * Inverse margin {@code a_k = 1 / rho_k}.
     *
     * @param k the expert, counted from 0, in {@code 0 .. experts() - 1}
     * @return {@code a_k}
     * @throws ArrayIndexOutOfBoundsException when {@code k} is out of range
     */
    public double inverseMargin(int k) {
        return a[k];
    }

    /**
     * Additive margin {@code delta_k}.
     *
     * @param k the expert, counted from 0, in {@code 0 .. experts() - 1}
     * @return {@code delta_k}; {@code 0} when the configuration has no additive margins
     * @throws ArrayIndexOutOfBoundsException when {@code k} is out of range
     */
    public double delta(int k) {
        return delta[k];
    }

    /**
     * {@code exp(delta_k)}.
     *
     * @param k the expert, counted from 0, in {@code 0 .. experts() - 1}
     * @return {@code exp(delta_k)}, precomputed; {@code 1} when {@code delta_k = 0}
     * @throws ArrayIndexOutOfBoundsException when {@code k} is out of range
     */
    public double expDelta(int k) {
        return expDelta[k];
    }

    /**
     * The comp-sum exponent.
     *
     * @return {@code nu}, finite and {@code >= 0} ({@code 1} for the log member)
     */
    public double nu() {
        return nu;
    }

    /**
     * True when some {@code delta_k != 0}.
     *
     * @return whether any expert has an additive margin
     */
    public boolean hasDelta() {
        return hasDelta;
    }

    /**
     * True for the logsumexp fast path: {@code nu == 1} and every {@code delta_k == 0}.
     *
     * @return whether the kernels can use the logsumexp member
     */
    public boolean isLogSumExp() {
        return nu == 1.0 && !hasDelta;
    }

    /**
     * The largest spread {@code max_j f_j - min_j f_j} of a row's scores that this loss accepts: it keeps
     * {@code (max - f_k)/rho_k}, and with {@code nu < 1} also {@code Phi(S)} and the gradient, within
     * {@link #FACTOR_LIMIT}. {@link Checks#scores} rejects rows beyond it.
     *
     * @return the bound, in score units, {@code >= 0}; {@code FACTOR_LIMIT * rho_min} (capped at float32's largest
     *         value) or less when {@code nu < 1}
     */
    public double maxScoreSpread() {
        return spreadLimit.value;
    }

    /**
     * The kernels form {@code max - f_k} in float32, then {@code a_k (max - f_k) <= maxA * spread}; with
     * {@code nu < 1} also {@code Phi(S) ~ S^(1-nu) / (1-nu)} and the gradient's {@code a S^(1-nu)}, where
     * {@code log S_k <= max(delta, 0) + log p + maxA * spread}: the loss grows exponentially in the spread.
     */
    private static SpreadLimit spreadLimit(double[] rho, double[] a, double[] delta, double nu) {
        int p = rho.length;
        int sharpest = 0;
        double deltaPlus = 0.0;
        for (int k = 0; k < p; k++) {
            sharpest = a[k] > a[sharpest] ? k : sharpest;
            deltaPlus = Math.max(deltaPlus, delta[k]);
        }
        double maxA = a[sharpest];
        String margin = "rho = " + rho[sharpest] + " (expert " + (sharpest + 1) + ", 1-based)";
        SpreadLimit limit = FACTOR_LIMIT / maxA <= Float.MAX_VALUE
                ? new SpreadLimit(FACTOR_LIMIT / maxA, "with " + margin + " the float32 kernels form (max - f)/rho,"
                        + " which must stay within " + FACTOR_LIMIT)
                : new SpreadLimit(Float.MAX_VALUE, "the float32 kernels form max - f, which must be a finite float32");
        if (nu < 1.0) {
            double q = 1.0 - nu;
            double logSLimit = Math.min(Math.log1p(FACTOR_LIMIT * q), Math.log(FACTOR_LIMIT / maxA)) / q;
            double growth = (logSLimit - deltaPlus - Math.log(p)) / maxA;
            if (growth < 0.0) {
                throw new InvalidInputException("nu = " + nu + " < 1 with " + margin + ", delta up to " + deltaPlus
                        + " and p = " + p + ": the loss S^(1-nu)/(1-nu) or its gradient's factor S^(1-nu)/rho would exceed " + FACTOR_LIMIT
                        + " even when all scores are equal; raise nu or rho, or lower delta");
            }
            if (growth < limit.value) {
                limit = new SpreadLimit(growth, "with nu = " + nu + " < 1 the loss grows like"
                        + " exp((1 - nu)(max - f)/rho), and with " + margin + " it and its gradient must stay within "
                        + FACTOR_LIMIT + " in float32");
            }
        }
        return limit;
    }

    /**
     * The largest {@code sum_k |w_k|} of a row's weights this loss accepts when the row's scores spread at most
     * {@code spread} (at most {@link #maxScoreSpread}). Per unit of weight, the loss is at most {@code Phi(S_max)}
     * with {@code log S_max = max(delta, 0) + log p + max_k a_k spread}; the gradient's entries for expert k sum to
     * at most {@code 2 a_k S_max^(max(0, 1-nu))}; and the kernels form the top expert's coefficient
     * {@code a_k e^delta_k S^-nu} before it meets the small softmax terms it multiplies, so that counts too. The
     * weights may take float32's range up to {@code 1/(16 p)} of what the largest of those factors leaves: the rest is
     * room for sums over experts, and for the top expert's gradient share, which the SIMD and OpenCL kernels form as
     * {@code a w_top zRest} with {@code zRest} up to {@code p - 1} before they divide by Z (without the 1/p, tied
     * scores with all the weight on the top expert overflowed there at p >= 34). With rho = 1, no delta, scores 10
     * apart and 3 experts that is about 6e35; with rho = 1e-30 and 3 experts, about 3.5e6. {@link Checks#weights}
     * rejects rows beyond it.
     *
     * @param spread a bound on the row's {@code max_j f_j - min_j f_j}, in score units; a negative value counts
     *               as 0
     * @return the largest accepted {@code sum_k |w_k|} of one row, {@code >= 0}; no larger for a larger spread
     */
    public double maxRowWeight(double spread) {
        double maxA = 0.0;
        double deltaPlus = 0.0;
        for (int k = 0; k < p; k++) {
            maxA = Math.max(maxA, a[k]);
            deltaPlus = Math.max(deltaPlus, delta[k]);
        }
        double logS = deltaPlus + Math.log(p) + maxA * Math.max(spread, 0.0);
        double grow = nu >= 1.0 ? 1.0 : Math.exp((1.0 - nu) * logS);   // S^(1-nu), at most 1 for nu >= 1
        double phi = nu >= 1.0 ? logS : grow / (1.0 - nu);              // (1 - S^(1-nu))/(nu - 1) <= log S
        double factor = Math.max(1.0, phi);
        for (int k = 0; k < p; k++) {
            factor = Math.max(factor, a[k] * Math.max(2.0 * grow, expDelta[k]));
        }
        return Float.MAX_VALUE / 16.0 / p / factor;
    }

    /** Why {@link #maxScoreSpread} is what it is, for error messages. */
    String scoreSpreadReason() {
        return spreadLimit.reason;
    }

    /**
     * Copies of the margins.
     *
     * @return a new array of {@code experts()} margins, expert 0 first; changing it changes nothing here
     */
    public double[] rho() {
        return rho.clone();
    }

    /**
     * Copies of the additive margins (zeros when none).
     *
     * @return a new array of {@code experts()} additive margins, expert 0 first; changing it changes nothing here
     */
    public double[] delta() {
        return delta.clone();
    }

    /**
     * Number of distinct margins: the softmaxes a row costs.
     *
     * @return the number of groups, from 1 to {@code experts()}
     */
    public int groups() {
        return groupA.length;
    }

    /**
     * Inverse margin shared by the experts of group g.
     *
     * @param g the group, counted from 0 in order of each margin's first appearance among the experts, in
     *          {@code 0 .. groups() - 1}
     * @return the group's {@code a = 1 / rho}
     * @throws ArrayIndexOutOfBoundsException when {@code g} is out of range
     */
    public double groupInverseMargin(int g) {
        return groupA[g];
    }

    /**
     * First index into {@link #groupMember} of group g; group g ends where group g+1 starts.
     *
     * @param g the group, counted from 0, in {@code 0 .. groups()}: {@code groupStart(groups())} is
     *          {@code experts()}, the end of the last group
     * @return the index of the group's first member in group order
     * @throws ArrayIndexOutOfBoundsException when {@code g} is out of range
     */
    public int groupStart(int g) {
        return groupStart[g];
    }

    /**
     * The i-th expert in group order.
     *
     * @param i the position in group order, counted from 0, in {@code 0 .. experts() - 1}
     * @return the expert at that position, counted from 0 (within a group, experts keep their own order)
     * @throws ArrayIndexOutOfBoundsException when {@code i} is out of range
     */
    public int groupMember(int i) {
        return groupMembers[i];
    }

    /**
     * Group of expert k.
     *
     * @param k the expert, counted from 0, in {@code 0 .. experts() - 1}
     * @return the group of experts sharing {@code k}'s margin, counted from 0
     * @throws ArrayIndexOutOfBoundsException when {@code k} is out of range
     */
    public int groupOf(int k) {
        return groupOf[k];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LossConfig c && nu == c.nu && Arrays.equals(rho, c.rho) && Arrays.equals(delta, c.delta);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(rho) + Arrays.hashCode(delta)) + Double.hashCode(nu);
    }

    @Override
    public String toString() {
        return "LossConfig[p=" + p + ", rho=" + Arrays.toString(rho)
                + (hasDelta ? ", delta=" + Arrays.toString(delta) : "") + ", nu=" + nu + "]";
    }
}
