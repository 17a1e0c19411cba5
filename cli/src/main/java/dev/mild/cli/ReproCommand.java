package dev.mild.cli;

import dev.mild.InvalidInputException;
import dev.mild.data.DataFiles;
import dev.mild.data.Dataset;
import dev.mild.defer.Surrogate;
import dev.mild.io.CommaList;
import dev.mild.io.JsonOut;
import dev.mild.router.Adam;
import dev.mild.router.ExpertSetup;
import dev.mild.router.RhoSearch;
import dev.mild.router.RouterTraining;
import dev.mild.router.TrainOptions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code ./mild repro}: the MILD paper's image protocol (App. C.1) on Fashion-MNIST: setups I (7/2/1), II
 * (5/2/2/1), III (4/2/2/1/1) and the severe imbalance of App. C.3 (9/1), synthetic or trained experts, costs
 * (a) error and (b) error + coverage, optionally Gaussian noise on the training costs (sec. 6.2), TDEF vs MILD
 * (rho auto), several seeds, mean and standard deviation of the test deferral loss and the mean shares.
 */
final class ReproCommand implements Command {
    static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";

    record Setup(String name, int[] blocks) {
    }

    static final List<Setup> SETUPS = List.of(new Setup("I", new int[] {7, 2, 1}),
            new Setup("II", new int[] {5, 2, 2, 1}), new Setup("III", new int[] {4, 2, 2, 1, 1}),
            new Setup("severe", new int[] {9, 1}));

    @Override
    public String name() {
        return "repro";
    }

    @Override
    public String summary() {
        return "the MILD paper's protocol on Fashion-MNIST: setups I/II/III/severe, costs (a)/(b), TDEF vs MILD, seeds";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild repro [--quick] [--dir DIR] [--setups I,II,III,severe] [--costs a,b]
                                    [--experts synthetic|trained] [--cost-noise S] [--seeds N]
                                    [--train-rows N] [--epochs N] [--optimizer adam|adamw]
                                    [--rho-grid M1,M2,..] [--json]

                Reruns the MILD paper's image experiments (App. C.1) with this engine on Fashion-MNIST
                (Debian's dataset-fashion-mnist). Expert k owns a block of the 10 classes. Setups: I = 7/2/1
                (3 experts), II = 5/2/2/1, III = 4/2/2/1/1, severe = 9/1 (one expert owns 90%% of the
                classes; the paper's App. C.3 runs it with trained experts and cost (a) only:
                --setups severe --experts trained --costs a). Experts: synthetic (always right on their
                block, a uniform guess elsewhere) or trained (a classifier trained on its block plus 1%%
                of the other classes, the paper's real experts). Costs: (a) error, (b) error + coverage
                (each expert's block share). For every setup, cost and seed it trains TDEF and MILD (rho
                auto) on the training images (10%% held out for validation) and evaluates on the 10,000
                test images.

                Output: one line per run, then a table per setup and cost: test deferral loss as mean +- the
                sample standard deviation (n - 1) over the seeds (lower is better), the mean share of test
                rows per expert, and the oracle's. A run whose rho auto search chose the grid's smallest or
                largest mean margin is marked "(the grid's edge)", and a note after the table counts those
                seeds and suggests a wider --rho-grid: the best mean margin may lie beyond the edge.
                The paper's claim: MILD's loss is lower than TDEF's and its shares are closer to the oracle's.

                Options:
                  --quick         a few minutes: setup I, both costs, 2 seeds, 12000 training images,
                                  at most 30 epochs
                  --dir DIR       where the IDX files are (default %s)
                  --setups LIST   which setups (default I,II,III)
                  --costs LIST    a, b or both (default a,b)
                  --experts KIND  synthetic (default) or trained
                  --cost-noise S  Gaussian noise of std S added to the training costs only (the paper's
                                  robustness test uses 0.2); validation and test costs stay exact
                  --seeds N       seeds 1..N (default 5)
                  --train-rows N  use a seeded sample of N training images, at most all of them
                                  (default: all 60000)
                  --epochs N      most epochs per training (default 100; early stopping after 10
                                  epochs without gain, the paper's schedule, not train's auto)
                  --optimizer adam|adamw
                                  adam (default; weight decay as an L2 term, what the paper's image
                                  experiments used) or adamw (decoupled weight decay)
                  --rho-grid M1,M2,..
                                  the mean margins (rho_bar / p) MILD's rho auto search tries in every
                                  run: comma-separated, each > 0, no repeats (default 0.125,0.25,0.5,1,2,
                                  as train; the tilts gamma stay). Each adds 5 short trainings per run.
                                  E.g. --rho-grid 0.125,0.25,0.5,1,2,4,8 when the note says the search
                                  chose the largest, 2
                  --json          one JSON object per setup and cost instead of tables: per-seed test
                                  losses, mean shares, the mean margins searched (meanMargins), and per
                                  seed what rho auto chose (mildSearch, with chosenAtEdge)

                Example:
                  ./mild repro --quick
                  ./mild repro --setups I --seeds 5        (full data; about 15 minutes on two cores)
                  ./mild repro --setups severe --costs a   (the severe imbalance)
                  ./mild repro --setups I --cost-noise 0.2 (noisy training costs)
                  ./mild repro --setups I --rho-grid 0.125,0.25,0.5,1,2,4,8   (a wider rho auto grid)
                """.formatted(DEFAULT_DIR);
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("dir", "setups", "costs", "experts", "cost-noise", "seeds", "train-rows", "epochs",
                "optimizer", "rho-grid");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("quick", "json");
    }

    /**
     * {@code dir/NAME.gz}, or {@code dir/NAME} unpacked when only that is there (train reads either, as does the
     * labels file beside it). Only the .gz was looked for: gunzipped files, or --dir naming a file, were "not found"
     * without saying which or why.
     */
    private static Path imagesFile(Path dir, String name) {
        String why = null;
        if (!Files.exists(dir)) {
            why = "there is no such directory";
        } else if (!Files.isDirectory(dir)) {
            why = "--dir names a file, not the directory that holds them";
        }
        Path gz = dir.resolve(name + ".gz");
        Path plain = dir.resolve(name);
        if (why == null && Files.exists(gz)) {
            return gz;
        }
        if (why == null && Files.exists(plain)) {
            return plain;
        }
        throw new InvalidInputException(dir + ": Fashion-MNIST IDX files not found: "
                + (why != null ? why : "no " + name + ".gz (nor " + name + " unpacked)")
                + " (train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz, each with its labels file beside it);"
                + " on Debian: apt-get install dataset-fashion-mnist");
    }

    @Override
    public int run(Args args, Console console) {
        args.positional(0, "no positional arguments");
        boolean quick = args.flag("quick");
        Path dir = Path.of(args.value("dir", DEFAULT_DIR));
        List<Setup> setups = new ArrayList<>();
        List<String> setupNames = new ArrayList<>();
        for (String s : CommaList.items("setups", args.value("setups", quick ? "I" : "I,II,III"))) {
            setups.add(SETUPS.stream().filter(x -> x.name.equals(s)).findFirst()
                    .orElseThrow(() -> new UsageException("--setups takes I, II, III and severe, got \"" + s + "\"")));
            onlyOnce("setups", setupNames, s, "setup");
        }
        List<String> costs = new ArrayList<>();
        for (String c : CommaList.items("costs", args.value("costs", "a,b"))) {
            if (!c.equals("a") && !c.equals("b")) {
                throw new UsageException("--costs takes a (error) and b (error + coverage), got \"" + c + "\"");
            }
            onlyOnce("costs", costs, c, "cost");
        }
        String expertsName = args.value("experts", "synthetic");
        ExpertSetup.Source experts = ExpertSetup.Source.simulated(expertsName);
        double costNoise = args.doubleValue("cost-noise", 0, 0, 1e6);
        int seeds = args.intValue("seeds", quick ? 2 : 5, 1, 1000);
        Integer givenTrainRows = args.optionalInt("train-rows", 1, Integer.MAX_VALUE);
        int trainRows = givenTrainRows != null ? givenTrainRows : quick ? 12000 : 0;   // 0: every training image
        int epochs = args.intValue("epochs", quick ? 30 : 100, 1, 100_000);
        Adam.Kind optimizer = Adam.Kind.byName(args.value("optimizer", TrainOptions.DEFAULT.optimizer().label()));
        double[] rhoGrid = TrainCommand.rhoGrid(args);   // null: the default grid; checked before any data is read
        double[] meanMargins = RhoSearch.checkMeanMargins(rhoGrid == null ? RhoSearch.MEAN_MARGINS : rhoGrid); // ascending
        boolean json = args.flag("json");
        PrintStream out = console.out();

        Path trainImages = imagesFile(dir, "train-images-idx3-ubyte");
        Path testImages = imagesFile(dir, "t10k-images-idx3-ubyte");
        DenseProducts.warmUpInBackground();
        Dataset train = DataFiles.read(trainImages);
        Dataset test = DataFiles.read(testImages);
        if (givenTrainRows != null && givenTrainRows > train.rows()) {
            // Read as "all of them" before, with nothing said: a run asked for 100000 rows was quietly one of 60000.
            throw new UsageException("--train-rows " + givenTrainRows + ": " + trainImages + " has " + train.rows()
                    + " training images; give at most " + train.rows() + ", or leave --train-rows out for all of them");
        }
        if (trainRows > 0 && trainRows < train.rows()) {
            int classes = train.labelCount();
            train = sample(train, trainRows);
            // The setups' class blocks come from the classes present: a sample missing one would shift them.
            boolean[] present = new boolean[classes];
            for (int y : train.labels()) {
                present[y] = true;
            }
            for (int c = 0; c < classes; c++) {
                if (!present[c]) {
                    throw new UsageException("--train-rows " + trainRows + ": the seeded sample has no image of class "
                            + c + " (of 0.." + (classes - 1) + "), so the setups' class blocks would not be the"
                            + " paper's: give more rows");
                }
            }
        }
        if (!json) {
            out.printf(Locale.ROOT, "Fashion-MNIST: %d training images (10%% for validation), %d test images; %s experts;"
                    + " %d seed(s), at most %d epochs, %s%s; MILD's rho auto grid: mean margins %s.%n%n", train.rows(),
                    test.rows(), expertsName, seeds, epochs, optimizer.label(),
                    costNoise > 0 ? String.format(Locale.ROOT, "; noise of std %s on the training costs",
                            costNoise) : "", Reports.decimals(meanMargins));
        }
        for (Setup setup : setups) {
            for (String cost : costs) {
                int p = setup.blocks.length;
                double[][] loss = new double[2][seeds];
                double[][] shares = new double[2][p];
                double[] oracle = new double[seeds];
                double[] oracleShares = new double[p];
                List<String> mildSearch = new ArrayList<>(); // per seed, what rho auto chose (JSON objects)
                List<RhoSearch.Result> searches = new ArrayList<>();
                String[] methods = {"TDEF", "MILD"};
                for (int s = 0; s < seeds; s++) {
                    for (int m = 0; m < 2; m++) {
                        RouterTraining.Spec spec = new RouterTraining.Spec();
                        spec.loss = m == 0 ? Surrogate.Kind.TDEF : Surrogate.Kind.MILD;
                        spec.experts = experts;
                        spec.blocks = setup.blocks;
                        spec.coverage = cost.equals("b");
                        spec.costNoise = costNoise;
                        if (spec.loss == Surrogate.Kind.MILD) {
                            spec.rhoGrid = rhoGrid;   // TDEF has fixed margins and refuses a grid
                        }
                        // The paper's schedule as such, epochs and patience 10 (not the automatic one of train).
                        spec.options = TrainOptions.DEFAULT.withSeed(s + 1).withEpochs(epochs)
                                .withPatience(TrainOptions.AUTO_PATIENCE).withOptimizer(optimizer)
                                .withThreads(Runtime.getRuntime().availableProcessors());
                        long t0 = System.nanoTime();
                        RouterTraining.Outcome o = RouterTraining.run(train, null, test, spec, RouterTraining.Listener.SILENT);
                        var r = o.test().report();
                        loss[m][s] = r.meanLoss();
                        for (int k = 0; k < p; k++) {
                            shares[m][k] += r.ratios()[k] / seeds;
                            if (m == 0) {
                                oracleShares[k] += r.oracleRatios()[k] / seeds;
                            }
                        }
                        oracle[s] = r.oracleLoss();
                        if (o.search() != null) {
                            RhoSearch.Result found = o.search();
                            searches.add(found);
                            mildSearch.add("{\"meanMargin\": " + JsonOut.number(found.chosen().meanMargin()) + ", \"gamma\": "
                                    + JsonOut.number(found.chosen().gamma()) + ", \"baseKept\": " + found.baseKept()
                                    + ", \"chosenAtEdge\": " + found.chosenAtEdge() + "}");
                        }
                        if (!json) {
                            out.printf(Locale.ROOT, "  setup %-3s cost (%s) seed %d %s: test deferral loss %.4f, shares %s (%.0f s%s)%n",
                                    setup.name, cost, s + 1, methods[m], r.meanLoss(), percents(r.ratios()),
                                    (System.nanoTime() - t0) / 1e9, o.search() == null ? "" : String.format(Locale.ROOT,
                                            "; rho auto: %s", Reports.searchChoice(o.search())));
                        }
                    }
                }
                if (json) {
                    out.println("{\"setup\": " + JsonOut.quote(setup.name) + ", \"cost\": " + JsonOut.quote(cost)
                            + ", \"experts\": " + JsonOut.quote(expertsName) + ", \"costNoise\": " + costNoise
                            + ", \"optimizer\": " + JsonOut.quote(optimizer.label())
                            + ", \"seeds\": " + seeds + ", \"tdef\": " + JsonOut.array(loss[0]) + ", \"mild\": "
                            + JsonOut.array(loss[1]) + ", \"oracle\": " + JsonOut.array(oracle) + ", \"tdefShares\": "
                            + JsonOut.array(shares[0]) + ", \"mildShares\": " + JsonOut.array(shares[1])
                            + ", \"oracleShares\": " + JsonOut.array(oracleShares)
                            + ", \"meanMargins\": " + JsonOut.array(meanMargins)
                            + ", \"mildSearch\": [" + String.join(", ", mildSearch) + "]}");
                    continue;
                }
                out.printf(Locale.ROOT, "%nSetup %s (%s), cost (%s) %s, %d seed(s), mean +- sample std (n - 1):%n", setup.name,
                        blocks(setup.blocks), cost, cost.equals("a") ? "error" : "error + coverage", seeds);
                out.printf(Locale.ROOT, "  %-8s %-19s %s%n", "", "deferral loss", "shares per expert");
                out.printf(Locale.ROOT, "  %-8s %-19s %s%n", "oracle", meanStd(oracle), percents(oracleShares));
                for (int m = 0; m < 2; m++) {
                    out.printf(Locale.ROOT, "  %-8s %-19s %s%n", methods[m], meanStd(loss[m]), percents(shares[m]));
                }
                String note = edgeNote(searches);
                if (note != null) {
                    out.println(note);
                }
                out.println();
            }
        }
        return Main.OK;
    }

    /**
     * The note after a setup and cost's table when MILD's search chose the grid's smallest or largest mean margin
     * in any seed, so that a better one may lie beyond it: in how many seeds, which edge (both when seeds differ),
     * how many of them won only by the tie rule (tying with a point inside the grid), and a grid widened past
     * each edge hit ({@link RhoSearch#widerMeanMargins(double[], boolean, boolean)}). Null when every seed's
     * choice was inside the grid.
     *
     * @param searches one per seed, all over the same mean margins
     */
    static String edgeNote(List<RhoSearch.Result> searches) {
        if (searches.isEmpty()) {
            return null;
        }
        double[] grid = searches.getFirst().meanMargins();
        int atSmallest = 0;
        int atLargest = 0;
        int byTie = 0;
        for (RhoSearch.Result s : searches) {
            if (!Arrays.equals(s.meanMargins(), grid)) {
                throw new IllegalArgumentException("the seeds' searches have different grids: " + Arrays.toString(grid)
                        + " and " + Arrays.toString(s.meanMargins()));
            }
            if (!s.chosenAtEdge()) {
                continue;
            }
            if (s.chosen().meanMargin() == grid[0]) {
                atSmallest++;
            } else {
                atLargest++;
            }
            if (s.interiorTie() != null) {
                byTie++;
            }
        }
        if (atSmallest + atLargest == 0) {
            return null;
        }
        String ofSeeds = " of " + searches.size() + (searches.size() == 1 ? " seed" : " seeds");
        String smallest = Reports.fraction(grid[0]);
        String largest = Reports.fraction(grid[grid.length - 1]);
        String where;
        if (atLargest == 0) {
            where = "the grid's smallest mean margin (" + smallest + ") in " + atSmallest + ofSeeds;
        } else if (atSmallest == 0) {
            where = "the grid's largest mean margin (" + largest + ") in " + atLargest + ofSeeds;
        } else {
            where = "the grid's largest mean margin (" + largest + ") in " + atLargest + " and its smallest ("
                    + smallest + ") in " + atSmallest + ofSeeds;
        }
        String tie = byTie == 0 ? "" : " (in " + byTie + " of them it tied on validation with a point inside the grid"
                + " and won by the tie rule)";
        String beyond = atLargest == 0 ? "below it" : atSmallest == 0 ? "above it" : "outside it";
        return "Note: MILD's search chose " + where + tie + "; a better one may lie " + beyond + ": try --rho-grid "
                + Reports.decimals(RhoSearch.widerMeanMargins(grid, atSmallest > 0, atLargest > 0));
    }

    static Dataset sample(Dataset d, int n) {
        int[] idx = new int[d.rows()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(2026);
        for (int i = idx.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int[] keep = Arrays.copyOf(idx, n);
        Arrays.sort(keep);
        int dim = d.d();
        float[] x = new float[n * dim];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(d.features(), keep[i] * dim, x, i * dim, dim);
            y[i] = d.labels()[keep[i]];
        }
        return new Dataset(d.source() + " (" + n + "-image sample)", d.featureNames(), x, n, y, List.of(), null, null, null);
    }

    /**
     * Adds {@code item} to {@code seen}, refusing a repeat as --rho-grid does: "--setups I,I" ran every seed of setup I
     * twice (minutes to hours) and printed its table twice.
     */
    private static void onlyOnce(String option, List<String> seen, String item, String what) {
        int first = seen.indexOf(item);
        if (first >= 0) {
            throw new UsageException("--" + option + ": item " + (seen.size() + 1) + " (" + item + ") repeats item "
                    + (first + 1) + " (" + item + "); give each " + what + " once");
        }
        seen.add(item);
    }

    /** Mean and sample standard deviation (n - 1; 0 for one value) of the per-seed values. */
    static String meanStd(double[] v) {
        double mean = Arrays.stream(v).average().orElse(0);
        double var = 0;
        for (double x : v) {
            var += (x - mean) * (x - mean);
        }
        double std = v.length > 1 ? Math.sqrt(var / (v.length - 1)) : 0;
        return String.format(Locale.ROOT, "%.4f +- %.4f", mean, std);
    }

    static String percents(double[] r) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < r.length; k++) {
            sb.append(k == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.1f%%", 100 * r[k]));
        }
        return sb.toString();
    }

    static String blocks(int[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < b.length; i++) {
            sb.append(i == 0 ? "" : "/").append(b[i]);
        }
        return sb.toString();
    }
}
