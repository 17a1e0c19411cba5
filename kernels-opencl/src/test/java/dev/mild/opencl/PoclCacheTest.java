package dev.mild.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PoclCache#problem}: PoCL's cache directory from the environment, in PoCL's order, and whether it can be
 * created, on directories made here (a regular file where a directory should be stands for a home that cannot take
 * one, since root may write anywhere; PermissionsTest runs a real PoCL as nobody with a home it may not write).
 */
class PoclCacheTest {
    @TempDir
    Path tmp;

    private static Map<String, String> env(String... pairs) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    private static final String ADVICE = "; set POCL_CACHE_DIR to a writable directory, e.g."
            + " POCL_CACHE_DIR=/tmp/pocl-cache";

    @Test
    void aHomeThatCanTakeTheCacheIsNoProblem() {
        assertNull(PoclCache.problem(env("HOME", tmp.toString())));
        assertNull(PoclCache.problem(env()), "no variable: PoCL uses /tmp, nothing to say");
    }

    @Test
    void aHomeUnderARegularFileIsNamedWithTheDirectoryPoclWants() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        String home = file.resolve("home").toString();
        assertEquals("PoCL lists no device, or builds nothing, when it cannot write its kernel cache, and " + home + "/.cache/pocl/kcache"
                + " (from HOME=" + home + ") cannot be created or written: " + file + " is not a directory" + ADVICE,
                PoclCache.problem(env("HOME", home)));
    }

    @Test
    void theVariablesAreReadInPoclsOrder() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        String bad = file.resolve("c").toString();
        String good = tmp.toString();
        // POCL_CACHE_DIR first, used as it is.
        assertEquals("PoCL lists no device, or builds nothing, when it cannot write its kernel cache, and " + bad + " (from"
                + " POCL_CACHE_DIR=" + bad + ") cannot be created or written: " + file + " is not a directory" + ADVICE,
                PoclCache.problem(env("POCL_CACHE_DIR", bad, "XDG_CACHE_HOME", good, "HOME", good)));
        assertNull(PoclCache.problem(env("POCL_CACHE_DIR", good, "HOME", bad)));
        // Then XDG_CACHE_HOME unless empty, with pocl/kcache (pocl/uncached without the kernel cache).
        assertEquals("PoCL lists no device, or builds nothing, when it cannot write its kernel cache, and " + bad + "/pocl/uncached (from"
                + " XDG_CACHE_HOME=" + bad + ") cannot be created or written: " + file + " is not a directory" + ADVICE,
                PoclCache.problem(env("XDG_CACHE_HOME", bad, "HOME", good, "POCL_KERNEL_CACHE", "0")));
        assertNull(PoclCache.problem(env("XDG_CACHE_HOME", good, "HOME", bad)));
        assertEquals("PoCL lists no device, or builds nothing, when it cannot write its kernel cache, and " + bad + "/.cache/pocl/kcache"
                + " (from HOME=" + bad + ") cannot be created or written: " + file + " is not a directory" + ADVICE,
                PoclCache.problem(env("XDG_CACHE_HOME", "", "HOME", bad)));
    }
}
