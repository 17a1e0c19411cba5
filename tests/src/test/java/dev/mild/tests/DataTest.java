package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mild.InvalidInputException;
import dev.mild.data.CsvReader;
import dev.mild.data.DataFiles;
import dev.mild.data.Dataset;
import dev.mild.data.Decimal;
import dev.mild.data.IdxReader;
import dev.mild.data.LineReader;
import dev.mild.defer.Rewards;
import dev.mild.io.Json;
import dev.mild.router.Evaluation;
import dev.mild.router.ExpertSetup;
import dev.mild.router.RouterTraining;
import dev.mild.router.Standardizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading CSV (plain and gzipped) and IDX files, and every kind of bad input, named by file, line and column. */
class DataTest {

    /**
     * Binary data with no newline, such as /dev/zero given as --data, was read as one endless first line until
     * the heap ran out (and then called too large for memory); its NUL bytes are now refused from the first
     * bytes. Here 64 MB of zeros stand for the endless device: the old reader took all of them into one line
     * before refusing it.
     */
    @Test
    void binaryDataIsRefusedFromItsFirstBytes() {
        long[] consumed = {0};
        java.io.InputStream zeros = new java.io.InputStream() {
            @Override
            public int read() {
                if (consumed[0] >= 64 << 20) {
                    return -1;
                }
                consumed[0]++;
                return 0;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                int n = (int) Math.min(len, (64 << 20) - consumed[0]);
                if (n <= 0) {
                    return -1;
                }
                java.util.Arrays.fill(b, off, off + n, (byte) 0);
                consumed[0] += n;
                return n;
            }
        };
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> CsvReader.read(new java.io.BufferedInputStream(zeros), "zeros"));
        assertEquals("zeros, line 1, column 1: a NUL byte, which CSV text never holds: is this a file saved as"
                + " UTF-16 (save it as UTF-8), or not text at all?", e.getMessage());
        assertTrue(consumed[0] <= 1 << 20, consumed[0] + " bytes read before the refusal");
        Path dev = Path.of("/dev/zero");
        if (Files.isReadable(dev)) {
            InvalidInputException fromFile = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(InvalidInputException.class, () -> DataFiles.read(dev)));
            assertTrue(fromFile.getMessage().startsWith("/dev/zero, line 1, column 1: a NUL byte"), fromFile.getMessage());
        }
    }

    /**
     * Text without newlines (files joined into one line, {@code yes 1, | tr -d '\n'} given as --data) has no NUL to
     * refuse it by, and was read as one endless line until the heap ran out. A line longer than
     * {@link LineReader#MAX_LINE_CHARS} is now refused once that much is read: here an endless second line stops
     * after the limit and a buffer or two (the old reader read on, and took all 3 GB of such a file).
     */
    @Test
    void anEndlessLineOfTextStopsAtTheLineLimit() throws IOException {
        long[] consumed = {0};
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CsvReader.read(
                new java.io.BufferedInputStream(endlessLine("a,cost:e\n", consumed, 3L << 30)), "joined.csv"));
        assertEquals("joined.csv, line 2: the line is longer than 67108864 characters: is this a CSV file with one"
                + " row per line?", e.getMessage());
        assertEquals(64 << 20, LineReader.MAX_LINE_CHARS);
        assertTrue(consumed[0] > 64 << 20 && consumed[0] <= (64 << 20) + (1 << 20),
                consumed[0] + " bytes read before the refusal");
        // A line of exactly the limit is read: the limit is the longest line, not one past it.
        LineReader lines = new LineReader(endlessLine("", new long[1], LineReader.MAX_LINE_CHARS), "longest");
        assertEquals(LineReader.MAX_LINE_CHARS, lines.readLine().length());
        assertNull(lines.readLine());
    }

    /**
     * ready() after a line that ended at \r, with the \n of that \r\n alone in the stream (split between two
     * reads): nothing else can be read without waiting, so it says false; it said true for the lone line feed, and
     * route then waited for the next line without answering the last. Each read here returns one of the chunks,
     * and available() counts what the next read returns once the second chunk has "arrived", after the first line
     * is read (before, the decoder would take both chunks in one read).
     */
    @Test
    void aLineFeedThatEndsTheLastLineIsNotMoreInput() throws IOException {
        for (List<String> chunks : List.of(List.of("a\r", "\n"), List.of("a\r", "\nb\n"), List.of("a\r", "\r\n"))) {
            java.util.ArrayDeque<byte[]> left = new java.util.ArrayDeque<>();
            boolean[] arrived = new boolean[1];
            chunks.forEach(c -> left.add(c.getBytes(StandardCharsets.UTF_8)));
            java.io.InputStream in = new java.io.InputStream() {
                @Override
                public int read() {
                    throw new AssertionError("read in chunks only");
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    byte[] c = left.poll();
                    if (c == null) {
                        return -1;
                    }
                    System.arraycopy(c, 0, b, off, c.length);
                    return c.length;
                }

                @Override
                public int available() {
                    return left.isEmpty() || left.size() == chunks.size() - 1 && !arrived[0] ? 0 : left.peek().length;
                }
            };
            LineReader lines = new LineReader(in, "t");
            assertEquals("a", lines.readLine());
            arrived[0] = true;
            boolean more = chunks.get(1).length() > 1;   // "\nb\n" holds a line, "\r\n" a blank one; "\n" nothing
            assertEquals(more, lines.ready(), chunks.toString());
            assertEquals(more ? chunks.get(1).strip() : null, lines.readLine(), chunks.toString());
        }
    }

    /**
     * LineReader ends lines where BufferedReader.readLine did, which read the files before it: at \n, \r and
     * \r\n, also when a \r\n is split between two reads (input trickling in a byte at a time, as from a pipe),
     * and a last line without a line end.
     */
    @Test
    void linesEndWhereBufferedReaderEndedThem() throws IOException {
        String pad = "x".repeat((1 << 16) - 1);   // the \r at the end of LineReader's buffer
        for (String text : List.of("", "\n", "a", "a\n", "a\r\nb\rc\n\nd", "a\r\r\nb\r", "\r\n\r\n",
                "\u00e9\r\n\u20ac", pad + "\r\nb", "y" + pad + "\r\nb\r\n")) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            for (boolean trickle : new boolean[] {false, true}) {
                java.io.InputStream in = new java.io.ByteArrayInputStream(bytes);
                if (trickle) {
                    in = new java.io.FilterInputStream(in) {
                        @Override
                        public int read(byte[] b, int off, int len) throws IOException {
                            return super.read(b, off, Math.min(len, 1));
                        }

                        @Override
                        public int available() {
                            return 0;
                        }
                    };
                }
                java.io.BufferedReader expected = new java.io.BufferedReader(new java.io.StringReader(text));
                LineReader lines = new LineReader(in, "t");
                int n = 0;
                String want;
                do {
                    want = expected.readLine();
                    assertEquals(want, lines.readLine(), "line " + (n + 1) + " of " + text.length() + " characters"
                            + (trickle ? ", a byte at a time" : ""));
                    n += want == null ? 0 : 1;
                } while (want != null);
                assertEquals(n, lines.lineNumber());
            }
        }
    }

    /**
     * {@code head} (ASCII), then "1," without end, or until {@code limit} bytes in all; {@code consumed[0]} counts
     * the bytes read. Shared with {@link CliTest}.
     */
    static java.io.InputStream endlessLine(String head, long[] consumed, long limit) {
        byte[] first = head.getBytes(StandardCharsets.US_ASCII);
        return new java.io.InputStream() {
            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0];
            }

            @Override
            public int read(byte[] b, int off, int len) {
                int n = (int) Math.min(len, limit - consumed[0]);
                if (n <= 0) {
                    return -1;
                }
                for (int i = 0; i < n; i++) {
                    long at = consumed[0] + i;
                    b[off + i] = at < first.length ? first[(int) at] : (at - first.length) % 2 == 0 ? (byte) '1' : (byte) ',';
                }
                consumed[0] += n;
                return n;
            }
        };
    }

    /** That check, on the first bytes, counts the columns before the NUL as the line-by-line one does. */
    @Test
    void aNulInALongFirstLineIsPlacedByColumn() {
        byte[] text = ("a,b,c" + ",x".repeat(20_000) + "\0").getBytes(StandardCharsets.UTF_8); // within 64 KB
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> CsvReader.read(new java.io.BufferedInputStream(new java.io.ByteArrayInputStream(text)), "long"));
        assertTrue(e.getMessage().startsWith("long, line 1, column 20003: a NUL byte"), e.getMessage());
    }
    @TempDir
    Path tmp;

    /** Writes {@code text} to file {@code name} in {@code dir} (shared with {@link TrainChecksTest}). */
    static Path write(Path dir, String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    Path gzip(String name, byte[] bytes) throws IOException {
        Path f = tmp.resolve(name);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f))) {
            out.write(bytes);
        }
        return f;
    }

    @Test
    void readsCostColumnsPredictionsAndLabels() throws IOException {
        Path f = write(tmp, "t.csv", "x1,cost:small,x2,cost:large\n1.5,0,-2,1\n\n0.25,1,3e2,0.5\n");
        Dataset d = DataFiles.read(f);
        assertEquals(List.of("x1", "x2"), d.featureNames());
        assertEquals(List.of("small", "large"), d.experts());
        assertEquals(2, d.rows());
        assertArrayEquals(new float[] {1.5f, -2f, 0.25f, 300f}, d.features());
        assertArrayEquals(new double[] {0, 1, 1, 0.5}, d.costs());
        assertArrayEquals(new int[] {2, 4}, d.lines(), "line numbers count the header and blank lines");
        assertNull(d.labels());

        Path p = write(tmp, "p.csv", "label,f,pred:a,pred:b\n3,0.5,3,1\n1,0.25,2,1\n");
        Dataset dp = DataFiles.read(p);
        assertArrayEquals(new int[] {3, 1}, dp.labels());
        assertArrayEquals(new int[] {3, 1, 2, 1}, dp.predictions());
        assertEquals(4, dp.labelCount());
    }

    @Test
    void gzippedCsvIsReadDirectly() throws IOException {
        String text = "a,b,cost:e1,cost:e2\n1,2,0,1\n3,4,1,0\n";
        Dataset plain = DataFiles.read(write(tmp, "plain.csv", text));
        Dataset gz = DataFiles.read(gzip("packed.csv.gz", text.getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals(plain.features(), gz.features());
        assertArrayEquals(plain.costs(), gz.costs());
        // Detected by content, not by name.
        Dataset misnamed = DataFiles.read(gzip("misnamed.csv", text.getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals(plain.costs(), misnamed.costs());
    }

    @Test
    void badCsvNamesFileLineAndColumn() throws IOException {
        bad("ragged.csv", "a,b,cost:x\n1,2,0\n1,2\n", "ragged.csv, line 3", "2 cells but the header has 3 columns");
        bad("text.csv", "a,b,cost:x\n1,abc,0\n", "text.csv, line 2, column 2 (b)", "\"abc\" is not a number");
        bad("emptycell.csv", "a,b,cost:x\n1,,0\n", "line 2, column 2 (b)", "an empty cell is not a number");
        // A number in double quotes (a spreadsheet export): the quoting is named, not ""0.5"".
        bad("quoted.csv", "a,b,cost:x\n1,\"0.5\",0\n", "quoted.csv, line 2, column 2 (b)",
                "the quoted value \"0.5\" is read as text, not a number: values are read without quoting");
        bad("quotedcost.csv", "a,cost:x\n1,\" 1 \"\n", "quotedcost.csv, line 2, column 2 (cost:x)", "the quoted value \"1\"");
        bad("quotedtext.csv", "a,b,cost:x\n1,\"abc\",0\n", "line 2, column 2 (b)", "\"\"abc\"\" is not a number");
        bad("nan.csv", "a,cost:x,cost:y\n1,0,1\n2,NaN,0\n", "nan.csv, line 3, column 2 (cost:x)", "costs must be finite and >= 0");
        bad("negative.csv", "a,cost:x,cost:y\n1,0,-0.5\n", "negative.csv, line 2, column 3 (cost:y)", "-0.5");
        bad("inf.csv", "a,cost:x\nInfinity,0\n", "inf.csv, line 2, column 1 (a)", "not finite");
        bad("label.csv", "a,label\n1,2.5\n", "label.csv, line 2, column 2 (label)", "not a class index");
        bad("neglabel.csv", "a,label\n1,-1\n", "line 2, column 2 (label)", "not a class index");
        bad("empty.csv", "", "empty.csv", "empty file");
        bad("blank.csv", "\n\n", "blank.csv", "empty file");
        bad("header.csv", "a,b,cost:x\n", "header.csv", "no data rows");
        bad("dup.csv", "a,a,cost:x\n1,2,0\n", "dup.csv, line 1, column 2", "appears twice");
        bad("mixed.csv", "a,cost:x,pred:y,label\n1,0,1,1\n", "mixed.csv", "both cost: and pred:");
        bad("nofeature.csv", "cost:x,cost:y\n0,1\n", "nofeature.csv", "no feature column");
        bad("noname.csv", "a,cost:,b\n1,0,1\n", "noname.csv, line 1, column 2", "needs an expert name");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(tmp.resolve("absent.csv")));
        assertTrue(e.getMessage().contains("absent.csv") && e.getMessage().contains("no such file"), e.getMessage());
    }

    /**
     * A file that fails while it is being opened (here a gzip header cut short, which GZIPInputStream's
     * constructor reads) leaves no open descriptor behind: a long-lived embedder reading many files would run out.
     */
    @Test
    void aFileThatFailsWhileOpeningIsClosed() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        assumeTrue(Files.isDirectory(fds), "counts this process's open files in /proc");
        Path cut = tmp.resolve("cut.csv.gz");
        Files.write(cut, new byte[] {0x1f, (byte) 0x8b, 8});
        long before = openFiles(fds);
        for (int i = 0; i < 200; i++) {
            assertThrows(InvalidInputException.class, () -> DataFiles.read(cut));
        }
        long leaked = openFiles(fds) - before;
        assertTrue(leaked < 20, leaked + " more files open after 200 failed reads of " + cut);
    }

    /**
     * A gzip file cut short (an interrupted download or copy) is named as such, whichever file it is: it was
     * "cannot read: null" when the cut fell in the gzip header, "Unexpected end of ZLIB input stream" after it.
     */
    @Test
    void aTruncatedGzipFileIsNamedAsTruncated() throws IOException {
        String text = "a,b,cost:e1,cost:e2\n" + "1,2,0,1\n".repeat(500);
        byte[] whole = Files.readAllBytes(gzip("whole.csv.gz", text.getBytes(StandardCharsets.UTF_8)));
        for (int keep : new int[] {2, 5, whole.length / 2, whole.length - 3}) {
            Path cut = tmp.resolve("cut" + keep + ".csv.gz");
            Files.write(cut, java.util.Arrays.copyOf(whole, keep));
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(cut));
            assertTrue(e.getMessage().startsWith(cut + ": truncated: the gzip data ends early"), e.getMessage());
        }
        // The labels file beside an IDX images file too.
        byte[][] pair = idx(3, 3, false);
        Path images = gzip("cut-images-idx3-ubyte.gz", pair[0]);
        Path labels = gzip("cut-labels-idx1-ubyte.gz", pair[1]);
        Files.write(labels, java.util.Arrays.copyOf(Files.readAllBytes(labels), 6));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(images));
        assertTrue(e.getMessage().startsWith(labels + ": truncated: the gzip data ends early"), e.getMessage());
    }

    /**
     * Damaged gzip data says so: the messages were zlib's alone ("cannot read: invalid block type"), which do not
     * say that the file is damaged.
     */
    @Test
    void aDamagedGzipFileIsNamedAsDamaged() throws IOException {
        byte[] whole = Files.readAllBytes(gzip("whole.csv.gz", "a,cost:e\n1,0\n".getBytes(StandardCharsets.UTF_8)));
        Map<Integer, String> damage = Map.of(
                2, "Unsupported compression method",   // the header's method byte
                10, "invalid block type",               // the first deflate block's type bits
                whole.length - 8, "Corrupt GZIP trailer");   // the CRC32 of the data
        for (Map.Entry<Integer, String> d : damage.entrySet()) {
            byte[] bytes = whole.clone();
            bytes[d.getKey()] = (byte) 0xff;
            Path f = tmp.resolve("damaged" + d.getKey() + ".csv.gz");
            Files.write(f, bytes);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(f));
            assertEquals(f + ": corrupt gzip data (" + d.getValue() + "): the file is damaged; copy or download it"
                    + " again", e.getMessage());
        }
    }

    /**
     * Concatenated gzip members ({@code cat a.gz b.gz}) are valid gzip and read as one stream; bytes after the last
     * member that start no other were silently dropped (GZIPInputStream stops there), with the rows in them.
     */
    @Test
    void bytesAfterTheGzipDataAreAnErrorButConcatenatedMembersAreRead() throws IOException {
        // A small file, and one whose compressed data spans several of the reader's 64 KiB buffers.
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            big.append(rnd.nextInt(1_000_000)).append(',').append(rnd.nextInt(1000)).append('\n');
        }
        for (String rows : new String[] {"1,0.5\n2,0.25\n", big.toString()}) {
            byte[] head = Files.readAllBytes(gzip("head.gz", ("x,cost:e\n" + rows).getBytes(StandardCharsets.UTF_8)));
            byte[] tail = Files.readAllBytes(gzip("tail.gz", "7,0.75\n".getBytes(StandardCharsets.UTF_8)));
            int n = (int) rows.lines().count();
            Path joined = tmp.resolve("joined.csv.gz");
            Files.write(joined, concat(head, tail));
            Dataset both = DataFiles.read(joined);
            assertEquals(n + 1, both.rows());
            assertEquals(7f, both.features()[n]);
            assertEquals(0.75, both.costs()[n]);

            byte[] bigJunk = new byte[100_000];
            rnd.nextBytes(bigJunk);
            byte[] zerosThenX = new byte[600];
            zerosThenX[599] = 'x';
            byte[][] junks = {{'x'}, "junk\n".getBytes(StandardCharsets.US_ASCII), {0x1f, (byte) 0x8b, 9, 9},
                    zerosThenX, bigJunk};
            for (byte[] junk : junks) {
                for (byte[] members : new byte[][] {head, concat(head, tail)}) {
                    Path f = tmp.resolve("junk.csv.gz");
                    Files.write(f, concat(members, junk));
                    InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(f));
                    assertEquals(f + ": trailing bytes after the gzip data at byte offset " + members.length + " (they do"
                            + " not start another gzip member): the file is damaged or something was appended to it;"
                            + " copy or download it again", e.getMessage());
                }
            }
            // Zero padding after the data (tar pads to 512-byte blocks, tapes to theirs) is ignored, as gzip -d does.
            for (int zeros : new int[] {1, 512, 70_000}) {
                Path padded = tmp.resolve("padded.csv.gz");
                Files.write(padded, concat(concat(head, tail), new byte[zeros]));
                assertEquals(n + 1, DataFiles.read(padded).rows(), zeros + " zero bytes of padding");
            }
        }
        // The labels file beside a gzipped IDX images file too.
        byte[][] pair = idx(3, 3, false);
        Path images = gzip("junk-images-idx3-ubyte.gz", pair[0]);
        Path labels = gzip("junk-labels-idx1-ubyte.gz", pair[1]);
        long labelsLength = Files.size(labels);
        Files.write(labels, new byte[] {'!'}, java.nio.file.StandardOpenOption.APPEND);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(images));
        assertTrue(e.getMessage().startsWith(labels + ": trailing bytes after the gzip data at byte offset "
                + labelsLength + " "), e.getMessage());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static long openFiles(Path fds) throws IOException {
        try (var list = Files.list(fds)) {
            return list.count();
        }
    }

    /**
     * A NUL character is no CSV text: a file saved as UTF-16 (every other byte 0) or padded with zeros by a crash.
     * trim() dropped NULs around a number, so a last row of "2,1" and four zeros was read as 2,1; a UTF-16 file
     * failed on its last line as "1 cells but the header has 2 columns".
     */
    @Test
    void aNulCharacterIsNamedAsNoCsvText() throws IOException {
        bad("padded.csv", "a,cost:e\n1,0\n2,1\0\0\0\0", "padded.csv, line 3, column 2", "a NUL byte");
        Path utf16 = tmp.resolve("utf16.csv");
        Files.write(utf16, "a,cost:e\n1,0\n".getBytes(StandardCharsets.UTF_16LE));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(utf16));
        assertEquals(utf16 + ", line 1, column 1: a NUL byte, which CSV text never holds: is this a file saved as"
                + " UTF-16 (save it as UTF-8), or not text at all?", e.getMessage());
    }

    /**
     * A message quotes the cell it refuses; a damaged file's escape sequence (here one that clears the screen) or
     * a right-to-left override would reach the terminal as it is. They are shown escaped, as Java writes them.
     */
    @Test
    void controlCharactersFromAFileAreShownEscaped() throws IOException {
        Path f = write(tmp, "esc.csv", "a,cost:e\n1,0\n1\u001b[2J\u202e7,1\n");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(f));
        assertTrue(e.getMessage().contains(f + ", line 3, column 1") && e.getMessage().contains("\"1\\u001B[2J\\u202E7\""),
                e.getMessage());
        assertTrue(e.getMessage().chars().allMatch(c -> c >= 0x20 && c != 0x7f && c != 0x202e), e.getMessage());
    }

    /**
     * A header name in another encoding than UTF-8 (a Windows-1252 export) is refused: the decoder replaced its
     * byte with U+FFFD, so "temp\u00e9rature" became a feature "temp\uFFFDrature" without a word, and two
     * such names ("\u00e9", "\u00e8") were "the same column twice".
     */
    @Test
    void aHeaderNameThatIsNotUtf8IsRefused() throws IOException {
        Path latin1 = tmp.resolve("latin1.csv");
        Files.write(latin1, "x,temp\u00e9rature,cost:e\n1,2,0\n".getBytes(StandardCharsets.ISO_8859_1));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(latin1));
        assertEquals(latin1 + ", line 1, column 2: the name \"temp\uFFFDrature\" has bytes that are not UTF-8 text"
                + " (shown as \uFFFD): the file is in another encoding (Windows-1252? Latin-1?); save it as UTF-8",
                e.getMessage());
    }

    /**
     * A header name holding a character that does not show is refused as such a cell is: "a,\uFEFFb" (two files
     * joined with cat, the second's mark inside the header) made a feature "\uFEFFb" that no lookup of b found,
     * and a no-break or zero-width space gave names that print like others. Plain spaces inside a name are kept.
     */
    @Test
    void aHeaderNameWithAnInvisibleCharacterSaysWhichItIs() throws IOException {
        Path joined = write(tmp, "joined.csv", "a,\uFEFFb,cost:e\n1,2,0\n");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(joined));
        assertEquals(joined + ", line 1, column 2: the name \"\uFEFFb\" holds U+FEFF, the byte-order mark that starts"
                + " some files: were files joined, e.g. with cat? remove it", e.getMessage());
        Path nbsp = write(tmp, "nbsp.csv", "\n\"petal\u00a0width\",cost:e\n1,0\n");
        e = assertThrows(InvalidInputException.class, () -> DataFiles.read(nbsp));
        assertEquals(nbsp + ", line 2, column 1: the name \"petal\u00a0width\" holds U+00A0 NO-BREAK SPACE, which does"
                + " not show as itself: the name differs from the one you see; remove or replace it", e.getMessage());
        bad("zwsp.csv", "x,y\u200b,cost:e\n1,2,0\n", "zwsp.csv, line 1, column 2: the name",
                "holds U+200B ZERO WIDTH SPACE, which does not show as itself");
        // A tab-separated file fails at its header, and says so (it read as a tab inside one name).
        Path tsv = write(tmp, "rows.tsv", "x\ty\tcost:e\n1\t2\t0\n");
        e = assertThrows(InvalidInputException.class, () -> DataFiles.read(tsv));
        assertEquals(tsv + ", line 1, column 1: the name \"x\ty\tcost:e\" holds a tab: is the file tab-separated?"
                + " columns are separated by commas (e.g. tr '\\t' ',' < in > out.csv)", e.getMessage());
        assertEquals(List.of("petal width", "x"),
                DataFiles.read(write(tmp, "spaced.csv", "petal width,x,cost:e\n1,2,0\n")).featureNames());
    }

    /** A model file given as data (eval's --model and --data swapped) is named as one, not as text with a NUL. */
    @Test
    void aModelFileGivenAsDataIsNamedAsOne() throws IOException {
        Path f = tmp.resolve("router.mild");
        Files.write(f, new byte[] {'M', 'I', 'L', 'D', 'R', 'T', 'R', 0x1A, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(f));
        assertEquals(f + ": this is a MILD model file (from ./mild train), not a data file; give it as --model, and the"
                + " data as --data", e.getMessage());
    }

    /**
     * Characters a message cannot show plainly are named (found by fuzzing): a byte-order mark in the middle of a
     * file (two files joined with cat) read as "\"1.5\" is not a number", a no-break space as "\"2 \" is not a
     * number", a byte that is not UTF-8 as a bare "\"\uFFFD\"".
     */
    @Test
    void aCellWithAnInvisibleCharacterSaysWhichItIs() throws IOException {
        bad("joined.csv", "a,cost:e\n1,0\n\uFEFF1.5,1\n", "joined.csv, line 3, column 1 (a)",
                "is not a number (it holds U+FEFF, the byte-order mark that starts some files: were files joined, e.g."
                        + " with cat? remove it)");
        bad("nbsp.csv", "a,cost:e\n2\u00a0,0\n", "nbsp.csv, line 2, column 1 (a)",
                "\"2\u00a0\" is not a number (it holds U+00A0 NO-BREAK SPACE, which no number has)");
        Path latin1 = tmp.resolve("latin1cell.csv");
        Files.write(latin1, "a,cost:e\n1,0\n\u00b21,0\n".getBytes(StandardCharsets.ISO_8859_1));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(latin1));
        assertEquals(latin1 + ", line 3, column 1 (a): \"\uFFFD1\" is not a number (it holds bytes that are not UTF-8"
                + " text, shown as \uFFFD: the file is in another encoding (Windows-1252? Latin-1?); save it as UTF-8)",
                e.getMessage());
        // Text without such characters is described as before.
        bad("word.csv", "a,cost:e\ncaf\u00e9,0\n", "word.csv, line 2, column 1 (a)", "\"caf\u00e9\" is not a number");
    }

    /**
     * Values are read without quoting (the reader's contract): a quoted value with a comma inside is split in two,
     * and the cell count said only "4 cells but the header has 3 columns". The quotes are now named as the likely
     * reason, in a data line or as a stray quote in the header; a header of names quoted whole is read as before.
     */
    @Test
    void aCellCountThrownOffByQuotingSaysSo() throws IOException {
        bad("quotedcomma.csv", "a,b,cost:e\n1,\"2,5\",0\n", "quotedcomma.csv, line 2",
                "4 cells but the header has 3 columns (the line has double quotes: a quoted value with a comma inside is"
                        + " split there, as values are read without quoting)");
        bad("quotedname.csv", "a,\"b,c\",cost:e\n1,2,0\n", "quotedname.csv, line 2",
                "3 cells but the header has 4 columns (the header has a stray double quote: a quoted name with a comma"
                        + " inside is split there, as names are read without quoting)");
        Path f = write(tmp, "quotednames.csv", "\"a\",\"b\",\"cost:e\"\n1,2\n");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(f));
        assertEquals(f + ", line 2: 2 cells but the header has 3 columns", e.getMessage());
        assertEquals(List.of("a", "b"), DataFiles.read(write(tmp, "ok.csv", "\"a\",\"b\",\"cost:e\"\n1,2,0\n"))
                .featureNames());
    }

    /**
     * A wide header is read in time linear in its columns: each expert name was looked for among all before it, so
     * a header of 100,000 cost columns (a 1 MB line) took 40 s.
     */
    @Test
    void aHeaderOfManyExpertsIsReadInLinearTime() throws IOException {
        StringBuilder header = new StringBuilder("x");
        StringBuilder row = new StringBuilder("1");
        for (int k = 0; k < 100_000; k++) {
            header.append(",cost:e").append(k);
            row.append(",0");
        }
        Path f = write(tmp, "wide.csv", header + "\n" + row + "\n");
        Dataset d = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> DataFiles.read(f));
        assertEquals(100_000, d.experts().size());
        assertEquals("e99999", d.experts().get(99_999));
    }

    private void bad(String name, String text, String where, String what) throws IOException {
        Path f = write(tmp, name, text);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(f));
        assertTrue(e.getMessage().contains(where) && e.getMessage().contains(what),
                "expected \"" + where + "\" and \"" + what + "\" in: " + e.getMessage());
    }

    @Test
    void onlyPlainDecimalNumbersAreNumbers() throws IOException {
        // Forms Java's parsers take but a data file or an option means as a typo: float and double suffixes,
        // hexadecimal floats, a lone sign, point or exponent, digits of another script.
        for (String typo : List.of("1f", "2d", "2.5F", "0x1p3", "0x10", "1e", "1e+", "+", "-", ".", "e5", ".e1", "1.5.",
                "1,5", "\u0663", "\uff11", "NaNx", "Inf", "1 2")) {
            assertThrows(NumberFormatException.class, () -> Decimal.parseDouble(typo), typo);
            assertThrows(NumberFormatException.class, () -> Decimal.parseFloat(typo), typo);
            assertThrows(NumberFormatException.class, () -> Decimal.parseInt(typo), typo);
        }
        assertEquals(-2.5e-3, Decimal.parseDouble("-2.5e-3"));
        assertEquals(0.5, Decimal.parseDouble(".5"));
        assertEquals(3.0, Decimal.parseDouble("3."));
        assertEquals(1500.0, Decimal.parseDouble("+1.5E+3"));
        assertEquals(0.1f, Decimal.parseFloat("0.1"), "rounded once, to the nearest float");
        assertEquals(-42, Decimal.parseInt("-42"));
        assertEquals(7, Decimal.parseInt("+7"));
        assertThrows(NumberFormatException.class, () -> Decimal.parseInt("1.0"));
        assertThrows(NumberFormatException.class, () -> Decimal.parseInt("1e3"));
        assertTrue(Double.isNaN(Decimal.parseDouble("NaN")), "left to the caller, which says \"not finite\"");
        assertEquals(Double.NEGATIVE_INFINITY, Decimal.parseDouble("-Infinity"));

        bad("suffix.csv", "x,cost:a,cost:b\n1,0,1\n1f,1,0\n", "suffix.csv, line 3, column 1 (x)", "\"1f\" is not a number");
        bad("hexcost.csv", "x,cost:a,cost:b\n1,0,0x1p0\n", "hexcost.csv, line 2, column 3 (cost:b)",
                "\"0x1p0\" is not a number");
        bad("nan.csv", "x,cost:a\nNaN,0\n", "nan.csv, line 2, column 1 (x)", "not finite");
    }

    @Test
    void jsonNestingIsLimitedAndNamesLineAndColumn() {
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Object v = Json.parse(ok, "ok.json");
        for (int i = 1; i < Json.MAX_DEPTH; i++) {
            v = ((List<?>) v).get(0);
        }
        assertEquals(List.of(), v, "512 levels are read");
        // One level more, or 200,000: a clear error at the bracket that is too deep, not a StackOverflowError.
        for (String text : List.of("[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1),
                "\n  " + "[".repeat(200_000), "{\"a\": ".repeat(600))) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Json.parse(text, "deep.json"));
            assertTrue(e.getMessage().contains("deep.json: line ") && e.getMessage().contains("deeper than 512"),
                    e.getMessage());
        }
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Json.parse("\n  " + "[".repeat(200_000), "deep.json"));
        assertTrue(e.getMessage().contains("line 2, column 515"), e.getMessage());
    }

    @Test
    void jsonNumbersTakeOnlyAsciiDigits() {
        assertEquals(List.of(10.0, -0.5, 2e3), Json.parse("[10, -0.5, 2E+3]", "n.json"));
        // U+0661 (ARABIC-INDIC DIGIT ONE) is a digit to Character.isDigit, not to JSON.
        String arabic = "\u0661";
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Json.parse("[1" + arabic + "]", "n.json"));
        assertTrue(e.getMessage().contains("n.json: line 1, column 3"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> Json.parse("{\"x\":\n -" + arabic + "}", "n.json"));
        assertTrue(e.getMessage().contains("n.json: line 2, column 3") && e.getMessage().contains("expected a digit"),
                e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> Json.parse("1.2" + arabic, "n.json"));
        assertTrue(e.getMessage().contains("line 1, column 4"), e.getMessage());
        // A \\u escape is four ASCII hex digits: Integer.parseInt(.., 16) also took a sign and other scripts'
        // digits, so "\\u+041" was "A" and "\\u-041" a surrogate.
        assertEquals("Az", Json.parse("\"\\u0041\\u007A\"", "s.json"));
        for (String escape : List.of("\\u+041", "\\u-041", "\\u004" + arabic, "\\u00\uff14\uff11")) {
            e = assertThrows(InvalidInputException.class, () -> Json.parse("\"" + escape + "\"", "s.json"), escape);
            assertTrue(e.getMessage().contains("s.json: line 1") && e.getMessage().contains("bad \\u escape"),
                    e.getMessage());
        }
    }

    @Test
    void aLeadingByteOrderMarkIsSkipped() throws IOException {
        String text = "cost:a,cost:b,x1,x2\n0,1,0.5,0.25\n";
        for (String prefix : List.of("\uFEFF", "\uFEFF\n\n")) {
            Dataset d = DataFiles.read(write(tmp, "bom.csv", prefix + text));
            assertEquals(List.of("a", "b"), d.experts());
            assertEquals(List.of("x1", "x2"), d.featureNames());
            assertArrayEquals(new double[] {0, 1}, d.costs());
        }
        // Gzipped too (the mark is in the decompressed text).
        Dataset gz = DataFiles.read(gzip("bom.csv.gz", ("\uFEFF" + text).getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of("a", "b"), gz.experts());
    }

    @Test
    void reservedColumnNamesInAnotherCaseOrSpacingAreRejected() throws IOException {
        bad("Label.csv", "x,Label,cost:a\n1,0,1\n", "Label.csv, line 1, column 2",
                "\"Label\" looks like the reserved column label");
        bad("LABEL.csv", "x,\" LABEL \",cost:a\n1,0,1\n", "LABEL.csv, line 1, column 2", "write it as label");
        bad("Cost.csv", "x,cost:a,Cost:b\n1,0,1\n", "Cost.csv, line 1, column 3", "write it as cost:b");
        bad("spaced.csv", "x,cost :a,cost:b\n1,0,1\n", "spaced.csv, line 1, column 2", "write it as cost:a");
        bad("Pred.csv", "x,label,PRED:a\n1,0,1\n", "Pred.csv, line 1, column 3", "write it as pred:a");
        bad("bom-Label.csv", "\uFEFFLabel,x,cost:a\n1,0,1\n", "bom-Label.csv, line 1, column 1", "write it as label");
        // Names that only start alike are features; exact reserved names (spaces around them trimmed) still work.
        Dataset d = DataFiles.read(write(tmp, "alike.csv", "labels,costs:a,prediction:b, label ,cost: x\n1,2,3,0,1\n"));
        assertEquals(List.of("labels", "costs:a", "prediction:b"), d.featureNames());
        assertEquals(List.of("x"), d.experts());
        assertArrayEquals(new int[] {0}, d.labels());
    }

    @Test
    void valuesOutsideFloat32AreRejected() throws IOException {
        bad("bigcost.csv", "x,cost:a,cost:b\n1,0,1\n1,1e39,0\n", "bigcost.csv, line 3, column 2 (cost:a)",
                "outside the float32 range");
        bad("bigfeature.csv", "x,cost:a\n-1e39,0\n", "bigfeature.csv, line 2, column 1 (x)",
                "outside the float32 range");
        // Within float32 but so large that x - mean could overflow when standardized.
        bad("hugefeature.csv", "x,y,cost:a\n1,2e38,0\n", "hugefeature.csv, line 2, column 2 (y)", "too large");
        Dataset d = DataFiles.read(write(tmp, "edge.csv", "x,cost:a\n-1.7e38,3.4e38\n1.7e38,0\n"));
        assertArrayEquals(new float[] {-1.7e38f, 1.7e38f}, d.features());
        assertEquals(CsvReader.FEATURE_LIMIT, Float.MAX_VALUE / 2);
        // The largest features standardize to finite values.
        float[] z = Standardizer.fit(d.features(), 1, new int[] {0, 1}).apply(d.features());
        assertArrayEquals(new float[] {-1, 1}, z, 1e-6f);
    }

    /**
     * The limits themselves are accepted (found by mutation testing: only values far past them were tried). The
     * largest float32 is (2 - 2^-23) 2^127 = 3.4028234663852886E38 (Java's shortest decimal for it), the feature
     * limit half of it, (2 - 2^-23) 2^126 = 1.7014117331926443E38; the next float32 above the feature limit is
     * refused. The largest class index is 1000000.
     */
    @Test
    void valuesExactlyAtTheLimitsAreAccepted() throws IOException {
        float maxFloat = Math.scalb(0x1.fffffep0f, 127);
        float featureLimit = Math.scalb(0x1.fffffep0f, 126);
        Dataset d = DataFiles.read(write(tmp, "limits.csv",
                "x,cost:a\n1.7014117331926443E38,3.4028234663852886E38\n-1.7014117331926443E38,0\n"));
        assertArrayEquals(new float[] {featureLimit, -featureLimit}, d.features());
        assertEquals(maxFloat, d.costs()[0]);
        bad("pastlimit.csv", "x,cost:a\n" + new java.math.BigDecimal(Math.nextUp(featureLimit)) + ",0\n",
                "pastlimit.csv, line 2, column 1 (x)", "too large in magnitude");
        Dataset labels = DataFiles.read(write(tmp, "maxlabel.csv", "x,label,pred:a\n1,1000000,1000000\n2,0,1\n"));
        assertArrayEquals(new int[] {1_000_000, 0}, labels.labels());
        bad("overlabel.csv", "x,label,pred:a\n1,1000001,0\n", "overlabel.csv, line 2, column 2 (label)",
                "label 1000001 is not a class index (a whole number 0..1000000)");
    }

    /**
     * Header damage the first-line sniffing does not see: a NUL byte in a header after a blank line (the sniff
     * looks at the first line only), an empty quoted name, and a name that starts with the decoder's stand-in for
     * bytes that are not UTF-8 (here the byte 0xFF, written by hand).
     */
    @Test
    void headerDamageAnywhereInTheHeaderIsNamed() throws IOException {
        bad("nulheader.csv", "\nx,co\0st:a\n1,0\n", "nulheader.csv, line 2, column 2", "a NUL byte");
        bad("emptyquoted.csv", "x,\"\",cost:a\n1,2,0\n", "emptyquoted.csv, line 1, column 2",
                "empty column name in the header");
        Path f = tmp.resolve("latin1.csv");
        Files.write(f, new byte[] {(byte) 0xff, 'x', ',', 'c', 'o', 's', 't', ':', 'a', '\n', '1', ',', '0', '\n'});
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(f));
        assertTrue(e.getMessage().startsWith(f + ", line 1, column 1: the name \"\uFFFDx\" has bytes that are not"
                + " UTF-8 text"), e.getMessage());
    }

    /** A sign alone, or nothing, is not a whole number (a cell "-" is not "out of range"); 20 digits are one. */
    @Test
    void wholeNumbersNeedADigit() {
        for (String notWhole : List.of("", "+", "-", "1.0", "1e3", "\u0663")) {
            assertFalse(Decimal.isWholeNumber(notWhole), notWhole);
        }
        for (String whole : List.of("0", "-7", "+12", "99999999999999999999")) {
            assertTrue(Decimal.isWholeNumber(whole), whole);
        }
    }

    @Test
    void rewardWeightsThatOverflowFloat32AreRejected() {
        // Each cost fits float32, their sum (the sum-others weight of the third expert) does not.
        double[] costs = {3e38, 3e38, 0};
        float[] weights = new float[3];
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Rewards.SUM_OTHERS.apply(costs, 1, 3, weights));
        assertTrue(e.getMessage().contains("row 0, column 2") && e.getMessage().contains("float32"), e.getMessage());
        double[] exact = new double[3];
        Rewards.SUM_OTHERS.apply(costs, 1, 3, exact);
        assertEquals(6e38, exact[2], 1e25, "float64 weights have the range");
    }

    @Test
    void standardizingAValueFarFromTheTrainingMeanIsAnError() throws IOException {
        Dataset train = DataFiles.read(write(tmp, "near.csv", "x,y,cost:a\n0,0,0\n1,1e-5,0\n"));
        Standardizer s = Standardizer.fit(train.features(), 2, new int[] {0, 1});
        // y has std 5e-6: 1e34 standardizes to 2e39, beyond float32.
        Dataset far = DataFiles.read(write(tmp, "far.csv", "x,y,cost:a\n0.5,0,0\n\n0.5,1e34,0\n"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> s.apply(far));
        assertTrue(e.getMessage().contains("far.csv, line 4, column 2 (y)") && e.getMessage().contains("1.0E34"),
                e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> s.apply(far.features()));
        assertTrue(e.getMessage().contains("row 2, feature column 2"), e.getMessage());
        assertEquals(4, s.apply(train).length, "the training rows themselves standardize");
    }

    @Test
    void missingColumnsForTheChosenExpertsAreNamed() throws IOException {
        Dataset features = DataFiles.read(write(tmp, "features.csv", "a,b\n1,2\n3,4\n"));
        RouterTraining.Spec spec = new RouterTraining.Spec();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> RouterTraining.run(features, null, null, spec, RouterTraining.Listener.SILENT));
        assertTrue(e.getMessage().contains("features.csv") && e.getMessage().contains("no expert columns"), e.getMessage());

        RouterTraining.Spec synthetic = new RouterTraining.Spec();
        synthetic.experts = ExpertSetup.Source.SYNTHETIC;
        synthetic.blocks = new int[] {1, 1};
        e = assertThrows(InvalidInputException.class, () -> RouterTraining.run(features, null, null, synthetic,
                RouterTraining.Listener.SILENT));
        assertTrue(e.getMessage().contains("features.csv") && e.getMessage().contains("needs a label column"), e.getMessage());

        Dataset preds = DataFiles.read(write(tmp, "preds.csv", "a,pred:x,pred:y\n1,0,1\n2,1,1\n"));
        e = assertThrows(InvalidInputException.class, () -> RouterTraining.run(preds, null, null, new RouterTraining.Spec(),
                RouterTraining.Listener.SILENT));
        assertTrue(e.getMessage().contains("preds.csv") && e.getMessage().contains("need a label column"), e.getMessage());
    }

    /**
     * Errors about a column name its place in the file (1-based), as the reader's do: an unknown column was named
     * by its name alone, and after alignment the data set no longer knew where its columns were in the file.
     */
    @Test
    void alignmentToAModelNamesUnknownAndMissingColumns() throws IOException {
        Dataset d = DataFiles.read(write(tmp, "other.csv", "b,label,a,cost:x,cost:y\n1,0,2,0,1\n"));
        Dataset aligned = DataFiles.align(d, List.of("a", "b"), List.of("y", "x"));
        assertArrayEquals(new float[] {2, 1}, aligned.features());
        assertArrayEquals(new double[] {1, 0}, aligned.costs());
        assertEquals("column 3 (a)", aligned.featureColumn(0));
        assertEquals("column 1 (b)", aligned.featureColumn(1));
        assertEquals("column 5 (cost:y)", aligned.expertColumn(0));
        assertEquals("column 4 (cost:x)", aligned.expertColumn(1));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> DataFiles.align(d, List.of("a", "b"), List.of("x", "z")));
        assertEquals(d.source() + ": column 5 (cost:y) names an expert the model does not know (its experts: x, z)",
                e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> DataFiles.align(d, List.of("a", "b", "c"), List.of("x", "y")));
        assertTrue(e.getMessage().contains("needs feature column \"c\""), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> DataFiles.align(d, List.of("a"), List.of("x", "y")));
        assertEquals(d.source() + ": column 1 (b) is not a feature of the model (the model's features: a)",
                e.getMessage());
        // Data made in code has no file columns: named as before.
        Dataset made = new Dataset("mine", List.of("b", "a"), new float[] {1, 2}, 1, null, List.of("x", "y"),
                new double[] {0, 1}, null, null);
        e = assertThrows(InvalidInputException.class, () -> DataFiles.align(made, List.of("a"), List.of("x", "y")));
        assertTrue(e.getMessage().startsWith("mine: column \"b\" is not a feature of the model"), e.getMessage());
        assertEquals("column cost:y", DataFiles.align(made, List.of("a", "b"), List.of("y", "x")).expertColumn(0));
    }

    @Test
    void labelsOutsideTheModelsClassesAreRejected() throws IOException {
        ExpertSetup setup = new ExpertSetup(ExpertSetup.Source.SYNTHETIC, ExpertSetup.simulatedNames(3), 10,
                new int[] {7, 2, 1}, new double[3], 1);
        Dataset d = DataFiles.read(write(tmp, "labels.csv", "f,label\n0.5,3\n0.5,12\n"));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> setup.costsFor(d, d.features(), List.of(), ExpertSetup.STREAM_TEST));
        assertTrue(e.getMessage().contains("labels.csv, line 3") && e.getMessage().contains("label 12")
                && e.getMessage().contains("0..9"), e.getMessage());
    }

    /** A tiny IDX pair written here: 3 images of 2 x 2 pixels. */
    static byte[][] idx(int images, int labels, boolean truncate) {
        ByteBuffer img = ByteBuffer.allocate(16 + images * 4);
        img.putInt(0x00000803).putInt(images).putInt(2).putInt(2);
        for (int i = 0; i < images * 4; i++) {
            img.put((byte) (i * 20));
        }
        ByteBuffer lab = ByteBuffer.allocate(8 + labels);
        lab.putInt(0x00000801).putInt(labels);
        for (int i = 0; i < labels; i++) {
            lab.put((byte) (i % 10));
        }
        byte[] im = img.array();
        if (truncate) {
            im = java.util.Arrays.copyOf(im, im.length - 2);
        }
        return new byte[][] {im, lab.array()};
    }

    /** An IDX images file written byte by byte: magic 0x00000803, count, rows, columns (big-endian), pixels. */
    private Path idxImages(String name, int n, int rows, int cols, int... pixels) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16 + pixels.length).putInt(0x00000803).putInt(n).putInt(rows).putInt(cols);
        for (int v : pixels) {
            b.put((byte) v);
        }
        return Files.write(tmp.resolve(name + "-images-idx3-ubyte"), b.array());
    }

    /** Its labels file: magic 0x00000801 (or another), count, one byte per label. */
    private Path idxLabels(String name, int magic, int n, int... labels) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length).putInt(magic).putInt(n);
        for (int v : labels) {
            b.put((byte) v);
        }
        return Files.write(tmp.resolve(name + "-labels-idx1-ubyte"), b.array());
    }

    private String idxError(Path images) {
        return assertThrows(InvalidInputException.class, () -> DataFiles.read(images)).getMessage();
    }

    /**
     * IDX files at the edges of what the header allows, written by hand (found by mutation testing: the files read
     * so far were all 2 x 2 images with whole labels files).
     */
    @Test
    void idxFilesAtTheEdgesOfTheirHeaders() throws IOException {
        // Images of a single pixel: 1 x 1 is a valid size. Pixel 255 scales to 1.
        Path one = idxImages("one", 2, 1, 1, 0, 255);
        idxLabels("one", 0x00000801, 2, 3, 7);
        Dataset d = DataFiles.read(one);
        assertEquals(1, d.d());
        assertArrayEquals(new float[] {0, 1}, d.features());
        assertArrayEquals(new int[] {3, 7}, d.labels());
        // No images (count 0) with no labels: a valid header, no data.
        Path none = idxImages("none", 0, 1, 1);
        idxLabels("none", 0x00000801, 0);
        assertEquals(none + ": no images", idxError(none));
        // One image of 1 x 2^31-1 pixels: a valid image size (its columns' high byte 0x7f), more than one array holds.
        Path wide = idxImages("wide", 1, 1, Integer.MAX_VALUE);
        assertTrue(idxError(wide).startsWith(wide + ": the header promises 1 images of 1 x 2147483647 pixels,"
                + " 2,147,483,647 pixels in all"), idxError(wide));
        // Two images of 1 x 2 are 16 + 4 = 20 bytes; one pixel is missing.
        Path cut = idxImages("cut", 2, 1, 2, 1, 2, 3);
        idxLabels("cut", 0x00000801, 2, 0, 1);
        assertEquals(cut + ": truncated: the header promises 2 images of 1 x 2 pixels (20 bytes), the file has 19"
                + " bytes", idxError(cut));
        // Labels: 8 + 2 = 10 bytes promised, 9 there.
        Path shortLabels = idxImages("shortlabels", 2, 1, 1, 1, 2);
        Path labels = idxLabels("shortlabels", 0x00000801, 2, 5);
        assertEquals(labels + ": truncated: the header promises 2 labels (10 bytes), the file has 9 bytes",
                idxError(shortLabels));
        // A labels file of just a wrong magic (4 bytes): named by its magic, not as too short.
        Path wrong = idxImages("wrong", 1, 1, 1, 9);
        Path wrongLabels = Files.write(tmp.resolve("wrong-labels-idx1-ubyte"), new byte[] {0, 0, 8, 3});
        assertTrue(idxError(wrong).startsWith(wrongLabels + ": not an IDX labels file of unsigned bytes"),
                idxError(wrong));
    }

    @Test
    void readsIdxImagesWithTheirLabelsPlainAndGzipped() throws IOException {
        byte[][] pair = idx(3, 3, false);
        Files.write(tmp.resolve("train-images-idx3-ubyte"), pair[0]);
        Files.write(tmp.resolve("train-labels-idx1-ubyte"), pair[1]);
        gzip("t10k-images-idx3-ubyte.gz", pair[0]);
        gzip("t10k-labels-idx1-ubyte.gz", pair[1]);
        for (String name : List.of("train-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz")) {
            Dataset d = DataFiles.read(tmp.resolve(name));
            assertEquals(3, d.rows());
            assertEquals(4, d.d());
            assertEquals("pixel0", d.featureNames().get(0));
            assertArrayEquals(new int[] {0, 1, 2}, d.labels());
            for (int i = 0; i < 12; i++) {
                assertEquals(((i * 20) & 0xff) / 255f, d.features()[i], "pixel " + i + " scaled to [0, 1]");
            }
        }
        assertEquals(tmp.resolve("t10k-labels-idx1-ubyte.gz"), IdxReader.labelsFileFor(tmp.resolve("t10k-images-idx3-ubyte.gz")));
    }

    @Test
    void idxLabelsAreFoundCompressedOrNot() throws IOException {
        byte[][] pair = idx(3, 3, false);
        // Images gzipped, labels unpacked beside them; and the other way round.
        gzip("x-images-idx3-ubyte.gz", pair[0]);
        Files.write(tmp.resolve("x-labels-idx1-ubyte"), pair[1]);
        Files.write(tmp.resolve("y-images-idx3-ubyte"), pair[0]);
        gzip("y-labels-idx1-ubyte.gz", pair[1]);
        for (String name : List.of("x-images-idx3-ubyte.gz", "y-images-idx3-ubyte")) {
            Dataset d = DataFiles.read(tmp.resolve(name));
            assertArrayEquals(new int[] {0, 1, 2}, d.labels(), name);
        }
        assertEquals(tmp.resolve("x-labels-idx1-ubyte"), IdxReader.labelsFileFor(tmp.resolve("x-images-idx3-ubyte.gz")));
        assertEquals(tmp.resolve("y-labels-idx1-ubyte.gz"), IdxReader.labelsFileFor(tmp.resolve("y-images-idx3-ubyte")));
        // Neither there: both names are in the message.
        gzip("z-images-idx3-ubyte.gz", pair[0]);
        idxError("z-images-idx3-ubyte.gz", "the labels file " + tmp.resolve("z-labels-idx1-ubyte.gz")
                + " is missing, and so is z-labels-idx1-ubyte ");
    }

    @Test
    void badIdxFilesAreClearErrors() throws IOException {
        byte[][] truncated = idx(3, 3, true);
        Files.write(tmp.resolve("a-images-idx3-ubyte"), truncated[0]);
        Files.write(tmp.resolve("a-labels-idx1-ubyte"), truncated[1]);
        idxError("a-images-idx3-ubyte", "truncated");

        byte[][] mismatch = idx(3, 2, false);
        Files.write(tmp.resolve("b-images-idx3-ubyte"), mismatch[0]);
        Files.write(tmp.resolve("b-labels-idx1-ubyte"), mismatch[1]);
        idxError("b-images-idx3-ubyte", "2 labels but");

        Files.write(tmp.resolve("c-images-idx3-ubyte"), idx(3, 3, false)[0]);
        idxError("c-images-idx3-ubyte", "labels file");

        Files.write(tmp.resolve("d-labels-idx1-ubyte"), idx(3, 3, false)[1]);
        Files.write(tmp.resolve("d-images-idx3-ubyte"), idx(3, 3, false)[1]);
        idxError("d-images-idx3-ubyte", "labels file; give the images file");
    }

    @Test
    void idxMessagesSayWhatIsWrong() throws IOException {
        // A labels file cut inside its header: truncated, not "wrong magic".
        byte[][] pair = idx(3, 3, false);
        Files.write(tmp.resolve("e-images-idx3-ubyte"), pair[0]);
        Files.write(tmp.resolve("e-labels-idx1-ubyte"), java.util.Arrays.copyOf(pair[1], 6));
        idxError("e-images-idx3-ubyte",
                "e-labels-idx1-ubyte: truncated: 6 bytes, but an IDX labels header alone has 8");
        // A labels file given as the data, under its own name: the labels-file message, not "cannot tell".
        Files.write(tmp.resolve("f-labels-idx1-ubyte"), pair[1]);
        idxError("f-labels-idx1-ubyte", "f-labels-idx1-ubyte: this is an IDX labels file; give the images file");
        Files.write(tmp.resolve("g-images-idx3-ubyte"), java.util.Arrays.copyOf(pair[0], 10));
        Files.write(tmp.resolve("g-labels-idx1-ubyte"), pair[1]);
        idxError("g-images-idx3-ubyte", "truncated: 10 bytes, but an IDX images header alone has 16");
    }

    /**
     * An IDX file of another type (floats) fell through to the CSV reader: "a NUL byte ... UTF-16?". Any IDX magic
     * is recognized, and the type and dimensions it names are said, before the labels file is looked for.
     */
    @Test
    void idxFilesOfAnotherTypeAreNamedAsSuch() throws IOException {
        byte[][] pair = idx(3, 3, false);
        Files.write(tmp.resolve("k-labels-idx1-ubyte"), pair[1]);
        byte[] floats = pair[0].clone();
        ByteBuffer.wrap(floats).putInt(0, 0x00000D03);
        Files.write(tmp.resolve("k-images-idx3-ubyte"), floats);
        String supported = ", which is not supported: MILD reads IDX images of unsigned bytes (magic 0x00000803) with"
                + " their labels file (magic 0x00000801)";
        idxError("k-images-idx3-ubyte", tmp.resolve("k-images-idx3-ubyte") + ": an IDX file of 4-byte floats with 3"
                + " dimensions (magic 0x00000d03)" + supported);
        // Under any name (no "images" in it to find a labels file by), and gzipped.
        gzip("doubles.idx.gz", ByteBuffer.allocate(12).putInt(0x00000E02).putInt(1).putInt(1).array());
        idxError("doubles.idx.gz", "doubles.idx.gz: an IDX file of 8-byte floats with 2 dimensions (magic 0x00000e02)"
                + supported);
        byte[] fourDimensions = pair[0].clone();
        ByteBuffer.wrap(fourDimensions).putInt(0, 0x00000804);
        Files.write(tmp.resolve("m-images-idx3-ubyte"), fourDimensions);
        idxError("m-images-idx3-ubyte", "an IDX file of unsigned bytes with 4 dimensions (magic 0x00000804)" + supported);
        // A labels file of signed bytes beside good images.
        Files.write(tmp.resolve("n-images-idx3-ubyte"), pair[0]);
        byte[] signed = pair[1].clone();
        ByteBuffer.wrap(signed).putInt(0, 0x00000901);
        Files.write(tmp.resolve("n-labels-idx1-ubyte"), signed);
        idxError("n-images-idx3-ubyte", "n-labels-idx1-ubyte: not an IDX labels file of unsigned bytes (magic"
                + " 0x00000801, the only kind supported): an IDX file of signed bytes with 1 dimension (magic 0x00000901)");
    }

    /**
     * An IDX file whose type byte was damaged into one IDX does not define went to the CSV reader, which said "a NUL
     * byte ... UTF-16 ... or not text at all?" (left by the file fuzz review). It is named as a damaged IDX file, the
     * images file and its labels file alike; a file of zeros and UTF-32 text (00 00 00 xx) are still CSV's to name.
     */
    @Test
    void anIdxFileWithADamagedTypeByteIsNamedAsSuch() throws IOException {
        byte[][] pair = idx(3, 3, false);
        byte[] damaged = pair[0].clone();
        damaged[2] = 0x07;
        Files.write(tmp.resolve("d-images-idx3-ubyte"), damaged);
        Files.write(tmp.resolve("d-labels-idx1-ubyte"), pair[1]);
        idxError("d-images-idx3-ubyte", "d-images-idx3-ubyte: an IDX file whose type byte, 0x07 (the third of magic"
                + " 0x00000703), IDX does not define: a damaged file?, which is not supported");
        gzip("d.idx.gz", damaged);
        idxError("d.idx.gz", "d.idx.gz: an IDX file whose type byte, 0x07 (the third of magic 0x00000703)");
        Files.write(tmp.resolve("e-images-idx3-ubyte"), pair[0]);
        byte[] labels = pair[1].clone();
        labels[2] = (byte) 0xff;
        Files.write(tmp.resolve("e-labels-idx1-ubyte"), labels);
        idxError("e-images-idx3-ubyte", "e-labels-idx1-ubyte: not an IDX labels file of unsigned bytes (magic 0x00000801,"
                + " the only kind supported): an IDX file whose type byte, 0xff (the third of magic 0x0000ff01), IDX does"
                + " not define: a damaged file?");
        Files.write(tmp.resolve("zeros.csv"), new byte[64]);
        idxError("zeros.csv", "a NUL byte");
        Files.write(tmp.resolve("utf32.csv"), "x,y\n1,2\n".getBytes(java.nio.charset.Charset.forName("UTF-32BE")));
        idxError("utf32.csv", "a NUL byte");
    }

    /**
     * Dimensions whose product overflows: 16 images of 2^30 x 2^30 pixels are 2^64 bytes, which wrapped to 0, so
     * a bare 16-byte header "had every pixel" and was read as 16 rows without a feature.
     */
    @Test
    void idxDimensionsTooLargeForAnImageAreRefused() throws IOException {
        Files.write(tmp.resolve("w-images-idx3-ubyte"),
                ByteBuffer.allocate(16).putInt(0x803).putInt(16).putInt(1 << 30).putInt(1 << 30).array());
        Files.write(tmp.resolve("w-labels-idx1-ubyte"), ByteBuffer.allocate(8 + 16).putInt(0x801).putInt(16).array());
        idxError("w-images-idx3-ubyte", "w-images-idx3-ubyte: bad IDX dimensions 16 x 1073741824 x 1073741824"
                + " (images of 1152921504606846976 pixels; at most 2147483647)");
    }

    /**
     * An images file past 2 GiB, whole and well formed (a sparse file: no disk used), is refused from its header with
     * the reason. It was read whole first and failed as "does not fit in the memory Java may use ... give Java a
     * larger heap", which no heap fixes: one Java array holds at most 2^31 - 9 bytes (found by the file fuzz review).
     */
    @Test
    void idxFilesPastWhatOneArrayHoldsAreRefusedFromTheirHeader() throws IOException {
        Path images = tmp.resolve("v-images-idx3-ubyte");
        Files.write(images, ByteBuffer.allocate(16).putInt(0x803).putInt(2).putInt(1 << 15).putInt(1 << 15).array());
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(images.toFile(), "rw")) {
            f.setLength(16L + (2L << 30));
        }
        Files.write(tmp.resolve("v-labels-idx1-ubyte"), ByteBuffer.allocate(8 + 2).putInt(0x801).putInt(2).array());
        idxError("v-images-idx3-ubyte", "v-images-idx3-ubyte: the header promises 2 images of 32768 x 32768 pixels,"
                + " 2,147,483,648 pixels in all; MILD reads them into one Java array, which holds at most 2,147,483,638"
                + " (about 2 GiB): use a file of fewer images");
    }

    /** Bytes past what the headers promise are named as such, without reading the rest of the file. */
    @Test
    void idxTrailingBytesAreNamed() throws IOException {
        byte[][] pair = idx(3, 3, false);
        Files.write(tmp.resolve("t-images-idx3-ubyte"), java.util.Arrays.copyOf(pair[0], pair[0].length + 5));
        Files.write(tmp.resolve("t-labels-idx1-ubyte"), pair[1]);
        idxError("t-images-idx3-ubyte", "t-images-idx3-ubyte: has trailing bytes: the header promises 3 images of");
        Files.write(tmp.resolve("u-images-idx3-ubyte"), pair[0]);
        Files.write(tmp.resolve("u-labels-idx1-ubyte"), java.util.Arrays.copyOf(pair[1], pair[1].length + 1));
        idxError("u-images-idx3-ubyte", "u-labels-idx1-ubyte: has trailing bytes: the header promises 3 labels (11"
                + " bytes), the file has more");
    }

    @Test
    void idxRowsAreImagesCountedFromOneAndLabelsComeFromTheLabelsFile() throws IOException {
        byte[][] pair = idx(12, 12, false);   // labels 0..9, 0, 1
        Files.write(tmp.resolve("h-images-idx3-ubyte"), pair[0]);
        Files.write(tmp.resolve("h-labels-idx1-ubyte"), pair[1]);
        Dataset d = DataFiles.read(tmp.resolve("h-images-idx3-ubyte"));
        String images = tmp.resolve("h-images-idx3-ubyte").toString();
        String labels = tmp.resolve("h-labels-idx1-ubyte").toString();
        assertEquals(images + ", image 10 (1-based)", d.where(9));
        // Eight classes: label 8, of the ninth image, is the first outside them.
        ExpertSetup setup = new ExpertSetup(ExpertSetup.Source.SYNTHETIC, ExpertSetup.simulatedNames(2), 8,
                new int[] {1, 1}, new double[2], 1);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> setup.costsFor(d, d.features(), List.of(), ExpertSetup.STREAM_TEST));
        assertTrue(e.getMessage().startsWith(labels + ", label 9 (1-based, for image 9): label 8 is outside"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("column"), e.getMessage());
        // Rows of data without lines or a labels file are numbered from 1 too.
        Dataset plain = new Dataset("sample", d.featureNames(), d.features(), d.rows(), d.labels(), List.of(), null,
                null, null);
        assertEquals("sample, row 1 (1-based)", plain.where(0));
    }

    /**
     * A data file is opened once, so it may be a pipe, which gives its content once (e.g. {@code --data <(zcat f.csv.gz)}).
     * An IDX images file was opened three times (two header peeks, then the data) and a CSV file twice; the
     * second open of a pipe waits for another writer, forever.
     */
    @Test
    void aDataFileIsOpenedOnceSoItMayBeAPipe() throws Exception {
        byte[][] pair = idx(3, 3, false);
        Files.write(tmp.resolve("p-labels-idx1-ubyte"), pair[1]);
        Dataset images = readThroughPipe(tmp.resolve("p-images-idx3-ubyte"), pair[0]);
        assertEquals(3, images.rows());
        assertArrayEquals(new int[] {0, 1, 2}, images.labels());
        assertEquals(20 / 255f, images.features()[1]);
        byte[] table = "x,cost:a,cost:b\n1,0,1\n2,1,0\n".getBytes(StandardCharsets.UTF_8);
        Dataset csv = readThroughPipe(tmp.resolve("p.csv"), table);
        assertEquals(2, csv.rows());
        assertEquals(List.of("a", "b"), csv.experts());
    }

    /** {@link DataFiles#read} of a named pipe at {@code fifo} through which {@code content} is written once. */
    private static Dataset readThroughPipe(Path fifo, byte[] content) throws Exception {
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "needs mkfifo");
        Thread.ofPlatform().daemon().start(() -> {
            try {
                Files.write(fifo, content);
            } catch (IOException e) {
                // the reader closed early; it fails below
            }
        });
        CompletableFuture<Dataset> read = new CompletableFuture<>();
        // A daemon thread: a reader blocked in a second open must not keep the test JVM alive.
        Thread.ofPlatform().daemon().start(() -> {
            try {
                read.complete(DataFiles.read(fifo));
            } catch (Throwable t) {
                read.completeExceptionally(t);
            }
        });
        try {
            return read.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return fail(fifo.getFileName() + " was opened more than once: the reader waits for a second writer");
        }
    }

    private void idxError(String name, String expected) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataFiles.read(tmp.resolve(name)));
        assertTrue(e.getMessage().contains(expected), "expected \"" + expected + "\" in: " + e.getMessage());
    }

    /** Prices in train's and eval's setup line as a person writes them: "beta 0/0.2", not "beta 0.00/0.200". */
    @Test
    void setupLinesWritePricesPlainly() {
        ExpertSetup s = new ExpertSetup(ExpertSetup.Source.SYNTHETIC, ExpertSetup.simulatedNames(3), 8,
                new int[] {1, 1, 1}, new double[] {0, 0.2, 0.123456}, 1);
        assertTrue(s.describe().endsWith(", beta 0/0.2/0.123"), s.describe());
        ExpertSetup tiny = new ExpertSetup(ExpertSetup.Source.SYNTHETIC, ExpertSetup.simulatedNames(2), 8,
                new int[] {1, 1}, new double[] {2.5e-5, 1500}, 1);
        assertTrue(tiny.describe().endsWith(", beta 0.000025/1500"), tiny.describe());
        // Prices far from 1 (--beta 1e-30,1e30) were written out plainly, 31 digits each.
        ExpertSetup far = new ExpertSetup(ExpertSetup.Source.SYNTHETIC, ExpertSetup.simulatedNames(2), 8,
                new int[] {1, 1}, new double[] {1e-30, 1.5e30}, 1);
        assertTrue(far.describe().endsWith(", beta 1E-30/1.5E+30"), far.describe());
    }

    @Test
    void syntheticExpertsAreRightOnTheirBlockAndGuessElsewhere() {
        ExpertSetup s = new ExpertSetup(ExpertSetup.Source.SYNTHETIC, ExpertSetup.simulatedNames(3), 10,
                new int[] {7, 2, 1}, ExpertSetup.coverage(new int[] {7, 2, 1}), 4);
        assertArrayEquals(new double[] {0.7, 0.2, 0.1}, s.beta(), 1e-12);
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 0, 1, 1, 2}, ExpertSetup.classBlocks(10, new int[] {7, 2, 1}));
        assertEquals("classes 7-8", s.blockName(1));
        int n = 20000;
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
        }
        int[] pred = s.syntheticPredictions(labels, ExpertSetup.STREAM_DATA);
        assertArrayEquals(pred, s.syntheticPredictions(labels, ExpertSetup.STREAM_DATA), "seeded");
        int[] owner = ExpertSetup.classBlocks(10, new int[] {7, 2, 1});
        int rightElsewhere = 0;
        int elsewhere = 0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++) {
                if (owner[labels[i]] == k) {
                    assertEquals(labels[i], pred[i * 3 + k]);
                } else {
                    elsewhere++;
                    rightElsewhere += pred[i * 3 + k] == labels[i] ? 1 : 0;
                }
            }
        }
        assertEquals(0.1, (double) rightElsewhere / elsewhere, 0.01, "a uniform guess over 10 classes is right 10% of the time");
        double[] costs = s.errorCosts(labels, pred);
        assertEquals(0.7, costs[0], 1e-12, "label 0, expert 1 right: its price only");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ExpertSetup.classBlocks(2, new int[] {7, 2, 1}));
        assertTrue(e.getMessage().contains("without a class"), e.getMessage());
    }

    @Test
    void perClassReportsListTheClassesThatOccur() {
        // A typo label (1000000) among classes 0 and 2: three entries, not a million and one.
        int[] labels = {0, 1_000_000, 0, 2};
        ExpertSetup setup = new ExpertSetup(ExpertSetup.Source.COSTS, List.of("a", "b"), 1_000_001, new int[0],
                new double[2], 1);
        float[] scores = {1, 0, 0, 1, 1, 0, 0, 1};     // router picks a, b, a, b
        double[] costs = {0, 1, 1, 0, 0.5, 0, 0, 1};   // oracle picks a, b, b, a
        Evaluation.Result r = Evaluation.of(scores, costs, 4, labels, setup);
        assertEquals(List.of("class 0", "class 2", "class 1000000"),
                r.blocks().stream().map(Evaluation.Block::name).toList());
        Evaluation.Block class0 = r.blocks().get(0);
        assertEquals(2, class0.rows());
        assertEquals((0 + 0.5) / 2, class0.loss(), 1e-12);
        assertEquals(0, class0.oracleLoss(), 1e-12);
        assertArrayEquals(new double[] {1, 0}, class0.ratios(), 1e-12);
        assertArrayEquals(new double[] {0.5, 0.5}, class0.oracleRatios(), 1e-12);
        assertEquals(1, r.blocks().get(2).rows());
        assertEquals(1, r.blocks().get(1).loss(), 1e-12, "class 2: the router picks b, which costs 1");
    }

    /**
     * The baseline a router has to beat, and the edges of the per-block view, by hand. Six rows, experts a and b,
     * costs (0,1) (1,0) (1,1) (0.5,0) (0,0.25) (1,0): always a costs (0+1+1+0.5+0+1)/6 = 3.5/6, always b
     * (1+0+1+0+0.25+0)/6 = 0.375, so b is the best single expert. Trained on classes 0..2 (blocks 0-1 and 2), the
     * labels are 0 and 3..7: class 3 is the first class not seen in training, and five unseen classes are listed
     * whole. The router picks a, a, b, b, a, b, so the unseen rows pay 1, 1, 0, 0, 0: a mean of 0.4. Block "class 2"
     * has no row: all its numbers are 0. Without unseen labels there is no unseen entry.
     */
    @Test
    void evaluationGivesEachExpertsMeanCostAndPutsEveryUnseenClassInOneBlock() {
        ExpertSetup setup = new ExpertSetup(ExpertSetup.Source.PREDICTIONS, List.of("a", "b"), 3, new int[] {2, 1},
                new double[] {0, 0}, 1);
        float[] scores = {1, 0, /**/ 1, 0, /**/ 0, 1, /**/ 0, 1, /**/ 1, 0, /**/ 0, 1};
        double[] costs = {0, 1, /**/ 1, 0, /**/ 1, 1, /**/ 0.5, 0, /**/ 0, 0.25, /**/ 1, 0};
        Evaluation.Result r = Evaluation.of(scores, costs, 6, new int[] {0, 3, 4, 5, 6, 7}, setup);
        assertEquals(6, r.rows());
        assertArrayEquals(new double[] {3.5 / 6, 0.375}, r.alwaysOneExpert(), 1e-15);
        assertEquals(1, r.bestSingleExpert());
        assertEquals(List.of("classes 0-1", "class 2", "5 classes not in training (3, 4, 5, 6, 7)"),
                r.blocks().stream().map(Evaluation.Block::name).toList());
        Evaluation.Block unseen = r.blocks().get(2);
        assertEquals(5, unseen.rows());
        assertEquals(0.4, unseen.loss(), 1e-15);
        Evaluation.Block empty = r.blocks().get(1);
        assertEquals(0, empty.rows());
        assertEquals(0.0, empty.loss());
        assertArrayEquals(new double[] {0, 0}, empty.ratios());
        Evaluation.Result seenOnly = Evaluation.of(scores, costs, 2, new int[] {0, 2}, setup);
        assertEquals(List.of("classes 0-1", "class 2"), seenOnly.blocks().stream().map(Evaluation.Block::name).toList());
        // its first two rows cost (0, 1) and (1, 0): both experts cost 0.5 always, and the first of equals is best
        assertEquals(0, seenOnly.bestSingleExpert());
        // A setup without classes (costs given directly) has no per-block view, even when the rows carry labels.
        ExpertSetup costsOnly = new ExpertSetup(ExpertSetup.Source.COSTS, List.of("a", "b"), 0, new int[0],
                new double[2], 1);
        assertEquals(List.of(), Evaluation.of(scores, costs, 2, new int[] {0, 1}, costsOnly).blocks());
    }

    /**
     * Standardizing, by hand: two features with rows (0, 0), (3, 30) and (6, 60) have means (3, 30) and deviations
     * (sqrt(18 / 3), sqrt(1800 / 3)) = (2.449490, 24.49490).
     * A column whose deviation (1e-40, a float32 subnormal) has no float32 reciprocal is a constant column (std 0,
     * scale 1), as fit() documents, not a failure. A value whose distance from the mean overflows float32 is named
     * by its place, 1-based, with the value itself.
     */
    @Test
    void standardizerFitsEachColumnAndNamesAValueItCannotStandardize() {
        Standardizer two = Standardizer.fit(new float[] {0, 0, /**/ 3, 30, /**/ 6, 60}, 2, new int[] {0, 1, 2});
        assertArrayEquals(new float[] {3, 30}, two.mean(), 0f);
        assertArrayEquals(new float[] {(float) Math.sqrt(6), (float) Math.sqrt(600)}, two.std(), 1e-6f * 25);
        Standardizer tiny = Standardizer.fit(new float[] {0, 2e-40f}, 1, new int[] {0, 1});
        assertArrayEquals(new float[] {0}, tiny.std(), 0f);
        assertArrayEquals(new float[] {1}, tiny.scale(), 0f);
        Standardizer far = new Standardizer(new float[] {0, -3e38f}, new float[] {1, 1});
        ValidationTest.fails(() -> far.apply(new float[] {5, 0, /**/ 5, 3e38f}), "row 2, feature column 2",
                "value 3.0E38 lies too far from the training mean -3.0E38");
        ValidationTest.fails(() -> far.apply(new float[] {9, 9, 1, 3e38f}, 2, new float[2], 0), "feature column 2",
                "value 3.0E38");
        Standardizer farFirst = new Standardizer(new float[] {-3e38f}, new float[] {1});
        ValidationTest.fails(() -> farFirst.apply(new float[] {3e38f}), "row 1, feature column 1");
        ValidationTest.fails(() -> farFirst.apply(new float[] {3e38f}, 0, new float[1], 0), "feature column 1");
        ValidationTest.fails(() -> farFirst.apply(new float[2], 0, new float[3], 3), "does not fit arrays of 2 and 3 values");
        ValidationTest.fails(() -> new Standardizer(new float[] {0}, new float[] {-1}),
                "feature column 1 (1-based) has mean 0.0 and std -1.0", "std >= 0");
        // Named features are named as such (a model file's names), in the constructor's and apply's messages.
        ValidationTest.fails(() -> new Standardizer(new float[] {0, 0}, new float[] {1, -1}, List.of("age", "income")),
                "feature \"income\" has mean 0.0 and std -1.0");
        ValidationTest.fails(() -> far.named(List.of("age", "income")).apply(new float[] {0, 3e38f}, 0, new float[2], 0),
                "feature \"income\" (column 2 of the model's, 1-based)");
        ValidationTest.fails(() -> new Standardizer(new float[] {0}, new float[] {1e-45f}), "too small to divide by");
    }

    @Test
    void splitsAreSeededDisjointAndComplete() {
        int[][] a = RouterTraining.split(1000, 0.1, 0.2, 7);
        int[][] b = RouterTraining.split(1000, 0.1, 0.2, 7);
        assertArrayEquals(a[0], b[0]);
        assertEquals(700, a[0].length);
        assertEquals(100, a[1].length);
        assertEquals(200, a[2].length);
        boolean[] seen = new boolean[1000];
        for (int[] part : a) {
            for (int i : part) {
                assertTrue(!seen[i], "row " + i + " in two splits");
                seen[i] = true;
            }
        }
        assertTrue(!java.util.Arrays.equals(a[2], RouterTraining.split(1000, 0.1, 0.2, 8)[2]), "another seed, another split");
    }

    @Test
    void csvReaderReadsAStream() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("f,cost:x\n1,0\n".getBytes(StandardCharsets.UTF_8));
        Dataset d = CsvReader.read(new java.io.ByteArrayInputStream(b.toByteArray()), "stream");
        assertEquals("stream, line 2", d.where(0));
    }
}
