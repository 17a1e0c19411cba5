package dev.mild.loss;

import dev.mild.InvalidInputException;
import java.util.Arrays;

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
 * <p>Immutable and validated on construction: every rho finite and {@code > 0}, every delta finite,
 * {@code nu} finite and {@code >= 0}, {@code p >= 1}. It also precomputes what every kernel needs: the
 * inverse margins {@code a_k}, {@code exp(delta_k)}, and the experts grouped by distinct {@code a}, because a
 * row costs one softmax per distinct margin (equal margins collapse to one).
 */
public final class LossConfig {
    private final int p;
    private final double[] rho;
    private final double[] a;
    private final double[] delta;
    private final double[] expDelta;
    private final double nu;
    private final boolean hasDelta;

    // Experts grouped by distinct a, in order of first appearance: members of group g are
    // groupMembers[groupStart[g] .. groupStart[g+1]-1].
    private final double[] groupA;
    private final int[] groupStart;
    private final int[] groupMembers;
    private final int[] groupOf;

    private LossConfig(double[] rho, double[] delta, double nu) {
        this.p = rho.length;
        this.rho = rho;
        this.nu = nu;
        this.a = new double[p];
        for (int k = 0; k < p; k++) {
            a[k] = 1.0 / rho[k];
        }
        this.delta = delta;
        this.expDelta = new double[p];
        boolean anyDelta = false;
        for (int k = 0; k < p; k++) {
            expDelta[k] = Math.exp(delta[k]);
            anyDelta |= delta[k] != 0.0;
        }
        this.hasDelta = anyDelta;

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
     * @param rho   per-expert margins, each finite and {@code > 0}. Not modified (copied).
     * @param delta per-expert additive margins, each finite, or {@code null} for all zero. Not modified.
     * @param nu    the comp-sum exponent, finite and {@code >= 0} ({@code 1}: log, {@code 2}: MAE-like).
     * @throws InvalidInputException naming the offending expert
     */
    public static LossConfig of(double[] rho, double[] delta, double nu) {
        if (rho == null || rho.length < 1) {
            throw new InvalidInputException("a loss needs at least one expert (p >= 1), got p = "
                    + (rho == null ? 0 : rho.length));
        }
        for (int k = 0; k < rho.length; k++) {
            if (!(rho[k] > 0.0) || !Double.isFinite(rho[k])) {
                throw new InvalidInputException("rho of expert " + k + " must be finite and > 0, got " + rho[k]);
            }
        }
        if (delta != null) {
            if (delta.length != rho.length) {
                throw new InvalidInputException("delta has " + delta.length + " entries but rho has " + rho.length
                        + ": give one additive margin per expert");
            }
            for (int k = 0; k < delta.length; k++) {
                if (!Double.isFinite(delta[k])) {
                    throw new InvalidInputException("delta of expert " + k + " must be finite, got " + delta[k]);
                }
            }
        }
        if (!(nu >= 0.0) || !Double.isFinite(nu)) {
            throw new InvalidInputException("nu must be finite and >= 0, got " + nu);
        }
        return new LossConfig(rho.clone(), delta == null ? new double[rho.length] : delta.clone(), nu);
    }

    /** MILD's loss {@code l~_rho}: per-expert margins, {@code nu = 1}, no additive margin. */
    public static LossConfig mild(double... rho) {
        return of(rho, null, 1.0);
    }

    /** The same margin for every expert ({@code rho = 1} is TDEF's and the realizable losses' shape). */
    public static LossConfig uniform(int p, double rho, double nu) {
        if (p < 1) {
            throw new InvalidInputException("a loss needs at least one expert (p >= 1), got p = " + p);
        }
        double[] r = new double[p];
        Arrays.fill(r, rho);
        return of(r, null, nu);
    }

    /** Number of experts. */
    public int experts() {
        return p;
    }

    /** Margin of expert k. */
    public double rho(int k) {
        return rho[k];
    }

    /** Inverse margin {@code a_k = 1 / rho_k}. */
    public double inverseMargin(int k) {
        return a[k];
    }

    /** Additive margin {@code delta_k}. */
    public double delta(int k) {
        return delta[k];
    }

    /** {@code exp(delta_k)}. */
    public double expDelta(int k) {
        return expDelta[k];
    }

    /** The comp-sum exponent. */
    public double nu() {
        return nu;
    }

    /** True when some {@code delta_k != 0}. */
    public boolean hasDelta() {
        return hasDelta;
    }

    /** True for the logsumexp fast path: {@code nu == 1} and every {@code delta_k == 0}. */
    public boolean isLogSumExp() {
        return nu == 1.0 && !hasDelta;
    }

    /** Copies of the margins. */
    public double[] rho() {
        return rho.clone();
    }

    /** Copies of the additive margins (zeros when none). */
    public double[] delta() {
        return delta.clone();
    }

    /** Number of distinct margins: the softmaxes a row costs. */
    public int groups() {
        return groupA.length;
    }

    /** Inverse margin shared by the experts of group g. */
    public double groupInverseMargin(int g) {
        return groupA[g];
    }

    /** First index into {@link #groupMember} of group g; group g ends where group g+1 starts. */
    public int groupStart(int g) {
        return groupStart[g];
    }

    /** The i-th expert in group order. */
    public int groupMember(int i) {
        return groupMembers[i];
    }

    /** Group of expert k. */
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
