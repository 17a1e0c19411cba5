package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.data.CsvReader;
import dev.mild.data.Dataset;
import dev.mild.io.GoldenCase;
import dev.mild.io.Json;
import dev.mild.router.ExpertSetup;
import dev.mild.router.Mlp;
import dev.mild.router.ModelFile;
import dev.mild.router.RouterModel;
import dev.mild.router.Standardizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The defects {@link ReaderFuzzTest} found, each on the exact input that showed it, with the expected values and
 * messages written by hand.
 */
class ReaderFuzzFindingsTest {

    static Dataset csv(String text) throws IOException {
        return CsvReader.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "f.csv");
    }

    /**
     * Cells were trimmed with String.trim, which drops every character up to U+0020, control characters included:
     * ".5" with its '.' (0x2E) flipped to 0x0E read as 5, and "2.5e-40" followed by 0x05 as 2.5e-40. Spaces and tabs
     * around a cell are padding; a control character is damage, refused as in any other place of a cell.
     */
    @Test
    void aControlCharacterAroundACellIsRefusedNotDropped() throws IOException {
        assertArrayEquals(new float[] {0.5f, 5f}, csv("x\n .5\t\n\t5 \n").features());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> csv("x\n\u000e5\n"));
        assertTrue(e.getMessage().startsWith("f.csv, line 2, column 1 (x): \"\\u000E5\" is not a number (it holds"
                + " U+000E SHIFT OUT"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> csv("x,cost:a\n1,2.5e-40\u0005\n"));
        assertTrue(e.getMessage().startsWith("f.csv, line 2, column 2 (cost:a): \"2.5e-40\\u0005\" is not a number"),
                e.getMessage());
    }

    /** The same in {@code route}'s rows on stdin, which split and pad cells as the CSV reader does. */
    @Test
    void routeRefusesAControlCharacterAroundACell(@TempDir Path tmp) {
        Mlp network = new Mlp(1, 2);
        network.weights(0)[0] = 1f;
        network.weights(0)[1] = -1f;
        RouterModel model = new RouterModel(List.of("x"), new Standardizer(new float[] {0f}, new float[] {1f},
                List.of("x")), network, new ExpertSetup(ExpertSetup.Source.COSTS, List.of("up", "down"), 0, new int[0],
                new double[] {0, 0}, 1), List.of(), Map.of());
        Path file = tmp.resolve("m.mild");
        ModelFile.save(model, file);
        CliTest.Run ok = CliTest.runWithInput(" .5\t\n-5\n", "route", "--model", file.toString());
        assertEquals(0, ok.code(), ok.err());
        assertEquals(List.of("up", "down"), ok.lines());
        CliTest.Run bad = CliTest.runWithInput("1\n\u000e5\n", "route", "--model", file.toString());
        assertEquals(2, bad.code(), bad.err());   // was 0, routing the row as 5
        assertTrue(bad.err().contains("stdin, line 2, column 1 (x): \"\\u000E5\" is not a number"), bad.err());
    }

    /** The same in the header: "\u000bx" was the feature x. */
    @Test
    void aControlCharacterAroundAHeaderNameIsRefusedNotDropped() throws IOException {
        assertEquals(List.of("x", "y"), csv(" x\t,\"y \"\n1,2\n").featureNames());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> csv("\u000bx,y\n1,2\n"));
        assertTrue(e.getMessage().startsWith("f.csv, line 1, column 1: the name \"\\u000Bx\" holds U+000B LINE"
                + " TABULATION"), e.getMessage());
    }

    /**
     * An info key stored twice (a model file whose damage kept its checksum right, or another writer): the later
     * entry replaced the earlier in silence, and the model saved again made another, shorter file. Found by the
     * reader fuzz writing the name "k1" over "k0".
     */
    @Test
    void aRepeatedInfoKeyIsRefused() {
        RouterModel hand = ModelFileTest.handModel(ExpertSetup.Source.COSTS, 0, new int[0]);
        Map<String, String> info = new LinkedHashMap<>();
        info.put("k0", "v1");
        info.put("k1", "v2");
        byte[] good = ModelFile.toBytes(new RouterModel(hand.featureNames(), hand.standardizer(), hand.network(),
                hand.experts(), hand.expertClassifiers(), info));
        byte[] twice = ModelFileTest.withChecksum(ModelFileTest.replaceOnce(good, "\0\2k1", "\0\2k0"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFile.fromBytes(twice, "m.mild"));
        assertEquals("m.mild: corrupt model file: the info entries: info entry 2 repeats the key \"k0\" of an earlier"
                + " one", e.getMessage());
    }

    /**
     * Damage in the expert setup was named by the setup's own words alone ("corrupt model file: unknown experts
     * \"\"", "corrupt model file: --blocks 127,-255,1: ..."), not by the part of the file, as other damage is.
     */
    @Test
    void damageInTheExpertSetupNamesThePart() {
        byte[] good = ModelFile.toBytes(ModelFileTest.handModel(ExpertSetup.Source.COSTS, 0, new int[0]));
        byte[] source = ModelFileTest.withChecksum(ModelFileTest.replaceOnce(good, "\0\5costs", "\0\5cos\"s"));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ModelFile.fromBytes(source, "m.mild"));
        assertEquals("m.mild: corrupt model file: the expert setup: unknown experts \"cos\"s\" (known: costs,"
                + " predictions, synthetic, trained)", e.getMessage());
        // beta of e1, 0.25 (0x3fd0...), made -0.25
        byte[] beta = ModelFileTest.withChecksum(ModelFileTest.replaceOnce(good, "\u003f\u00d0\0\0\0\0\0\0",
                "\u00bf\u00d0\0\0\0\0\0\0"));
        e = assertThrows(InvalidInputException.class, () -> ModelFile.fromBytes(beta, "m.mild"));
        assertEquals("m.mild: corrupt model file: the expert setup: beta of expert e1 is -0.25 (must be finite and"
                + " >= 0)", e.getMessage());
    }

    /**
     * Strings in encodings DataOutputStream.writeUTF never makes, which DataInputStream.readUTF takes all the same: a
     * raw 0 byte for U+0000 (modified UTF-8 writes C0 80), an overlong C1 81 for 'A'. Read, the name was not the one
     * written (a feature named "\u4e2d\u0000", which no CSV header can hold), and the model saved again made
     * another file. Found by the reader fuzz (a payload int set to 255 over a name's last byte, checksum recomputed).
     */
    @Test
    void aNameInAnEncodingTheWriterNeverMakesIsRefused() {
        byte[] good = ModelFile.toBytes(ModelFileTest.handModel(ExpertSetup.Source.COSTS, 0, new int[0]));
        for (String damaged : List.of("\0\2e\0", "\0\2\u00c1\u0081")) {
            byte[] file = ModelFileTest.withChecksum(ModelFileTest.replaceOnce(good, "\0\2e2", damaged));
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> ModelFile.fromBytes(file, "m.mild"));
            assertEquals("m.mild: corrupt model file: the expert setup: the name of expert 2 is not text (its bytes are"
                    + " not the modified UTF-8 a model file stores strings in)", e.getMessage());
        }
    }

    /**
     * Numbers with leading zeros, which RFC 8259 (that Json follows strictly) does not allow, were read: "0125", a
     * "0.125" that lost its '.', as 125. Found by the reader fuzz (number tokens "01", "00", "-01" in documents
     * written by the test).
     */
    @Test
    void aJsonNumberWithALeadingZeroIsRefused() {
        for (String number : List.of("0125", "00", "-01", "00.5", "01e2")) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> Json.parse("[" + number + "]", "t"));
            assertEquals("t: line 1, column 2: number " + number + " has a leading zero, which JSON numbers do not have"
                    + " (a lost '.'?)", e.getMessage());
        }
        assertEquals(List.of(0.0, -0.0, 0.125, 0.0, 10.0), Json.parse("[0, -0, 0.125, 0e1, 10]", "t"));
    }

    /**
     * JSON errors counted lines at LF only: in a document with CR line ends (which JSON allows as whitespace, and the
     * CSV reader counts as line ends) every error was on line 1, and a byte that is not UTF-8 in a golden file too.
     * Found by the reader fuzz (a stray character after lines ending in LF, CR LF or CR).
     */
    @Test
    void jsonErrorsCountCarriageReturnsAsLineEnds(@TempDir Path tmp) throws IOException {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Json.parse("[1,\r1,\r\n1,\r  x]", "t"));
        assertEquals("t: line 4, column 3: unexpected character 'x'", e.getMessage());
        Path file = tmp.resolve("cr.json");
        Files.write(file, new byte[] {'[', '1', ',', '\r', '1', ',', '\r', ' ', ' ', (byte) 0xff, ']'});
        e = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(file));
        assertEquals(file + ": not a golden JSON file: the bytes are not UTF-8 text (line 3, byte offset 9: 0xff)",
                e.getMessage());
    }
}
