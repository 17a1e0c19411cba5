package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.DocumentationTool;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The public embedding API (README, "Embedding the kernel", "Embedding the router", "Backends") is fully
 * documented: the JDK's javadoc with {@code -Xdoclint:all} reports nothing for its eleven files. So is the math
 * checker's API, what a user who checks the math against MATH.md calls directly: the float64 reference and its
 * error measures, the named surrogates, the deferral loss and oracle, the rewards rules and the choice of rho. So is
 * the trainer API, what a service calls to train a router from its own rows (data sets, the training job and its
 * options, the trainer, the expert setup, the rho search, the standardizer, Adam, the network, the evaluation). A
 * missing {@code @param}, {@code @return} or {@code @throws}, an undocumented public member or a broken reference
 * fails the test, which lists every line the tool printed.
 */
class ApiDocsTest {

    /** Surefire runs in the tests module's directory. */
    private static final Path SOURCES = Path.of("../core/src/main/java");

    private static final List<String> EMBEDDING_API_FILES = List.of(
            "dev/mild/loss/Loss.java",
            "dev/mild/loss/LossConfig.java",
            "dev/mild/loss/LossKernel.java",
            "dev/mild/loss/Backends.java",
            "dev/mild/loss/KernelOptions.java",
            "dev/mild/loss/Tolerance.java",
            "dev/mild/router/Router.java",
            "dev/mild/router/RouterModel.java",
            "dev/mild/router/ModelFile.java",
            "dev/mild/router/DenseProduct.java",
            "dev/mild/InvalidInputException.java");

    /** MATH.md's formulas as code: the surrogate family's float64 truth, the deferral loss, rewards and rho. */
    private static final List<String> MATH_CHECKER_FILES = List.of(
            "dev/mild/defer/Surrogate.java",
            "dev/mild/defer/Deferral.java",
            "dev/mild/defer/Rewards.java",
            "dev/mild/defer/Rho.java",
            "dev/mild/loss/ReferenceKernel.java",
            "dev/mild/loss/GradientError.java",
            "dev/mild/loss/RandomBatch.java");

    /** What a service calls to train a router from its own rows (README, "Embedding the router"). */
    private static final List<String> TRAINER_API_FILES = List.of(
            "dev/mild/data/Dataset.java",
            "dev/mild/data/DataFiles.java",
            "dev/mild/router/RouterTraining.java",
            "dev/mild/router/TrainOptions.java",
            "dev/mild/router/Trainer.java",
            "dev/mild/router/Examples.java",
            "dev/mild/router/ExpertSetup.java",
            "dev/mild/router/RhoSearch.java",
            "dev/mild/router/Standardizer.java",
            "dev/mild/router/Adam.java",
            "dev/mild/router/Mlp.java",
            "dev/mild/router/Evaluation.java");

    @Test
    void theEmbeddingApiHasNoDoclintWarnings(@TempDir Path out) throws Exception {
        assertNoDoclintWarnings("the embedding API", EMBEDDING_API_FILES, out);
    }

    @Test
    void theMathCheckersApiHasNoDoclintWarnings(@TempDir Path out) throws Exception {
        assertNoDoclintWarnings("the math checker's API", MATH_CHECKER_FILES, out);
    }

    @Test
    void theTrainerApiHasNoDoclintWarnings(@TempDir Path out) throws Exception {
        assertNoDoclintWarnings("the trainer API", TRAINER_API_FILES, out);
    }

    private static void assertNoDoclintWarnings(String api, List<String> sources, Path out) throws Exception {
        DocumentationTool tool = ToolProvider.getSystemDocumentationTool();
        assertNotNull(tool, "no system documentation tool (a JRE instead of a JDK?)");
        List<Path> files = new ArrayList<>();
        for (String f : sources) {
            Path p = SOURCES.resolve(f);
            assertTrue(Files.isRegularFile(p), "missing source file " + p.toAbsolutePath());
            files.add(p);
        }
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter printed = new StringWriter();
        boolean ok;
        try (StandardJavaFileManager fm = tool.getStandardFileManager(diagnostics, Locale.ROOT,
                StandardCharsets.UTF_8)) {
            List<String> options = List.of(
                    "-Xdoclint:all", "-quiet", "-Xmaxwarns", "10000", "-Xmaxerrs", "10000",
                    "-encoding", "UTF-8",
                    "-d", out.toString(),
                    "-sourcepath", SOURCES.toString());
            DocumentationTool.DocumentationTask task = tool.getTask(printed, fm, diagnostics, null, options,
                    fm.getJavaFileObjectsFromPaths(files));
            task.setLocale(Locale.ROOT);
            ok = task.call();
        }
        List<String> problems = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.NOTE || d.getKind() == Diagnostic.Kind.OTHER) {
                continue;
            }
            String where = d.getSource() == null ? "" : d.getSource().getName() + ":" + d.getLineNumber() + ": ";
            problems.add(where + d.getKind().toString().toLowerCase(Locale.ROOT) + ": " + d.getMessage(Locale.ROOT));
        }
        for (String line : printed.toString().split("\\R")) {
            if (line.contains("warning") || line.contains("error")) {
                problems.add(line);
            }
        }
        if (!ok || !problems.isEmpty()) {
            fail("javadoc -Xdoclint:all " + (ok ? "succeeded" : "failed") + " with " + problems.size()
                    + " problem(s) in " + api + ":\n" + String.join("\n", problems));
        }
    }
}
