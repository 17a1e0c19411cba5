package dev.mild.tests;

import static dev.mild.testing.TestArrays.gaussian;
import static dev.mild.testing.TestArrays.toDouble;
import static dev.mild.testing.TestArrays.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.defer.Rewards;
import dev.mild.defer.Surrogate;
import dev.mild.loss.LossConfig;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.ScalarKernel;
import dev.mild.router.Backprop;
import dev.mild.router.Mlp;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The trainer's gradient through the whole network ({@link Backprop}: float32 forward, loss kernel, backward)
 * against central finite differences of an independent float64 computation: a forward pass written here in
 * double, and the float64 {@link ReferenceKernel} for the mean surrogate loss.
 *
 * <p>Tolerance: the analytic gradient is float32 (products rounded at 2^-24, sums over fan-ins of at most 7),
 * so its error relative to the largest gradient entry is around 1e-6; central differences with step
 * {@value #STEP} in float64 have truncation error ~ step^2 times the third derivative (about 1e-8 here) and no
 * rounding problem. {@value #TOLERANCE} leaves room for both and still catches any wrong term (a missing
 * ReLU mask, a transposed product or a wrong bias sum gives errors of order 1). ReLU kinks: the data is
 * checked to keep every hidden pre-activation at least {@value #KINK_MARGIN} away from 0, more than a step can
 * move it, so the finite differences never straddle a kink.
 */
class RouterGradientTest {
    static final double STEP = 1e-4;
    static final double TOLERANCE = 1e-4;
    static final double KINK_MARGIN = 2e-3;

    record Case(String name, LossConfig config, boolean signedWeights) {
    }

    @TestFactory
    Stream<DynamicTest> backpropMatchesFiniteDifferences() {
        List<Case> cases = List.of(
                new Case("mild distinct rho", Surrogate.mild(new double[] {0.5, 1.0, 2.0}, Rewards.SUM_OTHERS).config(), false),
                new Case("compsum nu 0.5", Surrogate.compSum(new double[] {0.7, 0.7, 1.3}, 0.5, Rewards.SUM_OTHERS).config(), false),
                new Case("realizable-mae (signed weights, nu 2)", Surrogate.realizableMae(3).config(), true),
                new Case("ldam (additive margins)", Surrogate.ldam(new int[] {50, 10, 2}, 2.0, 0.5).config(), false));
        return cases.stream().map(c -> dynamicTest(c.name, () -> check(c)));
    }

    static void check(Case c) {
        int[] sizes = {5, 7, 6, 3};
        int rows = 9;
        int p = 3;
        Mlp net = null;
        float[] x = null;
        SplittableRandom rnd = new SplittableRandom(42);
        // Draw data until no hidden unit sits near its kink (the first draw normally does).
        for (int attempt = 0; attempt < 50; attempt++) {
            net = Mlp.initialized(sizes, rnd.nextLong());
            for (int l = 0; l < net.layers(); l++) {
                float[] b = net.biases(l);
                for (int j = 0; j < b.length; j++) {
                    b[j] = (float) (0.3 * rnd.nextGaussian());
                }
            }
            x = gaussian(rnd, rows * sizes[0], 1.0);
            if (minAbsPreActivation(net, x, rows) > KINK_MARGIN) {
                break;
            }
            net = null;
        }
        assertTrue(net != null, "no draw kept the pre-activations away from the ReLU kink");
        float[] w = c.signedWeights ? uniform(rnd, rows * p, -1, 2) : uniform(rnd, rows * p, 0, 2);

        Backprop bp = new Backprop(net, rows, 1);
        double batchLoss;
        try (ScalarKernel kernel = new ScalarKernel()) {
            batchLoss = bp.lossAndGradient(kernel, c.config, x, w, null, 0, rows);
        }
        // The pass returns the batch's mean loss (the trainer's divergence check and epoch reports read it): the
        // float64 forward pass and reference below give it to float32 accuracy.
        double reference = meanLoss(net, x, w, rows, c.config, -1, 0, 0, 0);
        assertEquals(reference, batchLoss, 1e-5 * Math.max(1, Math.abs(reference)), c.name + ": mean loss");
        double worst = 0;
        double largest = 0;
        String where = "";
        for (int l = 0; l < net.layers(); l++) {
            for (int which = 0; which < 2; which++) {
                float[] params = which == 0 ? net.weights(l) : net.biases(l);
                float[] analytic = which == 0 ? bp.weightGradient(l) : bp.biasGradient(l);
                for (int i = 0; i < params.length; i++) {
                    double fd = (meanLoss(net, x, w, rows, c.config, l, which, i, STEP)
                            - meanLoss(net, x, w, rows, c.config, l, which, i, -STEP)) / (2 * STEP);
                    double err = Math.abs(fd - analytic[i]);
                    largest = Math.max(largest, Math.abs(fd));
                    if (err > worst) {
                        worst = err;
                        where = String.format(Locale.ROOT, "layer %d %s[%d]: analytic %.8g, finite difference %.8g",
                                l, which == 0 ? "W" : "b", i, analytic[i], fd);
                    }
                }
            }
        }
        assertTrue(largest > 1e-3, "the gradient is not trivially zero");
        double rel = worst / largest;
        assertTrue(rel <= TOLERANCE, c.name + ": worst error " + rel + " relative to the largest gradient; " + where);
    }

    /** Mean loss in float64 with one parameter moved by {@code delta}. */
    static double meanLoss(Mlp net, float[] x, float[] w, int rows, LossConfig config, int layer, int which, int index,
                           double delta) {
        double[] scores = forward(net, x, rows, layer, which, index, delta, null);
        double[] w64 = toDouble(w);
        return ReferenceKernel.evaluate(config, rows, scores, w64, null, null);
    }

    static double minAbsPreActivation(Mlp net, float[] x, int rows) {
        double[] min = {Double.POSITIVE_INFINITY};
        forward(net, x, rows, -1, 0, 0, 0, min);
        return min[0];
    }

    /** A plain float64 MLP forward pass: {@code z = a W + b}, ReLU on hidden layers. */
    static double[] forward(Mlp net, float[] x, int rows, int layer, int which, int index, double delta, double[] minAbs) {
        int d = net.inputs();
        double[] a = new double[rows * d];
        for (int i = 0; i < a.length; i++) {
            a[i] = x[i];
        }
        for (int l = 0; l < net.layers(); l++) {
            int in = net.size(l);
            int out = net.size(l + 1);
            double[] wl = toDouble(net.weights(l));
            double[] bl = toDouble(net.biases(l));
            if (l == layer) {
                if (which == 0) {
                    wl[index] += delta;
                } else {
                    bl[index] += delta;
                }
            }
            double[] z = new double[rows * out];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < out; j++) {
                    double s = bl[j];
                    for (int c = 0; c < in; c++) {
                        s += a[r * in + c] * wl[c * out + j];
                    }
                    z[r * out + j] = s;
                }
            }
            if (l < net.layers() - 1) {
                for (int i = 0; i < z.length; i++) {
                    if (minAbs != null) {
                        minAbs[0] = Math.min(minAbs[0], Math.abs(z[i]));
                    }
                    z[i] = Math.max(0, z[i]);
                }
            }
            a = z;
        }
        return a;
    }
}
