package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.loss.Backends;
import dev.mild.loss.Loss;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.KernelOptions;
import dev.mild.router.DenseProduct;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The expected backends are discovered, and the automatic choice follows the stated order. */
class BackendDiscoveryTest {

    @Test
    void expectedBackendsAreDiscovered() {
        List<String> listed = Backends.list().stream().map(Backends.Info::name).toList();
        for (String expected : List.of("reference", "scalar")) {
            assertTrue(listed.contains(expected), expected + " not discovered; found " + listed);
        }
        assertTrue(Backends.availableNames().containsAll(List.of("reference", "scalar")));
        for (String required : Support.required()) {
            assertTrue(Backends.availableNames().contains(required), required + " is required but: "
                    + Backends.unavailableSummary());
        }
    }

    /**
     * simd is the default where jdk.incubator.vector is added; in the surefire run without it (mild.test.noVector)
     * it is still listed, unavailable with the reason that says what to pass, and scalar takes over.
     */
    @Test
    void simdIsTheDefaultWithTheVectorModuleAndScalarWithout() {
        Backends.Info simd = Backends.list().stream().filter(b -> b.name().equals("simd")).findFirst()
                .orElseThrow(() -> new AssertionError("simd not discovered: " + Backends.list()));
        if (Boolean.getBoolean("mild.test.noVector")) {
            assertFalse(simd.available());
            assertEquals("jdk.incubator.vector is not added: pass --add-modules jdk.incubator.vector",
                    simd.unavailableReason());
            assertEquals("scalar", Backends.defaultName());
        } else {
            assertTrue(simd.available(), simd.unavailableReason());
            assertEquals("simd", Backends.defaultName());
        }
    }

    /** The router's dense product follows the same rule: simd with the module, plain without, and says why. */
    @Test
    void theDenseProductIsSimdWithTheVectorModuleAndPlainWithout() {
        if (Boolean.getBoolean("mild.test.noVector")) {
            assertEquals("plain", DenseProduct.fastest().name());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DenseProduct.named("simd"));
            assertEquals("dense product 'simd' cannot run here: jdk.incubator.vector is not added: pass --add-modules"
                    + " jdk.incubator.vector", e.getMessage());
        } else {
            assertEquals("simd", DenseProduct.fastest().name());
            assertEquals("simd", DenseProduct.named("simd").name());
        }
        assertEquals("plain", DenseProduct.named("plain").name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DenseProduct.named("gpu"));
        assertEquals("no dense product called 'gpu' (present: plain, simd)", e.getMessage());
    }

    /**
     * A dense product named by {@code -Dmild.dense} (as every {@code Router} built then asks for it) comes from the
     * implementations loaded once, not from a service-loader scan per call: a scan makes a new instance each time.
     */
    /** A bad -Dmild.dense said "no dense product called 'gpu'" without naming the Java option it came from. */
    @Test
    void aBadDenseProductPropertyIsNamedAsTheJavaOption() {
        withProperty(DenseProduct.PROPERTY, "gpu", () -> ValidationTest.fails(DenseProduct::fastest,
                "-Dmild.dense=gpu (a Java option, e.g. in MILD_JVM_OPTS): no dense product called 'gpu' (present:"
                        + " plain, simd)"));
    }

    @Test
    void aNamedDenseProductIsLoadedOnce() {
        assertSame(DenseProduct.named("plain"), DenseProduct.named("plain"));
        if (!Boolean.getBoolean("mild.test.noVector")) {
            assertSame(DenseProduct.named("simd"), DenseProduct.named("simd"));
            withProperty(DenseProduct.PROPERTY, "simd", () -> {
                assertSame(DenseProduct.fastest(), DenseProduct.fastest());
                assertSame(DenseProduct.named("simd"), DenseProduct.fastest());
            });
        }
    }

    /** Runs {@code body} with the system property set to {@code value}, then puts back what was there. */
    private static void withProperty(String name, String value, Runnable body) {
        String before = System.getProperty(name);
        System.setProperty(name, value);
        try {
            body.run();
        } finally {
            if (before == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, before);
            }
        }
    }

    @Test
    void openclIsListedByNameOnlyWithItsDeviceOrWhyItCannotRun() {
        Backends.Info opencl = Backends.list().stream().filter(b -> b.name().equals("opencl")).findFirst()
                .orElseThrow(() -> new AssertionError("opencl not discovered; found " + Backends.list()));
        assertTrue(!opencl.automatic(), "opencl is only used when asked for by name");
        assertTrue(opencl.available() ? opencl.description().contains(" on ") : opencl.unavailableReason().contains("install"),
                opencl.toString());
    }

    /**
     * Every Loss.of shares one backend: a caller that closed its loss's kernel (try-with-resources on an
     * AutoCloseable) made every later Loss.of in the process throw "backend is closed".
     */
    @Test
    void closingTheSharedBackendLeavesItUsable() {
        LossConfig config = LossConfig.mild(0.5, 1.0);
        try (LossKernel mine = Loss.of(config).kernel()) {
            assertEquals(Backends.defaultName(), mine.name());
        }
        float[] grad = new float[2];
        double mean = Loss.of(config).evaluate(new float[] {0f, 0f}, new float[] {1f, 0f}, null, grad);
        assertEquals(Math.log(2.0), mean, 1e-6, "equal scores, one expert of weight 1: log 2");
    }

    @Test
    void referenceIsNeverTheAutomaticChoice() {
        Backends.Info ref = Backends.list().stream().filter(b -> b.name().equals("reference")).findFirst().orElseThrow();
        assertTrue(!ref.automatic());
        assertTrue(!Backends.defaultName().equals("reference"));
    }

    @Test
    void propertyForcesABackend() {
        String old = System.getProperty(Backends.PROPERTY);
        try {
            System.setProperty(Backends.PROPERTY, "reference");
            assertEquals("reference", Backends.defaultName());
            System.setProperty(Backends.PROPERTY, "no-such-backend");
            ValidationTest.fails(Backends::defaultName, "unknown backend \"no-such-backend\"");
            // Named as the Java option it came from (MILD_JVM_OPTS), not taken for a --backend the user never gave.
            ValidationTest.fails(Backends::defaultName, "-Dmild.backend=no-such-backend (a Java option, e.g. in"
                    + " MILD_JVM_OPTS): unknown backend");
            ValidationTest.fails(() -> Backends.openDefault(KernelOptions.DEFAULT), "-Dmild.backend=no-such-backend");
        } finally {
            if (old == null) {
                System.clearProperty(Backends.PROPERTY);
            } else {
                System.setProperty(Backends.PROPERTY, old);
            }
        }
    }

    /**
     * The automatic choice asks only the automatic backends whether they can run: asking opencl starts the OpenCL
     * platform (JOCL's native library, the ICD loader, PoCL), which a run on simd or scalar has no use for. Checked
     * by the classes a fresh JVM loads ({@code -Xlog:class+load}): none of JOCL's for the automatic choice, JOCL's
     * for {@link Backends#list()} (so the check can see them).
     */
    @Test
    void theAutomaticChoiceDoesNotStartOpenCl() throws IOException, InterruptedException {
        String auto = childClassLoads("default");
        assertTrue(auto.contains("chose "), auto);
        assertFalse(auto.contains("org.jocl."), "the automatic choice loaded JOCL:\n" + auto.lines()
                .filter(l -> l.contains("org.jocl.")).limit(5).toList());
        String all = childClassLoads("list");
        assertTrue(all.contains("listed "), all);
        assertTrue(all.contains("org.jocl."), "listing every backend asks opencl, which loads JOCL");
    }

    private static String childClassLoads(String what) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info", "--enable-native-access=ALL-UNNAMED"));
        if (!Boolean.getBoolean("mild.test.noVector")) {
            cmd.addAll(List.of("--add-modules", "jdk.incubator.vector"));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ChooseInChild.class.getName(), what));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** The child JVM of {@link #theAutomaticChoiceDoesNotStartOpenCl}. */
    static final class ChooseInChild {
        public static void main(String[] args) {
            if (args[0].equals("default")) {
                try (LossKernel k = Backends.openDefault(KernelOptions.threads(1))) {
                    System.out.println("chose " + k.name());
                }
            } else {
                System.out.println("listed " + Backends.list().stream().map(Backends.Info::name).toList());
            }
        }
    }
}
