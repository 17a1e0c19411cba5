package dev.mild.opencl;

import static dev.mild.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.io.GoldenCheck;
import dev.mild.loss.GradientError;
import dev.mild.loss.LossConfig;
import dev.mild.loss.RandomBatch;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import dev.mild.opencl.OpenClLoss.Layout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What PoCL on a CPU hides and a GPU may do, made to happen on PoCL, and {@link Tolerance#FLOAT32} against the
 * float64 reference must still hold in every layout:
 * <ul>
 *   <li>builtins as far off as the OpenCL spec (full profile) allows: PoCL's {@code exp}/{@code log} are within
 *       about 1 ulp, a GPU's may be 3 ulp off ({@code exp}, {@code expm1}, {@code log}) or 2 ({@code log1p}). A
 *       prelude moves every result of those builtins that much further (up, down, or either way by a hash of the
 *       argument), keeping the values C99 Annex F makes exact ({@code exp(0) = 1}, {@code log(1) = 0},
 *       {@code log1p(0) = expm1(0) = 0});</li>
 *   <li>denormals flushed to zero, as many GPUs do: {@code -cl-denorms-are-zero}, which PoCL honours (checked);</li>
 *   <li>small tiled work-groups (1 to 8 rows), which a GPU with less local memory picks, with a partial last group.</li>
 * </ul>
 */
class OpenClSpecAccuracyTest {

    @BeforeEach
    void openClPresent() {
        OpenClContextTest.assumeOpenCl();
    }

    /** Results of exp, log, log1p, expm1 moved that many ulp further in {@code direction} (an OpenCL C float in x). */
    static String offByUlps(String direction, int expUlps, int logUlps, int log1pUlps, int expm1Ulps) {
        return """
                float mild_test_off(const float x, float r, const int ulps)
                {
                    if (r == 0.0f || isinf(r) || isnan(r)) {
                        return r;
                    }
                    for (int i = 0; i < ulps; i++) {
                        const float next = nextafter(r, %s);
                        if (next == 0.0f || signbit(next) != signbit(r)) {
                            break; /* the smallest denormals: an exp 3 ulp below 1e-45 would be negative */
                        }
                        r = next;
                    }
                    return r;
                }
                float mild_test_exp(const float x) { return x == 0.0f ? 1.0f : mild_test_off(x, exp(x), %d); }
                float mild_test_log(const float x) { return x == 1.0f ? 0.0f : mild_test_off(x, log(x), %d); }
                float mild_test_log1p(const float x) { return x == 0.0f ? x : mild_test_off(x, log1p(x), %d); }
                float mild_test_expm1(const float x) { return x == 0.0f ? x : mild_test_off(x, expm1(x), %d); }
                #define exp(x) mild_test_exp(x)
                #define log(x) mild_test_log(x)
                #define log1p(x) mild_test_log1p(x)
                #define expm1(x) mild_test_expm1(x)
                """.formatted(direction, expUlps, logUlps, log1pUlps, expm1Ulps);
    }

    /** The OpenCL spec's largest errors (full profile): exp, log, expm1 3 ulp, log1p 2 ulp. */
    static String specWorstCase(String direction) {
        return offByUlps(direction, 3, 3, 2, 3);
    }

    static final String UP = "INFINITY";
    static final String DOWN = "-INFINITY";
    /** Either way, by a hash of the argument's bits. */
    static final String EITHER = "(((as_uint(x) * 2654435761u) >> 16) & 1u ? INFINITY : -INFINITY)";
    static final String FLUSH_DENORMALS = "-cl-denorms-are-zero";

    record Problem(String name, LossConfig config, int rows, float[] scores, float[] weights) {
    }

    /** The members and hard inputs of the other tests, at row counts that leave a partial work-group. */
    static List<Problem> problems() {
        List<Problem> out = new ArrayList<>();
        for (int p : new int[] {2, 3, 8, 17, 40, 130}) {
            int rows = p > 40 ? 67 : 301;
            for (double nu : new double[] {1.0, 0.5, 2.0, 3.0}) {
                for (boolean equal : new boolean[] {true, false}) {
                    RandomBatch b = RandomBatch.of(17L * p + (long) (4 * nu) + (equal ? 1 : 0), rows, p, equal, nu);
                    out.add(new Problem("p=" + p + " nu=" + nu + (equal ? " equal rho" : " distinct rho"),
                            b.config(), rows, b.scores(), b.weights()));
                }
            }
            SplittableRandom rnd = new SplittableRandom(p);
            double[] rho = new double[p];
            double[] delta = new double[p];
            for (int k = 0; k < p; k++) {
                rho[k] = 0.3 + 2.7 * rnd.nextDouble();
                delta[k] = 0.6 * rnd.nextDouble() - 0.1;
            }
            // Additive margins with signed (realizable) weights; small scores for nu < 1, as AgreementTest says why.
            for (double nu : new double[] {1.0, 0.5}) {
                float[] s = new float[rows * p];
                float[] w = new float[rows * p];
                for (int i = 0; i < s.length; i++) {
                    s[i] = (float) ((nu == 1.0 ? 3.0 : 0.5) * rnd.nextGaussian());
                    w[i] = (float) (2.5 * rnd.nextDouble() - 0.5);
                }
                out.add(new Problem("p=" + p + " nu=" + nu + " with delta, signed weights", LossConfig.of(rho, delta, nu),
                        rows, s, w));
            }
            float[] s = new float[rows * p];
            float[] w = new float[rows * p];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) (1e4 * rnd.nextGaussian());
                w[i] = (float) rnd.nextDouble();
            }
            out.add(new Problem("p=" + p + " scores 1e4, rho 1e-3", LossConfig.uniform(p, 1e-3, 1.0), rows, s, w));
            out.addAll(denormalRange(p, rows, rnd));
        }
        return out;
    }

    /**
     * Rows where exps fall below float32's normal range (1.2e-38), and with nu = 2 gradient entries too: every
     * other row has one of the first p - 1 experts 100 above the rest (exp of minus that is 4e-38 to 4e-44) but
     * the last, whose delta of -68 (near the bound LossConfig accepts, 68.97 at rho 0.9) makes exp(delta)
     * 3.4e-30. The last expert stays within 2 of the top score, so that delta does not cancel against a(m - f)
     * (that cancellation is float32's own limit, not the device's: the term keeps a(m - f)'s rounding). The other rows keep the batch's gradient in the normal
     * range, where a normwise bound means something. nu = 0.5 is left out for the reason AgreementTest gives.
     */
    static List<Problem> denormalRange(int p, int rows, SplittableRandom rnd) {
        double[] rho = new double[p];
        double[] delta = new double[p];
        for (int k = 0; k < p; k++) {
            rho[k] = k % 2 == 0 ? 1.0 : 0.9;
        }
        delta[p - 1] = -68;
        List<Problem> out = new ArrayList<>();
        for (double nu : new double[] {1.0, 2.0}) {
            float[] s = new float[rows * p];
            float[] w = new float[rows * p];
            for (int i = 0; i < rows; i++) {
                int top = rnd.nextInt(p - 1);
                for (int j = 0; j < p; j++) {
                    double far = j == top ? 100.0 : j == p - 1 ? 100.0 - 2.0 * rnd.nextDouble() : 14.0 * rnd.nextDouble();
                    s[i * p + j] = (float) (i % 2 == 0 ? far : 2.0 * rnd.nextGaussian());
                    w[i * p + j] = (float) (2.0 * rnd.nextDouble());
                }
            }
            out.add(new Problem("p=" + p + " nu=" + nu + " denormal range", LossConfig.of(rho, delta, nu), rows, s, w));
            out.add(new Problem("p=" + p + " nu=" + nu + " denormal range, delta 0", LossConfig.of(rho, null, nu), rows, s, w));
        }
        return out;
    }

    /** {@code problems} on {@code loss} against the float64 reference, within {@link Tolerance#FLOAT32}. */
    static void assertWithinTolerance(String what, OpenClLoss loss, Layout layout, List<Problem> problems) {
        Tolerance t = Tolerance.FLOAT32;
        OpenClKernel kernel = new OpenClKernel(loss);
        for (Problem pr : problems) {
            int p = pr.config().experts();
            assertEquals(layout, loss.layout(p), what + ": layout used for p = " + p);
            double[] wantLoss = new double[pr.rows()];
            double[] wantGrad = new double[pr.rows() * p];
            double[] terms = new double[pr.rows()];
            double[] gradTerms = new double[pr.rows() * p];
            double wantMean = ReferenceKernel.evaluate(pr.config(), pr.rows(), toDouble(pr.scores()),
                    toDouble(pr.weights()), wantLoss, wantGrad, terms, gradTerms);
            float[] got = new float[pr.rows()];
            float[] grad = new float[pr.rows() * p];
            double mean = kernel.lossAndGradient(pr.config(), pr.rows(), pr.scores(), 0, pr.weights(), 0, got, 0, grad, 0);
            double le = GoldenCheck.lossRelErr(toDouble(got), wantLoss, terms);
            GradientError ge = GradientError.of(toDouble(grad), wantGrad, gradTerms);
            String at = what + ", " + layout + ", " + pr.name() + ": ";
            assertTrue(le <= t.lossRelative(), at + "lossRelErr " + le);
            assertTrue(t.acceptsGradient(ge), at + "gradErr " + ge);
            // The mean of the row losses, each within the tolerance of its own terms.
            double bound = 0;
            for (double m : terms) {
                bound += t.lossRelative() * Math.max(1, m);
            }
            assertEquals(wantMean, mean, bound / pr.rows(), at + "mean");
        }
    }

    static void assertWithinTolerance(String what, String prelude, String buildOptions) {
        OpenClDevices.Device device = OpenClDevices.select(null);
        List<Problem> problems = problems();
        for (Layout layout : new Layout[] {Layout.TILED, Layout.DIRECT, Layout.WIDE}) {
            try (OpenClLoss loss = new OpenClLoss(device, layout, prelude, buildOptions)) {
                assertWithinTolerance(what, loss, layout, problems);
            }
        }
    }

    @Test
    void builtinsAtTheSpecsWorstCaseUp() {
        assertWithinTolerance("builtins 3 ulp up", specWorstCase(UP), "");
    }

    @Test
    void builtinsAtTheSpecsWorstCaseDown() {
        assertWithinTolerance("builtins 3 ulp down", specWorstCase(DOWN), "");
    }

    @Test
    void builtinsAtTheSpecsWorstCaseEitherWay() {
        assertWithinTolerance("builtins 3 ulp either way", specWorstCase(EITHER), "");
    }

    /** The emulation has teeth: builtins 300 ulp off break the tolerance (else the tests above prove nothing). */
    @Test
    void builtinsFarOffFailTheTolerance() {
        OpenClDevices.Device device = OpenClDevices.select(null);
        try (OpenClLoss loss = new OpenClLoss(device, Layout.DIRECT, offByUlps(EITHER, 300, 300, 300, 300), "")) {
            AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                    () -> assertWithinTolerance("builtins 300 ulp off", loss, Layout.DIRECT, problems()));
            assertTrue(e.getMessage().contains("Err"), e.getMessage());
        }
    }

    /**
     * Denormals flushed to zero (inputs and results), with and without the builtins' worst case. First checks
     * that this device really flushes under {@code -cl-denorms-are-zero} (the option is a hint): a row whose
     * loss is log1p(exp(-90)) = 8.2e-40 gives that denormal when built without it and 0 with it.
     */
    @Test
    void flushedDenormals() {
        OpenClDevices.Device device = OpenClDevices.select(null);
        LossConfig ce = LossConfig.uniform(2, 1.0, 1.0);
        float[] scores = {90, 0};
        float[] weights = {1, 0};
        float[] rowLoss = new float[1];
        try (OpenClKernel kernel = new OpenClKernel(new OpenClLoss(device, Layout.DIRECT, "", ""))) {
            kernel.lossAndGradient(ce, 1, scores, 0, weights, 0, rowLoss, 0, null, 0);
            assertEquals((float) Math.log1p(Math.exp(-90)), rowLoss[0], 1e-44f, "a denormal loss without flushing");
        }
        try (OpenClKernel kernel = new OpenClKernel(new OpenClLoss(device, Layout.DIRECT, "", FLUSH_DENORMALS))) {
            kernel.lossAndGradient(ce, 1, scores, 0, weights, 0, rowLoss, 0, null, 0);
            Assumptions.assumeTrue(rowLoss[0] == 0.0f, device.label() + " does not flush denormals under "
                    + FLUSH_DENORMALS + " (loss " + rowLoss[0] + "), so this test cannot stand in for a GPU that does");
        }
        assertWithinTolerance("denormals flushed", "", FLUSH_DENORMALS);
        assertWithinTolerance("denormals flushed, builtins 3 ulp either way", specWorstCase(EITHER), FLUSH_DENORMALS);
    }

    /** The device with only {@code bytes} of local memory (a GPU's is 16 to 64 KiB; PoCL's 2 MiB). */
    static OpenClDevices.Device withLocalMemory(long bytes) {
        OpenClDevices.Device d = OpenClDevices.select(null);
        return new OpenClDevices.Device(d.index(), d.platform(), d.id(), d.platformName(), d.name(), d.type(),
                d.version(), d.usable(), d.computeUnits(), d.maxWorkGroupSize(), bytes, true,
                d.maxAllocationBytes(), d.globalMemoryBytes());
    }

    /**
     * Tiled work-groups of 1, 2, 4 and 8 rows, which a device with less local memory than PoCL picks for wide
     * rows (PoCL's 32 KiB tile budget gives at least 16 rows up to p = 130): the reduction tree, the staging
     * loops and the last, partial group at their smallest.
     */
    @Test
    void smallTiledWorkGroups() {
        int p = 40; // 41 floats a row: 3 * 164 + 8 = 500 bytes of local memory a row
        for (int rowsPerGroup : new int[] {1, 2, 4, 8}) {
            try (OpenClLoss loss = new OpenClLoss(withLocalMemory(500L * rowsPerGroup + 499), Layout.TILED, "", "")) {
                assertEquals(Layout.TILED, loss.layout(p));
                assertEquals(rowsPerGroup, loss.rowsPerWorkGroup(p), "rows per work-group");
                List<Problem> problems = new ArrayList<>();
                for (int rows : new int[] {1, 13, 301}) {
                    for (boolean equal : new boolean[] {true, false}) {
                        RandomBatch b = RandomBatch.of(rows + rowsPerGroup, rows, p, equal, equal ? 1.0 : 2.0);
                        problems.add(new Problem(rowsPerGroup + " rows a group, B=" + rows + (equal ? " equal" : " distinct"),
                                b.config(), rows, b.scores(), b.weights()));
                    }
                }
                assertWithinTolerance("small groups", loss, Layout.TILED, problems);
            }
        }
    }
}
