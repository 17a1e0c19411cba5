package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.fail;

import dev.mild.io.GoldenCase;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.RowBlockKernel;
import dev.mild.simd.SimdKernel;
import dev.mild.testing.Required;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/** What the tests share: the backends under test, the golden resources, random inputs. */
final class Support {
    private Support() {
    }

    /**
     * Backends that must be present ({@link Required#names()}: {@code MILD_TEST_REQUIRE} and
     * {@code -Dmild.test.require}). The surefire run without jdk.incubator.vector ({@code mild.test.noVector})
     * cannot have simd, so it drops that one name and still requires the others (opencl).
     */
    static List<String> required() {
        List<String> names = Required.names();
        if (Boolean.getBoolean("mild.test.noVector")) {
            return names.stream().filter(n -> !n.equals(SimdKernel.NAME)).toList();
        }
        return names;
    }

    /**
     * For a test that cannot run here: fails with {@code message} when {@code required}, otherwise aborts the
     * test, so that it is reported as skipped with the message.
     */
    static void missing(boolean required, String message) {
        if (required) {
            fail(message + " (required here: " + Required.describe() + ")");
        }
        Assumptions.abort(message + "; skipped");
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

    /** The {@link #fastBackends} that split rows over host threads ({@link #usesHostThreads}). */
    static List<String> hostThreadBackends() {
        return fastBackends().stream().filter(Support::usesHostThreads).toList();
    }

    /** Every usable backend except the float64 reference (which is the truth they are compared with). */
    static List<String> fastBackends() {
        List<String> names = new ArrayList<>(Backends.availableNames());
        names.remove(ReferenceKernel.NAME);
        for (String r : required()) {
            if (!names.contains(r)) {
                fail("backend " + r + " is required (" + Required.describe() + ") but not available: "
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

    /**
     * The largest {@code |v_i|} (0 for none): the scale tests set their tolerances by, computed here rather than
     * through {@code GradientError}, whose measures some tests check.
     */
    static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    /**
     * Runs {@code main} in a child JVM under {@code ulimit -v} (6 GB of address space) with 256 MB thread stacks,
     * where about a dozen threads start and then the system refuses more ("unable to create native thread"), and
     * returns what it printed. Aborts the test (skipped) where that cannot run: not Linux, or the JVM does not start
     * under the limit.
     */
    static String underAThreadLimit(Class<?> main) throws IOException, InterruptedException {
        Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "needs bash's ulimit -v");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = "ulimit -v 6000000 && exec '" + javaBin + "' -Xmx64m -Xss256m -XX:CompressedClassSpaceSize=64m"
                + " -XX:ReservedCodeCacheSize=32m -XX:+UseSerialGC -Xlog:disable -Xlog:all=error:stderr"
                + " -cp '" + System.getProperty("java.class.path") + "' '" + main.getName() + "'"; // quoted: a $ in it
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true);
        pb.environment().put("MALLOC_ARENA_MAX", "2"); // glibc's per-thread arenas would take the address space
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        Process child = pb.start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            child.destroyForcibly();
            fail("the child JVM did not finish: " + out);
        }
        Assumptions.assumeFalse(out.contains("Error occurred during initialization of VM"),
                "the JVM does not start under this address-space limit here: " + out);
        return out;
    }
}
