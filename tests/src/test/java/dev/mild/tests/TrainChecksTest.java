package dev.mild.tests;

import static dev.mild.tests.DataTest.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.io.Json;
import dev.mild.router.Evaluation;
import dev.mild.router.ExpertSetup;
import dev.mild.tests.CliTest.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./mild train} checks every file and option before training: a mistake fails at once with exit 2 and a
 * message naming the file or option, no training epoch runs, and nothing is written or replaced.
 */
class TrainChecksTest {
    @TempDir
    Path tmp;

    static Run run(String... args) {
        return CliTest.run(args);
    }

    /** Exit 2, the expected words in the message, no epoch of any training, and no model written. */
    private void assertRefusedBeforeTraining(Run r, Path model, String... expected) {
        assertEquals(2, r.code(), r.out() + r.err());
        for (String e : expected) {
            assertTrue(r.err().contains(e), "expected \"" + e + "\" in: " + r.err());
        }
        String all = r.out() + r.err();
        assertFalse(all.contains("surrogate loss") || all.contains("training expert"), "no training ran:\n" + all);
        assertFalse(Files.exists(model), "no model written");
    }

    /** {@code train} with {@code option value --out model} added is refused before training with {@code expected}. */
    private void assertOptionRefused(String[] train, Path model, String option, String value, String expected) {
        assertRefusedBeforeTraining(run(concat(train, option, value, "--out", model.toString())), model, expected);
    }

    /** {@code train} with TDEF on synthetic 7/2/1 experts over a labelled file, for {@code epochs} epochs. */
    private static String[] tdefTraining(Path data, int epochs) {
        return new String[] {"train", "--data", data.toString(), "--experts", "synthetic", "--blocks", "7,2,1", "--loss",
                "tdef", "--epochs", Integer.toString(epochs)};
    }

    /** {@code rows} labelled rows of 3 features, label {@code i % classes}. */
    private Path labelled(String name, int rows, int classes) throws IOException {
        StringBuilder sb = new StringBuilder("x0,x1,x2,label\n");
        for (int i = 0; i < rows; i++) {
            int y = i % classes;
            sb.append(y).append(',').append(i % 7).append(',').append((i * 13) % 5).append(',').append(y).append('\n');
        }
        return write(tmp, name, sb.toString());
    }

    /**
     * A validation or test row far outside the training data (features of 1.7e38: within what a data file may hold,
     * and standardized without overflow; here used as they are) makes the trained router's scores overflow float32. That is only known
     * after training; it failed there as "scores: row 1, column 0 is NaN (must be finite)", naming neither the
     * file nor the line (found by fuzzing). Now the file, line and feature are named, as eval names them.
     */
    @Test
    void aRowWhoseScoresOverflowIsNamedByFileAndLine() throws IOException {
        Path data = labelled("lab.csv", 300, 10);
        Path far = write(tmp, "far.csv", "x0,x1,x2,label\n1,1,1,3\n1.7e38,1.7e38,1.7e38,4\n3,3,3,5\n");
        Path model = tmp.resolve("m.mild");
        for (String option : new String[] {"--valid", "--test"}) {
            Run r = run("train", "--data", data.toString(), option, far.toString(), "--experts", "synthetic",
                    "--blocks", "7,2,1", "--epochs", "2", "--scale", "none", "--out", model.toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("mild train: error: " + far + ", line 3: feature column ")
                    && r.err().contains("the router's scores overflow float32 for this row"), option + ": " + r.err());
            assertFalse(Files.exists(model), "no model written");
        }
    }

    @Test
    void aBadTestFileFailsBeforeTraining() throws IOException {
        Path data = labelled("lab.csv", 300, 10);
        Path model = tmp.resolve("m.mild");
        String[] synthetic = {"--experts", "synthetic", "--blocks", "7,2,1", "--epochs", "2", "--out", model.toString()};

        // A label the synthetic experts have no block for (line 4 of the file).
        Path badLabel = write(tmp, "badtest.csv", "x0,x1,x2,label\n1,1,1,3\n2,2,2,4\n3,3,3,12\n");
        Run r = run(concat(new String[] {"train", "--data", data.toString(), "--test", badLabel.toString()}, synthetic));
        assertRefusedBeforeTraining(r, model, "badtest.csv, line 4, column 4 (label): label 12 is outside the classes 0..9");

        // No label column, which synthetic experts make their costs from.
        Path noLabel = write(tmp, "nolabel.csv", "x0,x1,x2\n1,1,1\n");
        r = run(concat(new String[] {"train", "--data", data.toString(), "--test", noLabel.toString()}, synthetic));
        assertRefusedBeforeTraining(r, model, "nolabel.csv: no label column");

        // pred: columns in the test file when training takes its costs from cost: columns.
        Path costs = write(tmp, "costs.csv", "x0,cost:a,cost:b\n" + "1,0,1\n2,1,0\n".repeat(20));
        Path preds = write(tmp, "preds.csv", "x0,label,pred:a,pred:b\n1,0,0,1\n");
        r = run("train", "--data", costs.toString(), "--test", preds.toString(), "--epochs", "2", "--out", model.toString());
        assertRefusedBeforeTraining(r, model, "preds.csv: no cost:<expert> columns", "pred: columns instead");
    }

    @Test
    void aBadRhoListFailsBeforeTheExpertsAreTrained() throws IOException {
        Path data = labelled("lab.csv", 300, 10);
        Path model = tmp.resolve("m.mild");
        String[] trained = {"train", "--data", data.toString(), "--experts", "trained", "--blocks", "7,2,1", "--epochs", "2"};
        assertOptionRefused(trained, model, "--rho", "0.5,abc,1", "--rho: \"abc\" (expert 2) is not a number");
        assertOptionRefused(trained, model, "--rho", "0.5,1", "expected auto, theory, uniform or 3 comma-separated margins");
        // Beyond what the float32 kernels take (1/rho): named by the option and the expert counted from 1.
        assertOptionRefused(trained, model, "--rho", "1e300,1,1",
                "--rho: the margin of expert 1 is 1e300 (must be in [1.0E-30, 1.0E30]");
        assertOptionRefused(trained, model, "--rho", "1,1,0", "--rho: the margin of expert 3 is 0 (must be in");
    }

    @Test
    void anUnknownScaleIsNamed() throws IOException {
        Path data = labelled("lab.csv", 300, 10);
        Path model = tmp.resolve("m.mild");
        Run r = run("train", "--data", data.toString(), "--experts", "synthetic", "--blocks", "7,2,1", "--epochs", "2",
                "--scale", "unit", "--out", model.toString());
        assertRefusedBeforeTraining(r, model, "unknown scaling \"unit\" for --scale (known: columns, none)");
    }

    @Test
    void hiddenLayersTooWideForOneWeightArrayAreNamedNotACrash() throws IOException {
        Path data = labelled("lab.csv", 300, 10);
        Path model = tmp.resolve("m.mild");
        String[] synthetic = {"train", "--data", data.toString(), "--experts", "synthetic", "--blocks", "7,2,1"};
        // 100000 x 100000 = 1e10 weights between the two hidden layers: more than an int indexes.
        assertRefusedBeforeTraining(run(concat(synthetic, "--hidden", "100000,100000", "--out", model.toString())),
                model, "the network's weight layer 2 (100000 inputs x 100000 units) would have 10000000000 weights",
                "make the hidden layers narrower");
    }

    @Test
    void optionNumbersArePlainDecimals() throws IOException {
        Path data = labelled("lab.csv", 300, 10);
        Path model = tmp.resolve("m.mild");
        String[] trained = {"train", "--data", data.toString(), "--experts", "synthetic", "--blocks", "7,2,1"};
        assertOptionRefused(trained, model, "--lr", "1e-3f", "--lr must be a number, got \"1e-3f\"");
        assertOptionRefused(trained, model, "--epochs", "0x10", "--epochs must be a whole number, got \"0x10\""
                + " (or auto, the default)");
        assertOptionRefused(trained, model, "--patience", "0", "--patience must be between 1 and 1000000, got 0"
                + " (or auto, the default)");
        assertOptionRefused(trained, model, "--beta", "0,0.2d,0",
                "--beta takes numbers separated by commas, got \"0,0.2d,0\"");
        assertOptionRefused(trained, model, "--rho", "1,2f,1", "--rho: \"2f\" (expert 2) is not a number");
        // A whole number too large for an int is out of range, not "not a whole number".
        assertOptionRefused(trained, model, "--epochs", "99999999999",
                "--epochs must be between 1 and 1000000, got 99999999999");
        assertOptionRefused(trained, model, "--hidden", "64,99999999999",
                "--hidden: every value must be between 1 and 2147483647, got \"64,99999999999\"");
        // Decimal limits as a person writes them, not Java's "1.0E-12" and "1000.0".
        assertOptionRefused(trained, model, "--lr", "5000", "--lr must be between 1e-12 and 1000, got 5000");
        assertOptionRefused(trained, model, "--valid-fraction", "1", "--valid-fraction must be between 0 and 0.99, got 1");
    }

    @Test
    void badDestinationsFailBeforeTraining() throws IOException {
        Path data = labelled("lab.csv", 300, 10);
        Path model = tmp.resolve("m.mild");
        String[] trained = {"train", "--data", data.toString(), "--experts", "trained", "--blocks", "7,2,1", "--epochs", "2"};

        Path missingDir = tmp.resolve("nowhere").resolve("x.mild");
        Run r = run(concat(trained, "--out", missingDir.toString()));
        assertRefusedBeforeTraining(r, missingDir, "--out " + missingDir, "does not exist");

        Path plot = tmp.resolve("nowhere").resolve("x.png");
        r = run(concat(trained, "--out", model.toString(), "--plot", plot.toString()));
        assertRefusedBeforeTraining(r, model, "--plot " + plot, "does not exist");
        assertFalse(r.err().contains(".tmp"), "the message names the user's file, not a temporary one: " + r.err());

        // A --plot that is a directory: refused up front, and no temporary file is left beside it.
        Path dirPlot = tmp.resolve("dir.png");
        Files.createDirectory(dirPlot);
        Files.writeString(dirPlot.resolve("keep.txt"), "keep");
        r = run(concat(trained, "--out", model.toString(), "--plot", dirPlot.toString()));
        assertRefusedBeforeTraining(r, model, "--plot " + dirPlot, "is a directory");
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList());
        }
    }

    @Test
    void trainedExpertsNeedLabelsInTheValidFileAndTrainingRowsInEachBlock() throws IOException {
        Path data = labelled("lab.csv", 300, 10);
        Path model = tmp.resolve("m.mild");
        Path noLabels = write(tmp, "nolabelvalid.csv", "x0,x1,x2\n1,2,3\n4,5,6\n");
        Run r = run("train", "--data", data.toString(), "--experts", "trained", "--blocks", "7,2,1", "--valid",
                noLabels.toString(), "--epochs", "2", "--out", model.toString());
        assertRefusedBeforeTraining(r, model, "nolabelvalid.csv: no label column; trained experts need one in the --valid file");

        // Class 9 (expert 3's block) only in the validation file: the training rows have none of it, and with this
        // seed the 1% of other classes' rows drawn for expert 3 is empty too.
        Path nine = labelled("nine.csv", 27, 9);
        Path valid = labelled("valid10.csv", 20, 10);
        r = run("train", "--data", nine.toString(), "--valid", valid.toString(), "--test-fraction", "0", "--experts",
                "trained", "--blocks", "7,2,1", "--seed", "1", "--epochs", "2", "--out", model.toString());
        assertRefusedBeforeTraining(r, model, "nine.csv: trained expert 3 (class 9) has no training rows");
    }

    @Test
    void optionsTheLossDoesNotUseAreRefused() throws IOException {
        Path data = labelled("lab.csv", 200, 10);
        Path model = tmp.resolve("m.mild");
        String[] tdef = concat(tdefTraining(data, 2), "--out", model.toString());
        String[][] cases = {
                {"--rewards", "one-minus", "--rewards applies to --loss mild and compsum; tdef always uses sum-others"},
                {"--nu", "7", "--nu is the exponent of --loss compsum and multitask; tdef has a fixed exponent"},
                {"--rho-mean", "3", "--rho-mean (the mean margin of --rho theory and uniform) applies to --loss mild and"
                        + " compsum; tdef has fixed margins"},
                {"--search-epochs", "5", "--search-epochs (the epochs of the --rho auto search) applies to --loss mild"
                        + " and compsum; tdef has fixed margins"},
                {"--rho", "theory", "--rho applies to --loss mild and compsum; tdef has fixed margins"}};
        for (String[] c : cases) {
            assertRefusedBeforeTraining(run(concat(tdef, c[0], c[1])), model, c[2]);
        }
        String[] mild = {"train", "--data", data.toString(), "--experts", "synthetic", "--blocks", "7,2,1", "--epochs", "2",
                "--out", model.toString()};
        assertRefusedBeforeTraining(run(concat(mild, "--rho", "theory", "--search-epochs", "2")), model,
                "--search-epochs sets the epochs per grid point of --rho auto; with --rho theory there is no search");
        assertRefusedBeforeTraining(run(concat(mild, "--rho-mean", "2")), model,
                "--rho-mean sets the mean margin of --rho theory and uniform; with --rho auto it would be unused");
        assertRefusedBeforeTraining(run(concat(mild, "--nu", "2")), model, "mild is the logsumexp member");
        assertRefusedBeforeTraining(run(concat(new String[] {"train", "--data", data.toString(), "--experts", "synthetic",
                "--blocks", "7,2,1", "--loss", "ce", "--out", model.toString()}, "--rewards", "sum-others")), model,
                "ce trains on the oracle expert, without rewards");

        // Where they apply they are taken.
        Run ok = run(concat(mild, "--loss", "compsum", "--nu", "0.7", "--rho", "theory", "--rho-mean", "2",
                "--rewards", "realizable", "--json"));
        assertEquals(0, ok.code(), ok.err());
        String surrogate = (String) ((Map<?, ?>) Json.parse(ok.out().trim(), "train")).get("surrogate");
        assertTrue(surrogate.contains("nu=0.7") && surrogate.contains("(realizable)"), surrogate);
    }

    @Test
    void aFractionForASplitThatAFileReplacesIsRefused() throws IOException {
        Path data = labelled("lab.csv", 200, 10);
        Path other = labelled("other.csv", 40, 10);
        Path model = tmp.resolve("m.mild");
        String[] train = concat(tdefTraining(data, 1), "--out", model.toString());
        assertRefusedBeforeTraining(run(concat(train, "--valid", other.toString(), "--valid-fraction", "0.3")), model,
                "--valid FILE and --valid-fraction", "drop --valid-fraction");
        assertRefusedBeforeTraining(run(concat(train, "--test", other.toString(), "--test-fraction", "0.3")), model,
                "--test FILE and --test-fraction", "drop --test-fraction");
        // An option error: said before any file is read (this --valid file is not even CSV), with the pointer.
        Path unread = write(tmp, "unread.csv", "this is not, a data file\n\u0000\n");
        Run early = run(concat(train, "--valid", unread.toString(), "--valid-fraction", "0.3"));
        assertEquals(2, early.code(), early.err());
        assertTrue(early.err().contains("--valid FILE and --valid-fraction both say where")
                && early.err().contains("(see ./mild train --help)"), early.err());

        // A file with the other split's fraction, and a file without any fraction (the default), are fine.
        Run ok = run(concat(train, "--valid", other.toString(), "--test-fraction", "0.3", "--json"));
        assertEquals(0, ok.code(), ok.err());
        ok = run(concat(train, "--test", other.toString(), "--valid-fraction", "0.3", "--json"));
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void validationOrTestRowsThatAreTheTrainingRowsAreRefused() throws IOException {
        Path data = labelled("same.csv", 200, 10);
        Path model = tmp.resolve("m.mild");
        String[] train = concat(tdefTraining(data, 1), "--out", model.toString());
        assertRefusedBeforeTraining(run(concat(train, "--test", data.toString())), model,
                "--test is the same file as --data");
        // Another spelling of the same file.
        Path spelled = tmp.resolve("sub").resolve("..").resolve("same.csv");
        Files.createDirectories(tmp.resolve("sub"));
        assertRefusedBeforeTraining(run(concat(train, "--valid", spelled.toString())), model,
                "--valid is the same file as --data", "held out");
        Run ok = run(concat(train, "--test", labelled("held.csv", 60, 10).toString(), "--json"));
        assertEquals(0, ok.code(), ok.err());
    }

    /**
     * --valid and --test naming one file were accepted: the rows that chose rho and the stopping epoch then judged the
     * router, and its test figures looked better than they are (found by the command-line arguments review).
     */
    @Test
    void aTestFileThatIsTheValidationFileIsRefused() throws IOException {
        Path data = labelled("train.csv", 200, 10);
        Path held = labelled("held.csv", 60, 10);
        Path model = tmp.resolve("m.mild");
        String[] train = concat(tdefTraining(data, 1), "--out", model.toString(), "--valid", held.toString());
        assertRefusedBeforeTraining(run(concat(train, "--test", held.toString())), model,
                "--test is the same file as --valid", "held out from both");
        Path link = tmp.resolve("link.csv");
        Files.createSymbolicLink(link, held);
        assertRefusedBeforeTraining(run(concat(train, "--test", link.toString())), model,
                "--test is the same file as --valid");
        Run ok = run(concat(train, "--test", labelled("test.csv", 60, 10).toString(), "--json"));
        assertEquals(0, ok.code(), ok.err());
    }

    /**
     * --out onto a symbolic link (current.mild pointing at the model in use) renamed the new model over the link:
     * the link became a regular file and the model it pointed to stayed the old one. It is written through now, as
     * a shell's {@code >} does: the link stays, and the file it points to (existing or not yet) holds the new model.
     */
    @Test
    void aModelWrittenOntoASymbolicLinkReplacesTheFileItPointsTo() throws IOException {
        Path data = labelled("train.csv", 200, 10);
        Path models = Files.createDirectory(tmp.resolve("models"));
        Path v1 = models.resolve("v1.mild");
        Run r = run(concat(tdefTraining(data, 1), "--out", v1.toString()));
        assertEquals(0, r.code(), r.err());
        byte[] first = Files.readAllBytes(v1);
        // A relative link, resolved against the link's own directory.
        Path current = Files.createSymbolicLink(tmp.resolve("current.mild"), Path.of("models", "v1.mild"));
        r = run(concat(tdefTraining(data, 2), "--out", current.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isSymbolicLink(current), "the link stays a link");
        assertEquals(Path.of("models", "v1.mild"), Files.readSymbolicLink(current));
        byte[] second = Files.readAllBytes(v1);
        assertFalse(java.util.Arrays.equals(first, second), "v1.mild holds the two-epoch model now");
        // The same model as training straight into a file (the model files are deterministic for a seed).
        Path direct = tmp.resolve("direct.mild");
        r = run(concat(tdefTraining(data, 2), "--out", direct.toString()));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(direct), second);
        // A link to a file that does not exist yet: the file is created there, the link kept.
        Path next = Files.createSymbolicLink(tmp.resolve("next.mild"), models.resolve("v2.mild"));
        r = run(concat(tdefTraining(data, 1), "--out", next.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isSymbolicLink(next));
        assertArrayEquals(first, Files.readAllBytes(models.resolve("v2.mild")));
        // No temporary file left beside either.
        try (Stream<Path> left = Files.list(models)) {
            assertEquals(List.of("v1.mild", "v2.mild"), left.map(f -> f.getFileName().toString()).sorted().toList());
        }
        // A loop of links is named, and nothing is trained.
        Path loop = tmp.resolve("loop.mild");
        Files.createSymbolicLink(loop, loop.getFileName());
        r = run(concat(tdefTraining(data, 1), "--out", loop.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out " + loop + ": cannot follow its symbolic link (too many levels of symbolic"
                + " links)"), r.err());
    }

    @Test
    void theModelNeverReplacesAnInputOrAFileOfAnotherKind() throws IOException {
        Path data = labelled("victim.csv", 200, 10);
        byte[] original = Files.readAllBytes(data);
        String[] train = tdefTraining(data, 2);
        Run r = run(concat(train, "--out", data.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out " + data + ": this is the --data file"), r.err());
        // The same file by another path: a symbolic link and a detour through the parent directory.
        Path link = tmp.resolve("link.csv");
        Files.createSymbolicLink(link, data);
        r = run(concat(train, "--out", link.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("this is the --data file"), r.err());
        Path detour = tmp.resolve("sub");
        Files.createDirectory(detour);
        r = run(concat(train, "--out", detour.resolve("..").resolve("victim.csv").toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("this is the --data file"), r.err());
        // --plot on an input, or on the model.
        Path png = tmp.resolve("victim.png");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        r = run(concat(train, "--out", tmp.resolve("m.mild").toString(), "--plot", png.toString(), "--test", png.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--plot " + png + ": this is the --test file"), r.err());
        r = run(concat(train, "--out", tmp.resolve("same.png").toString(), "--plot", tmp.resolve("same.png").toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("this is the --plot file"), r.err());
        // An existing file that is not a model (notes.txt) or not a PNG image.
        Path notes = write(tmp, "notes.txt", "my notes");
        r = run(concat(train, "--out", notes.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out " + notes + ": exists and is not a MILD model file"), r.err());
        Path notPng = write(tmp, "notes.png", "my notes");
        r = run(concat(train, "--out", tmp.resolve("m.mild").toString(), "--plot", notPng.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--plot " + notPng + ": exists and is not a PNG image"), r.err());
        assertArrayEquals(original, Files.readAllBytes(data), "the data is untouched");
        assertEquals("my notes", Files.readString(notes));
        assertEquals("my notes", Files.readString(notPng));
        assertFalse(Files.exists(tmp.resolve("m.mild")));

        // An older model and an older plot are replaced.
        Path model = tmp.resolve("m.mild");
        Path plot = tmp.resolve("m.png");
        assertEquals(0, run(concat(train, "--out", model.toString(), "--plot", plot.toString())).code());
        r = run(concat(train, "--out", model.toString(), "--plot", plot.toString(), "--seed", "2"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Model saved to " + model) && r.out().contains("Plot: " + plot), r.out());
    }

    @Test
    void aNameTooLongForTheModelFileFailsBeforeTraining() throws IOException {
        String name = "\u00e9".repeat(40_000);   // 80,000 bytes in UTF-8
        StringBuilder sb = new StringBuilder("x0," + name + ",cost:a,cost:b\n");
        for (int i = 0; i < 40; i++) {
            sb.append(i).append(',').append(i % 3).append(',').append(i % 2).append(',').append(1 - i % 2).append('\n');
        }
        Path data = write(tmp, "longname.csv", sb.toString());
        Path model = tmp.resolve("m.mild");
        Run r = run("train", "--data", data.toString(), "--epochs", "2", "--out", model.toString());
        assertRefusedBeforeTraining(r, model, "longname.csv: the name of feature column \"" + name.substring(0, 20),
                "(feature column 2 of 2) is 80,000 bytes in UTF-8");
    }

    @Test
    void predictionModelsTakeClassesNotSeenInTraining() throws IOException {
        // Training sees classes 0..2; expert a is right on class 0, b on classes 1 and 2.
        StringBuilder train = new StringBuilder("x0,label,pred:a,pred:b\n");
        for (int i = 0; i < 90; i++) {
            int y = i % 3;
            train.append(y).append(',').append(y).append(',').append(y == 0 ? 0 : 1).append(',').append(y == 0 ? 2 : y)
                    .append('\n');
        }
        Path data = write(tmp, "pred2.csv", train.toString());
        Path model = tmp.resolve("pred2.mild");
        Run t = run("train", "--data", data.toString(), "--loss", "tdef", "--epochs", "2", "--out", model.toString());
        assertEquals(0, t.code(), t.err());
        // Class 3 was never seen: both experts predict another class there, so both pay 1 (the oracle too).
        Path eval = write(tmp, "pred3.csv", "x0,label,pred:a,pred:b\n0,0,0,2\n1,1,1,1\n3,3,0,2\n3,3,1,1\n3,3,2,0\n");
        Run e = run("eval", "--model", model.toString(), "--data", eval.toString(), "--json");
        assertEquals(0, e.code(), e.err());
        Map<?, ?> result = (Map<?, ?>) ((Map<?, ?>) Json.parse(e.out().trim(), "eval")).get("result");
        List<?> blocks = (List<?>) result.get("blocks");
        assertEquals(3, blocks.size(), e.out()); // the classes that occur: 0, 1 and 3 (no row of class 2)
        Map<?, ?> unseen = (Map<?, ?>) blocks.get(2);
        assertEquals("class 3 (not in training)", unseen.get("name"));
        assertEquals(3.0, unseen.get("rows"));
        assertEquals(1.0, unseen.get("oracleLoss"));
        assertEquals(1.0, unseen.get("deferralLoss"));
        assertEquals(3.0 / 5, (Double) result.get("oracleLoss"), 1e-12, "rows of classes 0 and 1 cost the oracle 0");
        Run text = run("eval", "--model", model.toString(), "--data", eval.toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("class 3 (not in training), 3 rows: oracle"), text.out());

        // Synthetic experts need the class's block: a label outside the training classes stays an error.
        Path lab = labelled("lab.csv", 200, 10);
        Path synthetic = tmp.resolve("synthetic.mild");
        assertEquals(0, run("train", "--data", lab.toString(), "--experts", "synthetic", "--blocks", "7,2,1", "--loss",
                "tdef", "--epochs", "2", "--out", synthetic.toString()).code());
        Path twelve = write(tmp, "twelve.csv", "x0,label,x1,x2\n1,1,1,1\n1,12,1,1\n");
        Run bad = run("eval", "--model", synthetic.toString(), "--data", twelve.toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("twelve.csv, line 3, column 2 (label): label 12 is outside the classes 0..9"), bad.err());
    }

    @Test
    void reportsByBlockPutClassesNotSeenInTrainingOnOneLineOfTheirOwn() {
        // Trained on classes 0..2 in blocks 0-1 and 2; the rows carry labels 0, 2, 4 and 1000000 (a list, not a range).
        ExpertSetup setup = new ExpertSetup(ExpertSetup.Source.PREDICTIONS, List.of("a", "b"), 3, new int[] {2, 1},
                new double[] {0, 0}, 1);
        float[] scores = {1, 0, 1, 0, 0, 1, 1, 0};          // the router picks a, a, b, a
        double[] costs = {0, 1, 1, 0, 1, 1, 1, 1};          // the oracle picks a, b, a (tie), a (tie)
        Evaluation.Result r = Evaluation.of(scores, costs, 4, new int[] {0, 2, 4, 1_000_000}, setup);
        assertEquals(List.of("classes 0-1", "class 2", "2 classes not in training (4, 1000000)"),
                r.blocks().stream().map(Evaluation.Block::name).toList());
        Evaluation.Block unseen = r.blocks().get(2);
        assertEquals(2, unseen.rows());
        assertEquals(1.0, unseen.loss());
        assertEquals(1.0, unseen.oracleLoss());
        assertArrayEquals(new double[] {0.5, 0.5}, unseen.ratios());
        assertArrayEquals(new double[] {1, 0}, unseen.oracleRatios());
        assertEquals(1, r.blocks().get(1).rows());
        assertArrayEquals(new double[] {0, 1}, r.blocks().get(1).oracleRatios());
    }

    /** In a --test or a --valid file, both standardized right after the standardizer is fitted. */
    @Test
    void aTestFileValueThatOverflowsStandardizationFailsBeforeTraining() throws IOException {
        StringBuilder train = new StringBuilder("x0,x1,cost:a,cost:b\n");
        for (int i = 0; i < 100; i++) {
            train.append(i % 10 / 10.0).append(',').append(i % 7 / 7.0).append(',').append(i % 2).append(',')
                    .append(1 - i % 2).append('\n');
        }
        Path data = write(tmp, "costs.csv", train.toString());
        // 1.5e38 is a valid float32 feature, but with the training split's scale (values in [0, 1]) it overflows.
        // The test file's columns in another order: the message names x0 by its place in that file.
        Path test = write(tmp, "far.csv", "x1,x0,cost:a,cost:b\n0.5,0.5,0,1\n0.5,1.5e38,0,1\n");
        Path model = tmp.resolve("far.mild");
        for (String option : new String[] {"--test", "--valid"}) {
            Run r = run("train", "--data", data.toString(), option, test.toString(), "--epochs", "2", "--out",
                    model.toString());
            assertRefusedBeforeTraining(r, model, "far.csv, line 3, column 2 (x0): value 1.5E38",
                    "lies too far from the training mean");
        }
    }

    @Test
    void costsBeyondFloat32WhenSummedNameTheirFileLineWhateverTheSeed() throws IOException {
        StringBuilder sb = new StringBuilder("x0,cost:a,cost:b,cost:c\n");
        for (int i = 0; i < 200; i++) {
            sb.append(i % 10).append(',').append(i == 100 ? "3e38,3e38,0" : (i % 3) + "," + ((i + 1) % 3) + ",1")
                    .append('\n');
        }
        Path data = write(tmp, "sum.csv", sb.toString());
        Path model = tmp.resolve("sum.mild");
        for (String seed : new String[] {"1", "2", "3"}) {
            Run r = run("train", "--data", data.toString(), "--rho", "uniform", "--epochs", "1", "--seed", seed,
                    "--out", model.toString());
            assertRefusedBeforeTraining(r, model, "sum.csv", "line 102", "the costs add up to 6.0E38");
        }
    }

    private static String[] concat(String[] head, String... tail) {
        List<String> all = new ArrayList<>(List.of(head));
        all.addAll(List.of(tail));
        return all.toArray(new String[0]);
    }
}
