package dev.mild.tests;

import static dev.mild.testing.TestArrays.gaussian;
import static dev.mild.testing.TestArrays.toDouble;
import static dev.mild.testing.TestArrays.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.GradientError;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.RowBlockKernel;
import dev.mild.loss.Tolerance;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Randomized agreement of every fast backend with the float64 reference, over the grid: p in 1..130,
 * B in {0, 1, 7, 1000, 100000}, and 1, 2 and 5 threads (CPU backends; OpenCL runs once), over five members of
 * the family (distinct margins, equal margins, comp-sum nu = 0.5 with additive margins, nu = 2, and margins
 * of which some are shared). Every call is also made without the gradient, whose row losses must match.
 *
 * <p>The reference costs O(B p^2) per call, so not every (p, B, member) is run:
 * <ul>
 *   <li>B in {0, 1, 7, 1000}, all five members, for p in 1..40 and around the vector widths (63..65,
 *       127..130);</li>
 *   <li>for the other p in 41..126: B in {1, 7, 33} (33 rows cover two 16-lane row blocks and a tail), all five
 *       members; and B = 1000 with one member per p (member p mod 5, so each member meets about 17 of these
 *       p), whose 1000 rows repeat {@value #DISTINCT_ROWS} distinct rows so that the reference evaluates only
 *       those (the kernels still see 1000 rows: 62 full 16-lane blocks, a tail, every row checked);</li>
 *   <li>B = 100000 (49 chunks over the threads) for p in {1, 2, 3, 8, 17, 33} with the two logsumexp members
 *       (p = 33 with equal margins is the SIMD backend's experts-in-lanes layout, the others its rows-in-lanes
 *       layout with and without the shuffle network), and for p in {3, 8} with the general members (nu = 0.5
 *       with additive margins, nu = 2). B = 100000 at p = 130 alone would cost the reference about 2e9 exps.</li>
 * </ul>
 * A batch of one chunk ({@link RowBlockKernel#CHUNK_ROWS} rows) runs on the caller's thread whatever the thread
 * count, so only B = 100000 above goes parallel; {@link #everyMemberAcrossChunksAndThreads} runs every member
 * (nu in {0, 0.5, 1, 2, 3}, additive margins, realizable rewards) over two and three chunks on 1, 2 and 5
 * threads.
 */
class AgreementTest {

    /** Distinct rows behind the B = 1000 batches of p in 41..126 (prime, so rows and 16-lane blocks do not align). */
    static final int DISTINCT_ROWS = 61;

    /** Inputs and the reference's values: per-row losses, the gradient of the mean and the size of its terms. */
    record Problem(String name, LossConfig config, int rows, float[] scores, float[] weights,
                   double[] refLoss, double[] refGrad, double[] refGradTerms, double refMean) {
    }

    /** p experts, B rows (of which {@code distinct} distinct, repeated), and the members of {@link #variant} to run. */
    record Shape(int p, int rows, int distinct, int[] variants) {
    }

    static final int[] ALL_VARIANTS = {0, 1, 2, 3, 4};
    static final int[] ALL_VARIANTS_TO_3 = {0, 1, 2, 3};

    static List<Shape> shapes() {
        List<Shape> s = new ArrayList<>();
        List<Integer> ps = new ArrayList<>();
        for (int p = 1; p <= 40; p++) {
            ps.add(p);
        }
        ps.addAll(List.of(63, 64, 65, 127, 128, 129, 130));
        for (int p : ps) {
            for (int b : new int[] {0, 1, 7, 1000}) {
                s.add(new Shape(p, b, b, ALL_VARIANTS));
            }
        }
        for (int p = 41; p <= 126; p++) {
            if (!ps.contains(p)) {
                for (int b : new int[] {1, 7, 33}) {
                    s.add(new Shape(p, b, b, ALL_VARIANTS));
                }
                s.add(new Shape(p, 1000, DISTINCT_ROWS, new int[] {p % 5}));
            }
        }
        for (int p : new int[] {1, 2, 3, 8, 17, 33}) {
            s.add(new Shape(p, 100_000, 100_000, p == 3 || p == 8 ? ALL_VARIANTS_TO_3 : new int[] {0, 1}));
        }
        return s;
    }

    /** Per-expert margins rho in [0.3, 3) and additive margins delta in [-0.1, 0.5), drawn in turn per expert. */
    record Margins(double[] rho, double[] delta) {
        static Margins draw(int p, SplittableRandom rnd) {
            double[] rho = new double[p];
            double[] delta = new double[p];
            for (int k = 0; k < p; k++) {
                rho[k] = 0.3 + 2.7 * rnd.nextDouble();
                delta[k] = 0.6 * rnd.nextDouble() - 0.1;
            }
            return new Margins(rho, delta);
        }
    }

    static LossConfig variant(int v, int p, SplittableRandom rnd) {
        Margins m = Margins.draw(p, rnd);
        double[] rho = m.rho();
        double[] delta = m.delta();
        return switch (v) {
            case 0 -> LossConfig.mild(rho);
            case 1 -> LossConfig.uniform(p, 0.8, 1.0);
            case 2 -> LossConfig.of(rho, delta, 0.5);
            case 3 -> LossConfig.uniform(p, 1.0, 2.0);
            default -> LossConfig.mild(fromThree(rho));
        };
    }

    /**
     * Margins drawn from three values, so some are shared and some are not: groups of several members beside
     * groups of one, and groups that do not contain a row's top expert.
     */
    private static double[] fromThree(double[] rho) {
        double[] out = new double[rho.length];
        for (int k = 0; k < rho.length; k++) {
            out[k] = rho[k] < 1.0 ? 0.5 : rho[k] < 2.0 ? 1.0 : 2.5;
        }
        return out;
    }

    static Problem problem(int p, int rows, int v, long seed) {
        return problem(p, rows, rows, v, seed);
    }

    static Problem problem(int p, int rows, int distinct, int v, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        LossConfig config = variant(v, p, rnd);
        // nu = 0.5 makes Phi grow like sqrt(S), and signed weights then cancel: a row of terms summing to
        // 100 in magnitude can net 0.09, where float32 terms cannot promise 1e-5 of the net. Scores of scale
        // 0.5 keep that variant within float32's reach; the others take scale 3 (exp far from 1).
        float[] scores = gaussian(rnd, distinct * p, v == 2 ? 0.5 : 3.0);
        float[] weights = uniform(rnd, distinct * p, -0.5, 2.0);
        double[] loss = new double[distinct];
        double[] grad = new double[distinct * p];
        double[] gradTerms = new double[distinct * p];
        reference(config, distinct, toDouble(scores), toDouble(weights), loss, grad, gradTerms);
        String name = "p=" + p + " B=" + rows + (distinct < rows ? " (" + distinct + " distinct rows)" : "") + " variant=" + v;
        return repeated(name, config, rows, distinct, scores, weights, loss, grad, gradTerms);
    }

    /**
     * The batch of {@code rows} rows whose row i is row {@code i mod distinct} of the given ones, with its
     * reference values: per-row losses repeat, and the gradient of the mean over {@code rows} rows (and the size
     * of its terms) is the one over {@code distinct} rows times {@code distinct / rows}.
     */
    static Problem repeated(String name, LossConfig config, int rows, int distinct, float[] scores, float[] weights,
                            double[] loss, double[] grad, double[] gradTerms) {
        if (distinct == rows) {
            double sum = 0;
            for (double l : loss) {
                sum += l;
            }
            return new Problem(name, config, rows, scores, weights, loss, grad, gradTerms, rows == 0 ? 0 : sum / rows);
        }
        int p = config.experts();
        float[] s = new float[rows * p];
        float[] w = new float[rows * p];
        double[] l = new double[rows];
        double[] g = new double[rows * p];
        double[] terms = new double[rows * p];
        double sum = 0;
        for (int i = 0; i < rows; i++) {
            int from = i % distinct;
            System.arraycopy(scores, from * p, s, i * p, p);
            System.arraycopy(weights, from * p, w, i * p, p);
            l[i] = loss[from];
            sum += l[i];
            for (int j = 0; j < p; j++) {
                g[i * p + j] = grad[from * p + j] * distinct / rows;
                terms[i * p + j] = gradTerms[from * p + j] * distinct / rows;
            }
        }
        return new Problem(name, config, rows, s, w, l, g, terms, sum / rows);
    }

    /** The reference in row chunks is the reference: every output within a few ulps of one unsplit call. */
    @org.junit.jupiter.api.Test
    void referenceInChunksIsTheReference() {
        for (int v : ALL_VARIANTS) {
            int p = 40;
            int rows = 1001; // chunks of unequal size
            SplittableRandom rnd = new SplittableRandom(v);
            LossConfig config = variant(v, p, rnd);
            double[] f = toDouble(gaussian(rnd, rows * p, 3.0));
            double[] w = toDouble(uniform(rnd, rows * p, -0.5, 2.0));
            double[] l1 = new double[rows];
            double[] g1 = new double[rows * p];
            double[] t1 = new double[rows * p];
            ReferenceKernel.evaluate(config, rows, f, w, l1, g1, null, t1);
            double[] l2 = new double[rows];
            double[] g2 = new double[rows * p];
            double[] t2 = new double[rows * p];
            reference(config, rows, f, w, l2, g2, t2);
            assertArrayEquals(l1, l2, "variant " + v + ": row losses");
            for (int j = 0; j < rows * p; j++) {
                assertEquals(g1[j], g2[j], 1e-14 * t1[j] + Double.MIN_NORMAL, "variant " + v + ": gradient entry " + j);
                assertEquals(t1[j], t2[j], 1e-14 * t1[j] + Double.MIN_NORMAL, "variant " + v + ": term size " + j);
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> fastBackendsAgreeWithReference() {
        List<String> backends = Support.fastBackends();
        Map<String, Problem> cache = new HashMap<>();
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : backends) {
            int[] threadCounts = Support.usesHostThreads(name) ? new int[] {1, 2, 5} : new int[] {1};
            for (int threads : threadCounts) {
                tests.add(dynamicTest(name + " threads=" + threads, () -> {
                    try (LossKernel kernel = Backends.open(name, KernelOptions.threads(threads))) {
                        for (Shape shape : shapes()) {
                            for (int v : shape.variants()) {
                                Problem pr = cache.computeIfAbsent(shape.p() + "/" + shape.rows() + "/" + v,
                                        key -> problem(shape.p(), shape.rows(), shape.distinct(), v,
                                                1000L * shape.p() + 7L * shape.rows() + v));
                                check(kernel, pr);
                            }
                        }
                    }
                }));
            }
        }
        return tests.stream();
    }

    /** The members {@link #everyMemberAcrossChunksAndThreads} runs, by name; see {@link #member}. */
    static final String[] MEMBERS = {"nu=0", "nu=0.5 with delta", "nu=2 with delta", "nu=3 three margins",
        "nu=1 with delta (LDAM)", "realizable-log", "realizable-mae"};

    /** The inputs of {@link #member}, without the reference's values. */
    record MemberInputs(String name, LossConfig config, float[] scores, float[] weights) {
    }

    /**
     * Member m of {@link #MEMBERS} on {@code rows} rows of p experts, with its reference values. nu = 0 takes
     * nonnegative weights and nu &lt; 1 small scores, for the reason given in {@link #problem}; the realizable
     * members take the rewards {@code sum_{k' != k} c_k' - p + 2} of random 0/1 costs (signed).
     */
    static Problem member(int m, int p, int rows, long seed) {
        MemberInputs in = memberInputs(m, p, rows, seed);
        double[] loss = new double[rows];
        double[] grad = new double[rows * p];
        double[] gradTerms = new double[rows * p];
        reference(in.config(), rows, toDouble(in.scores()), toDouble(in.weights()), loss, grad, gradTerms);
        return repeated(in.name(), in.config(), rows, rows, in.scores(), in.weights(), loss, grad, gradTerms);
    }

    /** Row chunks the reference is split into when a problem is large; fixed, so every machine gets the same bits. */
    private static final int REFERENCE_CHUNKS = 4;

    /**
     * {@link ReferenceKernel#evaluate} (row losses, the gradient of the mean and its term sizes) over
     * {@link #REFERENCE_CHUNKS} row chunks on the common pool when the batch is large: rows are independent, and a
     * chunk's gradient of its own mean times {@code chunkRows / rows} is the batch's (to an ulp of the scaling).
     * The float64 reference, p^2 exps a row with distinct margins, took most of OpenClTest's and AgreementTest's
     * time on one core.
     */
    static void reference(LossConfig config, int rows, double[] scores, double[] weights, double[] loss,
                          double[] grad, double[] gradTerms) {
        int p = config.experts();
        if ((long) rows * p * p < 200_000 || rows < REFERENCE_CHUNKS) {
            ReferenceKernel.evaluate(config, rows, scores, weights, loss, grad, null, gradTerms);
            return;
        }
        java.util.stream.IntStream.range(0, REFERENCE_CHUNKS).parallel().forEach(c -> {
            int from = (int) ((long) rows * c / REFERENCE_CHUNKS);
            int n = (int) ((long) rows * (c + 1) / REFERENCE_CHUNKS) - from;
            double[] l = new double[n];
            double[] g = new double[n * p];
            double[] t = new double[n * p];
            ReferenceKernel.evaluate(config, n, java.util.Arrays.copyOfRange(scores, from * p, (from + n) * p),
                    java.util.Arrays.copyOfRange(weights, from * p, (from + n) * p), l, g, null, t);
            System.arraycopy(l, 0, loss, from, n);
            double scale = (double) n / rows;
            for (int j = 0; j < n * p; j++) {
                grad[from * p + j] = g[j] * scale;
                gradTerms[from * p + j] = t[j] * scale;
            }
        });
    }

    static MemberInputs memberInputs(int m, int p, int rows, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Margins margins = Margins.draw(p, rnd);
        double[] rho = margins.rho();
        double[] delta = margins.delta();
        LossConfig config = switch (m) {
            case 0 -> LossConfig.of(rho, null, 0.0);
            case 1 -> LossConfig.of(rho, delta, 0.5);
            case 2 -> LossConfig.of(rho, delta, 2.0);
            case 3 -> LossConfig.of(fromThree(rho), null, 3.0);
            case 4 -> LossConfig.of(rho, delta, 1.0);
            case 5 -> LossConfig.uniform(p, 1.0, 1.0);
            default -> LossConfig.uniform(p, 1.0, 2.0);
        };
        float[] scores = gaussian(rnd, rows * p, m <= 1 ? 0.5 : 3.0);
        float[] weights;
        if (m >= 5) {
            weights = new float[rows * p];
            for (int i = 0; i < rows; i++) {
                int wrong = 0;
                int[] cost = new int[p];
                for (int k = 0; k < p; k++) {
                    cost[k] = rnd.nextInt(2);
                    wrong += cost[k];
                }
                for (int k = 0; k < p; k++) {
                    weights[i * p + k] = wrong - cost[k] - p + 2;
                }
            }
        } else {
            weights = uniform(rnd, rows * p, m == 0 ? 0.0 : -0.5, 2.0);
        }
        return new MemberInputs("p=" + p + " B=" + rows + " " + MEMBERS[m], config, scores, weights);
    }

    /**
     * Every member over more than one chunk of {@link RowBlockKernel#CHUNK_ROWS} rows (B = 2049: a chunk and one
     * row; B = 5000: three chunks), so that 2 and 5 threads really split the rows, on every CPU backend against
     * the reference. {@link DeterminismTest} checks the same members for the same bits across calls and threads.
     */
    @TestFactory
    Stream<DynamicTest> everyMemberAcrossChunksAndThreads() {
        List<DynamicTest> tests = new ArrayList<>();
        Map<String, Problem> cache = new HashMap<>();
        for (String name : Support.hostThreadBackends()) {
            tests.add(dynamicTest(name, () -> {
                for (int p : new int[] {3, 8, 19}) {
                    for (int rows : new int[] {2049, 5000}) {
                        for (int m = 0; m < MEMBERS.length; m++) {
                            int mm = m;
                            Problem pr = cache.computeIfAbsent(p + "/" + rows + "/" + m,
                                    key -> member(mm, p, rows, 31L * p + 7L * rows + mm));
                            for (int threads : new int[] {1, 2, 5}) {
                                try (LossKernel kernel = Backends.open(name, KernelOptions.threads(threads))) {
                                    check(kernel, pr);
                                }
                            }
                        }
                    }
                }
            }));
        }
        return tests.stream();
    }

    static void check(LossKernel kernel, Problem pr) {
        int p = pr.config.experts();
        String what = kernel.describe() + " " + pr.name;
        float[] loss = new float[pr.rows];
        float[] grad = new float[pr.rows * p];
        double mean = kernel.lossAndGradient(pr.config, pr.rows, pr.scores, 0, pr.weights, 0, loss, 0, grad, 0);
        Tolerance t = Tolerance.FLOAT32;
        double le = GoldenTest.lossRelErr(toDouble(loss), pr.refLoss);
        GradientError ge = GradientError.of(toDouble(grad), pr.refGrad, pr.refGradTerms);
        assertTrue(le <= t.lossRelative(), what + ": lossRelErr " + le);
        assertTrue(t.acceptsGradient(ge), what + ": gradErr " + ge);
        assertEquals(pr.refMean, mean, t.lossRelative() * Math.max(1, Math.abs(pr.refMean)), what + ": mean");
        // Loss only (no gradient) must give the same losses: within the tolerance of the reference, and the
        // same bits as with the gradient where the loss pass does not depend on the backward pass.
        float[] loss2 = new float[pr.rows];
        double mean2 = kernel.lossAndGradient(pr.config, pr.rows, pr.scores, 0, pr.weights, 0, loss2, 0, null, 0);
        double le2 = GoldenTest.lossRelErr(toDouble(loss2), pr.refLoss);
        assertTrue(le2 <= t.lossRelative(), what + ": loss-only lossRelErr " + le2);
        if (lossOnlyIsBitIdentical(kernel)) {
            assertEquals(mean, mean2, 0.0, what + ": loss-only mean");
            assertArrayEquals(loss, loss2, what + ": loss-only row losses");
        } else {
            assertEquals(mean, mean2, 1e-12 * Math.max(1, Math.abs(mean)), what + ": loss-only mean");
        }
    }

    /**
     * Backends whose loss-only pass gives the same bits as the pass with the gradient: the CPU backends and the
     * reference compute a row's loss the same way whether or not they also form its gradient (SimdKernelTest
     * checks this for every layout and width). OpenCL is only held to the reference's tolerance.
     */
    static boolean lossOnlyIsBitIdentical(LossKernel kernel) {
        return kernel instanceof RowBlockKernel || kernel.name().equals(ReferenceKernel.NAME);
    }
}
