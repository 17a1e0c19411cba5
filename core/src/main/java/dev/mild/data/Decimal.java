package dev.mild.data;

/**
 * The number forms data files and options take: plain decimals in ASCII ({@code 3}, {@code -0.25}, {@code 1e-3},
 * {@code .5}). Java's own parsers take more ({@code 1f}, {@code 2d}, {@code 0x1p3}; {@code Integer.parseInt} also
 * digits of other scripts), and in a data file such a cell is a typo that would silently become a number.
 * {@code NaN} and {@code [+-]Infinity} parse as Java does, so callers reject them in their own words ("not
 * finite").
 */
public final class Decimal {
    private Decimal() {
    }

    /**
     * {@link Double#parseDouble} of a plain decimal, {@code NaN} or {@code [+-]Infinity}.
     *
     * @param text the number, without surrounding spaces
     * @return its value
     * @throws NumberFormatException if {@code text} is not such a number
     */
    public static double parseDouble(String text) {
        return Double.parseDouble(plain(text, false));
    }

    /**
     * {@link Float#parseFloat} (rounded once, to float32) of a plain decimal, {@code NaN} or {@code [+-]Infinity}.
     *
     * @param text the number, without surrounding spaces
     * @return its value; infinite when it is beyond float32's range
     * @throws NumberFormatException if {@code text} is not such a number
     */
    public static float parseFloat(String text) {
        return Float.parseFloat(plain(text, false));
    }

    /**
     * {@link Integer#parseInt} of {@code [+-]} ASCII digits.
     *
     * @param text the number, without surrounding spaces
     * @return its value
     * @throws NumberFormatException if {@code text} is not such a number, or it is outside the range of an int
     */
    public static int parseInt(String text) {
        return Integer.parseInt(plain(text, true));
    }

    /**
     * Whether {@code text} is {@code [+-]} ASCII digits, of any size: when {@link #parseInt} refuses such a text,
     * the number is out of range, which a message should say rather than "not a whole number".
     *
     * @param text the text, without surrounding spaces
     * @return {@code true} when it is an optional sign followed by at least one ASCII digit, and nothing else
     */
    public static boolean isWholeNumber(String text) {
        try {
            plain(text, true);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** {@code text} itself when it is a plain decimal (a whole number when {@code integer}). */
    private static String plain(String text, boolean integer) {
        int n = text.length();
        int i = 0;
        if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
            i++;
        }
        if (!integer && (text.startsWith("NaN", i) || text.startsWith("Infinity", i))
                && text.length() - i == (text.startsWith("NaN", i) ? 3 : 8)) {
            return text;
        }
        int digits = 0;
        for (; i < n && isDigit(text.charAt(i)); i++) {
            digits++;
        }
        if (!integer && i < n && text.charAt(i) == '.') {
            for (i++; i < n && isDigit(text.charAt(i)); i++) {
                digits++;
            }
        }
        boolean ok = digits > 0;
        if (ok && !integer && i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
            i++;
            if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                i++;
            }
            int exponentDigits = 0;
            for (; i < n && isDigit(text.charAt(i)); i++) {
                exponentDigits++;
            }
            ok = exponentDigits > 0;
        }
        if (!ok || i != n) {
            throw new NumberFormatException("not a plain decimal number: \"" + text + "\"");
        }
        return text;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
