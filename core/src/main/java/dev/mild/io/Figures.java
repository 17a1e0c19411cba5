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
     *
     * @param width  the field width, or 0 or less for none
     * @param values the numbers to be printed together; NaN and infinities do not count
     * @return {@code %W.4f} when the largest magnitude is 0 or in {@code [1e-2, 1e5)}, else {@code %W.3e}
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

    /**
     * A decimal as a person writes it: without trailing zeros, written out ({@code 0.2}, {@code 1500}) unless that
     * takes more than {@code maxPlain} characters, then in the short scientific form ({@code 1E-30}, {@code 1E+30})
     * rather than 31 digits.
     *
     * @param d        the value
     * @param maxPlain the longest written-out form kept
     * @return the text
     */
    public static String decimal(java.math.BigDecimal d, int maxPlain) {
        java.math.BigDecimal stripped = d.stripTrailingZeros();
        String plain = stripped.toPlainString();
        return plain.length() <= maxPlain ? plain : stripped.toString();
    }

    /**
     * One number on its own, in the form its magnitude calls for ({@link #pattern}), in the root locale.
     *
     * @param v the number
     * @return the text, e.g. {@code 0.4542} or {@code 2.150e-05}
     */
    public static String of(double v) {
        return String.format(Locale.ROOT, pattern(0, v), v);
    }
}
