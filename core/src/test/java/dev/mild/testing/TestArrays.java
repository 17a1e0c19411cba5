package dev.mild.testing;

import dev.mild.io.GoldenCheck;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded random arrays for the test suites of every module (core's test-jar, a test-scoped dependency of
 * kernels-simd and tests), so that each module's tests draw their inputs the same way.
 */
public final class TestArrays {
    private TestArrays() {
    }

    /** n floats drawn from N(0, scale^2). */
    public static float[] gaussian(SplittableRandom rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (scale * rnd.nextGaussian());
        }
        return v;
    }

    /** n floats, every one {@code value}. */
    public static float[] filled(int n, float value) {
        float[] v = new float[n];
        Arrays.fill(v, value);
        return v;
    }

    /** n floats drawn uniformly from [lo, hi). */
    public static float[] uniform(SplittableRandom rnd, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return v;
    }

    /** The same values widened to double (exactly), for the float64 reference. */
    public static double[] toDouble(float[] v) {
        return GoldenCheck.toDouble(v);
    }
}
