package dev.mild.loss;

import dev.mild.InvalidInputException;

/**
 * Validation, written once: every public entry point that takes matrices calls these before the hot path,
 * and the kernels trust their input. Messages name the matrix, the row and the column (0-based).
 */
public final class Checks {
    private Checks() {
    }

    /** Rows {@code fromRow .. fromRow+rows-1} of a matrix with p columns: present, long enough, all finite. */
    public static void finiteMatrix(String what, float[] m, int fromRow, int rows, int p) {
        shape(what, m == null ? -1 : m.length, fromRow, rows, p);
        for (int i = fromRow; i < fromRow + rows; i++) {
            for (int j = 0; j < p; j++) {
                float v = m[i * p + j];
                if (!Float.isFinite(v)) {
                    throw new InvalidInputException(what + ": row " + i + ", column " + j + " is " + v
                            + " (must be finite)");
                }
            }
        }
    }

    /** Rows {@code fromRow .. fromRow+rows-1} of a float64 matrix with p columns: present, long enough, all finite. */
    public static void finiteMatrix(String what, double[] m, int fromRow, int rows, int p) {
        shape(what, m == null ? -1 : m.length, fromRow, rows, p);
        for (int i = fromRow; i < fromRow + rows; i++) {
            for (int j = 0; j < p; j++) {
                double v = m[i * p + j];
                if (!Double.isFinite(v)) {
                    throw new InvalidInputException(what + ": row " + i + ", column " + j + " is " + v
                            + " (must be finite)");
                }
            }
        }
    }

    /** Costs that a formula needs in {@code [0, 1]} (the {@code one-minus} rewards). */
    public static void unitInterval(String what, double[] m, int fromRow, int rows, int p) {
        finiteMatrix(what, m, fromRow, rows, p);
        for (int i = fromRow; i < fromRow + rows; i++) {
            for (int j = 0; j < p; j++) {
                double v = m[i * p + j];
                if (v < 0.0 || v > 1.0) {
                    throw new InvalidInputException(what + ": row " + i + ", column " + j + " is " + v
                            + " but must lie in [0, 1]");
                }
            }
        }
    }

    /** An optional output (null is fine) covering rows {@code fromRow .. fromRow+rows-1} of p columns. */
    public static void output(String what, float[] out, int fromRow, int rows, int p) {
        if (out != null) {
            shape(what, out.length, fromRow, rows, p);
        }
    }

    /** An array of {@code length} elements covers rows {@code fromRow .. fromRow+rows-1} of p columns. */
    public static void shape(String what, int length, int fromRow, int rows, int p) {
        if (p < 1) {
            throw new InvalidInputException(what + ": need at least one expert column (p >= 1), got " + p);
        }
        if (rows < 0 || fromRow < 0) {
            throw new InvalidInputException(what + ": rows (" + rows + ") and first row (" + fromRow
                    + ") must be >= 0");
        }
        if (length < 0) {
            throw new InvalidInputException(what + " is missing (null)");
        }
        long needed = ((long) fromRow + rows) * p;
        if (needed > length) {
            throw new InvalidInputException(what + ": rows " + fromRow + ".." + (fromRow + rows - 1) + " of " + p
                    + " columns need " + needed + " elements, the array has " + length);
        }
    }
}
