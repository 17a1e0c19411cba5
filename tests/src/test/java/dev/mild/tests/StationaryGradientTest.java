package dev.mild.tests;

import static dev.mild.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.io.GoldenCheck;
import dev.mild.loss.Backends;
import dev.mild.loss.GradientError;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Gradients near a stationary point, where each entry is the difference of terms far larger than itself, on
 * every float32 backend against the float64 reference. Float32 rounding of the terms puts every backend 5-8%
 * (and more) off such a gradient, so {@link Tolerance}'s normwise bound, {@code max|g - g*| / max|g*|}, refuses
 * correct kernels here; these inputs are held to its termwise bound instead, {@code max|g - g*| / max T*} with
 * {@code T*} the size of each entry's terms ({@link ReferenceKernel}). The inputs: tied and nearly tied scores
 * with equal weights, positive or negative (a realizable row whose experts are all right has every weight
 * {@code 2 - p}), and weights at the stationary point of spread scores, for logsumexp and general members
 * ({@code nu != 1}, additive margins), p in {2, 3, 8, 17}, B in {1, 7}. Margins are equal within a member: at
 * tied scores with distinct margins the gradient is not small. The termwise bound must still refuse a real
 * bug: a wrong entry or a lost term is refused though the gradient is tiny.
 */
class StationaryGradientTest {

    /** A batch whose every row is at or near a stationary point of its loss. */
    record Case(String name, LossConfig config, int rows, float[] scores, float[] weights) {
        int p() {
            return config.experts();
        }
    }

    /** The reference's values for a case: row losses, their terms' size, the gradient and its terms' size. */
    record Truth(double[] loss, double[] lossTerms, double[] grad, double[] gradTerms) {
        static Truth of(Case c) {
            int n = c.rows() * c.p();
            Truth t = new Truth(new double[c.rows()], new double[c.rows()], new double[n], new double[n]);
            ReferenceKernel.evaluate(c.config(), c.rows(), toDouble(c.scores()), toDouble(c.weights()), t.loss(),
                    t.grad(), t.lossTerms(), t.gradTerms());
            return t;
        }
    }

    /** Members with one margin for every expert: logsumexp, and general ones with nu != 1 and additive margins. */
    static List<LossConfig> members(int p) {
        return List.of(
                LossConfig.uniform(p, 0.7, 1.0),
                LossConfig.of(filled(p, 0.7), filled(p, 0.3), 0.5),
                LossConfig.of(filled(p, 1.3), filled(p, -0.4), 2.0),
                LossConfig.of(filled(p, 0.7), filled(p, 0.25), 1.0),
                LossConfig.of(filled(p, 0.5), null, 0.0));
    }

    static final String[] KINDS = {"exact ties, equal weights", "near ties, equal weights",
        "near ties, equal negative weights", "spread scores, stationary weights",
        "spread scores, stationary negative weights"};

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        long seed = 1;
        for (int p : new int[] {2, 3, 8, 17}) {
            for (LossConfig config : members(p)) {
                for (int rows : new int[] {1, 7}) {
                    for (int kind = 0; kind < KINDS.length; kind++) {
                        out.add(build(KINDS[kind] + ", " + memberName(config) + ", p=" + p + " B=" + rows,
                                kind, config, rows, new SplittableRandom(seed++)));
                    }
                }
            }
        }
        return out;
    }

    static Case build(String name, int kind, LossConfig config, int rows, SplittableRandom rnd) {
        int p = config.experts();
        double rho = config.rho(0);
        float[] s = new float[rows * p];
        float[] w = new float[rows * p];
        for (int i = 0; i < rows; i++) {
            double offset = 3 * rnd.nextGaussian(); // ties away from 0, where float32 scores are finest
            double weight = 0.5 + 1.5 * rnd.nextDouble();
            for (int j = 0; j < p; j++) {
                double spread = switch (kind) {
                    case 0 -> 0;
                    case 1, 2 -> 1e-4 * rho;
                    default -> rho;
                };
                s[i * p + j] = (float) (offset + spread * rnd.nextGaussian());
                w[i * p + j] = (float) (kind == 2 ? -weight : weight);
            }
            if (kind >= 3) {
                stationaryWeights(config, s, i, kind == 4 ? -1.5 : 1.5, w);
            }
        }
        return new Case(name, config, rows, s, w);
    }

    /**
     * The weights at which row i's scores are a stationary point, for a member with one margin a and one delta:
     * {@code w_k ~ e^(2 a f_k) S_k^nu}. Then {@code u_k = w_k a e^delta S_k^-nu ~ e^(2 a f_k)}, and entry j of
     * the gradient, {@code sum_{k != j} u_k e^(a (f_j - f_k)) - u_j sum_{k != j} e^(a (f_k - f_j))}, is
     * {@code e^(a f_j) sum_{k != j} e^(a f_k)} twice over, so 0. (For logsumexp it is the softmax of a f.) Scaled
     * to the largest being {@code largest} and rounded to float32, which leaves a gradient near 2^-24 of its terms.
     */
    static void stationaryWeights(LossConfig c, float[] s, int row, double largest, float[] w) {
        int p = c.experts();
        double a = c.inverseMargin(0);
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < p; j++) {
            max = Math.max(max, s[row * p + j]);
        }
        double[] v = new double[p];
        double top = 0;
        for (int k = 0; k < p; k++) {
            double others = 0;
            for (int j = 0; j < p; j++) {
                if (j != k) {
                    others += Math.exp(a * ((double) s[row * p + j] - s[row * p + k]));
                }
            }
            double sk = 1 + c.expDelta(k) * others;
            v[k] = Math.exp(2 * a * (s[row * p + k] - max)) * Math.pow(sk, c.nu());
            top = Math.max(top, v[k]);
        }
        for (int k = 0; k < p; k++) {
            w[row * p + k] = (float) (largest * v[k] / top);
        }
    }

    @Test
    void theCasesAreNearStationaryPoints() {
        for (Case c : cases()) {
            Truth t = Truth.of(c);
            double grad = Support.maxAbs(t.grad());
            double terms = Support.maxAbs(t.gradTerms());
            assertTrue(terms > 0, c.name() + ": terms");
            assertTrue(grad <= 1e-3 * terms, c.name() + ": gradient " + grad + " against terms " + terms);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyFloat32BackendIsWithinTheTermwiseBound() {
        List<Case> cases = cases();
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Support.fastBackends()) {
            tests.add(dynamicTest(name, () -> {
                try (LossKernel kernel = Backends.open(name, KernelOptions.threads(1))) {
                    assertEquals(Tolerance.FLOAT32, kernel.tolerance());
                    for (Case c : cases) {
                        check(kernel, c);
                    }
                }
            }));
        }
        return tests.stream();
    }

    static void check(LossKernel kernel, Case c) {
        Truth t = Truth.of(c);
        float[] loss = new float[c.rows()];
        float[] grad = new float[c.rows() * c.p()];
        kernel.lossAndGradient(c.config(), c.rows(), c.scores(), 0, c.weights(), 0, loss, 0, grad, 0);
        String what = kernel.name() + " " + c.name();
        Tolerance tol = Tolerance.FLOAT32;
        double le = GoldenCheck.lossRelErr(toDouble(loss), t.loss(), t.lossTerms());
        GradientError ge = GradientError.of(toDouble(grad), t.grad(), t.gradTerms());
        assertTrue(le <= tol.lossRelative(), what + ": lossRelErr " + le);
        assertTrue(tol.acceptsGradient(ge), what + ": gradErr " + ge + "\n  got      " + Arrays.toString(grad)
                + "\n  expected " + Arrays.toString(t.grad()));
    }

    /**
     * The termwise bound has teeth where the gradient is tiny: a backend's accepted gradient with one entry moved
     * by 1e-4 of the largest term is refused, and so is the true gradient with one term lost (the largest softmax
     * part in the first row), though neither the normwise measure (which refuses the correct output too) nor the size
     * of the gradient could tell them apart.
     */
    @TestFactory
    Stream<DynamicTest> aWrongEntryOrALostTermIsRefused() {
        List<Case> cases = List.of(
                build("near ties, logsumexp, p=17 B=7", 1, LossConfig.uniform(17, 0.7, 1.0), 7, new SplittableRandom(5)),
                build("spread scores, nu=2 delta -0.4, p=8 B=7", 3, LossConfig.of(filled(8, 1.3), filled(8, -0.4), 2.0),
                        7, new SplittableRandom(6)));
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Support.fastBackends()) {
            tests.add(dynamicTest(name, () -> {
                try (LossKernel kernel = Backends.open(name, KernelOptions.threads(1))) {
                    for (Case c : cases) {
                        Truth t = Truth.of(c);
                        float[] grad = new float[c.rows() * c.p()];
                        kernel.lossAndGradient(c.config(), c.rows(), c.scores(), 0, c.weights(), 0, null, 0, grad, 0);
                        double[] g = toDouble(grad);
                        String what = name + " " + c.name();
                        assertTrue(Tolerance.FLOAT32.acceptsGradient(GradientError.of(g, t.grad(), t.gradTerms())),
                                what + ": the backend's own gradient");

                        double[] moved = g.clone();
                        moved[3] += 1e-4 * Support.maxAbs(t.gradTerms());
                        GradientError movedErr = GradientError.of(moved, t.grad(), t.gradTerms());
                        assertFalse(Tolerance.FLOAT32.acceptsGradient(movedErr), what + ": entry moved, " + movedErr);

                        // the largest softmax part in row 0, expert k's in entry j
                        double term = 0;
                        int entry = 0;
                        for (int k = 0; k < c.p(); k++) {
                            for (int j = 0; j < c.p(); j++) {
                                if (j != k && Math.abs(softmaxPart(c, 0, k, j)) > Math.abs(term)) {
                                    term = softmaxPart(c, 0, k, j);
                                    entry = j;
                                }
                            }
                        }
                        double[] lost = t.grad().clone();
                        lost[entry] -= term;
                        GradientError lostErr = GradientError.of(lost, t.grad(), t.gradTerms());
                        assertFalse(Tolerance.FLOAT32.acceptsGradient(lostErr), what + ": term lost, " + lostErr);
                    }
                }
            }));
        }
        return tests.stream();
    }

    /** Expert k's softmax part of entry j in row i: {@code w_k a_k e^(delta_k + a_k (f_j - f_k)) S_k^-nu / B}. */
    static double softmaxPart(Case c, int i, int k, int j) {
        int p = c.p();
        double a = c.config().inverseMargin(k);
        double others = 0;
        for (int m = 0; m < p; m++) {
            if (m != k) {
                others += Math.exp(a * ((double) c.scores()[i * p + m] - c.scores()[i * p + k]));
            }
        }
        double sk = 1 + c.config().expDelta(k) * others;
        return c.weights()[i * p + k] * a * c.config().expDelta(k)
                * Math.exp(a * ((double) c.scores()[i * p + j] - c.scores()[i * p + k])) * Math.pow(sk, -c.config().nu())
                / c.rows();
    }

    // --- The term sizes themselves ---

    /** p = 2 by hand: each entry's terms are expert 0's softmax part and expert 1's, since S_k - 1 is one term. */
    @Test
    void termSizesByHandForTwoExperts() {
        // f = (0, 0), a = 1, nu = 1, delta = 0, w = (1, 1): S = 2, every term 1/2, the gradient 0
        double[] terms = new double[2];
        double[] grad = new double[2];
        ReferenceKernel.evaluate(LossConfig.uniform(2, 1.0, 1.0), 1, new double[] {0, 0}, new double[] {1, 1}, null,
                grad, null, terms);
        assertArrayEquals(new double[] {0, 0}, grad, 1e-15);
        assertArrayEquals(new double[] {1, 1}, terms, 1e-15);

        // f = (ln 3, 0), w = (2, -1): S_0 = 4/3, S_1 = 4; expert 0's terms 2 (1/3) (3/4) = 1/2, expert 1's
        // 1 * 3 / 4 = 3/4; g_0 = -3/4 - 1/2 (both negative, so |g| = T)
        ReferenceKernel.evaluate(LossConfig.uniform(2, 1.0, 1.0), 1, new double[] {Math.log(3), 0},
                new double[] {2, -1}, null, grad, null, terms);
        assertArrayEquals(new double[] {-1.25, 1.25}, grad, 1e-15);
        assertArrayEquals(new double[] {1.25, 1.25}, terms, 1e-15);

        // The same row twice: the gradient of the mean, and its terms, per row halve
        double[] terms2 = new double[4];
        ReferenceKernel.evaluate(LossConfig.uniform(2, 1.0, 1.0), 2, new double[] {Math.log(3), 0, Math.log(3), 0},
                new double[] {2, -1, 2, -1}, null, null, null, terms2);
        assertArrayEquals(new double[] {0.625, 0.625, 0.625, 0.625}, terms2, 1e-15);

        // nu = 2, delta = (0.5, -0.5), a = (1, 2), f = (0.3, -0.2), w = (1.5, -0.7): u_0 = e^(0.5 - 0.5),
        // u_1 = e^(-0.5 + 1); term_k = |w_k| a_k u_k / (1 + u_k)^2
        LossConfig c = LossConfig.of(new double[] {1, 0.5}, new double[] {0.5, -0.5}, 2.0);
        ReferenceKernel.evaluate(c, 1, new double[] {0.3, -0.2}, new double[] {1.5, -0.7}, null, null, null, terms);
        double u0 = Math.exp(0.0);
        double u1 = Math.exp(0.5);
        double expected = 1.5 * 1 * u0 / ((1 + u0) * (1 + u0)) + 0.7 * 2 * u1 / ((1 + u1) * (1 + u1));
        assertArrayEquals(new double[] {expected, expected}, terms, 1e-15);
    }

    /**
     * Against this test's own float64 sum of |terms|, per entry j from plain S_k (no log space, moderate inputs):
     * {@code T_j = (1/B) [sum_{k != j} |w_k| a_k e^delta_k e^(a_k (f_j - f_k)) S_k^-nu + |w_j| a_j (S_j - 1) S_j^-nu]},
     * over distinct margins, additive margins, nu in {0, 0.5, 1, 2} and signed weights; and |g*| never above T*.
     */
    @Test
    void termSizesAreTheSumOfMathMdsContributions() {
        SplittableRandom rnd = new SplittableRandom(29);
        for (int p : new int[] {1, 2, 3, 5, 8}) {
            for (double nu : new double[] {0, 0.5, 1, 2}) {
                int rows = 3;
                double[] rho = new double[p];
                double[] delta = new double[p];
                for (int k = 0; k < p; k++) {
                    rho[k] = 0.3 + 2 * rnd.nextDouble();
                    delta[k] = rnd.nextDouble() - 0.5;
                }
                LossConfig c = LossConfig.of(rho, delta, nu);
                double[] f = new double[rows * p];
                double[] w = new double[rows * p];
                for (int i = 0; i < f.length; i++) {
                    f[i] = 2 * rnd.nextGaussian();
                    w[i] = 3 * rnd.nextDouble() - 1;
                }
                double[] grad = new double[rows * p];
                double[] terms = new double[rows * p];
                ReferenceKernel.evaluate(c, rows, f, w, null, grad, null, terms);
                for (int i = 0; i < rows; i++) {
                    double[] s = new double[p];
                    for (int k = 0; k < p; k++) {
                        s[k] = 1;
                        for (int m = 0; m < p; m++) {
                            if (m != k) {
                                s[k] += Math.exp(delta[k]) * Math.exp((f[i * p + m] - f[i * p + k]) / rho[k]);
                            }
                        }
                    }
                    for (int j = 0; j < p; j++) {
                        double sum = Math.abs(w[i * p + j]) / rho[j] * (s[j] - 1) * Math.pow(s[j], -nu);
                        for (int k = 0; k < p; k++) {
                            if (k != j) {
                                sum += Math.abs(w[i * p + k]) / rho[k] * Math.exp(delta[k])
                                        * Math.exp((f[i * p + j] - f[i * p + k]) / rho[k]) * Math.pow(s[k], -nu);
                            }
                        }
                        String at = "p=" + p + " nu=" + nu + " row " + i + " entry " + j;
                        assertEquals(sum / rows, terms[i * p + j], 1e-12 * sum / rows, at);
                        assertTrue(Math.abs(grad[i * p + j]) <= terms[i * p + j] * (1 + 1e-12), at + ": |g| <= T");
                    }
                }
            }
        }
    }

    /** Asking for the term sizes changes none of the other outputs, bit for bit. */
    @Test
    void termSizesLeaveTheOtherOutputsAsTheyWere() {
        SplittableRandom rnd = new SplittableRandom(31);
        LossConfig c = LossConfig.of(new double[] {0.5, 1.5, 0.9, 2.0}, new double[] {0.1, -0.2, 0.3, 0}, 0.5);
        int rows = 9;
        double[] f = new double[rows * 4];
        double[] w = new double[rows * 4];
        for (int i = 0; i < f.length; i++) {
            f[i] = 3 * rnd.nextGaussian();
            w[i] = 2 * rnd.nextDouble() - 0.5;
        }
        double[] loss = new double[rows];
        double[] grad = new double[rows * 4];
        double[] size = new double[rows];
        double mean = ReferenceKernel.evaluate(c, rows, f, w, loss, grad, size);
        double[] loss2 = new double[rows];
        double[] grad2 = new double[rows * 4];
        double[] size2 = new double[rows];
        double mean2 = ReferenceKernel.evaluate(c, rows, f, w, loss2, grad2, size2, new double[rows * 4]);
        assertEquals(mean, mean2, 0.0);
        assertArrayEquals(loss, loss2, 0.0);
        assertArrayEquals(grad, grad2, 0.0);
        assertArrayEquals(size, size2, 0.0);
    }

    /** The rule: normwise or termwise, each against its own bound; NaN meets neither; without sizes, normwise. */
    @Test
    void eitherMeasureAcceptsAndNaNNeither() {
        Tolerance t = Tolerance.FLOAT32;
        double[] want = {1e-6, -1e-6};
        double[] terms = {1.0, 1.0};
        // 1e-7 off: 10% of the gradient, 1e-7 of its terms
        GradientError near = GradientError.of(new double[] {1.1e-6, -1e-6}, want, terms);
        assertEquals(0.1, near.normwise(), 1e-9);
        assertEquals(1e-7, near.termwise(), 1e-16);
        assertTrue(t.acceptsGradient(near));
        assertFalse(t.acceptsGradient(GradientError.normwiseOnly(new double[] {1.1e-6, -1e-6}, want)));
        // 1e-4 of the terms off (100 times the gradient): refused
        assertFalse(t.acceptsGradient(GradientError.of(new double[] {1.01e-4, -1e-6}, want, terms)));
        GradientError nan = GradientError.of(new double[] {Double.NaN, -1e-6}, want, terms);
        assertTrue(Double.isNaN(nan.normwise()) && Double.isNaN(nan.termwise()), nan.toString());
        assertFalse(t.acceptsGradient(nan));
        // far from stationary, the normwise bound alone suffices: 8e-5 off a gradient of 1 whose terms are 1
        GradientError far = GradientError.of(new double[] {1.00008, -1}, new double[] {1, -1}, new double[] {1, 1});
        assertTrue(far.termwise() > t.gradTermwise() && t.acceptsGradient(far), far.toString());
    }

    static String memberName(LossConfig c) {
        return c.isLogSumExp() ? "logsumexp" : "nu=" + c.nu() + " delta " + c.delta(0);
    }

    static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }
}
