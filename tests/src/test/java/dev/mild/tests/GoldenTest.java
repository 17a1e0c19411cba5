package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.io.GoldenCase;
import dev.mild.io.GoldenCheck;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

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

    @TestFactory
    Stream<DynamicTest> everyBackendMatchesGolden() {
        List<DynamicTest> tests = new ArrayList<>();
        List<String> backends = new ArrayList<>(Support.fastBackends());
        backends.add(ReferenceKernel.NAME); // the float32-output path of the reference, at float32 tolerance
        for (String name : backends) {
            for (int threads : new int[] {1, 2}) {
                for (GoldenCase c : Support.surrogateCases()) {
                    tests.add(dynamicTest(name + " x" + threads + " " + c.name(), () -> check(name, threads, c)));
                }
            }
        }
        return tests.stream();
    }

    private static void check(String name, int threads, GoldenCase c) {
        int p = c.config().experts();
        try (LossKernel kernel = Backends.open(name, KernelOptions.threads(threads))) {
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
            assertTrue(Float.isNaN(loss[0]) && Float.isNaN(loss[c.rows() + 1]), "wrote outside its rowLoss range");
            assertTrue(Float.isNaN(grad[0]) && Float.isNaN(grad[c.rows() * p + 1]), "wrote outside its grad range");
            Tolerance t = Tolerance.FLOAT32;
            double le = lossRelErr(l, c.rowLoss());
            double ge = gradErr(g, c.gradMeanLoss());
            assertFalse(Double.isNaN(le) || Double.isNaN(ge), "NaN in output");
            assertTrue(le <= t.lossRelative(), "lossRelErr " + le + " > " + t.lossRelative());
            assertTrue(ge <= t.gradNormwise(), "gradErr " + ge + " > " + t.gradNormwise());
            if (!Double.isNaN(c.meanLoss())) {
                assertEquals(c.meanLoss(), mean, t.lossRelative() * Math.max(1, Math.abs(c.meanLoss())), "mean loss");
            }
        }
    }
}
