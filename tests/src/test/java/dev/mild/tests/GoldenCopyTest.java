package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.mild.testing.Required;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The golden files in the test resources are byte-for-byte copies of ../shared/golden (never edited). Without
 * ../shared beside the checkout the test is skipped, unless the full environment is required (.ci/run): then
 * it fails.
 */
class GoldenCopyTest {
    @Test
    void resourcesAreUnchangedCopiesOfShared() throws IOException {
        Path shared = Support.sharedDir();
        if (shared == null) {
            Support.missing(Required.fullEnvironment(), "../shared is not beside this checkout; nothing to compare with");
        }
        for (String name : new String[] {"surrogate-cases.json", "deferral-cases.json"}) {
            byte[] original = Files.readAllBytes(shared.resolve("golden").resolve(name));
            byte[] copy = Support.resource(name).getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(original, copy, name + " differs from ../shared/golden/" + name);
        }
    }
}
