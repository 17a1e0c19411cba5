package dev.mild.tests;

import static dev.mild.tests.ValidationTest.fails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.data.Dataset;
import dev.mild.defer.Deferral;
import dev.mild.defer.Rewards;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.io.GoldenCheck;
import dev.mild.loss.GradientError;
import dev.mild.loss.LossConfig;
import dev.mild.loss.RandomBatch;
import dev.mild.loss.ReferenceKernel;
import dev.mild.router.Examples;
import dev.mild.router.ExpertSetup;
import dev.mild.router.Mlp;
import dev.mild.router.Router;
import dev.mild.router.Standardizer;
import dev.mild.router.Trainer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The public helpers around the kernel, given what a program embedding the engine can pass by mistake (found by a
 * review that called each with edge cases): each is an InvalidInputException that says what and where, never an
 * ArrayIndexOutOfBounds, NegativeArraySize or NullPointerException, a NaN result, a wrong answer or a half-written
 * output.
 */
class ApiMistakesTest {

    static Router router(Mlp net, List<String> names) {
        float[] one = new float[net.inputs()];
        Arrays.fill(one, 1f);
        return new Router(new Standardizer(new float[net.inputs()], one), net, names);
    }

    /** A NaN parameter used to pass, and a route then blamed an input column for the NaN scores. */
    @Test
    void routerRefusesNonFiniteParametersAndRepeatedNames() {
        Mlp net = Mlp.initialized(new int[] {4, 8, 3}, 1);
        net.weights(1)[5] = Float.NaN;
        fails(() -> router(net, List.of("a", "b", "c")), "router: network", "layer 2 weight 5", "input 1, output 2",
                "NaN");
        Mlp net2 = Mlp.initialized(new int[] {4, 8, 3}, 1);
        net2.biases(0)[3] = Float.POSITIVE_INFINITY;
        fails(() -> router(net2, List.of("a", "b", "c")), "layer 1 bias 3", "Infinity");
        fails(() -> router(Mlp.initialized(new int[] {4, 8, 3}, 1), List.of("a", "a", "b")), "\"a\" appears twice");
    }

    /** Scores written over the features of rows still to come changed later rows' choices, silently. */
    @Test
    void routeBatchRefusesScoresOverItsFeatures() {
        Router wide = router(Mlp.initialized(new int[] {2, 8, 5}, 3), List.of("a", "b", "c", "d", "e"));
        float[] x = new float[8 * 5];
        for (int i = 0; i < 16; i++) {
            x[i] = (float) Math.sin(i);
        }
        int[] choices = new int[8];
        float[] before = x.clone();
        fails(() -> wide.routeBatch(x, 8, choices, x), "scoresOut and features are the same array");
        assertArrayEquals(before, x);
        // separate arrays route as before, the same choices with or without scores
        int[] c1 = new int[8];
        int[] c2 = new int[8];
        wide.routeBatch(x, 8, c1, new float[40]);
        wide.routeBatch(x, 8, c2, null);
        assertArrayEquals(c1, c2);
    }

    /** pow and X^2 overflowed into NaN margins; margins that do not fit a double are named, not returned. */
    @Test
    void rhoStaysFiniteOrSaysWhy() {
        int[] labels = {0, 0, 1, 2};
        double[] norms = {1, 2, 1, 3};
        // By hand: t = (cbrt(2 * 2^2), cbrt(1 * 1^2), cbrt(1 * 3^2)) = (2, 1, 2.08); at gamma 1000, relative to the
        // largest, expert 2's share is (1 / 2.08)^1000 = e^-732, below a normal double: the message names that expert.
        fails(() -> Rho.tilted(labels, norms, 3, 3, 1000), "gamma = 1000", "gives expert 2 (1-based)",
                "span more than double's range");
        fails(() -> Rho.tilted(labels, norms, 3, 0, 1), "rho_bar must be finite and > 0, got 0.0");
        fails(() -> Rho.tilted(labels, norms, 3, 3, -1000), "gamma = -1000");
        double[] big = Rho.theory(new int[] {0, 1, 2, 2}, new double[] {1e200, 1, 1, 1}, 3, 3);
        for (double r : big) {
            assertTrue(r > 0 && Double.isFinite(r), Arrays.toString(big));
        }
        // the same proportions as without the overflow: t = m^(1/3) X^(2/3), so 1e200 -> 1e133.33 against 1 and 2^(1/3)
        assertEquals(3.0, big[0] + big[1] + big[2], 1e-12);
        assertEquals(Math.cbrt(2.0), big[2] / big[1], 1e-12);
        // rho_bar * t^gamma overflowed (1e9 * 1e300) although each margin is rho_bar / 2
        double[] tall = Rho.tilted(new int[] {0, 1}, new double[] {1e150, 1e150}, 2, 1e9, 3);
        assertArrayEquals(new double[] {5e8, 5e8}, tall, 5e8 * 1e-12, Arrays.toString(tall));
        // and underflowed: 1e-300 * t^gamma below a normal double, each margin 5e-301
        double[] tiny = Rho.tilted(new int[] {0, 1}, new double[] {1e-30, 1e-30}, 2, 1e-300, 1);
        assertArrayEquals(new double[] {5e-301, 5e-301}, tiny, 5e-301 * 1e-12, Arrays.toString(tiny));
        fails(() -> Rho.uniform(-1, 1), "p >= 1");
        fails(() -> Rho.uniform(2, Double.NaN), "rho must be finite and > 0");
        fails(() -> Rho.uniform(2, 0), "rho must be finite and > 0, got 0.0");
        fails(() -> Rho.rowNorms(new float[5], 2, 3), "2 rows of 3 features need 6 values, got 5");
        fails(() -> Rho.rowNorms(new float[5], 1, -1), "d >= 1");
        fails(() -> Rho.strengths(null, new double[0], 2), "oracle labels are missing");
    }

    @Test
    void deferralHelpersCheckTheirArguments() {
        fails(() -> Deferral.route(new float[3], 0, 0), "p >= 1");
        fails(() -> Deferral.route(null, 0, 2), "scores is missing");
        fails(() -> Deferral.route(new float[3], 2, 2), "from offset 2 does not fit in 3");
        fails(() -> Deferral.oracle(new double[3], -1, 2), "offset -1");
        fails(() -> Deferral.route(new float[0], 0, 1), "a row of 1 from offset 0 does not fit in 0 values");
        // One expert is a valid setup: it is every row's choice, from any offset.
        assertEquals(0, Deferral.route(new float[] {7, 5}, 1, 1));
        assertEquals(0, Deferral.oracle(new double[] {7, 5}, 1, 1));
        // A NaN cost or score has no place in an argmin or argmax: refused with its place, not routed silently.
        fails(() -> Deferral.oracleLabels(new double[] {0, Double.NaN}, 1, 2), "costs: row 0, column 1 is NaN");
        fails(() -> Deferral.oracleLabels(new double[3], 2, 2), "costs: rows 0..1 of 2 columns need 4 elements");
        fails(() -> Deferral.evaluate(new float[] {0, 0, 0, Float.NaN}, new double[4], 2, 2),
                "scores: row 1, column 1 is NaN");
        fails(() -> Deferral.evaluate(new float[4], new double[] {0, 0, Double.NaN, 0}, 2, 2),
                "costs: row 1, column 0 is NaN");
        fails(() -> Deferral.counts(null, 2), "labels is missing");
        fails(() -> Deferral.counts(new int[] {0}, -1), "p >= 1");
        fails(() -> Deferral.ratios(new int[] {0, 2}, 2), "choices: row 1", "is 2, outside 0..1");
        assertArrayEquals(new double[] {0.5, 0.5}, Deferral.ratios(new int[] {0, 1}, 2));
    }

    /**
     * The float64 reference checks its arguments as the kernels do, before it writes: an in-place gradient
     * ({@code grad == scores}, the math-docs helper's example) gave a mean of 1.070 instead of 2.325 without an error,
     * a short output failed half-way with an ArrayIndexOutOfBoundsException, and {@code rows = -1} returned -0.0.
     */
    @Test
    void theFloat64ReferenceChecksItsArgumentsBeforeWriting() {
        LossConfig config = LossConfig.mild(1, 0.5);
        double[] scores = {0.3, -0.2, 1, 0.5};
        double[] weights = {1, 2, 0.5, 1};
        double expected = ReferenceKernel.evaluate(config, 2, scores, weights, null, new double[4]);
        assertEquals(2.325, expected, 5e-4);
        double[] inPlace = scores.clone();
        fails(() -> ReferenceKernel.evaluate(config, 2, inPlace, weights, null, inPlace),
                "grad and scores are the same array");
        assertArrayEquals(scores, inPlace, 0.0, "nothing written");
        double[] rowLoss = {7, 7};
        fails(() -> ReferenceKernel.evaluate(config, 2, scores, weights, rowLoss, new double[3]),
                "grad: rows 0..1 of 2 columns need 4 elements, the array has 3");
        assertArrayEquals(new double[] {7, 7}, rowLoss, 0.0, "nothing written");
        fails(() -> ReferenceKernel.evaluate(config, 2, scores, weights, rowLoss, new double[4], new double[1]),
                "rowTermSize: rows 0..1 of 1 columns need 2 elements, the array has 1");
        double[] shared = new double[4];
        fails(() -> ReferenceKernel.evaluate(config, 2, scores, weights, shared, shared), "grad and rowLoss are the same array",
                "(grad 0..3, rowLoss 0..1)");
        double[] twice = new double[4];
        fails(() -> ReferenceKernel.evaluate(config, 2, scores, weights, null, twice, null, twice),
                "(gradTermSize 0..3, grad 0..3)");
        fails(() -> ReferenceKernel.evaluate(config, -1, scores, weights, null, null), "rows must be >= 0, got -1");
        fails(() -> ReferenceKernel.evaluate(null, 2, scores, weights, null, null), "config is missing");
        fails(() -> ReferenceKernel.evaluate(config, 2, scores, null, null, null), "weights is missing");
        // A longer got had its extra entries left out of the comparison (math-docs helper): 0.0 for these.
        fails(() -> GradientError.maxAbsDiff(new double[] {1, 2, 99}, new double[] {1, 2}),
                "got has 3 values, expected 2");
        assertEquals(0.5, GradientError.maxAbsDiff(new double[] {1, 2.5}, new double[] {1, 2}), 0.0);
        // The loss error the same way (doclint helper): a longer got was cut, a shorter one threw
        // ArrayIndexOutOfBoundsException; so were term sizes of another length.
        fails(() -> GoldenCheck.lossRelErr(new double[] {1, 2, 99}, new double[] {1, 2}), "got has 3 values, expected 2");
        fails(() -> GoldenCheck.lossRelErr(new double[] {1}, new double[] {1, 2}), "got has 1 values, expected 2");
        fails(() -> GoldenCheck.lossRelErr(new double[] {1, 2}, new double[] {1, 2}, new double[] {1}),
                "termSize has 1 values, expected 2");
        // |4 - 2| / max(1, 0.5) = 2 at index 1, by hand.
        assertEquals(2.0, GoldenCheck.lossRelErr(new double[] {1, 4}, new double[] {1, 2}, new double[] {1, 0.5}), 0.0);
        fails(() -> RandomBatch.of(1, -1, 8, false), "rows must be >= 0");
        fails(() -> RandomBatch.of(1, 4, -2, false), "need at least one expert");
        fails(() -> RandomBatch.of(1, 1 << 28, 16, false), "more values than one array holds");
        assertEquals(0.0, ReferenceKernel.evaluate(config, 0, new double[0], new double[0], null, null), 0.0);
    }

    @Test
    void surrogateFactoriesCheckTheirArguments() {
        fails(() -> Surrogate.ce(-1), "p >= 1");
        fails(() -> Surrogate.cwce(null), "CWCE: oracle counts is missing");
        fails(() -> Surrogate.ldam(null, 30, 0.5), "LDAM: oracle counts is missing");
        fails(() -> Surrogate.ldam(new int[] {1, 1}, 0, 0.5), "LDAM needs a finite scale s > 0", "got s = 0.0");
        fails(() -> Surrogate.cwce(new int[] {-5, 1}), "CWCE", "expert 1", "-5");
        double[] ones = {1, 1};
        fails(() -> Surrogate.mixCosts(ones, ones, 1, 2, 1, 1, new double[] {1}), "beta has 1 prices for 2 experts");
        fails(() -> Surrogate.mixCosts(ones, ones, 1, 2, 1, 1, new double[] {1, Double.NaN}), "beta", "NaN");
        fails(() -> Surrogate.mixCosts(ones, ones, 1, 2, Double.POSITIVE_INFINITY, 1, null), "lambdaClass = Infinity");
        double[] nan = {1, Double.NaN};
        fails(() -> Surrogate.mixCosts(nan, ones, 1, 2, 1, 1, null), "class errors: row 0, column 1 is NaN");
        fails(() -> Surrogate.mixCosts(ones, nan, 1, 2, 1, 1, null), "regression losses: row 0, column 1 is NaN");
        // The one-hot losses check costs and output themselves (no rewards rule to do it).
        fails(() -> Surrogate.ce(2).weights(nan, 1, new float[2]), "costs: row 0, column 1 is NaN");
        fails(() -> Surrogate.ce(2).weights(ones, 1, new float[1]), "weights output", "need 2 elements, the array has 1");
        // null rewards were accepted and failed later, in weights(), with a NullPointerException (math-docs helper)
        fails(() -> Surrogate.mild(ones, null), "rewards is missing");
        fails(() -> Surrogate.compSum(ones, 0.5, null), "rewards is missing");
    }

    /** Row 0 used to be written, then row 1 refused. */
    @Test
    void rewardsWriteNothingWhenARowIsRefused() {
        float[] out = new float[6];
        Arrays.fill(out, -1f);
        fails(() -> Rewards.SUM_OTHERS.apply(new double[] {1, 2, 3, 2e38, 2e38, 2e38}, 2, 3, out), "costs: row 1",
                "outside the float32 range");
        assertArrayEquals(new float[] {-1, -1, -1, -1, -1, -1}, out);
        // Both forms check costs and output before the first write; no rows is fine even in place (nothing to read).
        double[] two = {1, 2};
        fails(() -> Rewards.SUM_OTHERS.apply(two, 1, 2, new double[1]), "rewards output", "the array has 1");
        fails(() -> Rewards.SUM_OTHERS.apply(two, 1, 2, new float[1]), "rewards output", "the array has 1");
        fails(() -> Rewards.SUM_OTHERS.apply(new double[] {1, Double.NaN}, 1, 2, new float[2]),
                "costs: row 0, column 1 is NaN");
        double[] none = new double[0];
        Rewards.SUM_OTHERS.apply(none, 0, 2, none);
    }

    /**
     * Into double, two costs of 1e308 sum to infinity (double's largest value is about 1.8e308): the weight was
     * written as Infinity without a word. Now refused the same way, with nothing written.
     */
    @Test
    void rewardsIntoDoubleRefuseAnInfiniteWeight() {
        double[] out = new double[6];
        Arrays.fill(out, -1);
        fails(() -> Rewards.SUM_OTHERS.apply(new double[] {1, 2, 3, 1e308, 1e308, 1e308}, 2, 3, out),
                "costs: row 1, column 0 (0-based): its sum-others weight is Infinity", "outside the double range");
        assertArrayEquals(new double[] {-1, -1, -1, -1, -1, -1}, out);
        // Realizable weights subtract p - 2 after the sum: still infinite.
        fails(() -> Rewards.REALIZABLE.apply(new double[] {1e308, 1e308, 0}, 1, 3, new double[3]), "Infinity");
        // One large cost alone fits: its weight is the other costs' sum.
        double[] fits = new double[3];
        Rewards.SUM_OTHERS.apply(new double[] {1e308, 1, 2}, 1, 3, fits);
        assertArrayEquals(new double[] {3, 1e308 + 2, 1e308 + 1}, fits);
    }

    @Test
    void trainerExamplesStandardizerAndNetworkCheckTheirArguments() {
        Examples ex = new Examples(new float[6], new double[6], 3, 2, 2);
        fails(() -> ex.select(new int[] {0, 3}), "row index 1 (0-based) is 3", "3 rows");
        fails(() -> ex.select(new int[] {-1}), "is -1");
        Mlp net = Mlp.initialized(new int[] {2, 4, 2}, 1);
        fails(() -> Trainer.scores(net, new float[4], 3), "features", "need 6");
        fails(() -> Trainer.scores(net, new float[] {Float.NaN, 0}, 1), "features: row 0, column 0", "NaN");
        fails(() -> Standardizer.fit(new float[6], 2, new int[] {0, 3}), "row index 1 (0-based) is 3",
                "outside the 3 rows of 2 features");
        float[] nan = {1, 2, 3, Float.NaN};
        fails(() -> Standardizer.fit(nan, 2, new int[] {0, 1}), "features: row 1, column 1", "NaN");
        Standardizer st = Standardizer.fit(new float[] {1, 2, 3, 4}, 2, new int[] {0, 1});
        fails(() -> st.apply(new float[3]), "3 values are not whole rows of 2");
        fails(() -> st.apply(new float[2], 1, new float[2], 0), "does not fit");
        fails(() -> Mlp.sizes(3, null, 2), "hidden layer sizes are missing");
        fails(() -> dev.mild.router.TrainOptions.DEFAULT.withThreads(5000), "threads in 1..4096");
        fails(() -> net.copyFrom(null), "missing");
        // From the trainer API's documentation review, each accepted before or failing with a Java exception:
        fails(() -> net.copyFrom(Mlp.initialized(new int[] {2, 3, 2}, 1)),
                "cannot copy a network of sizes [2, 3, 2] into one of sizes [2, 4, 2]");
        fails(() -> net.sameParameters(null), "the network to compare with is missing");
        fails(() -> new dev.mild.router.Adam(null, 1e-3, 0, 0.9, 0.999, 1e-8, 4), "optimizer kind");
        fails(() -> new Standardizer(new float[0], new float[0]), "standardizer: no feature");
        Dataset twoFeatures = new Dataset("two.csv", List.of("a", "b"), new float[] {1, 2, 3, 4}, 2, null, List.of(),
                null, null, null);
        fails(() -> Standardizer.fit(new float[] {1, 2}, 1, new int[] {0, 1}).apply(twoFeatures),
                "two.csv: 2 features, but this standardization has 1");
        fails(() -> ExpertSetup.Source.simulated(null), "--experts takes synthetic or trained");
        fails(() -> new ExpertSetup(ExpertSetup.Source.COSTS, List.of("a", "b"), -5, new int[0], new double[2], 0),
                "classes is -5");
        ExpertSetup costsOnly = new ExpertSetup(ExpertSetup.Source.COSTS, List.of("a", "b"), 0, new int[0],
                new double[2], 0);
        fails(() -> dev.mild.router.Evaluation.of(new float[4], new double[4], 2, new int[] {0}, costsOnly),
                "labels: 1 for 2 rows");
        // Blocks summed in int overflowed: two blocks of 2e9 gave prices of -6.78 each.
        assertArrayEquals(new double[] {0.5, 0.5}, ExpertSetup.coverage(new int[] {2_000_000_000, 2_000_000_000}), 0.0);
    }

    /**
     * A column varying at a small scale is standardized, not taken for a constant one: with a threshold of
     * {@code 1e-6 max(1, |mean|)} the column 1e-6, 2e-6, 3e-6 (varying by 40% around its mean) got std 0 and scale 1
     * (the trainer API's documentation review). A column equal on every row is still constant.
     */
    @Test
    void aSmallScaleColumnIsStandardizedAndAConstantOneIsNot() {
        Standardizer small = Standardizer.fit(new float[] {1e-6f, 2e-6f, 3e-6f}, 1, new int[] {0, 1, 2});
        double mean = (1e-6f + 2e-6f + (double) 3e-6f) / 3;
        double std = Math.sqrt((Math.pow(1e-6f - mean, 2) + Math.pow(2e-6f - mean, 2) + Math.pow(3e-6f - mean, 2)) / 3);
        assertEquals(std, small.std()[0], std * 1e-6);
        assertEquals(1 / std, small.scale()[0], 1e-6 / std);
        Standardizer constant = Standardizer.fit(new float[] {0.1f, 0.1f, 0.1f, 0.1f}, 1, new int[] {0, 1, 2, 3});
        assertEquals(0f, constant.std()[0]);
        assertEquals(1f, constant.scale()[0]);
        Standardizer zeros = Standardizer.fit(new float[3], 1, new int[] {0, 1, 2});
        assertEquals(0f, zeros.std()[0]);
    }
}
