package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.fail;

import dev.mild.io.GoldenCase;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.RowBlockKernel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** What the tests share: the backends under test, the golden resources, random inputs. */
final class Support {
    private Support() {
    }

    /**
     * Backends that must be present: {@code MILD_TEST_REQUIRE} (environment, set by .ci/run) or the
     * {@code mild.test.require} property, comma-separated.
     */
    static List<String> required() {
        String s = System.getenv("MILD_TEST_REQUIRE");
        if (s == null || s.isBlank()) {
            s = System.getProperty("mild.test.require", "");
        }
        if (Boolean.getBoolean("mild.test.noVector")) {
            return List.of();
        }
        return Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }

    /**
     * True for the CPU backends that split rows over {@code KernelOptions.threads}; a device backend (opencl)
     * schedules its own work-items, so a thread count does not reach it.
     */
    static boolean usesHostThreads(String name) {
        try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
            return k instanceof RowBlockKernel;
        }
    }

    /** Every usable backend except the float64 reference (which is the truth they are compared with). */
    static List<String> fastBackends() {
        List<String> names = new ArrayList<>(Backends.availableNames());
        names.remove(ReferenceKernel.NAME);
        for (String r : required()) {
            if (!names.contains(r)) {
                fail("backend " + r + " is required (MILD_TEST_REQUIRE) but not available: "
                        + Backends.unavailableSummary());
            }
        }
        return names;
    }

    static String resource(String name) {
        try (InputStream in = Support.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource golden/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<GoldenCase> surrogateCases() {
        return GoldenCase.parse(resource("surrogate-cases.json"), "surrogate-cases.json");
    }

    /** ../shared beside the repository, when present (CI has it; a bare clone may not). */
    static Path sharedDir() {
        String p = System.getProperty("mild.shared.dir");
        Path dir = p != null ? Path.of(p) : Path.of("..", "..", "shared");
        return Files.isDirectory(dir) ? dir.normalize() : null;
    }
}
