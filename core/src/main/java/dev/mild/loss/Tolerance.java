package dev.mild.loss;

/**
 * The agreement a backend promises with the float64 truth, stated once here and used by the tests and by
 * {@code mild golden}:
 * <ul>
 *   <li>{@code lossRelErr = max_i |l_i - l*_i| / max(1, m*_i)} must be at most {@link #lossRelative}, where
 *       {@code m*_i = sum_k |w_k| Phi(S*_k)} is the size of row i's terms in float64
 *       ({@link ReferenceKernel#evaluate(LossConfig, int, double[], double[], double[], double[], double[])})</li>
 *   <li>{@code gradErr = max|g - g*| / max|g*|} (0 when {@code g* = 0}) must be at most {@link #gradNormwise}</li>
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
 */
public record Tolerance(double lossRelative, double gradNormwise) {

    /** The float64 reference backend. */
    public static final Tolerance FLOAT64 = new Tolerance(1e-10, 1e-10);

    /** Backends computing in float32 (accumulating in float64 where accuracy needs it). */
    public static final Tolerance FLOAT32 = new Tolerance(1e-5, 1e-4);

    /** True when both errors are within this tolerance (a NaN error is never within). */
    public boolean accepts(double lossRelErr, double gradErr) {
        return lossRelErr <= lossRelative && gradErr <= gradNormwise;
    }
}
