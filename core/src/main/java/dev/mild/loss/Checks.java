package dev.mild.loss;

import dev.mild.InvalidInputException;

/**
 * Validation, written once: every public entry point that takes matrices calls these before the hot path,
 * and the kernels trust their input. Messages name the matrix, the row and the column (0-based).
 */
public final class Checks {
    private Checks() {
    }

    /** {@code value}, or an error saying that {@code what} is missing (an argument of a public constructor). */
    public static <T> T required(String what, T value) {
        if (value == null) {
            throw new InvalidInputException(what + " is missing (null)");
        }
        return value;
    }

    /** {@code list}, or an error saying that it, or its first null element (1-based), is missing. */
    public static <T extends java.util.List<?>> T requiredElements(String what, T list) {
        required(what, list);
        int i = 0;
        for (Object element : list) {   // not list.get(i): a LinkedList would make this quadratic
            i++;
            if (element == null) {
                throw new InvalidInputException(what + ": item " + i + " (1-based) is missing (null)");
            }
        }
        return list;
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

    /**
     * Router scores for {@code config}: rows {@code fromRow .. fromRow+rows-1} present, all finite, and each row's
     * spread {@code max_j f_j - min_j f_j} within {@link LossConfig#maxScoreSpread} (scores of 1e36 with rho of
     * 1e-3 made {@code (max - f)/rho} infinite in float32, and a zero weight times it NaN).
     *
     * <p>Costs what the finiteness scan did: one vectorizable pass takes the block's largest and smallest score,
     * and when their difference is within the limit so is every row's (a NaN or an infinity makes it fail).
     * Only otherwise are the rows looked at one by one.
     */
    public static void scores(String what, LossConfig config, float[] m, int fromRow, int rows) {
        int p = config.experts();
        shape(what, m == null ? -1 : m.length, fromRow, rows, p);
        double limit = config.maxScoreSpread();
        float max = Float.NEGATIVE_INFINITY;
        float min = Float.POSITIVE_INFINITY;
        for (int i = fromRow * p; i < (fromRow + rows) * p; i++) {
            max = Math.max(max, m[i]); // Math.max and min keep a NaN
            min = Math.min(min, m[i]);
        }
        if ((double) max - min <= limit) { // also when rows == 0: -inf - inf
            return;
        }
        float half = (float) Math.min(limit / 2, Float.MAX_VALUE); // an infinite score is never near
        for (int i = fromRow; i < fromRow + rows; i++) {
            int row = i * p;
            // Within limit/2 of the first score is within the limit, without the branches of a row maximum.
            boolean near = true;
            for (int j = 0; j < p; j++) {
                near &= Math.abs(m[row + j] - m[row]) <= half;
            }
            if (!near) {
                checkScoreRow(what, config, m, i, p, limit);
            }
        }
    }

    private static void checkScoreRow(String what, LossConfig config, float[] m, int i, int p, double limit) {
        int row = i * p;
        int top = 0;
        int bottom = 0;
        for (int j = 0; j < p; j++) {
            float v = m[row + j];
            if (!Float.isFinite(v)) {
                throw new InvalidInputException(what + ": row " + i + ", column " + j + " is " + v
                        + " (must be finite)");
            }
            top = v > m[row + top] ? j : top;
            bottom = v < m[row + bottom] ? j : bottom;
        }
        double spread = (double) m[row + top] - m[row + bottom];
        if (!(spread <= limit)) {
            throw new InvalidInputException(what + ": row " + i + ", column " + bottom + " is " + m[row + bottom]
                    + " and column " + top + " is " + m[row + top] + " (row and columns 0-based)"
                    // the reason names the sharpest margin's expert 1-based, as the CLI counts experts
                    + ": a spread of " + brief(spread)
                    + " where this loss takes at most " + brief(limit) + ", because " + config.scoreSpreadReason());
        }
    }

    private static String brief(double v) {
        return String.format(java.util.Locale.ROOT, "%.4g", v);
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

    /**
     * An output and another array of the same call must not share elements: the kernels write an output while
     * they still read the inputs (the scalar backend zeroes a row's gradient before it reads that row's scores),
     * so an in-place gradient ({@code grad == scores}) gave a wrong loss and gradient, with no error.
     * Ranges are element offsets and lengths; arrays that are different objects never overlap.
     */
    public static void disjoint(String out, float[] o, long outFrom, long outLength,
                                String other, float[] x, long otherFrom, long otherLength) {
        if (o != null && o == x && outLength > 0 && otherLength > 0
                && outFrom < otherFrom + otherLength && otherFrom < outFrom + outLength) {
            throw new InvalidInputException(out + " and " + other + " are the same array and their elements overlap ("
                    + out + " " + outFrom + ".." + (outFrom + outLength - 1) + ", " + other + " " + otherFrom + ".."
                    + (otherFrom + otherLength - 1) + "): the kernel would overwrite what it still reads; pass "
                    + out + " its own array");
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
