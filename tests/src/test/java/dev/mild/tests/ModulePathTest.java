package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.Loss;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import dev.mild.router.DenseProduct;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The library jars on the module path, as a modular program embeds them: each jar names its module in its manifest
 * ({@code Automatic-Module-Name}), so {@code --add-modules dev.mild.core,dev.mild.simd,dev.mild.opencl} resolves (without
 * the names, Java derived {@code mild.core} and the like from the file names), {@link java.util.ServiceLoader} finds
 * every backend and the dense products there, and each backend's loss agrees with the float64 reference. A child JVM
 * ({@link #main}) with the jars that {@code package} built on its module path and only this class on its class path.
 */
class ModulePathTest {

    @Test
    void theJarsWorkOnTheModulePathUnderTheirOwnNames() throws IOException, InterruptedException {
        Path core = jar("core", "mild-core-");
        Path simd = jar("kernels-simd", "mild-kernels-simd-");
        Path opencl = jar("kernels-opencl", "mild-kernels-opencl-");
        String jocl = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> Path.of(e).getFileName().toString().matches("jocl-.*\\.jar")).findFirst().orElseThrow();
        String modulePath = String.join(File.pathSeparator, core.toString(), simd.toString(), opencl.toString(), jocl);
        Path out = Files.createTempFile("module-path", ".txt");
        try {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--module-path", modulePath,
                    "--add-modules", "dev.mild.core,dev.mild.simd,dev.mild.opencl,jdk.incubator.vector",
                    "--enable-native-access=jocl",   // JOCL is a module here too (named from its file)
                    "-cp", Path.of(ModulePathTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                            .toString(),
                    ModulePathTest.class.getName())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child JVM did not end");
            String output = Files.readString(out);
            assertEquals(0, child.exitValue(), output);
            assertTrue(output.contains("module of Backends: dev.mild.core"), output);
            assertTrue(output.contains("dense product: simd"), output);
            for (String backend : List.of("simd", "scalar", "reference")) {
                assertTrue(output.contains(backend + ": agrees"), output);
            }
            // OpenCL may be missing on a machine (no PoCL); then the child says why instead.
            assertTrue(output.contains("opencl: agrees") || output.contains("opencl unavailable: "), output);
        } catch (java.net.URISyntaxException e) {
            throw new AssertionError(e);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** The jar {@code package} built in {@code module} (surefire runs in the tests module), not its test-jar. */
    private static Path jar(String module, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(Path.of("..", module, "target"))) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)
                    && f.getFileName().toString().endsWith(".jar") && !f.getFileName().toString().endsWith("-tests.jar"))
                    .findFirst().orElseThrow(() -> new AssertionError("no " + prefix + "*.jar in ../" + module
                            + "/target: run mvn package (the tests module's verify builds it)"));
        }
    }

    /** The child: where core was loaded from, and one small batch on every backend against the reference. */
    public static void main(String[] args) {
        System.out.println("module of Backends: " + Backends.class.getModule().getName());
        System.out.println("dense product: " + DenseProduct.fastest().name());
        LossConfig config = LossConfig.of(new double[] {1.0, 0.5, 0.25}, null, 1.0);
        int rows = 5;
        float[] scores = {1, 2, 3, -1, 0, 1, 0.5f, 0.5f, 0.5f, 4, -2, 0, 0, 0, 7};
        float[] weights = {0.2f, 0.3f, 0.5f, 1, 0, 0, 0, 1, 0, 0.5f, 0.25f, 0.25f, 1, 1, 1};
        double[] d = new double[scores.length];
        double[] w = new double[weights.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = scores[i];
            w[i] = weights[i];
        }
        double expected = ReferenceKernel.evaluate(config, rows, d, w, new double[rows], new double[d.length], null,
                new double[d.length]);
        Map<String, String> unavailable = new TreeMap<>();
        for (Backends.Info info : Backends.list()) {
            if (info.unavailableReason() != null) {
                unavailable.put(info.name(), info.unavailableReason());
            }
        }
        unavailable.forEach((name, why) -> System.out.println(name + " unavailable: " + why));
        for (String name : Backends.availableNames()) {
            try (LossKernel kernel = Backends.open(name, KernelOptions.threads(1))) {
                double got = new Loss(config, kernel).evaluate(scores, weights, new float[rows], new float[d.length]);
                boolean agrees = Math.abs(got - expected) <= Tolerance.FLOAT32.lossRelative() * Math.max(1, Math.abs(expected));
                System.out.println(name + ": " + (agrees ? "agrees" : "differs") + " (" + got + " against " + expected + ")");
            }
        }
    }
}
