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
     *
     * @param property the system property's name, without {@code -D}
     * @param value    the property's value as given
     * @param e        the error the value caused
     * @return a new exception whose message names the option before {@code e}'s message, with {@code e} as its cause
     */
    public static InvalidInputException fromJavaOption(String property, String value, InvalidInputException e) {
        return new InvalidInputException("-D" + property + "=" + value + " (a Java option, e.g. in MILD_JVM_OPTS): "
                + e.getMessage(), e);
    }

    /**
     * A required argument of a public method or constructor.
     *
     * @param <T>   the argument's type
     * @param what  the argument's name, for the message
     * @param value the argument
     * @return {@code value}
     * @throws InvalidInputException if {@code value} is null
     */
    public static <T> T required(String what, T value) {
        if (value == null) {
            throw new InvalidInputException(what + " is missing (null)");
        }
        return value;
    }

    /**
     * A number of experts.
     *
     * @param p the number of experts
     * @return {@code p}
     * @throws InvalidInputException if {@code p < 1}
     */
    public static int experts(int p) {
        if (p < 1) {
            throw new InvalidInputException("need at least one expert (p >= 1), got " + p);
        }
        return p;
    }

    /**
     * A required list whose elements are all present.
     *
     * @param <T>  the list's type
     * @param what the list's name, for the message
     * @param list the list
     * @return {@code list}
     * @throws InvalidInputException if {@code list} is null, or naming its first null element (1-based) if it has one
     */
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

    /**
     * Rows {@code fromRow .. fromRow+rows-1} of a row-major matrix with p columns: present, long enough, all finite.
     *
     * @param what    the matrix's name, for the message
     * @param m       the matrix, row-major {@code [rows][p]}
     * @param fromRow the first row to check, 0-based
     * @param rows    how many rows to check
     * @param p       the number of columns
     * @throws InvalidInputException as {@link #shape} does, or naming the first value that is NaN or infinite
     */
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
     *
     * @param what    the matrix's name, for the message
     * @param config  the loss configuration, which gives p and the spread limit
     * @param m       the scores, row-major {@code [rows][p]}
     * @param fromRow the first row to check, 0-based
     * @param rows    how many rows to check
     * @throws InvalidInputException as {@link #shape} does, or naming the first row with a NaN or infinite score
     *                               or a spread beyond the limit
     */
    public static void scores(String what, LossConfig config, float[] m, int fromRow, int rows) {
        scoresSpread(what, config, m, fromRow, rows);
    }

    /**
     * {@link #scores}, returning a bound on every row's spread (the batch's largest score less its smallest, at most
     * {@link LossConfig#maxScoreSpread}) for {@link #weights}.
     *
     * @param what    the matrix's name, for the message
     * @param config  the loss configuration, which gives p and the spread limit
     * @param m       the scores, row-major {@code [rows][p]}
     * @param fromRow the first row to check, 0-based
     * @param rows    how many rows to check
     * @return a bound on every checked row's spread, in score units: the block's largest score less its smallest,
     *         or {@link LossConfig#maxScoreSpread} when that difference is larger; 0 when {@code rows == 0}
     * @throws InvalidInputException as {@link #scores} does
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
     *
     * @param what    the matrix's name, for the message
     * @param config  the loss configuration, which gives p and the weight limit
     * @param w       the weights, row-major {@code [rows][p]}
     * @param fromRow the first row to check, 0-based
     * @param rows    how many rows to check
     * @param spread  a bound on the rows' score spread, as {@link #scoresSpread} returns it
     * @throws InvalidInputException as {@link #shape} does, or naming the first row with a NaN or infinite weight
     *                               or whose weights' magnitudes sum beyond the limit
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

    /**
     * Rows {@code fromRow .. fromRow+rows-1} of a float64 row-major matrix with p columns: present, long enough, all
     * finite.
     *
     * @param what    the matrix's name, for the message
     * @param m       the matrix, row-major {@code [rows][p]}
     * @param fromRow the first row to check, 0-based
     * @param rows    how many rows to check
     * @param p       the number of columns
     * @throws InvalidInputException as {@link #shape} does, or naming the first value that is NaN or infinite
     */
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

    /**
     * Costs that a formula needs in {@code [0, 1]} (the {@code one-minus} rewards): rows
     * {@code fromRow .. fromRow+rows-1} present, long enough, finite and in that interval.
     *
     * @param what    the matrix's name, for the message
     * @param m       the costs, row-major {@code [rows][p]}
     * @param fromRow the first row to check, 0-based
     * @param rows    how many rows to check
     * @param p       the number of columns
     * @throws InvalidInputException as {@link #finiteMatrix(String, double[], int, int, int)} does, or naming the
     *                               first value outside {@code [0, 1]}
     */
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

    /**
     * An optional output (null is fine) covering rows {@code fromRow .. fromRow+rows-1} of p columns.
     *
     * @param what    the output's name, for the message
     * @param out     the output, or null
     * @param fromRow the first row, 0-based
     * @param rows    the number of rows
     * @param p       the number of columns
     * @throws InvalidInputException if {@code out} is present and {@link #shape} refuses it
     */
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
     *
     * @param out         the output's name, for the message
     * @param o           the output array, or null
     * @param outFrom     the output's first element
     * @param outLength   how many elements of the output the call writes
     * @param other       the other array's name, for the message
     * @param x           the other array, or null
     * @param otherFrom   the other array's first element
     * @param otherLength how many elements of the other array the call uses
     * @throws InvalidInputException if {@code o} and {@code x} are the same array and the two ranges share an
     *                               element
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
     *
     * @param storage     what holds both ranges ("array", "buffer"), for the message
     * @param out         the output's name, for the message
     * @param outFrom     the output's first element
     * @param outLength   the output's number of elements
     * @param other       the other range's name, for the message
     * @param otherFrom   the other range's first element
     * @param otherLength the other range's number of elements
     * @throws InvalidInputException if both ranges are non-empty and share an element
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
     *
     * @param config        the loss configuration, which gives p
     * @param rows          the number of rows
     * @param scores        the scores, {@code rows x p} elements from {@code scoresOffset}
     * @param scoresOffset  the first score's element
     * @param weights       the weights, {@code rows x p} elements from {@code weightsOffset}
     * @param weightsOffset the first weight's element
     * @param rowLoss       the optional per-row loss output, {@code rows} elements from {@code rowLossOffset}
     * @param rowLossOffset the first row loss's element
     * @param grad          the optional gradient output, {@code rows x p} elements from {@code gradOffset}
     * @param gradOffset    the first gradient element
     * @throws InvalidInputException if {@code config} or an input is missing, {@code rows < 0}, a range falls outside
     *                               its array, or an output shares an element with another argument
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

    /**
     * An array of {@code length} elements covers rows {@code fromRow .. fromRow+rows-1} of p columns.
     *
     * @param what    the array's name, for the message
     * @param length  the array's length, or a negative value for a missing (null) array
     * @param fromRow the first row, 0-based
     * @param rows    the number of rows
     * @param p       the number of columns
     * @throws InvalidInputException if {@code p < 1}, {@code rows} or {@code fromRow} is negative, the array is
     *                               missing, or it has fewer than {@code (fromRow + rows) * p} elements
     */
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
