package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.data.Dataset;
import dev.mild.defer.Deferral;
import dev.mild.defer.Surrogate;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.router.Examples;
import dev.mild.router.Router;
import dev.mild.router.RouterTraining;
import dev.mild.router.TrainOptions;
import dev.mild.router.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Costs in other units train the same router. The surrogate's weights follow the costs' units, and the defaults
 * of the learning rate and weight decay were set for costs near 1: costs in dollars per query (1e-5) once left the
 * decay term in charge, and the router drifted towards one expert. {@link Trainer#weightScale} brings such weights
 * to a scale near 1 by a power of ten.
 */
class CostScaleTest {

    @Test
    void weightScaleIsOneNearUnitScaleAndThePowerOfTenNearestToOneElsewhere() {
        assertEquals(1.0, Trainer.weightScale(0.0), "no weights, nothing to scale");
        assertEquals(1.0, Trainer.weightScale(0.01));
        assertEquals(1.0, Trainer.weightScale(0.2554), "MMLU's costs (mean weight 0.255) train as they are");
        assertEquals(1.0, Trainer.weightScale(1.2));
        assertEquals(1.0, Trainer.weightScale(100.0));
        // log10(1.82e-5) = -4.74: the power 10^5 brings the mean to 1.82
        assertEquals(1e5, Trainer.weightScale(1.82e-5), 1e5 * 1e-15);
        // log10(0.00999) = -2.0004: 100, the mean becomes 0.999
        assertEquals(100.0, Trainer.weightScale(0.00999), 1e-12);
        // log10(0.004) = -2.40: 100, the mean becomes 0.4
        assertEquals(100.0, Trainer.weightScale(0.004), 1e-12);
        // log10(2500) = 3.40: 10^-3, the mean becomes 2.5
        assertEquals(1e-3, Trainer.weightScale(2500.0), 1e-18);
        assertEquals(1e-37, Trainer.weightScale(3e37), 1e-50);
    }

    @Test
    void meanWeightMagnitudeIsTheMeanOfAbsoluteValues() {
        assertEquals(0.0, Trainer.meanWeightMagnitude(new float[0]));
        assertEquals((1.0 + 2.0 + 0.5 + 0.5) / 4, Trainer.meanWeightMagnitude(new float[] {1f, -2f, 0.5f, -0.5f}), 1e-15);
    }

    /**
     * The separable problem of {@link RouterTrainingTest} with its error costs (0 or 1) given in units 10^5 times
     * larger (1e-5 for a wrong answer): TDEF routes the test rows as with the unit costs and reaches the oracle.
     * Before the weights were scaled, the same training kept the decay term in charge and its test loss was far
     * above the oracle's.
     */
    @Test
    void costsInSmallUnitsTrainLikeTheSameCostsNearOne() {
        Dataset separable = RouterTrainingTest.separable(4000, 3);
        Dataset unit = withCosts(separable, 1.0);
        Dataset tiny = withCosts(separable, 1e-5);
        List<String> messages = new ArrayList<>();
        RouterTraining.Listener listener = collecting(messages);
        RouterTraining.Outcome u = RouterTraining.run(unit, null, null,
                RouterTrainingTest.spec(Surrogate.Kind.TDEF, null, 60, 1), RouterTraining.Listener.SILENT);
        RouterTraining.Outcome t = RouterTraining.run(tiny, null, null,
                RouterTrainingTest.spec(Surrogate.Kind.TDEF, null, 60, 1), listener);
        assertEquals(1.0, u.training().weightScale());
        assertEquals(1e5, t.training().weightScale(), 1e-10);
        assertTrue(messages.stream().anyMatch(m -> m.contains("multiplies them by 100000")), String.join("\n", messages));
        // The surrogate loss is reported in the costs' units, as the deferral losses are: the first epoch (same
        // start, same batches, weights equal but for float32 rounding) 1e-5 times the unit costs' one.
        double uFirst = u.training().trainLoss()[0];
        double tFirst = t.training().trainLoss()[0];
        assertEquals(uFirst * 1e-5, tFirst, uFirst * 1e-5 * 1e-4, "first epoch's surrogate loss");

        // Same rows, same test split (same seed): the routers agree on nearly every test row, and the small-unit
        // router's loss is the unit one's in its units (the float32 weights differ in their last bits).
        double uLoss = u.test().report().meanLoss();
        double tLoss = t.test().report().meanLoss();
        assertTrue(uLoss <= 0.02, "unit costs reach the oracle (0): " + uLoss);
        assertTrue(tLoss <= 0.02e-5, "costs 1e-5 reach it too: " + tLoss + " (unit costs: " + uLoss + ")");
        Router ru = u.model().router();
        Router rt = t.model().router();
        int d = separable.featureNames().size();
        int agree = 0;
        float[] row = new float[d];
        for (int i = 0; i < separable.rows(); i++) {
            System.arraycopy(separable.features(), i * d, row, 0, d);
            agree += ru.route(row) == rt.route(row) ? 1 : 0;
        }
        assertTrue(agree >= 0.98 * separable.rows(), agree + " of " + separable.rows() + " rows routed alike");
    }

    /**
     * Costs near the top of float32 (1.5e38 for a wrong answer): the weights fit float32, but the loss, a weight
     * times log S, did not, and training stopped at epoch 1 with "diverged ... Lower the learning rate", which
     * could not help. Scaled by 1e-38 it trains and routes as the unit costs do.
     */
    @Test
    void costsNearTheTopOfFloat32TrainInsteadOfDiverging() {
        Dataset separable = RouterTrainingTest.separable(2000, 5);
        Dataset huge = withCosts(separable, 1.5e38);
        List<String> messages = new ArrayList<>();
        RouterTraining.Listener listener = collecting(messages);
        RouterTraining.Outcome t = RouterTraining.run(huge, null, null,
                RouterTrainingTest.spec(Surrogate.Kind.TDEF, null, 60, 1), listener);
        assertEquals(1e-38, t.training().weightScale(), 1e-50);
        assertTrue(messages.stream().anyMatch(m -> m.contains("multiplies them by 1e-38, as if the costs were in units"
                + " 1e38 times larger")), String.join("\n", messages));
        double loss = t.test().report().meanLoss();
        assertTrue(Double.isFinite(loss) && loss <= 0.02 * 1.5e38, "test deferral loss " + loss);
    }

    /**
     * The one-hot losses (ce, cwce, ldam) weigh a row's oracle expert by about 1 whatever the costs' units, so
     * their weights average about 1/p over a row's p entries: with more than 100 experts, or a trained expert's
     * classifier of more than 100 classes (Tiny ImageNet's 200), that fell below the band, the loss was multiplied
     * by 100 and the message said the weights "follow the costs' units". TDEF's weights on the same 0/1 costs do
     * follow them (sums of 199 costs) and are still scaled.
     */
    @Test
    void oneHotLossesAreNotScaledForTheirNumberOfExperts() {
        int rows = 300;
        int p = 200;
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[rows * 2];
        double[] costs = new double[rows * p];
        java.util.Arrays.fill(costs, 1.0);
        for (int i = 0; i < rows; i++) {
            x[2 * i] = (float) rnd.nextGaussian();
            x[2 * i + 1] = (float) rnd.nextGaussian();
            costs[i * p + rnd.nextInt(p)] = 0.0;
        }
        Examples train = new Examples(x, costs, rows, 2, p);
        int[] counts = Deferral.counts(Deferral.oracleLabels(costs, rows, p), p);
        TrainOptions oneEpoch = TrainOptions.DEFAULT.withEpochs(1);
        try (LossKernel kernel = Backends.open("scalar", KernelOptions.DEFAULT)) {
            for (Surrogate s : List.of(Surrogate.ce(p), Surrogate.cwce(counts), Surrogate.ldam(counts, 1.0, 0.5))) {
                assertEquals(1.0, Trainer.train(kernel, s, train, train, null, oneEpoch, Trainer.Listener.NONE)
                        .weightScale(), s.kind().label());
            }
            assertEquals(0.01, Trainer.train(kernel, Surrogate.tdef(p), train, train, null, oneEpoch,
                    Trainer.Listener.NONE).weightScale(), 1e-17, "tdef: weights of about 199");
        }

        List<String> names = new ArrayList<>();
        for (int k = 0; k < p; k++) {
            names.add("e" + k);
        }
        Dataset data = new Dataset("200 experts", List.of("x1", "x2"), x, rows, null, names, costs, null, null);
        List<String> messages = new ArrayList<>();
        RouterTraining.Spec spec = new RouterTraining.Spec();
        spec.loss = Surrogate.Kind.CE;
        spec.options = oneEpoch;
        RouterTraining.Outcome o = RouterTraining.run(data, null, null, spec, new RouterTraining.Listener() {
            @Override
            public void message(String text) {
                messages.add(text);
            }
        });
        assertEquals(1.0, o.training().weightScale());
        assertTrue(messages.stream().noneMatch(m -> m.contains("multiplies them")), String.join("\n", messages));
    }

    /** A listener that keeps the messages. */
    private static RouterTraining.Listener collecting(List<String> messages) {
        return new RouterTraining.Listener() {
            @Override
            public void message(String text) {
                messages.add(text);
            }
        };
    }

    /** The data set with costs {@code unit} for a wrong prediction and 0 for a right one. */
    private static Dataset withCosts(Dataset d, double unit) {
        int p = d.experts().size();
        double[] costs = new double[d.rows() * p];
        for (int i = 0; i < d.rows(); i++) {
            for (int k = 0; k < p; k++) {
                costs[i * p + k] = d.predictions()[i * p + k] == d.labels()[i] ? 0.0 : unit;
            }
        }
        return new Dataset(d.source() + " x" + unit, d.featureNames(), d.features(), d.rows(), null, d.experts(),
                costs, null, null);
    }
}
