package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.loss.Checks;

/**
 * Rows a router learns from or is scored on: router inputs (already standardized) and the cost of each expert.
 *
 * @param features {@code rows x d} router inputs, row-major (elements past {@code rows x d} are ignored).
 *                 Not copied.
 * @param costs    {@code rows x p} cost of routing each row to each expert, row-major. Not copied.
 * @param rows     number of rows, {@code >= 0}
 * @param d        number of router inputs per row, {@code >= 1}
 * @param p        number of experts, {@code >= 1}
 */
public record Examples(float[] features, double[] costs, int rows, int d, int p) {

    /**
     * Checks the sizes and the values.
     *
     * @throws InvalidInputException when {@code rows < 0}, {@code d < 1} or {@code p < 1}, an array is
     *                               {@code null} or too short, or a feature or cost is not finite
     */
    public Examples {
        if (rows < 0 || d < 1 || p < 1) {
            throw new InvalidInputException("examples need rows >= 0, d >= 1 and p >= 1, got " + rows + ", " + d + ", " + p);
        }
        Checks.finiteMatrix("features", features, 0, rows, d);
        Checks.finiteMatrix("costs", costs, 0, rows, p);
    }

    /**
     * Rows {@code idx[i]} of this set, in that order (an index may repeat).
     *
     * @param idx row indexes, each in {@code 0..rows-1}. Not modified.
     * @return a new set of {@code idx.length} rows, copied
     * @throws InvalidInputException when {@code idx} is {@code null} or an index is outside {@code 0..rows-1}
     */
    public Examples select(int[] idx) {
        Checks.required("row indexes", idx);
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= rows) {
                throw new InvalidInputException("row index " + i + " (0-based) is " + idx[i] + ", outside the "
                        + rows + " rows 0.." + (rows - 1));
            }
        }
        float[] x = new float[Math.multiplyExact(idx.length, d)];
        double[] c = new double[Math.multiplyExact(idx.length, p)];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(features, idx[i] * d, x, i * d, d);
            System.arraycopy(costs, idx[i] * p, c, i * p, p);
        }
        return new Examples(x, c, idx.length, d, p);
    }

    /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
    @Override
    public String toString() {
        return RecordText.of(this);
    }
}
