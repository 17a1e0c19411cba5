package dev.mild.io;

import java.util.Locale;

/**
 * How losses and costs print in tables and progress lines: four decimals at the scale of errors and prices
 * ({@code 0.4542}), four significant digits in exponent form far from it ({@code 2.150e-05}). With four decimals
 * only, costs in dollars per query (about 1e-5) printed every deferral loss as {@code 0.0000}, and large costs
 * as 40-digit numbers.
 */
public final class Figures {
    /** Largest magnitudes, among the numbers printed together, that keep the four-decimal form. */
    static final double FIXED_LOW = 1e-2;
    static final double FIXED_HIGH = 1e5;

    private Figures() {
    }

    /**
     * A {@link String#format} pattern of the given width for numbers printed side by side (a table, a grid): the
     * form is chosen by the largest finite magnitude among them, so that a column reads in one form.
     */
    public static String pattern(int width, double... values) {
        double max = 0.0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                max = Math.max(max, Math.abs(v));
            }
        }
        boolean fixed = max == 0.0 || (max >= FIXED_LOW && max < FIXED_HIGH);
        return "%" + (width > 0 ? Integer.toString(width) : "") + (fixed ? ".4f" : ".3e");
    }

    /** One number on its own, in the form its magnitude calls for. */
    public static String of(double v) {
        return String.format(Locale.ROOT, pattern(0, v), v);
    }
}
