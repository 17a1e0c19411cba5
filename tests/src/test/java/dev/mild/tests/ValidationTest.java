package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.defer.Rewards;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.loss.Backends;
import dev.mild.loss.Loss;
import dev.mild.loss.LossConfig;
import dev.mild.loss.ScalarKernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input gets an {@link InvalidInputException} that says what is wrong and where. */
class ValidationTest {

    static void fails(Executable e, String... fragments) {
        InvalidInputException ex = assertThrows(InvalidInputException.class, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage().contains(f), "message \"" + ex.getMessage() + "\" should mention \"" + f + "\"");
        }
    }

    final Loss loss = new Loss(LossConfig.mild(0.5, 1.0, 2.0), new ScalarKernel());

    @Test
    void nonFiniteScoresAndWeightsNameRowAndColumn() {
        float[] s = new float[12];
        float[] w = new float[12];
        s[2 * 3 + 1] = Float.NaN;
        fails(() -> loss.evaluate(s, w, null, null), "scores", "row 2", "column 1", "NaN");
        s[2 * 3 + 1] = 0;
        w[3 * 3 + 2] = Float.POSITIVE_INFINITY;
        fails(() -> loss.evaluate(s, w, null, null), "weights", "row 3", "column 2", "Infinity");
        // In a view, rows are numbered in the whole array.
        fails(() -> loss.evaluate(s, w, 2, 2, null, null), "row 3");
    }

    @Test
    void shapesAreChecked() {
        fails(() -> loss.evaluate(new float[7], new float[7], null, null), "not a multiple of p = 3");
        fails(() -> loss.evaluate(new float[6], new float[3], null, null), "weights", "need 6 elements", "has 3");
        fails(() -> loss.evaluate(new float[6], new float[6], null, new float[5]), "grad");
        fails(() -> loss.evaluate(new float[6], new float[6], new float[1], null), "rowLoss");
        fails(() -> loss.evaluate(new float[6], new float[6], 1, 2, null, null), "rows 1..2", "need 9");
        fails(() -> loss.evaluate(null, new float[6], null, null), "scores");
    }

    @Test
    void marginsAndExponentAreChecked() {
        fails(() -> LossConfig.mild(0.5, 0.0, 1.0), "rho of expert 1", "> 0");
        fails(() -> LossConfig.mild(0.5, -1.0), "rho of expert 1");
        fails(() -> LossConfig.mild(Double.NaN), "rho of expert 0");
        fails(() -> LossConfig.mild(Double.POSITIVE_INFINITY), "rho of expert 0", "finite");
        // Finite margins outside what the float32 kernels can form: 1e-39 made every float32 backend NaN (1/rho
        // overflows), 1e50 the SIMD one (log2(e)/rho rounds to 0), 4.3e-39 every gradient for weights of 2.
        fails(() -> LossConfig.mild(1.0, 1e-39), "rho of expert 1", "1.0E-39", "[1.0E-30, 1.0E30]", "float32");
        fails(() -> LossConfig.mild(1.0, 1e-31), "rho of expert 1", "1.0E-31", "[1.0E-30, 1.0E30]");
        fails(() -> LossConfig.mild(1e50, 1.0), "rho of expert 0", "1.0E50", "[1.0E-30, 1.0E30]");
        fails(() -> LossConfig.uniform(3, 1e300, 1.0), "rho of expert 0", "1.0E300");
        LossConfig.mild(LossConfig.MIN_RHO, LossConfig.MAX_RHO); // the ends themselves are accepted
        fails(() -> LossConfig.of(new double[] {1, 1}, null, -0.5), "nu", ">= 0");
        fails(() -> LossConfig.of(new double[] {1, 1}, null, Double.NaN), "nu");
        fails(() -> LossConfig.of(new double[0], null, 1), "p >= 1");
        fails(() -> LossConfig.uniform(0, 1, 1), "p >= 1");
        fails(() -> LossConfig.of(new double[] {1, 1}, new double[] {0}, 1), "delta has 1 entries");
        fails(() -> LossConfig.of(new double[] {1, 1}, new double[] {0, Double.NaN}, 1), "delta of expert 1");
        // A positive delta scales the gradient by exp(delta)/rho: 88 with rho = 1e-3 made every float32 backend's
        // gradient NaN, and 89 with rho = 1 overflowed the OpenCL one's exp(delta).
        fails(() -> LossConfig.of(new double[] {1e-3, 1e-3}, new double[] {88, 0}, 1), "delta of expert 0", "88.0",
                "rho = 0.001", "62.17", "exp(delta)/rho");
        fails(() -> LossConfig.of(new double[] {1, 1}, new double[] {0, 89}, 1), "delta of expert 1", "89.0", "69.08");
        fails(() -> LossConfig.of(new double[] {1e3, 1}, new double[] {63, 0}, 1), "delta of expert 0", "rho = 1000.0",
                "exp(-delta)/rho");
        LossConfig.of(new double[] {1, 1e3}, new double[] {69, -1e300}, 1); // a negative delta is never too large
    }

    @Test
    void costsAreChecked() {
        double[] costs = {0, 1, 0.5, 0.2, 1.5, 0};
        fails(() -> Surrogate.mild(new double[] {1, 1, 1}, Rewards.ONE_MINUS).weights(costs, 2, new float[6]),
                "costs", "row 1", "column 1", "[0, 1]");
        // The other rewards take any finite cost.
        Surrogate.mild(1, 1, 1).weights(costs, 2, new float[6]);
        double[] nan = {0, Double.NaN, 0};
        fails(() -> Rewards.SUM_OTHERS.apply(nan, 1, 3, new double[3]), "costs", "row 0", "column 1");
    }

    @Test
    void rhoTheoryInputsAreChecked() {
        fails(() -> Rho.theory(new int[] {0, 3}, new double[] {1, 1}, 3, 1), "row 1", "outside 0..2");
        fails(() -> Rho.theory(new int[] {0, 1}, new double[] {1, -1}, 3, 1), "norm of row 1");
        fails(() -> Rho.theory(new int[] {0}, new double[] {1, 1}, 3, 1), "1 oracle labels but 2 norms");
        fails(() -> Rho.theory(new int[] {0}, new double[] {1}, 3, 0), "rho_bar");
    }

    @Test
    void unknownBackendListsWhatIsAvailable() {
        fails(() -> Backends.open("gpu9000", null), "unknown backend \"gpu9000\"", "available:", "scalar", "reference");
    }
}
