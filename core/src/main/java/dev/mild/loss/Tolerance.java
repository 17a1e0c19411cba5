package dev.mild.loss;

/**
 * The agreement a backend promises with the float64 truth, stated once here and used by the tests and by
 * {@code mild golden}:
 * <ul>
 *   <li>{@code lossRelErr = max_i |l_i - l*_i| / max(1, |l*_i|)} must be at most {@link #lossRelative}</li>
 *   <li>{@code gradErr = max|g - g*| / max|g*|} (0 when {@code g* = 0}) must be at most {@link #gradNormwise}</li>
 * </ul>
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
