package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.data.Dataset;
import dev.mild.defer.Surrogate;
import dev.mild.router.RouterTraining;
import dev.mild.router.TrainOptions;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The automatic schedule: the paper's 100 epochs with patience 10 where an epoch is many optimizer steps, and at
 * least 4000 steps with patience 400 where it is few. Counted in epochs alone, small data stopped training after a
 * few hundred steps.
 */
class TrainScheduleTest {

    @Test
    void automaticEpochsAndPatienceKeepTheStepsOfThePapersSchedule() {
        TrainOptions o = TrainOptions.DEFAULT;   // batch 1024, epochs and patience automatic
        assertEquals(TrainOptions.AUTO, o.epochs());
        assertEquals(TrainOptions.AUTO, o.patience());
        // Fashion-MNIST's 48,000 training rows: 47 steps an epoch, 100 epochs are 4700 steps: the paper's schedule.
        assertEquals(47, o.stepsPerEpoch(48_000));
        assertEquals(100, o.epochsFor(48_000));
        assertEquals(10, o.patienceFor(48_000));
        // 7,000 rows: 7 steps; ceil(4000 / 7) = 572 epochs, ceil(400 / 7) = 58.
        assertEquals(572, o.epochsFor(7_000));
        assertEquals(58, o.patienceFor(7_000));
        // 2,100 rows: 3 steps; 1334 and 134.
        assertEquals(1334, o.epochsFor(2_100));
        assertEquals(134, o.patienceFor(2_100));
        // Fewer rows than a batch: one step an epoch.
        assertEquals(1, o.stepsPerEpoch(10));
        assertEquals(4000, o.epochsFor(10));
        assertEquals(400, o.patienceFor(10));
        // Given values are kept as given.
        assertEquals(5, o.withEpochs(5).epochsFor(10));
        assertEquals(3, o.withPatience(3).patienceFor(10));
        assertEquals(TrainOptions.AUTO, o.withEpochs(5).patience());
    }

    @Test
    void zeroOrNegativeEpochsOrPatienceAreRefusedButAuto() {
        // 0 is an error, not the automatic schedule: a count computed as 0 by mistake must not train 4000 steps.
        for (int bad : new int[] {0, -2, Integer.MIN_VALUE}) {
            assertThrows(InvalidInputException.class, () -> TrainOptions.DEFAULT.withEpochs(bad));
            assertThrows(InvalidInputException.class, () -> TrainOptions.DEFAULT.withPatience(bad));
        }
        assertEquals(TrainOptions.AUTO, TrainOptions.DEFAULT.withEpochs(5).withEpochs(TrainOptions.AUTO).epochs());
    }

    @Test
    void theScheduleIsDescribedWithItsValuesOnTheData() {
        String s = TrainOptions.DEFAULT.describe(2_100);
        assertTrue(s.contains("epochs 1334 auto, patience 134 auto (3 steps an epoch)"), s);
        String given = TrainOptions.DEFAULT.withEpochs(50).withPatience(5).describe(2_100);
        assertTrue(given.contains("epochs 50, patience 5, seed"), given);
    }

    /**
     * Six experts, the cheapest one a function of two features, 3000 rows (2100 for training: 3 steps an epoch).
     * With the automatic schedule TDEF gets within 0.05 of the oracle on the test rows; with 100 epochs and patience
     * 10, as the schedule was in epochs alone, it stopped after 52 epochs (156 steps) at 0.353 (oracle 0.100).
     */
    @Test
    void smallDataTrainsToTheOracleWithTheAutomaticSchedule() {
        Dataset data = sixExperts(3000, 2);
        RouterTraining.Spec spec = new RouterTraining.Spec();
        spec.loss = Surrogate.Kind.TDEF;
        spec.options = TrainOptions.DEFAULT;
        RouterTraining.Outcome o = RouterTraining.run(data, null, null, spec, RouterTraining.Listener.SILENT);
        double oracle = o.test().report().oracleLoss();
        double router = o.test().report().meanLoss();
        assertEquals(0.1, oracle, 0.01, "a cheapest expert at 0.1 on every row");
        assertTrue(router <= oracle + 0.05, "test deferral loss " + router + " against the oracle's " + oracle
                + " after " + o.training().epochsRun() + " epochs");
        assertTrue(o.training().epochsRun() > 100, "more than the 100 epochs of the old default: "
                + o.training().epochsRun());
    }

    @Test
    void aTrainingThatRanOutOfEpochsWhileImprovingSaysSo() {
        // 10 epochs with patience 4: the best within the last half patience (2 epochs): 9 and 10.
        assertTrue(result(9, 10, 10, 4).stillImproving());
        assertTrue(result(10, 10, 10, 4).stillImproving());
        assertFalse(result(8, 10, 10, 4).stillImproving(), "2 epochs without a gain at the end");
        assertFalse(result(9, 9, 10, 4).stillImproving(), "stopped early: the epochs did not run out");
        // 286 epochs with patience 29 (20 experts, 14 steps an epoch): best at 284 of 286; 14 epochs is a plateau.
        assertTrue(result(284, 286, 286, 29).stillImproving());
        assertTrue(result(273, 286, 286, 29).stillImproving());
        assertFalse(result(272, 286, 286, 29).stillImproving());
        // The demo's data: best at 516 of 572 with patience 58, 56 epochs without a gain: not a fall.
        assertFalse(result(516, 572, 572, 58).stillImproving());
        // 3 epochs, patience 400: the best at the last epoch only.
        assertTrue(result(3, 3, 3, 400).stillImproving());
        assertFalse(result(1, 3, 3, 400).stillImproving());
        // One epoch: its loss is the best with nothing before it to fall from (ties keep the earlier epoch, so a best
        // after the first is below every earlier loss). "--epochs 1" on costs of zeros said it was still falling.
        assertFalse(result(1, 1, 1, 400).stillImproving());
        assertFalse(result(1, 1, 1, 1).stillImproving());
    }

    /**
     * Without validation rows (Trainer's library use) every epoch runs and the last is the result, with a NaN
     * validation loss: nothing was seen falling, and stillImproving said it was.
     */
    @Test
    void withoutValidationRowsNothingIsStillImproving() {
        Dataset d = sixExperts(200, 3);
        dev.mild.router.Examples train = new dev.mild.router.Examples(d.features(), d.costs(), d.rows(), 2, 6);
        try (dev.mild.loss.LossKernel kernel = dev.mild.loss.Backends.open("scalar",
                dev.mild.loss.KernelOptions.DEFAULT)) {
            dev.mild.router.Trainer.Result r = dev.mild.router.Trainer.train(kernel, Surrogate.tdef(6), train,
                    train.select(new int[0]), null, TrainOptions.DEFAULT.withEpochs(3), dev.mild.router.Trainer.Listener.NONE);
            assertEquals(3, r.epochsRun());
            assertEquals(3, r.bestEpoch(), "the last epoch is the result");
            assertTrue(Double.isNaN(r.bestValidLoss()));
            assertFalse(r.stillImproving());
        }
    }

    @Test
    void trainPrintsTheNoteWhenTheEpochsRanOut() throws java.io.IOException {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("schedule");
        StringBuilder csv = new StringBuilder("x1,x2,cost:e1,cost:e2,cost:e3,cost:e4,cost:e5,cost:never\n");
        Dataset d = sixExperts(3000, 2);
        for (int i = 0; i < d.rows(); i++) {
            csv.append(d.features()[2 * i]).append(',').append(d.features()[2 * i + 1]);
            for (int k = 0; k < 6; k++) {
                csv.append(',').append(d.costs()[i * 6 + k]);
            }
            csv.append('\n');
        }
        java.nio.file.Path data = java.nio.file.Files.writeString(dir.resolve("six.csv"), csv);
        String model = dir.resolve("six.mild").toString();
        // 40 epochs of 3 steps: far from trained (the automatic schedule runs up to 1334), the loss still falls.
        CliTest.Run run = CliTest.run("train", "--data", data.toString(), "--loss", "tdef", "--epochs", "40", "--out", model);
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("Note: the training ran all its 40 epochs and the validation deferral loss was still"
                + " falling at the end (best at epoch "), run.out());
        CliTest.Run json = CliTest.run("train", "--data", data.toString(), "--loss", "tdef", "--epochs", "40", "--out", model,
                "--json");
        assertEquals(0, json.code(), json.err());
        assertTrue(json.out().contains("\"maxEpochs\": 40, \"patience\": 134, \"stillImproving\": true"), json.out());
        // The automatic schedule trains on to a plateau: no note.
        CliTest.Run full = CliTest.run("train", "--data", data.toString(), "--loss", "tdef", "--out", model);
        assertEquals(0, full.code(), full.err());
        assertFalse(full.out().contains("still falling"), full.out());
    }

    private static dev.mild.router.Trainer.Result result(int best, int run, int maxEpochs, int patience) {
        return new dev.mild.router.Trainer.Result(null, best, 0.5, new double[run], new double[run], 1.0, maxEpochs,
                patience);
    }

    /** Costs 0.1 for the row's best expert (set by two features), 0.6 for the others, 0.9 for one never best. */
    static Dataset sixExperts(int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * 2];
        double[] costs = new double[rows * 6];
        for (int i = 0; i < rows; i++) {
            double x1 = gaussian(r);
            double x2 = gaussian(r);
            int best = x1 > 0.5 ? 0 : x2 > 0 ? 1 : x1 < -1 ? 2 : x2 < -1 ? 3 : 4;
            x[2 * i] = (float) x1;
            x[2 * i + 1] = (float) x2;
            for (int k = 0; k < 6; k++) {
                costs[i * 6 + k] = k == best ? 0.1 : k == 5 ? 0.9 : 0.6;
            }
        }
        return new Dataset("six experts", List.of("x1", "x2"), x, rows, null,
                List.of("e1", "e2", "e3", "e4", "e5", "never"), costs, null, null);
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }
}
