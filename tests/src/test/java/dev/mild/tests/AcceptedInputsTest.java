package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.InvalidInputException;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.Loss;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Inputs the validating facade ({@link Loss}) accepts must come out finite and right on every backend, checked
 * against values worked out by hand from MATH.md or against the float64 reference. Each case here was added
 * because a plausible mutation of the code passed every test before (a manual mutation audit):
 * <ul>
 *   <li>the weight limit without its {@code 1/p} factor ({@code LossConfig.maxRowWeight});</li>
 *   <li>the overlap check refusing outputs that only touch an input ({@code Checks.disjoint} with {@code <=});</li>
 *   <li>the SIMD kernel's compensated (TwoSum) row sums reduced to plain float sums.</li>
 * </ul>
 */
class AcceptedInputsTest {

    static Stream<DynamicTest> perBackend(String what, java.util.function.Consumer<LossKernel> check) {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Support.fastBackends()) {
            tests.add(dynamicTest(name + ": " + what, () -> {
                try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
                    check.accept(k);
                }
            }));
        }
        return tests.stream();
    }

    /**
     * Tied scores with all the weight on the top expert, at the largest weight the facade accepts, for p of 34 and
     * more (where the SIMD and OpenCL kernels form {@code a w_top zRest} with {@code zRest = p - 1} before dividing
     * by Z). By hand, one row of p equal scores, weight W on expert 0 and 0 elsewhere: every {@code S_k = 1 + (p - 1)
     * e^0 = p}, so the loss is {@code W log p}, and MATH.md's {@code dloss/df_j = sum_k w_k a_k (softmax(a_k f)_j -
     * 1[j == k])} with a uniform softmax gives {@code W a_0 / p} for j != 0 and {@code W a_0 (1/p - 1)} for j = 0.
     * Without the 1/p in the limit, weights p times larger were accepted and the top expert's entry overflowed
     * (p = 64, three distinct margins, expert 0 the sharpest: infinity and NaN on simd).
     */
    @TestFactory
    Stream<DynamicTest> theLargestAcceptedWeightStaysFiniteWithManyExperts() {
        return perBackend("largest accepted weight, tied scores, p >= 34", k -> {
            for (int p : new int[] {34, 40, 64}) {
                for (double scale : new double[] {1.0, 1e-6, 1e-12}) {
                    for (String pattern : new String[] {"equal", "three", "distinct"}) {
                        double[] rho = new double[p];
                        for (int j = 0; j < p; j++) {
                            rho[j] = scale * switch (pattern) {
                                case "equal" -> 1.0;
                                case "three" -> 1.0 + j % 3;       // expert 0 has the smallest margin, the largest a
                                default -> 1.0 + j / 100.0;
                            };
                        }
                        check(k, LossConfig.mild(rho), pattern + " margins x " + scale);
                    }
                }
            }
        });
    }

    private static void check(LossKernel k, LossConfig c, String what) {
        int p = c.experts();
        Loss loss = new Loss(c, k);
        float[] scores = new float[p];
        float[] weights = new float[p];
        float[] rowLoss = new float[1];
        float[] grad = new float[p];
        // The largest accepted W, by bisection in log space between an accepted 1 and a refused float32 maximum.
        double lo = 0;
        double hi = Math.log(Float.MAX_VALUE);
        weights[0] = 1f;
        loss.evaluate(scores, weights, rowLoss, grad);          // weight 1 must be accepted
        weights[0] = Float.MAX_VALUE;
        assertRefused(loss, scores, weights, rowLoss, grad);
        for (int it = 0; it < 60; it++) {
            double mid = (lo + hi) / 2;
            weights[0] = (float) Math.exp(mid);
            if (accepted(loss, scores, weights, rowLoss, grad)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        float w = (float) Math.exp(lo);
        weights[0] = w;
        double mean = loss.evaluate(scores, weights, rowLoss, grad);
        String name = k.name() + " p=" + p + " " + what + ", W=" + w;
        double a0 = c.inverseMargin(0);
        double wantLoss = w * Math.log(p);
        assertTrue(Double.isFinite(mean) && Float.isFinite(rowLoss[0]), name + ": loss " + mean);
        assertEquals(wantLoss, mean, 1e-5 * wantLoss, name);
        assertEquals(wantLoss, rowLoss[0], 1e-5 * wantLoss, name);
        double top = w * a0 * (1.0 / p - 1);
        for (int j = 0; j < p; j++) {
            double want = j == 0 ? top : w * a0 / p;
            assertTrue(Float.isFinite(grad[j]), name + ": gradient entry " + j + " is " + grad[j]);
            assertEquals(want, grad[j], 1e-4 * Math.abs(top), name + ": gradient entry " + j);
        }
    }

    private static boolean accepted(Loss loss, float[] scores, float[] weights, float[] rowLoss, float[] grad) {
        try {
            loss.evaluate(scores, weights, rowLoss, grad);
            return true;
        } catch (InvalidInputException e) {
            return false;
        }
    }

    private static void assertRefused(Loss loss, float[] scores, float[] weights, float[] rowLoss, float[] grad) {
        assertTrue(!accepted(loss, scores, weights, rowLoss, grad), "a weight of Float.MAX_VALUE must be refused");
    }

    /**
     * Outputs that end where an input begins, or begin where it ends, share no element, so the facade and the
     * kernels must take them in one array: scores in elements 0..n-1, the gradient in n..2n-1 and the row losses
     * right after it. An overlap test with {@code <=} refused exactly these calls and no test noticed. Values
     * against the float64 reference.
     */
    @TestFactory
    Stream<DynamicTest> outputsThatOnlyTouchAnInputAreAccepted() {
        return perBackend("outputs adjacent to the inputs in one array", k -> {
            LossConfig c = LossConfig.mild(0.5, 1.0, 2.0);
            int p = 3;
            int rows = 5;
            int n = rows * p;
            float[] weights = new float[n];
            float[] buf = new float[2 * n + rows];
            double[] f = new double[n];
            double[] w = new double[n];
            for (int i = 0; i < n; i++) {
                buf[i] = (float) Math.sin(1.7 * i) * 3;
                weights[i] = (float) (0.25 + (i % 4) * 0.5);
                f[i] = buf[i];
                w[i] = weights[i];
            }
            double[] wantLoss = new double[rows];
            double[] wantGrad = new double[n];
            double wantMean = ReferenceKernel.evaluate(c, rows, f, w, wantLoss, wantGrad);
            for (boolean viaFacade : new boolean[] {true, false}) {
                Arrays.fill(buf, n, buf.length, 0f);
                double mean = viaFacade
                        ? new Loss(c, k).evaluate(rows, buf, 0, weights, 0, buf, 2 * n, buf, n)
                        : k.lossAndGradient(c, rows, buf, 0, weights, 0, buf, 2 * n, buf, n);
                String name = k.name() + (viaFacade ? " via Loss" : " kernel");
                assertEquals(wantMean, mean, 1e-5 * Math.max(1, Math.abs(wantMean)), name);
                double[] gotLoss = new double[rows];
                double[] gotGrad = new double[n];
                for (int i = 0; i < rows; i++) {
                    gotLoss[i] = buf[2 * n + i];
                }
                for (int i = 0; i < n; i++) {
                    gotGrad[i] = buf[n + i];
                    assertEquals(f[i], buf[i], 0.0, name + ": the scores were overwritten");
                }
                assertTrue(GoldenTest.lossRelErr(gotLoss, wantLoss) <= 1e-5, name + ": " + Arrays.toString(gotLoss));
                assertTrue(GoldenTest.gradErr(gotGrad, wantGrad) <= 1e-4, name + ": " + Arrays.toString(gotGrad));
            }
        });
    }

    /**
     * A row's loss as a sum of many terms, one large and the rest each below half a float32 ulp of it: a plain float
     * sum drops every small term. p = 401 distinct margins (rows in lanes on simd, one softmax per expert), equal
     * scores, weight 2.8e6 on expert 0 and 0.16 on the 400 others. By hand every {@code S_k = 401} (all exponents
     * are 0), so the loss is {@code log(401) * sum_k w_k}: about 1.678e7 from expert 0, whose float32 ulp is 2, plus
     * 400 terms of 0.959. A plain float sum gives the first alone, 383.6 (2.3e-5 of the loss) short, beyond the
     * float32 tolerance of 1e-5 of the row's terms; the SIMD kernel's compensated sum (and a double sum) keeps it.
     * Both the row loss and the mean are checked, since the SIMD kernel forms them from the compensated pair apart.
     */
    @TestFactory
    Stream<DynamicTest> manySmallTermsBesideALargeOneAreNotLost() {
        return perBackend("p = 401 distinct margins, one large term", k -> {
            int p = 401;
            double[] rho = new double[p];
            float[] weights = new float[p];
            for (int j = 0; j < p; j++) {
                rho[j] = 1.0 + j / 1000.0;
                weights[j] = j == 0 ? 2.8e6f : 0.16f;
            }
            LossConfig c = LossConfig.mild(rho);
            double sumW = 0;
            for (float wj : weights) {
                sumW += wj;            // exact: the float weights' double values
            }
            double want = Math.log(p) * sumW;
            float[] scores = new float[p];
            float[] rowLoss = new float[1];
            float[] grad = new float[p];
            double mean = new Loss(c, k).evaluate(scores, weights, rowLoss, grad);
            assertEquals(want, rowLoss[0], 1e-5 * want, k.name() + ": row loss");
            assertEquals(want, mean, 1e-5 * want, k.name() + ": mean loss");
        });
    }
}
