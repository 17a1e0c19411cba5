package dev.mild.defer;

import dev.mild.RecordText;
import dev.mild.loss.Checks;

/**
 * The target the surrogates are trained for: the deferral loss {@code L_def = c_{f(x)}}, where the router
 * picks {@code f(x) = argmax_k f(x, k)} with ties to the <em>highest</em> index, and the oracle picks
 * {@code argmin_k c_k} with ties to the <em>lowest</em> index (the first expert listed, as the paper counts
 * its "Optimal" ratios).
 */
public final class Deferral {
    private Deferral() {
    }

    /**
     * The router's choice for one row: the highest score, ties to the highest index. The scores must be finite
     * ({@link dev.mild.router.Router} and {@link #evaluate} check them; this is their hot path, which checks only
     * the row's place in the array).
     *
     * @param scores router scores {@code f(x, k)}, finite. Not modified.
     * @param offset element offset of the row's first score, {@code >= 0}
     * @param p      the number of experts, {@code >= 1}
     * @return {@code argmax_k scores[offset + k]}, in {@code 0..p-1}, the highest such k on a tie
     * @throws dev.mild.InvalidInputException when {@code p < 1}, {@code scores} is {@code null}, or the row
     *                                        {@code offset .. offset+p-1} is not inside it
     */
    public static int route(float[] scores, int offset, int p) {
        row(scores == null ? -1 : scores.length, offset, p, "scores");
        int best = 0;
        float max = scores[offset];
        for (int k = 1; k < p; k++) {
            if (scores[offset + k] >= max) {
                max = scores[offset + k];
                best = k;
            }
        }
        return best;
    }

    /**
     * The oracle's choice for one row: the lowest cost, ties to the lowest index. The costs must be finite
     * (not checked here; {@link #oracleLabels} and {@link #evaluate} check them).
     *
     * @param costs  costs {@code c_k}, finite. Not modified.
     * @param offset element offset of the row's first cost, {@code >= 0}
     * @param p      the number of experts, {@code >= 1}
     * @return {@code argmin_k costs[offset + k]}, in {@code 0..p-1}, the lowest such k on a tie
     * @throws dev.mild.InvalidInputException when {@code p < 1}, {@code costs} is {@code null}, or the row
     *                                        {@code offset .. offset+p-1} is not inside it
     */
    public static int oracle(double[] costs, int offset, int p) {
        row(costs == null ? -1 : costs.length, offset, p, "costs");
        int best = 0;
        double min = costs[offset];
        for (int k = 1; k < p; k++) {
            if (costs[offset + k] < min) {
                min = costs[offset + k];
                best = k;
            }
        }
        return best;
    }

    /**
     * The oracle's choice for every row of a {@code rows x p} cost matrix.
     *
     * @param costs {@code rows x p} costs, finite. Not modified.
     * @param rows  the number of rows, {@code >= 0}
     * @param p     the number of experts, {@code >= 1}
     * @return a new array of {@code rows} labels {@code k_i = argmin_k c_ik}, each in {@code 0..p-1} (ties to the
     *         lowest index)
     * @throws dev.mild.InvalidInputException when {@code costs} is {@code null} or too short, {@code rows < 0},
     *                                        {@code p < 1}, or a cost is not finite
     */
    public static int[] oracleLabels(double[] costs, int rows, int p) {
        Checks.finiteMatrix("costs", costs, 0, rows, p);
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) {
            labels[i] = oracle(costs, i * p, p);
        }
        return labels;
    }

    /** One row of p values from {@code offset} inside an array of {@code length} (-1: missing). */
    private static void row(int length, int offset, int p, String what) {
        if (p < 1 || length < 0 || offset < 0 || (long) offset + p > length) {
            Checks.experts(p);
            throw new dev.mild.InvalidInputException(length < 0 ? what + " is missing (null)"
                    : what + ": a row of " + p + " from offset " + offset + " does not fit in " + length + " values");
        }
    }

    /**
     * How many rows the oracle gives each expert ({@code m_j} of MATH.md).
     *
     * @param labels one expert index per row, each in {@code 0..p-1} (e.g. from {@link #oracleLabels}). Not
     *               modified.
     * @param p      the number of experts, {@code >= 1}
     * @return a new array of p counts {@code m_j}, summing to {@code labels.length}
     * @throws dev.mild.InvalidInputException when {@code p < 1}, {@code labels} is {@code null}, or a label is
     *                                        outside {@code 0..p-1}
     */
    public static int[] counts(int[] labels, int p) {
        choices("labels", labels, p);
        int[] m = new int[p];
        for (int label : labels) {
            m[label]++;
        }
        return m;
    }

    /**
     * Deferral loss of a router's scores and of the oracle on the same costs.
     *
     * @param scores {@code rows x p} router scores, finite. Not modified.
     * @param costs  {@code rows x p} costs, finite. Not modified.
     * @param rows   the number of rows, {@code >= 0}
     * @param p      the number of experts, {@code >= 1}
     * @return the router's choices ({@link #route}), the cost each paid, their mean {@code (1/rows) sum_i
     *         c_{i, f(x_i)}} and ratios, and the same for the oracle ({@link #oracle}); means and ratios are 0
     *         when {@code rows == 0}
     * @throws dev.mild.InvalidInputException when either matrix is {@code null} or too short, {@code rows < 0},
     *                                        {@code p < 1}, or a value is not finite
     */
    public static Report evaluate(float[] scores, double[] costs, int rows, int p) {
        Checks.finiteMatrix("scores", scores, 0, rows, p);
        Checks.finiteMatrix("costs", costs, 0, rows, p);
        int[] choice = new int[rows];
        int[] oracle = new int[rows];
        double[] rowLoss = new double[rows];
        double sum = 0.0;
        double oracleSum = 0.0;
        for (int i = 0; i < rows; i++) {
            choice[i] = route(scores, i * p, p);
            oracle[i] = oracle(costs, i * p, p);
            rowLoss[i] = costs[i * p + choice[i]];
            sum += rowLoss[i];
            oracleSum += costs[i * p + oracle[i]];
        }
        return new Report(p, choice, rowLoss, rows == 0 ? 0.0 : sum / rows, ratios(choice, p),
                oracle, rows == 0 ? 0.0 : oracleSum / rows, ratios(oracle, p));
    }

    /**
     * Share of rows given to each expert (all zero when there are no rows).
     *
     * @param choice one expert index per row, each in {@code 0..p-1}. Not modified.
     * @param p      the number of experts, {@code >= 1}
     * @return a new array of p shares {@code count_k / choice.length}, each in {@code [0, 1]}, summing to 1 (up
     *         to rounding) when there are rows
     * @throws dev.mild.InvalidInputException when {@code p < 1}, {@code choice} is {@code null}, or an index is
     *                                        outside {@code 0..p-1}
     */
    public static double[] ratios(int[] choice, int p) {
        choices("choices", choice, p);
        double[] r = new double[p];
        for (int c : choice) {
            r[c]++;
        }
        for (int k = 0; k < p; k++) {
            r[k] = choice.length == 0 ? 0.0 : r[k] / choice.length;
        }
        return r;
    }

    /** Expert indexes, one per row: present, each in {@code 0..p-1}, for {@code p >= 1}. */
    private static void choices(String what, int[] c, int p) {
        Checks.experts(p);
        Checks.required(what, c);
        for (int i = 0; i < c.length; i++) {
            if (c[i] < 0 || c[i] >= p) {
                throw new dev.mild.InvalidInputException(what + ": row " + i + " (0-based) is " + c[i] + ", outside 0.."
                        + (p - 1));
            }
        }
    }

    /**
     * What a router did on a set of rows, next to the oracle. Its arrays are not copied: the accessors return them.
     *
     * @param experts      the number of experts p
     * @param choice       the expert picked per row (ties to the highest index)
     * @param rowLoss      the cost paid per row
     * @param meanLoss     the deferral loss (mean cost paid)
     * @param ratios       share of rows routed to each expert ("ratio of expert deferral")
     * @param oracleChoice the oracle's expert per row (ties to the lowest index)
     * @param oracleLoss   the oracle's deferral loss
     * @param oracleRatios the oracle's shares
     */
    public record Report(int experts, int[] choice, double[] rowLoss, double meanLoss, double[] ratios,
                         int[] oracleChoice, double oracleLoss, double[] oracleRatios) {
        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }
}
