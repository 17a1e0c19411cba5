package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.loss.LossConfig;
import dev.mild.loss.ReferenceKernel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The size of each gradient entry's terms, {@code T*}, from {@link ReferenceKernel}: the scale a float32
 * backend's gradient error is to be measured against near a stationary point, where the gradient is far smaller
 * than its terms.
 */
class StationaryGradientTest {

    /** p = 2 by hand: each entry's terms are expert 0's softmax part and expert 1's, since S_k - 1 is one term. */
    @Test
    void termSizesByHandForTwoExperts() {
        // f = (0, 0), a = 1, nu = 1, delta = 0, w = (1, 1): S = 2, every term 1/2, the gradient 0
        double[] terms = new double[2];
        double[] grad = new double[2];
        ReferenceKernel.evaluate(LossConfig.uniform(2, 1.0, 1.0), 1, new double[] {0, 0}, new double[] {1, 1}, null,
                grad, null, terms);
        assertArrayEquals(new double[] {0, 0}, grad, 1e-15);
        assertArrayEquals(new double[] {1, 1}, terms, 1e-15);

        // f = (ln 3, 0), w = (2, -1): S_0 = 4/3, S_1 = 4; expert 0's terms 2 (1/3) (3/4) = 1/2, expert 1's
        // 1 * 3 / 4 = 3/4; g_0 = -3/4 - 1/2 (both negative, so |g| = T)
        ReferenceKernel.evaluate(LossConfig.uniform(2, 1.0, 1.0), 1, new double[] {Math.log(3), 0},
                new double[] {2, -1}, null, grad, null, terms);
        assertArrayEquals(new double[] {-1.25, 1.25}, grad, 1e-15);
        assertArrayEquals(new double[] {1.25, 1.25}, terms, 1e-15);

        // The same row twice: the gradient of the mean, and its terms, per row halve
        double[] terms2 = new double[4];
        ReferenceKernel.evaluate(LossConfig.uniform(2, 1.0, 1.0), 2, new double[] {Math.log(3), 0, Math.log(3), 0},
                new double[] {2, -1, 2, -1}, null, null, null, terms2);
        assertArrayEquals(new double[] {0.625, 0.625, 0.625, 0.625}, terms2, 1e-15);

        // nu = 2, delta = (0.5, -0.5), a = (1, 2), f = (0.3, -0.2), w = (1.5, -0.7): u_0 = e^(0.5 - 0.5),
        // u_1 = e^(-0.5 + 1); term_k = |w_k| a_k u_k / (1 + u_k)^2
        LossConfig c = LossConfig.of(new double[] {1, 0.5}, new double[] {0.5, -0.5}, 2.0);
        ReferenceKernel.evaluate(c, 1, new double[] {0.3, -0.2}, new double[] {1.5, -0.7}, null, null, null, terms);
        double u0 = Math.exp(0.0);
        double u1 = Math.exp(0.5);
        double expected = 1.5 * 1 * u0 / ((1 + u0) * (1 + u0)) + 0.7 * 2 * u1 / ((1 + u1) * (1 + u1));
        assertArrayEquals(new double[] {expected, expected}, terms, 1e-15);
    }

    /**
     * Against this test's own float64 sum of |terms|, per entry j from plain S_k (no log space, moderate inputs):
     * {@code T_j = (1/B) [sum_{k != j} |w_k| a_k e^delta_k e^(a_k (f_j - f_k)) S_k^-nu + |w_j| a_j (S_j - 1) S_j^-nu]},
     * over distinct margins, additive margins, nu in {0, 0.5, 1, 2} and signed weights; and |g*| never above T*.
     */
    @Test
    void termSizesAreTheSumOfMathMdsContributions() {
        SplittableRandom rnd = new SplittableRandom(29);
        for (int p : new int[] {1, 2, 3, 5, 8}) {
            for (double nu : new double[] {0, 0.5, 1, 2}) {
                int rows = 3;
                double[] rho = new double[p];
                double[] delta = new double[p];
                for (int k = 0; k < p; k++) {
                    rho[k] = 0.3 + 2 * rnd.nextDouble();
                    delta[k] = rnd.nextDouble() - 0.5;
                }
                LossConfig c = LossConfig.of(rho, delta, nu);
                double[] f = new double[rows * p];
                double[] w = new double[rows * p];
                for (int i = 0; i < f.length; i++) {
                    f[i] = 2 * rnd.nextGaussian();
                    w[i] = 3 * rnd.nextDouble() - 1;
                }
                double[] grad = new double[rows * p];
                double[] terms = new double[rows * p];
                ReferenceKernel.evaluate(c, rows, f, w, null, grad, null, terms);
                for (int i = 0; i < rows; i++) {
                    double[] s = new double[p];
                    for (int k = 0; k < p; k++) {
                        s[k] = 1;
                        for (int m = 0; m < p; m++) {
                            if (m != k) {
                                s[k] += Math.exp(delta[k]) * Math.exp((f[i * p + m] - f[i * p + k]) / rho[k]);
                            }
                        }
                    }
                    for (int j = 0; j < p; j++) {
                        double sum = Math.abs(w[i * p + j]) / rho[j] * (s[j] - 1) * Math.pow(s[j], -nu);
                        for (int k = 0; k < p; k++) {
                            if (k != j) {
                                sum += Math.abs(w[i * p + k]) / rho[k] * Math.exp(delta[k])
                                        * Math.exp((f[i * p + j] - f[i * p + k]) / rho[k]) * Math.pow(s[k], -nu);
                            }
                        }
                        String at = "p=" + p + " nu=" + nu + " row " + i + " entry " + j;
                        assertEquals(sum / rows, terms[i * p + j], 1e-12 * sum / rows, at);
                        assertTrue(Math.abs(grad[i * p + j]) <= terms[i * p + j] * (1 + 1e-12), at + ": |g| <= T");
                    }
                }
            }
        }
    }

    /** Asking for the term sizes changes none of the other outputs, bit for bit. */
    @Test
    void termSizesLeaveTheOtherOutputsAsTheyWere() {
        SplittableRandom rnd = new SplittableRandom(31);
        LossConfig c = LossConfig.of(new double[] {0.5, 1.5, 0.9, 2.0}, new double[] {0.1, -0.2, 0.3, 0}, 0.5);
        int rows = 9;
        double[] f = new double[rows * 4];
        double[] w = new double[rows * 4];
        for (int i = 0; i < f.length; i++) {
            f[i] = 3 * rnd.nextGaussian();
            w[i] = 2 * rnd.nextDouble() - 0.5;
        }
        double[] loss = new double[rows];
        double[] grad = new double[rows * 4];
        double[] size = new double[rows];
        double mean = ReferenceKernel.evaluate(c, rows, f, w, loss, grad, size);
        double[] loss2 = new double[rows];
        double[] grad2 = new double[rows * 4];
        double[] size2 = new double[rows];
        double mean2 = ReferenceKernel.evaluate(c, rows, f, w, loss2, grad2, size2, new double[rows * 4]);
        assertEquals(mean, mean2, 0.0);
        assertArrayEquals(loss, loss2, 0.0);
        assertArrayEquals(grad, grad2, 0.0);
        assertArrayEquals(size, size2, 0.0);
    }
}
