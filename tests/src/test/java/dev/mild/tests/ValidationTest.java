package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.defer.Rewards;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.io.GoldenCase;
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

    /**
     * The messages count from 0 and say so: "row 1, column 1 is NaN" for the second row's second value read as the
     * first row's first (an embedding review; a router's and the CLI's messages count from 1).
     */
    @Test
    void nonFiniteScoresAndWeightsNameRowAndColumn() {
        float[] s = new float[12];
        float[] w = new float[12];
        s[2 * 3 + 1] = Float.NaN;
        fails(() -> loss.evaluate(s, w, null, null), "scores", "row 2", "column 1", "NaN", "row and column 0-based");
        fails(() -> loss.evaluate(1, s, 6, w, 0, null, 0, null, 0), "row 0 of the call", "column 1", "NaN",
                "row and column 0-based");
        s[2 * 3 + 1] = 0;
        w[3 * 3 + 2] = Float.POSITIVE_INFINITY;
        fails(() -> loss.evaluate(s, w, null, null), "weights", "row 3", "column 2", "Infinity",
                "row and column 0-based");
        // In a view, rows are numbered in the whole array.
        fails(() -> loss.evaluate(s, w, 2, 2, null, null), "row 3", "row and column 0-based");
    }

    @Test
    void shapesAreChecked() {
        fails(() -> loss.evaluate(new float[7], new float[7], null, null), "not a multiple of p = 3");
        fails(() -> loss.evaluate(new float[6], new float[3], null, null), "weights", "need 6 elements", "has 3");
        fails(() -> loss.evaluate(new float[6], new float[6], null, new float[5]), "grad");
        fails(() -> loss.evaluate(new float[6], new float[6], new float[1], null), "rowLoss");
        fails(() -> loss.evaluate(new float[6], new float[6], 1, 2, null, null), "rows 1..2", "need 9");
        fails(() -> loss.evaluate(null, new float[6], null, null), "scores is missing (null)");
        // Whole matrices: weights of 4 experts for scores of 3 were read as 3 columns without an error.
        fails(() -> loss.evaluate(new float[6], new float[8], null, null), "weights: length 8 but scores has 6",
                "2 rows of p = 3");
    }

    /**
     * The kernels write outputs while they still read the inputs: an in-place gradient (grad == scores) gave the
     * scalar backend a wrong mean (7.41 for 6.65) and gradient, without an error.
     */
    @Test
    void outputsMayNotOverlapTheInputsOrEachOther() {
        float[] s = {1f, 2f, 3f, -1f, 0.5f, 2f};
        float[] w = {1f, 0f, 2f, 1f, 1f, 0f};
        fails(() -> loss.evaluate(s, w, null, s), "grad and scores are the same array", "grad 0..5", "scores 0..5");
        fails(() -> loss.evaluate(s, w, null, w), "grad and weights are the same array");
        fails(() -> loss.evaluate(s, w, s, null), "rowLoss and scores are the same array", "rowLoss 0..1");
        fails(() -> loss.evaluate(s, w, w, null), "rowLoss and weights");
        float[] g = new float[6];
        fails(() -> loss.evaluate(s, w, g, g), "rowLoss and grad");
        // In a view, only the elements the call touches count: row 1's loss may live in row 0's spare scores.
        float[] big = {0f, 0f, 0f, -1f, 0.5f, 2f};
        loss.evaluate(big, w, 1, 1, big, null);
        fails(() -> loss.evaluate(big, w, 1, 1, null, big), "grad 3..5", "scores 3..5");
    }

    /** An offset beyond int range is a shape error naming the array, not an ArithmeticException. */
    @Test
    void aFirstRowTooLargeIsAShapeError() {
        fails(() -> loss.evaluate(new float[6], new float[6], Integer.MAX_VALUE / 2, 0, null, null), "scores",
                "need 3221225469 elements", "has 6");
    }

    @Test
    void marginsAndExponentAreChecked() {
        // Experts are counted from 1 in messages, as the CLI counts them.
        fails(() -> LossConfig.mild(0.5, 0.0, 1.0), "rho of expert 2 (1-based)", "> 0");
        fails(() -> LossConfig.mild(0.5, -1.0), "rho of expert 2 (1-based)");
        fails(() -> LossConfig.mild(Double.NaN), "rho of expert 1 (1-based)");
        fails(() -> LossConfig.mild(Double.POSITIVE_INFINITY), "rho of expert 1 (1-based)", "finite");
        // Finite margins outside what the float32 kernels can form: 1e-39 made every float32 backend NaN (1/rho
        // overflows), 1e50 the SIMD one (log2(e)/rho rounds to 0), 4.3e-39 every gradient for weights of 2.
        fails(() -> LossConfig.mild(1.0, 1e-39), "rho of expert 2 (1-based)", "1.0E-39", "[1.0E-30, 1.0E30]",
                "float32");
        fails(() -> LossConfig.mild(1.0, 1e-31), "rho of expert 2 (1-based)", "1.0E-31", "[1.0E-30, 1.0E30]");
        fails(() -> LossConfig.mild(1e50, 1.0), "rho of expert 1 (1-based)", "1.0E50", "[1.0E-30, 1.0E30]");
        fails(() -> LossConfig.uniform(3, 1e300, 1.0), "rho of expert 1 (1-based)", "1.0E300");
        LossConfig.mild(LossConfig.MIN_RHO, LossConfig.MAX_RHO); // the ends themselves are accepted
        fails(() -> LossConfig.of(new double[] {1, 1}, null, -0.5), "nu", ">= 0");
        fails(() -> LossConfig.of(new double[] {1, 1}, null, Double.NaN), "nu");
        fails(() -> LossConfig.of(new double[0], null, 1), "p >= 1");
        fails(() -> LossConfig.uniform(0, 1, 1), "p >= 1");
        fails(() -> LossConfig.of(new double[] {1, 1}, new double[] {0}, 1), "delta has 1 entries");
        fails(() -> LossConfig.of(new double[] {1, 1}, new double[] {0, Double.NaN}, 1),
                "delta of expert 2 (1-based)");
        // A positive delta scales the gradient by exp(delta)/rho: 88 with rho = 1e-3 made every float32 backend's
        // gradient NaN, and 89 with rho = 1 overflowed the OpenCL one's exp(delta).
        fails(() -> LossConfig.of(new double[] {1e-3, 1e-3}, new double[] {88, 0}, 1), "delta of expert 1 (1-based)",
                "88.0", "rho = 0.001", "62.17", "exp(delta)/rho");
        fails(() -> LossConfig.of(new double[] {1, 1}, new double[] {0, 89}, 1), "delta of expert 2 (1-based)", "89.0",
                "69.08");
        fails(() -> LossConfig.of(new double[] {1e3, 1}, new double[] {63, 0}, 1), "delta of expert 1 (1-based)",
                "rho = 1000.0", "exp(-delta)/rho");
        // The bound is on |delta|: with a negative delta exp(-delta)/rho is the large factor (-69 with rho = 1e-20
        // lost a gradient term on every float32 backend), and where the scores make up for it, its rounding is left
        // in the term (3.5e-5 of the loss at delta = -1429, beyond the float32 tolerance).
        LossConfig.of(new double[] {1, 1e3}, new double[] {69, -62}, 1);
        fails(() -> LossConfig.of(new double[] {1, 1e-20}, new double[] {0, -69}, 1), "delta of expert 2 (1-based)",
                "-69.0", "rho = 1.0E-20", "outside the accepted [-23.03, 23.03]", "exp(-delta)/rho");
        fails(() -> LossConfig.of(new double[] {1, 1}, new double[] {-1e300, 0}, 1), "delta of expert 1 (1-based)",
                "-1.0E300", "[-69.08, 69.08]");
        // With nu < 1 the loss grows like S^(1-nu): this one exceeds the limit even at equal scores.
        fails(() -> LossConfig.of(new double[] {1e-30, 1}, null, 0.5), "nu = 0.5 < 1",
                "rho = 1.0E-30 (expert 1, 1-based)", "equal");
    }

    /**
     * Finite scores whose spread the float32 kernels cannot take: one-hot weights with scores of +-1e36 and rho
     * of 1e-3 gave a NaN mean on every float32 backend ((max - f)/rho is infinite in float32, times a zero
     * weight), and +-2e38 with nu = 2 a NaN loss on simd and a NaN gradient on scalar (max - f overflows).
     */
    @Test
    void scoresTooFarApartNameRowColumnsAndWhy() {
        Loss sharp = new Loss(LossConfig.uniform(2, 1e-3, 1.0), new ScalarKernel());
        float[] oneHot = {1, 0, 1, 0};
        fails(() -> sharp.evaluate(new float[] {0, 1, 1e36f, -1e36f}, oneHot, null, null), "scores", "row 1",
                "column 1 is -1.0E36", "column 0 is 1.0E36", "rho = 0.001 (expert 1, 1-based)", "(max - f)/rho",
                "1.000e+27");
        // The row's largest and smallest scores are named wherever they stand, here after a middle value larger
        // than the first (7 > 5) or smaller than it (3 < 5), with a previous row that is not the same.
        Loss sharp4 = new Loss(LossConfig.uniform(4, 1e-3, 1.0), new ScalarKernel());
        fails(() -> sharp4.evaluate(new float[] {0, 0, 0, 0, /**/ 5, 1e36f, 7, -1e36f}, new float[8], null, null),
                "row 1, column 3 is -1.0E36 and column 1 is 1.0E36");
        fails(() -> sharp4.evaluate(new float[] {0, 0, 0, 9, /**/ 5, -1e36f, 3, 1e36f}, new float[8], null, null),
                "row 1, column 1 is -1.0E36 and column 3 is 1.0E36");
        // Column 0 and expert 1 are the same: the message says how each is counted, not only the expert.
        fails(() -> sharp.evaluate(new float[] {0, 1, 1e36f, -1e36f}, oneHot, null, null),
                "row 1, column 1 is -1.0E36 and column 0 is 1.0E36 (row and columns 0-based)");
        sharp.evaluate(new float[] {0, 1, 1e26f, -1e26f}, oneHot, null, null); // a spread of 2e26 is fine
        // Rows far apart, each within the limit, pass, though the batch spreads 1e30: each row is then checked on its
        // own. By hand, rho 1e-3: row 0 pays log(1 + e^((1 - 0) / 1e-3)) = 1000, row 1 (tied) log 2.
        assertEquals((1000 + Math.log(2)) / 2, sharp.evaluate(new float[] {0, 1, 1e30f, 1e30f}, oneHot, null, null),
                1e-5 * 500);
        Loss mae = new Loss(LossConfig.uniform(2, 1.0, 2.0), new ScalarKernel());
        fails(() -> mae.evaluate(new float[] {2e38f, -2e38f}, new float[] {1, 0}, null, null), "row 0", "column 1",
                "-2.0E38");
        // The largest rho leaves only float32's own range: max - f must not overflow.
        Loss flat = new Loss(LossConfig.uniform(2, LossConfig.MAX_RHO, 1.0), new ScalarKernel());
        fails(() -> flat.evaluate(new float[] {3e38f, -3e38f}, new float[] {1, 0}, null, null), "row 0",
                "max - f", "finite float32");
        // nu < 1: Phi(S) grows like exp((1 - nu)(max - f)/rho), so the limit is far lower.
        Loss compSum = new Loss(LossConfig.uniform(2, 1.0, 0.5), new ScalarKernel());
        compSum.evaluate(new float[] {0, 100}, new float[] {1, 0}, null, null);
        fails(() -> compSum.evaluate(new float[] {0, 100, 0, 200}, oneHot, null, null), "row 1", "column 1 is 200.0",
                "nu = 0.5 < 1");
        // Non-finite values are still named as such, wherever the row's other values are.
        fails(() -> sharp.evaluate(new float[] {0, 1, 5, Float.NEGATIVE_INFINITY}, oneHot, null, null), "row 1",
                "column 1 is -Infinity (must be finite");
        Loss one = new Loss(LossConfig.uniform(1, 1.0, 1.0), new ScalarKernel());
        fails(() -> one.evaluate(new float[] {1, Float.POSITIVE_INFINITY}, new float[] {1, 1}, null, null), "row 1",
                "column 0 is Infinity");
        // In a view, rows are numbered in the whole array, and rows outside the view are not looked at.
        fails(() -> sharp.evaluate(new float[] {1e36f, -1e36f, 0, 1, 1e36f, -1e36f}, new float[6], 1, 2, null, null),
                "row 2");
        sharp.evaluate(new float[] {1e36f, -1e36f, 0, 1, 1e36f, -1e36f}, new float[6], 1, 1, null, null);
        // A golden file's scores are input too (./mild golden ran them and printed NaN errors).
        String golden = "{\"cases\": [{\"name\": \"huge\", \"nu\": 1.0, \"rho\": [0.001, 0.001],"
                + " \"scores\": [[0.5, 0.25], [1e36, -1e36]], \"weights\": [[1, 0], [1, 0]],"
                + " \"rowLoss\": [0, 0], \"gradMeanLoss\": [[0, 0], [0, 0]]}]}";
        fails(() -> GoldenCase.parse(golden, "huge.json"), "huge.json: case 0 (\"huge\")", "row 1", "column 1");
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

    /** In place, sum-others of costs {0, 1, 0.5} came out {1.5, 2, 3.5} instead of {1.5, 0.5, 1}, without an error. */
    @Test
    void rewardsAreNotComputedInPlace() {
        double[] costs = {0, 1, 0.5};
        fails(() -> Rewards.SUM_OTHERS.apply(costs, 1, 3, costs), "rewards output and costs are the same array");
        assertArrayEquals(new double[] {0, 1, 0.5}, costs);
        double[] out = new double[3];
        Rewards.SUM_OTHERS.apply(costs, 1, 3, out);
        assertArrayEquals(new double[] {1.5, 0.5, 1.0}, out);
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
