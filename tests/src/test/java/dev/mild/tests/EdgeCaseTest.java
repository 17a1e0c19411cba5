package dev.mild.tests;

import static dev.mild.testing.TestArrays.gaussian;
import static dev.mild.testing.TestArrays.toDouble;
import static dev.mild.testing.TestArrays.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.Checks;
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
 * Edge cases on every backend (the reference included), checked against expected values that share no code
 * with the kernels: B = 0, B = 1, p = 1, all-equal scores, scores of 1e4, rho of 1e-3, rho and delta at the
 * ends of the accepted ranges, a mix of distinct and equal margins, and a confident winner; and finite outputs
 * for whatever validation accepts. Most have closed forms; the mixed margins and the confident winner are
 * checked against {@link #byDefinition}, this class's own float64 evaluation of MATH.md's definition, which is
 * itself checked against the golden file ({@link #definitionMatchesGolden}).
 */
class EdgeCaseTest {

    static List<String> allBackends() {
        List<String> names = new ArrayList<>(Support.fastBackends());
        names.add(ReferenceKernel.NAME);
        return names;
    }

    interface Check {
        void run(LossKernel kernel);
    }

    @TestFactory
    Stream<DynamicTest> edgeCases() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : allBackends()) {
            tests.add(dynamicTest(name + ": B = 0 writes nothing and returns 0", () -> on(name, EdgeCaseTest::emptyBatch)));
            tests.add(dynamicTest(name + ": p = 1 has zero loss and gradient", () -> on(name, EdgeCaseTest::singleExpert)));
            tests.add(dynamicTest(name + ": all-equal scores give sum w log p", () -> on(name, EdgeCaseTest::equalScores)));
            tests.add(dynamicTest(name + ": p = 2 closed form, scores 1e4, rho 1e-3, B = 1", () -> on(name, EdgeCaseTest::twoExpertsExtreme)));
            tests.add(dynamicTest(name + ": rho at both ends of the accepted range", () -> on(name, EdgeCaseTest::marginRangeEnds)));
            tests.add(dynamicTest(name + ": delta at both ends of the accepted range", () -> on(name, EdgeCaseTest::additiveMarginRangeEnds)));
            tests.add(dynamicTest(name + ": delta at the ends of the accepted range, cancelled by the scores", () -> on(name, EdgeCaseTest::additiveMarginCancelled)));
            tests.add(dynamicTest(name + ": finite at the limits validation accepts", () -> on(name, EdgeCaseTest::acceptedLimitsStayFinite)));
            tests.add(dynamicTest(name + ": general member whose factors alone leave float32's range, nu near 1", () -> on(name, EdgeCaseTest::generalMemberFactors)));
            tests.add(dynamicTest(name + ": nu = 0 at the score spread's limit", () -> on(name, EdgeCaseTest::spreadLimitExponent)));
            tests.add(dynamicTest(name + ": mixed distinct and equal rho", () -> on(name, EdgeCaseTest::mixedMargins)));
            tests.add(dynamicTest(name + ": confident winner holding all the weight", () -> on(name, EdgeCaseTest::confidentWinner)));
            tests.add(dynamicTest(name + ": confident winner, one-hot weights only", () -> on(name, EdgeCaseTest::confidentWinnerAlone)));
        }
        return tests.stream();
    }

    /**
     * One thread: these batches are far below one chunk of rows ({@code RowBlockKernel.CHUNK_ROWS}), which always
     * runs on the caller's thread, so a second pass with more threads would repeat this one. Thread counts are
     * covered where batches span several chunks (GoldenTest, AgreementTest, OffsetsTest).
     */
    static void on(String name, Check check) {
        try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
            check.run(k);
        }
    }

    static void emptyBatch(LossKernel k) {
        float[] loss = {7f};
        float[] grad = {7f, 7f, 7f};
        double mean = k.lossAndGradient(LossConfig.mild(0.5, 1, 2), 0, new float[0], 0, new float[0], 0, loss, 0, grad, 0);
        assertEquals(0.0, mean);
        assertEquals(7f, loss[0]);
        assertTrue(Arrays.equals(new float[] {7f, 7f, 7f}, grad));
    }

    static void singleExpert(LossKernel k) {
        for (double nu : new double[] {0, 0.5, 1, 2}) {
            LossConfig c = LossConfig.of(new double[] {0.3}, new double[] {0.4}, nu);
            float[] scores = {3f, -1e4f, 1e4f};
            float[] weights = {2f, -1f, 0.5f};
            float[] loss = new float[3];
            float[] grad = new float[3];
            Arrays.fill(grad, 9f);
            double mean = k.lossAndGradient(c, 3, scores, 0, weights, 0, loss, 0, grad, 0);
            assertEquals(0.0, mean, 0.0, "p = 1: S = 1, Phi(1) = 0");
            for (int i = 0; i < 3; i++) {
                assertEquals(0f, loss[i], 0f);
                assertEquals(0f, grad[i], 0f);
            }
        }
    }

    static void equalScores(LossKernel k) {
        // nu = 1, delta = 0, all f equal: S_k = p, loss = log p * sum_k w_k, grad_j = (sum_k a_k w_k / p - a_j w_j) / B.
        int p = 6;
        int rows = 4;
        double[] rho = {0.5, 0.5, 1.0, 2.0, 1e-3, 1.0};
        LossConfig c = LossConfig.mild(rho);
        float[] scores = new float[rows * p];
        float[] weights = new float[rows * p];
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < rows; i++) {
            float v = (float) (1e4 * rnd.nextGaussian());
            for (int j = 0; j < p; j++) {
                scores[i * p + j] = v;
                weights[i * p + j] = (float) (rnd.nextDouble() * 2 - 0.5);
            }
        }
        float[] loss = new float[rows];
        float[] grad = new float[rows * p];
        k.lossAndGradient(c, rows, scores, 0, weights, 0, loss, 0, grad, 0);
        double[] expLoss = new double[rows];
        double[] expGrad = new double[rows * p];
        for (int i = 0; i < rows; i++) {
            double sumW = 0;
            double sumAW = 0;
            for (int j = 0; j < p; j++) {
                sumW += weights[i * p + j];
                sumAW += weights[i * p + j] / rho[j];
            }
            expLoss[i] = Math.log(p) * sumW;
            for (int j = 0; j < p; j++) {
                expGrad[i * p + j] = (sumAW / p - weights[i * p + j] / rho[j]) / rows;
            }
        }
        assertWithin(k, loss, grad, expLoss, expGrad);
    }

    static void twoExpertsExtreme(LossKernel k) {
        double[][] rhos = {{1e-3, 1e-3}, {1e-3, 2.0}, {1.0, 1.0}};
        float[][] rowsOfScores = {{1e4f, -1e4f}, {-1e4f, 1e4f}, {1e4f, 1e4f - 0.001f}, {0.3f, -0.2f}};
        for (double[] rho : rhos) {
            for (double[] delta : new double[][] {null, {0.5, -0.25}}) {
                for (float[] f : rowsOfScores) {
                    twoExpertsClosedForm(k, rho, delta, f);
                }
            }
        }
    }

    /**
     * Margins at both ends of the accepted range, {@code [LossConfig.MIN_RHO, MAX_RHO]}, with scores on the
     * scale of the smaller margin so that {@code (f_j - f_k) / rho} is of order 1 or less (the SIMD kernel gave
     * NaN for rho = 1e50, which is now rejected; inside the range nothing may be lost).
     */
    static void marginRangeEnds(LossKernel k) {
        double lo = LossConfig.MIN_RHO;
        double hi = LossConfig.MAX_RHO;
        double[][] rhos = {{lo, lo}, {hi, hi}, {hi, 1.0}, {1.0, hi}, {lo, 2 * lo}};
        for (double[] rho : rhos) {
            // At the ends of the rho range only delta = 0 is accepted (maxDelta is 0 there).
            double[] negative = {-Math.min(0.5, Math.max(0, LossConfig.maxDelta(rho[0]))),
                    -Math.min(0.25, Math.max(0, LossConfig.maxDelta(rho[1])))};
            for (double[] delta : new double[][] {null, negative}) {
                closedFormOnTheMarginScale(k, rho, delta);
            }
        }
    }

    /**
     * Additive margins at both ends of what is accepted with each rho ({@code LossConfig.maxDelta}: delta = 88 with
     * rho = 1e-3 made every float32 gradient NaN, and -69 with rho = 1e-20, accepted before, lost a gradient term
     * on every float32 backend), with scores on the scale of the margin.
     */
    static void additiveMarginRangeEnds(LossKernel k) {
        for (double[] rho : new double[][] {{1.0, 1.0}, {0.5, 2.0}, {1e-3, 1e-3}, {1e-3, 1e3}, {1e20, 1e-20}}) {
            double top0 = LossConfig.maxDelta(rho[0]) - 1e-9;
            double top1 = LossConfig.maxDelta(rho[1]) - 1e-9;
            for (double[] delta : new double[][] {{top0, top1}, {top0, -top1}, {-top0, top1}, {-top0, -top1}}) {
                closedFormOnTheMarginScale(k, rho, delta);
            }
        }
    }

    /**
     * The hardest case for a float32 kernel that validation accepts: an additive margin at either end of its
     * range that the score gap nearly cancels, so a term's exponent {@code delta + (f_o - f_k)/rho} is of order 1
     * while both parts are near 69 and the float32 rounding of each is what is left (at delta = -1429 with a
     * gap of 1000, which validation now refuses, every float32 backend was 3.5e-5 off, beyond the tolerance).
     */
    static void additiveMarginCancelled(LossKernel k) {
        for (double rho : new double[] {1.0, 0.7, 3.1, 1e-3}) {
            double top = LossConfig.maxDelta(rho) - 1e-9;
            for (double delta : new double[] {-top, top}) {
                for (double left : new double[] {-1.5, 0.0, 0.8}) {   // the exponent that is left
                    for (int target = 0; target < 2; target++) {
                        double[] d = new double[2];
                        d[target] = delta;
                        // u = delta + (f_other - f_target)/rho = left
                        float[] f = new float[2];
                        f[target] = 0.37f;
                        f[1 - target] = (float) (0.37 + (left - delta) * rho);
                        twoExpertsClosedForm(k, new double[] {rho, rho}, d, f);
                    }
                }
            }
        }
    }

    /**
     * {@link #twoExpertsClosedForm} with scores of 1.5 and -0.5, -2 and 1, and 0 and 0 times the smaller margin, so
     * that {@code (f_j - f_k) / rho} is of order 1 or less whatever the scale of rho.
     */
    static void closedFormOnTheMarginScale(LossKernel k, double[] rho, double[] delta) {
        for (double[] unitsOfRho : new double[][] {{1.5, -0.5}, {-2, 1}, {0, 0}}) {
            double unit = Math.min(rho[0], rho[1]);
            float[] f = {(float) (unitsOfRho[0] * unit), (float) (unitsOfRho[1] * unit)};
            twoExpertsClosedForm(k, rho, delta, f);
        }
    }

    /**
     * Whatever validation accepts gives finite losses and gradients: random members across the accepted ranges
     * (rho from 1e-30 to 1e30, delta up to its limit, nu from 0 to 5), scores spread up to 0.999 of
     * {@code maxScoreSpread()}, signed weights up to 1e6. Before the limits, scores of +-1e36 with rho 1e-3
     * and a zero weight gave NaN on every float32 backend.
     */
    static void acceptedLimitsStayFinite(LossKernel k) {
        SplittableRandom rnd = new SplittableRandom(23);
        double[] nus = {0, 0.5, 0.9, 1, 1, 2, 5};
        int tried = 0;
        int accepted = 0;
        while (accepted < 200) {
            tried++;
            int p = 1 + rnd.nextInt(9);
            double logRho = -30 + 60 * rnd.nextDouble();
            double[] rho = new double[p];
            double[] delta = new double[p];
            boolean withDelta = rnd.nextBoolean();
            for (int j = 0; j < p; j++) {
                rho[j] = switch (rnd.nextInt(4)) {
                    case 0 -> LossConfig.MIN_RHO;
                    case 1 -> LossConfig.MAX_RHO;
                    default -> Math.pow(10, Math.max(-30, Math.min(30, logRho + 2 * rnd.nextGaussian())));
                };
                delta[j] = !withDelta ? 0 : (rnd.nextBoolean() ? -1 : 1) * Math.max(0, LossConfig.maxDelta(rho[j]))
                        * rnd.nextDouble();
            }
            LossConfig c;
            try {
                c = LossConfig.of(rho, delta, nus[rnd.nextInt(nus.length)]);
            } catch (dev.mild.InvalidInputException e) {
                continue; // e.g. nu < 1 with a margin so sharp that even equal scores overflow
            }
            accepted++;
            int rows = 3;
            double spread = c.maxScoreSpread() * (rnd.nextBoolean() ? 0.999 : rnd.nextDouble());
            double weightScale = Math.pow(10, rnd.nextInt(9) - 2);
            float[] f = new float[rows * p];
            float[] w = new float[rows * p];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) ((rnd.nextDouble() - 0.5) * spread);
                w[i] = (float) (rnd.nextInt(4) == 0 ? 0 : (2 * rnd.nextDouble() - 1) * weightScale);
            }
            Checks.scores("scores", c, f, 0, rows);
            float[] loss = new float[rows];
            float[] grad = new float[rows * p];
            double mean = k.lossAndGradient(c, rows, f, 0, w, 0, loss, 0, grad, 0);
            boolean finite = Double.isFinite(mean);
            for (float v : loss) {
                finite &= Float.isFinite(v);
            }
            for (float v : grad) {
                finite &= Float.isFinite(v);
            }
            assertTrue(finite, k.name() + ": non-finite output for " + c + ", spread " + spread + ", weights up to "
                    + weightScale + ": loss " + Arrays.toString(loss) + " grad " + Arrays.toString(grad));
        }
        assertTrue(tried < 3 * accepted, "most random members should be accepted: " + accepted + " of " + tried);
    }

    /**
     * p = 2, nu = 1, weights (0.7, 1.3): the closed form below with loss = sum_k w_k log(1 + e^delta_k
     * e^(a_k (f_other - f_k))), for a configuration and scores that validation accepts.
     */
    static void twoExpertsClosedForm(LossKernel k, double[] rho, double[] delta, float[] f) {
        twoExpertsClosedForm(k, rho, delta, 1.0, f, new float[] {0.7f, 1.3f});
    }

    /**
     * The general member where a factor of a gradient term leaves float32's range while the term does not, and
     * where nu is not a float32. Two experts, one row each, against {@link #twoExpertsClosedForm(LossKernel,
     * double[], double[], double, float[], float[])} (values from mpmath at 50 digits in the comments):
     * <ul>
     *   <li>rho 1, delta 60 on both, nu = 2, equal scores, weights (1, 0) and (0, 1): the gradient is
     *       {@code +-e^60 / (1 + e^60)^2 = 8.7565107626965203e-27}, loss 1. OpenCL formed {@code e^delta S^-nu}
     *       with {@code S^-nu ~ e^-120} below float32's range: 0 and 8.8e-27 for the first row.</li>
     *   <li>rho 1e-27 on both, nu = 10, scores (1.1e-26, 0), weights (0, 1): {@code (f_0 - f_1)/rho = 11},
     *       gradient {@code +-1.0110551472895554e-16}, loss 1/9. {@code exp(delta + x - nu log S) ~ e^-99} is below
     *       float32's range, {@code 1/rho} times it is not; OpenCL gave about 1e-22.</li>
     *   <li>rho 1, nu = 1.001, scores (3000, 0), weights (0, 1): loss {@code (1 - e^-3.003...)/0.001 =
     *       950.21293163222426}, gradient {@code +-0.049787068367880393}. OpenCL used {@code 1 - (float) nu}, a
     *       relative 4.7e-5 off, which {@code log S = 3000} turned into 3.9e-5 of the loss.</li>
     * </ul>
     */
    static void generalMemberFactors(LossKernel k) {
        twoExpertsClosedForm(k, new double[] {1, 1}, new double[] {60, 60}, 2.0, new float[] {0f, 0f}, new float[] {1f, 0f});
        twoExpertsClosedForm(k, new double[] {1, 1}, new double[] {60, 60}, 2.0, new float[] {0f, 0f}, new float[] {0f, 1f});
        twoExpertsClosedForm(k, new double[] {1e-27, 1e-27}, null, 10.0, new float[] {1.1e-26f, 0f}, new float[] {0f, 1f});
        twoExpertsClosedForm(k, new double[] {1, 1}, null, 1.001, new float[] {3000f, 0f}, new float[] {0f, 1f});
    }

    /**
     * One row of two experts with any nu against MATH.md in closed form: {@code S_k = 1 + e^u_k},
     * {@code u_k = delta_k + (f_o - f_k)/rho_k}, loss {@code sum_k w_k Phi(S_k)}, and {@code dPhi(S_k)/df_o =
     * a_k e^(u_k - nu log S_k) = -dPhi(S_k)/df_k}.
     */
    static void twoExpertsClosedForm(LossKernel k, double[] rho, double[] delta, double nu, float[] f, float[] w) {
        LossConfig c = LossConfig.of(rho, delta, nu);
        Checks.scores("scores", c, f, 0, 1);
        float[] loss = new float[1];
        float[] grad = new float[2];
        k.lossAndGradient(c, 1, f, 0, w, 0, loss, 0, grad, 0);
        double[] expLoss = {0};
        double[] expGrad = new double[2];
        for (int kk = 0; kk < 2; kk++) {
            int o = 1 - kk;
            double a = 1 / rho[kk];
            double u = (delta == null ? 0 : delta[kk]) + a * ((double) f[o] - f[kk]);
            double logS = u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
            expLoss[0] += w[kk] * (nu == 1 ? logS : Math.expm1((1 - nu) * logS) / (1 - nu));
            double t = w[kk] * a * Math.exp(u - nu * logS);
            expGrad[o] += t;
            expGrad[kk] -= t;
        }
        String what = "rho " + Arrays.toString(rho) + ", delta " + Arrays.toString(delta) + ", nu " + nu + ", scores "
                + Arrays.toString(f) + ", weights " + Arrays.toString(w);
        assertTrue(Float.isFinite(loss[0]) && Float.isFinite(grad[0]) && Float.isFinite(grad[1]),
                k.name() + ": non-finite output for " + what);
        assertWithin(k, loss, grad, expLoss, expGrad, what);
    }

    /**
     * {@code nu = 0} with scores near {@link LossConfig#maxScoreSpread}: {@code Phi(S) = S - 1 ~ e^x} with
     * {@code x = (f_0 - f_1)/rho ~ 67}, so the loss's relative error is the absolute error of x. Formed in float32
     * as {@code (float) a * (m - f)}, x kept up to 1.5 ulp (about 1e-5 at 67), and every float32 backend gave
     * 5.355366e28, 1.149e-5 above the loss; mpmath at 40 digits: 5.3553046522467437e28.
     */
    static void spreadLimitExponent(LossKernel k) {
        LossConfig c = LossConfig.uniform(3, 0.2456, 0.0);
        float[] scores = {7.616997f, -8.700213f, -0.506757f};
        float[] weights = {0.25f, 0.75f, 1f};
        Checks.scores("scores", c, scores, 0, 1);
        double[] expLoss = new double[1];
        double[] expGrad = new double[3];
        byDefinition(c, 1, toDouble(scores), toDouble(weights), expLoss, expGrad);
        assertEquals(5.3553046522467437e28, expLoss[0], 1e-12 * expLoss[0], "byDefinition against mpmath");
        float[] loss = new float[1];
        float[] grad = new float[3];
        k.lossAndGradient(c, 1, scores, 0, weights, 0, loss, 0, grad, 0);
        assertWithin(k, loss, grad, expLoss, expGrad);
    }

    static void mixedMargins(LossKernel k) {
        // Experts 0, 2, 4 share rho = 0.5; 1 and 3 share 2.0; 5 is alone: three softmaxes per row.
        double[] rho = {0.5, 2.0, 0.5, 2.0, 0.5, 1e-3};
        LossConfig c = LossConfig.mild(rho);
        assertEquals(3, c.groups());
        int rows = 9;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] scores = gaussian(rnd, rows * 6, 2.0);
        float[] weights = uniform(rnd, rows * 6, 0, 3);
        assertMatchesDefinition(k, c, rows, scores, weights, "");
    }

    /**
     * A router that is confident and right, with the weight on its winner (cross-entropy's one-hot, or
     * rewards dominated by one expert): the gradient is tiny, {@code a w zRest / Z}, the difference of two
     * terms near {@code a w}. Computing it as that difference in float32 loses it entirely.
     * p = 40 (two distinct margins, logsumexp) takes the SIMD backend's experts-in-lanes layout, which the smaller p
     * never reached. See also {@link #confidentWinnerAlone}.
     */
    static void confidentWinner(LossKernel k) {
        SplittableRandom rnd = new SplittableRandom(17);
        for (int p : new int[] {2, 3, 8, 19, 40}) {
            for (double lead : new double[] {5, 10, 30, 40}) {
                for (double nu : new double[] {1.0, 0.5, 2.0}) {
                    for (boolean withDelta : new boolean[] {false, true}) {
                        double[] rho = new double[p];
                        double[] delta = new double[p];
                        for (int j = 0; j < p; j++) {
                            rho[j] = j % 2 == 0 ? 1.0 : 0.5;
                            delta[j] = withDelta ? 0.3 : 0.0;
                        }
                        LossConfig c = LossConfig.of(rho, delta, nu);
                        int rows = 6;
                        float[] scores = new float[rows * p];
                        float[] weights = new float[rows * p];
                        for (int i = 0; i < rows; i++) {
                            int top = i % p;
                            for (int j = 0; j < p; j++) {
                                scores[i * p + j] = (float) (j == top ? lead : rnd.nextDouble());
                                // every other row: a little weight on the losers too
                                weights[i * p + j] = j == top ? 1f : (i % 2 == 0 ? 0f : 1e-6f);
                            }
                        }
                        assertMatchesDefinition(k, c, rows, scores, weights, "");
                    }
                }
            }
        }
    }

    /**
     * {@link #confidentWinner} with all of every row's weight on its winner, so that the tiny gradient is the whole
     * gradient of the batch (the rows there with weight on the losers set the normwise scale, and hid an error in
     * the others). p = 40 with one or two distinct margins takes the SIMD backend's experts-in-lanes layout, which
     * forms the top expert's share in double: a lead of 40 makes {@code zRest} about 1e-16 to 1e-33, where
     * {@code a sumW / Z - a w_top} gives 0 instead of {@code -a w zRest / Z} (that mutation passed every test before;
     * a double keeps the difference only down to {@code zRest} near 1e-12). Against {@link #byDefinition}.
     */
    static void confidentWinnerAlone(LossKernel k) {
        SplittableRandom rnd = new SplittableRandom(29);
        for (int p : new int[] {3, 8, 40}) {
            for (boolean twoMargins : new boolean[] {false, true}) {
                for (double lead : new double[] {20, 40}) {
                    double[] rho = new double[p];
                    for (int j = 0; j < p; j++) {
                        rho[j] = twoMargins && j % 2 == 1 ? 0.5 : 1.0;
                    }
                    LossConfig c = LossConfig.mild(rho);
                    int rows = 4;
                    float[] scores = new float[rows * p];
                    float[] weights = new float[rows * p];
                    for (int i = 0; i < rows; i++) {
                        int top = (3 * i) % p;
                        for (int j = 0; j < p; j++) {
                            scores[i * p + j] = (float) (j == top ? lead : rnd.nextDouble());
                            weights[i * p + j] = j == top ? 1f : 0f;
                        }
                    }
                    assertMatchesDefinition(k, c, rows, scores, weights, "p=" + p + " lead " + lead
                            + (twoMargins ? " two margins" : " one margin"));
                }
            }
        }
    }

    /**
     * The loss family from its definition (MATH.md), in float64, written apart from every kernel: per row and
     * expert k, with {@code u_kj = delta_k + a_k (f_j - f_k)},
     * <pre>
     *   log S_k   = log(1 + sum_{j != k} e^u_kj)              (a log-sum-exp over the p terms 0 and u_kj)
     *   Phi(S_k)  = log S_k (nu = 1),  expm1((1 - nu) log S_k) / (1 - nu) otherwise
     *   dPhi(S_k)/df_j = S_k^-nu dS_k/df_j = a_k e^(u_kj - nu log S_k)  (j != k),  minus their sum for j = k
     * </pre>
     * Fills the per-row losses and the gradient of the mean; returns the mean.
     */
    static double byDefinition(LossConfig c, int rows, double[] f, double[] w, double[] rowLoss, double[] grad) {
        int p = c.experts();
        double nu = c.nu();
        double total = 0;
        Arrays.fill(grad, 0, rows * p, 0.0);
        for (int i = 0; i < rows; i++) {
            int r = i * p;
            double loss = 0;
            for (int k = 0; k < p; k++) {
                double a = 1 / c.rho(k);
                double[] u = new double[p];
                double largest = 0; // the term of the 1 in S_k, u = 0
                for (int j = 0; j < p; j++) {
                    u[j] = c.delta(k) + a * (f[r + j] - f[r + k]);
                    if (j != k) {
                        largest = Math.max(largest, u[j]);
                    }
                }
                double sum = Math.exp(-largest);
                for (int j = 0; j < p; j++) {
                    if (j != k) {
                        sum += Math.exp(u[j] - largest);
                    }
                }
                double logS = largest + Math.log(sum);
                loss += w[r + k] * (nu == 1 ? logS : Math.expm1((1 - nu) * logS) / (1 - nu));
                for (int j = 0; j < p; j++) {
                    if (j != k) {
                        double d = w[r + k] * a * Math.exp(u[j] - nu * logS) / rows;
                        grad[r + j] += d;
                        grad[r + k] -= d;
                    }
                }
            }
            rowLoss[i] = loss;
            total += loss;
        }
        return rows == 0 ? 0 : total / rows;
    }

    /** {@link #byDefinition} against the golden file's independently computed values, in float64. */
    @Test
    void definitionMatchesGolden() {
        GoldenTest.assertMatchesGoldenInFloat64(EdgeCaseTest::byDefinition);
    }

    /** {@code k} on these rows against {@link #byDefinition}, within {@link #assertWithin}'s tolerance. */
    static void assertMatchesDefinition(LossKernel k, LossConfig c, int rows, float[] scores, float[] weights,
                                        String what) {
        double[] expLoss = new double[rows];
        double[] expGrad = new double[scores.length];
        byDefinition(c, rows, toDouble(scores), toDouble(weights), expLoss, expGrad);
        float[] loss = new float[rows];
        float[] grad = new float[scores.length];
        k.lossAndGradient(c, rows, scores, 0, weights, 0, loss, 0, grad, 0);
        assertWithin(k, loss, grad, expLoss, expGrad, what);
    }

    static void assertWithin(LossKernel k, float[] loss, float[] grad, double[] expLoss, double[] expGrad) {
        assertWithin(k, loss, grad, expLoss, expGrad, "");
    }

    static void assertWithin(LossKernel k, float[] loss, float[] grad, double[] expLoss, double[] expGrad, String what) {
        String name = k.name() + (what.isEmpty() ? "" : " (" + what + ")");
        Tolerance t = k.tolerance().equals(Tolerance.FLOAT64) ? Tolerance.FLOAT32 : k.tolerance();
        double le = GoldenTest.lossRelErr(toDouble(loss), expLoss);
        double ge = GoldenTest.gradErr(toDouble(grad), expGrad);
        assertTrue(le <= t.lossRelative(), name + ": lossRelErr " + le + " loss " + Arrays.toString(loss)
                + " expected " + Arrays.toString(expLoss));
        assertTrue(ge <= t.gradNormwise(), name + ": gradErr " + ge + " grad " + Arrays.toString(grad)
                + " expected " + Arrays.toString(expGrad));
    }
}
