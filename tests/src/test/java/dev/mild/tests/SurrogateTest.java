package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mild.defer.Rewards;
import dev.mild.defer.Surrogate;
import dev.mild.loss.LossConfig;
import org.junit.jupiter.api.Test;

/** Each named loss is the configuration MATH.md's table gives it, with weights computed by hand here. */
class SurrogateTest {
    static final double[] COSTS = {0.2, 1.0, 0.5, /**/ 1.7, 0.0, 0.3};
    static final int ROWS = 2;
    static final int P = 3;

    static float[] weights(Surrogate s) {
        float[] w = new float[ROWS * P];
        s.weights(COSTS, ROWS, w);
        return w;
    }

    static void assertConfig(LossConfig c, double rho, double nu) {
        for (int k = 0; k < c.experts(); k++) {
            assertEquals(rho, c.rho(k), 0.0);
            assertEquals(0.0, c.delta(k), 0.0);
        }
        assertEquals(nu, c.nu(), 0.0);
    }

    // sum_{k' != k} c_k' by hand: row 0 -> [1.5, 0.7, 1.2], row 1 -> [0.3, 2.0, 1.7]
    static final float[] SUM_OTHERS = {1.5f, 0.7f, 1.2f, 0.3f, 2.0f, 1.7f};

    @Test
    void mildAndCompSumUseRewardsAndTheirMargins() {
        Surrogate mild = Surrogate.mild(0.5, 1.0, 2.0);
        assertEquals(Surrogate.Kind.MILD, mild.kind());
        assertArrayEquals(new double[] {0.5, 1.0, 2.0}, mild.config().rho(), 0.0);
        assertEquals(1.0, mild.config().nu(), 0.0);
        assertArrayEquals(SUM_OTHERS, weights(mild), 1e-6f);
        Surrogate cs = Surrogate.compSum(new double[] {0.5, 1.0, 2.0}, 0.5, Rewards.SUM_OTHERS);
        assertEquals(0.5, cs.config().nu(), 0.0);
        assertArrayEquals(SUM_OTHERS, weights(cs), 1e-6f);
    }

    @Test
    void tdefAndRealizableFamily() {
        Surrogate tdef = Surrogate.tdef(P);
        assertConfig(tdef.config(), 1.0, 1.0);
        assertArrayEquals(SUM_OTHERS, weights(tdef), 1e-6f);

        float[] shifted = new float[SUM_OTHERS.length]; // sum-others - p + 2 = sum-others - 1
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] = SUM_OTHERS[i] - 1f;
        }
        Surrogate log = Surrogate.realizableLog(P);
        assertConfig(log.config(), 1.0, 1.0);
        assertArrayEquals(shifted, weights(log), 1e-6f);
        Surrogate mae = Surrogate.realizableMae(P);
        assertConfig(mae.config(), 1.0, 2.0);
        assertArrayEquals(shifted, weights(mae), 1e-6f);
    }

    @Test
    void multiTaskMixesClassErrorAndRegressionThenSumsOthers() {
        double[] classError = {1, 0, 1, 0, 0, 1};
        double[] regression = {0.5, 2.0, 0.0, 1.0, 0.25, 0.0};
        double[] beta = {0.0, 0.1, 0.3};
        double[] costs = Surrogate.mixCosts(classError, regression, 2, 3, 1.0, 0.5, beta);
        assertArrayEquals(new double[] {1.25, 1.1, 1.3, 0.5, 0.225, 1.3}, costs, 1e-12);
        Surrogate mt = Surrogate.multiTask(3, 0.5);
        assertConfig(mt.config(), 1.0, 0.5);
        float[] w = new float[6];
        mt.weights(costs, 2, w);
        assertArrayEquals(new float[] {2.4f, 2.55f, 2.35f, 1.525f, 1.8f, 0.725f}, w, 1e-6f);
    }

    @Test
    void oneMinusRewards() {
        double[] unit = {0.2, 1.0, 0.5, 0.9, 0.0, 0.3};
        float[] w = new float[6];
        Surrogate.mild(new double[] {1, 1, 1}, Rewards.ONE_MINUS).weights(unit, 2, w);
        assertArrayEquals(new float[] {0.8f, 0f, 0.5f, 0.1f, 1f, 0.7f}, w, 1e-6f);
    }

    @Test
    void namesRoundTrip() {
        for (Surrogate.Kind k : Surrogate.Kind.values()) {
            assertEquals(k, Surrogate.Kind.byName(k.label()));
        }
        for (Rewards r : Rewards.values()) {
            assertEquals(r, Rewards.byName(r.label()));
        }
        ValidationTest.fails(() -> Surrogate.Kind.byName("hinge"), "unknown loss \"hinge\"", "mild", "ldam");
        ValidationTest.fails(() -> Rewards.byName("x"), "unknown rewards", "sum-others");
    }
}
