package dev.mild.io;

import dev.mild.loss.GradientError;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;

/**
 * Runs a backend on a golden case and measures how far it is from the expected float64 values, as
 * {@link dev.mild.loss.Tolerance} states them:
 * <pre>
 *   lossRelErr  = max_i |l_i - l*_i| / max(1, m*_i),   m*_i = sum_k |w_k| Phi(S_k), the size of row i's terms
 *   gradErr     = max |g - g*| / max |g*|    (0 when g* = 0; the numerator alone when g* = 0 but g is not)
 *   gradTermErr = max |g - g*| / max T*      T*_ij, the size of the terms of entry (i, j) ({@link GradientError})
 * </pre>
 * and the gradient is accepted when either of its errors is within its bound. The reference backend runs on the
 * file's float64 inputs; float backends on their float32 rounding. The term sizes {@code m*} and {@code T*} come
 * from the reference on the file's inputs (they only set the scale; with weights >= 0 {@code m*} equals
 * {@code |l*|}).
 */
public final class GoldenCheck {
    private GoldenCheck() {
    }

    /**
     * The outcome of one case on one backend.
     *
     * @param caseName    the golden case's name
     * @param backend     the backend's name
     * @param lossRelErr  the loss error, as defined above
     * @param gradErr     the normwise gradient error
     * @param gradTermErr the termwise gradient error
     * @param ok          whether the backend's {@link LossKernel#tolerance()} accepts the errors
     */
    public record Result(String caseName, String backend, double lossRelErr, double gradErr, double gradTermErr,
                         boolean ok) {
        /**
         * One line of JSON, as {@code mild golden} prints it.
         *
         * @return a JSON object with the fields {@code case}, {@code backend}, {@code lossRelErr}, {@code gradErr},
         *         {@code gradTermErr} and {@code ok}, without a line break
         */
        public String toJson() {
            return "{\"case\": " + JsonOut.quote(caseName) + ", \"backend\": " + JsonOut.quote(backend)
                    + ", \"lossRelErr\": " + JsonOut.number(lossRelErr) + ", \"gradErr\": " + JsonOut.number(gradErr)
                    + ", \"gradTermErr\": " + JsonOut.number(gradTermErr) + ", \"ok\": " + ok + "}";
        }
    }

    /**
     * Runs {@code kernel} on case {@code c} and measures its errors against the case's expected values.
     *
     * @param c      the golden case
     * @param kernel the backend; the float64 reference runs on the case's float64 inputs, any other on their
     *               float32 rounding
     * @return the errors and whether the kernel's tolerance accepts them
     */
    public static Result run(GoldenCase c, LossKernel kernel) {
        int p = c.config().experts();
        int n = c.rows() * p;
        double[] loss;
        double[] grad;
        double[] termSize = new double[c.rows()];
        double[] gradTermSize = new double[n];
        if (kernel instanceof ReferenceKernel) {
            loss = new double[c.rows()];
            grad = new double[n];
            ReferenceKernel.evaluate(c.config(), c.rows(), c.scores64(), c.weights64(), loss, grad, termSize,
                    gradTermSize);
        } else {
            ReferenceKernel.evaluate(c.config(), c.rows(), c.scores64(), c.weights64(), null, null, termSize,
                    gradTermSize);
            float[] lossF = new float[c.rows()];
            float[] gradF = new float[n];
            kernel.lossAndGradient(c.config(), c.rows(), c.scores(), 0, c.weights(), 0, lossF, 0, gradF, 0);
            loss = toDouble(lossF);
            grad = toDouble(gradF);
        }
        double lossErr = lossRelErr(loss, c.rowLoss(), termSize);
        GradientError gradErr = GradientError.of(grad, c.gradMeanLoss(), gradTermSize);
        return new Result(c.name(), kernel.name(), lossErr, gradErr.normwise(), gradErr.termwise(),
                kernel.tolerance().accepts(lossErr, gradErr));
    }

    /**
     * {@code max_i |l_i - l*_i| / max(1, termSize_i)}, the loss error {@link dev.mild.loss.Tolerance} bounds, with
     * {@code termSize_i = sum_k |w_k| Phi(S_k)} from {@link ReferenceKernel}; NaN anywhere gives NaN.
     *
     * @param got      the losses checked, {@code l}, as long as {@code expected}. Not modified.
     * @param expected the reference losses {@code l*}. Not modified.
     * @param termSize the term sizes, as long as {@code expected}. Not modified.
     * @return the error, {@code >= 0}, 0 for empty arrays, or NaN
     * @throws dev.mild.InvalidInputException if an array is null or the lengths differ (as
     *                                        {@link #maxAbsDiff} refuses them)
     */
    public static double lossRelErr(double[] got, double[] expected, double[] termSize) {
        GradientError.requireSameLength("got", got, expected);
        GradientError.requireSameLength("termSize", termSize, expected);
        double worst = 0.0;
        for (int i = 0; i < expected.length; i++) {
            // Math.max keeps a NaN once seen; "if (!(e <= worst)) worst = e" lost it at the next finite e.
            worst = Math.max(worst, Math.abs(got[i] - expected[i]) / Math.max(1.0, termSize[i]));
        }
        return worst;
    }

    /**
     * {@code max_i |l_i - l*_i| / max(1, |l*_i|)}: the same error when every weight is {@code >= 0} (then the
     * term size is {@code |l*_i|}, since {@code Phi >= 0}); with signed weights use the three-argument form.
     * NaN anywhere gives NaN.
     *
     * @param got      the losses checked, {@code l}, as long as {@code expected}. Not modified.
     * @param expected the reference losses {@code l*}. Not modified.
     * @return the error, {@code >= 0}, 0 for empty arrays, or NaN
     * @throws dev.mild.InvalidInputException if an array is null or the lengths differ
     */
    public static double lossRelErr(double[] got, double[] expected) {
        GradientError.requireSameLength("got", got, expected);
        double[] size = new double[expected.length];
        for (int i = 0; i < size.length; i++) {
            size[i] = Math.abs(expected[i]);
        }
        return lossRelErr(got, expected, size);
    }

    /**
     * {@code max|g - g*| / max|g*|}, 0 when both are 0; NaN anywhere gives NaN. The normwise measure alone; with
     * the reference's term sizes, {@link GradientError#of} gives both.
     *
     * @param got      the gradient checked, {@code g}, as long as {@code expected}. Not modified.
     * @param expected the reference gradient {@code g*}. Not modified.
     * @return the normwise error, {@code >= 0}, or NaN
     * @throws dev.mild.InvalidInputException if an array is null or the lengths differ
     */
    public static double gradErr(double[] got, double[] expected) {
        return GradientError.normwiseOnly(got, expected).normwise();
    }

    /**
     * {@code max_i |got_i - expected_i|}; NaN anywhere gives NaN (which no tolerance accepts).
     *
     * @param got      the values checked, as many as {@code expected}. Not modified.
     * @param expected the reference values. Not modified.
     * @return the largest absolute difference, 0 for empty arrays, or NaN
     * @throws dev.mild.InvalidInputException if an array is null or the lengths differ
     */
    public static double maxAbsDiff(double[] got, double[] expected) {
        return GradientError.maxAbsDiff(got, expected);
    }

    /**
     * A backend's float32 output widened (exactly) to double, to compare with the float64 reference.
     *
     * @param v the values. Not modified.
     * @return a new array of the same values as doubles
     */
    public static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
