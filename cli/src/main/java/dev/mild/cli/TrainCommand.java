package dev.mild.cli;

import dev.mild.InvalidInputException;
import dev.mild.data.DataFiles;
import dev.mild.data.Dataset;
import dev.mild.data.Decimal;
import dev.mild.defer.Rewards;
import dev.mild.defer.Surrogate;
import dev.mild.io.CommaList;
import dev.mild.io.Figures;
import dev.mild.io.JsonOut;
import dev.mild.io.OutputFile;
import dev.mild.loss.KernelOptions;
import dev.mild.router.Adam;
import dev.mild.router.Evaluation;
import dev.mild.router.ExpertSetup;
import dev.mild.router.ModelFile;
import dev.mild.router.RhoSearch;
import dev.mild.router.RouterTraining;
import dev.mild.router.Standardizer;
import dev.mild.router.TrainOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code ./mild train}: train a router on a data file and save it. */
final class TrainCommand implements Command {
    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "train a router (MLP) on a CSV or IDX file with MILD or another surrogate; save the model";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild train --data FILE [--valid FILE] [--test FILE] [--out MODEL] [options]

                Trains a router: a small neural network (MLP) that reads a row of features and picks one of
                several experts (LLMs, classifiers, people), paying each expert's cost. It learns from rows
                whose cost per expert is known, and is judged by its deferral loss: the mean cost of the
                experts it picks (lower is better), next to the oracle that always picks the cheapest one.

                Data (CSV with a header, optionally .csv.gz; or an IDX images file such as Fashion-MNIST's
                train-images-idx3-ubyte.gz, whose labels file is found beside it):
                  cost:<expert> columns     the cost of each expert for the row (e.g. 1 if it was wrong)
                  label + pred:<expert>     the true class and each expert's prediction: cost = error
                  label only                with --experts synthetic|trained --blocks, simulated experts
                  any other column          a numeric feature (standardized with training-split statistics,
                                            unless --scale none)
                Rows of --data are split by --seed into training, validation (--valid-fraction, or --valid
                FILE, not both) and test (--test-fraction, or --test FILE, not both; neither file may be the
                --data file itself, nor --test the --valid file). Early stopping and the choice of rho use the
                validation rows only; a --test file is used once, after training, for the report.
                Every file and option is checked before training starts: a bad --test file, --rho list or
                --out/--plot destination fails at once, not after the training.

                Options:
                  --loss NAME         mild (default), compsum, tdef, realizable-log, realizable-mae, ce,
                                      cwce, ldam, multitask (see README, "The loss family")
                  --rho RULE          margins of mild/compsum: auto (default), theory, uniform, or one
                                      margin per expert (e.g. 0.5,1.5). auto searches the validation
                                      deferral loss over mean margin {1/8,1/4,1/2,1,2} x tilt gamma
                                      {0,1/4,1/2,3/4,1} between uniform margins (gamma 0) and the paper's
                                      theory (gamma 1), and prints the grid. Why auto and not theory:
                                      theory alone can over-correct (on Fashion-MNIST with error +
                                      coverage costs it sent most rows to the cheapest expert); auto keeps
                                      it as a candidate and includes TDEF's uniform margins.
                  --rho-grid M1,M2,.. the mean margins (rho_bar / p) --rho auto searches: comma-separated,
                                      each > 0, no repeats (default 0.125,0.25,0.5,1,2; the tilts gamma
                                      stay). Each adds 5 points, 5 short trainings, to the search. When
                                      the search picks the grid's smallest or largest mean margin, the
                                      best may lie beyond it: a note says so and suggests a wider grid,
                                      e.g. --rho-grid 0.125,0.25,0.5,1,2,4,8
                  --rho-mean M        mean margin for --rho theory and uniform (default 1)
                  --search-epochs N   epochs per grid point of --rho auto, N >= 1 (default, without the
                                      option: about 150 optimizer steps, at most the base's best epoch,
                                      at least 2); each point is warm-started from a base trained with
                                      uniform margins
                  --rewards NAME      how mild/compsum weigh each expert from a row's costs:
                                      sum-others (default, the paper's: the other experts' costs),
                                      one-minus (1 - cost; every cost, price included, in [0, 1]),
                                      realizable
                  --nu X              exponent of compsum / multitask (default 0.5)
                                      An option the chosen loss or rho rule does not use is refused, not
                                      ignored: --rho, --rho-mean, --search-epochs, --rho-grid and --rewards
                                      need mild or compsum (--rho-mean with --rho theory|uniform,
                                      --search-epochs and --rho-grid with auto), --nu needs compsum or
                                      multitask.
                  --experts KIND      synthetic: expert k is always right on its block of classes and
                                      guesses uniformly elsewhere; trained: expert k is an MLP classifier
                                      trained on its block plus 1% of the other classes (needs a label column,
                                      in a --valid FILE too)
                  --blocks 7,2,1      class blocks per expert, as proportions of the classes
                  --beta b1,b2,..     a price added to each expert's cost (one per expert)
                  --coverage          price = the expert's block share (0.7,0.2,0.1 for 7,2,1)
                  --cost-noise S      Gaussian noise of std S on the training costs only
                  --hidden 64         hidden layer widths, comma-separated ("none" for a linear router)
                  --epochs N          most epochs; --patience N stops after N epochs without a better
                                      validation deferral loss (not before 2N). Default auto: 100 and 10,
                                      or on small data as many as make 4000 and 400 optimizer steps
                                      (2,000 rows at batch 1024 are 2 steps an epoch: 2000 and 200)
                  --batch N           mini-batch (default 1024); --lr X (default 1e-3);
                  --weight-decay X    (default 1e-3); --optimizer adam|adamw (default adam)
                  --seed N            split, initialization, shuffling, synthetic experts (default 1)
                  --threads T         threads for the dense algebra (default 0 = all cores; the model does
                                      not depend on it)
                  --backend NAME      loss backend (default: the fastest present, see ./mild backends)
                  --scale columns|none
                                      how features are scaled before training. columns (default):
                                      each to mean 0 and standard deviation 1 with the training split's
                                      statistics. none: as they are; better when the features already
                                      share one small scale and many are rare or noisy (one-hot columns,
                                      bag-of-words weights, pixels in [0, 1]): standardizing gives a column
                                      that is almost always 0 as much weight as any other (on the MMLU
                                      example below, none beats always-GPT-4 and columns does not; see
                                      README.md). The model remembers it.
                  --valid-fraction F  (default 0.1)   --test-fraction F  (default 0.2, 0 for none)
                  --out MODEL         where to save the model (default router.mild); an existing file there
                                      is replaced only if it is a MILD model, never an input file
                  --plot FILE.png     chart: deferral ratios per expert, router vs oracle, and the
                                      learning curve (replaces only a PNG image, never an input file)
                  --json              one JSON object on stdout (progress goes to stderr)

                Examples:
                  ./mild train --data ../shared/data/mmlu-routellm-train.csv.gz \\
                               --test ../shared/data/mmlu-routellm-test.csv.gz --scale none --out mmlu.mild
                  ./mild train --data /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \\
                               --test /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \\
                               --experts synthetic --blocks 7,2,1 --coverage --out fashion.mild

                Output: the data, progress per epoch (surrogate loss on training rows, deferral loss on
                validation rows), the experts and splits, the rho grid for auto (with a note when it chose
                the grid's smallest or largest mean margin; --json: search.chosenAtEdge), then a table per
                split: deferral loss and the share of rows sent to each expert, for the router and for the
                oracle, the loss of always picking one expert (a router should beat the best of these; a note
                says when it does not; another when the training ran all its epochs with the validation loss
                still falling, where more --epochs help; another when every row costs the same for every
                expert, or there is one expert only, which no router can learn from), and the test rows per
                class block when labels are known. --json lists the notes in "notes", each with a "kind"
                (rhoAtGridEdge, worseThanOneExpert, stillImproving, costsAllEqual, oneExpert) and its
                "text", and also gives the oracle's shares on the training
                split (trainOracleRatios), and for the final training (training) maxEpochs, patience,
                stillImproving and lossWeightScale (the power of ten the loss weights were multiplied by, 1
                unless the costs are far from 1). The model file holds what eval and route need (feature
                names, experts, standardization, expert setup).
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("data", "valid", "test", "loss", "rho", "rho-mean", "search-epochs", "rho-grid", "rewards", "nu",
                "experts", "blocks", "beta", "cost-noise", "hidden", "epochs", "patience", "batch", "lr", "weight-decay",
                "optimizer", "seed", "threads", "backend", "scale", "valid-fraction", "test-fraction", "out", "plot");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("coverage", "json");
    }

    /**
     * The file an output option names. A trailing slash names a directory, which Path.of drops: --out models/ wrote
     * a file called "models" (where cp or mv would say "not a directory"), and --plot out.png/ a file "out.png".
     */
    private static Path outputFile(Args args, String option, String example) {
        String value = args.value(option, example);
        if (value.endsWith("/") || value.endsWith(java.io.File.separator)) {
            throw new UsageException("--" + option + " " + value + ": ends with a slash, so it names a directory;"
                    + " give a file name, e.g. " + value + example);
        }
        return Path.of(value);
    }

    @Override
    public int run(Args args, Console console) throws Exception {
        args.positional(0, "no positional arguments (give the data with --data FILE)");
        String dataPath = args.value("data");
        if (dataPath == null) {
            throw new UsageException("--data FILE is required");
        }
        RouterTraining.Spec spec = spec(args);
        try {
            RouterTraining.checkSplits(spec, args.value("valid") != null, args.value("test") != null);
        } catch (InvalidInputException e) {
            throw new UsageException(e.getMessage());   // before reading any file, and with the pointer to --help
        }
        boolean json = args.flag("json");
        Path out = outputFile(args, "out", "router.mild");
        Path plot = args.value("plot") == null ? null : outputFile(args, "plot", "plot.png");
        if (plot != null && !plot.toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new UsageException("--plot writes a PNG image: give a file name ending in .png, got " + plot);
        }
        // Where the model and the plot go is checked before reading the data: a bad destination fails now, and
        // neither may replace an input file or a file of another kind.
        Map<String, Path> inputs = new LinkedHashMap<>();
        for (String option : List.of("data", "valid", "test")) {
            if (args.value(option) != null) {
                List<Path> files = DataFiles.files(Path.of(args.value(option)));
                inputs.put("the --" + option + " file", files.get(0));
                if (files.size() > 1) {
                    inputs.put("the labels file of --" + option, files.get(1));
                }
            }
        }
        // Validation or test rows that are the training rows leak: rho would be chosen, or the router judged, on
        // the rows it was fit to, and the figures would look better than they are.
        for (String option : List.of("valid", "test")) {
            Path held = inputs.get("the --" + option + " file");
            if (held != null && sameFile(held, inputs.get("the --data file"))) {
                throw new UsageException("--" + option + " is the same file as --data, so its rows would be training"
                        + " rows: give a file held out from training, or leave --" + option + " out (the split"
                        + " then comes from --data, see --" + option + "-fraction)");
            }
        }
        // The same leak one step later: the rows that chose rho and the stopping epoch would also judge the router.
        Path validFile = inputs.get("the --valid file");
        Path testFile = inputs.get("the --test file");
        if (validFile != null && testFile != null && sameFile(validFile, testFile)) {
            throw new UsageException("--test is the same file as --valid, so the rows that chose rho and the stopping"
                    + " epoch would also judge the router: give a test file held out from both, or leave --test out"
                    + " (the test rows then come from --data, see --test-fraction)");
        }
        Map<String, Path> besideModel = new LinkedHashMap<>(inputs);
        if (plot != null) {
            besideModel.put("the --plot file", plot);
        }
        OutputFile.check("--out", out, ModelFile.KIND, besideModel);
        if (plot != null) {
            Map<String, Path> besidePlot = new LinkedHashMap<>(inputs);
            besidePlot.put("the --out file", out);
            OutputFile.check("--plot", plot, Plots.KIND, besidePlot);
        }
        PrintStream text = json ? console.err() : console.out();
        Progress progress = new Progress(text, console.terminal() && !json, false);

        DenseProducts.warmUpInBackground();
        long t0 = System.nanoTime();
        Dataset data = DataFiles.read(Path.of(dataPath));
        // Their columns are matched to --data's here, where both files can be named by their options: the training
        // would say "not a feature of the model" before there is one.
        Dataset valid = args.value("valid") == null ? null
                : DataFiles.alignToData(DataFiles.read(Path.of(args.value("valid"))), "--valid", data);
        // The test file is read and checked now (a bad file fails before training) but only used after it.
        Dataset test = args.value("test") == null ? null
                : DataFiles.alignToData(DataFiles.read(Path.of(args.value("test"))), "--test", data);
        progress.message(String.format(Locale.ROOT, "Data: %s: %d rows, %d features%s", data.source(), data.rows(),
                data.d(), data.hasLabels() ? ", labels 0.." + (data.labelCount() - 1) : ""));
        if (!json) {
            StdoutFailure.check(console.out());   // a report that cannot be written fails before the training, not after
        }

        RouterTraining.Outcome o = RouterTraining.run(data, valid, test, spec, progress);
        progress.finishLine();
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<String> experts = o.model().expertNames();
        ModelFile.save(o.model(), out);
        // A plot that cannot be written (checked above, so rare: a full disk) still leaves the model and the report.
        InvalidInputException plotError = null;
        if (plot != null) {
            try {
                Plots.write(plot, o, experts);
            } catch (InvalidInputException e) {
                plotError = e;
            }
        }
        String plotNote = plot == null ? "" : plotError == null ? " Plot: " + plot + "." : " No plot (see below).";
        if (json) {
            console.out().println(json(o, spec, out, seconds));
            checkReport(console, out);
            return finish(plotError);
        }
        PrintStream p = console.out();
        p.println();
        p.printf(Locale.ROOT, "Experts: %s (%s)%n", String.join(", ", experts), o.model().experts().describe());
        p.printf(Locale.ROOT, "Splits: train %d, validation %d, test %d%s%n", o.trainRows(), o.validRows(), o.testRows(),
                o.testSource() == null ? "" : " (" + o.testSource() + ")");
        p.printf(Locale.ROOT, "Features: %d, %s%n", o.model().featureNames().size(),
                spec.scaling == Standardizer.Scaling.NONE ? "as they are (--scale none)"
                        : "each standardized with the training split (--scale columns)");
        p.printf(Locale.ROOT, "Loss: %s%n", o.surrogate());
        if (o.search() != null) {
            printGrid(p, o.search());
        }
        p.printf(Locale.ROOT, "Training: best epoch %d of %d run (%s)%n%n", o.training().bestEpoch(),
                o.training().epochsRun(), spec.options.describe(o.trainRows()));
        List<Reports.Line> lines = new ArrayList<>(Reports.lines("validation", o.valid()));
        if (o.test() != null) {
            lines.addAll(Reports.lines("test", o.test()));
        }
        Reports.table(p, experts, lines);
        Reports.alwaysOneExpert(p, "validation", o.valid(), experts);
        if (o.test() != null) {
            Reports.alwaysOneExpert(p, "test", o.test(), experts);
        }
        resultNotes(o).forEach(n -> n.print(p));
        if (o.test() != null && !o.test().blocks().isEmpty()) {
            p.println();
            p.println("Test rows by class block:");
            Reports.blocks(p, experts, o.test().blocks());
        }
        p.println();
        p.printf(Locale.ROOT, "Model saved to %s (%d bytes) in %.1f s.%s%n", out, Files.size(out), seconds, plotNote);
        checkReport(console, out);
        return finish(plotError);
    }

    /** The report was lost (stdout full or closed) after the model was saved: say both. */
    private static void checkReport(Console console, Path model) {
        StdoutFailure.check(console.out(), ": the report is lost, but the model was saved to " + model);
    }

    private static int finish(InvalidInputException plotError) {
        if (plotError != null) {
            throw plotError;
        }
        return Main.OK;
    }

    /** A count option that also takes {@code auto} (the default): {@link TrainOptions#AUTO}. */
    static int countOrAuto(Args args, String name) {
        String v = args.value(name, "auto");
        if (v.trim().equals("auto")) {
            return TrainOptions.AUTO;
        }
        try {
            return args.intValue(name, TrainOptions.AUTO, 1, 1_000_000);
        } catch (UsageException e) {
            throw new UsageException(e.getMessage() + " (or auto, the default)");   // else 0 reads as the way to it
        }
    }

    static void printGrid(PrintStream p, RhoSearch.Result s) {
        p.printf(Locale.ROOT, "rho auto: validation deferral loss per grid point (each warm-started from the uniform-margin"
                + " base, %d epochs; base best epoch %d):%n", s.searchEpochs(), s.base().bestEpoch());
        String loss = Figures.pattern(0, s.grid().stream().mapToDouble(RhoSearch.Point::validLoss).toArray());
        int width = String.format(Locale.ROOT, loss, 0.0).length() + 2; // a space before, the mark after
        loss = "%" + (width - 1) + loss.substring(1);
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-22s", "mean margin \\ gamma"));
        for (double g : RhoSearch.TILTS) {
            head.append(String.format(Locale.ROOT, "%" + width + "s", Reports.fraction(g)));
        }
        p.println(head);
        int i = 0;
        for (double m : s.meanMargins()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-22s", Reports.fraction(m)));
            for (int g = 0; g < RhoSearch.TILTS.length; g++) {
                RhoSearch.Point pt = s.grid().get(i++);
                row.append(String.format(Locale.ROOT, loss + "%s", pt.validLoss(), pt == s.chosen() ? "*" : " "));
            }
            p.println(row);
        }
        p.printf(Locale.ROOT, "  chosen (*): mean margin %s, gamma %s -> rho %s%n", Reports.fraction(s.chosen().meanMargin()),
                Reports.fraction(s.chosen().gamma()), Reports.rho(s.chosen().rho()));
        if (s.baseKept()) {
            p.printf(Locale.ROOT, "  trained from scratch there it scored %s on validation, above the base's %s:"
                    + " the base (uniform margins 1, TDEF's) is the final model%n", Figures.of(s.rejectedValidLoss()),
                    Figures.of(s.base().bestValidLoss()));
        }
        Reports.Note note = Reports.edgeNote(s);
        if (note != null) {
            note.print(p);
        }
    }

    /** {@code --rho-grid}'s mean margins as given, or null when not given; a bad item is a usage error. */
    static double[] rhoGrid(Args args) {
        try {
            return args.value("rho-grid") == null ? null : RhoSearch.parseMeanMargins(args.value("rho-grid"));
        } catch (InvalidInputException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /**
     * The options shared by train and demo-like callers, checked ({@link RouterTraining.Spec#check}) before any
     * file is read. The loss's own options stay null when not given, so that one the loss does not use is refused.
     */
    static RouterTraining.Spec spec(Args args) {
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.loss = Surrogate.Kind.byName(args.value("loss", "mild"));
        s.rho = args.value("rho");
        s.rhoMean = args.optionalDouble("rho-mean", 1e-6, 1e6);
        try {
            // 1 and up: 0 was silently taken as the default, which is had by leaving the option out.
            s.searchEpochs = args.optionalInt("search-epochs", 1, 100_000);
        } catch (UsageException e) {
            throw new UsageException(e.getMessage() + " (leave --search-epochs out for the default: about "
                    + RhoSearch.SEARCH_STEPS + " optimizer steps per grid point)");
        }
        s.rhoGrid = rhoGrid(args);
        if (args.value("rewards") != null) {
            s.rewards = Rewards.byName(args.value("rewards"));
        }
        s.nu = args.optionalDouble("nu", 0, 100);
        if (args.value("experts") != null) {
            s.experts = ExpertSetup.Source.simulated(args.value("experts"));
        }
        if (args.value("blocks") != null) {
            s.blocks = ints("blocks", args.value("blocks"), 1);
        }
        if (args.value("beta") != null) {
            s.beta = doubles("beta", args.value("beta"));
        }
        s.coverage = args.flag("coverage");
        s.costNoise = args.doubleValue("cost-noise", 0, 0, 1e6);
        if (args.value("scale") != null) {
            s.scaling = Standardizer.Scaling.byName(args.value("scale"));
        }
        s.validFraction = args.optionalDouble("valid-fraction", 0, 0.99);
        s.testFraction = args.optionalDouble("test-fraction", 0, 0.99);
        s.backend = args.value("backend");
        int threads = args.intValue("threads", 0, 0, KernelOptions.MAX_THREADS);
        String hidden = args.value("hidden", "64");
        TrainOptions o = TrainOptions.DEFAULT
                .withHidden(hidden.equals("none") ? new int[0] : ints("hidden", hidden, 1))
                .withOptimizer(Adam.Kind.byName(args.value("optimizer", TrainOptions.DEFAULT.optimizer().label())))
                .withLr(args.doubleValue("lr", 1e-3, 1e-12, 1e3))
                .withWeightDecay(args.doubleValue("weight-decay", 1e-3, 0, 1e3))
                .withBatch(args.intValue("batch", 1024, 1, 1 << 24))
                .withEpochs(countOrAuto(args, "epochs"))
                .withPatience(countOrAuto(args, "patience"))
                .withSeed(args.intValue("seed", 1, Integer.MIN_VALUE, Integer.MAX_VALUE))
                .withThreads(threads == 0 ? Runtime.getRuntime().availableProcessors() : threads);
        s.options = o;
        try {
            s.check();
        } catch (InvalidInputException e) {
            throw new UsageException(e.getMessage());   // an option error: worded as one, with the pointer to --help
        }
        return s;
    }

    static int[] ints(String option, String v, int min) {
        String[] parts = CommaList.items(option, v);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Decimal.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new UsageException(Decimal.isWholeNumber(parts[i])
                        ? "--" + option + ": every value must be between " + min + " and " + Integer.MAX_VALUE
                                + ", got \"" + v + "\""
                        : "--" + option + " takes whole numbers separated by commas, got \"" + v + "\"");
            }
            if (out[i] < min) {
                throw new UsageException("--" + option + ": every value must be >= " + min + ", got \"" + v + "\"");
            }
        }
        return out;
    }

    static double[] doubles(String option, String v) {
        String[] parts = CommaList.items(option, v);
        double[] out = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Decimal.parseDouble(parts[i]);
            } catch (NumberFormatException e) {
                throw new UsageException("--" + option + " takes numbers separated by commas, got \"" + v + "\"");
            }
        }
        return out;
    }

    private static String json(RouterTraining.Outcome o, RouterTraining.Spec spec, Path out, double seconds) {
        List<String> experts = o.model().expertNames();
        StringBuilder sb = new StringBuilder("{");
        sb.append("\"model\": ").append(JsonOut.quote(out.toString()));
        sb.append(", \"experts\": ").append(Reports.list(experts));
        sb.append(", \"setup\": ").append(JsonOut.quote(o.model().experts().describe()));
        sb.append(", \"loss\": ").append(JsonOut.quote(spec.loss.label()));
        sb.append(", \"surrogate\": ").append(JsonOut.quote(o.surrogate().toString()));
        sb.append(", \"rhoRule\": ").append(JsonOut.quote(spec.rhoRule()));
        sb.append(", \"scale\": ").append(JsonOut.quote(spec.scaling.label));
        sb.append(", \"rho\": ").append(o.rho() == null ? "null" : JsonOut.array(o.rho()));
        sb.append(", \"trainRows\": ").append(o.trainRows());
        sb.append(", \"validRows\": ").append(o.validRows());
        sb.append(", \"testRows\": ").append(o.testRows());
        sb.append(", \"trainOracleRatios\": ").append(Reports.shares(experts, o.trainOracle()));
        if (o.search() != null) {
            RhoSearch.Result s = o.search();
            sb.append(", \"search\": {\"searchEpochs\": ").append(s.searchEpochs()).append(", \"grid\": [");
            for (int i = 0; i < s.grid().size(); i++) {
                RhoSearch.Point pt = s.grid().get(i);
                sb.append(i == 0 ? "" : ", ").append(point(pt));
            }
            sb.append("], \"chosen\": ").append(point(s.chosen()));
            sb.append(", \"baseValidDeferralLoss\": ").append(JsonOut.number(s.base().bestValidLoss()));
            sb.append(", \"baseKept\": ").append(s.baseKept());
            sb.append(", \"meanMargins\": ").append(JsonOut.array(s.meanMargins()));
            sb.append(", \"chosenAtEdge\": ").append(s.chosenAtEdge());
            sb.append(", \"rejectedValidDeferralLoss\": ").append(JsonOut.number(s.rejectedValidLoss())).append('}');
        }
        sb.append(", \"training\": ").append(Reports.json(o.training()));
        sb.append(", \"valid\": ").append(Reports.json(o.valid(), experts));
        sb.append(", \"test\": ").append(o.test() == null ? "null" : Reports.json(o.test(), experts));
        List<Reports.Note> notes = new ArrayList<>();
        if (o.search() != null) {
            Reports.addIfAny(notes, Reports.edgeNote(o.search()));
        }
        notes.addAll(resultNotes(o));
        sb.append(", \"notes\": ").append(Reports.json(notes));
        sb.append(", \"seconds\": ").append(JsonOut.number(Math.round(seconds * 100) / 100.0));
        return sb.append('}').toString();
    }

    /** The notes under the tables, in the order they are printed; --json has them too. */
    private static List<Reports.Note> resultNotes(RouterTraining.Outcome o) {
        Map<String, Evaluation.Result> splits = new LinkedHashMap<>();
        splits.put("validation", o.valid());
        if (o.test() != null) {
            splits.put("test", o.test());
        }
        List<Reports.Note> notes = Reports.resultNotes(o.model().expertNames(), splits);
        Reports.addIfAny(notes, Reports.stillImproving(o.training()));
        return notes;
    }

    private static String point(RhoSearch.Point pt) {
        return "{\"meanMargin\": " + JsonOut.number(pt.meanMargin()) + ", \"gamma\": " + JsonOut.number(pt.gamma())
                + ", \"rho\": " + JsonOut.array(pt.rho()) + ", \"validDeferralLoss\": " + JsonOut.number(pt.validLoss()) + "}";
    }

    /** Whether two paths name one file (false when either cannot be looked up; reading it will say why). */
    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }
}
