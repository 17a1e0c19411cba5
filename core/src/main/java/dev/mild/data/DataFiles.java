package dev.mild.data;

import dev.mild.InvalidInputException;
import dev.mild.io.OutputFile;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Opening data files: gzip is recognized by its magic bytes (not the name), and the format by the first bytes
 * of the content: IDX ({@code 00 00 TYPE DIMS}; only unsigned-byte images are read, other types are named) or CSV
 * (anything else).
 */
public final class DataFiles {
    private DataFiles() {
    }

    /**
     * The file's bytes, decompressed when it is gzipped (one gzip layer; trailing bytes after the gzip data other
     * than zeros are an error when the end is read).
     *
     * @param file the file to read
     * @return a buffered stream, which the caller closes
     * @throws InvalidInputException when the file does not exist
     * @throws IOException when it cannot be opened or read, or its gzip header is cut short or damaged (the file is
     *                     then closed)
     */
    public static InputStream open(Path file) throws IOException {
        InputStream raw;
        try {
            raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        }
        try {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            if (isGzipMagic(b0, b1)) {
                // Reads the gzip header: a file cut short there fails here, before the caller holds a stream.
                return new BufferedInputStream(new WholeGzipInputStream(file, raw), 1 << 16);
            }
            return raw;
        } catch (IOException | RuntimeException e) {
            // The caller got no stream to close, so the file would stay open.
            try {
                raw.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * gzip data with nothing after it. GZIPInputStream reads concatenated members (what {@code cat a.gz b.gz}
     * makes) as one stream, as {@code gzip -d} does; but at bytes after the last member that do not start another
     * (something appended by mistake, a damaged header of a second member) it stopped without a word, and the
     * rows there were lost. Those bytes are an error here, naming the offset where they start. Zero bytes alone
     * are padding (tape and block devices write it, tar pads to blocks), which {@code gzip -d} ignores too.
     */
    private static final class WholeGzipInputStream extends GZIPInputStream {
        private static final int TRAILER_BYTES = 8;   // CRC-32 and size of each member

        private final Path file;
        private final CountingInputStream source;
        private long bufferEnd;   // the file offset just after the bytes of the last fill()
        private boolean endChecked;

        WholeGzipInputStream(Path file, InputStream raw) throws IOException {
            this(file, new CountingInputStream(raw));
        }

        private WholeGzipInputStream(Path file, CountingInputStream source) throws IOException {
            super(source, 1 << 16);
            this.file = file;
            this.source = source;
        }

        @Override
        protected void fill() throws IOException {
            super.fill();
            bufferEnd = source.count;
        }

        @Override
        public int read(byte[] b, int off, int n) throws IOException {
            int r = super.read(b, off, n);
            if (r == -1 && !endChecked) {
                endChecked = true;
                // The inflater left the last member's trailer, and anything after it, unread in the buffer.
                long end = bufferEnd - inf.getRemaining() + TRAILER_BYTES;
                // GZIPInputStream looked for another member there and may have taken bytes past the buffer; the
                // rest is read here, and only zeros may follow the end.
                source.drain();
                if (source.lastNonZero >= end) {
                    throw new InvalidInputException(file + ": trailing bytes after the gzip data at byte offset " + end
                            + " (they do not start another gzip member): the file is damaged or something was"
                            + " appended to it; copy or download it again");
                }
            }
            return r;
        }
    }

    /** Counts the bytes read through it and remembers the offset of the last one that is not zero. */
    private static final class CountingInputStream extends java.io.FilterInputStream {
        long count;
        long lastNonZero = -1;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b > 0) {
                lastNonZero = count;
            }
            count += b < 0 ? 0 : 1;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            for (int i = n - 1; i >= 0; i--) {
                if (b[off + i] != 0) {
                    lastNonZero = count + i;
                    break;
                }
            }
            count += Math.max(n, 0);
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // Never called by GZIPInputStream on its source (it reads headers byte by byte); counted as non-zero
            // so that a skip cannot hide trailing bytes.
            long skipped = in.skip(n);
            if (skipped > 0) {
                lastNonZero = count + skipped - 1;
            }
            count += skipped;
            return skipped;
        }

        /** Reads what is left. */
        void drain() throws IOException {
            byte[] buf = new byte[8192];
            while (read(buf, 0, buf.length) != -1) {
                // counting only
            }
        }
    }

    /**
     * Reads a CSV table or an IDX images file (with its labels file beside it).
     *
     * @param file a CSV file or an IDX images file, gzipped or not
     * @return the rows, as the CSV or IDX reader makes them
     * @throws InvalidInputException when the file is a directory, missing, unreadable, truncated or corrupt gzip,
     *                               or not valid CSV or IDX (naming the line and column); also when the data does
     *                               not fit in the Java heap, saying how to give it more
     */
    public static Dataset read(Path file) {
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(file + ": is a directory; give a CSV file or an IDX images file");
        }
        // One open: the format is told from the first bytes, which are then read again from the same stream.
        try (InputStream in = open(file)) {
            return isIdx(in) ? IdxReader.read(file, in) : CsvReader.read(in, file.toString());
        } catch (IOException e) {
            throw cannotRead(file, e);
        } catch (OutOfMemoryError e) {
            // The arrays being filled are unreachable once this is thrown, so reporting it is safe.
            throw new InvalidInputException(tooLarge(file), e);
        }
    }

    /**
     * The error for a data file that failed while being read. Only the gzip layer throws EOFException here (the
     * readers take lines and whole files), so it means a gzip file cut short; its own message says as much only
     * in zlib's words, or not at all when the cut falls in the gzip header. A ZipException is damaged gzip data.
     */
    static InvalidInputException cannotRead(Path file, IOException e) {
        if (e instanceof EOFException) {
            return new InvalidInputException(file + ": truncated: the gzip data ends early (an interrupted download"
                    + " or copy?)", e);
        }
        if (e instanceof ZipException) {
            // zlib's words alone ("invalid block type", "invalid distance too far back") do not say it is the file.
            return new InvalidInputException(file + ": corrupt gzip data (" + e.getMessage() + "): the file is"
                    + " damaged; copy or download it again", e);
        }
        // OutputFile.reason: an AccessDeniedException's own message is only the path again.
        return new InvalidInputException(file + ": cannot read: " + OutputFile.reason(e), e);
    }

    static String tooLarge(Path file) {
        String size;
        if (!Files.isRegularFile(file)) {
            // A pipe: opening it again would wait for a writer that is gone.
            size = "not a regular file (a pipe?), so its size is unknown";
        } else {
            try {
                size = mebibytes(Files.size(file)) + " on disk" + (isGzip(file) ? ", gzip-compressed" : "");
            } catch (IOException e) {
                size = "size unknown";
            }
        }
        return file + ": the data does not fit in the memory Java may use (the file is " + size + "; the heap limit is "
                + mebibytes(Runtime.getRuntime().maxMemory()) + "): give Java a larger heap with -Xmx, e.g."
                + " MILD_JVM_OPTS=-Xmx8g ./mild ...";
    }

    private static String mebibytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }

    private static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(2);
            return head.length == 2 && isGzipMagic(head[0] & 0xff, head[1] & 0xff);
        }
    }

    /**
     * What compressed data or archive {@code head} (a file's first bytes) starts with, by its magic bytes, or
     * {@code null}: read as CSV, a ZIP archive or a .csv.bz2 was "a NUL byte, which CSV text never holds: is this a
     * file saved as UTF-16". gzip's magic counts only where a gzip layer has been taken off already (twice
     * compressed), or where nothing decompresses (standard input).
     *
     * @param head the file's first bytes (10 suffice), not null. Not modified.
     * @return what it is and the tool that unpacks it, e.g. "a ZIP archive" and "unzip"; {@code null} when no
     *         known magic matches
     */
    public static Compression compressedKind(byte[] head) {
        if (head.length >= 2 && isGzipMagic(head[0] & 0xff, head[1] & 0xff)) {
            return Compression.GZIP;
        }
        if (startsWith(head, 'P', 'K', 3, 4) || startsWith(head, 'P', 'K', 5, 6)) {
            return new Compression("a ZIP archive", "unzip");
        }
        if (head.length >= 10 && startsWith(head, 'B', 'Z', 'h') && head[3] >= '1' && head[3] <= '9'
                && startsWith(java.util.Arrays.copyOfRange(head, 4, 10), 0x31, 0x41, 0x59, 0x26, 0x53, 0x59)) {
            return new Compression("bzip2-compressed data", "bunzip2");
        }
        if (startsWith(head, 0xfd, '7', 'z', 'X', 'Z', 0)) {
            return new Compression("xz-compressed data", "unxz");
        }
        if (startsWith(head, 0x28, 0xb5, 0x2f, 0xfd)) {
            return new Compression("zstd-compressed data", "unzstd");
        }
        if (startsWith(head, '7', 'z', 0xbc, 0xaf, 0x27, 0x1c)) {
            return new Compression("a 7-Zip archive", "7z x");
        }
        return null;
    }

    /**
     * Compressed data or an archive, by {@link #compressedKind}.
     *
     * @param description what it is, for a message ("a ZIP archive", "gzip-compressed data")
     * @param unpackWith  the command that unpacks it ("unzip", "gunzip")
     */
    public record Compression(String description, String unpackWith) {
        /** gzip, which {@link #read} itself takes off once. */
        public static final Compression GZIP = new Compression("gzip-compressed data", "gunzip");

        /**
         * Whether this is gzip.
         *
         * @return {@code true} for {@link #GZIP}
         */
        public boolean isGzip() {
            return equals(GZIP);
        }
    }

    private static boolean startsWith(byte[] head, int... magic) {
        if (head.length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((head[i] & 0xff) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /** The two bytes every gzip stream starts with. */
    private static boolean isGzipMagic(int b0, int b1) {
        return b0 == 0x1f && b1 == 0x8b;
    }

    /**
     * The files {@link #read} reads for {@code file}: the file itself, and for an IDX images file the labels file
     * beside it (so that a command can refuse to write over any of them).
     *
     * @param file the data file as given
     * @return {@code file}, and its labels file when it is an IDX images file whose labels file name can be made
     * @throws InvalidInputException when the file is a regular file that cannot be read
     */
    public static List<Path> files(Path file) {
        if (Files.isRegularFile(file) && isIdx(file)) {
            try {
                return List.of(file, IdxReader.labelsFileFor(file));
            } catch (InvalidInputException e) {
                return List.of(file);   // read() names the problem
            }
        }
        return List.of(file);
    }

    static boolean isIdx(Path file) {
        try (InputStream in = open(file)) {
            return isIdx(in);
        } catch (IOException e) {
            throw cannotRead(file, e);
        }
    }

    /**
     * Whether the content starts like an IDX file: two zero bytes, then a type byte (unsigned bytes, floats, ...),
     * then the number of dimensions. Any type byte but 0 counts, so that the IDX reader names a type it does not read
     * or one IDX does not define (a damaged byte, once read as CSV: "a NUL byte ... not text at all?"). Text never
     * starts with two NULs; UTF-32 text (00 00 00 xx) and zeros a crash left have a 0 there and stay CSV's to name.
     * The stream (from {@link #open}) is left where it was.
     */
    private static boolean isIdx(InputStream in) throws IOException {
        in.mark(3);
        byte[] head = in.readNBytes(3);
        in.reset();
        return head.length == 3 && head[0] == 0 && head[1] == 0 && head[2] != 0;
    }

    /**
     * The same rows with their feature columns in the order of {@code featureNames} (a model's), and their
     * cost or prediction columns in the order of {@code experts}, matched by name.
     *
     * @param data         the rows. Not modified.
     * @param featureNames the model's features, in input order
     * @param experts      the model's experts, in score order
     * @return {@code data} itself when its columns already are in that order, else a new data set (without
     *         experts when {@code data} has no cost or prediction columns)
     * @throws InvalidInputException naming the file when a needed column is missing, a feature column is not one
     *                               of the model's, or an expert column names an unknown expert; for IDX images
     *                               of another size than the model's, both sizes
     */
    public static Dataset align(Dataset data, List<String> featureNames, List<String> experts) {
        String source = data.source();
        Words model = new Words() {
            @Override
            public String notAFeature(String column) {
                return source + ": " + column + " is not a feature of the model (the model's features: "
                        + abbreviate(featureNames) + ")";
            }

            @Override
            public String missingFeature(String name) {
                return source + ": the model needs feature column \"" + name + "\", which the file does not have";
            }

            @Override
            public String unknownExpert(String column) {
                return source + ": " + column + " names an expert the model does not know (its experts: "
                        + String.join(", ", experts) + ")";
            }

            @Override
            public String missingExpert(String column, String expert) {
                return source + ": no " + column + " column for the model's expert \"" + expert + "\"";
            }

            @Override
            public String otherImageSize() {
                int pixels = featureNames.size();
                return source + ": images are " + imageSize(data) + ", the model's are " + (isSquare(pixels)
                        ? square(pixels) + " (" + pixels + " pixels)" : "of " + pixels + " pixels");
            }
        };
        boolean modelOfImages = !featureNames.isEmpty() && featureNames.get(0).equals("pixel0")
                && featureNames.get(featureNames.size() - 1).equals("pixel" + (featureNames.size() - 1));
        return align(data, featureNames, experts, modelOfImages, model);
    }

    /**
     * {@code held} (train's --valid or --test file) with its columns in the order of {@code data}'s (the --data
     * file), as {@link #align} does for a model: the messages name both files by their options, since there is
     * no model yet ("--test t.csv: column 3 (x3) is not a column of --data d.csv").
     *
     * @param held   the --valid or --test file's rows. Not modified.
     * @param option the option that gave {@code held}, with its dashes ("--test")
     * @param data   the --data file's rows, whose column order is taken. Not modified.
     * @return {@code held} itself when its columns already are in that order, else a new data set
     * @throws InvalidInputException as {@link #align}, naming both files
     */
    public static Dataset alignToData(Dataset held, String option, Dataset data) {
        String where = option + " " + held.source();
        String other = "--data " + data.source();
        Words files = new Words() {
            @Override
            public String notAFeature(String column) {
                return where + ": " + column + " is not a column of " + other + " (its features: "
                        + abbreviate(data.featureNames()) + ")";
            }

            @Override
            public String missingFeature(String name) {
                return where + ": no column \"" + name + "\", which " + other + " has as a feature";
            }

            @Override
            public String unknownExpert(String column) {
                return where + ": " + column + " names an expert that " + other + " has no column for (its experts: "
                        + String.join(", ", data.experts()) + ")";
            }

            @Override
            public String missingExpert(String column, String expert) {
                return where + ": no " + column + " column, which " + other + " has";
            }

            @Override
            public String otherImageSize() {
                return where + ": images are " + imageSize(held) + ", the training images are " + imageSize(data)
                        + " (" + other + ")";
            }
        };
        return align(held, data.featureNames(), data.experts(), isImages(data), files);
    }

    /** How {@link #align} words what does not match, for a model or for another file. */
    private interface Words {
        String notAFeature(String column);

        String missingFeature(String name);

        String unknownExpert(String column);

        String missingExpert(String column, String expert);

        String otherImageSize();
    }

    /** Whether the rows are IDX images (read with their labels file). */
    private static boolean isImages(Dataset data) {
        return data.labelsFile() != null;
    }

    /**
     * "28x28": the rows and columns of the IDX header for a regular file (a pipe is not opened again: it would wait
     * for another writer), else from the pixel count when it is a square, else "of 600 pixels".
     */
    private static String imageSize(Dataset images) {
        Path file = Path.of(images.source());
        if (Files.isRegularFile(file)) {
            try (InputStream in = open(file)) {
                byte[] head = in.readNBytes(16);
                if (head.length == 16) {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(head);
                    long rows = b.getInt(8);
                    long cols = b.getInt(12);
                    if (rows * cols == images.d()) {
                        return rows + "x" + cols;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the count below will do
            }
        }
        return isSquare(images.d()) ? square(images.d()) : "of " + images.d() + " pixels";
    }

    private static boolean isSquare(int n) {
        long r = Math.round(Math.sqrt(n));
        return r * r == n;
    }

    private static String square(int n) {
        long r = Math.round(Math.sqrt(n));
        return r + "x" + r;
    }

    private static Dataset align(Dataset data, List<String> featureNames, List<String> experts, boolean ofImages,
                                 Words words) {
        if (ofImages && isImages(data) && data.d() != featureNames.size()) {
            // "the model needs feature column pixel196" did not say that the images differ in size.
            throw new InvalidInputException(words.otherImageSize());
        }
        Map<String, Integer> have = new HashMap<>();
        for (int c = 0; c < data.d(); c++) {
            have.put(data.featureNames().get(c), c);
        }
        // Sets, not List.contains per column: with 100,000 features that was 10^10 comparisons (12 s).
        Set<String> wanted = new HashSet<>(featureNames);
        for (int c = 0; c < data.d(); c++) {
            if (!wanted.contains(data.featureNames().get(c))) {
                throw new InvalidInputException(words.notAFeature(data.featureColumn(c)));
            }
        }
        int d = featureNames.size();
        int[] from = new int[d];
        for (int c = 0; c < d; c++) {
            Integer i = have.get(featureNames.get(c));
            if (i == null) {
                throw new InvalidInputException(words.missingFeature(featureNames.get(c)));
            }
            from[c] = i;
        }
        float[] x = data.features();
        boolean same = true;
        for (int c = 0; c < d; c++) {
            same &= from[c] == c;
        }
        if (!same) {
            int n = data.rows();
            int dIn = data.d();
            x = new float[Math.multiplyExact(n, d)];
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < d; c++) {
                    x[r * d + c] = data.features()[r * dIn + from[c]];
                }
            }
        }
        if (same && data.experts().isEmpty()) {
            return data; // already in this order: the data set itself, not a copy that validates every value again
        }
        double[] costs = data.costs();
        int[] preds = data.predictions();
        int[] ef = null;   // the data's expert column of each of the model's experts
        if (!data.experts().isEmpty()) {
            int p = experts.size();
            ef = new int[p];
            Set<String> known = new HashSet<>(experts);
            for (int k = 0; k < data.experts().size(); k++) {
                if (!known.contains(data.experts().get(k))) {
                    throw new InvalidInputException(words.unknownExpert(data.expertColumn(k)));
                }
            }
            Map<String, Integer> column = new HashMap<>();
            for (int k = 0; k < data.experts().size(); k++) {
                column.putIfAbsent(data.experts().get(k), k);
            }
            for (int k = 0; k < p; k++) {
                ef[k] = column.getOrDefault(experts.get(k), -1);
                if (ef[k] < 0) {
                    throw new InvalidInputException(words.missingExpert((costs != null ? "cost:" : "pred:")
                            + experts.get(k), experts.get(k)));
                }
            }
            if (same && experts.equals(data.experts())) {
                return data; // as above (train aligns --valid and --test to --data, then to the model)
            }
            int pIn = data.experts().size();
            int n = data.rows();
            if (costs != null) {
                double[] c2 = new double[n * p];
                for (int r = 0; r < n; r++) {
                    for (int k = 0; k < p; k++) {
                        c2[r * p + k] = costs[r * pIn + ef[k]];
                    }
                }
                costs = c2;
            }
            if (preds != null) {
                int[] p2 = new int[n * p];
                for (int r = 0; r < n; r++) {
                    for (int k = 0; k < p; k++) {
                        p2[r * p + k] = preds[r * pIn + ef[k]];
                    }
                }
                preds = p2;
            }
        }
        // The file's columns in the model's order, so that a message about an aligned column still names its place.
        int[] featureColumns = data.featureColumns() == null ? null : permuted(data.featureColumns(), from);
        int[] expertColumns = data.expertColumns() == null || ef == null ? null : permuted(data.expertColumns(), ef);
        return new Dataset(data.source(), featureNames, x, data.rows(), data.labels(),
                data.experts().isEmpty() ? List.of() : experts, costs, preds, data.lines(), data.labelsFile(),
                data.labelColumn(), featureColumns, expertColumns);
    }

    private static int[] permuted(int[] values, int[] from) {
        int[] out = new int[from.length];
        for (int i = 0; i < from.length; i++) {
            out[i] = values[from[i]];
        }
        return out;
    }

    /**
     * Column names for a message: all of them up to 8, else the first 6 and the count.
     *
     * @param names the names, not null
     * @return them comma-separated, e.g. "x1, x2, x3, x4, x5, x6, ... (10 in all)"
     */
    public static String abbreviate(List<String> names) {
        if (names.size() <= 8) {
            return String.join(", ", names);
        }
        List<String> head = new ArrayList<>(names.subList(0, 6));
        head.add("... (" + names.size() + " in all)");
        return String.join(", ", head);
    }
}
