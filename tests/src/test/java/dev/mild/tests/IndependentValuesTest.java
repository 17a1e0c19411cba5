package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.defer.Surrogate;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * MATH.md's surrogate on members the golden files leave out: additive margins together with distinct margins
 * and {@code nu != 1}, negative delta, signed weights with {@code nu = 1}. The expected values come from a
 * separate 50-digit evaluation of MATH.md's formulas term by term (Python mpmath, not this code):
 *
 * <pre>
 *   S_k = 1 + exp(delta_k) sum_{k' != k} exp((f_k' - f_k) / rho_k),  Phi = log S or (S^(1-nu) - 1)/(1-nu)
 *   loss = sum_k w_k Phi(S_k),  dloss/df_j = sum_k w_k S_k^-nu dS_k/df_j
 * </pre>
 *
 * and, for the realizable MAE member, from a closed form: with rho 1 and nu 2, {@code Phi(S_k) = 1 - softmax_k},
 * so all-zero costs (weights 2 - p, -1 at p = 3) give {@code -(p - 2) sum_k (1 - softmax_k) = -(p - 2)(p - 1)}
 * for any scores.
 */
class IndependentValuesTest {

    /**
     * One row; every input is a float32 value, so the kernels see exactly what the reference computed.
     * {@code terms} is {@code sum_k |w_k| Phi(S_k)} (same evaluation), the scale of a float32 kernel's loss error.
     */
    record Row(String name, double[] rho, double[] delta, double nu, float[] f, float[] w, double loss, double[] grad,
               double terms) {
    }

    static final List<Row> ROWS = List.of(
            new Row("nu 0.5, distinct rho, delta of both signs", new double[] {0.25, 0.5, 2.0},
                    new double[] {1.0, -0.5, 0.25}, 0.5, new float[] {1.5f, -0.5f, 0.25f}, new float[] {2.0f, -1.0f, 0.5f},
                    -9.030740639774104, new double[] {-10.77536434358866, 11.922472628175468, -1.1471082845868077},
                    11.245579933871765),
            new Row("nu 2, distinct rho, negative delta, signed weights", new double[] {0.5, 1.0, 4.0},
                    new double[] {-1.5, 0.75, 0.0}, 2.0, new float[] {-1.0f, 2.0f, 0.5f}, new float[] {-0.5f, 1.5f, 1.0f},
                    0.7362840219250658, new double[] {0.09127352157872302, -0.32117432193621237, 0.2299008003574894},
                    1.7258126883932317),
            new Row("nu 1, distinct rho, delta, signed weights", new double[] {0.25, 1.0, 2.0},
                    new double[] {0.5, -1.0, 2.0}, 1.0, new float[] {0.75f, -1.25f, 2.5f}, new float[] {1.0f, -2.0f, 0.25f},
                    1.986847078567795, new double[] {-4.204736020586727, 1.9238696267559319, 2.2808663938307943},
                    13.839872185111549),
            new Row("nu 0, p 2, delta", new double[] {0.5, 2.0}, new double[] {0.5, -0.25}, 0.0,
                    new float[] {1.0f, -1.0f}, new float[] {1.5f, 0.5f},
                    1.103796083439815, new double[] {0.43865785388621314, -0.43865785388621314},
                    1.103796083439815));

    @Test
    void referenceMatchesTheIndependentValues() {
        for (Row r : ROWS) {
            LossConfig c = LossConfig.of(r.rho, r.delta, r.nu);
            double[] f = toDouble(r.f);
            double[] w = toDouble(r.w);
            double[] grad = new double[f.length];
            double loss = ReferenceKernel.evaluate(c, 1, f, w, null, grad);
            assertEquals(r.loss, loss, 1e-12 * Math.max(1, Math.abs(r.loss)), r.name);
            for (int j = 0; j < f.length; j++) {
                assertEquals(r.grad[j], grad[j], 1e-12 * Math.max(1, Math.abs(r.grad[j])), r.name + ", grad " + j);
            }
        }
    }

    /** Every float32 backend, at float32 accuracy (1e-5 of the row's terms; 1e-4 of the largest gradient entry). */
    @TestFactory
    Stream<DynamicTest> everyBackendMatchesTheIndependentValues() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Support.fastBackends()) {
            for (Row r : ROWS) {
                tests.add(dynamicTest(name + " " + r.name, () -> {
                    LossConfig c = LossConfig.of(r.rho, r.delta, r.nu);
                    float[] grad = new float[r.f.length];
                    float[] rowLoss = new float[1];
                    try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
                        k.lossAndGradient(c, 1, r.f, 0, r.w, 0, rowLoss, 0, grad, 0);
                    }
                    assertEquals(r.loss, rowLoss[0], 1e-5 * Math.max(1, r.terms), "loss");
                    double largest = 0;
                    for (double g : r.grad) {
                        largest = Math.max(largest, Math.abs(g));
                    }
                    for (int j = 0; j < grad.length; j++) {
                        assertEquals(r.grad[j], grad[j], 1e-4 * largest, "grad " + j);
                    }
                }));
            }
        }
        return tests.stream();
    }

    /**
     * README, "The loss family": realizable-log is not bounded below, realizable-mae is. On all-zero costs
     * (p = 3) both weigh every expert by 0 - 3 + 2 = -1. By hand (mpmath agrees to 20 digits):
     * realizable-mae gives -(p - 1) = -2 for any scores, with zero gradient; realizable-log gives
     * -sum_k log S_k, which is -200 at scores (100, 0, 0) and -30000 at (1e4, 0, -1e4): no lower bound.
     */
    @Test
    void realizableMaeIsBoundedBelowAndRealizableLogIsNot() {
        double[] zeroCosts = new double[3];
        float[] w = new float[3];
        Surrogate mae = Surrogate.realizableMae(3);
        mae.weights(zeroCosts, 1, w);
        assertEquals(-1f, w[0]);
        assertEquals(-1f, w[1]);
        assertEquals(-1f, w[2]);
        double[] minusOnes = {-1, -1, -1};
        for (double[] f : new double[][] {{0, 0, 0}, {100, 0, 0}, {3, -2, 7.5}, {1e4, 0, -1e4}}) {
            double[] grad = new double[3];
            assertEquals(-2.0, ReferenceKernel.evaluate(mae.config(), 1, f, minusOnes, null, grad), 1e-12);
            for (double g : grad) {
                assertEquals(0.0, g, 1e-12);
            }
        }
        LossConfig log = Surrogate.realizableLog(3).config();
        assertEquals(-200.0, ReferenceKernel.evaluate(log, 1, new double[] {100, 0, 0}, minusOnes, null, null), 1e-9);
        assertEquals(-30000.0, ReferenceKernel.evaluate(log, 1, new double[] {1e4, 0, -1e4}, minusOnes, null, null),
                1e-9);
        assertTrue(ReferenceKernel.evaluate(log, 1, new double[] {1e4, 0, -1e4}, minusOnes, null, null) < -2.0);
    }

    /**
     * README's bound for realizable-mae at every p, not only p = 3: all-zero costs weigh each expert by
     * {@code 0 - p + 2}, and {@code sum_k (1 - softmax_k) = p - 1}, so the row loss is {@code -(p - 2)(p - 1)}
     * whatever the scores, with zero gradient (closed form; at p = 4, -6, where README had said -(p - 1) = -3).
     * At p = 2 the weights are 0: realizable-log is then bounded too.
     */
    @Test
    void realizableMaeOnZeroCostsIsMinusPMinusTwoTimesPMinusOne() {
        for (int p = 2; p <= 6; p++) {
            Surrogate mae = Surrogate.realizableMae(p);
            float[] w32 = new float[p];
            mae.weights(new double[p], 1, w32);
            double[] w = toDouble(w32);
            double[] f = new double[p];
            for (int j = 0; j < p; j++) {
                assertEquals(2.0 - p, w[j], 0.0, "p = " + p + ": weight of expert " + j);
                f[j] = 3.0 * j - 0.7 * j * j;   // any scores
            }
            double[] grad = new double[p];
            assertEquals(-(p - 2.0) * (p - 1.0), ReferenceKernel.evaluate(mae.config(), 1, f, w, null, grad), 1e-12,
                    "p = " + p);
            for (double g : grad) {
                assertEquals(0.0, g, 1e-12, "p = " + p);
            }
        }
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
