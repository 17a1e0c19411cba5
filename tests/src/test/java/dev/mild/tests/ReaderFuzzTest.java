package dev.mild.tests;

import static dev.mild.tests.ReaderFuzz.caseSeeds;
import static dev.mild.tests.ReaderFuzz.mutateBytes;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mild.InvalidInputException;
import dev.mild.data.CsvReader;
import dev.mild.data.DataFiles;
import dev.mild.data.Dataset;
import dev.mild.io.DeferralGolden;
import dev.mild.io.GoldenCase;
import dev.mild.io.Json;
import dev.mild.router.ExpertSetup;
import dev.mild.router.Mlp;
import dev.mild.router.ModelFile;
import dev.mild.router.RouterModel;
import dev.mild.router.Standardizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded fuzz of the file readers ({@link ReaderFuzz} holds the machinery): valid inputs built here are damaged
 * (truncated, bits flipped, bytes inserted and deleted, lines swapped, separators and columns doubled or dropped,
 * NaN, infinite, huge and tiny numbers, odd whitespace, CR/LF mixtures, byte-order marks, bytes that are not UTF-8,
 * NUL bytes, very long fields, absurd sizes in binary headers), and every reader must then accept the input and
 * return what an independent oracle written here expects, or refuse it with an InvalidInputException naming the
 * source and a place in it. Never another exception, never a hang (each reader's cases run under a generous
 * timeout).
 *
 * <ul>
 *   <li>CSV ({@code CsvReader.read} on streams, {@code DataFiles.read} on plain and gzipped files): accepted text
 *       must match a small parse written here (split, strip spaces and tabs, Float/Double.parseDouble); and
 *       {@code route}'s rows on stdin, routed by a model whose choice that parse can tell;</li>
 *   <li>model files ({@code ModelFile.fromBytes}, and {@code load} for one in eight), also damaged in the payload
 *       with its length and checksum recomputed: an accepted model must save to the same bytes and route to one of
 *       its experts;</li>
 *   <li>IDX images and labels ({@code DataFiles.read}): accepted files must hold the bytes / 255 and labels
 *       decoded here;</li>
 *   <li>JSON ({@code Json.parse}): documents written here must read back equal, a number token be accepted exactly
 *       when RFC 8259's grammar takes it; golden files ({@code GoldenCase.parse} and {@code read},
 *       {@code DeferralGolden.check}) damaged value by value must give back the values written, or be refused naming
 *       the case or section.</li>
 * </ul>
 * About 27,000 cases, 6 to 17 s on this machine's two cores as other work shares them; each reader's test prints
 * its counts. {@link ReaderFuzzFindingsTest} holds the defects found, each on its exact input.
 *
 * <p>More cases (a factor of the CI counts), another seed, or one seeded case again (its seed is printed with every
 * failure; exhaustive truncations are skipped then):
 * <pre>
 *   mvn -o -B -q -pl tests -am verify -Dtest=ReaderFuzzTest -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Dmild.readerfuzz.cases=20 -Dmild.readerfuzz.seed=7
 *   ... -Dmild.readerfuzz.case=20261262783623
 * </pre>
 */
class ReaderFuzzTest {
    /** Each reader's cases together stay far below this; a reader that hangs fails here. */
    static final Duration HANG_GUARD = Duration.ofMinutes(3);

    @TempDir
    Path tmp;

    // ---- CSV ------------------------------------------------------------------------------------------------

    static final String CSV_SOURCE = "fuzz.csv";

    /** A refusal of a CSV text names a line, or is about the whole file (which has no place to name). */
    static final Predicate<String> CSV_PLACE = m -> Pattern.compile("line \\d+").matcher(m).find()
            || m.contains("empty file") || m.contains("no data rows follow") || m.contains("names no feature column")
            || m.contains("both cost: and pred: columns") || m.contains("a MILD model file")
            || m.contains("not CSV text") || m.contains("trailing bytes after the gzip data at byte offset")
            || m.contains("truncated: the gzip data ends early") || m.contains("corrupt gzip data")
            || m.contains("magic");   // a damaged gzip file that starts like IDX: named by its magic

    @Test
    void csvTextsDamagedAtRandom() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("CsvReader");
            for (long seed : caseSeeds(6000)) {
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder log = new StringBuilder("case seed " + seed + ":");
                byte[] csv = mutatedCsv(r, log);
                run.check(log.toString(), CSV_SOURCE, CSV_PLACE,
                        () -> CsvReader.read(new ByteArrayInputStream(csv), CSV_SOURCE), got -> csvProblem(csv, got));
            }
            run.assertNoFailures();
        });
    }

    /** Every prefix of a valid file with every kind of column, and CR LF line ends. */
    @Test
    void csvTextsTruncatedAtEveryLength() {
        if (ReaderFuzz.replayingOneCase()) {
            return;
        }
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("CsvReader, truncations");
            byte[][] valid = {
                "\uFEFFx1, \"f 2\" ,cost:a,cost:b\r\n1.5,-2e3,0,1\r\n\r\n.5,7.,0.25,2E1\r\n"
                        .getBytes(StandardCharsets.UTF_8),
                "label,x,pred:a,pred:b\n3,1e-3,3,12\n0,-0,1,0".getBytes(StandardCharsets.UTF_8)};
            for (byte[] file : valid) {
                for (int n = 0; n <= file.length; n++) {
                    byte[] csv = Arrays.copyOf(file, n);
                    run.check("\"" + new String(file, StandardCharsets.UTF_8).replace("\r", "\\r").replace("\n", "\\n")
                            + "\" truncated to " + n + " bytes", CSV_SOURCE, CSV_PLACE,
                            () -> CsvReader.read(new ByteArrayInputStream(csv), CSV_SOURCE),
                            got -> csvProblem(csv, got));
                }
            }
            run.assertNoFailures();
        });
    }

    /**
     * Tables whose lines end in LF, CR LF or CR, with blank lines, a byte-order mark and padding, and one bad cell at a
     * known line and column: the refusal must name both.
     */
    @Test
    void csvErrorsNameTheirLineAndColumn() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("CsvReader, error places");
            for (long seed : caseSeeds(300)) {
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder text = new StringBuilder(r.nextBoolean() ? "\uFEFF" : "");
                int columns = 1 + r.nextInt(4);
                int rows = 1 + r.nextInt(5);
                int badRow = 1 + r.nextInt(rows);
                int badColumn = 1 + r.nextInt(columns);
                String[] ends = {"\n", "\r\n", "\r"};
                int line = 1;
                int badLine = -1;
                for (int i = 0; i <= rows; i++) {
                    while (r.nextInt(4) == 0) {
                        // A blank line; not empty, or an LF after a CR would end one line, not two.
                        text.append(r.nextBoolean() ? " \t" : " ").append(ends[r.nextInt(3)]);
                        line++;
                    }
                    badLine = i == badRow ? line : badLine;
                    for (int c = 1; c <= columns; c++) {
                        text.append(c == 1 ? "" : ",")
                                .append(i == 0 ? "x" + c : i == badRow && c == badColumn ? " 1x " : " 0.5 ");
                    }
                    text.append(ends[r.nextInt(3)]);
                    line++;
                }
                byte[] csv = text.toString().getBytes(StandardCharsets.UTF_8);
                String where = "line " + badLine + ", column " + badColumn + " ";
                run.check("case seed " + seed + ": \"" + shown(text.toString()) + "\", bad cell at " + where,
                        CSV_SOURCE, m -> m.contains(where),
                        () -> CsvReader.read(new ByteArrayInputStream(csv), CSV_SOURCE), got -> "accepted \"1x\"");
            }
            run.assertNoFailures();
        });
    }

    /**
     * A CR LF, a lone CR, or a multi-byte character around the edges of the reads under LineReader (its 64 Ki
     * buffer, the decoder's 8 Ki): a line end split between two reads must still end one line, not two.
     */
    @Test
    void csvLineEndsAtTheEdgesOfTheReadBuffers() {
        if (ReaderFuzz.replayingOneCase()) {
            return;
        }
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("CsvReader, line ends at buffer edges");
            for (int edge : new int[] {1 << 13, 1 << 14, LINE_BUFFER}) {
                for (int shift = -2; shift <= 2; shift++) {
                    for (String end : List.of("\r\n", "\r", "\n", "\u00e9\r\n")) {
                        String header = "x,\u4e2d\n";
                        String text = header + " ".repeat(edge + shift - header.length()) + "1,2" + end + "3,4"
                                + end + "\r\n5,6";
                        byte[] csv = text.getBytes(StandardCharsets.UTF_8);
                        run.check("a line end \"" + shown(end) + "\" at char " + (edge + shift + 3), CSV_SOURCE,
                                CSV_PLACE, () -> CsvReader.read(new ByteArrayInputStream(csv), CSV_SOURCE),
                                got -> csvProblem(csv, got));
                    }
                }
            }
            run.assertNoFailures();
        });
    }

    /**
     * {@link DataFiles#read}, as the CLI calls it, on files: damaged CSV written plain, gzipped, gzipped in two
     * members, or gzipped and then damaged itself (truncated, bits flipped, bytes appended).
     */
    @Test
    void dataFilesOfDamagedCsvPlainOrGzipped() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("DataFiles.read (CSV)");
            for (long seed : caseSeeds(800)) {
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder log = new StringBuilder("case seed " + seed + ":");
                byte[] csv = mutatedCsv(r, log);
                Path file = tmp.resolve("fuzz-" + seed + ".csv");
                byte[] bytes;
                int layout = r.nextInt(4);
                if (layout == 0) {
                    log.append(" plain");
                    bytes = csv;
                } else if (layout == 1) {
                    log.append(" gzipped");
                    bytes = gzip(csv);
                } else if (layout == 2) {
                    int split = r.nextInt(csv.length + 1);
                    log.append(" gzipped in two members split at ").append(split);
                    byte[] first = gzip(Arrays.copyOf(csv, split));
                    byte[] second = gzip(Arrays.copyOfRange(csv, split, csv.length));
                    bytes = ReaderFuzz.insert(first, first.length, second);
                } else {
                    log.append(" gzipped, then");
                    bytes = mutateBytes(gzip(csv), r, log);
                }
                Files.write(file, bytes);
                String source = file.toString();
                run.check(log.toString(), source, CSV_PLACE, () -> DataFiles.read(file), got -> csvProblem(csv, got));
                Files.delete(file);
            }
            run.assertNoFailures();
        });
    }

    /**
     * {@code route}'s rows on stdin (in process, as CliTest runs it), with no header, the model's, reordered, or with
     * other columns, damaged as the CSV files are. The model routes by the identity: expert "up" scores x0, "down"
     * x1, ties to the highest index, so an accepted input must give, per data row, "up" exactly when x0 > x1 (the
     * cells read by the parse written here); a refusal is exit code 2 naming stdin and a line, never "failed".
     */
    @Test
    void routeRowsDamagedAtRandom() {
        Mlp identity = new Mlp(2, 2);
        identity.weights(0)[0] = 1f;   // input-major: x0 -> up
        identity.weights(0)[3] = 1f;   // x1 -> down
        Path model = tmp.resolve("identity.mild");
        ModelFile.save(new RouterModel(List.of("x0", "x1"), new Standardizer(new float[2], new float[] {1f, 1f},
                List.of("x0", "x1")), identity, new ExpertSetup(ExpertSetup.Source.COSTS, List.of("up", "down"), 0,
                new int[0], new double[2], 1), List.of(), Map.of()), model);
        String[] headers = {null, "x0,x1", "x1,x0", "x1,cost:a,x0", " \"x0\" ,x1,label"};
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("route (stdin)");
            for (long seed : caseSeeds(400)) {
                SplittableRandom r = new SplittableRandom(seed);
                String header = headers[r.nextInt(headers.length)];
                int columns = header == null ? 2 : header.split(",").length;
                StringBuilder text = new StringBuilder(header == null ? "" : header + "\n");
                for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
                    for (int c = 0; c < columns; c++) {
                        text.append(c == 0 ? "" : ",").append(FEATURE_VALUES[r.nextInt(FEATURE_VALUES.length)]);
                    }
                    text.append(r.nextBoolean() ? "\n" : "\r\n");
                }
                StringBuilder log = new StringBuilder("case seed " + seed + ": valid \"" + shown(text.toString())
                        + "\";");
                byte[] input = text.toString().getBytes(StandardCharsets.UTF_8);
                for (int m = 0, mutations = r.nextInt(3); m < mutations; m++) {
                    input = r.nextInt(3) == 0 ? mutateBytes(input, r, log) : mutateCsvText(input, r, log);
                }
                byte[] stdin = input;
                run.check(log.toString(), "stdin", CSV_PLACE, () -> {
                    CliTest.Run result = CliTest.runWithInput(stdin, "route", "--model", model.toString());
                    if (result.code() == 2 && result.err().contains(": error: ")) {
                        throw new InvalidInputException(result.err());   // a refusal, checked as any other
                    }
                    return result;
                }, result -> result.code() != 0 ? "exit code " + result.code() + ": " + result.err()
                        : routeProblem(stdin, result.out()));
            }
            run.assertNoFailures();
        });
    }

    /** What route must print for an accepted input, by the parse written here, compared with what it printed. */
    static String routeProblem(byte[] input, String out) {
        String text = new String(input, StandardCharsets.UTF_8);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<String> lines = new ArrayList<>(Arrays.stream(text.split("\r\n|\r|\n", -1)).filter(l -> !l.isBlank())
                .toList());
        int x0 = 0;
        int x1 = 1;
        if (!lines.isEmpty() && !Arrays.stream(lines.get(0).split(",", -1))
                .allMatch(cell -> PLAIN_DECIMAL.matcher(strip(cell)).matches())) {
            List<String> names = Arrays.stream(lines.remove(0).split(",", -1)).map(n -> {
                String name = strip(n);
                return name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")
                        ? strip(name.substring(1, name.length() - 1)) : name;
            }).toList();
            x0 = names.indexOf("x0");
            x1 = names.indexOf("x1");
        }
        StringBuilder expected = new StringBuilder();
        for (String line : lines) {
            String[] cells = line.split(",", -1);
            boolean found = x0 >= 0 && x1 >= 0 && Math.max(x0, x1) < cells.length;
            if (!found || !PLAIN_DECIMAL.matcher(strip(cells[x0])).matches()
                    || !PLAIN_DECIMAL.matcher(strip(cells[x1])).matches()) {
                return "the parse here finds no x0 and x1 in \"" + shown(line) + "\"";
            }
            boolean up = Float.parseFloat(strip(cells[x0])) > Float.parseFloat(strip(cells[x1]));
            expected.append(up ? "up" : "down").append('\n');
        }
        return out.contentEquals(expected) ? null : "printed \"" + shown(out) + "\", the rows route to \""
                + shown(expected.toString()) + "\"";
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        }
        return out.toByteArray();
    }

    static final String[] FEATURE_NAMES = {"x1", "f 2", "\"q\"", "len", "h0", "subj:a b", "x_\u00e9", " pad "};
    static final String[] EXPERT_NAMES = {"a", "gpt-4", "m 2"};
    static final String[] FEATURE_VALUES = {"0", "1", "-2.5", "0.125", "1e3", "-3E-2", ".5", "7.", "+4", "-0",
        "16777217", "3.4e38", "1.0000001", "2.5e-40", "0.1"};
    static final String[] COST_VALUES = {"0", "1", "0.25", "2e1", "1e-300", "3.4028234e38", "0.1"};
    static final String[] CLASS_VALUES = {"0", "1", "3", "12", "2.0", "1e2", "1000000"};
    /** Numbers and near-numbers a cell gets: non-finite, past float32's range and limits, other syntaxes. */
    static final String[] NUMBER_TOKENS = {"NaN", "-NaN", "Infinity", "-Infinity", "+Infinity", "inf", "1e39", "-1e39",
        "3.4028235e38", "3.4028236e38", "3.5e38", "1.7014117e38", "1.7014118e38", "1.7014119e38", "-1.7014118e38",
        "1e-46", "1.4e-45", "-1e-50", "4.9e-324", "1e309", "1e-400", "-0", "-0.0", "0x10", "0x1p3", "1f", "1d", "1L",
        "1_000", "\u0661", "\uff11", "", "1e", "e1", ".", "-", "+", "1.2.3", "--1", "+-1", "1e+", "1e2147483648",
        "1e-2147483649", "00012", "1 2", "\"1\"", "'1'", "1.5e+3", "2147483648", "1000001", "-1", "0.5", "1e6",
        "999999.99999999", "1" + "0".repeat(400), "0." + "0".repeat(400) + "1", "1".repeat(20_000),
        "0." + "0".repeat(20_000) + "1", " ".repeat(20_000) + "1"};
    /** LineReader's buffer: padding longer than it makes a line span refills, and puts line ends at its edge. */
    static final int LINE_BUFFER = 1 << 16;
    /** Whitespace and invisible characters put around or into a cell (padding as long as the line buffer too). */
    static final String[] ODD_SPACES = {" ", "\t", "  \t ", "\u000b", "\f", "\u001c", "\u001f", "\u00a0", "\u2003",
        "\u200b", "\u3000", "\uFEFF", "\u0085", "\u2028", "\r", "\n", "\r\n", " ".repeat(LINE_BUFFER - 1),
        "\t".repeat(LINE_BUFFER + 7)};
    static final String[] LINE_ENDS = {"\n", "\r\n", "\r", "\n\r", "\r\r\n", "\n\n", ""};

    /** A valid CSV text of random columns and rows, then one to three random mutations of it. */
    static byte[] mutatedCsv(SplittableRandom r, StringBuilder log) {
        List<List<String>> table = validTable(r);
        String lineEnd = r.nextBoolean() ? "\n" : "\r\n";
        StringBuilder text = new StringBuilder();
        for (List<String> row : table) {
            text.append(String.join(",", row)).append(lineEnd);
        }
        if (r.nextInt(4) == 0) {
            text.setLength(text.length() - lineEnd.length());   // no line end after the last row
        }
        log.append(" valid \"").append(shown(text.toString())).append("\";");
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        int mutations = 1 + r.nextInt(3);
        for (int m = 0; m < mutations; m++) {
            bytes = r.nextInt(3) == 0 ? mutateBytes(bytes, r, log) : mutateCsvText(bytes, r, log);
        }
        return bytes;
    }

    static List<List<String>> validTable(SplittableRandom r) {
        int features = 1 + r.nextInt(3);
        int kind = r.nextInt(4);   // 0 features only, 1 costs, 2 label and predictions, 3 label only
        int experts = kind == 1 || kind == 2 ? 1 + r.nextInt(2) : 0;
        List<String> header = new ArrayList<>();
        List<String> names = new ArrayList<>(List.of(FEATURE_NAMES));
        for (int f = 0; f < features; f++) {
            header.add(names.remove(r.nextInt(names.size())));
        }
        if (kind >= 2) {
            header.add(r.nextInt(header.size() + 1), "label");
        }
        for (int k = 0; k < experts; k++) {
            header.add(r.nextInt(header.size() + 1), (kind == 1 ? "cost:" : "pred:") + EXPERT_NAMES[k]);
        }
        List<List<String>> table = new ArrayList<>();
        table.add(header);
        int rows = 1 + r.nextInt(4);
        for (int i = 0; i < rows; i++) {
            List<String> row = new ArrayList<>();
            for (String name : header) {
                String[] values = name.equals("label") || name.startsWith("pred:") ? CLASS_VALUES
                        : name.startsWith("cost:") ? COST_VALUES : FEATURE_VALUES;
                String cell = values[r.nextInt(values.length)];
                row.add(r.nextInt(5) == 0 ? " " + cell + "\t" : cell);
            }
            table.add(row);
        }
        return table;
    }

    /** One random mutation of the CSV text's lines, cells or separators. */
    static byte[] mutateCsvText(byte[] bytes, SplittableRandom r, StringBuilder log) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        int line = r.nextInt(lines.size());
        List<String> cells = new ArrayList<>(Arrays.asList(lines.get(line).split(",", -1)));
        int cell = r.nextInt(cells.size());
        switch (r.nextInt(12)) {
            case 0 -> {
                int other = r.nextInt(lines.size());
                log.append(" lines ").append(line + 1).append(" and ").append(other + 1).append(" swapped;");
                lines.set(line, lines.set(other, lines.get(line)));
            }
            case 1 -> {
                log.append(" line ").append(line + 1).append(" repeated;");
                lines.add(line, lines.get(line));
            }
            case 2 -> {
                log.append(" line ").append(line + 1).append(" removed;");
                lines.remove(line);
            }
            case 3 -> {
                log.append(" line ").append(line + 1).append(", cell ").append(cell + 1).append(" repeated;");
                cells.add(cell, cells.get(cell));
                lines.set(line, String.join(",", cells));
            }
            case 4 -> {
                log.append(" line ").append(line + 1).append(", cell ").append(cell + 1).append(" removed;");
                cells.remove(cell);
                lines.set(line, String.join(",", cells));
            }
            case 5, 6 -> {
                boolean repeat = r.nextBoolean();
                log.append(" column ").append(cell + 1).append(repeat ? " repeated;" : " removed;");
                for (int i = 0; i < lines.size(); i++) {
                    List<String> row = new ArrayList<>(Arrays.asList(lines.get(i).split(",", -1)));
                    if (cell < row.size()) {
                        if (repeat) {
                            row.add(cell, row.get(cell));
                        } else {
                            row.remove(cell);
                        }
                    }
                    lines.set(i, String.join(",", row));
                }
            }
            case 7 -> {
                String token = NUMBER_TOKENS[r.nextInt(NUMBER_TOKENS.length)];
                log.append(" line ").append(line + 1).append(", cell ").append(cell + 1).append(" set to \"")
                        .append(shown(token)).append("\";");
                cells.set(cell, token);
                lines.set(line, String.join(",", cells));
            }
            case 8 -> {
                String space = ODD_SPACES[r.nextInt(ODD_SPACES.length)];
                int where = r.nextInt(3);
                log.append(" line ").append(line + 1).append(", cell ").append(cell + 1).append(": \"")
                        .append(shown(space)).append(new String[] {"\" before;", "\" after;", "\" inside;"}[where]);
                String c = cells.get(cell);
                int mid = c.length() / 2;
                cells.set(cell, where == 0 ? space + c : where == 1 ? c + space
                        : c.substring(0, mid) + space + c.substring(mid));
                lines.set(line, String.join(",", cells));
            }
            case 9 -> {
                String end = LINE_ENDS[r.nextInt(LINE_ENDS.length)];
                log.append(" line ").append(line + 1).append(" ends in \"").append(shown(end)).append("\";");
                String l = lines.get(line);
                // Its LFs stand in as U+E000 (in no input here) until the lines are joined at LFs.
                lines.set(line, (l.endsWith("\r") ? l.substring(0, l.length() - 1) : l) + end.replace('\n', '\uE000'));
            }
            case 10 -> {
                log.append(" cell ").append(cell + 1).append(" of line ").append(line + 1).append(" quoted;");
                cells.set(cell, "\"" + cells.get(cell) + "\"");
                lines.set(line, String.join(",", cells));
            }
            default -> {
                log.append(" a byte-order mark ")
                        .append(line == 0 ? "first;" : "at the start of line " + (line + 1) + ";");
                lines.set(line, "\uFEFF" + lines.get(line));
            }
        }
        return String.join("\n", lines).replace('\uE000', '\n').getBytes(StandardCharsets.UTF_8);
    }

    static String shown(String s) {
        String t = s.length() > 60 ? s.substring(0, 30) + "...(" + s.length() + " chars)" : s;
        StringBuilder sb = new StringBuilder();
        for (char c : t.toCharArray()) {
            sb.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return sb.toString();
    }

    // ---- model files ----------------------------------------------------------------------------------------

    static final String MODEL_SOURCE = "fuzz.mild";
    /**
     * A refusal of a model file names the header field, the payload or the checksum, or the part of the payload (as
     * ModelFile's javadoc lists them) where the damage was found, or the parts that do not fit together.
     */
    static final Predicate<String> MODEL_PLACE = m -> List.of("not a MILD model file", "format version", "header",
            "payload",
            "checksum", "the info entries", "the feature names", "the standardization", "standardizer: ",
            "the router network", "the expert setup", "the expert classifiers", "the classifier of expert", "model: ",
            "expert setup: ", "unexpected bytes after the model").stream().anyMatch(m::contains);
    /** Ints a damaged count, size or class number may become. */
    static final int[] SPECIAL_INTS = {0, 1, -1, 2, 3, 255, 65_535, 1 << 16, 1 << 24, 1_000_001, 1_000_002,
        Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 8, 1 << 30, 46_341};
    /** Float bits a damaged parameter may become: NaN, infinities, float32's largest and smallest, signed zero. */
    static final int[] SPECIAL_FLOAT_BITS = {0x7fc00000, 0x7f800000, 0xff800000, 0x7f7fffff, 0xff7fffff, 0x00000001,
        0x80000000, 0x00800000, 0x7fffffff, 0x3f800000};

    /** Every prefix of a model with every part (info, a hidden layer, trained experts' classifiers). */
    @Test
    void modelFilesTruncatedAtEveryLength() {
        if (ReaderFuzz.replayingOneCase()) {
            return;
        }
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("ModelFile, truncations");
            byte[] valid = ModelFile.toBytes(randomModel(new SplittableRandom(3), ExpertSetup.Source.TRAINED));
            for (int n = 0; n <= valid.length; n++) {
                byte[] file = Arrays.copyOf(valid, n);
                run.check("a model of " + valid.length + " bytes truncated to " + n, MODEL_SOURCE, MODEL_PLACE,
                        () -> ModelFile.fromBytes(file, MODEL_SOURCE), model -> modelProblem(file, model));
                if (n >= 20 + 4) {
                    // The same prefix of the payload with its length and checksum made right: the payload parser's cut.
                    byte[] payload = Arrays.copyOfRange(valid, 20, n - 4);
                    byte[] refitted = withPayload(valid, payload);
                    run.check("a model of " + valid.length + " bytes, its payload truncated to " + payload.length
                            + " bytes, length and checksum recomputed", MODEL_SOURCE, MODEL_PLACE,
                            () -> ModelFile.fromBytes(refitted, MODEL_SOURCE), model -> modelProblem(refitted, model));
                }
            }
            run.assertNoFailures();
        });
    }

    /**
     * Random models damaged anywhere (the checksum then refuses most), in the header's payload length, or in the
     * payload with its length and checksum recomputed so that the payload parser meets the damage: counts and sizes
     * set to absurd ints, parameters to NaN, infinities or float32's extremes, one name written over another.
     */
    @Test
    void modelFilesDamagedAtRandom() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("ModelFile");
            ExpertSetup.Source[] sources = ExpertSetup.Source.values();
            for (long seed : caseSeeds(6000)) {
                SplittableRandom r = new SplittableRandom(seed);
                RouterModel model = randomModel(r, sources[r.nextInt(sources.length)]);
                byte[] valid = ModelFile.toBytes(model);
                StringBuilder log = new StringBuilder("case seed " + seed + ": a model of " + valid.length + " bytes,");
                byte[] file;
                int kind = r.nextInt(4);
                if (kind == 0) {
                    file = mutateBytes(valid, r, log);
                } else if (kind == 1) {
                    long length = new long[] {-1, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 23, 0, 1L << 31,
                        (1L << 32) + valid.length - 24, valid.length - 25, valid.length - 23}[r.nextInt(9)];
                    log.append(" payload length set to ").append(length);
                    file = valid.clone();
                    ByteBuffer.wrap(file).putLong(12, length);
                } else {
                    byte[] payload = Arrays.copyOfRange(valid, 20, valid.length - 4);
                    int mutations = 1 + r.nextInt(2);
                    for (int m = 0; m < mutations; m++) {
                        payload = mutatePayload(payload, model, r, log);
                    }
                    log.append(" length and checksum recomputed");
                    file = withPayload(valid, payload);
                }
                byte[] bytes = file;
                run.check(log.toString(), MODEL_SOURCE, MODEL_PLACE, () -> ModelFile.fromBytes(bytes, MODEL_SOURCE),
                        loaded -> modelProblem(bytes, loaded));
                if (seed % 8 == 0) {
                    // As the CLI loads --model: from a file, which messages name.
                    Path path = tmp.resolve("fuzz-" + seed + ".mild");
                    Files.write(path, bytes);
                    run.check(log + " loaded from a file", path.toString(), MODEL_PLACE, () -> ModelFile.load(path),
                            loaded -> modelProblem(bytes, loaded));
                    Files.delete(path);
                }
            }
            run.assertNoFailures();
        });
    }

    static byte[] mutatePayload(byte[] payload, RouterModel model, SplittableRandom r, StringBuilder log) {
        if (payload.length < 4) {
            return mutateBytes(payload, r, log);   // cut short by an earlier mutation
        }
        int at = r.nextInt(payload.length - 3);
        switch (r.nextInt(4)) {
            case 0 -> {
                int v = SPECIAL_INTS[r.nextInt(SPECIAL_INTS.length)];
                log.append(" int at payload byte ").append(at).append(" set to ").append(v).append(';');
                return ReaderFuzz.putInt(payload, at, v);
            }
            case 1 -> {
                int bits = SPECIAL_FLOAT_BITS[r.nextInt(SPECIAL_FLOAT_BITS.length)];
                log.append(" float at payload byte ").append(at).append(" set to ").append(Float.intBitsToFloat(bits))
                        .append(';');
                return ReaderFuzz.putInt(payload, at, bits);
            }
            case 2 -> {
                // Names of one length (k1/k2, x0/x1, e0/e1): one written over the other makes a name repeat.
                List<String> names = new ArrayList<>(model.info().keySet());
                names.addAll(model.featureNames());
                names.addAll(model.expertNames());
                String from = names.get(r.nextInt(names.size()));
                String to = names.get(r.nextInt(names.size()));
                byte[] a = ReaderFuzz.utf8(from);
                byte[] b = ReaderFuzz.utf8(to);
                int where = indexOf(payload, b);
                if (a.length != b.length || where < 0) {
                    return mutateBytes(payload, r, log);
                }
                log.append(" name \"").append(to).append("\" written over with \"").append(from).append("\";");
                byte[] out = payload.clone();
                System.arraycopy(a, 0, out, where, a.length);
                return out;
            }
            default -> {
                log.append(" payload:");
                return mutateBytes(payload, r, log);
            }
        }
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    /** A model file's header (magic and version from {@code valid}) around {@code payload}, with its CRC32. */
    static byte[] withPayload(byte[] valid, byte[] payload) {
        CRC32 crc = new CRC32();
        crc.update(payload);
        return ByteBuffer.allocate(20 + payload.length + 4).put(valid, 0, 12).putLong(payload.length).put(payload)
                .putInt((int) crc.getValue()).array();
    }

    /**
     * A small random model: 1 to 3 features (names in ASCII, Latin-1 and CJK, so 1- to 3-byte characters), a
     * router with or without a hidden layer, 1 to 3 experts of {@code source}, info entries with keys of one length.
     */
    static RouterModel randomModel(SplittableRandom r, ExpertSetup.Source source) {
        int d = 1 + r.nextInt(3);
        int p = 1 + r.nextInt(3);
        String[] alphabets = {"x", "\u00e9", "\u4e2d"};
        List<String> features = new ArrayList<>();
        float[] mean = new float[d];
        float[] std = new float[d];
        for (int c = 0; c < d; c++) {
            features.add(alphabets[r.nextInt(alphabets.length)] + c);
            mean[c] = (float) r.nextGaussian();
            std[c] = r.nextInt(4) == 0 ? 0f : (float) (0.5 + r.nextDouble());
        }
        int[] sizes = r.nextBoolean() ? new int[] {d, p} : new int[] {d, 1 + r.nextInt(3), p};
        Mlp network = Mlp.initialized(sizes, r.nextLong());
        List<String> experts = new ArrayList<>();
        double[] beta = new double[p];
        int[] blocks = new int[source == ExpertSetup.Source.COSTS || source == ExpertSetup.Source.PREDICTIONS
                && r.nextBoolean() ? 0 : p];
        for (int k = 0; k < p; k++) {
            experts.add("e" + k);
            beta[k] = new double[] {0, 0.25, 1}[r.nextInt(3)];
        }
        Arrays.fill(blocks, 1);
        int classes = blocks.length == 0 ? 0 : p + r.nextInt(3);
        List<Mlp> classifiers = new ArrayList<>();
        for (int k = 0; source == ExpertSetup.Source.TRAINED && k < p; k++) {
            classifiers.add(Mlp.initialized(new int[] {d, classes}, r.nextLong()));
        }
        Map<String, String> info = new LinkedHashMap<>();
        for (int i = 0; i < r.nextInt(3); i++) {
            info.put("k" + i, "v" + r.nextInt(100));
        }
        return new RouterModel(features, new Standardizer(mean, std, features), network,
                new ExpertSetup(source, experts, classes, blocks, beta, r.nextLong()), classifiers, info);
    }

    /**
     * Whether a model loaded from damaged bytes is what they hold: saved again, it must give the same bytes (the
     * format has one encoding of each model), and its router must route rows to one of its experts (or refuse a row
     * whose scores would overflow float32, as it does for any model).
     */
    static String modelProblem(byte[] file, RouterModel model) {
        byte[] again = ModelFile.toBytes(model);
        if (!Arrays.equals(again, file)) {
            int at = Arrays.mismatch(again, file);
            return "saved again it gives other bytes (" + again.length + " bytes, not " + file.length + "; first"
                    + " difference at byte " + at + ")";
        }
        int d = model.featureNames().size();
        float[] rows = {0f, 1f, -1f, 1e3f, -1e-3f, 7f};
        int n = rows.length / d;
        int[] choice;
        try {
            choice = model.router().routeBatch(Arrays.copyOf(rows, n * d));
        } catch (InvalidInputException e) {
            // A row too far from a damaged mean or scale for float32: the router refuses it, in words of its own.
            return null;
        }
        for (int c : choice) {
            if (c < 0 || c >= model.expertNames().size()) {
                return "routed to expert " + c + " of " + model.expertNames().size();
            }
        }
        return null;
    }

    // ---- IDX images and labels -----------------------------------------------------------------------------

    /**
     * A refusal of IDX files names a header field (magic, count, dimensions), the byte counts the header promises
     * and the file has, the missing labels file, or the gzip layer's damage.
     */
    static final Predicate<String> IDX_PLACE = m -> List.of("magic", "header", "bytes", "dimensions", "labels file",
            "images", "labels but", "truncated", "trailing", "gzip").stream().anyMatch(m::contains);

    /**
     * IDX images and their labels file (DataFiles.read, as the CLI reads --data), small and random, then damaged:
     * header fields set to absurd counts and sizes, bytes flipped, inserted, deleted, truncated, either file gzipped
     * (and the gzip damaged), the labels file left out. An accepted pair must hold what the bytes say: pixels / 255
     * and the label bytes, decoded here.
     */
    @Test
    void idxFilesDamagedAtRandom() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("IdxReader (DataFiles.read)");
            for (long seed : caseSeeds(800)) {
                SplittableRandom r = new SplittableRandom(seed);
                int n = 1 + r.nextInt(4);
                int rows = 1 + r.nextInt(3);
                int cols = 1 + r.nextInt(3);
                byte[] images = ByteBuffer.allocate(16 + n * rows * cols).putInt(0x803).putInt(n).putInt(rows)
                        .putInt(cols).array();
                byte[] labels = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n).array();
                for (int i = 16; i < images.length; i++) {
                    images[i] = (byte) r.nextInt(256);
                }
                for (int i = 8; i < labels.length; i++) {
                    labels[i] = (byte) r.nextInt(256);
                }
                StringBuilder log = new StringBuilder("case seed " + seed + ": " + n + " images of " + rows + " x "
                        + cols + ",");
                boolean damageLabels = r.nextInt(3) == 0;
                byte[] target = damageLabels ? labels : images;
                log.append(damageLabels ? " labels file" : " images file");
                if (r.nextBoolean()) {
                    int field = r.nextInt(damageLabels ? 2 : 4);
                    int[] values = {0, 1, -1, n - 1, n + 1, 0x803, 0x801, 0x80d, 0x10803, 1 << 16, 46_341,
                        Integer.MAX_VALUE, Integer.MIN_VALUE};
                    int v = values[r.nextInt(values.length)];
                    log.append(": header int ").append(field).append(" set to ").append(v).append(';');
                    target = ReaderFuzz.putInt(target, 4 * field, v);
                } else {
                    target = mutateBytes(target, r, log);
                }
                if (damageLabels) {
                    labels = target;
                } else {
                    images = target;
                }
                Path dir = Files.createDirectory(tmp.resolve("idx-" + seed));
                boolean imagesGzipped = r.nextInt(3) == 0;
                boolean labelsGzipped = r.nextInt(3) == 0;
                Path imagesFile = dir.resolve("t-images-idx3-ubyte" + (imagesGzipped ? ".gz" : ""));
                Path labelsFile = dir.resolve("t-labels-idx1-ubyte" + (labelsGzipped ? ".gz" : ""));
                if (imagesGzipped && r.nextInt(4) == 0) {
                    log.append(" images gzipped, then");
                    Files.write(imagesFile, mutateBytes(gzip(images), r, log));
                    images = gunzipped(imagesFile, images);
                } else {
                    Files.write(imagesFile, imagesGzipped ? gzip(images) : images);
                }
                int labelsLayout = r.nextInt(8);
                if (labelsLayout == 0) {
                    log.append(" no labels file;");
                } else if (labelsLayout == 1 && labelsGzipped) {
                    log.append(" labels gzipped, then");
                    Files.write(labelsFile, mutateBytes(gzip(labels), r, log));
                } else {
                    Files.write(labelsFile, labelsGzipped ? gzip(labels) : labels);
                }
                log.append(imagesGzipped ? " images gzipped;" : "").append(labelsGzipped ? " labels gzipped;" : "");
                byte[] imageBytes = images;
                run.check(log.toString(), dir.toString(), IDX_PLACE, () -> DataFiles.read(imagesFile),
                        got -> idxProblem(imageBytes, gunzipped(labelsFile), got));
            }
            run.assertNoFailures();
        });
    }

    /** The file's bytes, ungzipped (by the JDK's own GZIPInputStream) when it is named .gz. */
    static byte[] gunzipped(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (!file.toString().endsWith(".gz")) {
            return bytes;
        }
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        }
    }

    /** {@link #gunzipped(Path)}, or {@code otherwise} when the JDK cannot ungzip it either (the reader must refuse). */
    static byte[] gunzipped(Path file, byte[] otherwise) throws IOException {
        try {
            return gunzipped(file);
        } catch (IOException e) {
            return otherwise;
        }
    }

    /**
     * What an accepted pair of IDX files holds, decoded here from the IDX layout (big-endian magic, count, rows,
     * columns, one byte per pixel; magic, count, one byte per label), compared with what the reader returned.
     */
    static String idxProblem(byte[] images, byte[] labels, Dataset got) {
        ByteBuffer im = ByteBuffer.wrap(images);
        ByteBuffer lb = ByteBuffer.wrap(labels);
        if (images.length < 16 || im.getInt(0) != 0x803 || labels.length < 8 || lb.getInt(0) != 0x801) {
            return "the magics are not 0x803 and 0x801, or a header is cut short";
        }
        int n = im.getInt(4);
        long pixels = (long) im.getInt(8) * im.getInt(12);
        if (16 + n * pixels != images.length || lb.getInt(4) != n || labels.length != 8L + n) {
            return "the headers promise " + n + " images of " + pixels + " pixels and " + lb.getInt(4) + " labels, the"
                    + " files have " + images.length + " and " + labels.length + " bytes";
        }
        if (got.rows() != n || got.d() != pixels) {
            return got.rows() + " rows of " + got.d() + " features, the files hold " + n + " of " + pixels;
        }
        for (int i = 0; i < n * pixels; i++) {
            if (got.features()[i] != (images[16 + i] & 0xff) / 255f) {
                return "pixel " + i + " is " + got.features()[i] + ", the file's byte " + (images[16 + i] & 0xff);
            }
        }
        for (int i = 0; i < n; i++) {
            if (got.labels()[i] != (labels[8 + i] & 0xff)) {
                return "label " + i + " is " + got.labels()[i] + ", the file's byte " + (labels[8 + i] & 0xff);
            }
        }
        return got.featureNames().equals(java.util.stream.IntStream.range(0, (int) pixels).mapToObj(c -> "pixel" + c)
                .toList()) ? null : "features named " + got.featureNames();
    }

    // ---- JSON and the golden files -------------------------------------------------------------------------

    static final String JSON_SOURCE = "fuzz.json";
    static final Predicate<String> JSON_PLACE = m -> Pattern.compile("line \\d+, column \\d+").matcher(m).find();
    /** RFC 8259's number grammar. */
    static final Pattern JSON_NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
    /** Numbers and near-numbers a JSON value gets: leading zeros, missing digits, other syntaxes, beyond float64. */
    static final String[] JSON_NUMBER_TOKENS = {"0", "-0", "01", "-01", "00", "0.0e0", "-0.0", "1.", ".5", "+1",
        "1e", "1e+", "1E400", "-1e400", "1e-400", "2e-324", "4.9e-324", "1.7976931348623157e308", "1.8e308", "0x10",
        "Infinity", "-Infinity", "NaN", "-", "1.5e3", "1E-2", "\u0661", "1_0", "12345678901234567890123", "1.5E+3",
        "0e1", "-0e-0", "1" + "0".repeat(400), "0." + "0".repeat(400) + "1"};

    /** A number written as it stands in the text (a token the generator does not spell itself). */
    record RawNumber(String text) {
    }

    /**
     * Random documents written here (whitespace of every kind between tokens, numbers spelled in several ways,
     * strings with escapes of every kind), one number replaced by a token of {@link #JSON_NUMBER_TOKENS}: read back
     * they must equal the values written, and a token must be accepted exactly when it is an RFC 8259 number within
     * float64, with Double.parseDouble's value.
     */
    @Test
    void jsonDocumentsWrittenHereAreReadBack() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("Json, documents written here");
            for (long seed : caseSeeds(4000)) {
                SplittableRandom r = new SplittableRandom(seed);
                Object tree = randomJson(r, 0);
                String token = JSON_NUMBER_TOKENS[r.nextInt(JSON_NUMBER_TOKENS.length)];
                Object withToken = Arrays.asList(tree, new RawNumber(token));
                String text = json(withToken, r);
                boolean valid = JSON_NUMBER.matcher(token).matches() && Double.isFinite(Double.parseDouble(token));
                Object expected = valid ? Arrays.asList(tree, Double.parseDouble(token)) : null;
                String replay = "case seed " + seed + ": number token \"" + shown(token) + "\" in \"" + shown(text)
                        + "\"";
                run.check(replay, JSON_SOURCE, JSON_PLACE, () -> Json.parse(text, JSON_SOURCE),
                        got -> expected == null ? "the token is not an RFC 8259 number within float64"
                                : expected.equals(got) ? null : "read as " + got);
                if (valid) {
                    run.mustAccept(replay);
                }
            }
            run.assertNoFailures();
        });
    }

    /** Documents written here, then damaged byte by byte; nested deeper than the limit, at and around it. */
    @Test
    void jsonTextsDamagedAtRandom() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("Json, damaged");
            for (long seed : caseSeeds(6000)) {
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder log = new StringBuilder("case seed " + seed + ":");
                byte[] bytes = json(randomJson(r, 0), r).getBytes(StandardCharsets.UTF_8);
                int mutations = 1 + r.nextInt(3);
                for (int m = 0; m < mutations; m++) {
                    bytes = mutateBytes(bytes, r, log);
                }
                String text = new String(bytes, StandardCharsets.UTF_8);
                run.check(log.toString(), JSON_SOURCE, JSON_PLACE, () -> Json.parse(text, JSON_SOURCE), got -> null);
            }
            for (int depth : new int[] {Json.MAX_DEPTH - 1, Json.MAX_DEPTH, Json.MAX_DEPTH + 1, 100_000}) {
                for (String open : List.of("[", "{\"a\":")) {
                    String text = open.repeat(depth) + "1" + (open.equals("[") ? "]" : "}").repeat(depth);
                    run.check(depth + " times " + open, JSON_SOURCE, JSON_PLACE, () -> Json.parse(text, JSON_SOURCE),
                            got -> depth <= Json.MAX_DEPTH ? null : "nested " + depth + " deep, beyond the limit");
                }
            }
            run.assertNoFailures();
        });
    }

    /**
     * Documents of lines ending in LF, CR LF or CR (all JSON whitespace) with a stray character at a known line and
     * column, read as text and as a golden file (where a byte that is not UTF-8 is the stray one): the refusal must
     * name that line (and, for the parser, that column), as the CSV reader counts lines.
     */
    @Test
    void jsonErrorsNameTheirLineWhateverTheLineEnds() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("Json and GoldenCase.readJson, error lines");
            for (long seed : caseSeeds(200)) {
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder text = new StringBuilder("[");
                int lines = 1 + r.nextInt(5);
                for (int i = 0; i < lines; i++) {
                    text.append(" 1,").append(new String[] {"\n", "\r\n", "\r"}[r.nextInt(3)]);
                }
                String where = "line " + (lines + 1) + ", column 3";
                String replay = "case seed " + seed + ": \"" + shown(text + "  ?]") + "\"";
                String json = text + "  x]";
                run.check(replay, JSON_SOURCE, m -> m.contains(where), () -> Json.parse(json, JSON_SOURCE),
                        got -> "accepted a stray character");
                Path file = tmp.resolve("lines-" + seed + ".json");
                Files.write(file, ReaderFuzz.insert(text.toString().getBytes(StandardCharsets.US_ASCII),
                        text.length(), new byte[] {' ', ' ', (byte) 0xff, ']'}));
                run.check(replay + " as a file, ? a byte 0xff", file.toString(), m -> m.contains("line " + (lines + 1)),
                        () -> GoldenCase.readJson(file), got -> "accepted a byte that is not UTF-8");
            }
            run.assertNoFailures();
        });
    }

    static final String GOLDEN_SOURCE = "fuzz-golden.json";

    /**
     * Loss-case documents (GoldenCase.parse) written here, valid, then one value removed, replaced (text, null,
     * booleans, objects, empty and ragged arrays, 0, negatives, 1e308, beyond float32, subnormal), repeated or added
     * at random. An accepted document must give back the values written; a refusal must name the case (or say what
     * the whole document lacks).
     */
    @Test
    void goldenCaseDocumentsDamagedAtRandom() {
        Predicate<String> place = m -> Pattern.compile("case \\d+").matcher(m).find()
                || m.contains("expected an object with a \"cases\" array") || m.contains("is not part of a loss-cases")
                || m.contains("the \"cases\" array is empty");
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("GoldenCase");
            for (long seed : caseSeeds(2000)) {
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder log = new StringBuilder("case seed " + seed + ":");
                Map<String, Object> doc = new LinkedHashMap<>();
                List<Object> cases = new ArrayList<>();
                for (int c = 0, n = 1 + r.nextInt(2); c < n; c++) {
                    cases.add(lossCase(r));
                }
                doc.put("cases", cases);
                int mutations = 1 + r.nextInt(2);
                for (int m = 0; m < mutations; m++) {
                    mutateTree(doc, r, log);
                }
                String text = json(doc, r);
                run.check(log.toString(), GOLDEN_SOURCE, place, () -> GoldenCase.parse(text, GOLDEN_SOURCE),
                        got -> goldenCaseProblem(doc, got));
            }
            run.assertNoFailures();
        });
    }

    /**
     * Deferral documents (DeferralGolden.check) written here, valid, then damaged as the loss cases are. An accepted
     * document must give one result per section present (one per rule of rewards), each ok exactly when it has no
     * mismatch and an error within the tolerance; a refusal must name the section (or what the whole document lacks).
     */
    @Test
    void deferralGoldenDocumentsDamagedAtRandom() {
        Predicate<String> place = m -> List.of("deferralLoss", "rewards", "theoryRho", "expected an object with",
                "is not a section").stream().anyMatch(m::contains);
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("DeferralGolden");
            for (long seed : caseSeeds(2000)) {
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder log = new StringBuilder("case seed " + seed + ":");
                Map<String, Object> doc = deferralDocument(r);
                int mutations = 1 + r.nextInt(2);
                for (int m = 0; m < mutations; m++) {
                    mutateTree(doc, r, log);
                }
                String text = json(doc, r);
                run.check(log.toString(), GOLDEN_SOURCE, place,
                        () -> DeferralGolden.check(Json.parse(text, GOLDEN_SOURCE), GOLDEN_SOURCE),
                        got -> deferralProblem(doc, got));
            }
            run.assertNoFailures();
        });
    }

    /**
     * Golden files (GoldenCase.read): a valid loss-case document, with or without a byte-order mark, gzipped at
     * times, then damaged byte by byte (bytes that are not UTF-8 among the insertions). Only refusals are checked
     * here (the values are, for documents damaged value by value, above): each must name the file and a line and
     * column, a byte offset, a case, or the gzip layer.
     */
    @Test
    void goldenFilesDamagedByteByByte() {
        Predicate<String> place = m -> JSON_PLACE.test(m) || Pattern.compile("case \\d+|byte offset \\d+").matcher(m)
                .find() || m.contains("gzip") || m.contains("expected an object with a \"cases\" array")
                || m.contains("is not part of a loss-cases") || m.contains("the \"cases\" array is empty");
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            ReaderFuzz.Run run = new ReaderFuzz.Run("GoldenCase.read (files)");
            for (long seed : caseSeeds(600)) {
                SplittableRandom r = new SplittableRandom(seed);
                StringBuilder log = new StringBuilder("case seed " + seed + ":");
                String text = (r.nextBoolean() ? "\uFEFF" : "") + json(Map.of("cases", List.of(lossCase(r))), r);
                byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
                if (r.nextInt(5) == 0) {
                    log.append(" gzipped;");
                    bytes = gzip(bytes);
                }
                for (int m = 0, n = 1 + r.nextInt(2); m < n; m++) {
                    bytes = mutateBytes(bytes, r, log);
                }
                Path file = tmp.resolve("golden-" + seed + ".json");
                Files.write(file, bytes);
                run.check(log.toString(), file.toString(), place, () -> GoldenCase.read(file), got -> null);
                Files.delete(file);
            }
            run.assertNoFailures();
        });
    }

    static Map<String, Object> lossCase(SplittableRandom r) {
        int p = 1 + r.nextInt(3);
        int rows = 1 + r.nextInt(3);
        Map<String, Object> c = new LinkedHashMap<>();
        if (r.nextBoolean()) {
            c.put("name", "c" + r.nextInt(10));
        }
        c.put("nu", new double[] {0.5, 1.0, 2.0}[r.nextInt(3)]);
        c.put("rho", numbers(r, p, 0.25, 2));
        if (r.nextBoolean()) {
            c.put("delta", null);
        }
        c.put("scores", rowsOf(r, rows, p, -3, 3));
        c.put("weights", rowsOf(r, rows, p, 0, 3));
        c.put("rowLoss", numbers(r, rows, 0, 10));
        if (r.nextBoolean()) {
            c.put("meanLoss", 1.5);
        }
        c.put("gradMeanLoss", rowsOf(r, rows, p, -1, 1));
        return c;
    }

    static Map<String, Object> deferralDocument(SplittableRandom r) {
        Map<String, Object> doc = new LinkedHashMap<>();
        int p = 1 + r.nextInt(3);
        int rows = 1 + r.nextInt(3);
        if (r.nextInt(3) > 0) {
            Map<String, Object> loss = new LinkedHashMap<>();
            loss.put("scores", rowsOf(r, rows, p, -3, 3));
            loss.put("costs", rowsOf(r, rows, p, 0, 2));
            List<Object> choice = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                choice.add((double) r.nextInt(p));
            }
            loss.put("choice", choice);
            loss.put("rowLoss", numbers(r, rows, 0, 2));
            loss.put("meanLoss", 1.0);
            doc.put("deferralLoss", loss);
        }
        if (r.nextInt(3) > 0) {
            Map<String, Object> rewards = new LinkedHashMap<>();
            rewards.put("costs", rowsOf(r, rows, p, 0, 2));
            for (String rule : List.of("sum-others", "one-minus", "realizable")) {
                if (r.nextBoolean()) {
                    rewards.put(rule, rowsOf(r, rows, p, -1, 2));
                }
            }
            rewards.putIfAbsent("one-minus", rowsOf(r, rows, p, -1, 2));
            doc.put("rewards", rewards);
        }
        if (doc.isEmpty() || r.nextBoolean()) {
            Map<String, Object> rho = new LinkedHashMap<>();
            List<Object> labels = new ArrayList<>();
            for (int i = 0; i < rows + 2; i++) {
                labels.add((double) r.nextInt(p));
            }
            rho.put("labels", labels);
            rho.put("norms", numbers(r, rows + 2, 0.5, 2));
            rho.put("p", (double) p);
            rho.put("rhoBar", 1.0);
            rho.put("rho", numbers(r, p, 0, 1));
            doc.put("theoryRho", rho);
        }
        return doc;
    }

    static List<Object> numbers(SplittableRandom r, int n, double from, double to) {
        List<Object> v = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            v.add(Math.round((from + (to - from) * r.nextDouble()) * 64) / 64.0);
        }
        return v;
    }

    static List<Object> rowsOf(SplittableRandom r, int rows, int p, double from, double to) {
        List<Object> m = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            m.add(numbers(r, p, from, to));
        }
        return m;
    }

    /** Values a damaged document holds where another value was. */
    static final Object[] REPLACEMENTS = {"1.0", "", null, true, false, 0.0, -0.0, -1.0, 0.5, 2.0, 3.0, 1e308, -1e308,
        3.5e38, 1e-320, 1e10, 2.5, 1e6};

    /**
     * One random change of a document tree: a value (anywhere) removed, replaced by one of {@link #REPLACEMENTS} or
     * an empty or ragged array or object, repeated, or a key added.
     */
    @SuppressWarnings("unchecked")
    static void mutateTree(Object root, SplittableRandom r, StringBuilder log) {
        List<Object[]> slots = new ArrayList<>();   // {container, key or index, path}
        collectSlots(root, "", slots);
        if (slots.isEmpty()) {
            log.append(" nothing left to change;");
            return;
        }
        Object[] slot = slots.get(r.nextInt(slots.size()));
        Object container = slot[0];
        String path = (String) slot[2];
        int op = r.nextInt(5);
        Object replacement = switch (r.nextInt(5)) {
            case 0 -> new ArrayList<>();
            case 1 -> new LinkedHashMap<>();
            case 2 -> new ArrayList<>(List.of(new ArrayList<>(List.of(1.0)), new ArrayList<>()));
            default -> REPLACEMENTS[r.nextInt(REPLACEMENTS.length)];
        };
        if (container instanceof Map<?, ?> m) {
            Map<String, Object> map = (Map<String, Object>) m;
            String key = (String) slot[1];
            if (op == 0) {
                log.append(' ').append(path).append(" removed;");
                map.remove(key);
            } else if (op == 1) {
                log.append(" key \"extra\" added beside ").append(path).append(';');
                map.put("extra", 1.0);
            } else {
                log.append(' ').append(path).append(" set to ").append(replacement).append(';');
                map.put(key, replacement);
            }
        } else {
            List<Object> list = (List<Object>) container;
            int i = (Integer) slot[1];
            if (op == 0) {
                log.append(' ').append(path).append(" removed;");
                list.remove(i);
            } else if (op == 1) {
                log.append(' ').append(path).append(" repeated;");
                list.add(i, copy(list.get(i)));
            } else {
                log.append(' ').append(path).append(" set to ").append(replacement).append(';');
                list.set(i, replacement);
            }
        }
    }

    private static void collectSlots(Object v, String path, List<Object[]> slots) {
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String at = path + "." + e.getKey();
                slots.add(new Object[] {m, e.getKey(), at});
                collectSlots(e.getValue(), at, slots);
            }
        } else if (v instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                String at = path + "[" + i + "]";
                slots.add(new Object[] {l, i, at});
                collectSlots(l.get(i), at, slots);
            }
        }
    }

    private static Object copy(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> c = new LinkedHashMap<>();
            m.forEach((k, x) -> c.put(k, copy(x)));
            return c;
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l.stream().map(ReaderFuzzTest::copy).toList());
        }
        return v;
    }

    /** The cases of an accepted loss-case document against the values written. */
    static String goldenCaseProblem(Map<String, Object> doc, List<GoldenCase> got) {
        List<?> cases = (List<?>) doc.get("cases");
        if (got.size() != cases.size()) {
            return got.size() + " cases, the document has " + cases.size();
        }
        for (int c = 0; c < cases.size(); c++) {
            Map<?, ?> m = (Map<?, ?>) cases.get(c);
            GoldenCase g = got.get(c);
            double[] scores = flat(m.get("scores"));
            double[] weights = flat(m.get("weights"));
            List<String> problems = new ArrayList<>();
            if (!g.name().equals(m.get("name") instanceof String s ? s : "case-" + c)) {
                problems.add("name " + g.name());
            }
            if (g.config().experts() != ((List<?>) m.get("rho")).size()
                    || g.rows() != ((List<?>) m.get("scores")).size()) {
                problems.add(g.rows() + " rows of " + g.config().experts() + " experts");
            }
            if (!Arrays.equals(g.scores64(), scores) || !Arrays.equals(g.weights64(), weights)
                    || !Arrays.equals(g.scores(), floats(scores)) || !Arrays.equals(g.weights(), floats(weights))) {
                problems.add("scores or weights");
            }
            if (!Arrays.equals(g.rowLoss(), flat(m.get("rowLoss")))
                    || !Arrays.equals(g.gradMeanLoss(), flat(m.get("gradMeanLoss")))) {
                problems.add("rowLoss or gradMeanLoss");
            }
            double mean = m.get("meanLoss") == null ? Double.NaN : (Double) m.get("meanLoss");
            if (Double.compare(g.meanLoss(), mean) != 0) {
                problems.add("meanLoss " + g.meanLoss());
            }
            if (!problems.isEmpty()) {
                return "case " + c + " differs from the document in " + problems;
            }
        }
        return null;
    }

    /** A number, an array of numbers or an array of arrays of numbers, flattened (a cast fails on anything else). */
    static double[] flat(Object v) {
        if (v instanceof List<?> l) {
            return l.stream().flatMapToDouble(x -> Arrays.stream(flat(x))).toArray();
        }
        return new double[] {(Double) v};
    }

    static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    /** The results of an accepted deferral document: one per section (per rule of rewards), ok as defined. */
    static String deferralProblem(Map<String, Object> doc, List<DeferralGolden.Result> got) {
        List<String> expected = new ArrayList<>();
        if (doc.containsKey("deferralLoss")) {
            expected.add("deferralLoss");
        }
        if (doc.get("rewards") instanceof Map<?, ?> rewards) {
            rewards.keySet().stream().filter(k -> !k.equals("costs")).forEach(k -> expected.add("rewards/" + k));
        }
        if (doc.containsKey("theoryRho")) {
            expected.add("theoryRho");
        }
        List<String> names = got.stream().map(DeferralGolden.Result::caseName).toList();
        if (!names.equals(expected)) {
            return "results " + names + ", the document's sections are " + expected;
        }
        for (DeferralGolden.Result result : got) {
            if (Double.isNaN(result.maxAbsErr()) || result.ok() != (result.mismatches() == 0
                    && result.maxAbsErr() <= DeferralGolden.TOLERANCE)) {
                return "result " + result;
            }
        }
        return null;
    }

    // ---- JSON written here ---------------------------------------------------------------------------------

    static final String[] JSON_CHARACTERS = {"a", "Z", " ", "\u00e9", "\u4e2d", "\ud83d\ude00", "\u0000", "\u001f",
        "\"", "\\", "/", "\n", "\t", "\u2028", "\u007f", "\uFEFF", "\ud800"};
    static final double[] JSON_NUMBERS = {0.0, -0.0, 1.0, -2.5, 1e308, -1e-308, 4.9e-324, 0.1, 123456789.0, 1e21,
        1.7976931348623157e308, 3.0e-5};
    static final String[] JSON_SPACES = {"", "", " ", "\t", "\n", "\r\n", "\r", "  \n\t "};

    /** A random JSON value: objects and arrays (up to 4 deep), strings, numbers, booleans and null. */
    static Object randomJson(SplittableRandom r, int depth) {
        switch (r.nextInt(depth >= 4 ? 4 : 6)) {
            case 0 -> {
                StringBuilder sb = new StringBuilder();
                for (int i = 0, n = r.nextInt(6); i < n; i++) {
                    sb.append(JSON_CHARACTERS[r.nextInt(JSON_CHARACTERS.length)]);
                }
                return sb.toString();
            }
            case 1 -> {
                return r.nextBoolean() ? JSON_NUMBERS[r.nextInt(JSON_NUMBERS.length)]
                        : (double) Math.round(r.nextGaussian() * 1000) / 8;
            }
            case 2 -> {
                return r.nextBoolean();
            }
            case 3 -> {
                return null;
            }
            case 4 -> {
                List<Object> list = new ArrayList<>();
                for (int i = 0, n = r.nextInt(4); i < n; i++) {
                    list.add(randomJson(r, depth + 1));
                }
                return list;
            }
            default -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = 0, n = r.nextInt(4); i < n; i++) {
                    map.put((String) randomJsonString(r), randomJson(r, depth + 1));
                }
                return map;
            }
        }
    }

    private static Object randomJsonString(SplittableRandom r) {
        return "k" + r.nextInt(20) + JSON_CHARACTERS[r.nextInt(JSON_CHARACTERS.length)];
    }

    /**
     * JSON text of a value of the types above (and {@link RawNumber}s), written as RFC 8259 allows it in several
     * ways: any JSON whitespace between tokens, numbers as Double.toString, BigDecimal or whole numbers write them,
     * characters raw or escaped.
     */
    static String json(Object v, SplittableRandom r) {
        StringBuilder sb = new StringBuilder();
        writeJson(v, r, sb);
        return sb.toString();
    }

    private static void writeJson(Object v, SplittableRandom r, StringBuilder sb) {
        sb.append(JSON_SPACES[r.nextInt(JSON_SPACES.length)]);
        if (v instanceof Map<?, ?> m) {
            sb.append('{');
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(i++ == 0 ? "" : ",");
                writeJson(e.getKey(), r, sb);
                sb.append(JSON_SPACES[r.nextInt(JSON_SPACES.length)]).append(':');
                writeJson(e.getValue(), r, sb);
            }
            sb.append(JSON_SPACES[r.nextInt(JSON_SPACES.length)]).append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                sb.append(i == 0 ? "" : ",");
                writeJson(l.get(i), r, sb);
            }
            sb.append(JSON_SPACES[r.nextInt(JSON_SPACES.length)]).append(']');
        } else if (v instanceof String s) {
            sb.append('"');
            for (char c : s.toCharArray()) {
                int way = r.nextInt(4);
                if (way == 1 && (c == '\n' || c == '"' || c == '\\' || c == '/')) {
                    sb.append('\\').append(c == '\n' ? 'n' : c);
                } else if (c == '"' || c == '\\' || c < 0x20 || way == 0) {
                    sb.append(String.format(r.nextBoolean() ? "\\u%04x" : "\\u%04X", (int) c));
                } else {
                    sb.append(c);
                }
            }
            sb.append('"');
        } else if (v instanceof Double d) {
            int way = r.nextInt(3);
            if (way == 1 && !d.equals(-0.0)) {
                sb.append(new java.math.BigDecimal(d));   // its exact decimal value, e.g. 0.1000000000000000055511...
            } else if (way == 2 && d == Math.rint(d) && Math.abs(d) < 1e15 && !d.equals(-0.0)) {
                sb.append((long) (double) d);
            } else {
                sb.append(d);
            }
        } else if (v instanceof RawNumber n) {
            sb.append(n.text());
        } else {
            sb.append(v);   // true, false, null
        }
        sb.append(JSON_SPACES[r.nextInt(JSON_SPACES.length)]);
    }

    // ---- the CSV oracle ------------------------------------------------------------------------------------

    /** A plain decimal as the class javadoc of CsvReader and the README define it: ASCII digits, no other forms. */
    static final Pattern PLAIN_DECIMAL = Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");

    /**
     * What the documented rules make of an accepted CSV text, compared with what the reader returned; null when they
     * agree. Parsed here without the reader: lines end at LF, CR or CR LF; a leading byte-order mark is dropped;
     * blank lines are skipped; cells are split at commas and stripped of spaces and tabs;
     * header names lose surrounding double quotes; numbers are plain decimals, read by Float.parseFloat (features)
     * or Double.parseDouble.
     */
    static String csvProblem(byte[] bytes, Dataset got) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        String[] lines = text.split("\r\n|\r|\n", -1);
        int h = 0;
        while (h < lines.length && blank(lines[h])) {
            h++;
        }
        if (h == lines.length) {
            return "the text has no header line";
        }
        String[] header = lines[h].split(",", -1);
        List<String> features = new ArrayList<>();
        List<String> experts = new ArrayList<>();
        for (int c = 0; c < header.length; c++) {
            String name = strip(header[c]);
            if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
                name = strip(name.substring(1, name.length() - 1));
            }
            header[c] = name;
            if (name.startsWith("cost:") || name.startsWith("pred:")) {
                experts.add(strip(name.substring(5)));
            } else if (!name.equals("label")) {
                features.add(name);
            }
        }
        List<Float> x = new ArrayList<>();
        List<Double> costs = new ArrayList<>();
        List<Integer> classes = new ArrayList<>();   // labels and predictions, in file order
        List<Integer> rowLines = new ArrayList<>();
        for (int i = h + 1; i < lines.length; i++) {
            if (blank(lines[i])) {
                continue;
            }
            String[] cells = lines[i].split(",", -1);
            if (cells.length != header.length) {
                return "line " + (i + 1) + " has " + cells.length + " cells, the header " + header.length;
            }
            for (int c = 0; c < cells.length; c++) {
                String cell = strip(cells[c]);
                if (!PLAIN_DECIMAL.matcher(cell).matches()) {
                    return "line " + (i + 1) + ", column " + (c + 1) + ": \"" + shown(cell)
                            + "\" is not a plain decimal";
                }
                if (header[c].startsWith("cost:")) {
                    costs.add(Double.parseDouble(cell));
                } else if (header[c].equals("label") || header[c].startsWith("pred:")) {
                    classes.add((int) Double.parseDouble(cell));
                } else {
                    x.add(Float.parseFloat(cell));
                }
            }
            rowLines.add(i + 1);
        }
        if (got.rows() != rowLines.size()) {
            return got.rows() + " rows, the text has " + rowLines.size();
        }
        if (!got.featureNames().equals(features) || !got.experts().equals(experts)) {
            return "features " + got.featureNames() + " and experts " + got.experts() + ", the header has " + features
                    + " and " + experts;
        }
        if (!Arrays.equals(got.lines(), rowLines.stream().mapToInt(Integer::intValue).toArray())) {
            return "row lines " + Arrays.toString(got.lines()) + ", the text's are " + rowLines;
        }
        for (int i = 0; i < x.size(); i++) {
            if (Float.floatToIntBits(got.features()[i]) != Float.floatToIntBits(x.get(i))) {
                return "feature value " + i + " is " + got.features()[i] + ", the text says " + x.get(i);
            }
        }
        double[] gotCosts = got.costs() == null ? new double[0] : got.costs();
        if (!Arrays.equals(gotCosts, costs.stream().mapToDouble(Double::doubleValue).toArray())) {
            return "costs " + Arrays.toString(gotCosts) + ", the text's are " + costs;
        }
        List<Integer> gotClasses = new ArrayList<>();
        for (int i = 0; i < got.rows(); i++) {
            for (int c = 0, k = 0; c < header.length; c++) {
                if (header[c].equals("label")) {
                    gotClasses.add(got.labels()[i]);
                } else if (header[c].startsWith("pred:")) {
                    gotClasses.add(got.predictions()[i * experts.size() + k++]);
                }
            }
        }
        return gotClasses.equals(classes) ? null
                : "labels and predictions " + gotClasses + ", the text's are " + classes;
    }

    /** Blank as Java defines it (String.isBlank: whitespace only): such a line holds no value to lose. */
    static boolean blank(String line) {
        return line.isBlank();
    }

    /** Without the spaces and tabs around it. */
    static String strip(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
            to--;
        }
        return s.substring(from, to);
    }
}
