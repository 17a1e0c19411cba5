package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.io.OutputFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing models and plots: a failed write names the user's file and leaves no temporary file behind. */
class OutputFileTest {
    @TempDir
    Path tmp;

    private List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(tmp)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFailedWriteNamesTheTargetAndRemovesItsTemporaryFile() throws IOException {
        // The rename fails: the target is a directory that is not empty.
        Path target = tmp.resolve("plot.png");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> OutputFile.write(target, new byte[] {1, 2, 3}, "the plot"));
        assertTrue(e.getMessage().startsWith(target + ": cannot write the plot"), e.getMessage());
        assertFalse(e.getMessage().contains(".tmp"), e.getMessage());
        assertEquals(List.of("plot.png"), names(), "no temporary file is left");
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));

        Path missing = tmp.resolve("nowhere").resolve("m.mild");
        e = assertThrows(InvalidInputException.class, () -> OutputFile.write(missing, new byte[] {1}, "the model"));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void checkLeavesNothingBehindAndAcceptsAFileOfItsKind() throws IOException {
        OutputFile.Kind kind = new OutputFile.Kind("thing", new byte[] {'T', 'H'});
        Path older = tmp.resolve("older.th");
        Files.write(older, new byte[] {'T', 'H', 9});
        OutputFile.check("--out", older, kind, Map.of());
        OutputFile.check("--out", tmp.resolve("new.th"), kind, Map.of());
        assertEquals(List.of("older.th"), names(), "the probe of the directory is removed");
        Path other = Files.writeString(tmp.resolve("other.th"), "TX");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> OutputFile.check("--out", other, kind, Map.of()));
        assertTrue(e.getMessage().contains("--out " + other + ": exists and is not a thing"), e.getMessage());
        e = assertThrows(InvalidInputException.class,
                () -> OutputFile.check("--out", tmp.resolve("./x/../new.th"), kind, Map.of("the input", tmp.resolve("new.th"))));
        assertTrue(e.getMessage().contains("this is the input"), e.getMessage());
    }

    /** The system's reasons join the messages in their lower case; a word in capitals stays as it is. */
    @Test
    void reasonsAreInTheMessagesLowerCase() {
        assertEquals("operation not permitted",
                OutputFile.reason(new java.nio.file.FileSystemException("f", null, "Operation not permitted")));
        assertEquals("NFS handle is stale", OutputFile.reason(new java.nio.file.FileSystemException("f", null,
                "NFS handle is stale")));
        assertEquals("permission denied", OutputFile.reason(new java.nio.file.AccessDeniedException("f")));
        assertEquals("no such file or directory", OutputFile.reason(new java.nio.file.NoSuchFileException("f")));
        assertEquals("Disk quota exceeded", OutputFile.reason(new IOException("Disk quota exceeded")));
    }
}
