package dev.mild.loss;

/** Scalar log-space helpers shared by the CPU kernels. */
public final class LogSpace {
    private LogSpace() {
    }

    /** {@code log(1 + exp(x))} without overflow; {@code softplus(-inf) = 0} (p = 1: no other expert). */
    public static double softplus(double x) {
        return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    }

    /**
     * MATH.md's {@code Phi(S)} from {@code log S}: {@code log S} when {@code nu = 1}, else
     * {@code (S^(1-nu) - 1)/(1-nu) = expm1((1-nu) log S)/(1-nu)}, exact near {@code S = 1}.
     */
    public static double phi(double logS, double nu) {
        return nu == 1.0 ? logS : Math.expm1((1.0 - nu) * logS) / (1.0 - nu);
    }
}
