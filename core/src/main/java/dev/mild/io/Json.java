package dev.mild.io;

import dev.mild.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader (RFC 8259) for the golden files: objects become {@code Map<String, Object>} in
 * file order, arrays {@code List<Object>}, numbers {@code Double} (finite: one beyond the float64 range is an
 * error), plus {@code String}, {@code Boolean} and {@code null}. A key twice in one object is an error (RFC 8259
 * leaves it to the reader; keeping the last value would hide the first). Errors name the source, line and column. core
 * takes no JSON dependency for this.
 */
public final class Json {
    /**
     * Deepest nesting of arrays and objects accepted. The parser recurses once per level, so without a limit a
     * file of many {@code [} exhausts the thread's stack; real files (golden cases) nest a few levels.
     */
    public static final int MAX_DEPTH = 512;

    private final String text;
    private final String source;
    private int pos;
    private int depth;

    private Json(String text, String source) {
        this.text = text;
        this.source = source;
    }

    /**
     * Parses a whole document.
     *
     * @param text   the JSON text, without a byte-order mark
     * @param source names the document in error messages (a file name)
     * @return the document's value, of the types above
     * @throws InvalidInputException if the text is not one valid JSON value (whitespace around it aside), nests
     *                               deeper than {@link #MAX_DEPTH}, repeats a key, or holds a number beyond float64
     */
    public static Object parse(String text, String source) {
        Json p = new Json(text, source);
        p.skipWhitespace();
        Object value = p.value();
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the JSON value");
        }
        return value;
    }

    private Object value() {
        if (pos >= text.length()) {
            throw error("unexpected end of input");
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{', '[':
                return nested(c);
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("unexpected character '" + c + "'");
        }
    }

    private Object nested(char open) {
        if (depth == MAX_DEPTH) {
            throw error("arrays and objects nest deeper than " + MAX_DEPTH + " levels");
        }
        depth++;
        Object value = open == '{' ? object() : array();
        depth--;
        return value;
    }

    private Map<String, Object> object() {
        Map<String, Object> map = new LinkedHashMap<>();
        Map<String, Integer> keyAt = new java.util.HashMap<>();   // where each key starts, for a duplicate's message
        pos++;
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a quoted key");
            }
            int keyStart = pos;
            String key = string();
            Integer first = keyAt.putIfAbsent(key, keyStart);
            if (first != null) {
                // Kept, the last value silently replaced the first (two "cases" arrays: the first never checked).
                int[] at = lineAndColumn(first);
                pos = keyStart;
                throw error("duplicate key \"" + key + "\" (first at line " + at[0] + ", column " + at[1] + "): an"
                        + " object names each key once");
            }
            skipWhitespace();
            expect(':');
            skipWhitespace();
            map.put(key, value());
            skipWhitespace();
            char c = next();
            if (c == '}') {
                return map;
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array() {
        List<Object> list = new ArrayList<>();
        pos++;
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value());
            skipWhitespace();
            char c = next();
            if (c == ']') {
                return list;
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']'");
            }
        }
    }

    private String string() {
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > text.length()) {
                            throw error("truncated \\u escape");
                        }
                        int code = 0;
                        for (int k = pos; k < pos + 4; k++) {
                            // ASCII hex only: Integer.parseInt(.., 16) would also take a sign and other digits.
                            int digit = hexDigit(text.charAt(k));
                            if (digit < 0) {
                                throw error("bad \\u escape");
                            }
                            code = code * 16 + digit;
                        }
                        sb.append((char) code);
                        pos += 4;
                    }
                    default -> throw error("bad escape '\\" + e + "'");
                }
            } else if (c < 0x20) {
                pos--;
                throw error("control character in string");
            } else {
                sb.append(c);
            }
        }
    }

    private Double number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        int integerStart = pos;
        digits();
        boolean leadingZero = pos - integerStart > 1 && text.charAt(integerStart) == '0';
        if (pos < text.length() && text.charAt(pos) == '.') {
            pos++;
            digits();
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            pos++;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
                pos++;
            }
            digits();
        }
        String number = text.substring(start, pos);
        String shown = number.length() > 40 ? number.substring(0, 40) + "..." : number;
        if (leadingZero) {
            // RFC 8259 has none; read, "0125" (a "0.125" that lost its '.') was 125.
            pos = start;
            throw error("number " + shown + " has a leading zero, which JSON numbers do not have (a lost '.'?)");
        }
        double value = Double.parseDouble(number);
        if (Double.isInfinite(value)) {
            // Read as Infinity it would pass for a value: weights of 1e999 made a golden case "fail" (exit 1).
            pos = start;
            throw error("number " + shown + " is beyond the float64 range (at most " + Double.MAX_VALUE
                    + " in magnitude)");
        }
        return value;
    }

    /** The value of an ASCII hex digit, or -1. */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private void digits() {
        int start = pos;
        // ASCII only: Character.isDigit also takes other scripts' digits, which Double.parseDouble rejects.
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        if (pos == start) {
            throw error("expected a digit");
        }
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, pos)) {
            throw error("expected '" + word + "'");
        }
        pos += word.length();
        return value;
    }

    private void expect(char c) {
        if (next() != c) {
            pos--;
            throw error("expected '" + c + "'");
        }
    }

    private char peek() {
        if (pos >= text.length()) {
            throw error("unexpected end of input");
        }
        return text.charAt(pos);
    }

    private char next() {
        char c = peek();
        pos++;
        return c;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                break;
            }
        }
    }

    /**
     * Whether {@code c} ends a line: a line feed, or a carriage return not followed by one. At LF alone, a document
     * with CR line ends (JSON whitespace; the CSV reader's line ends too) had every error on line 1.
     *
     * @param c    a character (or byte) of the text
     * @param next the one after it, or -1 at the end
     * @return {@code true} for LF, and for CR unless {@code next} is LF
     */
    static boolean isLineEnd(int c, int next) {
        return c == '\n' || c == '\r' && next != '\n';
    }

    private InvalidInputException error(String what) {
        int[] at = lineAndColumn(pos);
        return new InvalidInputException(source + ": line " + at[0] + ", column " + at[1] + ": " + what);
    }

    /** The line and column (both 1-based) of the character at {@code offset}; lines end at LF, CR LF or CR. */
    private int[] lineAndColumn(int offset) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < Math.min(offset, text.length()); i++) {
            if (isLineEnd(text.charAt(i), i + 1 < text.length() ? text.charAt(i + 1) : -1)) {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new int[] {line, col};
    }
}
