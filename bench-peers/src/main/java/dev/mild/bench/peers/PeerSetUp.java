package dev.mild.bench.peers;

import dev.mild.bench.BenchParams;
import dev.mild.io.GoldenCheck;
import dev.mild.loss.RandomBatch;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import java.util.Arrays;
import java.util.Locale;

/**
 * What every peer benchmark does before it measures: check each candidate formulation against the float64
 * reference on the whole benchmark batch (only equal computations are compared), then time the candidates in
 * alternating rounds and measure the faster, so that each peer gets its best formulation for every configuration.
 */
final class PeerSetUp {
    private PeerSetUp() {
    }

    /**
     * The batch every peer measures, the one {@code LossThroughputBenchmark} gives our backends: MILD's logsumexp
     * member ({@code nu = 1}, no additive margins), the only one the peers' formulas compute.
     */
    static RandomBatch data(int batch, int experts, boolean equalRho) {
        BenchParams.rows("batch", batch);
        RandomBatch data = RandomBatch.of(42, batch, experts, equalRho);
        if (!data.config().isLogSumExp()) {
            throw new IllegalStateException("the benchmark computes the logsumexp member only, got " + data.config());
        }
        return data;
    }

    /** The float64 reference's per-row losses and gradient of the mean on the benchmark's whole batch. */
    record Expected(double[] rowLoss, double[] grad) {
        static Expected of(RandomBatch data) {
            double[] rowLoss = new double[data.rows()];
            double[] grad = new double[data.rows() * data.experts()];
            ReferenceKernel.evaluate(data.config(), data.rows(), GoldenCheck.toDouble(data.scores()),
                    GoldenCheck.toDouble(data.weights()), rowLoss, grad);
            return new Expected(rowLoss, grad);
        }
    }

    /**
     * Throws unless a candidate's per-row losses and gradient agree with the float64 reference within
     * {@link Tolerance#FLOAT32}.
     *
     * @param what the peer and the candidate, for the message ("PyTorch (row-major B x p)")
     */
    static void check(String what, Expected expected, float[] rowLoss, float[] grad, RandomBatch data) {
        // The errors Tolerance is stated in (NaN anywhere gives NaN, which no tolerance accepts).
        double lossErr = GoldenCheck.lossRelErr(GoldenCheck.toDouble(rowLoss), expected.rowLoss());
        double gradErr = GoldenCheck.gradErr(GoldenCheck.toDouble(grad), expected.grad());
        if (!Tolerance.FLOAT32.accepts(lossErr, gradErr)) {
            throw new IllegalStateException(what + " disagrees with the float64 reference (p = " + data.experts()
                    + ", equalRho = " + (data.config().groups() == 1) + "): lossRelErr " + lossErr + ", gradErr "
                    + gradErr + " against " + Tolerance.FLOAT32);
        }
    }

    /**
     * The index of the faster candidate, by {@link #secondsPerCall}; prints one line with every candidate's time
     * and the choice.
     *
     * @param label how the line starts ("PyTorchLossBenchmark p=8 distinct")
     * @param calls one call of each candidate, freeing what it allocates
     */
    static int faster(String label, String[] names, Runnable[] calls) {
        double[] seconds = secondsPerCall(calls);
        StringBuilder log = new StringBuilder(label);
        int best = 0;
        for (int c = 0; c < calls.length; c++) {
            log.append(String.format(Locale.ROOT, "; %s %.3f ms/call", names[c], seconds[c] * 1e3));
            if (seconds[c] < seconds[best]) {
                best = c;
            }
        }
        System.out.println(log.append("; measuring ").append(names[best]));
        return best;
    }

    /**
     * Median wall time per call of each candidate: three warm-up calls each, then rounds that call each once in
     * turn for about 0.6 s (at least 7 rounds), so that neither is timed cold or in a quieter moment.
     */
    static double[] secondsPerCall(Runnable[] calls) {
        int m = calls.length;
        for (Runnable call : calls) {
            for (int i = 0; i < 3; i++) {
                call.run();
            }
        }
        double[][] t = new double[m][256];
        int rounds = 0;
        long end = System.nanoTime() + 600_000_000L;
        while (rounds < t[0].length && (rounds < 7 || System.nanoTime() < end)) {
            for (int c = 0; c < m; c++) {
                long start = System.nanoTime();
                calls[c].run();
                t[c][rounds] = (System.nanoTime() - start) * 1e-9;
            }
            rounds++;
        }
        double[] median = new double[m];
        for (int c = 0; c < m; c++) {
            Arrays.sort(t[c], 0, rounds);
            median[c] = t[c][rounds / 2];
        }
        return median;
    }
}
