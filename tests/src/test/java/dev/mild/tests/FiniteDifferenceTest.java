package dev.mild.tests;

import static dev.mild.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The analytic gradient against finite differences, across the family: nu in {0, 0.5, 1, 2}, additive margins
 * on and off, negative weights, p from 1 to 40, ordinary, tiny (1e-3) and huge (1e3) margins, a mix of
 * distinct and shared margins, and one margin for every expert (TDEF, CE and the realizable losses: the kernels'
 * one-softmax paths, and at p = 40 the SIMD backend's experts-in-lanes layout).
 *
 * <p>The float64 reference's gradient is checked against fourth-order central differences of its own loss
 * (step {@code 1e-4 * min rho}, the scale on which the loss varies) to {@value #FD_TOLERANCE} normwise. Each
 * fast backend's gradient is then checked against the same finite differences at the float32 tolerance, so
 * no backend is only compared with another backend.
 */
class FiniteDifferenceTest {
    static final double FD_TOLERANCE = 1e-6;

    record Case(String name, LossConfig config, int rows, double[] scores, double[] weights) {
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(20261123);
        int[] ps = {1, 2, 3, 5, 8, 17, 40};
        double[] nus = {0.0, 0.5, 1.0, 2.0};
        String[] rhoKinds = {"ordinary", "tiny", "huge", "mixed", "equal"};
        for (int p : ps) {
            for (double nu : nus) {
                for (String rhoKind : rhoKinds) {
                    for (boolean withDelta : new boolean[] {false, true}) {
                        for (boolean negative : new boolean[] {false, true}) {
                            if (p > 8 && (withDelta || negative) && rhoKind.equals("mixed")) {
                                continue; // keep the p = 17, 40 sweep to the essential combinations
                            }
                            cases.add(make(rnd, p, nu, rhoKind, withDelta, negative));
                        }
                    }
                }
            }
        }
        return cases;
    }

    static Case make(SplittableRandom rnd, int p, double nu, String rhoKind, boolean withDelta, boolean negative) {
        double[] rho = new double[p];
        for (int k = 0; k < p; k++) {
            rho[k] = switch (rhoKind) {
                case "tiny" -> 1e-3 * (1 + k % 5);
                case "huge" -> 1e2 * (1 + 9 * rnd.nextDouble());
                case "mixed" -> k % 3 == 0 ? 0.7 : 0.3 + 0.2 * (k % 4);
                case "equal" -> 0.8;
                default -> 0.5 + 1.5 * rnd.nextDouble();
            };
        }
        double[] delta = null;
        if (withDelta) {
            delta = new double[p];
            for (int k = 0; k < p; k++) {
                delta[k] = 0.8 * rnd.nextDouble() - 0.2;
            }
        }
        int rows = 3;
        double minRho = Double.POSITIVE_INFINITY;
        for (double r : rho) {
            minRho = Math.min(minRho, r);
        }
        // Score spread. For nu = 1, far wider than the margins: the logsumexp then sits in its linear,
        // one-hot regime (scores of 1e4 / rho 1e-3 in spirit) and its gradient stays large. For nu != 1 a
        // few margins wide: wider, exp(a diff) overflows (nu < 1) or Phi saturates (nu > 1) and the gradient
        // falls below what finite differences can resolve (about 1e-160 here), which would test nothing.
        double spread = nu == 1 ? (rhoKind.equals("huge") ? 500.0 : 1.5) : 2.0 * minRho;
        double[] scores = new double[rows * p];
        double[] weights = new double[rows * p];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = spread * rnd.nextGaussian();
            weights[i] = negative ? 2.0 * rnd.nextDouble() - 1.0 : 0.1 + 2.0 * rnd.nextDouble();
        }
        String name = String.format(Locale.ROOT, "p=%d nu=%.1f rho=%s delta=%s weights=%s", p, nu, rhoKind,
                withDelta ? "on" : "off", negative ? "signed" : "positive");
        // Round inputs to float32 so float backends see exactly the same problem.
        for (int i = 0; i < scores.length; i++) {
            scores[i] = (float) scores[i];
            weights[i] = (float) weights[i];
        }
        return new Case(name, LossConfig.of(rho, delta, nu), rows, scores, weights);
    }

    /** d(mean loss)/d f by fourth-order central differences of the reference's row loss. */
    static double[] finiteDifferences(Case c) {
        int p = c.config.experts();
        double minRho = Double.POSITIVE_INFINITY;
        for (int k = 0; k < p; k++) {
            minRho = Math.min(minRho, c.config.rho(k));
        }
        double h = 1e-4 * Math.min(minRho, 1.0);
        double[] g = new double[c.rows * p];
        double[] row = new double[p];
        double[] w = new double[p];
        double[] out = new double[1];
        for (int i = 0; i < c.rows; i++) {
            System.arraycopy(c.weights, i * p, w, 0, p);
            for (int j = 0; j < p; j++) {
                double[] at = new double[4];
                double[] steps = {2 * h, h, -h, -2 * h};
                for (int s = 0; s < 4; s++) {
                    System.arraycopy(c.scores, i * p, row, 0, p);
                    row[j] += steps[s];
                    ReferenceKernel.evaluate(c.config, 1, row, w, out, null);
                    at[s] = out[0];
                }
                g[i * p + j] = (-at[0] + 8 * at[1] - 8 * at[2] + at[3]) / (12 * h) / c.rows;
            }
        }
        return g;
    }

    @TestFactory
    Stream<DynamicTest> referenceGradientMatchesFiniteDifferences() {
        return cases().stream().map(c -> dynamicTest(c.name, () -> {
            double[] fd = finiteDifferences(c);
            double[] g = new double[fd.length];
            ReferenceKernel.evaluate(c.config, c.rows, c.scores, c.weights, null, g);
            double err = GoldenTest.gradErr(g, fd);
            assertTrue(err <= FD_TOLERANCE, c.name + ": reference gradient vs finite differences: " + err);
        }));
    }

    @TestFactory
    Stream<DynamicTest> fastBackendGradientsMatchFiniteDifferences() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Support.fastBackends()) {
            tests.add(dynamicTest(name, () -> {
                try (LossKernel kernel = Backends.open(name, KernelOptions.threads(1))) {
                    assertGradientsMatchFiniteDifferences(kernel);
                }
            }));
        }
        return tests.stream();
    }

    /** {@code kernel}'s gradient on every case of {@link #cases} against the finite differences, at float32 tolerance. */
    static void assertGradientsMatchFiniteDifferences(LossKernel kernel) {
        for (Case c : cases()) {
            double[] fd = finiteDifferences(c);
            float[] s = toFloat(c.scores);
            float[] w = toFloat(c.weights);
            float[] g = new float[fd.length];
            kernel.lossAndGradient(c.config, c.rows, s, 0, w, 0, null, 0, g, 0);
            double err = GoldenTest.gradErr(toDouble(g), fd);
            // float32 tolerance plus the finite differences' own error
            double tol = Tolerance.FLOAT32.gradNormwise() + FD_TOLERANCE;
            assertTrue(err <= tol, kernel.describe() + " " + c.name + ": gradient vs finite differences " + err);
        }
    }

    static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
