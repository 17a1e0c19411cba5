package dev.mild.loss;

/**
 * How far a backend's gradient {@code g} is from the float64 truth {@code g*}, in the two measures
 * {@link Tolerance} bounds, each a maximum over every entry of the batch:
 * <pre>
 *   normwise = max|g - g*| / max|g*|     (the numerator alone when g* = 0)
 *   termwise = max|g - g*| / max T*      (the numerator alone when T* = 0)
 * </pre>
 * where {@code T*} is the size of each entry's terms, from
 * {@link ReferenceKernel#evaluate(LossConfig, int, double[], double[], double[], double[], double[], double[])}.
 * A NaN anywhere in {@code g} gives NaN in both, which no tolerance accepts. {@code g} and {@code g*} must have the
 * same length ({@link #maxAbsDiff} refuses others).
 *
 * @param normwise {@code max|g - g*| / max|g*|}, {@code >= 0} or NaN
 * @param termwise {@code max|g - g*| / max T*}, {@code >= 0}, NaN, or {@code +inf} from {@link #normwiseOnly}
 */
public record GradientError(double normwise, double termwise) {

    /**
     * Both measures of {@code got} against {@code expected}, with {@code termSize} the reference's {@code T*}.
     *
     * @param got      the backend's gradient {@code g}, as long as {@code expected}. Not modified.
     * @param expected the float64 truth {@code g*}. Not modified.
     * @param termSize {@code T*} per entry, as long as {@code expected}. Not modified.
     * @return the normwise and termwise errors
     * @throws dev.mild.InvalidInputException when an array is null or differs from {@code expected} in length
     */
    public static GradientError of(double[] got, double[] expected, double[] termSize) {
        requireSameLength("termSize", termSize, expected);
        double diff = maxAbsDiff(got, expected);
        return new GradientError(relative(diff, maxAbs(expected)), relative(diff, maxAbs(termSize)));
    }

    /**
     * The normwise measure alone, for a truth without term sizes (a golden file's values): the termwise one is
     * {@code +inf}, so only the normwise bound can accept it.
     *
     * @param got      the backend's gradient {@code g}, as long as {@code expected}. Not modified.
     * @param expected the truth {@code g*}. Not modified.
     * @return the normwise error, and a termwise one of {@code +inf} (NaN when the normwise one is NaN)
     * @throws dev.mild.InvalidInputException as {@link #maxAbsDiff} does
     */
    public static GradientError normwiseOnly(double[] got, double[] expected) {
        double normwise = relative(maxAbsDiff(got, expected), maxAbs(expected));
        return new GradientError(normwise, Double.isNaN(normwise) ? Double.NaN : Double.POSITIVE_INFINITY);
    }

    /**
     * The worse of two measurements of the same gradient (e.g. a first call and a later one), measure by measure.
     *
     * @param other the other measurement
     * @return the larger normwise and the larger termwise error; NaN where either has NaN
     */
    public GradientError max(GradientError other) {
        return new GradientError(Math.max(normwise, other.normwise), Math.max(termwise, other.termwise));
    }

    @Override
    public String toString() {
        return "normwise " + normwise + ", termwise " + termwise;
    }

    private static double relative(double diff, double scale) {
        return scale == 0.0 ? diff : diff / scale;
    }

    /**
     * {@code max_i |got_i - expected_i|}; NaN anywhere gives NaN (which no tolerance accepts).
     *
     * @param got      the values checked, as many as {@code expected}. Not modified.
     * @param expected the reference values. Not modified.
     * @return the largest absolute difference, {@code 0} for empty arrays, NaN when a difference is NaN
     * @throws dev.mild.InvalidInputException when an array is {@code null} or the lengths differ (a longer
     *                                        {@code got} had its extra entries silently left out)
     */
    public static double maxAbsDiff(double[] got, double[] expected) {
        requireSameLength("got", got, expected);
        double worst = 0.0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - expected[i])); // Math.max keeps a NaN once seen
        }
        return worst;
    }

    /**
     * Refuses an array that cannot be read entry by entry beside {@code expected}: a shorter one threw
     * ArrayIndexOutOfBoundsException half-way, and a longer one had its extra entries silently left out.
     *
     * @param what     the array's name, for the message ("got", "termSize")
     * @param values   the values read beside {@code expected}
     * @param expected the reference values
     * @throws dev.mild.InvalidInputException if either is null or their lengths differ
     */
    public static void requireSameLength(String what, double[] values, double[] expected) {
        Checks.required(what, values);
        Checks.required("expected", expected);
        if (values.length != expected.length) {
            throw new dev.mild.InvalidInputException(what + " has " + values.length + " values, expected "
                    + expected.length + ": compare arrays of the same length");
        }
    }

    private static double maxAbs(double[] v) {
        double m = 0.0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
