package dev.mild.defer;

import dev.mild.InvalidInputException;
import dev.mild.loss.Checks;
import java.util.Arrays;

/**
 * Choosing the per-expert margins rho (MILD paper, sec. 4.2 B and App. C.4).
 *
 * <p>Each training row is labelled with its oracle expert; expert j owns {@code m_j} rows whose router
 * inputs have largest L2 norm {@code X_j}. The paper's bound is smallest, for a fixed total
 * {@code rho_bar = sum_j rho_j}, at
 * <pre>
 *   rho_j = rho_bar * t_j / sum_j' t_j',    t_j = (m_j X_j^2)^(1/3)
 * </pre>
 * {@link #tilted} interpolates between uniform margins ({@code gamma = 0}) and that theory
 * ({@code gamma = 1}) with {@code t_j^gamma}, which is what the validation search of {@code auto} explores.
 *
 * <p><b>Floor.</b> An expert that owns no training row (or only rows of norm 0) has {@code t_j = 0}, which
 * would make {@code rho_j = 0}, an infinitely sharp margin. Following the paper's advice to give small
 * experts a shared rho, such an expert gets the smallest positive {@code t} of the others: it shares the
 * smallest margin (for {@code gamma > 0}), that of the expert with the smallest {@code m_j X_j^2}, which need
 * not be the one with the fewest rows. When no expert has a positive {@code t}, every {@code t} is 1
 * (uniform margins).
 */
public final class Rho {
    private Rho() {
    }

    /**
     * The paper's theory: {@code tilted(labels, norms, p, rhoBar, 1)}.
     *
     * @param labels the oracle expert of each training row, in {@code 0..p-1}. Not modified.
     * @param norms  the L2 norm of each row's router input, finite and {@code >= 0}. Not modified.
     * @param p      the number of experts, {@code >= 1}
     * @param rhoBar the sum of the margins, finite and {@code > 0}
     * @return a new array of p margins {@code rho_j = rhoBar * t_j / sum_j' t_j'}, with the floor above
     * @throws InvalidInputException as {@link #tilted}
     */
    public static double[] theory(int[] labels, double[] norms, int p, double rhoBar) {
        return tilted(labels, norms, p, rhoBar, 1.0);
    }

    /**
     * {@code rho_j = rhoBar * t_j^gamma / sum_j' t_j'^gamma}.
     *
     * @param labels the oracle expert of each training row, in {@code 0..p-1}. Not modified.
     * @param norms  the L2 norm of each row's router input, finite and {@code >= 0}. Not modified.
     * @param p      the number of experts, {@code >= 1}
     * @param rhoBar the sum of the margins, finite and {@code > 0}
     * @param gamma  the tilt, {@code 0} (uniform) to {@code 1} (theory); any finite value is accepted
     * @return a new array of p margins, each a normal double {@code > 0}, summing to {@code rhoBar} up to
     *         rounding; {@code rhoBar / p} each when {@code gamma = 0}. Not checked against
     *         {@link dev.mild.loss.LossConfig}'s range {@code [MIN_RHO, MAX_RHO]}.
     * @throws InvalidInputException when {@code rhoBar} or {@code gamma} is out of range, as {@link #strengths},
     *                               or when a margin would leave double's normal range (a large {@code |gamma|})
     */
    public static double[] tilted(int[] labels, double[] norms, int p, double rhoBar, double gamma) {
        if (!(rhoBar > 0) || !Double.isFinite(rhoBar)) {
            throw new InvalidInputException("rho_bar must be finite and > 0, got " + rhoBar);
        }
        if (!Double.isFinite(gamma)) {
            throw new InvalidInputException("gamma must be finite, got " + gamma);
        }
        double[] t = strengths(labels, norms, p);
        double[] rho = new double[p];
        double sum = 0.0;
        for (int j = 0; j < p; j++) {
            rho[j] = Math.pow(t[j], gamma);
            sum += rho[j];
        }
        if (!(sum > 0) || !Double.isFinite(sum)) {
            // t^gamma relative to the largest, in log space: pow overflowed at gamma = 1000 (NaN margins)
            double top = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < p; j++) {
                rho[j] = gamma * Math.log(t[j]);
                top = Math.max(top, rho[j]);
            }
            sum = 0.0;
            for (int j = 0; j < p; j++) {
                rho[j] = Math.exp(rho[j] - top);
                sum += rho[j];
            }
        }
        for (int j = 0; j < p; j++) {
            // rhoBar * t^gamma can leave double's normal range where the margin itself does not (1e9 * 1e300,
            // 1e-300 * 1e-20): then the share first; only then, so ordinary margins keep their bits
            double scaled = rhoBar * rho[j];
            boolean normal = scaled >= Double.MIN_NORMAL && Double.isFinite(scaled);
            rho[j] = normal ? scaled / sum : rhoBar * (rho[j] / sum);
            if (!(rho[j] >= Double.MIN_NORMAL) || !Double.isFinite(rho[j])) {
                throw new InvalidInputException("gamma = " + gamma + " with rho_bar = " + rhoBar + " gives expert "
                        + (j + 1) + " (1-based) a margin of " + rho[j] + ": the strengths t_j = (m_j X_j^2)^(1/3) "
                        + Arrays.toString(t) + " raised to gamma span more than double's range; use a gamma nearer"
                        + " 0..1");
            }
        }
        return rho;
    }

    /**
     * {@code t_j = (m_j X_j^2)^(1/3)} per expert, with the floor described above.
     *
     * @param labels the oracle expert of each training row, in {@code 0..p-1}: {@code m_j} counts them. Not
     *               modified.
     * @param norms  the L2 norm of each row's router input, finite and {@code >= 0}, as many as {@code labels}:
     *               {@code X_j} is the largest among expert j's rows. Not modified.
     * @param p      the number of experts, {@code >= 1}
     * @return a new array of p strengths, each {@code > 0}: the floored {@code t_j}, or all 1 when no expert has a
     *         positive {@code t_j}
     * @throws InvalidInputException when {@code p < 1}, an array is {@code null}, the lengths differ, a label is
     *                               outside {@code 0..p-1}, or a norm is negative or not finite
     */
    public static double[] strengths(int[] labels, double[] norms, int p) {
        Checks.experts(p);
        if (labels == null || norms == null) {
            throw new InvalidInputException((labels == null ? "oracle labels" : "norms") + " are missing (null)");
        }
        if (labels.length != norms.length) {
            throw new InvalidInputException(labels.length + " oracle labels but " + norms.length
                    + " norms: give one of each per training row");
        }
        long[] m = new long[p];
        double[] x = new double[p];
        for (int i = 0; i < labels.length; i++) {
            int j = labels[i];
            if (j < 0 || j >= p) {
                throw new InvalidInputException("oracle label of row " + i + " is " + j + ", outside 0.." + (p - 1));
            }
            double n = norms[i];
            if (!(n >= 0) || !Double.isFinite(n)) {
                throw new InvalidInputException("norm of row " + i + " is " + n + " (must be finite and >= 0)");
            }
            m[j]++;
            x[j] = Math.max(x[j], n);
        }
        double[] t = new double[p];
        double floor = Double.POSITIVE_INFINITY;
        for (int j = 0; j < p; j++) {
            double product = m[j] * x[j] * x[j];
            t[j] = Math.cbrt(product);
            // m X^2 overflowed (X = 1e200) or fell below double's normal range (X = 1e-170 gave 0, and the expert took
            // the floor; 1e-160 a subnormal of a few digits): the same value, formed without X^2. Only then, so
            // ordinary t keep their bits.
            boolean outOfRange = product == Double.POSITIVE_INFINITY || (product < Double.MIN_NORMAL && m[j] > 0 && x[j] > 0);
            if (outOfRange) {
                double c = Math.cbrt(x[j]);
                t[j] = Math.cbrt(m[j]) * c * c;
            }
            if (t[j] > 0) {
                floor = Math.min(floor, t[j]);
            }
        }
        if (floor == Double.POSITIVE_INFINITY) {
            Arrays.fill(t, 1.0);
            return t;
        }
        for (int j = 0; j < p; j++) {
            if (!(t[j] > 0)) {
                t[j] = floor;
            }
        }
        return t;
    }

    /**
     * Every margin equal to {@code rho} (finite and {@code > 0}), for {@code p >= 1} experts.
     *
     * @param p   the number of experts, {@code >= 1}
     * @param rho the margin of every expert, finite and {@code > 0}
     * @return a new array of p copies of {@code rho}
     * @throws InvalidInputException when {@code p < 1} or {@code rho} is not finite and {@code > 0}
     */
    public static double[] uniform(int p, double rho) {
        Checks.experts(p);
        if (!(rho > 0) || !Double.isFinite(rho)) {
            throw new InvalidInputException("rho must be finite and > 0, got " + rho);
        }
        double[] r = new double[p];
        Arrays.fill(r, rho);
        return r;
    }

    /**
     * L2 norm of each row of a {@code rows x d} feature matrix (the {@code norms} input of {@link #strengths},
     * which takes each expert's {@code X_j} from them).
     *
     * @param features {@code rows x d} router inputs, row-major. Not modified.
     * @param rows     the number of rows, {@code >= 0}
     * @param d        the number of features per row, {@code >= 1}
     * @return a new array of {@code rows} norms {@code sqrt(sum_c x_ic^2)}, summed in float64; a non-finite
     *         feature gives a non-finite norm (not checked here; {@link #strengths} refuses it)
     * @throws InvalidInputException when {@code rows < 0}, {@code d < 1}, or {@code features} is {@code null} or
     *                               shorter than {@code rows x d}
     */
    public static double[] rowNorms(float[] features, int rows, int d) {
        if (d < 1 || rows < 0) {
            throw new InvalidInputException("rows must be >= 0 and features per row d >= 1, got " + rows + " and " + d);
        }
        if (features == null || (long) rows * d > features.length) {
            throw new InvalidInputException(rows + " rows of " + d + " features need " + (long) rows * d + " values, got "
                    + (features == null ? "null" : features.length));
        }
        double[] n = new double[rows];
        for (int i = 0; i < rows; i++) {
            double s = 0.0;
            for (int c = 0; c < d; c++) {
                double v = features[i * d + c];
                s += v * v;
            }
            n[i] = Math.sqrt(s);
        }
        return n;
    }
}
