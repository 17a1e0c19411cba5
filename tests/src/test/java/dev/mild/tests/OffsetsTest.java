package dev.mild.tests;

import static dev.mild.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.GradientError;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import dev.mild.testing.TestArrays;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Views into larger arrays through the plain-array API ({@link LossKernel#lossAndGradient} with offsets), on
 * every backend, the reference included: each array at its own offset, B of one chunk and of three chunks (on
 * two threads the CPU backends then hand chunks to workers, each offset moved by the chunk's start), the
 * logsumexp and the general member, with and without row losses and gradient. The outputs must be the bits
 * of the same call with every offset 0 (the contract's same inputs, same bits), which must agree with the
 * reference; nothing outside the output ranges may change, and the inputs not at all. Inputs outside their
 * ranges are NaN, so reading past a range shows up in the outputs.
 */
class OffsetsTest {
    static final int SCORES_OFFSET = 3;
    static final int WEIGHTS_OFFSET = 10;
    static final int ROW_LOSS_OFFSET = 5;
    static final int GRAD_OFFSET = 14;
    /** Elements after each range. */
    static final int TAIL = 6;
    static final float UNTOUCHED = -12345.5f;

    @TestFactory
    Stream<DynamicTest> everyBackendHonoursEachOffset() {
        List<String> backends = new ArrayList<>(Support.fastBackends());
        backends.add(ReferenceKernel.NAME);
        List<AgreementTest.Problem> problems = new ArrayList<>();
        for (int p : new int[] {3, 17}) {
            for (int rows : new int[] {5, 5000}) {
                for (int v : new int[] {0, 2}) { // AgreementTest's distinct margins; nu = 0.5 with delta
                    problems.add(AgreementTest.problem(p, rows, v, 131L * p + rows + v));
                }
            }
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : backends) {
            int[] threadCounts = Support.usesHostThreads(name) ? new int[] {1, 2} : new int[] {1};
            for (int threads : threadCounts) {
                tests.add(dynamicTest(name + " threads=" + threads, () -> {
                    try (LossKernel kernel = Backends.open(name, KernelOptions.threads(threads))) {
                        for (AgreementTest.Problem pr : problems) {
                            for (boolean withLoss : new boolean[] {true, false}) {
                                for (boolean withGrad : new boolean[] {true, false}) {
                                    check(kernel, pr, withLoss, withGrad);
                                }
                            }
                        }
                    }
                }));
            }
        }
        return tests.stream();
    }

    static void check(LossKernel kernel, AgreementTest.Problem pr, boolean withLoss, boolean withGrad) {
        int p = pr.config().experts();
        int rows = pr.rows();
        int n = rows * p;
        String what = kernel.describe() + " " + pr.name() + (withLoss ? "" : " no row losses") + (withGrad ? "" : " no gradient");

        float[] loss0 = withLoss ? new float[rows] : null;
        float[] grad0 = withGrad ? new float[n] : null;
        double mean0 = kernel.lossAndGradient(pr.config(), rows, pr.scores(), 0, pr.weights(), 0, loss0, 0, grad0, 0);
        Tolerance t = Tolerance.FLOAT32;
        assertEquals(pr.refMean(), mean0, t.lossRelative() * Math.max(1, Math.abs(pr.refMean())), what + ": mean");
        if (withLoss) {
            double le = GoldenTest.lossRelErr(toDouble(loss0), pr.refLoss());
            assertTrue(le <= t.lossRelative(), what + ": lossRelErr " + le);
        }
        if (withGrad) {
            GradientError ge = GradientError.of(toDouble(grad0), pr.refGrad(), pr.refGradTerms());
            assertTrue(t.acceptsGradient(ge), what + ": gradErr " + ge);
        }

        float[] scores = embed(pr.scores(), SCORES_OFFSET, Float.NaN);
        float[] weights = embed(pr.weights(), WEIGHTS_OFFSET, Float.NaN);
        float[] scoresBefore = scores.clone();
        float[] weightsBefore = weights.clone();
        float[] loss = withLoss ? TestArrays.filled(ROW_LOSS_OFFSET + rows + TAIL, UNTOUCHED) : null;
        float[] grad = withGrad ? TestArrays.filled(GRAD_OFFSET + n + TAIL, UNTOUCHED) : null;
        double mean = kernel.lossAndGradient(pr.config(), rows, scores, SCORES_OFFSET, weights, WEIGHTS_OFFSET,
                loss, ROW_LOSS_OFFSET, grad, GRAD_OFFSET);

        assertEquals(Double.doubleToLongBits(mean0), Double.doubleToLongBits(mean), what + ": mean with offsets " + mean + " vs " + mean0);
        assertArrayEquals(scoresBefore, scores, what + ": scores modified");
        assertArrayEquals(weightsBefore, weights, what + ": weights modified");
        if (withLoss) {
            assertArrayEquals(loss0, Arrays.copyOfRange(loss, ROW_LOSS_OFFSET, ROW_LOSS_OFFSET + rows), what + ": row losses with offsets");
            untouchedOutside(loss, ROW_LOSS_OFFSET, rows, what + ": row loss array");
        }
        if (withGrad) {
            assertArrayEquals(grad0, Arrays.copyOfRange(grad, GRAD_OFFSET, GRAD_OFFSET + n), what + ": gradient with offsets");
            untouchedOutside(grad, GRAD_OFFSET, n, what + ": gradient array");
        }
    }

    /** {@code values} at {@code offset} in an array with {@code fill} before and {@value #TAIL} elements after. */
    static float[] embed(float[] values, int offset, float fill) {
        float[] out = new float[offset + values.length + TAIL];
        Arrays.fill(out, fill);
        System.arraycopy(values, 0, out, offset, values.length);
        return out;
    }

    static void untouchedOutside(float[] array, int offset, int length, String what) {
        for (int i = 0; i < array.length; i++) {
            if (i < offset || i >= offset + length) {
                assertEquals(UNTOUCHED, array[i], 0f, what + ": element " + i + " outside " + offset + ".." + (offset + length - 1) + " was written");
            }
        }
    }
}
