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
        assumeTrue(forced <= preferred || SimdKernelProvider.emulateWider(),
                "this CPU's vectors are " + preferred + " bits; " + forced + " cannot be tested here");
        assertEquals(forced > 0 ? forced : preferred, Species.F.vectorBitSize(),
                "the kernel must run at the width the test run asked for");
        assertEquals(forced > preferred, Species.emulated(), "emulated exactly when wider than the CPU's vectors");
        assertEquals(forced > preferred, Species.describe().contains("emulated"), Species.describe());
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
                    Truth truth = Truth.of(config, b, scores, weights);
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
                            check(k, config, b, scores, weights, truth, what);
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
                    check(k, c.config(), c.rows(), c.scores(), c.weights(), Truth.golden(c),
                            c.name() + " layout=" + layout + " width=" + Species.F.vectorBitSize());
                }
            }
        }
    }

    /**
     * One kernel serving more configurations in turn than it keeps plans for ({@value SimdKernel#PLANS_KEPT}), each
     * one given as an object, then as a new equal object, then as the first object again, and all of them again in a
     * second round, after their plans were dropped: every call must find its own configuration's plan (by identity,
     * by equality, or rebuilt), never another's.
     */
    @Test
    void oneKernelServesMoreConfigurationsThanItKeepsPlansFor() {
        int b = Species.L + 3;
        try (SimdKernel k = new SimdKernel(KernelOptions.threads(1))) {
            for (int round = 0; round < 2; round++) {
                for (int c = 0; c < SimdKernel.PLANS_KEPT + 2; c++) {
                    int p = 2 + c % 5;
                    int v = c % VARIANTS.length;
                    SplittableRandom rnd = new SplittableRandom(c);
                    LossConfig config = config(v, p, rnd);
                    LossConfig equal = config(v, p, new SplittableRandom(c)); // the same values, another object
                    float[] scores = gaussian(rnd, b * p, VARIANTS[v].scoreScale);
                    float[] weights = uniform(rnd, b * p, VARIANTS[v].minWeight, 2.0);
                    Truth truth = Truth.of(config, b, scores, weights);
                    String what = "round " + round + ", configuration " + c + " (p=" + p + " " + VARIANTS[v].name + ")";
                    for (LossConfig given : new LossConfig[] {config, equal, config}) {
                        check(k, given, b, scores, weights, truth, what);
                    }
                }
            }
        }
    }

    /**
     * The general member's double path ({@link Plan#othersInDouble}: some {@code delta_k + max(0, log a_k)} above
     * {@value Plan#OTHERS_IN_DOUBLE_ABOVE}), at this width: additive margins up to 40 with nu = 1 and nu = 0.5, and
     * logsumexp with margins down to 1e-14 (inverse margins above e^30, which leave the float path, see
     * {@link Plan#logSumExpPath}). The tests module checks such rows on one row of two experts at the CPU's width;
     * here a whole and a partial block of rows, gathered (p = 3) and through the transpose network (8, 16).
     */
    @Test
    void largeMarginsTakeTheDoublePathAtThisWidth() {
        int l = Species.L;
        for (int p : new int[] {3, 8, 16}) {
            for (int b : new int[] {2 * l + 3}) {
                for (int member = 0; member < 3; member++) {
                    SplittableRandom rnd = new SplittableRandom(131L * p + b + 7L * member);
                    double[] rho = new double[p];
                    double[] delta = new double[p];
                    for (int k = 0; k < p; k++) {
                        rho[k] = member == 2 ? Math.pow(10, -14 + 2 * rnd.nextDouble()) : 0.3 + 2.7 * rnd.nextDouble();
                        delta[k] = 25 + 15 * rnd.nextDouble();
                    }
                    LossConfig config = switch (member) {
                        case 0 -> LossConfig.of(rho, delta, 1.0);
                        case 1 -> LossConfig.of(rho, delta, 0.5);
                        default -> LossConfig.mild(rho);
                    };
                    // Signed weights except for nu = 0.5, whose Phi ~ e^(delta / 2) would cancel (see Variant).
                    float[] scores = gaussian(rnd, b * p, member == 2 ? 1e-13 : 3.0);
                    float[] weights = uniform(rnd, b * p, member == 1 ? 0.0 : -0.5, 2.0);
                    Truth truth = Truth.of(config, b, scores, weights);
                    try (SimdKernel k = new SimdKernel(KernelOptions.threads(1))) {
                        assertEquals(Plan.ROWS_IN_LANES, k.layoutOf(config));
                        check(k, config, b, scores, weights, truth, "p=" + p + " B=" + b + " member " + member
                                + " width=" + Species.F.vectorBitSize());
                    }
                }
            }
        }
        // Where it matters: tests' LargeExponentTest row (rho 5, delta (0, 67), scores (-440, 0), weights (0, 1e6)) in
        // every lane. e^(67 - 88) lifts the float exp's flushed e^-88 into the loss (7.6e-4) and makes it the whole
        // of the first expert's gradient entry.
        int b = 2 * l + 3;
        LossConfig config = LossConfig.of(new double[] {5, 5}, new double[] {0, 67}, 1.0);
        float[] scores = new float[2 * b];
        float[] weights = new float[2 * b];
        for (int i = 0; i < b; i++) {
            scores[2 * i] = -440f;
            weights[2 * i + 1] = 1e6f;
        }
        Truth truth = Truth.of(config, b, scores, weights);
        try (SimdKernel k = new SimdKernel(KernelOptions.threads(1))) {
            check(k, config, b, scores, weights, truth,
                    "a flushed term lifted by delta 67, width=" + Species.F.vectorBitSize());
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
        // At most max(2, p / 32) distinct margins: 64 experts in two groups still go in lanes, in three not.
        for (int groups : new int[] {2, 3}) {
            double[] rho = new double[64];
            for (int k = 0; k < 64; k++) {
                rho[k] = 1.0 + k % groups;
            }
            assertEquals(groups == 2 ? Plan.EXPERTS_IN_LANES : Plan.ROWS_IN_LANES,
                    SimdKernel.layoutFor(LossConfig.mild(rho)), groups + " margins of 64 experts");
        }
    }

    /**
     * What a batch's results must be: float64 row losses, gradient of the mean loss and mean loss, with the size of
     * each gradient entry's terms ({@link Tolerance}), or {@code null} terms for a golden file (which has none: the
     * normwise bound alone).
     */
    record Truth(double[] rowLoss, double[] grad, double[] gradTerms, double mean) {
        /** The float64 reference's values for this batch. */
        static Truth of(LossConfig config, int b, float[] scores, float[] weights) {
            double[] rowLoss = new double[b];
            double[] grad = new double[b * config.experts()];
            double[] gradTerms = new double[grad.length];
            double mean = ReferenceKernel.evaluate(config, b, toDouble(scores), toDouble(weights), rowLoss, grad, null,
                    gradTerms);
            return new Truth(rowLoss, grad, gradTerms, mean);
        }

        /** A golden case's values, computed outside this project. */
        static Truth golden(GoldenCase c) {
            return new Truth(c.rowLoss(), c.gradMeanLoss(), null, c.meanLoss());
        }
    }

    /** {@code k} on one batch against the truth. */
    static void check(SimdKernel k, LossConfig config, int b, float[] scores, float[] weights, Truth truth,
                      String what) {
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
            double e = Math.abs(loss[i + 1] - truth.rowLoss()[i]) / Math.max(1.0, Math.abs(truth.rowLoss()[i]));
            lossErr = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(lossErr, e);
        }
        double[] g = toDouble(java.util.Arrays.copyOfRange(grad, 1, b * p + 1));
        GradientError gradErr = truth.gradTerms() == null ? GradientError.normwiseOnly(g, truth.grad())
                : GradientError.of(g, truth.grad(), truth.gradTerms());
        assertTrue(lossErr <= t.lossRelative(), what + ": lossRelErr " + lossErr);
        assertTrue(t.acceptsGradient(gradErr), what + ": gradErr " + gradErr);
        if (!Double.isNaN(truth.mean())) {
            assertEquals(truth.mean(), mean, t.lossRelative() * Math.max(1, Math.abs(truth.mean())), what + ": mean");
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
