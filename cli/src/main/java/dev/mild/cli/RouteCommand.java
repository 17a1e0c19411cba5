package dev.mild.cli;

import dev.mild.InvalidInputException;
import dev.mild.data.CsvReader;
import dev.mild.data.DataFiles;
import dev.mild.data.Decimal;
import dev.mild.data.LineReader;
import dev.mild.router.ModelFile;
import dev.mild.router.Router;
import dev.mild.router.RouterModel;
import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code ./mild route}: feature rows on stdin, one expert name per row on stdout. */
final class RouteCommand implements Command {
    @Override
    public String name() {
        return "route";
    }

    @Override
    public String summary() {
        return "route CSV feature rows from stdin with a saved router: one expert name per row";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild route --model MODEL [--scores] < rows.csv

                Reads comma-separated feature rows on standard input and prints, for each, the name of the
                expert the router picks (the one with the highest score), one per line, in order. Features
                are the raw values (the model standardizes them as in training).

                The first line may be a header (it is one when a cell names a feature of the model, or a
                label, cost: or pred: column): then columns are matched to the model's features by name,
                in any order, and label, cost:<expert> and pred:<expert> columns are ignored (so a training
                file can be piped in as is). Without a header, each line holds exactly the model's features
                in the model's order (a first line of names that are none of the model's features is an
                error). Blank lines are skipped. A bad row stops with exit 2 and names the line and column.
                The input is plain text: gzip data is refused (decompress it first, as in the example).

                Options:
                  --model MODEL   a model file from ./mild train
                  --scores        also print each expert's score: expert,score1,score2,...

                Example:
                  zcat ../shared/data/mmlu-routellm-test.csv.gz | ./mild route --model mmlu.mild | sort | uniq -c
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("model");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("scores");
    }

    @Override
    public int run(Args args, Console console) throws IOException {
        args.positional(0, "no positional arguments (rows come on standard input)");
        String modelPath = args.value("model");
        if (modelPath == null) {
            throw new UsageException("--model MODEL is required");
        }
        RouterModel model = ModelFile.load(Path.of(modelPath));
        Router router = model.router(DenseProducts.forRoutingOnce());
        List<String> features = model.featureNames();
        // Looked up by name once per header cell: List.indexOf there took 31 s for a 100,000-feature header.
        Map<String, Integer> featureIndex = new HashMap<>();
        for (int f = 0; f < features.size(); f++) {
            featureIndex.putIfAbsent(features.get(f), f);
        }
        int d = router.features();
        boolean withScores = args.flag("scores");
        LineReader in = new LineReader(notGzip(console.in()), "stdin");
        // Fails as soon as stdout does: rows piped in without end would otherwise be routed into a full disk forever.
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(StdoutFailure.checked(console.out()),
                StandardCharsets.UTF_8), 1 << 16);
        float[] row = new float[d];
        float[] scores = new float[router.experts()];
        int[] columnOf = null;   // feature index per input column, -1 to ignore; null = no header (identity)
        int cells = d;
        String line;
        int lineNo = 0;
        boolean first = true;
        RuntimeException failure = null;
        try {
            while (true) {
                if (!ready(in)) {
                    out.flush();   // interactive use: answer each line before waiting for the next
                }
                line = readLine(in);
                if (line == null) {
                    break;
                }
                lineNo = in.lineNumber();
                if (lineNo == 1) {
                    line = CsvReader.withoutByteOrderMark(line);
                }
                CsvReader.rejectNul(line, "stdin", lineNo);
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.split(",", -1);
                if (first) {
                    first = false;
                    if (isHeader(parts, featureIndex)) {
                        columnOf = header(parts, features, featureIndex, lineNo);
                        cells = parts.length;
                        continue;
                    }
                    if (looksLikeAHeader(parts)) {
                        // A header of another data set: "x" is not a number would not say what is wrong.
                        throw new InvalidInputException("stdin, line " + lineNo + ": looks like a header, but names"
                                + " none of the model's features (" + DataFiles.abbreviate(features) + "); a header names them"
                                + " (in any order), or every line holds numbers only");
                    }
                }
                if (parts.length != cells) {
                    throw new InvalidInputException("stdin, line " + lineNo + ": " + parts.length + " values, expected "
                            + cells + (columnOf == null
                            ? " (the model's features, in order: " + DataFiles.abbreviate(features) + ")"
                            : " (as many as the header)") + CsvReader.quotingHint(line, null));
                }
                for (int c = 0; c < parts.length; c++) {
                    int f = columnOf == null ? c : columnOf[c];
                    if (f >= 0) {
                        row[f] = CsvReader.feature(CsvReader.withoutPadding(parts[c]), "stdin", lineNo, c + 1,
                                features.get(f));
                    }
                }
                int k;
                try {
                    k = router.route(row, scores);
                } catch (InvalidInputException e) {
                    throw new InvalidInputException("stdin, line " + lineNo + ": " + e.getMessage(), e);
                }
                out.write(router.expertName(k));
                if (withScores) {
                    for (float s : scores) {
                        out.write(',');
                        out.write(Float.toString(s));
                    }
                }
                out.write('\n');
            }
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        } finally {
            // The rows before a bad one are answered either way, whatever the buffering; the error follows them.
            try {
                out.flush();
            } catch (StdoutFailure e) {
                if (failure == null) {
                    throw e;
                }
                // A bad row was the first error; Main's check of stdout reports the lost output after it.
            }
        }
        return Main.OK;
    }

    /**
     * Standard input, refused when it starts with gzip's magic bytes (1f 8b) or another compression's or archive's
     * ({@link DataFiles#compressedKind}): read as text, a compressed file was "a NUL byte ... UTF-16?".
     */
    private static InputStream notGzip(InputStream stdin) throws IOException {
        BufferedInputStream in = new BufferedInputStream(stdin, 1 << 16);
        in.mark(16);
        byte[] head = new byte[16];
        int n = 0;
        try {
            // Two bytes (gzip's magic) as before, then only what has arrived: rows typed or streamed one at a time
            // must not wait for more input before the first is routed.
            while (n < head.length && (n < 2 || in.available() > 0)) {
                int r = in.read(head, n, head.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
        } catch (IOException e) {
            throw cannotRead(e);
        }
        head = java.util.Arrays.copyOf(head, n);
        try {
            in.reset();
        } catch (IOException e) {
            throw cannotRead(e);
        }
        DataFiles.Compression compressed = DataFiles.compressedKind(head);
        if (compressed != null && compressed.isGzip()) {
            throw new InvalidInputException("stdin holds gzip-compressed data: decompress it first, e.g."
                    + " zcat FILE | ./mild route --model MODEL");
        }
        if (compressed != null) {
            // Read as text, a ZIP or bzip2 file was "a NUL byte ... UTF-16?", as gzip was.
            throw new InvalidInputException("stdin holds " + compressed.description() + ", not CSV text: unpack it"
                    + " first (" + compressed.unpackWith() + ") and pipe in the CSV rows");
        }
        return in;
    }

    private static String readLine(LineReader in) {
        try {
            return in.readLine();
        } catch (IOException e) {
            throw cannotRead(e);
        }
    }

    private static boolean ready(LineReader in) {
        try {
            return in.ready();
        } catch (IOException e) {
            throw cannotRead(e);
        }
    }

    /** stdin failed (a directory redirected in, a device error): the reason in words, without Java's class. */
    private static InvalidInputException cannotRead(IOException e) {
        return new InvalidInputException("stdin: cannot read: " + Main.ioReason(e), e);
    }

    /** A first line is a header when one of its cells names a feature of the model or a label/cost/pred column. */
    private static boolean isHeader(String[] parts, Map<String, Integer> featureIndex) {
        for (String s : parts) {
            String name = CsvReader.unquote(CsvReader.withoutPadding(s));
            if (featureIndex.containsKey(name) || CsvReader.isLabelOrExpertColumn(name)
                    || CsvReader.reservedLookalike(name) != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * A first line of names only: no cell is a number, and some cell is a name, not a damaged number. A cell that
     * begins as a number does ("1.5e", "0.\u000e5"): such a line is data, whose bad cell the row's parse names by
     * column, where "looks like a header" would mislead (the reader fuzz's damaged first lines).
     */
    private static boolean looksLikeAHeader(String[] parts) {
        boolean anyName = false;
        for (String s : parts) {
            String cell = CsvReader.withoutPadding(s);
            try {
                Decimal.parseFloat(cell);
                return false;
            } catch (NumberFormatException notANumber) {
                anyName |= !cell.isEmpty() && !beginsAsANumber(cell);
            }
        }
        return anyName;
    }

    /** A digit, a sign or a point first ("-x" too, which no header name of ours begins with). */
    private static boolean beginsAsANumber(String cell) {
        char c = cell.charAt(0);
        return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
    }

    private static int[] header(String[] parts, List<String> features, Map<String, Integer> featureIndex, int lineNo) {
        int[] columnOf = new int[parts.length];
        boolean[] seen = new boolean[features.size()];
        for (int c = 0; c < parts.length; c++) {
            String name = CsvReader.unquote(CsvReader.withoutPadding(parts[c]));
            Integer index = featureIndex.get(name);
            if (index == null) {
                CsvReader.rejectHiddenCharacter(name, "stdin, line " + lineNo + ", column " + (c + 1));
                CsvReader.rejectReservedLookalike(name, "stdin, line " + lineNo + ", column " + (c + 1));
            }
            if (CsvReader.isLabelOrExpertColumn(name)) {
                columnOf[c] = -1;
                continue;
            }
            if (index == null) {
                throw new InvalidInputException("stdin, line " + lineNo + ", column " + (c + 1) + ": \"" + name
                        + "\" is not a feature of the model (its features: " + DataFiles.abbreviate(features) + ")");
            }
            int f = index;
            if (seen[f]) {
                throw new InvalidInputException("stdin, line " + lineNo + ", column " + (c + 1) + ": \"" + name
                        + "\" appears twice");
            }
            seen[f] = true;
            columnOf[c] = f;
        }
        for (int f = 0; f < features.size(); f++) {
            if (!seen[f]) {
                throw new InvalidInputException("stdin, line " + lineNo + ": the header has no column \"" + features.get(f)
                        + "\", which the model needs");
            }
        }
        return columnOf;
    }
}
