package dev.mild.data;

import dev.mild.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads a routing table from CSV (optionally gzipped, detected from the content): one header line, then one row
 * per line, cells separated by commas (no quoting; surrounding double quotes on header names are dropped).
 *
 * <p>Header names say what a column is:
 * <ul>
 *   <li>{@code cost:<expert>}: the cost of routing the row to that expert (finite, {@code >= 0});</li>
 *   <li>{@code pred:<expert>}: that expert's predicted class (a whole number {@code >= 0});</li>
 *   <li>{@code label}: the true class (a whole number {@code >= 0});</li>
 *   <li>anything else: a numeric feature (finite).</li>
 * </ul>
 * These names are reserved exactly as written (lower case): a header name that matches one only up to case or
 * spacing ({@code Label}, {@code Cost:a}, {@code cost :a}) is an error rather than a feature. A leading UTF-8
 * byte-order mark is skipped. Numbers must fit float32 (training computes in it); features must also stay within
 * {@link #FEATURE_LIMIT}, so that standardizing them cannot overflow. Blank lines are skipped. The text is UTF-8:
 * a NUL character (UTF-16 text, binary data), a header name with bytes that are not UTF-8 or with a character that
 * does not show ({@link #rejectHiddenCharacter}), or a line longer than
 * {@link LineReader#MAX_LINE_CHARS} is an error. Every error names the file, the line and the column (number and
 * name).
 */
public final class CsvReader {
    /** The true class's column name, {@value}. */
    public static final String LABEL = "label";
    /** The prefix of an expert's cost column, {@value}; the expert's name follows it. */
    public static final String COST_PREFIX = "cost:";
    /** The prefix of an expert's prediction column, {@value}; the expert's name follows it. */
    public static final String PRED_PREFIX = "pred:";

    /** Largest class index accepted in label and pred columns (keeps a typo from allocating huge tables). */
    public static final int MAX_CLASS = 1_000_000;

    /**
     * Largest feature magnitude accepted: half of float32's largest value, so that {@code x - mean} in the
     * standardization (float32, with {@code |mean| <= FEATURE_LIMIT} too) cannot overflow.
     */
    public static final float FEATURE_LIMIT = Float.MAX_VALUE / 2;

    private static final char BYTE_ORDER_MARK = '\uFEFF';
    private static final char REPLACEMENT_CHARACTER = '\uFFFD';
    /**
     * How a model file starts (ModelFile's magic): given as data (eval's --model and --data swapped), it was "a NUL
     * byte ... not text at all?".
     */
    private static final String MODEL_MAGIC = "MILDRTR\u001A";

    private CsvReader() {
    }

    /**
     * A file's first line without the UTF-8 byte-order mark Windows editors start files with (left in, it would
     * hide the first column's name); null stays null.
     *
     * @param firstLine the line as read, or null
     * @return the line without a leading U+FEFF; {@code firstLine} itself when it has none
     */
    public static String withoutByteOrderMark(String firstLine) {
        return firstLine != null && !firstLine.isEmpty() && firstLine.charAt(0) == BYTE_ORDER_MARK
                ? firstLine.substring(1) : firstLine;
    }

    /**
     * Reads a CSV file, plain or gzipped.
     *
     * @param file the file; its name is the source in messages
     * @return the rows, with the file as the data set's source
     * @throws InvalidInputException if the file is missing, unreadable, damaged gzip, or not a valid table as
     *                               described above
     */
    public static Dataset read(Path file) {
        try (InputStream in = DataFiles.open(file)) {
            return read(in, file.toString());
        } catch (IOException e) {
            throw DataFiles.cannotRead(file, e);
        }
    }

    /**
     * Reads a table from a stream of plain UTF-8 text (not gzipped: {@link DataFiles#open} takes that layer off).
     * The stream is read to its end and not closed.
     *
     * @param in     the text
     * @param source names the stream in messages and as the data set's source
     * @return the rows
     * @throws InvalidInputException if the text is not a valid table as described above
     * @throws IOException           if reading the stream fails
     */
    public static Dataset read(InputStream in, String source) throws IOException {
        rejectNulInFirstLine(in, source);
        LineReader reader = new LineReader(in, source);
        String headerLine = withoutByteOrderMark(reader.readLine());
        while (headerLine != null && headerLine.isBlank()) {
            headerLine = reader.readLine();
        }
        int lineNo = reader.lineNumber();
        if (headerLine == null) {
            throw new InvalidInputException(source + ": empty file (expected a header line naming the columns)");
        }
        if (headerLine.startsWith(MODEL_MAGIC)) {
            throw modelFileAsData(source);
        }
        rejectNul(headerLine, source, lineNo);
        String[] header = headerLine.split(",", -1);
        int cols = header.length;
        Kind[] kind = new Kind[cols];
        List<String> features = new ArrayList<>();
        List<String> experts = new ArrayList<>();
        // 1-based file columns, for messages after alignment
        IntGrowable featureColumns = new IntGrowable(source, "feature columns");
        IntGrowable expertColumns = new IntGrowable(source, "expert columns");
        int labelCol = -1;
        boolean anyCost = false;
        boolean anyPred = false;
        Set<String> seen = new HashSet<>();
        Set<String> expertsSeen = new HashSet<>();   // not experts.contains: 100,000 cost columns took 40 s
        for (int c = 0; c < cols; c++) {
            String name = unquote(withoutPadding(header[c]));
            header[c] = name;
            if (name.isEmpty()) {
                throw new InvalidInputException(source + ", line " + lineNo + ", column " + (c + 1)
                        + ": empty column name in the header");
            }
            if (name.indexOf(REPLACEMENT_CHARACTER) >= 0) {
                // The decoder's stand-in for bytes that are not UTF-8: kept, the name would silently differ from
                // the file's (and from the same name in UTF-8), and two such names could collide.
                throw new InvalidInputException(source + ", line " + lineNo + ", column " + (c + 1) + ": the name \""
                        + name + "\" has bytes that are not UTF-8 text (shown as \uFFFD): the file is in another"
                        + " encoding (Windows-1252? Latin-1?); save it as UTF-8");
            }
            rejectHiddenCharacter(name, source + ", line " + lineNo + ", column " + (c + 1));
            rejectReservedLookalike(name, source + ", line " + lineNo + ", column " + (c + 1));
            if (!seen.add(name)) {
                throw new InvalidInputException(source + ", line " + lineNo + ", column " + (c + 1)
                        + ": column \"" + name + "\" appears twice in the header");
            }
            if (name.equals(LABEL)) {
                kind[c] = Kind.LABEL;
                labelCol = c;
            } else if (name.startsWith(COST_PREFIX) || name.startsWith(PRED_PREFIX)) {
                boolean cost = name.startsWith(COST_PREFIX);
                String expert = withoutPadding(name.substring(cost ? COST_PREFIX.length() : PRED_PREFIX.length()));
                if (expert.isEmpty()) {
                    throw new InvalidInputException(source + ", line " + lineNo + ", column " + (c + 1)
                            + ": \"" + name + "\" needs an expert name after the colon");
                }
                kind[c] = cost ? Kind.COST : Kind.PRED;
                anyCost |= cost;
                anyPred |= !cost;
                if (!expertsSeen.add(expert)) {
                    throw new InvalidInputException(source + ", line " + lineNo + ", column " + (c + 1)
                            + ": expert \"" + expert + "\" has two columns");
                }
                experts.add(expert);
                expertColumns.add(c + 1);
            } else {
                kind[c] = Kind.FEATURE;
                features.add(name);
                featureColumns.add(c + 1);
            }
        }
        if (anyCost && anyPred) {
            throw new InvalidInputException(source + ": the header has both cost: and pred: columns; give one kind"
                    + " (cost:<expert> for costs, or label + pred:<expert> for predictions)");
        }
        if (features.isEmpty()) {
            throw new InvalidInputException(source + ": the header names no feature column (columns: "
                    + String.join(",", header) + ")");
        }
        FloatGrowable x = new FloatGrowable(source, "feature values (rows x feature columns)");
        IntGrowable labels = labelCol >= 0 ? new IntGrowable(source, "labels") : null;
        DoubleGrowable costs = anyCost ? new DoubleGrowable(source, "costs (rows x experts)") : null;
        IntGrowable preds = anyPred ? new IntGrowable(source, "predictions (rows x experts)") : null;
        IntGrowable lines = new IntGrowable(source, "rows");
        String line;
        while ((line = reader.readLine()) != null) {
            lineNo = reader.lineNumber();
            rejectNul(line, source, lineNo);
            if (line.isBlank()) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (cells.length != cols) {
                throw new InvalidInputException(source + ", line " + lineNo + ": " + cells.length
                        + " cells but the header has " + cols + " columns" + quotingHint(line, headerLine));
            }
            for (int c = 0; c < cols; c++) {
                String cell = withoutPadding(cells[c]);
                switch (kind[c]) {
                    case FEATURE -> x.add(feature(cell, source, lineNo, c + 1, header[c]));
                    case COST -> {
                        double v = parseDouble(cell, source, lineNo, c, header[c]);
                        if (!(v >= 0) || !Double.isFinite(v)) {
                            throw bad(source, lineNo, c, header[c], "cost " + cell
                                    + " is not allowed (costs must be finite and >= 0)");
                        }
                        if (v > Float.MAX_VALUE) {
                            // Rounded to float32 for the kernels, it would be infinite.
                            throw bad(source, lineNo, c, header[c], "cost " + cell + " is outside the float32 range"
                                    + " training computes in (at most " + Float.MAX_VALUE + "); scale the costs down");
                        }
                        costs.add(v);
                    }
                    case PRED -> preds.add(classIndex(cell, source, lineNo, c, header[c], "prediction"));
                    case LABEL -> labels.add(classIndex(cell, source, lineNo, c, header[c], "label"));
                    default -> throw new IllegalStateException();
                }
            }
            lines.add(lineNo);
        }
        int rows = lines.size;
        if (rows == 0) {
            throw new InvalidInputException(source + ": the header is there but no data rows follow");
        }
        return new Dataset(source, features, x.trim(), rows, labels == null ? null : labels.trim(), experts,
                costs == null ? null : costs.trim(),
                preds == null ? null : preds.trim(), lines.trim(), null, labelCol + 1, featureColumns.trim(),
                expertColumns.trim());
    }

    private enum Kind { FEATURE, COST, PRED, LABEL }

    /**
     * Whether a header name is the label column or a cost:/pred: column: what a header holds besides features.
     *
     * @param name a header name, trimmed and unquoted
     * @return {@code true} for {@value #LABEL} and names starting with {@value #COST_PREFIX} or
     *         {@value #PRED_PREFIX}
     */
    public static boolean isLabelOrExpertColumn(String name) {
        return name.equals(LABEL) || name.startsWith(COST_PREFIX) || name.startsWith(PRED_PREFIX);
    }

    /**
     * Refuses a line holding a NUL character, which CSV text never does: it comes from a file saved as UTF-16
     * (every other byte of its text is 0), from binary data, or from zeros a crash left at the end of a file.
     * Unchecked, {@code trim()} dropped NULs around a number, which was then read, and messages quoted cells with
     * characters a terminal does not show ("1 cells but the header has 3 columns" for a UTF-16 file).
     *
     * @param line   the line, without its line break
     * @param source names the file or stream in the message
     * @param lineNo the line's number in {@code source} (1-based), for the message
     * @throws InvalidInputException naming the source, the line and the column of the first NUL
     */
    public static void rejectNul(String line, String source, int lineNo) {
        int at = line.indexOf('\0');
        if (at >= 0) {
            int column = 1 + (int) line.substring(0, at).chars().filter(ch -> ch == ',').count();
            throw new InvalidInputException(source + ", line " + lineNo + ", column " + column + ": a NUL byte, which"
                    + " CSV text never holds: is this a file saved as UTF-16 (save it as UTF-8), or not text at all?");
        }
    }

    /**
     * A model file given as data, and {@link #rejectNul} for the first line before it is read as a line: binary data with no newline in it (a
     * device such as /dev/zero given as --data) was read as one endless line until the heap ran out, and then
     * reported as a file too large for memory. The first {@value #SNIFF_BYTES} bytes are looked at and put back.
     */
    private static void rejectNulInFirstLine(InputStream in, String source) throws IOException {
        if (!in.markSupported()) {
            return;
        }
        in.mark(SNIFF_BYTES);
        byte[] head = in.readNBytes(SNIFF_BYTES);
        in.reset();
        if (new String(head, StandardCharsets.ISO_8859_1).startsWith(MODEL_MAGIC)) {
            throw modelFileAsData(source);
        }
        DataFiles.Compression compressed = DataFiles.compressedKind(head);
        if (compressed != null) {
            // DataFiles.open has taken one gzip layer off already: gzip here was compressed twice.
            throw new InvalidInputException(source + ": this is " + compressed.description() + (compressed.isGzip()
                    ? " inside gzip (compressed twice?)" : "") + ", not CSV text: MILD reads CSV and IDX files, plain"
                    + " or gzip-compressed; unpack it first (" + compressed.unpackWith() + ") and give the CSV file");
        }
        for (int i = 0; i < head.length && head[i] != '\n'; i++) {
            if (head[i] == 0) {
                // A comma is one byte in UTF-8 and never part of another character's bytes.
                rejectNul(new String(head, 0, i + 1, StandardCharsets.ISO_8859_1), source, 1);
            }
        }
    }

    private static final int SNIFF_BYTES = 1 << 16;

    private static InvalidInputException modelFileAsData(String source) {
        return new InvalidInputException(source + ": this is a MILD model file (from ./mild train), not a data file;"
                + " give it as --model, and the data as --data");
    }

    /**
     * A cell or header name without the spaces and tabs around it, the padding CSV writers and people put there. Not
     * {@link String#trim}, which drops every character up to U+0020: control characters, which a damaged byte makes,
     * were dropped in silence (".5" with its '.' flipped to 0x0E was read as 5); kept, they are refused in the words
     * of any other character a number or a name does not hold.
     *
     * @param cell a cell or header name as split from its line
     * @return it without leading and trailing spaces and tabs
     */
    public static String withoutPadding(String cell) {
        int from = 0;
        int to = cell.length();
        while (from < to && (cell.charAt(from) == ' ' || cell.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (cell.charAt(to - 1) == ' ' || cell.charAt(to - 1) == '\t')) {
            to--;
        }
        return cell.substring(from, to);
    }

    /**
     * A header name without the double quotes some exports put around it (as the header line is read here).
     *
     * @param s a header cell, without its padding ({@link #withoutPadding})
     * @return what is inside the quotes, trimmed, when {@code s} starts and ends with one; {@code s} otherwise
     */
    public static String unquote(String s) {
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            return withoutPadding(s.substring(1, s.length() - 1));
        }
        return s;
    }

    /**
     * One feature value from its (trimmed) text: a finite number of magnitude at most {@link #FEATURE_LIMIT}.
     *
     * @param cell   the cell's text, trimmed
     * @param source names the file or stream in messages
     * @param line   the cell's line (1-based), for messages
     * @param column 1-based; with {@code source}, {@code line} and the column's {@code name}, it says in messages
     *               where the cell is
     * @param name   the column's header name, for messages
     * @return the value as a float32
     * @throws InvalidInputException saying where and what is wrong
     */
    public static float feature(String cell, String source, int line, int column, String name) {
        float v;
        try {
            v = Decimal.parseFloat(cell);
        } catch (NumberFormatException e) {
            throw bad(source, line, column - 1, name, notANumber(cell));
        }
        if (Math.abs(v) <= FEATURE_LIMIT) {
            return v;
        }
        if (Float.isNaN(v) || cell.contains("Infinity")) {
            throw bad(source, line, column - 1, name, "feature value " + cell + " is not finite");
        }
        if (Float.isInfinite(v)) {
            throw bad(source, line, column - 1, name, "feature value " + cell + " is outside the float32 range"
                    + " (at most " + Float.MAX_VALUE + " in magnitude)");
        }
        throw bad(source, line, column - 1, name, "feature value " + cell + " is too large in magnitude (at most "
                + FEATURE_LIMIT + ", so that standardizing it cannot overflow float32)");
    }

    /**
     * Rejects a header name that is a reserved one ({@link #reservedLookalike}) written with another case or
     * spacing, which would otherwise silently become a feature.
     *
     * @param name  the header name, trimmed and unquoted
     * @param where names the header cell in the message, e.g. {@code "rows.csv, line 1, column 3"}
     * @throws InvalidInputException if {@link #reservedLookalike} finds a reserved name for it
     */
    public static void rejectReservedLookalike(String name, String where) {
        String meant = reservedLookalike(name);
        if (meant != null) {
            throw new InvalidInputException(where + ": \"" + name + "\" looks like the reserved column " + meant
                    + " but differs in case or spacing; write it as " + meant + " (reserved names are lower case,"
                    + " without spaces: label, cost:<expert>, pred:<expert>), or rename the column if it is a feature");
        }
    }

    /**
     * Rejects a header name holding a character that does not show ({@link #hiddenCharacterAt}): kept, the column's
     * name would silently differ from the one printed and typed ("\uFEFFb" from two files joined with cat is not
     * the feature b a model or a command looks for). Plain spaces are part of names. (A data file's bytes that are
     * not UTF-8 are refused before this, in words of their own.)
     *
     * @param name  the header name, trimmed and unquoted
     * @param where names the header cell in the message, e.g. {@code "rows.csv, line 1, column 3"}
     * @throws InvalidInputException naming the first such character
     */
    public static void rejectHiddenCharacter(String name, String where) {
        int at = hiddenCharacterAt(name, false);
        if (at >= 0) {
            char c = name.charAt(at);
            throw new InvalidInputException(where + ": the name \"" + name + "\" holds " + characterName(c)
                    + (namedWithFix(c) ? "" : ", which does not show as itself: the name differs from the one you"
                    + " see; remove or replace it"));
        }
    }

    /**
     * The reserved name or prefix ({@code label}, {@code cost:<expert>}, {@code pred:<expert>}) that a header
     * name matches only up to case or whitespace, as it should be written; null when it matches one exactly or
     * none. The readers pass names without their padding ({@link #withoutPadding}), so surrounding spaces in the
     * file alone are fine; a name given here with surrounding whitespace can itself count as a lookalike
     * ({@code " label"} gives {@code label}).
     *
     * @param name the header name, trimmed and unquoted
     * @return the name as it should be written ({@code label}, or the prefix followed by the expert's name), or null
     */
    public static String reservedLookalike(String name) {
        String folded = name.strip().toLowerCase(Locale.ROOT);
        if (folded.equals(LABEL)) {
            return name.equals(LABEL) ? null : LABEL;
        }
        for (String prefix : new String[] {COST_PREFIX, PRED_PREFIX}) {
            String word = prefix.substring(0, prefix.length() - 1);
            int colon = folded.indexOf(':');
            if (colon >= 0 && folded.substring(0, colon).strip().equals(word)) {
                String expert = name.substring(name.indexOf(':') + 1).strip();
                return name.startsWith(prefix) ? null : prefix + expert;
            }
        }
        return null;
    }

    private static double parseDouble(String cell, String source, int line, int col, String name) {
        try {
            return Decimal.parseDouble(cell);
        } catch (NumberFormatException e) {
            throw bad(source, line, col, name, notANumber(cell));
        }
    }

    private static int classIndex(String cell, String source, int line, int col, String name, String what) {
        double v = parseDouble(cell, source, line, col, name);
        if (!(v >= 0) || v != Math.rint(v) || v > MAX_CLASS) {
            throw bad(source, line, col, name, what + " " + cell + " is not a class index (a whole number 0.."
                    + MAX_CLASS + ")");
        }
        return (int) v;
    }

    /** Why a cell is not a number; for a number in double quotes (as some exports write), that quoting is why. */
    private static String notANumber(String cell) {
        if (cell.length() >= 2 && cell.startsWith("\"") && cell.endsWith("\"")) {
            String inner = cell.substring(1, cell.length() - 1).trim();
            try {
                Decimal.parseDouble(inner);
                return "the quoted value " + describe(inner) + " is read as text,"
                        + " not a number: values are read without quoting (export the file without double quotes"
                        + " around values)";
            } catch (NumberFormatException notANumberEither) {
                // Quoted text: the column is not numeric; say so as for any other text.
            }
        }
        return describe(cell) + " is not a number" + hiddenCharacter(cell);
    }

    /**
     * For a cell holding a character a message cannot show plainly, which one it is: a byte-order mark in the
     * middle of a file (files joined with cat), a no-break space, the decoder's stand-in for bytes that are not
     * UTF-8. "\"\uFEFF1\" is not a number" read as "\"1\" is not a number". Empty when there is none.
     */
    private static String hiddenCharacter(String cell) {
        int at = hiddenCharacterAt(cell, true);
        if (at < 0) {
            return "";
        }
        char c = cell.charAt(at);
        return " (it holds " + characterName(c) + (namedWithFix(c) ? ")" : ", which no number has)");
    }

    /**
     * Where the first character of {@code text} is that a message cannot show plainly (a byte-order mark, a
     * no-break space or other space, a control or format character, the decoder's stand-in for bytes that are not
     * UTF-8), or -1. A plain space counts only when {@code spaceCounts}: names have them, numbers do not.
     */
    private static int hiddenCharacterAt(String text, boolean spaceCounts) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int type = Character.getType(c);
            if ((c != ' ' || spaceCounts) && (c == REPLACEMENT_CHARACTER || Character.isWhitespace(c)
                    || Character.isSpaceChar(c) || type == Character.FORMAT || type == Character.CONTROL)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * A character {@link #hiddenCharacterAt} finds, for a message: what it is, and for the usual ones
     * ({@link #namedWithFix}) where it comes from and the fix.
     */
    private static String characterName(char c) {
        if (c == BYTE_ORDER_MARK) {
            return "U+FEFF, the byte-order mark that starts some files: were files joined, e.g. with cat? remove it";
        }
        if (c == REPLACEMENT_CHARACTER) {
            return "bytes that are not UTF-8 text, shown as \uFFFD: the file is in another encoding (Windows-1252?"
                    + " Latin-1?); save it as UTF-8";
        }
        if (c == '\t') {
            return "a tab: is the file tab-separated? columns are separated by commas (e.g. tr '\\t' ',' < in > out.csv)";
        }
        return String.format(Locale.ROOT, "U+%04X %s", (int) c, Character.getName(c));
    }

    private static boolean namedWithFix(char c) {
        return c == BYTE_ORDER_MARK || c == REPLACEMENT_CHARACTER || c == '\t';
    }

    /**
     * For a line whose cell count differs from the header's, the likely reason when double quotes are involved: a
     * quoted value or header name with a comma inside ({@code "1,5"}, {@code "Smith, J."}), which this reader,
     * without quoting, splits in two. Empty otherwise (also for header names that are quoted whole, which are read).
     *
     * @param line       the data line whose cell count is wrong
     * @param headerLine the header, or null when there is none (route's input)
     * @return the hint, starting with a space and in parentheses, or an empty string
     */
    public static String quotingHint(String line, String headerLine) {
        if (line.indexOf('"') >= 0) {
            return " (the line has double quotes: a quoted value with a comma inside is split there, as values are"
                    + " read without quoting)";
        }
        if (headerLine != null) {
            for (String name : headerLine.split(",", -1)) {
                if (unquote(withoutPadding(name)).indexOf('"') >= 0) {
                    return " (the header has a stray double quote: a quoted name with a comma inside is split there,"
                            + " as names are read without quoting)";
                }
            }
        }
        return "";
    }

    private static String describe(String cell) {
        return cell.isEmpty() ? "an empty cell" : "\"" + (cell.length() > 40 ? cell.substring(0, 40) + "..." : cell) + "\"";
    }

    static InvalidInputException bad(String source, int line, int col, String name, String what) {
        return new InvalidInputException(source + ", line " + line + ", column " + (col + 1) + " (" + name + "): " + what);
    }

    /** The most elements a Java array may hold (as the JDK's own growing arrays allow). */
    static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * The next capacity of a column being read: twice {@code capacity}, at most {@link #MAX_ARRAY}. Doubled past 2^30
     * it overflowed to a negative size: a file of more than 2^30 values (1.1 billion cells), read with a heap large
     * enough to hold them, failed with "NegativeArraySizeException: -2147483648" instead of a message.
     *
     * @param what what the array holds, for the message ("feature values (rows x feature columns)")
     * @throws InvalidInputException naming the source when an array of {@link #MAX_ARRAY} elements is full
     */
    static int grownCapacity(int capacity, String source, String what) {
        if (capacity >= MAX_ARRAY) {
            throw new InvalidInputException(String.format(Locale.ROOT, "%s: more than %,d %s, the most one Java array"
                    + " holds: use fewer rows", source, MAX_ARRAY, what));
        }
        return (int) Math.min(2L * capacity, MAX_ARRAY);
    }

    private static final class FloatGrowable {
        float[] a = new float[1 << 12];
        int size;
        final String source;
        final String what;

        FloatGrowable(String source, String what) {
            this.source = source;
            this.what = what;
        }

        void add(float v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, grownCapacity(a.length, source, what));
            }
            a[size++] = v;
        }

        float[] trim() {
            return Arrays.copyOf(a, size);
        }
    }

    private static final class DoubleGrowable {
        double[] a = new double[1 << 10];
        int size;
        final String source;
        final String what;

        DoubleGrowable(String source, String what) {
            this.source = source;
            this.what = what;
        }

        void add(double v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, grownCapacity(a.length, source, what));
            }
            a[size++] = v;
        }

        double[] trim() {
            return Arrays.copyOf(a, size);
        }
    }

    private static final class IntGrowable {
        int[] a = new int[1 << 10];
        int size;
        final String source;
        final String what;

        IntGrowable(String source, String what) {
            this.source = source;
            this.what = what;
        }

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, grownCapacity(a.length, source, what));
            }
            a[size++] = v;
        }

        int[] trim() {
            return Arrays.copyOf(a, size);
        }
    }
}
