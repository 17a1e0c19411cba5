package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mild.defer.Deferral;
import dev.mild.defer.Rewards;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.io.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The deferral loss, rewards and theory rho against ../shared/golden/deferral-cases.json, plus tie rules. */
class DeferralTest {

    @SuppressWarnings("unchecked")
    static final Map<String, Object> GOLDEN = (Map<String, Object>) Json.parse(Support.resource("deferral-cases.json"),
            "deferral-cases.json");

    @SuppressWarnings("unchecked")
    static double[] flat(Object rows) {
        List<Object> list = (List<Object>) rows;
        if (list.isEmpty() || !(list.get(0) instanceof List)) {
            return list.stream().mapToDouble(x -> (Double) x).toArray();
        }
        return list.stream().flatMapToDouble(r -> ((List<Object>) r).stream().mapToDouble(x -> (Double) x)).toArray();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> section(String name) {
        return (Map<String, Object>) GOLDEN.get(name);
    }

    @Test
    void deferralLossWithTiesToTheHighestIndex() {
        Map<String, Object> d = section("deferralLoss");
        double[] scores = flat(d.get("scores"));
        double[] costs = flat(d.get("costs"));
        int p = 3;
        int rows = scores.length / p;
        float[] f = new float[scores.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) scores[i];
        }
        Deferral.Report r = Deferral.evaluate(f, costs, rows, p);
        int[] choice = java.util.Arrays.stream(flat(d.get("choice"))).mapToInt(x -> (int) x).toArray();
        assertArrayEquals(choice, r.choice());
        assertArrayEquals(flat(d.get("rowLoss")), r.rowLoss(), 1e-15);
        assertEquals((Double) d.get("meanLoss"), r.meanLoss(), 1e-15);
    }

    @Test
    void oracleTiesGoToTheLowestIndexAndRatiosAddUp() {
        double[] costs = {1, 1, 2, /**/ 2, 0.5, 0.5, /**/ 0, 0, 0, /**/ 3, 2, 1};
        int[] labels = Deferral.oracleLabels(costs, 4, 3);
        assertArrayEquals(new int[] {0, 1, 0, 2}, labels);
        float[] scores = {0, 0, 0, /**/ 1, 0, 1, /**/ 2, 1, 0, /**/ 0, 0, 5};
        Deferral.Report r = Deferral.evaluate(scores, costs, 4, 3);
        assertArrayEquals(new int[] {2, 2, 0, 2}, r.choice());
        assertArrayEquals(new double[] {0.25, 0, 0.75}, r.ratios(), 1e-15);
        assertArrayEquals(new double[] {0.5, 0.25, 0.25}, r.oracleRatios(), 1e-15);
        assertEquals((2 + 0.5 + 0 + 1) / 4.0, r.meanLoss(), 1e-15);
        assertEquals((1 + 0.5 + 0 + 1) / 4.0, r.oracleLoss(), 1e-15);
    }

    @Test
    void rewardsMatchGolden() {
        Map<String, Object> d = section("rewards");
        double[] costs = flat(d.get("costs"));
        int p = 3;
        int rows = costs.length / p;
        for (Rewards r : Rewards.values()) {
            double[] out = new double[costs.length];
            r.apply(costs, rows, p, out);
            assertArrayEquals(flat(d.get(r.label())), out, 1e-12, r.label());
        }
    }

    @Test
    void theoryRhoMatchesGolden() {
        Map<String, Object> d = section("theoryRho");
        int[] labels = java.util.Arrays.stream(flat(d.get("labels"))).mapToInt(x -> (int) x).toArray();
        double[] norms = flat(d.get("norms"));
        int p = ((Double) d.get("p")).intValue();
        double rhoBar = (Double) d.get("rhoBar");
        assertArrayEquals(flat(d.get("rho")), Rho.theory(labels, norms, p, rhoBar), 1e-12);
    }

    @Test
    void rhoFloorSharesTheRarestExpertsMargin() {
        // Expert 2 owns no row: its strength is floored at the smallest positive one (expert 1's).
        int[] labels = {0, 0, 0, 1};
        double[] norms = {2, 1, 1, 1};
        double t0 = Math.cbrt(3 * 4.0);
        double t1 = Math.cbrt(1 * 1.0);
        double sum = t0 + 2 * t1;
        assertArrayEquals(new double[] {3 * t0 / sum, 3 * t1 / sum, 3 * t1 / sum}, Rho.theory(labels, norms, 3, 3), 1e-12);
        // gamma = 0 is uniform whatever the counts; no rows at all is uniform too.
        assertArrayEquals(new double[] {1, 1, 1}, Rho.tilted(labels, norms, 3, 3, 0), 1e-12);
        assertArrayEquals(new double[] {0.5, 0.5}, Rho.theory(new int[0], new double[0], 2, 1), 1e-12);
    }

    @Test
    void oneHotSurrogatesWeightTheOracleExpert() {
        double[] costs = {0.2, 0.1, 0.9, /**/ 0, 1, 1};
        float[] w = new float[6];
        Surrogate.ce(3).weights(costs, 2, w);
        assertArrayEquals(new float[] {0, 1, 0, 1, 0, 0}, w);
        Surrogate.cwce(new int[] {6, 3, 1}).weights(costs, 2, w);
        assertArrayEquals(new float[] {0, 10f / 9f, 0, 10f / 18f, 0, 0}, w, 1e-6f);
        Surrogate ldam = Surrogate.ldam(new int[] {16, 1, 81}, 2.0, 0.5);
        // C = 0.5 * min n^(1/4) = 0.5; delta_k = s C / n_k^(1/4)
        assertEquals(2.0 * 0.5 / 2.0, ldam.config().delta(0), 1e-15);
        assertEquals(2.0 * 0.5 / 1.0, ldam.config().delta(1), 1e-15);
        assertEquals(2.0 * 0.5 / 3.0, ldam.config().delta(2), 1e-15);
        assertEquals(0.5, ldam.config().rho(0), 1e-15);
        Surrogate tdef = Surrogate.tdef(3);
        tdef.weights(costs, 2, w);
        assertArrayEquals(new float[] {1.0f, 1.1f, 0.3f, 2, 1, 1}, w, 1e-6f);
    }

    @Test
    void ldamScalesMarginsToTheRarestExpertThatOwnsRows() {
        // Counts 100, 10, 0, s = 2, largest margin 0.5, by hand: the rarest expert with rows has n = 10, so
        // C = 0.5 * 10^(1/4) and delta_k = s C / n_k^(1/4):
        //   delta_0 = 2 * 0.5 * (10 / 100)^(1/4) = 0.1^(1/4) = 0.5623413251903491
        //   delta_1 = 2 * 0.5                                  = 1
        // Expert 2 owns no row (no one-hot weight ever reaches it); as the rarest it gets the largest margin,
        //   delta_2 = 2 * 0.5 = 1.
        // Flooring n_2 at 1 had set C = 0.5 and given 0.3162, 0.5623, 1: every applied margin shrunk.
        Surrogate ldam = Surrogate.ldam(new int[] {100, 10, 0}, 2.0, 0.5);
        assertArrayEquals(new double[] {0.5623413251903491, 1.0, 1.0}, ldam.config().delta(), 1e-15);
        assertArrayEquals(new double[] {0.5, 0.5, 0.5}, ldam.config().rho(), 0.0);
        // No rows at all: every expert is "rarest", every margin the largest.
        assertArrayEquals(new double[] {1.0, 1.0}, Surrogate.ldam(new int[] {0, 0}, 2.0, 0.5).config().delta(), 0.0);
        ValidationTest.fails(() -> Surrogate.ldam(new int[] {3, -1}, 1.0, 0.5), "expert 2 (1-based)", "-1");
    }

    /**
     * The one-hot losses (ce, cwce, ldam) weight the oracle expert, and MATH.md's oracle breaks ties to the lowest
     * index. With error-only costs ties are the common case (several experts right), so a one-hot on the last of
     * the tied experts would train a different router. By hand: row 0 costs (0, 0, 1), experts 0 and 1 tie at 0,
     * the oracle is expert 0; row 1 (1, 0, 0): expert 1; row 2 (0, 0, 0): expert 0. The earlier cases had no ties,
     * so a one-hot that broke ties to the highest index passed them.
     */
    @Test
    void oneHotLossesBreakOracleTiesToTheLowestIndex() {
        double[] costs = {0, 0, 1, /**/ 1, 0, 0, /**/ 0, 0, 0};
        float[] w = new float[9];
        Surrogate.ce(3).weights(costs, 3, w);
        assertArrayEquals(new float[] {1, 0, 0, /**/ 0, 1, 0, /**/ 1, 0, 0}, w);
        // cwce with counts 2, 1, 0 (n = 3, p = 3): w_k = n / (p max(n_k, 1)) = 0.5, 1, 1 on the oracle expert
        Surrogate.cwce(new int[] {2, 1, 0}).weights(costs, 3, w);
        assertArrayEquals(new float[] {0.5f, 0, 0, /**/ 0, 1, 0, /**/ 0.5f, 0, 0}, w, 1e-7f);
        // ldam's one-hot: the same experts, weight 1
        Surrogate.ldam(new int[] {2, 1, 0}, 1.0, 0.5).weights(costs, 3, w);
        assertArrayEquals(new float[] {1, 0, 0, /**/ 0, 1, 0, /**/ 1, 0, 0}, w);
    }

    /**
     * CWCE weighs an expert that the training split never picks "as if it had one row" (n / (p * 1)), not
     * n / (p * 0) = infinity: such an expert can still be the oracle on other costs given to weights(). By hand,
     * counts (4, 0): n = 4, p = 2, so expert 0 gets 4 / (2 * 4) = 0.5 and expert 1 gets 4 / (2 * 1) = 2.
     */
    @Test
    void cwceWeighsAnExpertWithoutTrainingRowsAsIfItHadOne() {
        double[] costs = {0, 1, /**/ 1, 0};
        float[] w = new float[4];
        Surrogate.cwce(new int[] {4, 0}).weights(costs, 2, w);
        assertArrayEquals(new float[] {0.5f, 0, /**/ 0, 2f}, w, 0f);
    }

    /**
     * Theory rho where X^2 overflows a double (X = 1e200): Rho forms t = m^(1/3) X^(2/3) without the square. The
     * proportions between the other experts did not show a lost square; the margin of an ordinary expert does.
     * By hand: t_0 = 1^(1/3) (1e200)^(2/3) = 10^(400/3), t_1 = (1 * 1^2)^(1/3) = 1, t_2 = (2 * 1^2)^(1/3) = 2^(1/3),
     * and rho_1 = rho_bar t_1 / (t_0 + t_1 + t_2) = 3 / (10^(400/3) + 1 + 2^(1/3)) = 3 * 10^(-400/3) to double
     * precision. Written as cbrt(m) cbrt(X) (X^(1/3), the square lost) it was 3 * 10^(-200/3), 10^66 times larger.
     */
    @Test
    void theoryRhoKeepsTheSquareOfAnOverflowingNorm() {
        double[] rho = Rho.theory(new int[] {0, 1, 2, 2}, new double[] {1e200, 1, 1, 1}, 3, 3);
        double t0 = Math.pow(10, 400.0 / 3);
        double expected1 = 3 / (t0 + 1 + Math.cbrt(2));
        assertEquals(expected1, rho[1], expected1 * 1e-9);
        assertEquals(Math.cbrt(2) * expected1, rho[2], expected1 * 1e-9);
        assertEquals(3.0, rho[0], 1e-12);
    }

    /**
     * The theory margins depend on the norms' ratios only (t_j = (m_j X_j^2)^(1/3) appears above and below the
     * line), so tiny norms give what the same norms scaled up give. X = 1e-170 squared is 0 in double: that expert
     * took the floor and the margins came out [0.5, 0.5] instead of the [2.15e-7, 1] of norms 1e-10 and 1.
     */
    @Test
    void theoryRhoDependsOnTheNormsRatiosOnlyEvenWhenASquareUnderflows() {
        int[] labels = {0, 1};
        double[] expected = Rho.theory(labels, new double[] {1e-10, 1}, 2, 1.0);
        double[] tiny = Rho.theory(labels, new double[] {1e-170, 1e-160}, 2, 1.0);
        assertEquals(Math.pow(1e-10, 2.0 / 3), expected[0] / expected[1], 1e-12 * Math.pow(1e-10, 2.0 / 3));
        assertArrayEquals(expected, tiny, 1e-12 * expected[0]);
        assertEquals(expected[1], tiny[1], 1e-12);
        // one norm in range and one whose square underflows: still the ratio's power 2/3
        double[] mixed = Rho.theory(labels, new double[] {1e-200, 1e-190}, 2, 1.0);
        assertEquals(Math.pow(1e-10, 2.0 / 3), mixed[0] / mixed[1], 1e-12 * Math.pow(1e-10, 2.0 / 3));
    }

    /**
     * Tilted margins whose powers t_j^gamma leave double's range although their shares do not: Rho then takes the
     * shares in log space. By hand: one row for expert 0 and eight for expert 1, all of norm 1e150, so
     * t_0 = (1 * 1e300)^(1/3) = 1e100 and t_1 = (8 * 1e300)^(1/3) = 2e100, t_1 / t_0 = 2. At gamma = 4 each
     * t^4 (1e400) overflows, at gamma = -4 each underflows to 0, but the shares are (1, 16) / 17 and (16, 1) / 17.
     * The smallest normal double is a margin the contract allows (rho_bar 2 MIN_NORMAL over two uniform experts).
     */
    @Test
    void tiltedMarginsKeepTheirSharesWhenThePowersLeaveDoubleRange() {
        int[] labels = {0, 1, 1, 1, 1, 1, 1, 1, 1};
        double[] norms = new double[labels.length];
        java.util.Arrays.fill(norms, 1e150);
        assertArrayEquals(new double[] {2.0 / 17, 32.0 / 17}, Rho.tilted(labels, norms, 2, 2, 4), 1e-12);
        assertArrayEquals(new double[] {32.0 / 17, 2.0 / 17}, Rho.tilted(labels, norms, 2, 2, -4), 1e-12);
        assertArrayEquals(new double[] {Double.MIN_NORMAL, Double.MIN_NORMAL},
                Rho.tilted(new int[0], new double[0], 2, 2 * Double.MIN_NORMAL, 0), 0.0);
    }

    /** The norms X_j come from: each row's L2 norm, by hand (3-4-5 and 0-2 rows; one feature is |x|; no rows). */
    @Test
    void rowNormsAreEachRowsEuclideanNorm() {
        assertArrayEquals(new double[] {5, 2}, Rho.rowNorms(new float[] {3, 4, /**/ 0, -2}, 2, 2), 0.0);
        assertArrayEquals(new double[] {3, 4}, Rho.rowNorms(new float[] {-3, 4}, 2, 1), 0.0);
        assertArrayEquals(new double[0], Rho.rowNorms(new float[0], 0, 3), 0.0);
    }

    /**
     * Edge values of the one-hot losses' parameters, by hand: one expert (p = 1) under CWCE gets weight
     * n / (1 * n) = 1; LDAM with largest margin 0 has every delta_k = s * 0 = 0 (plain cross-entropy at scale s).
     */
    @Test
    void oneHotLossesTakeOneExpertAndAZeroMargin() {
        float[] w = new float[1];
        Surrogate.cwce(new int[] {5}).weights(new double[] {0.3}, 1, w);
        assertArrayEquals(new float[] {1}, w, 0f);
        assertArrayEquals(new double[] {0, 0}, Surrogate.ldam(new int[] {3, 1}, 2.0, 0.0).config().delta(), 0.0);
    }
}
