package dev.mild.loss;

/** Scalar log-space helpers shared by the scalar and reference kernels. */
final class LogSpace {
    private LogSpace() {
    }

    /**
     * {@code log1p(exp(-|v|))}, the tail of {@code softplus(v) = log(1 + e^v) = max(v, 0) + tail}, which never
     * overflows ({@code softplus(-inf) = 0}: p = 1, no other expert). The kernels keep the two parts apart: the
     * gradient's exponent {@code u - nu log S} is formed from them without taking a sum apart again.
     */
    static double softplusTail(double v) {
        return Math.log1p(Math.exp(-Math.abs(v)));
    }

    /**
     * MATH.md's {@code Phi(S)} from {@code log S}: {@code log S} when {@code nu = 1}, else
     * {@code (S^(1-nu) - 1)/(1-nu) = expm1((1-nu) log S)/(1-nu)}, exact near {@code S = 1}.
     */
    static double phi(double logS, double nu) {
        return nu == 1.0 ? logS : Math.expm1((1.0 - nu) * logS) / (1.0 - nu);
    }
}
