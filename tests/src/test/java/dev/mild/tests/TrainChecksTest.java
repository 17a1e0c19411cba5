package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.tests.CliTest.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** {@code rows} labelled rows of 3 features, label {@code i % classes}. */
    private Path labelled(String name, int rows, int classes) throws IOException {
        StringBuilder sb = new StringBuilder("x0,x1,x2,label\n");
        for (int i = 0; i < rows; i++) {
            int y = i % classes;
            sb.append(y).append(',').append(i % 7).append(',').append((i * 13) % 5).append(',').append(y).append('\n');
        }
        Path f = tmp.resolve(name);
        Files.writeString(f, sb.toString());
        return f;
    }

    private Path write(String name, String text) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, text);
        return f;
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
    void theModelNeverReplacesAnInputOrAFileOfAnotherKind() throws IOException {
        Path data = labelled("victim.csv", 200, 10);
        byte[] original = Files.readAllBytes(data);
        String[] train = {"train", "--data", data.toString(), "--experts", "synthetic", "--blocks", "7,2,1", "--loss", "tdef",
                "--epochs", "2"};
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
        Path notes = write("notes.txt", "my notes");
        r = run(concat(train, "--out", notes.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out " + notes + ": exists and is not a MILD model file"), r.err());
        Path notPng = write("notes.png", "my notes");
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
        Path data = write("longname.csv", sb.toString());
        Path model = tmp.resolve("m.mild");
        Run r = run("train", "--data", data.toString(), "--epochs", "2", "--out", model.toString());
        assertRefusedBeforeTraining(r, model, "longname.csv: the name of feature column \"" + name.substring(0, 20),
                "(feature column 2 of 2) is 80,000 bytes in UTF-8");
    }

    private static String[] concat(String[] head, String... tail) {
        List<String> all = new ArrayList<>(List.of(head));
        all.addAll(List.of(tail));
        return all.toArray(new String[0]);
    }
}
