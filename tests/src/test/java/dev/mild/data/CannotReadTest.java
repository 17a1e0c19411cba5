package dev.mild.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A data file that cannot be read says why. An unreadable file cannot be made here (the tests may run as root,
 * who reads everything), so the error is built from the exception the JDK throws for it: its message is only
 * the path, and the error used to repeat the path instead of saying "permission denied".
 */
class CannotReadTest {

    @Test
    void permissionDeniedIsSaidInWords() {
        Path file = Path.of("/data/costs.csv");
        assertEquals("/data/costs.csv: cannot read: permission denied",
                DataFiles.cannotRead(file, new AccessDeniedException(file.toString())).getMessage());
    }

    @Test
    void anotherFileSystemErrorGivesItsReasonOnce() {
        Path file = Path.of("/mnt/share/costs.csv");
        assertEquals("/mnt/share/costs.csv: cannot read: input/output error",
                DataFiles.cannotRead(file, new FileSystemException(file.toString(), null, "Input/output error"))
                        .getMessage());
    }
}
