package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.loss.Checks;

/**
 * Rows a router learns from or is scored on: router inputs (already standardized) and the cost of each expert.
 *
 * @param features {@code rows x d} router inputs, row-major
 * @param costs    {@code rows x p} cost of routing each row to each expert
 */
public record Examples(float[] features, double[] costs, int rows, int d, int p) {

    public Examples {
        if (rows < 0 || d < 1 || p < 1) {
            throw new InvalidInputException("examples need rows >= 0, d >= 1 and p >= 1, got " + rows + ", " + d + ", " + p);
        }
        Checks.finiteMatrix("features", features, 0, rows, d);
        Checks.finiteMatrix("costs", costs, 0, rows, p);
    }

    /** Rows {@code idx[i]} of this set, in that order. */
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
