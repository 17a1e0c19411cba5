package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.data.DataFiles;
import dev.mild.data.Dataset;
import dev.mild.defer.Deferral;
import dev.mild.loss.LossKernel;
import dev.mild.router.RouterTraining.Listener;
import dev.mild.router.RouterTraining.Outcome;
import dev.mild.router.RouterTraining.Spec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * One run of {@link RouterTraining#run}. The constructor checks every input against the others and prepares what
 * training needs (the expert setup, the split, the standardized features, the costs that need no trained
 * classifier), so that a mistake fails before any training; {@link #train} trains the experts (when they are
 * trained), then the router, and reports on the validation and test rows.
 */
final class TrainingJob {
    private static final long NOISE_STREAM = 0x13198A2E03707344L;

    private final Dataset data;
    /** The --valid and --test files, aligned to the data file's columns, or null. */
    private final Dataset validFile;
    private final Dataset testFile;
    private final Spec spec;
    private final Listener listener;
    private final ExpertSetup setup;
    private final boolean trained;
    /** The margins of an explicit rho list, or null. */
    private final double[] listedRho;
    /** The data file's rows of each split (validation and test empty where a file replaces them). */
    private final int[] trainIdx;
    private final int[] validIdx;
    private final int[] testIdx;
    private final List<TrainedExperts.Rows> expertRows;
    private final Standardizer standardizer;
    /** The files' features standardized: {@code validStd} is {@code dataStd} without a --valid file. */
    private final float[] dataStd;
    private final float[] validStd;
    private final float[] testStd;
    /** The data file's costs when they need no trained classifier, else null (they need the experts). */
    private final double[] dataCosts;

    /** Checks every input and prepares the training; {@code validInput} and {@code testInput} may be null. */
    TrainingJob(Dataset data, Dataset validInput, Dataset testInput, Spec spec, Listener listener) {
        this.data = data;
        this.spec = spec;
        this.listener = listener;
        setup = ExpertCosts.setup(data, validInput, spec);
        trained = setup.source() == ExpertSetup.Source.TRAINED;
        // Names the model file could not store fail now, not when saving after the training.
        ModelFile.checkNames(data.source(), "feature column", data.featureNames());
        ModelFile.checkNames(data.source(), "expert", setup.names());
        validFile = validInput == null ? null : checkedValidFile(validInput);
        testFile = testInput == null ? null : checkedTestFile(testInput);
        // An explicit rho list has one margin per expert: said now, before any training.
        listedRho = spec.listsRho() ? RouterTraining.parseRho(spec.rhoRule(), setup.experts()) : null;
        ExpertCosts.checkOneMinusPrices(spec, setup);
        int[][] split = split();
        trainIdx = split[0];
        validIdx = split[1];
        testIdx = split[2];
        expertRows = trained ? TrainedExperts.rows(setup, data, trainIdx, validData(), validRows(), spec) : List.of();
        standardizer = standardizer();
        // Every file now (the test file too, though it is used only after training): a value that overflows
        // standardization is named by file and line before any training.
        dataStd = standardizer.apply(data);
        validStd = validFile == null ? dataStd : standardizer.apply(validFile);
        testStd = testFile == null ? null : standardizer.apply(testFile);
        // Costs that need no trained classifier are made and checked now, before any training.
        dataCosts = trained ? null : checkedDataCosts(List.of());
    }

    private Dataset checkedValidFile(Dataset file) {
        Dataset valid = aligned(file);
        if (trained && !valid.hasLabels()) {
            throw new InvalidInputException(valid.source() + ": no label column; trained experts need one in"
                    + " the --valid file (their classifiers are early-stopped on its labels, and its costs come"
                    + " from them)");
        }
        setup.checkInputs(valid);
        return valid;
    }

    /** Checked now, though used only after training, for the report. */
    private Dataset checkedTestFile(Dataset file) {
        Dataset test = aligned(file);
        setup.checkInputs(test);
        return test;
    }

    private Dataset aligned(Dataset file) {
        return DataFiles.align(file, data.featureNames(), data.experts());
    }

    /** The seeded split of the data file, with training and validation rows (unless a file gives those). */
    private int[][] split() {
        int[][] split = RouterTraining.split(data.rows(), validFile == null ? spec.validFraction() : 0,
                testFile == null ? spec.testFraction() : 0, spec.options.seed());
        if (split[0].length < 1) {
            throw new InvalidInputException(data.source() + ": the training split is empty (" + data.rows()
                    + " rows; lower --valid-fraction / --test-fraction)");
        }
        if (validFile == null && split[1].length < 1) {
            // Early stopping and rho need validation rows. Say why there are none: a user who gave no fraction
            // has 3 rows and the default, not a fraction of their own, and the smallest that works.
            int n = data.rows();
            String given = spec.validFraction == null ? " (the default)" : "";
            throw new InvalidInputException(String.format(Locale.ROOT, "%s: the validation split is empty:"
                    + " --valid-fraction %s%s of %d rows rounds to 0 rows; early stopping and the choice of rho need"
                    + " some. Give --valid FILE, or --valid-fraction %s or more (1 row of %d)", data.source(),
                    RouterTraining.plain(spec.validFraction()), given, n,
                    RouterTraining.plain(Math.ceil(50.0 / n) / 100), n));
        }
        return split;
    }

    /** The file of the validation rows: the --valid file, or the data file. */
    private Dataset validData() {
        return validFile != null ? validFile : data;
    }

    /** The validation rows' indexes in {@link #validData}. */
    private int[] validRows() {
        return validFile != null ? RouterTraining.all(validFile.rows()) : validIdx;
    }

    /** Fitted on the training split only: validation and test rows must not shape the router's inputs. */
    private Standardizer standardizer() {
        int d = data.d();
        listener.message(spec.scaling == Standardizer.Scaling.NONE
                ? String.format(Locale.ROOT, "using %d features as they are (--scale none)", d)
                : String.format(Locale.ROOT, "standardizing %d features with the training split (%d rows)", d,
                        trainIdx.length));
        return Standardizer.fit(data.features(), d, trainIdx, spec.scaling);
    }

    /** The data file's costs, checked on every row: an error names the file's line, whatever the split. */
    private double[] checkedDataCosts(List<Mlp> classifiers) {
        double[] costs = setup.costsFor(data, dataStd, classifiers, ExpertSetup.STREAM_DATA);
        ExpertCosts.check(spec, data, setup, costs);
        return costs;
    }

    /** Trains the experts (when they are trained) and the router, and reports on the validation and test rows. */
    Outcome train(LossKernel kernel) {
        List<Trainer.Result> expertRuns = trained ? TrainedExperts.train(kernel, setup, expertRows, data, dataStd,
                validData(), validStd, spec, listener) : List.of();
        List<Mlp> classifiers = expertRuns.stream().map(Trainer.Result::network).toList();
        // Trained experts' costs are their classifiers' errors: made, and checked as the others were, only now.
        Examples all = new Examples(dataStd, trained ? checkedDataCosts(classifiers) : dataCosts, data.rows(),
                data.d(), setup.experts());
        Examples train = all.select(trainIdx);
        Examples valid = validFile == null ? all.select(validIdx)
                : fileExamples(validFile, validStd, classifiers, ExpertSetup.STREAM_VALID);
        if (spec.costNoise > 0) {   // on the training costs only: the router is chosen and judged on exact ones
            train = withNoise(train, spec.costNoise, spec.options.seed());
        }
        int[] oracle = Deferral.oracleLabels(train.costs(), train.rows(), setup.experts());
        RouterFit.Result fit = RouterFit.fit(kernel, spec, listedRho, train, valid, oracle, listener);

        Mlp net = fit.training().network();
        Router scorer = new Router(standardizer, net, setup.names());   // only to name a row that fails
        Evaluation.Result validReport = report(net, scorer, valid, validData(), validRows());
        Test test = test(net, scorer, all, classifiers);
        RouterModel model = new RouterModel(data.featureNames(), standardizer, net, setup, classifiers,
                info(fit, train, valid, validReport));
        return new Outcome(model, fit.surrogate(), train.rows(), valid.rows(), test.rows(), test.source(), fit.rho(),
                fit.search(), fit.training(), validReport, test.report(), Deferral.ratios(oracle, setup.experts()),
                expertRuns);
    }

    /** Every row of a --valid or --test file, with costs of its own (the synthetic experts' stream of that file). */
    private Examples fileExamples(Dataset file, float[] standardized, List<Mlp> classifiers, int stream) {
        return new Examples(standardized, setup.costsFor(file, standardized, classifiers, stream), file.rows(),
                data.d(), setup.experts());
    }

    /** Gaussian noise of standard deviation {@code s} on every training cost (the paper's robustness test). */
    private static Examples withNoise(Examples train, double s, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ NOISE_STREAM);
        double[] c = train.costs().clone();
        for (int i = 0; i < c.length; i++) {
            c[i] += s * rnd.nextGaussian();
        }
        return new Examples(train.features(), c, train.rows(), train.d(), train.p());
    }

    /**
     * The test rows' report, where they came from ("FILE" or "20% split of FILE") and how many they are; no report
     * and no source without test rows.
     */
    private record Test(Evaluation.Result report, String source, int rows) {
    }

    private Test test(Mlp net, Router scorer, Examples all, List<Mlp> classifiers) {
        if (testFile != null) {
            // The test file is used here, after training and selection, and only for the report (checked above).
            Examples test = fileExamples(testFile, testStd, classifiers, ExpertSetup.STREAM_TEST);
            return new Test(report(net, scorer, test, testFile, RouterTraining.all(testFile.rows())), testFile.source(),
                    testFile.rows());
        }
        if (testIdx.length > 0) {
            String source = String.format(Locale.ROOT, "%.0f%% split of %s", 100 * spec.testFraction(), data.source());
            return new Test(report(net, scorer, all.select(testIdx), data, testIdx), source, testIdx.length);
        }
        return new Test(null, null, 0);
    }

    /** The router's report on rows {@code rows} of {@code file}, which {@code examples} holds in that order. */
    private Evaluation.Result report(Mlp net, Router scorer, Examples examples, Dataset file, int[] rows) {
        return Evaluation.of(reportScores(net, scorer, examples.features(), file, rows), examples.costs(),
                examples.rows(), select(file.labels(), rows), setup);
    }

    /**
     * The network's scores of rows of {@code file} for a report ({@code standardized}: those rows, standardized, in
     * order). A validation or test row far outside the training data (a feature of 1e38, which standardization
     * alone does not overflow; one that does was refused before training, where the files are standardized) can
     * make the scores overflow float32, which only the trained network tells: it failed as "scores: row 0, column 0
     * is NaN (must be finite)", naming neither the file nor the line. It is named here as eval names it, by file and
     * line and the feature furthest out ({@code scorer}, the same network, gives those words).
     *
     * @param rows the index in {@code file} of each row
     */
    private static float[] reportScores(Mlp net, Router scorer, float[] standardized, Dataset file, int[] rows) {
        float[] scores = Trainer.scores(net, standardized, rows.length);
        int p = net.outputs();
        int d = file.d();
        for (int i = 0; i < scores.length; i++) {
            if (!Float.isFinite(scores[i])) {
                int row = rows[i / p];
                String why = "the router's scores are not finite for this row";
                try {
                    scorer.route(Arrays.copyOfRange(file.features(), row * d, (row + 1) * d));
                } catch (InvalidInputException e) {
                    why = e.getMessage();
                }
                throw new InvalidInputException(file.where(row) + ": " + why);
            }
        }
        return scores;
    }

    /** What the model file records of this training (the model's {@code info}). */
    private Map<String, String> info(RouterFit.Result fit, Examples train, Examples valid,
                                     Evaluation.Result validReport) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("loss", spec.loss.label());
        info.put("surrogate", fit.surrogate().toString());
        if (fit.surrogate().rewards() != null) {
            info.put("rewards", fit.surrogate().rewards().label());
        }
        info.put("rho.rule", spec.rhoRule());
        if (fit.rho() != null) {
            info.put("rho", joined(fit.rho()));
        }
        RhoSearch.Result search = fit.search();
        if (search != null) {
            info.put("rho.auto.meanMargin", Double.toString(search.chosen().meanMargin()));
            info.put("rho.auto.gamma", Double.toString(search.chosen().gamma()));
            info.put("rho.auto.baseKept", Boolean.toString(search.baseKept()));
            info.put("rho.auto.meanMargins", joined(search.meanMargins()));
        }
        info.put("options", spec.options.describe(train.rows()));
        info.put("scale", spec.scaling.label);
        info.put("lossWeightScale", Double.toString(fit.training().weightScale()));
        info.put("costNoise", Double.toString(spec.costNoise));
        info.put("trainRows", Integer.toString(train.rows()));
        info.put("validRows", Integer.toString(valid.rows()));
        info.put("bestEpoch", Integer.toString(fit.training().bestEpoch()));
        info.put("validDeferralLoss", Double.toString(validReport.report().meanLoss()));
        info.put("data", data.source());
        return info;
    }

    /** {@code v[idx[i]]} for each i, or null for no values (a file without labels). */
    private static int[] select(int[] v, int[] idx) {
        return v == null ? null : IntStream.of(idx).map(i -> v[i]).toArray();
    }

    private static String joined(double[] v) {
        return Arrays.stream(v).mapToObj(Double::toString).collect(Collectors.joining(","));
    }
}
