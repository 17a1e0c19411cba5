package dev.mild.loss;

import dev.mild.RecordText;
import java.util.SplittableRandom;

/**
 * Seeded synthetic inputs for demos and benchmarks: scores ~ N(0, 2^2), weights uniform in [0, 2], and margins
 * that are all distinct ({@code rho_k} spread over [0.5, 2]) or all equal (1).
 */
public record RandomBatch(int rows, int experts, float[] scores, float[] weights, LossConfig config) {

    /** MILD's logsumexp member ({@code nu = 1}). */
    public static RandomBatch of(long seed, int rows, int experts, boolean equalRho) {
        return of(seed, rows, experts, equalRho, 1.0);
    }

    /** The comp-sum member of exponent {@code nu} (1 is MILD's logsumexp), same scores, weights and margins. */
    public static RandomBatch of(long seed, int rows, int experts, boolean equalRho, double nu) {
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
