package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.GradientError;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.Tolerance;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Exponents {@code x = (max_j f_j - f_k) / rho_k} far beyond double's integer range, which validation accepts
 * (rho down to 1e-30, a score spread up to {@code 1e30 rho}), against closed forms: a row whose top score is
 * tied between t experts and whose remaining expert, weight 1, lies one score unit (10^16 or 10^13 margins)
 * below. That expert's terms are
 * <pre>
 *   S = 1 + e^delta t e^x,   loss = log S = x + delta + log t   (nu = 1; e^-x vanishes)
 *   d loss / d f_top = a e^delta e^x / S = a / t   for each tied expert,   d loss / d f_low = -a (S - 1) / S = -a
 * </pre>
 * and every other expert has weight 0. Forming {@code delta + x - log S} in double, as the scalar and SIMD
 * kernels' general member and the float64 reference did, loses {@code delta + log t} to the rounding of x
 * (ulp(1e16) = 2): with t = 2 they gave {@code (a, a, -2a)} for {@code (a/2, a/2, -a)}, and at x = 1e13 they
 * were still 1e-3 off. The logsumexp member's kernels never form it; the reference did for every member.
 */
class LargeExponentTest {

    /** One row: margins all {@code rho}, the given scores (one below a tie), weight 1 on the expert below. */
    record Row(String name, double rho, double delta, float[] scores) {
        int p() {
            return scores.length;
        }

        LossConfig config() {
            double[] r = new double[p()];
            Arrays.fill(r, rho);
            double[] d = new double[p()];
            Arrays.fill(d, delta);
            return LossConfig.of(r, delta == 0.0 ? null : d, 1.0);
        }

        int low() {
            int low = 0;
            for (int j = 1; j < p(); j++) {
                low = scores[j] < scores[low] ? j : low;
            }
            return low;
        }

        float[] weights() {
            float[] w = new float[p()];
            w[low()] = 1f;
            return w;
        }

        /** The closed form above: the loss, and the gradient (B = 1). */
        double expectedLoss() {
            double a = 1.0 / rho;
            int tied = p() - 1;
            return a * (top() - scores[low()]) + delta + Math.log(tied);
        }

        double[] expectedGrad() {
            double a = 1.0 / rho;
            double[] g = new double[p()];
            for (int j = 0; j < p(); j++) {
                g[j] = j == low() ? -a : a / (p() - 1);
            }
            return g;
        }

        private float top() {
            float m = scores[0];
            for (float v : scores) {
                m = Math.max(m, v);
            }
            return m;
        }
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (double delta : new double[] {0.0, 0.5}) {
            String member = delta == 0.0 ? "logsumexp" : "general member, delta 0.5";
            rows.add(new Row(member + ", x = 1e16, two tied", 1e-16, delta, new float[] {1f, 1f, 0f}));
            rows.add(new Row(member + ", x = 1e16, tied in the last column", 1e-16, delta, new float[] {0f, 1f, 1f}));
            rows.add(new Row(member + ", x = 1e16, three tied of 4", 1e-16, delta, new float[] {1f, 0f, 1f, 1f}));
            rows.add(new Row(member + ", x = 1e13, two tied", 1e-13, delta, new float[] {1f, 1f, 0f}));
            rows.add(new Row(member + ", x = 3e12 (rho 1e-3, scores 3e9)", 1e-3, delta, new float[] {3e9f, 0f, 3e9f}));
        }
        return rows;
    }

    @TestFactory
    Stream<DynamicTest> tiedTopWithAFarExpert() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : EdgeCaseTest.allBackends()) {
            for (Row row : rows()) {
                tests.add(dynamicTest(name + ": " + row.name(), () -> {
                    try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
                        check(k, row);
                    }
                }));
            }
        }
        return tests.stream();
    }

    /**
     * A large additive margin lifts a softmax term below float32's normal range back into the loss: rho 5 (a =
     * 0.2), delta (0, 67), scores (-440, 0), weights (0, 1e6). The top expert's S = 1 + e^67 e^(-88) = 1 + e^-21,
     * where e^-88 = 6e-39 is below 2^-126 and the SIMD kernel's float exp flushes it; the row loss is
     * {@code 1e6 log1p(e^-21) = 7.6e-4}, which SIMD gave as 0 (found by KernelFuzzTest, case 128003845). The
     * gradient is {@code (c, -c)} with {@code c = 1e6 a e^-21 / (1 + e^-21) = 1.5e-4}, the first entry that
     * term's softmax part alone, which SIMD also gave as 0 until its gradient took the double path too.
     */
    @TestFactory
    Stream<DynamicTest> aLargeAdditiveMarginLiftsATermBelowFloat32BackIntoTheLossAndGradient() {
        double e = Math.exp(67 - 0.2 * 440);
        double c = 1e6 * 0.2 * e / (1 + e);
        return oneRowOnEveryBackend(LossConfig.of(new double[] {5, 5}, new double[] {0, 67}, 1.0),
                new float[] {-440f, 0f}, new float[] {0f, 1e6f}, 1e6 * Math.log1p(e), new double[] {c, -c});
    }

    /**
     * A tiny margin makes a softmax term below float32's normal range the whole gradient: logsumexp, rho 1e-20
     * (a = 1e20), scores (0, -8.8e-19), weights (1, 0). The top expert's others term is {@code e^x} with {@code x =
     * a (f_1 - f_0) = -88}, 6e-39, below 2^-126; the gradient is {@code (-c, c)} with {@code c = a e^x / (1 + e^x)
     * = 6e-19}, a normal float32, and the row loss {@code log1p(e^x)}. SIMD's float exp flushed the term and gave a
     * zero gradient, until such margins took its double path ({@code Plan.logSumExpPath}). The scalar and OpenCL
     * kernels keep e^x as a float32 subnormal, to 2^-22 of itself.
     */
    @TestFactory
    Stream<DynamicTest> aTinyMarginMakesATermBelowFloat32TheWholeGradient() {
        float low = -8.8e-19f;
        double e = Math.exp(1e20 * low);
        double c = 1e20 * e / (1 + e);
        return oneRowOnEveryBackend(LossConfig.of(new double[] {1e-20, 1e-20}, null, 1.0), new float[] {0f, low},
                new float[] {1f, 0f}, Math.log1p(e), new double[] {-c, c});
    }

    /**
     * One row of two experts on every backend against its closed form: the row loss within the loss tolerance
     * (absolute here: the row's terms are below 1), the gradient normwise; float32 outputs round it to 2^-24 of
     * itself on every backend, the reference too, and a float32 subnormal keeps 2^-22 of e^-88.
     */
    private static Stream<DynamicTest> oneRowOnEveryBackend(LossConfig config, float[] scores, float[] weights,
                                                            double wantLoss, double[] wantGrad) {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : EdgeCaseTest.allBackends()) {
            tests.add(dynamicTest(name, () -> {
                try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
                    float[] loss = new float[1];
                    float[] grad = new float[2];
                    k.lossAndGradient(config, 1, scores, 0, weights, 0, loss, 0, grad, 0);
                    assertTrue(Math.abs(loss[0] - wantLoss) <= k.tolerance().lossRelative(), k.name() + ": row loss "
                            + loss[0] + " for " + wantLoss);
                    double normwise = GradientError.maxAbsDiff(new double[] {grad[0], grad[1]}, wantGrad)
                            / Support.maxAbs(wantGrad);
                    assertTrue(normwise <= Math.max(k.tolerance().gradNormwise(), 1e-6), k.name() + ": gradient "
                            + Arrays.toString(grad) + " for " + Arrays.toString(wantGrad));
                }
            }));
        }
        return tests.stream();
    }

    static void check(LossKernel k, Row row) {
        float[] loss = new float[1];
        float[] grad = new float[row.p()];
        double mean = k.lossAndGradient(row.config(), 1, row.scores(), 0, row.weights(), 0, loss, 0, grad, 0);
        Tolerance t = k.tolerance();
        double expLoss = row.expectedLoss();
        double[] expGrad = row.expectedGrad();
        double[] got = new double[row.p()];
        for (int j = 0; j < got.length; j++) {
            got[j] = grad[j];
        }
        // float32 rounds the loss (about 1e16) to 2^-24 of itself: the float64 reference's output is float32 too.
        double lossErr = Math.abs(loss[0] - expLoss) / expLoss;
        assertTrue(lossErr <= Math.max(t.lossRelative(), 1e-7), k.name() + " " + row.name() + ": loss " + loss[0]
                + " for " + expLoss);
        assertTrue(Math.abs(mean - expLoss) / expLoss <= t.lossRelative(), k.name() + " " + row.name() + ": mean "
                + mean + " for " + expLoss);
        // float32 holds a / t to 2^-24 of itself, and the float kernels round a to float32 (another 2^-24)
        double normwise = GradientError.maxAbsDiff(got, expGrad) / (1.0 / row.rho());
        assertTrue(normwise <= Math.max(t.gradNormwise(), 2e-7), k.name() + " " + row.name() + ": gradient "
                + Arrays.toString(grad) + " for " + Arrays.toString(expGrad) + " (normwise " + normwise + ")");
    }
}
