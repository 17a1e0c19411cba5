package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.data.Dataset;
import dev.mild.loss.Checks;
import java.util.Arrays;
import java.util.List;

/**
 * Per-feature standardization with statistics of the training split: {@code x'_c = (x_c - mean_c) * (1 / std_c)},
 * or the identity (mean 0, std 1) when the features are used as they are ({@link Scaling#NONE}); the model file
 * stores the {@code mean_c} and {@code std_c} applied, whichever. A constant feature ({@code std_c = 0}, e.g. a
 * border pixel that is always black) keeps scale 1, so it maps to 0 instead of dividing by zero. Means and
 * standard deviations are accumulated in float64 and stored as float32; training and routing apply the same
 * float32 expression, so they see identical inputs. A value so far from the mean that the result overflows
 * float32 is an error, not an infinite input.
 */
public final class Standardizer {
    private final float[] mean;
    private final float[] std;
    private final float[] invStd;
    private final List<String> featureNames; // for messages; null: features are named by their column

    /**
     * Statistics to apply, the features named by their column.
     *
     * @param mean per-feature mean, finite. Not modified (copied).
     * @param std  per-feature standard deviation, finite and {@code >= 0}, with a finite {@code 1 / std}; 0 means
     *             "constant". Not modified (copied).
     * @throws InvalidInputException as {@link #Standardizer(float[], float[], List)}
     */
    public Standardizer(float[] mean, float[] std) {
        this(mean, std, null);
    }

    /**
     * The same, with the features' names for messages (a model file's standardization names the bad feature).
     *
     * @param mean         per-feature mean, finite. Not modified (copied).
     * @param std          per-feature standard deviation, finite and {@code >= 0}, with a finite {@code 1 / std};
     *                     0 means "constant". Not modified (copied).
     * @param featureNames one name per feature, or null to name a feature by its column. Copied.
     * @throws InvalidInputException when {@code mean} or {@code std} is null, the lengths differ, a mean or
     *                               deviation is not finite, a deviation is negative or so small that
     *                               {@code 1 / std} overflows float32, or the names are not one per feature
     */
    public Standardizer(float[] mean, float[] std, List<String> featureNames) {
        Checks.required("standardizer: mean", mean);
        Checks.required("standardizer: std", std);
        if (featureNames != null && featureNames.size() != mean.length) {
            throw new InvalidInputException("standardizer: " + featureNames.size() + " feature names for "
                    + mean.length + " features");
        }
        if (mean.length != std.length) {
            throw new InvalidInputException("standardizer: " + mean.length + " means but " + std.length + " deviations");
        }
        if (mean.length == 0) {
            // Accepted, it failed later: apply() divided by the 0 features (ArithmeticException).
            throw new InvalidInputException("standardizer: no feature (give one mean and one deviation per feature)");
        }
        for (int c = 0; c < mean.length; c++) {
            if (!Float.isFinite(mean[c]) || !Float.isFinite(std[c]) || std[c] < 0) {
                throw new InvalidInputException("standardizer: " + featureName(featureNames, c) + " has mean "
                        + mean[c] + " and std " + std[c] + " (must be finite, std >= 0)");
            }
            if (std[c] > 0 && !Float.isFinite(1f / std[c])) {
                // Its scale would be infinite: every row, even one at the mean (0 * inf), would fail to standardize,
                // blamed on the row's value. fit() never gives one (a deviation that small is a constant feature).
                throw new InvalidInputException("standardizer: " + featureName(featureNames, c) + " has std " + std[c]
                        + ", too small to divide by in float32 (1 / std overflows); a constant feature has std 0");
            }
        }
        this.mean = mean.clone();
        this.std = std.clone();
        this.featureNames = featureNames == null ? null : List.copyOf(featureNames);
        this.invStd = new float[std.length];
        for (int c = 0; c < std.length; c++) {
            invStd[c] = std[c] > 0 ? 1f / std[c] : 1f;
        }
    }

    /**
     * The same statistics with the features' names, so that a row refused when it is routed names its feature and
     * not only a column number in the model's order, which is not the input's when a header reorders the columns.
     *
     * @param names one name per feature, or null for none
     * @return a new standardizer with this one's statistics
     * @throws InvalidInputException when the names are not one per feature
     */
    public Standardizer named(List<String> names) {
        return new Standardizer(mean, std, names);
    }

    /** Feature c in a message: {@code feature "x2" (column 2 of the model's, 1-based)}, or by its column alone. */
    String describe(int c) {
        return featureNames == null ? "feature column " + (c + 1) + " (1-based, in the model's order)"
                : "feature \"" + featureNames.get(c) + "\" (column " + (c + 1) + " of the model's, 1-based)";
    }

    private static String featureName(List<String> featureNames, int c) {
        return featureNames == null ? "feature column " + (c + 1) + " (1-based)"
                : "feature \"" + featureNames.get(c) + "\"";
    }

    /** How {@link #fit(float[], int, int[], Scaling)} scales the features. */
    public enum Scaling {
        /** Each column to mean 0 and standard deviation 1 (the default). */
        COLUMNS("columns"),
        /**
         * The values as they are. For features already on one small scale (pixels in [0, 1], one-hot columns,
         * bag-of-words weights), where standardizing would give a rare, mostly-zero column as much weight as a
         * common one.
         */
        NONE("none");

        /** The name {@code --scale} takes: {@code columns} or {@code none}. */
        public final String label;

        Scaling(String label) {
            this.label = label;
        }

        /**
         * The scaling of a {@code --scale} name.
         *
         * @param name {@code "columns"} or {@code "none"}, exactly
         * @return the scaling with that {@link #label}
         * @throws InvalidInputException for any other name, null included
         */
        public static Scaling byName(String name) {
            for (Scaling s : values()) {
                if (s.label.equals(name)) {
                    return s;
                }
            }
            throw new InvalidInputException("unknown scaling \"" + name + "\" for --scale (known: columns, none)");
        }
    }

    /**
     * {@link #fit(float[], int, int[])} for {@link Scaling#COLUMNS}; the identity for {@link Scaling#NONE}.
     *
     * @param x       {@code n x d} features, row-major. Not modified. Not read for {@code NONE}.
     * @param d       number of features, {@code >= 1}
     * @param rows    the rows to take the statistics of. Not modified. Not read for {@code NONE}.
     * @param scaling how to scale; {@code null} is taken as {@code COLUMNS}
     * @return a new standardizer of {@code d} features
     * @throws InvalidInputException when {@code d < 1}, or for {@code COLUMNS} as {@link #fit(float[], int, int[])}
     */
    public static Standardizer fit(float[] x, int d, int[] rows, Scaling scaling) {
        if (scaling == Scaling.NONE) {
            if (d < 1) {
                throw new InvalidInputException("need at least one feature (d >= 1), got " + d);
            }
            float[] one = new float[d];
            Arrays.fill(one, 1f);
            return new Standardizer(new float[d], one);
        }
        return fit(x, d, rows);
    }

    /**
     * Statistics of rows {@code rows[i]} of an {@code n x d} matrix (population standard deviation). A column
     * whose deviation is at most {@code 1e-6 |mean|} (the rounding of its mean) or too small to divide by in
     * float32 is taken as constant (std 0). No rows give mean 0 and std 0.
     *
     * @param x    {@code n x d} features, row-major. Not modified.
     * @param d    number of features, {@code >= 1}
     * @param rows the rows to take the statistics of (an index may repeat). Not modified.
     * @return a new standardizer of {@code d} features
     * @throws InvalidInputException when {@code d < 1}, an array is null, an index is outside the rows of
     *                               {@code x}, or a value in those rows is not finite
     */
    public static Standardizer fit(float[] x, int d, int[] rows) {
        if (d < 1) {
            throw new InvalidInputException("need at least one feature (d >= 1), got " + d);
        }
        Checks.required("features", x);
        Checks.required("row indexes", rows);
        double[] sum = new double[d];
        for (int i = 0; i < rows.length; i++) {
            int r = rows[i];
            if (r < 0 || (long) r * d + d > x.length) {
                throw new InvalidInputException("row index " + i + " (0-based) is " + r + ", outside the "
                        + x.length / d + " rows of " + d + " features");
            }
            for (int c = 0; c < d; c++) {
                float v = x[r * d + c];
                if (!Float.isFinite(v)) {
                    throw new InvalidInputException("features: row " + r + ", column " + c + " (0-based) is " + v
                            + " (must be finite)");
                }
                sum[c] += v;
            }
        }
        int n = Math.max(rows.length, 1);
        float[] mean = new float[d];
        for (int c = 0; c < d; c++) {
            mean[c] = (float) (sum[c] / n);
        }
        double[] sq = new double[d];
        for (int r : rows) {
            for (int c = 0; c < d; c++) {
                double dev = x[r * d + c] - (double) mean[c];
                sq[c] += dev * dev;
            }
        }
        float[] std = new float[d];
        for (int c = 0; c < d; c++) {
            double s = Math.sqrt(sq[c] / n);
            // Variation at the rounding level of the mean is a constant column: treat it as one. Relative to the mean
            // only: with max(1, |mean|) a column of 1e-6, 2e-6, 3e-6 (varying by 40%) was taken as constant.
            float f = (float) s;
            std[c] = s > 1e-6 * Math.abs(mean[c]) && f > 0 && Float.isFinite(1f / f) ? f : 0f;
        }
        return new Standardizer(mean, std);
    }

    /**
     * The number of features.
     *
     * @return {@code d}, the length of {@link #mean()}
     */
    public int features() {
        return mean.length;
    }

    /**
     * The means.
     *
     * @return a copy of the {@code d} means
     */
    public float[] mean() {
        return mean.clone();
    }

    /**
     * The standard deviations (0 for a constant feature).
     *
     * @return a copy of the {@code d} deviations
     */
    public float[] std() {
        return std.clone();
    }

    /**
     * The scale applied per feature: {@code 1/std}, or 1 for a constant feature.
     *
     * @return a copy of the {@code d} scales
     */
    public float[] scale() {
        return invStd.clone();
    }

    /**
     * Standardizes every row of an {@code n x d} matrix into a new one.
     *
     * @param x {@code n x d} features, row-major. Not modified.
     * @return a new {@code n x d} matrix of standardized features
     * @throws InvalidInputException when {@code x} is null or not whole rows of {@code d}, or a value is not
     *                               finite or lies so far from the mean that the result overflows float32
     */
    public float[] apply(float[] x) {
        int d = mean.length;
        Checks.required("features", x);
        if (x.length % d != 0) {
            throw new InvalidInputException("features: " + x.length + " values are not whole rows of " + d);
        }
        float[] out = new float[x.length];
        for (int o = 0; o + d <= x.length; o += d) {
            int bad = applyRowAt(x, o, out, o);
            if (bad >= 0) {
                throw overflow("row " + (o / d + 1) + ", feature column " + (bad + 1) + " (rows and columns 1-based)",
                        bad, x[o + bad]);
            }
        }
        return out;
    }

    /**
     * Every row of a data set's features; an overflow names the file, line or row, and the feature column.
     *
     * @param data the rows, of {@link #features()} features. Not modified.
     * @return a new {@code rows x d} matrix of standardized features
     * @throws InvalidInputException when {@code data} is null or has another number of features, or a value lies
     *                               so far from the mean that the result overflows float32
     */
    public float[] apply(Dataset data) {
        Checks.required("data", data);
        if (data.d() != mean.length) {
            // Unchecked, fewer features gave zeros silently and more an ArrayIndexOutOfBoundsException.
            throw new InvalidInputException(data.source() + ": " + data.d() + " features, but this standardization"
                    + " has " + mean.length);
        }
        float[] x = data.features();
        float[] out = new float[x.length];
        int d = mean.length;
        for (int r = 0; r < data.rows(); r++) {
            int bad = applyRowAt(x, r * d, out, r * d);
            if (bad >= 0) {
                throw overflow(data.where(r) + ", " + data.featureColumn(bad), bad, x[r * d + bad]);
            }
        }
        return out;
    }

    /**
     * One row: {@code out[outOffset + c] = (x[offset + c] - mean_c) * scale_c} (overflow as above).
     *
     * @param x         the features. Not modified.
     * @param offset    element offset of the row's first feature, {@code >= 0}
     * @param out       the standardized row, {@code d} values from {@code outOffset}. Modified.
     * @param outOffset element offset of the first output, {@code >= 0}
     * @throws InvalidInputException when an array is null or the row does not fit it, or a value is not finite or
     *                               overflows (the row is then written, the bad value included)
     */
    public void apply(float[] x, int offset, float[] out, int outOffset) {
        int d = mean.length;
        if (x == null || out == null || offset < 0 || outOffset < 0 || (long) offset + d > x.length
                || (long) outOffset + d > out.length) {
            throw new InvalidInputException("a row of " + d + " features from offset " + offset + " into offset "
                    + outOffset + " does not fit arrays of " + (x == null ? "null" : x.length) + " and "
                    + (out == null ? "null" : out.length) + " values");
        }
        int bad = applyRowAt(x, offset, out, outOffset);
        if (bad >= 0) {
            throw overflow(describe(bad), bad, x[offset + bad]);
        }
    }

    /** Writes one standardized row; returns the first column whose result is not finite, or -1. */
    private int applyRowAt(float[] x, int offset, float[] out, int outOffset) {
        boolean finite = true;
        for (int c = 0; c < mean.length; c++) {
            float v = (x[offset + c] - mean[c]) * invStd[c];
            out[outOffset + c] = v;
            finite &= Float.isFinite(v);
        }
        if (finite) {
            return -1;
        }
        for (int c = 0; c < mean.length; c++) {
            if (!Float.isFinite(out[outOffset + c])) {
                return c;
            }
        }
        return -1;
    }

    /** The message for a value that standardizes to infinity (or was not finite to begin with). */
    InvalidInputException overflow(String where, int c, float value) {
        if (!Float.isFinite(value)) {
            return new InvalidInputException(where + ": value " + value + " is not finite");
        }
        return new InvalidInputException(where + ": value " + value + " lies too far from the training mean " + mean[c]
                + " (standard deviation " + std[c] + ") to standardize in float32 ((x - mean) / std overflows);"
                + " the router was not trained on anything like it");
    }

    /** The statistics by length and first values (a model's RouterModel.toString shows this). */
    @Override
    public String toString() {
        return "Standardizer[features=" + mean.length + ", mean=" + RecordText.value(mean) + ", std="
                + RecordText.value(std) + "]";
    }
}
