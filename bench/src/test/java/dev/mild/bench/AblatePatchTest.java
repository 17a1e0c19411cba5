package dev.mild.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * bench/ablate-exp.patch (bench/README.md) is a diff against the SIMD kernel's sources that is never committed
 * applied, so nothing else notices when the kernel changes under it: it stopped applying once already. Here
 * every hunk's old side (its context and removed lines) must still occur, in order and contiguous, in the file
 * it patches, which is what {@code git apply} needs (it also tolerates moved line numbers, as this does).
 */
class AblatePatchTest {
    private static final Path PATCH = Path.of("ablate-exp.patch"); // surefire runs in bench/

    /** A hunk: the file it patches and its old side, line by line. */
    private record Hunk(String file, int header, List<String> old) {
    }

    static List<Hunk> hunks(List<String> patch) {
        List<Hunk> hunks = new ArrayList<>();
        String file = null;
        List<String> old = null;
        int header = 0;
        for (int i = 0; i < patch.size(); i++) {
            String line = patch.get(i);
            if (line.startsWith("--- ")) {
                continue;
            }
            if (line.startsWith("+++ ")) {
                file = line.substring(4).replaceFirst("^b/", "");
                old = null;
            } else if (line.startsWith("@@")) {
                old = new ArrayList<>();
                header = i + 1;
                hunks.add(new Hunk(file, header, old));
            } else if (old != null && (line.startsWith(" ") || line.startsWith("-") || line.isEmpty())) {
                old.add(line.isEmpty() ? "" : line.substring(1)); // an empty context line may lose its space
            }
        }
        return hunks;
    }

    static boolean containsRun(List<String> lines, List<String> run) {
        for (int start = 0; start + run.size() <= lines.size(); start++) {
            if (lines.subList(start, start + run.size()).equals(run)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void everyHunkStillMatchesTheSourceItPatches() throws IOException {
        List<Hunk> hunks = hunks(Files.readAllLines(PATCH));
        assertFalse(hunks.isEmpty(), PATCH + ": no hunks");
        for (Hunk h : hunks) {
            Path source = Path.of("..").resolve(h.file());
            assertTrue(Files.exists(source), PATCH + " line " + h.header() + ": " + h.file() + " does not exist");
            if (!containsRun(Files.readAllLines(source), h.old())) {
                fail(PATCH + ", hunk at line " + h.header() + ": its context no longer matches " + h.file()
                        + "; make the ablation again on the current kernel (bench/README.md)");
            }
        }
    }

    /** The check itself refuses a hunk whose context moved on, and accepts one that only changed line number. */
    @Test
    void theMatchNeedsTheWholeOldSideInOrder() {
        List<Hunk> hunks = hunks(List.of("--- a/X.java", "+++ b/X.java", "@@ -10,3 +10,4 @@ class X {",
                " int a;", "-int b;", "+int c;", "", " int d;"));
        assertEquals(1, hunks.size());
        assertEquals(List.of("int a;", "int b;", "", "int d;"), hunks.get(0).old());
        assertTrue(containsRun(List.of("x", "int a;", "int b;", "", "int d;", "y"), hunks.get(0).old()));
        assertFalse(containsRun(List.of("int a;", "int b;", "int d;"), hunks.get(0).old()));
        assertFalse(containsRun(List.of("int b;", "int a;", "", "int d;"), hunks.get(0).old()));
    }
}
