package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.tests.CliTest.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's output does not depend on the user's locale: a script that reads {@code eval --json} or
 * {@code route}'s answers, or greps a message, gets the same bytes under German (decimal comma), Turkish (dotted and
 * dotless i), Egyptian Arabic and Persian (their own digits, by CLDR's default numbering) as under the root locale.
 * Each command runs in process with the default locale set, then restored.
 */
class LocaleTest {
    static final List<Locale> LOCALES = List.of(Locale.GERMANY, Locale.forLanguageTag("tr-TR"),
            Locale.forLanguageTag("ar-EG"), Locale.forLanguageTag("fa-IR"), Locale.forLanguageTag("hi-IN-u-nu-deva"));

    @TempDir
    Path tmp;

    /** CliTest's in-process run of the command, with the default locale set to {@code locale}, then restored. */
    static Run run(Locale locale, String input, String... args) {
        Locale before = Locale.getDefault();
        Locale beforeFormat = Locale.getDefault(Locale.Category.FORMAT);
        Locale beforeDisplay = Locale.getDefault(Locale.Category.DISPLAY);
        Locale.setDefault(locale);
        try {
            return CliTest.runWithInput(input, args);
        } finally {
            Locale.setDefault(before);
            Locale.setDefault(Locale.Category.FORMAT, beforeFormat);
            Locale.setDefault(Locale.Category.DISPLAY, beforeDisplay);
        }
    }

    /** The command under every locale of {@link #LOCALES}: the same exit code, output and errors as under ROOT. */
    static Run sameEverywhere(String input, String... args) {
        Run root = run(Locale.ROOT, input, args);
        for (Locale l : LOCALES) {
            Run r = run(l, input, args);
            assertEquals(root.code(), r.code(), l + ": " + r.err());
            assertEquals(root.out(), r.out(), l + ", output of " + String.join(" ", args));
            assertEquals(root.err(), r.err(), l + ", errors of " + String.join(" ", args));
        }
        return root;
    }

    /** Features x0..x2 and two experts' costs, written with a decimal point whatever the locale. */
    Path routingCsv(String name, int rows, long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder("x0,x1,x2,cost:small,cost:large\n");
        for (int i = 0; i < rows; i++) {
            double x0 = rnd.nextGaussian();
            sb.append(String.format(Locale.ROOT, "%.4f,%.4f,%.4f,%.1f,%.1f%n", x0, rnd.nextGaussian(),
                    rnd.nextGaussian(), (x0 > 0 ? 0 : 1) + 0.1, rnd.nextDouble() < 0.1 ? 1.5 : 0.5));
        }
        return Files.writeString(tmp.resolve(name), sb.toString());
    }

    @Test
    void evalRouteAndGoldenPrintTheSameBytesUnderEveryLocale() throws IOException {
        Path train = routingCsv("train.csv", 600, 1);
        Path test = routingCsv("test.csv", 200, 2);
        Path model = tmp.resolve("r.mild");
        Run t = run(Locale.ROOT, "", "train", "--data", train.toString(), "--epochs", "5", "--rho", "uniform", "--out",
                model.toString());
        assertEquals(0, t.code(), t.err());

        Run text = sameEverywhere("", "eval", "--model", model.toString(), "--data", test.toString());
        assertEquals(0, text.code(), text.err());
        Run json = sameEverywhere("", "eval", "--model", model.toString(), "--data", test.toString(), "--json");
        assertTrue(json.out().contains("\"deferralLoss\": 0."), json.out());
        Run route = sameEverywhere("x0,x1,x2\n0.5,-1.25,2\n-0.75,0.125,1e-3\n", "route", "--model", model.toString(),
                "--scores");
        assertEquals(0, route.code(), route.err());

        Path golden = Files.writeString(tmp.resolve("surrogate-cases.json"), Support.resource("surrogate-cases.json"));
        Run g = sameEverywhere("", "golden", golden.toString(), "--backend", "scalar");
        assertEquals(0, g.code(), g.err());
    }

    @Test
    void messagesWithNumbersUseAsciiDigitsUnderEveryLocale() throws IOException {
        // An IDX file of floats, which the reader names with its dimension count, and a bad cost value, named by
        // line and column.
        Path floats = Files.write(tmp.resolve("floats-idx3"), new byte[] {0, 0, 0x0d, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0,
            0, 1, 0, 0, 0, 0});
        Run idx = sameEverywhere("", "train", "--data", floats.toString(), "--epochs", "1");
        assertEquals(2, idx.code(), idx.out());
        assertTrue(idx.err().contains("an IDX file of 4-byte floats with 3 dimensions (magic 0x00000d03)"), idx.err());
        Path bad = Files.writeString(tmp.resolve("bad.csv"), "x0,cost:a,cost:b\n0.5,0.25,0.5\n1.5,2,abc\n");
        Run csv = sameEverywhere("", "train", "--data", bad.toString(), "--epochs", "1");
        assertEquals(2, csv.code(), csv.out());
        assertTrue(csv.err().contains("line 3"), csv.err());
    }
}
