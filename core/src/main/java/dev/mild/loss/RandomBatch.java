package dev.mild.loss;

import dev.mild.RecordText;
import java.util.SplittableRandom;

/**
 * Seeded synthetic inputs for demos and benchmarks: scores ~ N(0, 2^2), weights uniform in [0, 2], and margins
 * that are all distinct ({@code rho_k} spread over [0.5, 2]) or all equal (1).
 *
 * @param rows    the number of rows B
 * @param experts the number of experts p
 * @param scores  {@code rows x p} scores, each {@code (float) (2 * N(0, 1))}
 * @param weights {@code rows x p} weights, each {@code (float) (2 * U[0, 1))}, so in {@code [0, 2]}
 * @param config  margins {@code rho_k = 0.5 + 1.5 k / (p - 1)} or all 1, no additive margin, the given nu
 */
public record RandomBatch(int rows, int experts, float[] scores, float[] weights, LossConfig config) {

    /**
     * MILD's logsumexp member ({@code nu = 1}).
     *
     * @param seed     the {@link java.util.SplittableRandom} seed: the same seed gives the same batch
     * @param rows     the number of rows, {@code >= 0}
     * @param experts  the number of experts p, {@code >= 1}
     * @param equalRho {@code true} for margins all 1, {@code false} for distinct margins over [0.5, 2] (1 when
     *                 {@code p = 1})
     * @return {@code of(seed, rows, experts, equalRho, 1.0)}
     * @throws dev.mild.InvalidInputException as {@link #of(long, int, int, boolean, double)}
     */
    public static RandomBatch of(long seed, int rows, int experts, boolean equalRho) {
        return of(seed, rows, experts, equalRho, 1.0);
    }

    /**
     * The comp-sum member of exponent {@code nu} (1 is MILD's logsumexp), same scores, weights and margins.
     *
     * @param seed     the {@link java.util.SplittableRandom} seed: the same seed gives the same scores, weights and
     *                 margins whatever {@code nu}
     * @param rows     the number of rows, {@code >= 0}
     * @param experts  the number of experts p, {@code >= 1}
     * @param equalRho {@code true} for margins all 1, {@code false} for distinct margins over [0.5, 2] (1 when
     *                 {@code p = 1})
     * @param nu       the exponent, finite and {@code >= 0}
     * @return a new batch; scores and weights drawn in turn, element by element, from one generator
     * @throws dev.mild.InvalidInputException when {@code rows < 0}, {@code experts < 1}, {@code rows x experts}
     *                                        does not fit in one array, or {@code nu} is refused (as
     *                                        {@link LossConfig#of})
     */
    public static RandomBatch of(long seed, int rows, int experts, boolean equalRho, double nu) {
        // A negative size failed with a NegativeArraySizeException, and rows x experts past 2^31 wrapped around.
        Checks.experts(experts);
        if (rows < 0 || (long) rows * experts > Integer.MAX_VALUE - 8) {
            throw new dev.mild.InvalidInputException("a random batch of " + rows + " rows x " + experts + " experts: "
                    + (rows < 0 ? "rows must be >= 0" : "more values than one array holds"));
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] scores = new float[rows * experts];
        float[] weights = new float[rows * experts];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = (float) (2.0 * rnd.nextGaussian());
            weights[i] = (float) (2.0 * rnd.nextDouble());
        }
        double[] rho = new double[experts];
        for (int k = 0; k < experts; k++) {
            rho[k] = equalRho || experts == 1 ? 1.0 : 0.5 + 1.5 * k / (experts - 1);
        }
        return new RandomBatch(rows, experts, scores, weights, LossConfig.of(rho, null, nu));
    }

    /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
    @Override
    public String toString() {
        return RecordText.of(this);
    }
}
