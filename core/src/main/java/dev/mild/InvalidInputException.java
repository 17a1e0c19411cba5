package dev.mild;

/**
 * Bad input: a shape that does not match, a NaN or infinite value, a rho that is not positive, a cost out of
 * range, an unreadable file. The message says what is wrong and where (row, column, file, line), so that a
 * command-line user can fix the input without reading code. The CLI maps it to exit code 2.
 *
 * <p>Messages quote pieces of the input (a cell, a header name, a JSON string), so a damaged file could put
 * terminal escape sequences or invisible direction overrides into them. The message is made printable here,
 * once for every reader: control and bidirectional formatting characters are shown as a backslash, u and
 * four hex digits, as in Java source (line feeds and tabs are kept).
 */
public class InvalidInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the given message, made printable as described above.
     *
     * @param message what is wrong and where; {@code null} for none
     */
    public InvalidInputException(String message) {
        super(printable(message));
    }

    /**
     * An exception with the given message, made printable as described above, and the exception that caused it.
     *
     * @param message what is wrong and where; {@code null} for none
     * @param cause   the exception that led to this one (an I/O error, a row's failed check); {@code null} for none
     */
    public InvalidInputException(String message, Throwable cause) {
        super(printable(message), cause);
    }

    /** {@code text} with every character that a terminal would act on or hide replaced by its escaped form. */
    static String printable(String text) {
        if (text == null || text.chars().noneMatch(InvalidInputException::unprintable)) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (unprintable(c)) {
                sb.append(String.format(java.util.Locale.ROOT, "\\u%04X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean unprintable(int c) {
        return (c < 0x20 && c != '\n' && c != '\t')
                || (c >= 0x7f && c <= 0x9f)                            // DEL and the C1 controls (CSI is 0x9b)
                || c == 0x061c || c == 0x200e || c == 0x200f           // direction marks
                || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069); // direction embeddings and isolates
    }
}
