package dev.mild.router;

import dev.mild.InvalidInputException;

/**
 * Per-feature standardization with statistics of the training split: {@code x'_c = (x_c - mean_c) * (1 / std_c)}.
 * A constant feature ({@code std_c = 0}, e.g. a border pixel that is always black) keeps scale 1, so it maps to
 * 0 instead of dividing by zero. Means and standard deviations are accumulated in float64 and stored as float32;
 * training and routing apply the same float32 expression, so they see identical inputs.
 */
public final class Standardizer {
    private final float[] mean;
    private final float[] std;
    private final float[] invStd;

    /**
     * @param mean per-feature mean. Not modified (copied).
     * @param std  per-feature standard deviation, finite and {@code >= 0}; 0 means "constant". Not modified.
     */
    public Standardizer(float[] mean, float[] std) {
        if (mean.length != std.length) {
            throw new InvalidInputException("standardizer: " + mean.length + " means but " + std.length + " deviations");
        }
        for (int c = 0; c < mean.length; c++) {
            if (!Float.isFinite(mean[c]) || !Float.isFinite(std[c]) || std[c] < 0) {
                throw new InvalidInputException("standardizer: feature " + c + " has mean " + mean[c] + " and std "
                        + std[c] + " (must be finite, std >= 0)");
            }
        }
        this.mean = mean.clone();
        this.std = std.clone();
        this.invStd = new float[std.length];
        for (int c = 0; c < std.length; c++) {
            invStd[c] = std[c] > 0 ? 1f / std[c] : 1f;
        }
    }

    /** Statistics of rows {@code rows[i]} of an {@code n x d} matrix (population standard deviation). */
    public static Standardizer fit(float[] x, int d, int[] rows) {
        double[] sum = new double[d];
        for (int r : rows) {
            for (int c = 0; c < d; c++) {
                sum[c] += x[r * d + c];
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
            // Variation at rounding level is a constant column: treat it as one.
            std[c] = s > 1e-6 * Math.max(1.0, Math.abs(mean[c])) ? (float) s : 0f;
        }
        return new Standardizer(mean, std);
    }

    public int features() {
        return mean.length;
    }

    /** The means. A copy. */
    public float[] mean() {
        return mean.clone();
    }

    /** The standard deviations (0 for a constant feature). A copy. */
    public float[] std() {
        return std.clone();
    }

    /** The scale applied per feature: {@code 1/std}, or 1 for a constant feature. A copy. */
    public float[] scale() {
        return invStd.clone();
    }

    /** Standardizes the rows {@code rows[i]} of {@code x} ({@code n x d}) into consecutive rows of a new matrix. */
    public float[] apply(float[] x, int[] rows) {
        int d = mean.length;
        float[] out = new float[Math.multiplyExact(rows.length, d)];
        for (int i = 0; i < rows.length; i++) {
            apply(x, rows[i] * d, out, i * d);
        }
        return out;
    }

    /** Standardizes every row of an {@code n x d} matrix into a new one. */
    public float[] apply(float[] x) {
        float[] out = new float[x.length];
        int d = mean.length;
        for (int o = 0; o + d <= x.length; o += d) {
            apply(x, o, out, o);
        }
        return out;
    }

    /** One row: {@code out[outOffset + c] = (x[offset + c] - mean_c) * scale_c}. */
    public void apply(float[] x, int offset, float[] out, int outOffset) {
        for (int c = 0; c < mean.length; c++) {
            out[outOffset + c] = (x[offset + c] - mean[c]) * invStd[c];
        }
    }
}
