package dev.mild.loss;

/**
 * The agreement a backend promises with the float64 truth, stated once here and used by the tests and by
 * {@code mild golden}:
 * <ul>
 *   <li>{@code lossRelErr = max_i |l_i - l*_i| / max(1, m*_i)} must be at most {@link #lossRelative}, where
 *       {@code m*_i = sum_k |w_k| Phi(S*_k)} is the size of row i's terms in float64
 *       ({@link ReferenceKernel#evaluate(LossConfig, int, double[], double[], double[], double[], double[])})</li>
 *   <li>the gradient must meet one of two bounds ({@link GradientError} computes both):
 *       {@code max|g - g*| / max|g*| <= gradNormwise} (0 when {@code g* = 0}), or
 *       {@code max|g - g*| / max T* <= gradTermwise}, where {@code T*_ij} is the size of the terms of
 *       {@code d(mean loss)/d f_ij}, the sum of the absolute values of MATH.md's additive contributions to it
 *       ({@link ReferenceKernel#evaluate(LossConfig, int, double[], double[], double[], double[], double[], double[])})</li>
 * </ul>
 * The loss error is measured against the terms, not against their sum, because that is where a float32 kernel
 * makes it: each term {@code w_k Phi(S_k)} holds {@code a_k (m - f_k)} formed in float32 from float32 inputs
 * (the subtraction and {@code a_k} rounded), which only float64 arithmetic in the kernels' hot loops would
 * avoid. With signed weights (the realizable family) the terms can cancel: a row of p = 15 terms of total size
 * 10711 netting -5.18 was off by 2.3e-5 to 3.7e-5 relative to |l*| on every float32 backend, and scores of 1e4
 * with rho of 1e-3 and weights (0, 1, -1) gave -2 for -0.977. Every member has {@code Phi(S) >= 0} ({@code S >= 1}:
 * {@code log S}, and {@code (S^(1-nu) - 1)/(1 - nu)} on either side of nu = 1), so with weights {@code >= 0}, as
 * in every member of MATH.md's table but the realizable one, {@code m*_i = |l*_i|} and the bound is the plain
 * relative one, {@code max(1, |l*_i|)}.
 *
 * <p>The gradient's second bound is there for the same reason. Near a stationary point (nearly tied scores with
 * equal weights, of either sign: a realizable row whose experts are all right has every weight {@code 2 - p})
 * an entry {@code e_j c - a w_j ...} is the difference of terms far larger than itself, and float32 rounding of
 * those terms put every float32 backend 5-8% off the tiny {@code g*}: the normwise bound refused correct kernels
 * there, so such inputs were left out of the tests. Against {@code T*} a correct kernel's error is a few float32
 * roundings of its terms, amplified by nu where {@code S^-nu} carries a rounded exponent. Measured per row (a
 * stricter maximum than the batch's), on rows with {@code max T* >= 10 max|g*|}: near-tied and tied scores with
 * equal weights of either sign, weights at a stationary point, realizable and random signed weights (p 2 to 64,
 * {@code nu <= 10}, rho 1e-20 to 1e20, delta over its accepted range; 283k rows), worst OpenCL 4.9e-6, SIMD
 * 3.4e-6, scalar 3.0e-6; with additive margins near their limit and score spreads up to 100 rho, 1.5e-5
 * (OpenCL), 9.1e-6 (SIMD), 8.0e-6 (scalar). {@code gradTermwise = 5e-5} is 3x that, and refuses a wrong entry
 * or a lost term of 5e-5 of the terms however small the gradient. The error grows like {@code nu |x| 2^-24} for
 * an exponent x: at nu 10 to 20 OpenCL reached 4.1e-5, and beyond nu = 20 it can pass the bound (1.1e-4 at
 * nu 20 to 40, weights at a stationary point, margins near their limit).
 *
 * @param lossRelative the largest accepted {@code lossRelErr}, as defined above
 * @param gradNormwise the largest accepted normwise gradient error {@code max|g - g*| / max|g*|}
 * @param gradTermwise the largest accepted termwise gradient error {@code max|g - g*| / max T*}; 0 accepts only
 *                     what the normwise bound does
 */
public record Tolerance(double lossRelative, double gradNormwise, double gradTermwise) {

    /**
     * The float64 reference backend, held to the normwise gradient bound alone ({@code gradTermwise = 0} accepts
     * only what the normwise bound does): its truth, the golden files, has no term sizes of its own.
     */
    public static final Tolerance FLOAT64 = new Tolerance(1e-10, 1e-10, 0.0);

    /** Backends computing in float32 (accumulating in float64 where accuracy needs it). */
    public static final Tolerance FLOAT32 = new Tolerance(1e-5, 1e-4, 5e-5);

    /**
     * True when both errors are within this tolerance, the gradient by the normwise bound alone (for a truth
     * without term sizes; a NaN error is never within).
     *
     * @param lossRelErr      the measured loss error, as {@link #lossRelative} defines it
     * @param gradNormwiseErr the measured normwise gradient error, as {@link #gradNormwise} defines it
     * @return {@code true} when both are at most their bounds
     */
    public boolean accepts(double lossRelErr, double gradNormwiseErr) {
        return lossRelErr <= lossRelative && gradNormwiseErr <= gradNormwise;
    }

    /**
     * True when the loss error and the gradient error are within this tolerance (a NaN error is never within).
     *
     * @param lossRelErr the measured loss error, as {@link #lossRelative} defines it
     * @param gradErr    the measured gradient errors, both bounds' ({@link GradientError#of})
     * @return {@code true} when the loss error is at most {@link #lossRelative} and
     *         {@link #acceptsGradient acceptsGradient(gradErr)}
     */
    public boolean accepts(double lossRelErr, GradientError gradErr) {
        return lossRelErr <= lossRelative && acceptsGradient(gradErr);
    }

    /**
     * True when the gradient meets the normwise bound or the termwise one (a NaN error meets neither).
     *
     * @param gradErr the measured gradient errors, both bounds' ({@link GradientError#of})
     * @return {@code true} when {@code gradErr.normwise() <= gradNormwise} or
     *         {@code gradErr.termwise() <= gradTermwise}
     */
    public boolean acceptsGradient(GradientError gradErr) {
        return gradErr.normwise() <= gradNormwise || gradErr.termwise() <= gradTermwise;
    }
}
