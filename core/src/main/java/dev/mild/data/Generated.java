package dev.mild.data;

import dev.mild.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generated labelled data, for the demo and the tests: {@code classes} Gaussian clusters in {@code d}
 * dimensions. Class means are drawn from {@code N(0, separation^2 I)}; a row of class y is
 * {@code mean_y + N(0, I)}; classes are equally likely. Small separations make classes overlap, so a router
 * cannot always tell which expert's block a row belongs to.
 */
public final class Generated {
    private Generated() {
    }

    /**
     * Rows drawn as described above, with labels and feature names {@code x0 .. x(d-1)}, no experts.
     *
     * @param rows       the number of rows
     * @param classes    the number of classes (clusters)
     * @param d          the number of features
     * @param separation the standard deviation of the class means' coordinates
     * @param seed       the random seed; the same arguments give the same rows
     * @return the data set, whose source names the seed
     * @throws InvalidInputException if {@code rows}, {@code classes} or {@code d} is below 1, or {@code separation}
     *                               is negative or NaN
     * @throws ArithmeticException   if {@code rows * d} overflows an int
     */
    public static Dataset clusters(int rows, int classes, int d, double separation, long seed) {
        if (rows < 1 || classes < 1 || d < 1 || !(separation >= 0)) {
            throw new InvalidInputException("clusters need rows, classes, d >= 1 and separation >= 0");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] means = new double[classes * d];
        for (int i = 0; i < means.length; i++) {
            means[i] = separation * rnd.nextGaussian();
        }
        float[] x = new float[Math.multiplyExact(rows, d)];
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            int c = rnd.nextInt(classes);
            y[i] = c;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) (means[c * d + j] + rnd.nextGaussian());
            }
        }
        List<String> names = new ArrayList<>();
        for (int j = 0; j < d; j++) {
            names.add("x" + j);
        }
        return new Dataset("generated clusters (seed " + seed + ")", names, x, rows, y, List.of(), null, null, null);
    }
}
