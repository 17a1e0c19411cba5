package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.InvalidInputException;
import dev.mild.io.GoldenCase;
import dev.mild.io.GoldenCheck;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.RowBlockKernel;
import dev.mild.loss.Tolerance;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every backend present, on every case of ../shared/golden/surrogate-cases.json (float64 values computed
 * independently): per-row loss, mean loss and the gradient of the mean, within {@link Tolerance}.
 */
class GoldenTest {

    static double lossRelErr(double[] got, double[] want) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1.0, Math.abs(want[i])));
            if (Double.isNaN(got[i])) {
                return Double.NaN;
            }
        }
        return worst;
    }

    static double gradErr(double[] got, double[] want) {
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < want.length; i++) {
            if (Double.isNaN(got[i])) {
                return Double.NaN;
            }
            diff = Math.max(diff, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }

    /**
     * A golden file larger than the heap can parse failed with the general out-of-memory message (over 2 GiB,
     * "Required array size too large"), naming no file. It is now refused before reading, with its size and the
     * limit. The files are sparse (no disk used): one as large as the heap (or, with a heap over 2 GiB, as one Java
     * string), which the heap can never hold parsed, and one of 2 GiB, more than a string holds whatever the heap.
     */
    @Test
    void aGoldenFileTooLargeForTheHeapIsRefusedBeforeReading(@TempDir Path dir) throws IOException {
        long heap = Runtime.getRuntime().maxMemory();
        assumeTrue(heap < (1L << 40), "no heap limit to test against");
        long heapSized = Math.min(heap, Integer.MAX_VALUE - 8);
        String m = refused(dir.resolve("heap-sized.json"), heapSized);
        assertTrue(m.contains(" with a Java heap of " + String.format(Locale.ROOT, "%,.1f MiB", heap / 1048576.0)
                + ": give Java a heap of "), m);
        assertTrue(m.contains("-Xmx"), m);
        m = refused(dir.resolve("over-2-GiB.json"), 1L << 31);
        assertTrue(m.endsWith("the limit is 2,048.0 MiB, the most one Java string holds: split the cases into several"
                + " files"), m);
    }

    private static String refused(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> GoldenCase.readJson(file));
        String m = e.getMessage();
        assertTrue(m.startsWith(file + ": the golden file of " + String.format(Locale.ROOT, "%,d", size) + " bytes ("),
                m);
        assertTrue(m.contains("is too large to read: it is parsed whole in memory"), m);
        return m;
    }

    /**
     * core's GoldenCheck (./mild golden, demo --family, the deferral checks) must report a NaN output as NaN,
     * which no tolerance accepts, wherever it sits: also when a finite error follows it.
     */
    @Test
    void goldenCheckErrorsKeepANaNWhereverItIs() {
        double[] want = {1.0, 2.0, 3.0};
        for (int at = 0; at < want.length; at++) {
            double[] got = {1.5, 2.5, 3.5};
            got[at] = Double.NaN;
            String where = "NaN at index " + at;
            assertTrue(Double.isNaN(GoldenCheck.maxAbsDiff(got, want)), where);
            assertTrue(Double.isNaN(GoldenCheck.lossRelErr(got, want)), where);
            assertTrue(Double.isNaN(GoldenCheck.gradErr(got, want)), where);
            assertFalse(Tolerance.FLOAT32.accepts(GoldenCheck.lossRelErr(got, want), 0.0), where);
        }
        double[] finite = {1.5, 2.5, 3.25};
        assertEquals(0.5, GoldenCheck.maxAbsDiff(finite, want));
        assertEquals(0.5, GoldenCheck.lossRelErr(finite, want)); // 0.5 / max(1, 1) at index 0
        assertEquals(0.5 / 3.0, GoldenCheck.gradErr(finite, want));
    }

    @Test
    void goldenFileHasTheCasesWeRelyOn() {
        List<String> names = Support.surrogateCases().stream().map(GoldenCase::name).toList();
        assertTrue(names.size() >= 15, "surrogate-cases.json should hold at least 15 cases, has " + names.size());
        for (String n : List.of("huge-scores-p8", "tiny-rho-p5", "additive-margin-p4", "p1", "p2",
                "batch257-p9-distinct", "batch300-p16-equal", "compsum-nu0.0-p4", "realizable-mae-p4")) {
            assertTrue(names.contains(n), "missing golden case " + n);
        }
    }

    @Test
    void referenceMatchesGoldenInFloat64() {
        assertMatchesGoldenInFloat64(ReferenceKernel::evaluate);
    }

    /** A float64 evaluation of the family: fills per-row losses and the gradient of the mean, returns the mean. */
    @FunctionalInterface
    interface Float64Loss {
        double evaluate(LossConfig config, int rows, double[] scores, double[] weights, double[] rowLoss, double[] grad);
    }

    /** {@code loss} on every case of the golden file, within {@link Tolerance#FLOAT64}. */
    static void assertMatchesGoldenInFloat64(Float64Loss loss) {
        for (GoldenCase c : Support.surrogateCases()) {
            int p = c.config().experts();
            double[] rowLoss = new double[c.rows()];
            double[] grad = new double[c.rows() * p];
            double mean = loss.evaluate(c.config(), c.rows(), c.scores64(), c.weights64(), rowLoss, grad);
            Tolerance t = Tolerance.FLOAT64;
            assertTrue(lossRelErr(rowLoss, c.rowLoss()) <= t.lossRelative(),
                    c.name() + ": loss " + lossRelErr(rowLoss, c.rowLoss()));
            assertTrue(gradErr(grad, c.gradMeanLoss()) <= t.gradNormwise(),
                    c.name() + ": grad " + gradErr(grad, c.gradMeanLoss()));
            if (!Double.isNaN(c.meanLoss())) {
                assertEquals(c.meanLoss(), mean, t.lossRelative() * Math.max(1, Math.abs(c.meanLoss())), c.name() + ": mean");
            }
        }
    }

    /**
     * Every backend on every case as the file gives it (one thread: a case has at most 300 rows, less than one
     * chunk of {@link RowBlockKernel#CHUNK_ROWS}, which runs on the caller's thread whatever the thread count);
     * and every backend that splits rows over host threads on 2 and 5 threads with each case's rows repeated
     * over three chunks, so that the workers really compute golden rows ({@link #repeatedOverChunks}).
     */
    @TestFactory
    Stream<DynamicTest> everyBackendMatchesGolden() {
        List<DynamicTest> tests = new ArrayList<>();
        List<String> backends = new ArrayList<>(Support.fastBackends());
        backends.add(ReferenceKernel.NAME); // the float32-output path of the reference, at float32 tolerance
        for (String name : backends) {
            for (GoldenCase c : Support.surrogateCases()) {
                tests.add(dynamicTest(name + " " + c.name(), () -> {
                    try (LossKernel kernel = Backends.open(name, KernelOptions.threads(1))) {
                        check(kernel, c);
                    }
                }));
            }
        }
        for (String name : Support.hostThreadBackends()) {
            for (int threads : new int[] {2, 5}) {
                for (GoldenCase c : Support.surrogateCases()) {
                    GoldenCase big = repeatedOverChunks(c);
                    tests.add(dynamicTest(name + " x" + threads + " " + big.name(), () -> {
                        try (LossKernel kernel = Backends.open(name, KernelOptions.threads(threads))) {
                            check(kernel, big);
                        }
                    }));
                }
            }
        }
        return tests.stream();
    }

    /**
     * The case with its rows repeated until they fill more than two chunks of {@link RowBlockKernel#CHUNK_ROWS},
     * with the expected values that follow from the file's: each row's loss repeats, the mean stays, and the
     * gradient of the mean over {@code copies} times as many rows is the file's divided by {@code copies}.
     */
    static GoldenCase repeatedOverChunks(GoldenCase c) {
        int p = c.config().experts();
        int copies = (2 * RowBlockKernel.CHUNK_ROWS + 1 + c.rows() - 1) / c.rows();
        int rows = copies * c.rows();
        int n = c.rows() * p;
        float[] scores = new float[rows * p];
        float[] weights = new float[rows * p];
        double[] scores64 = new double[rows * p];
        double[] weights64 = new double[rows * p];
        double[] rowLoss = new double[rows];
        double[] grad = new double[rows * p];
        for (int copy = 0; copy < copies; copy++) {
            System.arraycopy(c.scores(), 0, scores, copy * n, n);
            System.arraycopy(c.weights(), 0, weights, copy * n, n);
            System.arraycopy(c.scores64(), 0, scores64, copy * n, n);
            System.arraycopy(c.weights64(), 0, weights64, copy * n, n);
            System.arraycopy(c.rowLoss(), 0, rowLoss, copy * c.rows(), c.rows());
            for (int i = 0; i < n; i++) {
                grad[copy * n + i] = c.gradMeanLoss()[i] / copies;
            }
        }
        return new GoldenCase(c.name() + " (rows repeated " + copies + " times, " + rows + " rows)", c.config(), rows,
                scores, weights, scores64, weights64, rowLoss, c.meanLoss(), grad);
    }

    /** {@code kernel} on golden case {@code c}, within {@link Tolerance#FLOAT32}; nothing written outside its ranges. */
    static void check(LossKernel kernel, GoldenCase c) {
        int p = c.config().experts();
        // Poison the outputs so a kernel that skips a row is caught.
        float[] loss = new float[c.rows() + 2];
        float[] grad = new float[c.rows() * p + 2];
        java.util.Arrays.fill(loss, Float.NaN);
        java.util.Arrays.fill(grad, Float.NaN);
        double mean = kernel.lossAndGradient(c.config(), c.rows(), c.scores(), 0, c.weights(), 0, loss, 1, grad, 1);
        double[] l = new double[c.rows()];
        double[] g = new double[c.rows() * p];
        for (int i = 0; i < l.length; i++) {
            l[i] = loss[i + 1];
        }
        for (int i = 0; i < g.length; i++) {
            g[i] = grad[i + 1];
        }
        String what = kernel.describe() + " " + c.name() + ": ";
        assertTrue(Float.isNaN(loss[0]) && Float.isNaN(loss[c.rows() + 1]), what + "wrote outside its rowLoss range");
        assertTrue(Float.isNaN(grad[0]) && Float.isNaN(grad[c.rows() * p + 1]), what + "wrote outside its grad range");
        Tolerance t = Tolerance.FLOAT32;
        double le = lossRelErr(l, c.rowLoss());
        double ge = gradErr(g, c.gradMeanLoss());
        assertFalse(Double.isNaN(le) || Double.isNaN(ge), what + "NaN in output");
        assertTrue(le <= t.lossRelative(), what + "lossRelErr " + le + " > " + t.lossRelative());
        assertTrue(ge <= t.gradNormwise(), what + "gradErr " + ge + " > " + t.gradNormwise());
        if (!Double.isNaN(c.meanLoss())) {
            assertEquals(c.meanLoss(), mean, t.lossRelative() * Math.max(1, Math.abs(c.meanLoss())), what + "mean loss");
        }
    }
}
