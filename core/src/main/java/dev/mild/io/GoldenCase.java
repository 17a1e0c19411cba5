package dev.mild.io;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.data.DataFiles;
import dev.mild.loss.Checks;
import dev.mild.loss.LossConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One case of a golden file ({@code surrogate-cases.json} format): a loss configuration, inputs, and the
 * float64 expected outputs. Any file of the form
 * <pre>
 * {"cases": [{"name": "...", "nu": 1.0, "rho": [..p..], "delta": null | [..p..],
 *             "scores": [[..p..], ...], "weights": [[..p..], ...],
 *             "rowLoss": [..B..], "meanLoss": x, "gradMeanLoss": [[..p..], ...]}, ...]}
 * </pre>
 * is accepted; {@code delta}, {@code name}, {@code meanLoss} may be absent, and every shape is checked, as are
 * the configuration ({@link LossConfig#of}) and the scores ({@link Checks#scores}).
 *
 * @param name         the case's name, or {@code case-<index>} (0-based) when the file gives none
 * @param config       the loss configuration built from {@code rho}, {@code delta} and {@code nu}
 * @param rows         {@code B}, the number of rows
 * @param scores       {@code B x p}, row-major, rounded to float32 (the float kernels' input)
 * @param weights      {@code B x p}, rounded to float32
 * @param scores64     {@code B x p} as written in the file (the float64 reference's input)
 * @param weights64    {@code B x p} as written in the file
 * @param rowLoss      the expected per-row losses (float64)
 * @param meanLoss     the expected mean, or NaN when the file has none
 * @param gradMeanLoss the expected gradient of the mean loss, {@code B x p} (float64)
 */
public record GoldenCase(String name, LossConfig config, int rows, float[] scores, float[] weights,
                         double[] scores64, double[] weights64, double[] rowLoss, double meanLoss, double[] gradMeanLoss) {

    /**
     * Reads every case of a file ({@link #readJson}, then {@link #fromRoot}).
     *
     * @param file the golden file, plain UTF-8 JSON
     * @return the cases, in file order; at least one
     * @throws InvalidInputException if the file cannot be read or is not a valid file of this format; the message
     *                               names the file and the case
     */
    public static List<GoldenCase> read(Path file) {
        return fromRoot(readJson(file), file.toString());
    }

    private static final String BYTE_ORDER_MARK = "\uFEFF";

    /**
     * A golden file parsed as JSON (either format: this one or {@link DeferralGolden}'s). A leading UTF-8
     * byte-order mark (which Windows editors write) is skipped, as RFC 8259 allows.
     *
     * @param file the golden file, at most {@link #maxFileBytes()} bytes of UTF-8 JSON (not compressed)
     * @return the parsed document, as {@link Json#parse} returns it
     * @throws InvalidInputException if the file is a directory, cannot be read, is too large, compressed, not UTF-8,
     *                               not valid JSON, or does not fit in the heap
     */
    public static Object readJson(Path file) {
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(file + ": is a directory; give a golden JSON file");
        }
        // Refused before reading: a file larger than the heap can parse failed with the general out-of-memory
        // message, which did not name the file (or, over 2 GiB, "Required array size too large").
        long size = Files.isRegularFile(file) ? sizeOf(file) : -1;
        long limit = maxFileBytes();
        if (size > limit) {
            throw tooLarge(file, size, limit);
        }
        try {
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) {
                // The limit and one byte more, no further: a pipe or a device has no size to check first, and read
                // whole (/dev/zero, an endless pipe) it filled the heap, then "give Java a larger heap".
                bytes = in.readNBytes((int) limit + 1);
            } catch (IOException e) {
                throw new InvalidInputException(file + ": cannot read golden file: " + OutputFile.reason(e), e);
            }
            if (bytes.length > limit) {
                throw tooLarge(file, limit);
            }
            DataFiles.Compression compressed = DataFiles.compressedKind(bytes);
            if (compressed != null) {
                // Was "the bytes are not UTF-8 text (line 1, byte offset 1: 0x8b)" for a gzipped golden file.
                throw new InvalidInputException(file + ": not a golden JSON file: it is " + compressed.description()
                        + "; unpack it first (" + compressed.unpackWith() + ")");
            }
            ByteBuffer undecoded = ByteBuffer.wrap(bytes);
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(undecoded).toString();
            } catch (CharacterCodingException e) {
                // The decoder stops at the first byte that is not UTF-8: named, as the parser names its line.
                int at = undecoded.position();
                int line = 1;
                for (int i = 0; i < at; i++) {
                    line += Json.isLineEnd(bytes[i], i + 1 < bytes.length ? bytes[i + 1] : -1) ? 1 : 0;
                }
                throw new InvalidInputException(String.format(java.util.Locale.ROOT, "%s: not a golden JSON file: the"
                        + " bytes are not UTF-8 text (line %d, byte offset %d: 0x%02x)", file, line, at,
                        bytes[at] & 0xff), e);
            }
            return Json.parse(text.startsWith(BYTE_ORDER_MARK) ? text.substring(1) : text, file.toString());
        } catch (OutOfMemoryError e) {
            // Under the limit, but the heap held other things (or the numbers were denser than estimated). What was
            // being built is unreachable once this is thrown, so reporting it is safe.
            throw outOfMemory(file, size, e);
        }
    }

    /**
     * Heap a golden file takes per byte of it, at most: its text, and numbers as boxed Doubles in lists, measured
     * at 22 bytes per byte for a file of short numbers like {@code [0,0],} (about 2 for real cases), plus the
     * cases built from them.
     */
    static final int HEAP_BYTES_PER_FILE_BYTE = 32;

    /**
     * The largest golden file {@link #readJson} reads: a {@value #HEAP_BYTES_PER_FILE_BYTE}th of the most heap
     * this JVM may use, and at most what one Java string holds.
     *
     * @return the limit in bytes
     */
    public static long maxFileBytes() {
        return Math.min(Integer.MAX_VALUE - 8L, Runtime.getRuntime().maxMemory() / HEAP_BYTES_PER_FILE_BYTE);
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;   // reading it says what is wrong
        }
    }

    private static InvalidInputException tooLarge(Path file, long size, long limit) {
        String what = file + ": the golden file of " + bytes(size) + " is too large to read: it is parsed whole in"
                + " memory, which takes up to " + HEAP_BYTES_PER_FILE_BYTE + " times its size; ";
        if (size > Integer.MAX_VALUE - 8L) {
            return new InvalidInputException(what + "the limit is " + mebibytes(Integer.MAX_VALUE - 8L) + ", the most"
                    + " one Java string holds: split the cases into several files");
        }
        long gibibytes = Math.ceilDiv(size * HEAP_BYTES_PER_FILE_BYTE, 1L << 30);
        return new InvalidInputException(what + "the limit is " + mebibytes(limit) + " with a Java heap of "
                + mebibytes(Runtime.getRuntime().maxMemory()) + ": give Java a heap of " + gibibytes + " GiB or more"
                + " with -Xmx (MILD_JVM_OPTS=-Xmx" + gibibytes + "g ./mild golden ...), or split the cases into"
                + " several files");
    }

    /** For a pipe or a device, whose size is known only once more than the limit came from it. */
    private static InvalidInputException tooLarge(Path file, long limit) {
        return new InvalidInputException(file + ": not a regular file (a pipe? a device?), and more than " + bytes(limit)
                + " came from it: a golden file is parsed whole in memory, which takes up to " + HEAP_BYTES_PER_FILE_BYTE
                + " times its size, so at most " + mebibytes(limit) + " are read with a Java heap of "
                + mebibytes(Runtime.getRuntime().maxMemory()) + "; give a golden JSON file");
    }

    private static InvalidInputException outOfMemory(Path file, long size, OutOfMemoryError e) {
        return new InvalidInputException(file + ": the golden file" + (size < 0 ? "" : " of " + bytes(size))
                + " does not fit in the memory Java may use (the heap limit is "
                + mebibytes(Runtime.getRuntime().maxMemory()) + "): give Java a larger heap with -Xmx, e.g."
                + " MILD_JVM_OPTS=-Xmx8g ./mild golden ...", e);
    }

    private static String bytes(long size) {
        return String.format(java.util.Locale.ROOT, "%,d bytes (%s)", size, mebibytes(size));
    }

    private static String mebibytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%,.1f MiB", bytes / (double) (1 << 20));
    }

    /**
     * Parses a golden document of this format.
     *
     * @param text   the JSON text
     * @param source names the document in error messages
     * @return the cases, in document order; at least one
     * @throws InvalidInputException if the text is not valid JSON or not a valid document of this format
     */
    public static List<GoldenCase> parse(String text, String source) {
        return fromRoot(Json.parse(text, source), source);
    }

    /**
     * Whether a parsed document has this format's shape.
     *
     * @param root a document as {@link Json#parse} returns it
     * @return {@code true} for an object with a {@code cases} array (its other keys and the cases are not checked)
     */
    public static boolean isCaseFormat(Object root) {
        return root instanceof Map<?, ?> map && map.get("cases") instanceof List<?>;
    }

    /**
     * The cases of a parsed golden document.
     *
     * @param root   the document, as {@link Json#parse} returns it
     * @param source names the document in error messages
     * @return the cases, in document order; at least one
     * @throws InvalidInputException if the document is not an object whose only key is a non-empty {@code cases}
     *                               array, or a case is malformed (naming the case)
     */
    public static List<GoldenCase> fromRoot(Object root, String source) {
        if (!(root instanceof Map<?, ?> map) || !(map.get("cases") instanceof List<?> cases)) {
            throw new InvalidInputException(source + ": expected an object with a \"cases\" array");
        }
        for (Object key : map.keySet()) {
            // Skipped in silence, deferral sections beside the cases (or a misspelt key) were never checked.
            if (!key.equals("cases")) {
                throw new InvalidInputException(source + ": \"" + key + "\" is not part of a loss-cases file (it has"
                        + " only \"cases\"); it would go unchecked"
                        + (DeferralGolden.isDeferralFormat(Map.of(key, 0)) ? ": give the deferral sections in a file of"
                        + " their own" : ""));
            }
        }
        if (cases.isEmpty()) {
            // Checking nothing must not pass as "every case is ok".
            throw new InvalidInputException(source + ": the \"cases\" array is empty; there is nothing to check");
        }
        List<GoldenCase> out = new ArrayList<>();
        for (int c = 0; c < cases.size(); c++) {
            if (!(cases.get(c) instanceof Map<?, ?> m)) {
                throw new InvalidInputException(source + ": case " + c + " is not an object");
            }
            String where = source + ": case " + c + (m.get("name") instanceof String s ? " (\"" + s + "\")" : "");
            out.add(one(m, where, c));
        }
        return out;
    }

    private static GoldenCase one(Map<?, ?> m, String where, int index) {
        String name = m.get("name") instanceof String s ? s : "case-" + index;
        double nu = number(m.get("nu"), where, "nu");
        double[] rho = vector(m.get("rho"), where, "rho", -1);
        int p = rho.length;
        double[] delta = m.get("delta") == null ? null : vector(m.get("delta"), where, "delta", p);
        LossConfig config;
        try {
            config = LossConfig.of(rho, delta, nu);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(where + ": " + e.getMessage(), e);
        }
        String perExpert = " (one per expert, as \"rho\" has)";
        double[] scores = matrix(m.get("scores"), where, "scores", p, perExpert);
        int rows = scores.length / p;
        double[] weights = matrix(m.get("weights"), where, "weights", p, perExpert);
        if (weights.length != scores.length) {
            throw new InvalidInputException(where + ": weights has " + weights.length / p + " rows, scores has " + rows);
        }
        double[] rowLoss = vector(m.get("rowLoss"), where, "rowLoss", rows);
        double[] grad = matrix(m.get("gradMeanLoss"), where, "gradMeanLoss", p, perExpert);
        if (grad.length != scores.length) {
            throw new InvalidInputException(where + ": gradMeanLoss has " + grad.length / p + " rows, scores has " + rows);
        }
        double mean = m.get("meanLoss") == null ? Double.NaN : number(m.get("meanLoss"), where, "meanLoss");
        float[] scores32 = toFloat(scores);
        try {
            Checks.scores("scores", config, scores32, 0, rows);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(where + ": " + e.getMessage(), e);
        }
        return new GoldenCase(name, config, rows, scores32, toFloat32(weights, p, where, "weights"), scores, weights,
                rowLoss, mean, grad);
    }

    static double number(Object o, String where, String field) {
        if (o instanceof Double d) {
            return d;
        }
        throw new InvalidInputException(where + ": \"" + field + "\" must be a number, got " + describe(o));
    }

    static double[] vector(Object o, String where, String field, int expected) {
        if (!(o instanceof List<?> list)) {
            throw new InvalidInputException(where + ": \"" + field + "\" must be an array of numbers, got " + describe(o));
        }
        if (expected >= 0 && list.size() != expected) {
            throw new InvalidInputException(where + ": \"" + field + "\" has " + list.size() + " values, expected " + expected);
        }
        double[] v = new double[list.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = number(list.get(i), where, field + "[" + i + "]");
        }
        return v;
    }

    static double[] matrix(Object o, String where, String field, int p) {
        return matrix(o, where, field, p, "");
    }

    /**
     * A matrix of rows of {@code p} values; {@code widthFrom} says where {@code p} comes from (" (one per expert, as
     * \"rho\" has)"), so that a row of the wrong width is not blamed when the field that set the width is the wrong
     * one: a "rho" of 2 margins was reported as "scores row 0 has 3 values, expected 2".
     */
    static double[] matrix(Object o, String where, String field, int p, String widthFrom) {
        if (!(o instanceof List<?> list)) {
            throw new InvalidInputException(where + ": \"" + field + "\" must be an array of rows, got " + describe(o));
        }
        double[] v = new double[list.size() * p];
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) instanceof List<?> r && r.size() != p) {
                throw new InvalidInputException(where + ": \"" + field + " row " + i + "\" has " + r.size()
                        + " values, expected " + p + widthFrom);
            }
            double[] row = vector(list.get(i), where, field + " row " + i, p);
            System.arraycopy(row, 0, v, i * p, p);
        }
        return v;
    }

    /**
     * A matrix field the float backends (or a router) read in float32, rounded to it: a value beyond its range
     * would be infinite there, so the case could only "fail" (NaN errors, exit 1) while being bad input.
     *
     * @throws InvalidInputException naming {@code where}, the field, the row and the column (0-based)
     */
    static float[] toFloat32(double[] v, int p, String where, String field) {
        float[] f = toFloat(v);
        for (int i = 0; i < f.length; i++) {
            if (Float.isInfinite(f[i])) {
                throw new InvalidInputException(where + ": \"" + field + "\" row " + i / p + ", column " + i % p + ": "
                        + v[i] + " is beyond the float32 range (at most " + Float.MAX_VALUE + " in magnitude)");
            }
        }
        return f;
    }

    static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    /** What a JSON value is, for a message: a string as quoted text, since "1.0" unquoted reads as the number. */
    static String describe(Object o) {
        if (o instanceof String s) {
            return "the text \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
        }
        return o == null ? "nothing" : o instanceof List ? "an array" : o instanceof Map ? "an object" : o.toString();
    }

    /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
    @Override
    public String toString() {
        return RecordText.of(this);
    }
}
