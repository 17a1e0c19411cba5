package dev.mild.defer;

import dev.mild.InvalidInputException;
import dev.mild.loss.Checks;
import java.util.Arrays;

/**
 * How the surrogate's per-expert weights {@code w_k} are derived from a row's costs {@code c} (MILD paper,
 * Lemmas 3.1 and 3.2, and the realizable family). A larger weight on expert k means routing to k is more
 * rewarded: each weight is large when the <em>other</em> experts are costly.
 */
public enum Rewards {
    /** {@code w_k = sum_{k' != k} c_k'}: the paper's choice in its experiments (Lemma 3.1). */
    SUM_OTHERS("sum-others"),
    /**
     * {@code w_k = 1 - c_k} (Lemma 3.2). The arithmetic takes any cost; the lemma, and so training with these
     * rewards, needs costs in [0, 1], which {@link Surrogate#weights} checks.
     */
    ONE_MINUS("one-minus"),
    /** {@code w_k = sum_{k' != k} c_k' - p + 2}: the realizable L_Psi weights (may be negative). */
    REALIZABLE("realizable");

    private final String label;

    Rewards(String label) {
        this.label = label;
    }

    /**
     * The name used on the command line and in files.
     *
     * @return {@code sum-others}, {@code one-minus} or {@code realizable}
     */
    public String label() {
        return label;
    }

    /**
     * Looks up {@code sum-others}, {@code one-minus} or {@code realizable}.
     *
     * @param name a {@link #label()}, matched exactly (case-sensitive)
     * @return the rule with that label
     * @throws InvalidInputException when no rule has that label (also for {@code null}), listing the known ones
     */
    public static Rewards byName(String name) {
        for (Rewards r : values()) {
            if (r.label.equals(name)) {
                return r;
            }
        }
        throw new InvalidInputException("unknown rewards \"" + name + "\" (known: " + labels() + ")");
    }

    /**
     * Every rule's label, for messages.
     *
     * @return the labels in declaration order, comma-separated ("sum-others, one-minus, realizable")
     */
    public static String labels() {
        return String.join(", ", Arrays.stream(values()).map(Rewards::label).toList());
    }

    /**
     * Weights for {@code rows} rows of {@code p} costs. Does not check the {@code [0, 1]} range of
     * {@link #ONE_MINUS} (see there).
     *
     * @param costs {@code rows x p}, finite. Not modified.
     * @param rows  the number of rows, {@code >= 0}
     * @param p     the number of experts, {@code >= 1}
     * @param out   {@code rows x p}, not {@code costs} itself: row i's {@code w_k} at {@code i * p + k}, in
     *              float64. Modified.
     * @throws InvalidInputException before anything is written: when {@code costs} or {@code out} is {@code null}
     *                               or too short, {@code rows < 0}, {@code p < 1}, a cost is not finite,
     *                               {@code out} is {@code costs} (and {@code rows > 0}), or a weight overflows
     *                               double (costs near its largest value, summed)
     */
    public void apply(double[] costs, int rows, int p, double[] out) {
        check(costs, rows, p);
        Checks.shape("rewards output", out == null ? -1 : out.length, 0, rows, p);
        if (out == costs && rows > 0) {
            // A row's later weights read costs its earlier ones had overwritten: sum-others came out wrong.
            throw new InvalidInputException("rewards output and costs are the same array: each weight reads the"
                    + " row's other costs, so the output needs its own array");
        }
        requireFinite(costs, rows, p, false);
        for (int i = 0; i < rows; i++) {
            row(costs, i * p, p, out, i * p);
        }
    }

    /**
     * The same, rounded to float32 for the kernels.
     *
     * @param costs {@code rows x p}, finite. Not modified.
     * @param rows  the number of rows, {@code >= 0}
     * @param p     the number of experts, {@code >= 1}
     * @param out   {@code rows x p}: row i's {@code w_k}, computed in float64 and rounded to float32, at
     *              {@code i * p + k}. Modified.
     * @throws InvalidInputException before anything is written: when {@code costs} or {@code out} is {@code null}
     *                               or too short, {@code rows < 0}, {@code p < 1}, a cost is not finite, or a
     *                               weight does not fit float32 (costs near its largest value, summed)
     */
    public void apply(double[] costs, int rows, int p, float[] out) {
        check(costs, rows, p);
        Checks.shape("rewards output", out == null ? -1 : out.length, 0, rows, p);
        requireFinite(costs, rows, p, true);
        double[] tmp = new double[p];
        for (int i = 0; i < rows; i++) {
            row(costs, i * p, p, tmp, 0);
            for (int k = 0; k < p; k++) {
                out[i * p + k] = (float) tmp[k];
            }
        }
    }

    /**
     * A pass over the weights before any is written, so that a row refused late leaves the output as it was: an
     * infinite weight would surface much later as a "diverged" training run.
     */
    private void requireFinite(double[] costs, int rows, int p, boolean float32) {
        double[] tmp = new double[p];
        for (int i = 0; i < rows; i++) {
            row(costs, i * p, p, tmp, 0);
            for (int k = 0; k < p; k++) {
                if (float32 ? !Float.isFinite((float) tmp[k]) : !Double.isFinite(tmp[k])) {
                    throw new InvalidInputException("costs: row " + i + ", column " + k + " (0-based): its " + label
                            + " weight is " + tmp[k] + ", outside the " + (float32 ? "float32 range (at most "
                            + Float.MAX_VALUE + ") the kernels compute in" : "double range (at most " + Double.MAX_VALUE
                            + ")") + "; scale the costs down");
                }
            }
        }
    }

    private void check(double[] costs, int rows, int p) {
        Checks.finiteMatrix("costs", costs, 0, rows, p);
    }

    private void row(double[] c, int co, int p, double[] out, int oo) {
        if (this == ONE_MINUS) {
            for (int k = 0; k < p; k++) {
                out[oo + k] = 1.0 - c[co + k];
            }
            return;
        }
        double shift = this == REALIZABLE ? p - 2.0 : 0.0;
        for (int k = 0; k < p; k++) {
            double others = 0.0;
            for (int j = 0; j < p; j++) {
                if (j != k) {
                    others += c[co + j];
                }
            }
            out[oo + k] = others - shift;
        }
    }
}
