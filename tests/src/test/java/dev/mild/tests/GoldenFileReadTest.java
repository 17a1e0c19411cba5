package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.io.GoldenCase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GoldenCase#readJson}, the reader behind {@code ./mild golden FILE}, in process: CliTest checks the same
 * refusals through a child JVM, which mutation testing does not see. Expected lines and byte offsets are counted
 * by hand from the bytes written here.
 */
class GoldenFileReadTest {

    @TempDir
    Path dir;

    private static final String DOCUMENT = "{\"a\": [1, 2.5],\n \"b\": \"x\"}\n";

    @Test
    void aByteOrderMarkIsSkippedAndTheDocumentReadAsWithoutIt() throws IOException {
        Path plain = dir.resolve("plain.json");
        Path marked = dir.resolve("marked.json");
        Files.writeString(plain, DOCUMENT);
        Files.writeString(marked, "\uFEFF" + DOCUMENT);
        Object root = GoldenCase.readJson(marked);
        assertEquals(GoldenCase.readJson(plain), root);
        Map<?, ?> m = assertInstanceOf(Map.class, root);
        assertEquals(List.of(1.0, 2.5), m.get("a"));
        assertEquals("x", m.get("b"));
    }

    @Test
    void aMarkAnywhereButTheStartIsNotSkipped() throws IOException {
        Path f = dir.resolve("late-mark.json");
        Files.writeString(f, " \uFEFF" + DOCUMENT);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    }

    @Test
    void aByteThatIsNotUtf8IsNamedByLineAndOffset() throws IOException {
        Path f = dir.resolve("latin1.json");
        // Line 1 is 8 bytes with its line feed ("{\"k\": 1,"), line 2 starts at offset 9: the 0xe9 of "caf\u00e9"
        // in Latin-1 sits after ` "caf` (5 bytes), at offset 14.
        byte[] head = "{\"k\": 1,\n \"caf".getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = new byte[head.length + 10];
        System.arraycopy(head, 0, bytes, 0, head.length);
        byte[] tail = {(byte) 0xe9, '"', ':', ' ', '2', '}', '\n', ' ', ' ', ' '};
        System.arraycopy(tail, 0, bytes, head.length, tail.length);
        Files.write(f, bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(f));
        assertEquals(f + ": not a golden JSON file: the bytes are not UTF-8 text (line 2, byte offset 14: 0xe9)",
                e.getMessage());
    }

    @Test
    void aGzippedFileIsNamedAsSuchWithTheCommandThatUnpacksIt() throws IOException {
        Path f = dir.resolve("cases.json.gz");
        ByteArrayOutputStream packed = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(packed)) {
            gz.write(DOCUMENT.getBytes(StandardCharsets.UTF_8));
        }
        Files.write(f, packed.toByteArray());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(f));
        assertEquals(f + ": not a golden JSON file: it is gzip-compressed data; unpack it first (gunzip)",
                e.getMessage());
    }

    @Test
    void aZipArchiveIsNamedAsSuch() throws IOException {
        Path f = dir.resolve("cases.zip");
        Files.write(f, new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0});
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(f));
        assertEquals(f + ": not a golden JSON file: it is a ZIP archive; unpack it first (unzip)", e.getMessage());
    }

    @Test
    void aDirectoryAndAMissingFileAreNamed() {
        InvalidInputException d = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(dir));
        assertEquals(dir + ": is a directory; give a golden JSON file", d.getMessage());
        Path missing = dir.resolve("missing.json");
        InvalidInputException m = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(missing));
        assertTrue(m.getMessage().startsWith(missing + ": cannot read golden file: "), m.getMessage());
    }

    @Test
    void invalidJsonIsNamedByTheFile() throws IOException {
        Path f = dir.resolve("cut.json");
        Files.writeString(f, DOCUMENT.substring(0, 12));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    }

    @Test
    void anEmptyFileIsRefusedNotTakenForAnEmptyDocument() throws IOException {
        Path f = dir.resolve("empty.json");
        Files.write(f, new byte[0]);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    }

    @Test
    void readGivesEveryCaseOfTheSharedGoldenFileByName() throws IOException {
        // The tests' copy of the shared file, through the public Path entry point. The names expected are taken from
        // the text by a regular expression, not by the JSON reader under test (each case has one "name", nothing
        // else has one).
        String text = Support.resource("surrogate-cases.json");
        Path file = Files.writeString(dir.resolve("surrogate-cases.json"), text);
        List<String> names = Pattern.compile("\"name\":\\s*\"([^\"]*)\"").matcher(text).results()
                .map(r -> r.group(1)).toList();
        assertTrue(names.size() > 10, "names: " + names);
        assertEquals(names, GoldenCase.read(file).stream().map(GoldenCase::name).toList());
    }
}
