package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.DocumentationTool;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file of core's main sources is fully documented: the JDK's javadoc with {@code -Xdoclint:all} reports nothing
 * for them. core has no module-info, so every package is on a user's class path (and the jar's automatic module
 * exports them all): the embedding API (README, "Embedding the kernel", "Embedding the router", "Backends"), the
 * math checker's API (MATH.md's formulas as code: the float64 reference and its error measures, the surrogates, the
 * deferral loss, rewards and rho), the trainer API (README, "Embedding the router": data sets, the training job, the
 * trainer and its parts), and the helpers the CLI and the backends share (checks, readers, golden files, output
 * files). A missing {@code @param}, {@code @return} or {@code @throws}, an undocumented public or protected member or
 * a broken reference fails the test, which lists every line the tool printed. The files are found by walking the
 * source tree, so a new file is checked without being listed here. The same holds for the main sources of the two
 * backend modules, kernels-simd and kernels-opencl.
 */
class ApiDocsTest {

    /** Surefire runs in the tests module's directory. */
    private static final Path CORE_SOURCES = Path.of("../core/src/main/java");

    /** A few files of each API named above, so that a wrong source path cannot pass by finding no files. */
    private static final List<String> EXPECTED_AMONG_CORE_FILES = List.of(
            "dev/mild/loss/Loss.java",
            "dev/mild/router/Router.java",
            "dev/mild/defer/Surrogate.java",
            "dev/mild/loss/ReferenceKernel.java",
            "dev/mild/router/Trainer.java",
            "dev/mild/data/Dataset.java",
            "dev/mild/InvalidInputException.java");

    @Test
    void everyFileOfCoreHasNoDoclintWarnings(@TempDir Path out) throws Exception {
        List<Path> files = javaFiles(CORE_SOURCES);
        for (String f : EXPECTED_AMONG_CORE_FILES) {
            Path p = CORE_SOURCES.resolve(f);
            assertTrue(files.contains(p), "missing source file " + p.toAbsolutePath());
        }
        assertNoDoclintWarnings("core's main sources", files, CORE_SOURCES.toString(), List.of(), out);
    }

    /**
     * The SIMD backend's public types too. Its sources use {@code jdk.incubator.vector}, and they refer to core's,
     * which javadoc reads from source as it documents only this module's files.
     */
    @Test
    void everyFileOfTheSimdBackendHasNoDoclintWarnings(@TempDir Path out) throws Exception {
        Path sources = Path.of("../kernels-simd/src/main/java");
        assertNoDoclintWarnings("kernels-simd's main sources", javaFiles(sources),
                sources + File.pathSeparator + CORE_SOURCES, List.of("--add-modules", INCUBATOR_VECTOR), out);
    }

    /** The OpenCL backend's public types too, compiled against the JOCL jar the tests run with. */
    @Test
    void everyFileOfTheOpenClBackendHasNoDoclintWarnings(@TempDir Path out) throws Exception {
        Path sources = Path.of("../kernels-opencl/src/main/java");
        assertNoDoclintWarnings("kernels-opencl's main sources", javaFiles(sources),
                sources + File.pathSeparator + CORE_SOURCES, List.of("-classpath", jarOf("org/jocl/CL.class")), out);
    }

    private static final String INCUBATOR_VECTOR = "jdk.incubator.vector";

    /**
     * The jar a class file is loaded from, found as a resource so that the class is not initialized (JOCL's
     * {@code CL} loads its native library when it is).
     */
    private static String jarOf(String classFile) throws Exception {
        URL url = ApiDocsTest.class.getClassLoader().getResource(classFile);
        assertNotNull(url, classFile + " is not on the tests' class path");
        assertTrue(url.getProtocol().equals("jar"), classFile + " is not in a jar: " + url);
        String jar = url.getPath().substring(0, url.getPath().indexOf("!/"));
        return Path.of(new URI(jar)).toString();
    }

    /** Every {@code .java} file under {@code root}, in a fixed order. */
    private static List<Path> javaFiles(Path root) throws IOException {
        assertTrue(Files.isDirectory(root), "missing source directory " + root.toAbsolutePath());
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".java"))
                    .sorted().toList();
        }
    }

    /**
     * Runs javadoc with {@code -Xdoclint:all} on {@code files} and fails listing every warning and error.
     *
     * @param sourcePath where javadoc finds the sources the files refer to
     * @param extra      more javadoc options (modules, class path)
     */
    private static void assertNoDoclintWarnings(String api, List<Path> files, String sourcePath, List<String> extra,
                                                Path out) throws Exception {
        DocumentationTool tool = ToolProvider.getSystemDocumentationTool();
        assertNotNull(tool, "no system documentation tool (a JRE instead of a JDK?)");
        assertTrue(!files.isEmpty(), "no source files for " + api);
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter printed = new StringWriter();
        boolean ok;
        try (StandardJavaFileManager fm = tool.getStandardFileManager(diagnostics, Locale.ROOT,
                StandardCharsets.UTF_8)) {
            List<String> options = new ArrayList<>(List.of(
                    "-Xdoclint:all", "-quiet", "-Xmaxwarns", "10000", "-Xmaxerrs", "10000",
                    "-encoding", "UTF-8",
                    "-d", out.toString(),
                    "-sourcepath", sourcePath));
            options.addAll(extra);
            DocumentationTool.DocumentationTask task = tool.getTask(printed, fm, diagnostics, null, options,
                    fm.getJavaFileObjectsFromPaths(files));
            task.setLocale(Locale.ROOT);
            ok = task.call();
        }
        List<String> problems = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.NOTE || d.getKind() == Diagnostic.Kind.OTHER
                    || isIncubatorNotice(d.getMessage(Locale.ROOT))) {
                continue;
            }
            String where = d.getSource() == null ? "" : d.getSource().getName() + ":" + d.getLineNumber() + ": ";
            problems.add(where + d.getKind().toString().toLowerCase(Locale.ROOT) + ": " + d.getMessage(Locale.ROOT));
        }
        for (String line : printed.toString().split("\\R")) {
            if ((line.contains("warning") || line.contains("error")) && !isIncubatorNotice(line)) {
                problems.add(line);
            }
        }
        if (!ok || !problems.isEmpty()) {
            fail("javadoc -Xdoclint:all " + (ok ? "succeeded" : "failed") + " with " + problems.size()
                    + " problem(s) in " + api + ":\n" + String.join("\n", problems));
        }
    }

    /** javac's notice that an incubator module is in use, which {@code --add-modules} for the SIMD backend causes. */
    private static boolean isIncubatorNotice(String message) {
        return message.contains("incubating module") && message.contains(INCUBATOR_VECTOR);
    }
}
