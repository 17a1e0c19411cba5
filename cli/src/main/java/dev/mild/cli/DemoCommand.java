package dev.mild.cli;

import dev.mild.data.Dataset;
import dev.mild.data.Generated;
import dev.mild.defer.Deferral;
import dev.mild.defer.Rewards;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.io.GoldenCheck;
import dev.mild.loss.Backends;
import dev.mild.loss.GradientError;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.router.ExpertSetup;
import dev.mild.router.RouterTraining;
import dev.mild.router.TrainOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code ./mild demo}: the README's main job. Trains a router with MILD and with TDEF on an embedded generated
 * problem (10 classes, three synthetic experts in blocks 7/2/1, error + coverage costs) and prints both next to
 * the oracle. {@code --family} adds the loss-family check: every loss on every backend vs the float64 reference.
 */
final class DemoCommand implements Command {
    /** Cluster separation of the generated problem: classes overlap, so routing is not trivial. */
    static final double SEPARATION = 1.5;
    static final int DIMENSIONS = 8;

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "train MILD and TDEF routers on a generated 7/2/1 problem and compare them with the oracle";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild demo [--rows N] [--seed S] [--epochs N] [--rho-grid M1,M2,..] [--family]

                A self-contained tour, no data needed (under a minute on two cores). It generates a
                10-class problem (Gaussian clusters in 8 dimensions that overlap a little) with three
                experts in the MILD paper's setup "7/2/1": expert 1 is always right on classes 0-6, expert 2
                on 7-8, expert 3 on 9, and each guesses uniformly elsewhere. Routing to expert k costs its
                error (0 or 1) plus a coverage price 0.7 / 0.2 / 0.1, so the cheap experts should get the
                rows they are right on, and expert 1 is best for most rows (the imbalance MILD is built for).

                It trains two routers (the same small network, seed and data): TDEF, the two-stage baseline
                (all margins 1), and MILD with margins chosen by ./mild train's default search (rho auto:
                each mean margin of the grid with each tilt gamma, from 0, equal margins, to 1, the
                paper's theory margins; the best on validation wins, and mean margin 1 with gamma 0 is
                TDEF's training. A note says when it chose the grid's smallest or largest mean margin,
                where a better one may lie beyond it, and suggests a wider --rho-grid).
                Then, on held-out test rows:
                  deferral loss   the mean cost of the expert each router picks (lower is better)
                  shares          the share of rows sent to each expert
                  oracle          knows every cost, including which guesses happen to be right; no router
                                  can match it here
                  class-aware     sends each row to the expert of its class block: the best a router that
                                  recognized every class perfectly could do (0.7^2 + 0.2^2 + 0.1^2 = 0.54)

                Options:
                  --rows N    rows to generate (default 10000; 70% train, 10% validation, 20% test)
                  --seed S    random seed for the data, the split and the training (default 1)
                  --epochs N  most epochs per training (default auto, as ./mild train: 100, or 4000
                              optimizer steps on small data; early stopping after 10 epochs or 400
                              steps without gain)
                  --rho-grid M1,M2,..
                              the mean margins MILD's search tries, as ./mild train's option
                              (default 0.125,0.25,0.5,1,2), e.g. --rho-grid 0.125,0.25,0.5,1,2,4,8
                  --family    also check the whole loss family (mild, compsum, tdef, realizable-log,
                              realizable-mae, ce, cwce, ldam) on every backend against the float64
                              reference, on the same costs with random scores; ./mild golden checks the
                              backends against independently computed values

                Example:
                  ./mild demo
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("rows", "seed", "epochs", "rho-grid");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("family");
    }

    @Override
    public int run(Args args, Console console) {
        args.positional(0, "no positional arguments");
        int rows = args.intValue("rows", 10000, 50, 5_000_000);
        int seed = args.intValue("seed", 1, Integer.MIN_VALUE, Integer.MAX_VALUE);
        int epochs = TrainCommand.countOrAuto(args, "epochs");
        double[] rhoGrid = TrainCommand.rhoGrid(args);   // null: the default grid
        PrintStream out = console.out();
        int[] blocks = {7, 2, 1};
        Dataset data = Generated.clusters(rows, 10, DIMENSIONS, SEPARATION, seed);
        out.printf(Locale.ROOT, "Generated %d rows: 10 classes (Gaussian clusters in %d dimensions), seed %d.%n", rows,
                DIMENSIONS, seed);
        out.println("3 synthetic experts in blocks 7/2/1 (always right on their classes, guessing elsewhere);");
        out.println("cost = error + coverage price 0.7 / 0.2 / 0.1.");
        out.println();

        RouterTraining.Outcome tdef = train(data, Surrogate.Kind.TDEF, null, blocks, seed, epochs, out, "TDEF (margins 1)");
        RouterTraining.Outcome mild = train(data, Surrogate.Kind.MILD, rhoGrid, blocks, seed, epochs, out, "MILD (rho auto)");
        out.printf(Locale.ROOT, "  MILD's search chose %s: rho = %s%n", Reports.searchChoice(mild.search()),
                Reports.rho(mild.rho()));
        if (mild.search() != null && (mild.search().chosen().isUniformOne() || mild.search().baseKept())) {
            // Otherwise a newcomer sees two identical rows below and wonders what MILD did.
            out.println("  These are TDEF's margins (no other grid point did better on validation), so MILD's router");
            out.println("  is TDEF's here; README.md, \"Measured results\", has data where the margins help.");
        }
        Reports.Note note = Reports.edgeNote(mild.search());
        if (note != null) {
            note.print(out);
        }
        out.println();

        List<String> experts = mild.model().expertNames();
        var test = mild.test().report();
        out.printf(Locale.ROOT, "Test rows (%d):%n", mild.testRows());
        List<Reports.Line> lines = new ArrayList<>();
        lines.add(new Reports.Line("oracle", test.oracleLoss(), test.oracleRatios()));
        lines.add(classAware(mild, data, blocks, seed));
        lines.add(new Reports.Line("TDEF", tdef.test().report().meanLoss(), tdef.test().report().ratios()));
        lines.add(new Reports.Line("MILD", test.meanLoss(), test.ratios()));
        Reports.table(out, experts, lines);
        out.println();
        out.println("Train on your own data with ./mild train (see ./mild train --help and README.md).");
        if (!args.flag("family")) {
            out.println("The loss-family check against the float64 reference: ./mild demo --family, or ./mild golden.");
            return Main.OK;
        }
        out.println();
        return family(out, rows, seed) ? Main.OK : Main.CHECK_FAILED;
    }

    /** {@code rhoGrid}: the mean margins of MILD's search, or null for the default (TDEF's must be null). */
    private static RouterTraining.Outcome train(Dataset data, Surrogate.Kind loss, double[] rhoGrid, int[] blocks,
                                                int seed, int epochs, PrintStream out, String label) {
        RouterTraining.Spec spec = new RouterTraining.Spec();
        spec.loss = loss;
        spec.rhoGrid = rhoGrid;
        spec.experts = ExpertSetup.Source.SYNTHETIC;
        spec.blocks = blocks;
        spec.coverage = true;
        spec.options = TrainOptions.DEFAULT.withSeed(seed).withEpochs(epochs)
                .withThreads(Runtime.getRuntime().availableProcessors());
        long t0 = System.nanoTime();
        RouterTraining.Outcome o = RouterTraining.run(data, null, null, spec, RouterTraining.Listener.SILENT);
        out.printf(Locale.ROOT, "Trained %-17s in %5.1f s (best epoch %d; validation deferral loss %.4f)%n", label,
                (System.nanoTime() - t0) / 1e9, o.training().bestEpoch(), o.valid().report().meanLoss());
        return o;
    }

    /** The deferral loss of sending each test row to the expert owning its class block. */
    private static Reports.Line classAware(RouterTraining.Outcome o, Dataset data, int[] blocks, int seed) {
        int[] owner = ExpertSetup.classBlocks(10, blocks);
        RouterTraining.Spec defaults = new RouterTraining.Spec();   // train() keeps the default fractions
        int[][] split = RouterTraining.split(data.rows(), defaults.validFraction(), defaults.testFraction(), seed);
        ExpertSetup setup = o.model().experts();
        double[] costs = setup.errorCosts(data.labels(), setup.syntheticPredictions(data.labels(), ExpertSetup.STREAM_DATA));
        int p = setup.experts();
        int[] choice = new int[split[2].length];
        double sum = 0;
        for (int i = 0; i < choice.length; i++) {
            int row = split[2][i];
            choice[i] = owner[data.labels()[row]];
            sum += costs[row * p + choice[i]];
        }
        return new Reports.Line("class-aware", sum / choice.length, Deferral.ratios(choice, p));
    }

    /** Every loss of the family on every backend vs the float64 reference; true when all are within tolerance. */
    private static boolean family(PrintStream out, int rows, long seed) {
        int p = 3;
        double[] coverage = {0.7, 0.2, 0.1};
        int[] blockEnd = {7, 9, 10};
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] costs = new double[rows * p];
        float[] scores = new float[rows * p];
        for (int i = 0; i < rows; i++) {
            int label = rnd.nextInt(10);
            for (int k = 0; k < p; k++) {
                int blockStart = k == 0 ? 0 : blockEnd[k - 1];
                boolean own = label >= blockStart && label < blockEnd[k];
                boolean right = own || rnd.nextInt(10) == label;
                costs[i * p + k] = (right ? 0.0 : 1.0) + coverage[k];
                scores[i * p + k] = (float) rnd.nextGaussian();
            }
        }
        int[] oracle = Deferral.oracleLabels(costs, rows, p);
        int[] counts = Deferral.counts(oracle, p);
        double[] unitNorms = new double[rows];
        Arrays.fill(unitNorms, 1.0);
        double[] theory = Rho.theory(oracle, unitNorms, p, p);

        List<Surrogate> family = List.of(
                Surrogate.mild(theory),
                Surrogate.compSum(theory, 0.5, Rewards.SUM_OTHERS),
                Surrogate.tdef(p),
                Surrogate.realizableLog(p),
                Surrogate.realizableMae(p),
                Surrogate.ce(p),
                Surrogate.cwce(counts),
                Surrogate.ldam(counts, 1.0, 0.5));

        out.printf(Locale.ROOT, "Loss family on %d rows of random scores (theory margins rho = %s):%n", rows,
                Reports.rho(theory));
        out.println("  lossRelErr: worst per-row error vs the float64 reference, relative to max(1, sum_k |w_k Phi_k|)");
        out.println("  (the row's terms: |loss| when no weight is negative);");
        out.println("  gradErr, gradTermErr: worst gradient error relative to the largest gradient, and to the largest");
        out.println("  sum of |terms| of an entry (ok when either is within its bound; both over the first call");
        out.println("  and the last timed one); ns/row: one forward+backward, median of " + TIMED_CALLS + " calls once"
                + " warmed up");
        out.println("  on all cores (for speed figures to compare: ./mild throughput, or the JMH benchmarks in bench/).");
        out.printf(Locale.ROOT, "%-15s %-10s %12s %11s %11s %11s %9s %s%n", "loss", "backend", "mean loss",
                "lossRelErr", "gradErr", "gradTermErr", "ns/row", "");

        List<String> backends = new ArrayList<>(Backends.availableNames());
        backends.remove(ReferenceKernel.NAME);
        boolean allOk = true;
        float[] weights = new float[rows * p];
        double[] scores64 = GoldenCheck.toDouble(scores);
        for (Surrogate s : family) {
            s.weights(costs, rows, weights);
            double[] weights64 = GoldenCheck.toDouble(weights);
            double[] refLoss = new double[rows];
            double[] refGrad = new double[rows * p];
            double[] refTermSize = new double[rows];
            double[] refGradTermSize = new double[rows * p];
            double refMean = ReferenceKernel.evaluate(s.config(), rows, scores64, weights64, refLoss, refGrad,
                    refTermSize, refGradTermSize);
            double[] refLossAgain = new double[rows];
            double[] refGradAgain = new double[rows * p];
            double refNs = medianNanos(() -> ReferenceKernel.evaluate(s.config(), rows, scores64, weights64,
                    refLossAgain, refGradAgain));
            out.printf(Locale.ROOT, "%-15s %-10s %12.6f %11s %11s %11s %9.1f %s%n", s.kind().label(),
                    ReferenceKernel.NAME, refMean, "(truth)", "(truth)", "(truth)", refNs / rows, "");
            for (String name : backends) {
                try (LossKernel kernel = Backends.open(name, KernelOptions.DEFAULT)) {
                    float[] loss = new float[rows];
                    float[] grad = new float[rows * p];
                    double mean = kernel.lossAndGradient(s.config(), rows, scores, 0, weights, 0, loss, 0, grad, 0);
                    double le = GoldenCheck.lossRelErr(GoldenCheck.toDouble(loss), refLoss, refTermSize);
                    GradientError ge = GradientError.of(GoldenCheck.toDouble(grad), refGrad, refGradTermSize);
                    // Timed on the same arrays, so the last call's output is checked too: compiled code must
                    // agree with the reference as well as the interpreted first call.
                    double ns = medianNanos(() -> kernel.lossAndGradient(s.config(), rows, scores, 0, weights, 0, loss, 0,
                            grad, 0));
                    le = Math.max(le, GoldenCheck.lossRelErr(GoldenCheck.toDouble(loss), refLoss, refTermSize));
                    ge = ge.max(GradientError.of(GoldenCheck.toDouble(grad), refGrad, refGradTermSize));
                    boolean ok = kernel.tolerance().accepts(le, ge);
                    allOk &= ok;
                    out.printf(Locale.ROOT, "%-15s %-10s %12.6f %11.2e %11.2e %11.2e %9.1f %s%n", "", name, mean, le,
                            ge.normwise(), ge.termwise(), ns / rows, ok ? "ok" : "OUTSIDE TOLERANCE");
                }
            }
        }
        return allOk;
    }

    /** Calls timed for each figure of the family table, once the JIT has settled. */
    private static final int TIMED_CALLS = 9;

    /** Median nanoseconds of one call, after {@link Timing#warmUp} (a cold call measures the interpreter). */
    private static double medianNanos(Runnable call) {
        Timing.warmUp(call);
        long[] ns = new long[TIMED_CALLS];
        for (int i = 0; i < ns.length; i++) {
            long t0 = System.nanoTime();
            call.run();
            ns[i] = System.nanoTime() - t0;
        }
        Arrays.sort(ns);
        return ns[ns.length / 2];
    }
}
