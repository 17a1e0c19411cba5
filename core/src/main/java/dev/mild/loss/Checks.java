package dev.mild.loss;

import dev.mild.InvalidInputException;

/**
 * Validation, written once: every public entry point that takes matrices calls these before the hot path,
 * and the kernels trust their input. Messages name the matrix, the row and the column (0-based).
 */
public final class Checks {
    /**
     * How a matrix message counts, said in the message: a router's and the CLI's messages count from 1, and a
     * bare "row 1, column 1" for the second row's second value was read as the first's.
     */
    private static final String ZERO_BASED = "row and column 0-based";

    private Checks() {
    }

    /**
     * "scores: row 3, column 1 is NaN (must be finite; row and column 0-based)". A float's NaN and infinities read as
     * the double's, so float and double matrices share it.
     */
    private static InvalidInputException notFinite(String what, String row, int column, double value) {
        return new InvalidInputException(what + ": " + row + ", column " + column + " is " + value + " (must be finite; "
                + ZERO_BASED + ")");
    }

    /**
     * {@code e} said again as coming from a Java option ({@code -Dproperty=value}, set in MILD_JVM_OPTS, say) rather
     * than from a command line the user never wrote it on.
     */
    public static InvalidInputException fromJavaOption(String property, String value, InvalidInputException e) {
        return new InvalidInputException("-D" + property + "=" + value + " (a Java option, e.g. in MILD_JVM_OPTS): "
                + e.getMessage(), e);
    }

    /** {@code value}, or an error saying that {@code what} is missing (an argument of a public method or constructor). */
    public static <T> T required(String what, T value) {
        if (value == null) {
            throw new InvalidInputException(what + " is missing (null)");
        }
        return value;
    }

    /** {@code p}, the number of experts, when it is at least 1. */
    public static int experts(int p) {
        if (p < 1) {
            throw new InvalidInputException("need at least one expert (p >= 1), got " + p);
        }
        return p;
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
                    throw notFinite(what, "row " + i, j, v);
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
        scoresSpread(what, config, m, fromRow, rows);
    }

    /**
     * {@link #scores}, returning a bound on every row's spread (the batch's largest score less its smallest, at most
     * {@link LossConfig#maxScoreSpread}) for {@link #weights}.
     */
    public static double scoresSpread(String what, LossConfig config, float[] m, int fromRow, int rows) {
        int p = config.experts();
        shape(what, m == null ? -1 : m.length, fromRow, rows, p);
        return scoresAt(what, config, m, fromRow * p, rows, new Rows(fromRow, -1));
    }

    /** How a message names row {@code i} of a check: counted from a first row, or within a call from an element. */
    private record Rows(int first, int element) {
        String name(int i) {
            return element < 0 ? "row " + (first + i) : "row " + i + " of the call (elements from " + element + ")";
        }
    }

    private static double scoresAt(String what, LossConfig config, float[] m, int off, int rows, Rows names) {
        int p = config.experts();
        double limit = config.maxScoreSpread();
        float max = Float.NEGATIVE_INFINITY;
        float min = Float.POSITIVE_INFINITY;
        for (int i = off; i < off + rows * p; i++) {
            max = Math.max(max, m[i]); // Math.max and min keep a NaN
            min = Math.min(min, m[i]);
        }
        double spread = (double) max - min;
        if (spread <= limit) { // also when rows == 0: -inf - inf
            return Math.max(spread, 0.0);
        }
        float half = (float) Math.min(limit / 2, Float.MAX_VALUE); // an infinite score is never near
        for (int i = 0; i < rows; i++) {
            int row = off + i * p;
            // Within limit/2 of the first score is within the limit, without the branches of a row maximum.
            boolean near = true;
            for (int j = 0; j < p; j++) {
                near &= Math.abs(m[row + j] - m[row]) <= half;
            }
            if (!near) {
                checkScoreRow(what, config, m, row, names.name(i), p, limit);
            }
        }
        return limit;
    }

    private static void checkScoreRow(String what, LossConfig config, float[] m, int row, String name, int p,
                                      double limit) {
        int top = 0;
        int bottom = 0;
        for (int j = 0; j < p; j++) {
            float v = m[row + j];
            if (!Float.isFinite(v)) {
                throw notFinite(what, name, j, v);
            }
            top = v > m[row + top] ? j : top;
            bottom = v < m[row + bottom] ? j : bottom;
        }
        double spread = (double) m[row + top] - m[row + bottom];
        if (!(spread <= limit)) {
            throw new InvalidInputException(what + ": " + name + ", column " + bottom + " is " + m[row + bottom]
                    + " and column " + top + " is " + m[row + top] + " (row and columns 0-based)"
                    // the reason names the sharpest margin's expert 1-based, as the CLI counts experts
                    + ": a spread of " + brief(spread)
                    + " where this loss takes at most " + brief(limit) + ", because " + config.scoreSpreadReason());
        }
    }

    /**
     * Weights for {@code config}: rows {@code fromRow .. fromRow+rows-1} present, all finite, and each row's
     * {@code sum_k |w_k|} within {@link LossConfig#maxRowWeight} of the scores' spread bound (what
     * {@link #scoresSpread} returned), so that the loss and its gradient stay finite in float32 on every backend:
     * weights of 1e9 with rho of 1e-30, or of 1e37 with rho 1 and scores 100 apart, were accepted and overflowed,
     * some backends to infinity and others to NaN. One pass, as the finiteness scan was.
     */
    public static void weights(String what, LossConfig config, float[] w, int fromRow, int rows, double spread) {
        int p = config.experts();
        shape(what, w == null ? -1 : w.length, fromRow, rows, p);
        weightsAt(what, config, w, fromRow * p, rows, spread, new Rows(fromRow, -1));
    }

    private static void weightsAt(String what, LossConfig config, float[] w, int off, int rows, double spread,
                                  Rows names) {
        int p = config.experts();
        double limit = config.maxRowWeight(spread);
        for (int i = 0; i < rows; i++) {
            int row = off + i * p;
            double sum = 0.0;
            for (int j = 0; j < p; j++) {
                sum += Math.abs(w[row + j]); // a NaN or an infinity fails the test below
            }
            if (!(sum <= limit)) {
                for (int j = 0; j < p; j++) {
                    if (!Float.isFinite(w[row + j])) {
                        throw notFinite(what, names.name(i), j, w[row + j]);
                    }
                }
                throw new InvalidInputException(what + ": " + names.name(i) + " has weights whose magnitudes sum to "
                        + brief(sum) + ", beyond the " + brief(limit) + " this loss takes with " + rows + " rows of"
                        + " scores spreading up to " + brief(spread) + " (the batch's largest score less its smallest):"
                        + " the loss and its gradient could overflow float32 (3.4e38). Scale the costs or weights down"
                        + " (scaling every weight by one constant does not move the loss's minimum)");
            }
        }
    }

    /**
     * One checked {@link LossKernel#lossAndGradient} call with separate element offsets: {@link #call}, then the
     * values as {@link #scores} and {@link #weights} check them (messages count rows from each array's offset).
     */
    static void callValues(LossConfig config, int rows, float[] scores, int scoresOffset, float[] weights,
                           int weightsOffset, float[] rowLoss, int rowLossOffset, float[] grad, int gradOffset) {
        call(config, rows, scores, scoresOffset, weights, weightsOffset, rowLoss, rowLossOffset, grad, gradOffset);
        double spread = scoresAt("scores", config, scores, scoresOffset, rows, new Rows(0, scoresOffset));
        weightsAt("weights", config, weights, weightsOffset, rows, spread, new Rows(0, weightsOffset));
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
                    throw notFinite(what, "row " + i, j, v);
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
                            + " but must lie in [0, 1] (" + ZERO_BASED + ")");
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
        if (o != null && o == x) {
            disjointRanges("array", out, outFrom, outLength, other, otherFrom, otherLength);
        }
    }

    /**
     * {@link #disjoint} for two ranges of one {@code storage} (an "array" here, a device "buffer" in the OpenCL
     * backend): refused when they share an element.
     */
    public static void disjointRanges(String storage, String out, long outFrom, long outLength,
                                      String other, long otherFrom, long otherLength) {
        if (outLength > 0 && otherLength > 0 && outFrom < otherFrom + otherLength && otherFrom < outFrom + outLength) {
            throw new InvalidInputException(out + " and " + other + " are the same " + storage + " and their elements"
                    + " overlap (" + out + " " + outFrom + ".." + (outFrom + outLength - 1) + ", " + other + " "
                    + otherFrom + ".." + (otherFrom + otherLength - 1) + "): the kernel would overwrite what it still"
                    + " reads; pass " + out + " its own " + storage);
        }
    }

    /**
     * The arguments of one {@link LossKernel#lossAndGradient} call, in constant time (no element is read): a
     * configuration, {@code rows >= 0}, present inputs, and every array's range (offset and {@code rows x p}
     * elements, {@code rows} for {@code rowLoss}) inside it, outputs sharing no element with the inputs or each
     * other. Every kernel runs this before it writes anything, so a call that a wrong offset or a short array would
     * have failed half-way, with some outputs already written, fails before the first write and names the array.
     * The values themselves (finite, within {@link LossConfig#maxScoreSpread}) are {@link Loss}'s to check: that
     * costs a pass over the data, which a trainer that validated its data once does not pay per batch.
     */
    public static void call(LossConfig config, int rows, float[] scores, int scoresOffset, float[] weights,
                            int weightsOffset, float[] rowLoss, int rowLossOffset, float[] grad, int gradOffset) {
        int p = configAndRows(config, rows);
        long n = (long) rows * p;
        range("scores", scores, false, scoresOffset, n, rows, p);
        range("weights", weights, false, weightsOffset, n, rows, p);
        range("rowLoss", rowLoss, true, rowLossOffset, rows, rows, 1);
        range("grad", grad, true, gradOffset, n, rows, p);
        disjoint("grad", grad, gradOffset, n, "scores", scores, scoresOffset, n);
        disjoint("grad", grad, gradOffset, n, "weights", weights, weightsOffset, n);
        disjoint("rowLoss", rowLoss, rowLossOffset, rows, "scores", scores, scoresOffset, n);
        disjoint("rowLoss", rowLoss, rowLossOffset, rows, "weights", weights, weightsOffset, n);
        disjoint("rowLoss", rowLoss, rowLossOffset, rows, "grad", grad, gradOffset, n);
    }

    /**
     * {@link #call} for the float64 reference's entry point ({@link ReferenceKernel#evaluate(LossConfig, int, double[],
     * double[], double[], double[], double[], double[])}: offsets 0, up to four optional outputs), in constant time:
     * a configuration, {@code rows >= 0}, present inputs, every array long enough, and no output that is another
     * argument's array. A math checker's {@code grad == scores} gave wrong values without an error, and a short
     * output failed half-way with an {@link ArrayIndexOutOfBoundsException}.
     */
    static void callFloat64(LossConfig config, int rows, double[] scores, double[] weights, double[] rowLoss,
                            double[] grad, double[] rowTermSize, double[] gradTermSize) {
        int p = configAndRows(config, rows);
        String[] names = {"scores", "weights", "rowLoss", "grad", "rowTermSize", "gradTermSize"};
        double[][] arrays = {scores, weights, rowLoss, grad, rowTermSize, gradTermSize};
        int[] widths = {p, p, 1, p, 1, p};
        for (int k = 0; k < arrays.length; k++) {
            boolean output = k >= 2;
            if (arrays[k] == null && output) {
                continue;
            }
            shape(names[k], arrays[k] == null ? -1 : arrays[k].length, 0, rows, widths[k]);
            for (int other = 0; output && other < k; other++) {
                if (arrays[other] == arrays[k]) {
                    disjointRanges("array", names[k], 0, (long) rows * widths[k], names[other], 0,
                            (long) rows * widths[other]);
                }
            }
        }
    }

    /** The number of experts of a present configuration, once {@code rows >= 0} is checked. */
    private static int configAndRows(LossConfig config, int rows) {
        required("config", config);
        if (rows < 0) {
            throw new InvalidInputException("rows must be >= 0, got " + rows);
        }
        return config.experts();
    }

    /** {@code count} elements from {@code offset} inside {@code a} ({@code rows x width} of them, for the message). */
    private static void range(String what, float[] a, boolean optional, int offset, long count, int rows, int width) {
        if (a == null) {
            if (optional) {
                return;
            }
            throw new InvalidInputException(what + " is missing (null)");
        }
        if (offset < 0 || offset + count > a.length) {
            String shape = width == 1 ? rows + " rows" : rows + " rows x " + width + " experts";
            throw new InvalidInputException(what + ": offset " + offset + " and " + count + " elements (" + shape
                    + ") need elements " + offset + ".." + (offset + count - 1) + ", the array has " + a.length
                    + (offset < 0 ? " (the offset must be >= 0)" : ""));
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
