package dev.mild.simd;

import static dev.mild.testing.TestArrays.gaussian;
import static dev.mild.testing.TestArrays.toDouble;
import static dev.mild.testing.TestArrays.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mild.io.GoldenCase;
import dev.mild.loss.GradientError;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The SIMD kernel at the vector width this JVM runs (the CPU's, or the one forced with
 * {@code -Dmild.simd.bits}: this module's pom runs this class again at 256 and 128 bits, the AVX2 and
 * NEON/SSE widths), in both layouts, against the float64 reference and the golden files. The contract tests
 * in the {@code tests} module cover the default width with every other backend.
 *
 * <p>Shapes are chosen for the lane arithmetic: p from 1 to 20 and around multiples of 16 and 32 (masked
 * tails in experts-in-lanes), B around multiples of the lane count (partial row blocks) and across two
 * chunks of {@link dev.mild.loss.RowBlockKernel#CHUNK_ROWS} rows (threads). Rows are kept small for large p
 * because the reference costs O(B p^2).
 */
class SimdKernelTest {

    /**
     * A member of the family and its inputs. Weights are signed except for nu = 0: there Phi(S) = S - 1 grows
     * like e^(a |f|), and signed weights make a row's loss a difference of large terms that float32 inputs
     * cannot resolve to 1e-5 (the scalar kernel misses it by the same amount). Small score scales keep
     * {@code nu < 1} in reach for the same reason (as in the tests module's AgreementTest).
     */
    record Variant(String name, double scoreScale, double minWeight, boolean logSumExp) {
    }

    static final Variant[] VARIANTS = {
        new Variant("mild distinct rho", 3.0, -0.5, true),
        new Variant("equal rho", 3.0, -0.5, true),
        new Variant("three margins", 3.0, -0.5, true),
        new Variant("nu=0.5 with delta", 0.5, -0.5, false),
        new Variant("nu=2 equal rho", 3.0, -0.5, false),
        new Variant("nu=1 with delta (LDAM)", 3.0, -0.5, false),
        new Variant("nu=0 distinct rho", 0.5, 0.0, false),
        new Variant("two margins", 3.0, -0.5, true), // an even number of groups of several members (skipTop)
    };

    static LossConfig config(int v, int p, SplittableRandom rnd) {
        double[] rho = new double[p];
        double[] delta = new double[p];
        for (int k = 0; k < p; k++) {
            rho[k] = 0.3 + 2.7 * rnd.nextDouble();
            delta[k] = 0.6 * rnd.nextDouble() - 0.1;
        }
        return switch (v) {
            case 0 -> LossConfig.mild(rho);
            case 1 -> LossConfig.uniform(p, 0.8, 1.0);
            case 2 -> {
                for (int k = 0; k < p; k++) {
                    rho[k] = new double[] {0.5, 1.0, 2.0}[k % 3];
                }
                yield LossConfig.mild(rho);
            }
            case 3 -> LossConfig.of(rho, delta, 0.5);
            case 4 -> LossConfig.uniform(p, 1.0, 2.0);
            case 5 -> LossConfig.of(rho, delta, 1.0);
            case 6 -> LossConfig.of(rho, null, 0.0);
            default -> {
                for (int k = 0; k < p; k++) {
                    rho[k] = k % 2 == 0 ? 0.5 : 2.0;
                }
                yield LossConfig.mild(rho);
            }
        };
    }

    static int[] experts() {
        List<Integer> ps = new ArrayList<>();
        for (int p = 1; p <= 20; p++) {
            ps.add(p);
        }
        ps.addAll(List.of(23, 31, 32, 33, 47, 63, 64, 65, 127, 128, 129, 130));
        return ps.stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] rows(int p) {
        int l = Species.L;
        return p <= 33 ? new int[] {0, 1, l - 1, l + 1, 3 * l + 5, 2049} : new int[] {1, l - 1, 3 * l + 5};
    }

    @Test
    void runsAtTheForcedWidth() {
        int forced = SimdKernelProvider.forcedBits();
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        assumeTrue(forced <= preferred, "this CPU's vectors are " + preferred + " bits; " + forced + " cannot be tested here");
        assertEquals(forced > 0 ? forced : preferred, Species.F.vectorBitSize(),
                "the kernel must run at the width the test run asked for");
        assertEquals(null, new SimdKernelProvider().unavailableReason());
    }

    @Test
    void agreesWithReferenceInBothLayouts() {
        int checked = 0;
        for (int p : experts()) {
            for (int b : rows(p)) {
                for (int v = 0; v < VARIANTS.length; v++) {
                    long seed = 7919L * p + 31L * b + v;
                    SplittableRandom rnd = new SplittableRandom(seed);
                    LossConfig config = config(v, p, rnd);
                    float[] scores = gaussian(rnd, b * p, VARIANTS[v].scoreScale);
                    float[] weights = uniform(rnd, b * p, VARIANTS[v].minWeight, 2.0);
                    double[] refLoss = new double[b];
                    double[] refGrad = new double[b * p];
                    double[] refGradTerms = new double[b * p];
                    double refMean = ReferenceKernel.evaluate(config, b, toDouble(scores), toDouble(weights), refLoss,
                            refGrad, null, refGradTerms);
                    for (int layout : new int[] {Plan.ROWS_IN_LANES, Plan.EXPERTS_IN_LANES}) {
                        if (layout == Plan.EXPERTS_IN_LANES && !VARIANTS[v].logSumExp) {
                            continue; // experts in lanes serves logsumexp only
                        }
                        int threads = b > 2048 ? 3 : 1;
                        try (SimdKernel k = new SimdKernel(KernelOptions.threads(threads), layout)) {
                            String what = "p=" + p + " B=" + b + " " + VARIANTS[v].name + " layout=" + layout
                                    + " width=" + Species.F.vectorBitSize();
                            if (p > 1 && b > 0) {
                                assertEquals(layout, k.layoutOf(config), what + ": layout not used");
                            }
                            check(k, config, b, scores, weights, refLoss, refGrad, refGradTerms, refMean, what);
                            checked++;
                        }
                    }
                }
            }
        }
        assertTrue(checked > 1000, "only " + checked + " combinations checked");
    }

    @Test
    void goldenCasesAtThisWidth() throws Exception {
        Path file = Path.of("..", "tests", "src", "test", "resources", "golden", "surrogate-cases.json");
        List<GoldenCase> cases = GoldenCase.parse(Files.readString(file), file.toString());
        assertTrue(cases.size() >= 15, "golden file has " + cases.size() + " cases");
        for (GoldenCase c : cases) {
            for (int layout : new int[] {Plan.ROWS_IN_LANES, Plan.EXPERTS_IN_LANES}) {
                try (SimdKernel k = new SimdKernel(KernelOptions.threads(1), layout)) {
                    check(k, c.config(), c.rows(), c.scores(), c.weights(), c.rowLoss(), c.gradMeanLoss(), null,
                            c.meanLoss(), c.name() + " layout=" + layout + " width=" + Species.F.vectorBitSize());
                }
            }
        }
    }

    @Test
    void layoutRuleUsesExpertsInLanesOnlyForManyExpertsAndFewMargins() {
        assertEquals(Plan.ROWS_IN_LANES, SimdKernel.layoutFor(LossConfig.uniform(8, 1.0, 1.0)));
        assertEquals(Plan.ROWS_IN_LANES, SimdKernel.layoutFor(LossConfig.uniform(64, 1.0, 2.0)), "general member");
        assertEquals(Plan.EXPERTS_IN_LANES, SimdKernel.layoutFor(LossConfig.uniform(64, 1.0, 1.0)));
        assertEquals(Plan.ROWS_IN_LANES, SimdKernel.layoutFor(LossConfig.uniform(32, 1.0, 1.0)));
        double[] distinct = new double[64];
        for (int k = 0; k < 64; k++) {
            distinct[k] = 0.5 + k / 32.0;
        }
        assertEquals(Plan.ROWS_IN_LANES, SimdKernel.layoutFor(LossConfig.mild(distinct)));
    }

    /**
     * {@code k} on one batch against the truth; {@code refGradTerms} is the reference's size of each gradient
     * entry's terms ({@link Tolerance}), {@code null} for a golden file (which has none: the normwise bound alone).
     */
    static void check(SimdKernel k, LossConfig config, int b, float[] scores, float[] weights,
                      double[] refLoss, double[] refGrad, double[] refGradTerms, double refMean, String what) {
        int p = config.experts();
        // Offsets and poisoned margins: a kernel writing outside its range or skipping a row is caught.
        float[] loss = new float[b + 2];
        float[] grad = new float[b * p + 2];
        java.util.Arrays.fill(loss, Float.NaN);
        java.util.Arrays.fill(grad, Float.NaN);
        double mean = k.lossAndGradient(config, b, scores, 0, weights, 0, loss, 1, grad, 1);
        assertTrue(Float.isNaN(loss[0]) && Float.isNaN(loss[b + 1]), what + ": wrote outside rowLoss");
        assertTrue(Float.isNaN(grad[0]) && Float.isNaN(grad[b * p + 1]), what + ": wrote outside grad");
        Tolerance t = Tolerance.FLOAT32;
        double lossErr = 0;
        for (int i = 0; i < b; i++) {
            double e = Math.abs(loss[i + 1] - refLoss[i]) / Math.max(1.0, Math.abs(refLoss[i]));
            lossErr = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(lossErr, e);
        }
        double[] g = toDouble(java.util.Arrays.copyOfRange(grad, 1, b * p + 1));
        GradientError gradErr = refGradTerms == null ? GradientError.normwiseOnly(g, refGrad)
                : GradientError.of(g, refGrad, refGradTerms);
        assertTrue(lossErr <= t.lossRelative(), what + ": lossRelErr " + lossErr);
        assertTrue(t.acceptsGradient(gradErr), what + ": gradErr " + gradErr);
        if (!Double.isNaN(refMean)) {
            assertEquals(refMean, mean, t.lossRelative() * Math.max(1, Math.abs(refMean)), what + ": mean");
        }
        // The loss-only pass gives the same losses, bit for bit.
        float[] loss2 = new float[b];
        double mean2 = k.lossAndGradient(config, b, scores, 0, weights, 0, loss2, 0, null, 0);
        assertEquals(mean, mean2, 0.0, what + ": loss-only mean");
        for (int i = 0; i < b; i++) {
            assertEquals(loss[i + 1], loss2[i], 0f, what + ": loss-only row " + i);
        }
    }
}
