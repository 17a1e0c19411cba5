package dev.mild.tests;

import static dev.mild.tests.ValidationTest.fails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.Loss;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * A kernel called directly ({@link LossKernel#lossAndGradient}, the trainers' path, which skips {@link Loss}'s pass
 * over the values) checks the call's shape before it writes anything: a short array, a negative offset or row
 * count, or a missing configuration is an error naming the array, and every output keeps its old contents. Before,
 * the CPU kernels threw an ArrayIndexOutOfBoundsException with most of the outputs written (or, on worker threads,
 * "a loss worker failed"), 0 rows less than zero returned -0.0, and OpenCL copied the whole gradient back before it
 * refused a short row-loss array. Also {@link Loss}'s weights bound and its form with an offset per array.
 */
class KernelCallChecksTest {
    static final float OLD = -777f;
    static final LossConfig CONFIG = LossConfig.mild(0.5, 1.0, 2.0);

    static List<String> backends() {
        List<String> all = new ArrayList<>(Support.fastBackends());
        all.add(ReferenceKernel.NAME);
        return all;
    }

    static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    /** One bad call on a backend: refused with the fragments in the message, and no output element changed. */
    static void refusedUntouched(LossKernel k, int rows, int scoresN, int scoresAt, int weightsN, int rowLossN,
                                 int rowLossAt, int gradN, int gradAt, String... fragments) {
        float[] scores = new float[scoresN];
        float[] weights = filled(weightsN, 1f);
        float[] rowLoss = rowLossN < 0 ? null : filled(rowLossN, OLD);
        float[] grad = gradN < 0 ? null : filled(gradN, OLD);
        fails(() -> k.lossAndGradient(CONFIG, rows, scores, scoresAt, weights, 0, rowLoss, rowLossAt, grad, gradAt),
                fragments);
        if (rowLoss != null) {
            assertArrayEquals(filled(rowLoss.length, OLD), rowLoss, k.name() + ": rowLoss written before the error");
        }
        if (grad != null) {
            assertArrayEquals(filled(grad.length, OLD), grad, k.name() + ": grad written before the error");
        }
    }

    @TestFactory
    Stream<DynamicTest> everyBackendRefusesABadCallBeforeWritingAnything() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : backends()) {
            for (int threads : Support.usesHostThreads(name) ? new int[] {1, 2} : new int[] {1}) {
                tests.add(dynamicTest(name + " on " + threads + " thread(s)", () -> {
                    try (LossKernel k = Backends.open(name, KernelOptions.threads(threads))) {
                        int n = 7 * 3;
                        // grad one element short; rowLoss one short; each with the other output complete
                        refusedUntouched(k, 7, n, 0, n, 7, 0, n - 1, 0, "grad", "20", "has 20");
                        refusedUntouched(k, 7, n, 0, n, 6, 0, n, 0, "rowLoss", "0..6", "has 6");
                        // scores short through its offset; a negative offset
                        refusedUntouched(k, 7, n, 1, n, 7, 0, n, 0, "scores", "offset 1", "1..21");
                        refusedUntouched(k, 7, n, 0, n, 7, -1, n, 0, "rowLoss", "offset -1", ">= 0");
                        refusedUntouched(k, 7, n - 3, 0, n, 7, 0, n, 0, "scores", "7 rows x 3 experts");
                        refusedUntouched(k, 7, n, 0, n - 1, 7, 0, n, 0, "weights", "has 20");
                        // several chunks: workers used to write their chunks, then the call failed
                        int big = 5000;
                        refusedUntouched(k, big, big * 3, 0, big * 3, big - 1, 0, big * 3, 0, "rowLoss", "has 4999");
                        refusedUntouched(k, -5, 0, 0, 0, 0, 0, 0, 0, "rows must be >= 0", "-5");
                        // grad overlapping the scores' range in one array
                        float[] both = new float[2 * n];
                        fails(() -> k.lossAndGradient(CONFIG, 7, both, 0, filled(n, 1f), 0, null, 0, both, n - 1),
                                "grad and scores are the same array");
                        fails(() -> k.lossAndGradient(null, 1, new float[3], 0, new float[3], 0, null, 0, null, 0),
                                "config is missing");
                        fails(() -> k.lossAndGradient(CONFIG, 1, null, 0, new float[3], 0, null, 0, null, 0),
                                "scores is missing");
                        // 0 rows at the very end of the arrays is a valid call
                        assertEquals(0.0, k.lossAndGradient(CONFIG, 0, new float[3], 3, new float[3], 3,
                                new float[1], 1, new float[3], 3));
                    }
                }));
            }
        }
        return tests.stream();
    }

    /**
     * An output right after or right before an input in one array shares no element with it: a valid call, with the
     * values of separate arrays (Checks.call's overlap test is strict at both ends; PIT's boundary mutants of it
     * refused these calls and no test noticed). Checks.call is every backend's, so the scalar one shows it.
     */
    @Test
    void anOutputBesideAnInputInOneArrayIsAccepted() {
        int n = 7 * 3;
        try (LossKernel k = Backends.open("scalar", KernelOptions.threads(1))) {
            float[] scores = new float[n];
            for (int i = 0; i < n; i++) {
                scores[i] = (float) Math.sin(i);
            }
            float[] apart = new float[n];
            double mean = k.lossAndGradient(CONFIG, 7, scores, 0, filled(n, 1f), 0, null, 0, apart, 0);
            float[] gradAfter = new float[2 * n];
            System.arraycopy(scores, 0, gradAfter, 0, n);
            assertEquals(mean, k.lossAndGradient(CONFIG, 7, gradAfter, 0, filled(n, 1f), 0, null, 0, gradAfter, n));
            assertArrayEquals(apart, java.util.Arrays.copyOfRange(gradAfter, n, 2 * n));
            float[] gradBefore = new float[2 * n];
            System.arraycopy(scores, 0, gradBefore, n, n);
            assertEquals(mean, k.lossAndGradient(CONFIG, 7, gradBefore, n, filled(n, 1f), 0, null, 0, gradBefore, 0));
            assertArrayEquals(apart, java.util.Arrays.copyOfRange(gradBefore, 0, n));
        }
    }

    /**
     * The review's cases: weights LossConfig accepted that overflow float32, where the backends split between
     * infinity and NaN. Loss now refuses them, naming the row.
     */
    @Test
    void weightsThatWouldOverflowAreRefusedNamingTheRow() {
        Loss sharp = new Loss(LossConfig.mild(1e-30, 1e-30), Backends.open("scalar", KernelOptions.threads(1)));
        fails(() -> sharp.evaluate(new float[] {0, 0, 0, 1}, new float[] {1, 1, 1e9f, 1e9f}, null, new float[4]),
                "weights", "row 1", "overflow float32", "Scale the");
        Loss plain = new Loss(LossConfig.mild(1.0, 1.0), Backends.open("scalar", KernelOptions.threads(1)));
        fails(() -> plain.evaluate(new float[] {0, 100}, new float[] {1e37f, 1e37f}, null, null),
                "weights", "row 0", "2.000e+37");
        // ... while ordinary weights pass, and the bound moves with the margins and the scores' spread
        assertEquals(plain.evaluate(new float[] {0, 100}, new float[] {3f, 1f}, null, null),
                new ReferenceKernel().lossAndGradient(plain.config(), 1, new float[] {0, 100}, 0, new float[] {3f, 1f},
                        0, null, 0, null, 0), 1e-5);
        assertTrue(plain.config().maxRowWeight(100) > 1e34);
        assertTrue(sharp.config().maxRowWeight(0) < 1e8);
        assertTrue(plain.config().maxRowWeight(1) > plain.config().maxRowWeight(100));
        // The bound by hand, from maxRowWeight's formula for p = 2, rho = 1, nu = 1: float32's largest value over
        // 16 p max(1, log 2 + spread, 2 a): 5.3e36 for tied scores, 9.9e35 for scores 10 apart. Weights summing to
        // 2e36 pass the first and not the second: the check takes the scores' own spread, not 0.
        assertEquals(2e36 * Math.log(2), plain.evaluate(new float[] {0, 0}, new float[] {2e36f, 0}, null, null),
                2e36 * 1e-6);
        fails(() -> plain.evaluate(new float[] {0, 10}, new float[] {2e36f, 0}, null, null), "weights", "row 0",
                "2.000e+36", "9.94");
        // a NaN weight is named as such, not as a large sum
        fails(() -> plain.evaluate(new float[] {0, 1}, new float[] {Float.NaN, 1f}, null, null),
                "weights", "row 0", "column 0", "NaN");
    }

    /** Loss's form with an offset per array: the kernel's bits, and values checked with rows counted per call. */
    @Test
    void separateOffsetsAreCheckedAndGiveTheKernelsBits() {
        SplittableRandom r = new SplittableRandom(5);
        int rows = 9;
        int p = 3;
        float[] scores = new float[4 + rows * p];
        float[] weights = new float[7 + rows * p];
        for (int i = 0; i < rows * p; i++) {
            scores[4 + i] = (float) r.nextGaussian();
            weights[7 + i] = (float) r.nextDouble();
        }
        LossKernel k = Backends.open("scalar", KernelOptions.threads(1));
        Loss loss = new Loss(CONFIG, k);
        float[] rowLoss = new float[2 + rows];
        float[] grad = new float[5 + rows * p];
        double mean = loss.evaluate(rows, scores, 4, weights, 7, rowLoss, 2, grad, 5);
        float[] rowLoss2 = new float[rows];
        float[] grad2 = new float[rows * p];
        double mean2 = k.lossAndGradient(CONFIG, rows, scores, 4, weights, 7, rowLoss2, 0, grad2, 0);
        assertEquals(mean2, mean);
        assertArrayEquals(rowLoss2, Arrays.copyOfRange(rowLoss, 2, 2 + rows));
        assertArrayEquals(grad2, Arrays.copyOfRange(grad, 5, 5 + rows * p));
        scores[4 + 3 * p + 2] = Float.NaN;
        float[] untouched = grad.clone();
        fails(() -> loss.evaluate(rows, scores, 4, weights, 7, null, 0, grad, 5),
                "scores", "row 3 of the call", "elements from 4", "column 2", "NaN");
        assertArrayEquals(untouched, grad);
        scores[4 + 3 * p + 2] = 0f;
        weights[7 + p] = 1e38f;
        fails(() -> loss.evaluate(rows, scores, 4, weights, 7, null, 0, grad, 5), "weights", "row 1 of the call");
        fails(() -> loss.evaluate(rows, scores, 4, weights, 7, null, 0, grad, 6), "grad", "has " + grad.length);
    }

    /** nu = -0.0 is the loss of nu = 0: equal configs, equal hash codes (equals compared nu with ==, hashCode bits). */
    @Test
    void negativeZeroIsTheSameConfiguration() {
        double[] rho = {0.5, 1.0};
        LossConfig plus = LossConfig.of(rho, new double[] {0.0, 1.0}, 0.0);
        LossConfig minus = LossConfig.of(rho, new double[] {-0.0, 1.0}, -0.0);
        assertEquals(plus, minus);
        assertEquals(plus.hashCode(), minus.hashCode());
        assertNotEquals(plus, LossConfig.of(rho, new double[] {0.0, 1.0}, 0.5));
    }
}
