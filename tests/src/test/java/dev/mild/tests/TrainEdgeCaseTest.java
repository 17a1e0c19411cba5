package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mild.InvalidInputException;
import dev.mild.data.Dataset;
import dev.mild.defer.Rewards;
import dev.mild.defer.Surrogate;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.defer.Deferral;
import dev.mild.defer.Rho;
import dev.mild.router.Examples;
import dev.mild.router.Mlp;
import dev.mild.router.RhoSearch;
import dev.mild.router.RouterTraining;
import dev.mild.router.TrainOptions;
import dev.mild.router.Trainer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Router training at its edges, as a user reaches them: odd options, tiny data, losses that cannot be trained. */
class TrainEdgeCaseTest {

    /**
     * A misspelled rule is checked before the data is read, so the experts are not known yet: the message once
     * counted the user's items as the experts ("expected auto, theory, uniform or 1 margins") for 3 experts.
     */
    @Test
    void aMisspelledRhoRuleIsNamedWithoutInventingAnExpertCount() {
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.rho = "theroy";
        InvalidInputException e = assertThrows(InvalidInputException.class, s::check);
        assertTrue(e.getMessage().startsWith("--rho \"theroy\" is neither a rule nor a number; expected auto, theory,"
                + " uniform or one margin per expert"), e.getMessage());
        assertFalse(e.getMessage().contains("1 margins"), e.getMessage());

        s.rho = "1,x,1";
        e = assertThrows(InvalidInputException.class, s::check);
        assertTrue(e.getMessage().startsWith("--rho: \"x\" (expert 2) is not a number"), e.getMessage());
        assertFalse(e.getMessage().contains("3 margins"), e.getMessage());
    }

    /**
     * With one expert every router sends every row to it, so the 25 grid points of auto would train 25 networks
     * that route alike: auto trains once, at margin 1, and says why.
     */
    @Test
    void autoWithOneExpertTrainsOnceWithoutASearch() {
        int rows = 40;
        float[] x = new float[rows];
        double[] costs = new double[rows];
        for (int i = 0; i < rows; i++) {
            x[i] = i / 10f;
            costs[i] = i % 3 == 0 ? 1 : 0;
        }
        Dataset data = new Dataset("one.csv", List.of("x"), x, rows, null, List.of("only"), costs, null, null);
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.options = TrainOptions.DEFAULT.withEpochs(3);
        List<String> messages = new java.util.ArrayList<>();
        int[] gridPoints = {0};
        RouterTraining.Outcome o = RouterTraining.run(data, null, null, s, new RouterTraining.Listener() {
            @Override
            public void message(String text) {
                messages.add(text);
            }

            @Override
            public void point(RhoSearch.Point point, int index, int total) {
                gridPoints[0]++;
            }
        });
        assertEquals(null, o.search());
        assertEquals(0, gridPoints[0]);
        assertEquals(List.of(1.0), java.util.Arrays.stream(o.rho()).boxed().toList());
        assertTrue(messages.contains("rho auto: one expert gets every row whatever the margins, so there is nothing"
                + " to search; margin 1"), messages.toString());
        assertEquals(1.0, o.valid().report().ratios()[0]);
    }

    /**
     * A network too large for the heap is refused before anything is allocated, naming the network: found by a
     * bad-input review with {@code --hidden 100000000}, which ran out of memory part-way with a message about the heap
     * only. The width is chosen so that its training needs about twice this JVM's heap.
     */
    @Test
    void aNetworkTooLargeForTheHeapIsRefusedBeforeTraining() {
        long heap = Runtime.getRuntime().maxMemory();
        // 2 features, 3 experts: 6h + 3 parameters, 5 copies of 4 bytes: 120h bytes = 2 heaps
        long hidden = heap / 60;
        assumeTrue(hidden * 3 < Mlp.MAX_LAYER_WEIGHTS, "a heap this large needs wider layers than one array holds");
        Examples train = threeExperts();
        try (LossKernel kernel = Backends.open("scalar", KernelOptions.DEFAULT)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Trainer.train(kernel,
                    Surrogate.tdef(3), train, train, null, TrainOptions.DEFAULT.withEpochs(1).withHidden((int) hidden),
                    Trainer.Listener.NONE));
            assertTrue(e.getMessage().startsWith("the network [2, " + hidden + ", 3] has " + (6 * hidden + 3)
                    + " parameters, and training holds at least 5 copies"), e.getMessage());
            assertTrue(e.getMessage().contains("than the Java heap's limit of " + (heap >> 20) + " MiB. Make the hidden"
                    + " layers narrower"), e.getMessage());
        }
    }

    /** 64 rows of 2 features in [-2, 2], 3 experts, expert {@code i % 3} the only right one. */
    private static Examples threeExperts() {
        int rows = 64;
        float[] x = new float[rows * 2];
        double[] costs = new double[rows * 3];
        for (int i = 0; i < rows; i++) {
            x[2 * i] = (i % 9) / 2f - 2f;
            x[2 * i + 1] = (i % 5) - 2f;
            for (int k = 0; k < 3; k++) {
                costs[3 * i + k] = k == i % 3 ? 0 : 1;
            }
        }
        return new Examples(x, costs, rows, 2, 3);
    }

    /**
     * compsum with nu = 0 and a margin of 0.001 overflows float32 once a row's scores differ by 0.06, which the
     * initial network's scores already do: the message blamed the learning rate and the inputs' scale (3.66 after
     * standardizing, in the CLI run that found it), neither of which was the cause; it now names nu and the margin.
     */
    @Test
    void aLossThatOverflowsAtOrdinaryScoresIsNamedWhenTrainingDiverges() {
        Examples train = threeExperts();
        try (LossKernel kernel = Backends.open("scalar", KernelOptions.DEFAULT)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Trainer.train(kernel,
                    Surrogate.compSum(new double[] {0.001, 1, 1}, 0.0, Rewards.SUM_OTHERS), train, train, null,
                    TrainOptions.DEFAULT.withEpochs(2), Trainer.Listener.NONE));
            assertTrue(e.getMessage().startsWith("training diverged at epoch 1 (surrogate loss "), e.getMessage());
            assertTrue(e.getMessage().contains("Raise nu (now 0.0) or the smallest margin rho (now 0.001, expert 1)"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("learning rate"), e.getMessage());
        }
    }

    /**
     * Without validation rows every grid point scored NaN and the search "chose" the grid's first point (mean margin
     * 1/8, gamma 0) without a word; {@code RouterTraining} never calls it so, but the API is public.
     */
    @Test
    void theRhoSearchRefusesToChooseWithoutValidationRows() {
        Examples train = threeExperts();
        int[] oracle = Deferral.oracleLabels(train.costs(), train.rows(), 3);
        double[] norms = Rho.rowNorms(train.features(), train.rows(), 2);
        try (LossKernel kernel = Backends.open("scalar", KernelOptions.DEFAULT)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> RhoSearch.search(kernel,
                    rho -> Surrogate.mild(rho, Rewards.SUM_OTHERS), oracle, norms, train, train.select(new int[0]),
                    TrainOptions.DEFAULT.withEpochs(2), 2, new RhoSearch.Listener() {
                    }));
            assertTrue(e.getMessage().contains("no validation rows"), e.getMessage());
        }
    }

    /**
     * The search's tie rules (RhoSearch: the lower validation loss, then the smaller gamma, then the mean margin closest
     * to 1 by ratio, then the smaller). Every expert costs 0.5 on every row, so every router's deferral loss is 0.5 and
     * all ten points of the grid {0.5, 2} x the five tilts tie: gamma 0 wins, and of 0.5 and 2, equally far from 1,
     * the smaller. One validation row is enough to score a point; the listener hears the epochs and each point.
     */
    @Test
    void theRhoSearchBreaksTiesToTheSmallerGammaThenTheSmallerOfEquallyFarMeanMargins() {
        Examples three = threeExperts();
        double[] halves = new double[three.rows() * 3];
        java.util.Arrays.fill(halves, 0.5);
        Examples train = new Examples(three.features(), halves, three.rows(), 2, 3);
        int[] oracle = Deferral.oracleLabels(train.costs(), train.rows(), 3);
        double[] norms = Rho.rowNorms(train.features(), train.rows(), 2);
        List<Integer> heard = new java.util.ArrayList<>();
        try (LossKernel kernel = Backends.open("scalar", KernelOptions.DEFAULT)) {
            RhoSearch.Result r = RhoSearch.search(kernel, rho -> Surrogate.mild(rho, Rewards.SUM_OTHERS), oracle, norms,
                    train, train.select(new int[] {0}), TrainOptions.DEFAULT.withEpochs(2), 1, new double[] {2, 0.5},
                    new RhoSearch.Listener() {
                        @Override
                        public void searchEpochs(int epochs) {
                            heard.add(epochs);
                        }

                        @Override
                        public void point(RhoSearch.Point point, int index, int total) {
                            heard.add(-index);
                        }
                    });
            assertTrue(r.grid().stream().allMatch(pt -> pt.validLoss() == 0.5), r.grid().toString());
            assertEquals(0.5, r.chosen().meanMargin());
            assertEquals(0.0, r.chosen().gamma());
            assertEquals(List.of(1, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10), heard);
        }
    }

    /** The grid's mean margins may sit at the kernels' own limits, which are accepted; an item outside is named. */
    @Test
    void meanMarginsAtTheMarginLimitsAreAcceptedAndOthersNamed() {
        assertEquals(List.of(LossConfig.MIN_RHO, LossConfig.MAX_RHO), java.util.Arrays.stream(
                RhoSearch.checkMeanMargins(new double[] {LossConfig.MAX_RHO, LossConfig.MIN_RHO})).boxed().toList());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> RhoSearch.checkMeanMargins(new double[] {1, -2}));
        assertTrue(e.getMessage().startsWith("--rho-grid: item 2 is -2.0;"), e.getMessage());
    }

    /** {@code --epochs 1} is the most any training of the run takes; the search's default of "at least 2" ran 2. */
    @Test
    void theDefaultSearchEpochsNeverExceedTheEpochsAsked() {
        assertEquals(1, RhoSearch.defaultSearchEpochs(140, TrainOptions.DEFAULT.withEpochs(1), 1));
        assertEquals(2, RhoSearch.defaultSearchEpochs(140, TrainOptions.DEFAULT.withEpochs(2), 1), "at least 2");
        // One batch per epoch: 150 steps, capped at the base's best epoch.
        assertEquals(7, RhoSearch.defaultSearchEpochs(140, TrainOptions.DEFAULT.withEpochs(100), 7));
    }

    /** The spec's public fields: a null one is named by check(), not a NullPointerException from the run. */
    @Test
    void aNullSpecFieldIsNamed() {
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.loss = null;
        assertTrue(assertThrows(InvalidInputException.class, s::check).getMessage().startsWith("loss is null"));
        s = new RouterTraining.Spec();
        s.options = null;
        assertTrue(assertThrows(InvalidInputException.class, s::check).getMessage().startsWith("options is null"));
        s = new RouterTraining.Spec();
        s.blocks = null;
        assertTrue(assertThrows(InvalidInputException.class, s::check).getMessage().startsWith("blocks is null"));
    }

    /**
     * expertEpochs caps the trained experts' epochs; 0, which TrainOptions reads as AUTO, trained them for up to
     * 4000 steps instead of refusing the cap (as it did before epochs had an automatic value).
     */
    @Test
    void anExpertEpochsCapBelowOneIsRefused() {
        for (int cap : new int[] {0, -3}) {
            RouterTraining.Spec s = new RouterTraining.Spec();
            s.expertEpochs = cap;
            InvalidInputException e = assertThrows(InvalidInputException.class, s::check);
            assertEquals("expertEpochs (the most epochs of a trained expert's classifier) must be >= 1, got " + cap,
                    e.getMessage());
        }
    }

    /**
     * Three rows and the default fractions: 10% of 3 rows rounds to no validation row. The message told a user who
     * had given no fraction to "give a --valid-fraction that leaves at least one row"; it now says the default was
     * in effect, how the rows came to 0, and the smallest fraction that leaves one.
     */
    @Test
    void anEmptyValidationSplitSaysWhyAndWhichFractionWouldDo() {
        Dataset three = new Dataset("three.csv", List.of("x"), new float[] {0, 1, 2}, 3, null, List.of("a", "b"),
                new double[] {0, 1, 1, 0, 0, 1}, null, new int[] {2, 3, 4});
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.rho = "uniform";
        s.options = TrainOptions.DEFAULT.withEpochs(1);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> RouterTraining.run(three, null, null, s, RouterTraining.Listener.SILENT));
        assertTrue(e.getMessage().startsWith("three.csv: the validation split is empty: --valid-fraction 0.1 (the"
                + " default) of 3 rows rounds to 0 rows"), e.getMessage());
        assertTrue(e.getMessage().endsWith("Give --valid FILE, or --valid-fraction 0.17 or more (1 row of 3)"),
                e.getMessage());

        // A fraction of 0 can never work: refused by the option check, before any data is read.
        s.validFraction = 0.0;
        s.testFraction = 0.0;
        e = assertThrows(InvalidInputException.class, s::check);
        assertEquals("--valid-fraction 0 leaves no validation rows, which early stopping and the choice of rho need:"
                + " give a fraction above 0 (default 0.1), or --valid FILE", e.getMessage());

        // The fraction suggested does leave one validation row (and two for training).
        s.validFraction = 0.17;
        assertEquals(1, RouterTraining.run(three, null, null, s, RouterTraining.Listener.SILENT).validRows());
    }

    /** Labelled rows of 2 features: class {@code labels[i % labels.length]}, features moving with the class. */
    private static Dataset labelled(int rows, int... labels) {
        float[] x = new float[rows * 2];
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = labels[i % labels.length];
            x[2 * i] = y[i] + (i % 7) / 10f;
            x[2 * i + 1] = (i % 5) / 5f;
        }
        return new Dataset("lab.csv", List.of("a", "b"), x, rows, y, List.of(), null, null, null);
    }

    /**
     * A grid point whose margins the loss refuses (mean margin 1e30, tilted) failed after the base training and
     * the points before it; now before any training, naming the grid point.
     */
    @Test
    void aGridPointOutOfRangeFailsBeforeAnyTraining() {
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.experts = dev.mild.router.ExpertSetup.Source.SYNTHETIC;
        s.blocks = new int[] {2, 1};
        s.rhoGrid = new double[] {1, 1e30};
        s.options = TrainOptions.DEFAULT.withEpochs(2);
        int[] epochs = {0};
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> RouterTraining.run(
                labelled(60, 0, 1, 2, 0, 1, 0), null, null, s, new RouterTraining.Listener() {
                    @Override
                    public void baseEpoch(Trainer.Epoch ep) {
                        epochs[0]++;
                    }
                }));
        assertEquals(0, epochs[0], "no base epoch before the grid is checked");
        assertTrue(e.getMessage().startsWith("--rho-grid: mean margin 1.0E30 with tilt gamma"), e.getMessage());
        assertTrue(e.getMessage().contains("outside the accepted"), e.getMessage());
    }

    /** One label out of place (200 among 0..2) made 201 classes and trained without an error. */
    @Test
    void labelsWithEmptyClassesAreRefusedForBlocks() {
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.experts = dev.mild.router.ExpertSetup.Source.SYNTHETIC;
        s.blocks = new int[] {2, 1};
        s.rho = "uniform";
        s.options = TrainOptions.DEFAULT.withEpochs(1);
        int[] labels = new int[60];
        for (int i = 0; i < 60; i++) {
            labels[i] = i % 3;
        }
        labels[17] = 200;
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> RouterTraining.run(
                labelled(60, labels), null, null, s, RouterTraining.Listener.SILENT));
        assertTrue(e.getMessage().contains("the labels run up to 200"), e.getMessage());
        assertTrue(e.getMessage().contains("row 18") || e.getMessage().contains("row 17"), e.getMessage());
        assertTrue(e.getMessage().contains("[3, 4, 5, 6, 7, 8, 9, 10, ...] (197 classes), most of them"), e.getMessage());
        // every class present, or a few missing (a small sample; labels counted from 1): trains
        labels[17] = 2;
        assertEquals(3, RouterTraining.run(labelled(60, labels), null, null, s, RouterTraining.Listener.SILENT)
                .model().experts().classes());
        for (int i = 0; i < 60; i++) {
            labels[i] = 1 + i % 3;
        }
        assertEquals(4, RouterTraining.run(labelled(60, labels), null, null, s, RouterTraining.Listener.SILENT)
                .model().experts().classes());
    }

    /** Theory margins out of range named only "rho of expert 2"; now the rule, the margins and what to change. */
    @Test
    void theoryMarginsOutOfRangeNameTheRule() {
        int rows = 40;
        float[] x = new float[rows];
        double[] costs = new double[rows * 2];
        for (int i = 0; i < rows; i++) {
            boolean first = i % 2 == 0; // expert 1 best on rows of norm 1e17, expert 2 on rows of norm 1e-30
            x[i] = first ? 1e17f : 1e-30f;
            costs[2 * i] = first ? 0 : 1;
            costs[2 * i + 1] = first ? 1 : 0;
        }
        Dataset data = new Dataset("norms.csv", List.of("x"), x, rows, null, List.of("big", "small"), costs, null, null);
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.rho = "theory";
        s.scaling = dev.mild.router.Standardizer.Scaling.NONE;
        s.options = TrainOptions.DEFAULT.withEpochs(1);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> RouterTraining.run(data, null, null, s, RouterTraining.Listener.SILENT));
        assertTrue(e.getMessage().startsWith("--rho theory gives margins ["), e.getMessage());
        assertTrue(e.getMessage().contains("outside the accepted") && e.getMessage().contains("--scale columns"),
                e.getMessage());
    }

    /** The wider grid suggested after an edge was chosen: never past the margins a loss takes (--rho-grid refused it). */
    @Test
    void widerGridStaysWithinTheMarginsALossTakes() {
        assertEquals(List.of(0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0), java.util.Arrays.stream(
                RhoSearch.widerMeanMargins(new double[] {0.5, 1, 2}, true, true)).boxed().toList());
        assertEquals(List.of(1e29, 5e29, 1e30), java.util.Arrays.stream(
                RhoSearch.widerMeanMargins(new double[] {1e29, 5e29}, false, true)).boxed().toList());
        assertEquals(List.of(1e-30, 2e-30, 4e-30), java.util.Arrays.stream(
                RhoSearch.widerMeanMargins(new double[] {2e-30, 4e-30}, true, false)).boxed().toList());
        // A search's suggestion also keeps its tilted margins in range. Here gamma 1 gives the first expert 2.5 times
        // the mean margin: 4e28 puts it at 1e29, kept.
        RhoSearch.Point low = new RhoSearch.Point(1e27, 1.0, new double[] {2.5e27, 0.25e27, 0.25e27}, 0.2);
        RhoSearch.Point high = new RhoSearch.Point(1e28, 1.0, new double[] {2.5e28, 0.25e28, 0.25e28}, 0.1);
        RhoSearch.Result r = new RhoSearch.Result(List.of(low, high), new double[] {1e27, 1e28}, high, 3, null, Double.NaN);
        assertEquals(List.of(1e27, 1e28, 2e28, 4e28), java.util.Arrays.stream(r.widerMeanMargins()).boxed().toList());
        RhoSearch.Point top = new RhoSearch.Point(2e29, 1.0, new double[] {5e29, 0.5e29, 0.5e29}, 0.1);
        RhoSearch.Result edge = new RhoSearch.Result(List.of(low, top), new double[] {1e27, 2e29}, top, 3, null,
                Double.NaN);
        // 4e29 and 8e29 would put the first expert at 1e30 and 2e30: only the first stays
        assertEquals(List.of(1e27, 2e29, 4e29), java.util.Arrays.stream(edge.widerMeanMargins()).boxed().toList());
    }
}
