package dev.mild.io;

import java.util.Locale;

/** Writing JSON values by hand: quoted strings and numbers that stay valid JSON (NaN and infinities as null). */
public final class JsonOut {
    private JsonOut() {
    }

    /**
     * A JSON string literal.
     *
     * @param s the text
     * @return {@code s} in double quotes, with double quotes, backslashes and characters below U+0020 escaped
     */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /**
     * A JSON number.
     *
     * @param v the value
     * @return a whole number below 1e15 in magnitude without a fraction ({@code 3}), any other finite value as its
     *         shortest round-trip decimal ({@link Double#toString}), and {@code null} for NaN and infinities (not
     *         JSON)
     */
    public static String number(double v) {
        if (!Double.isFinite(v)) {
            return "null";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    /**
     * A JSON array of numbers.
     *
     * @param v the values. Not modified.
     * @return the values as {@link #number} writes them, separated by ", ", in square brackets
     */
    public static String array(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(number(v[i]));
        }
        return sb.append(']').toString();
    }
}
