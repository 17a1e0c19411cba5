package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mild.InvalidInputException;
import dev.mild.router.Adam;
import org.junit.jupiter.api.Test;

/**
 * Adam and AdamW against steps computed by hand from the published update rules (Kingma and Ba; Loshchilov
 * and Hutter, as PyTorch implements them), in float64, to float32 precision.
 */
class AdamTest {
    static final double LR = 0.01;
    static final double WD = 0.1;

    @Test
    void firstStepMovesEachParameterByTheLearningRateTimesTheGradientSign() {
        // Step 1: m^ = g and v^ = g^2, so the update is lr * g / (|g| + eps): almost exactly lr * sign(g).
        // A gradient as small as eps moves by lr / 2: eps is added to the denominator.
        float[] theta = {1.0f, -2.0f, 0.5f, 0.0f, 0.7f};
        float[] g = {0.3f, -4.0f, 1e-3f, 0.0f, 1e-8f};
        Adam adam = new Adam(Adam.Kind.ADAM, LR, 0.0, theta.length);
        adam.step(new float[][] {theta}, new float[][] {g});
        double[] expected = {1.0 - LR * 0.3 / (0.3 + 1e-8), -2.0 + LR * 4.0 / (4.0 + 1e-8),
                0.5 - LR * 1e-3 / (1e-3 + 1e-8), 0.0, 0.7 - LR * 1e-8 / (1e-8 + 1e-8)};
        for (int i = 0; i < theta.length; i++) {
            assertEquals(expected[i], theta[i], 1e-6, "parameter " + i);
        }
    }

    @Test
    void threeStepsOfAdamWithL2AndAdamWMatchTheFormulas() {
        float[][] grads = {{0.5f, -1.0f, 2.0f}, {-0.25f, -0.5f, 1.0f}, {0.1f, 0.2f, -3.0f}};
        for (Adam.Kind kind : Adam.Kind.values()) {
            float[] theta = {0.8f, -0.3f, 1.5f};
            double[] ref = {0.8, -0.3, 1.5};
            double[] m = new double[3];
            double[] v = new double[3];
            Adam adam = new Adam(kind, LR, WD, 3);
            for (int t = 1; t <= grads.length; t++) {
                adam.step(new float[][] {theta}, new float[][] {grads[t - 1]});
                for (int i = 0; i < 3; i++) {
                    double g = grads[t - 1][i];
                    if (kind == Adam.Kind.ADAMW) {
                        ref[i] *= 1 - LR * WD;                 // decoupled decay first
                    } else {
                        g += WD * ref[i];                      // L2 folded into the gradient
                    }
                    m[i] = 0.9 * m[i] + 0.1 * g;
                    v[i] = 0.999 * v[i] + 0.001 * g * g;
                    double mHat = m[i] / (1 - Math.pow(0.9, t));
                    double vHat = v[i] / (1 - Math.pow(0.999, t));
                    ref[i] -= LR * mHat / (Math.sqrt(vHat) + 1e-8);
                }
                for (int i = 0; i < 3; i++) {
                    assertEquals(ref[i], theta[i], 2e-6 * Math.max(1, Math.abs(ref[i])),
                            kind + " step " + t + " parameter " + i);
                }
            }
            assertEquals(3, adam.steps());
        }
    }

    @Test
    void adamWDecaysAParameterWithZeroGradient() {
        float[] theta = {2.0f};
        Adam adam = new Adam(Adam.Kind.ADAMW, LR, WD, 1);
        adam.step(new float[][] {theta}, new float[][] {{0f}});
        assertEquals(2.0 * (1 - LR * WD), theta[0], 1e-7);
        float[] theta2 = {2.0f};
        Adam l2 = new Adam(Adam.Kind.ADAM, LR, WD, 1);
        l2.step(new float[][] {theta2}, new float[][] {{0f}});
        // With L2 the decay goes through Adam's normalization: the first step moves by lr, not lr * wd * theta.
        assertEquals(2.0 - LR, theta2[0], 1e-6);
    }

    @Test
    void rejectsBadHyperparameters() {
        assertThrows(InvalidInputException.class, () -> new Adam(Adam.Kind.ADAM, 0, 0, 1));
        assertThrows(InvalidInputException.class, () -> new Adam(Adam.Kind.ADAM, 1e-3, -1, 1));
        assertThrows(InvalidInputException.class, () -> new Adam(Adam.Kind.ADAM, Double.NaN, 0, 1));
        assertThrows(InvalidInputException.class, () -> Adam.Kind.byName("sgd"));
        // The betas' range [0, 1) and eps > 0, at their edges: 1 and eps 0 refused ...
        assertThrows(InvalidInputException.class, () -> new Adam(Adam.Kind.ADAM, LR, 0, 1.0, 0.999, 1e-8, 1));
        assertThrows(InvalidInputException.class, () -> new Adam(Adam.Kind.ADAM, LR, 0, 0.9, 1.0, 1e-8, 1));
        assertThrows(InvalidInputException.class, () -> new Adam(Adam.Kind.ADAM, LR, 0, 0.9, 0.999, 0.0, 1));
        // ... betas 0 accepted: no memory, m = g and v = g^2, a step of lr * g / (|g| + eps) every time.
        float[] theta = {1.0f};
        Adam memoryless = new Adam(Adam.Kind.ADAM, LR, 0, 0.0, 0.0, 1e-8, 1);
        memoryless.step(new float[][] {theta}, new float[][] {{2f}});
        memoryless.step(new float[][] {theta}, new float[][] {{-4f}});
        assertEquals(1.0 - LR * 2 / (2 + 1e-8) + LR * 4 / (4 + 1e-8), theta[0], 1e-6);
    }
}
