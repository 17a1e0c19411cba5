package dev.mild.cli;

import dev.mild.defer.Deferral;
import dev.mild.defer.Rewards;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.io.GoldenCheck;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code ./mild demo}: the README's main job. Builds a generated 10-class problem with three experts in
 * blocks 7/2/1 and error + coverage costs, then evaluates every loss of the family on every backend and
 * compares each with the float64 reference.
 */
final class DemoCommand implements Command {
    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "evaluate the whole loss family on generated data with every backend (no download)";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild demo [--rows N] [--seed S]

                A self-contained tour, no data needed. It generates a 10-class problem with three experts
                in the paper's setup "7/2/1": expert 1 is always right on classes 0-6, expert 2 on 7-8,
                expert 3 on 9, and each guesses uniformly elsewhere. Routing to expert k costs its error
                (0 or 1) plus a coverage price 0.7 / 0.2 / 0.1. Scores of an untrained router are random.

                For every surrogate loss of the family (mild with theory margins, compsum, tdef,
                realizable-log, realizable-mae, ce, cwce, ldam) and every usable backend it prints:
                  mean loss   the surrogate loss averaged over rows
                  lossRelErr  worst per-row error vs the float64 reference, relative to max(1, |loss|)
                  gradErr     worst gradient error vs the reference, relative to the largest gradient
                  ns/row      time of one forward+backward pass per row (one call, not a benchmark)
                It ends with the oracle: the deferral loss of always picking the cheapest expert, and the
                share of rows each expert gets (the imbalance MILD is built for).

                Options:
                  --rows N   rows to generate (default 20000)
                  --seed S   random seed (default 1)

                Example:
                  ./mild demo
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("rows", "seed");
    }

    @Override
    public int run(Args args, Console console) {
        args.positional(0, "no positional arguments");
        int rows = args.intValue("rows", 20000, 1, 5_000_000);
        long seed = args.intValue("seed", 1, Integer.MIN_VALUE, Integer.MAX_VALUE);
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
        java.util.Arrays.fill(unitNorms, 1.0);
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

        var out = console.out();
        out.printf(Locale.ROOT, "Generated %d rows, 3 experts (blocks 7/2/1, error + coverage 0.7/0.2/0.1), seed %d.%n",
                rows, seed);
        out.printf(Locale.ROOT, "MILD theory margins (rho_bar = p, unit norms): rho = [%.3f, %.3f, %.3f]%n%n",
                theory[0], theory[1], theory[2]);
        out.printf(Locale.ROOT, "%-15s %-10s %12s %11s %11s %9s %s%n", "loss", "backend", "mean loss",
                "lossRelErr", "gradErr", "ns/row", "");

        List<String> backends = new ArrayList<>(Backends.availableNames());
        backends.remove(ReferenceKernel.NAME);
        boolean allOk = true;
        float[] weights = new float[rows * p];
        double[] scores64 = new double[rows * p];
        double[] weights64 = new double[rows * p];
        for (int i = 0; i < scores.length; i++) {
            scores64[i] = scores[i];
        }
        for (Surrogate s : family) {
            s.weights(costs, rows, weights);
            for (int i = 0; i < weights.length; i++) {
                weights64[i] = weights[i];
            }
            double[] refLoss = new double[rows];
            double[] refGrad = new double[rows * p];
            long t0 = System.nanoTime();
            double refMean = ReferenceKernel.evaluate(s.config(), rows, scores64, weights64, refLoss, refGrad);
            long refNs = System.nanoTime() - t0;
            String label = s.kind().label();
            out.printf(Locale.ROOT, "%-15s %-10s %12.6f %11s %11s %9.1f %s%n", label, ReferenceKernel.NAME, refMean,
                    "(truth)", "(truth)", (double) refNs / rows, "");
            for (String name : backends) {
                try (LossKernel kernel = Backends.open(name, KernelOptions.DEFAULT)) {
                    float[] loss = new float[rows];
                    float[] grad = new float[rows * p];
                    long s0 = System.nanoTime();
                    double mean = kernel.lossAndGradient(s.config(), rows, scores, 0, weights, 0, loss, 0, grad, 0);
                    long ns = System.nanoTime() - s0;
                    double le = GoldenCheck.lossRelErr(toDouble(loss), refLoss);
                    double ge = GoldenCheck.gradErr(toDouble(grad), refGrad);
                    boolean ok = kernel.tolerance().accepts(le, ge);
                    allOk &= ok;
                    out.printf(Locale.ROOT, "%-15s %-10s %12.6f %11.2e %11.2e %9.1f %s%n", "", name, mean, le, ge,
                            (double) ns / rows, ok ? "ok" : "OUTSIDE TOLERANCE");
                }
            }
        }
        Deferral.Report oracleReport = Deferral.evaluate(scores, costs, rows, p);
        out.printf(Locale.ROOT, "%nOracle (cheapest expert per row): deferral loss %.4f, shares %s%n",
                oracleReport.oracleLoss(), percent(oracleReport.oracleRatios()));
        out.printf(Locale.ROOT, "Random router (argmax of the random scores): deferral loss %.4f, shares %s%n",
                oracleReport.meanLoss(), percent(oracleReport.ratios()));
        out.println("The router trainer (./mild train) turns these losses into a router; see README.md.");
        return allOk ? Main.OK : Main.CHECK_FAILED;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private static String percent(double[] r) {
        StringBuilder sb = new StringBuilder("[");
        for (int k = 0; k < r.length; k++) {
            sb.append(k == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f%%", 100 * r[k]));
        }
        return sb.append(']').toString();
    }
}
