package dev.mild.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;

/**
 * The general member of the family ({@code nu != 1} or some {@code delta != 0}), per (row, expert) item, in
 * double lanes: the same formulas as the scalar kernel, at the same precision. Double because these terms
 * subtract large exponents ({@code delta + x - nu log S} with x up to 1e7 for scores of 1e4 and rho of
 * 1e-3), where float lanes would lose every digit; the exps of the softmax stay in float.
 *
 * <pre>
 *   log S_k  = softplus(delta_k + x_k + log others_k),   x_k = a (m - f_k)
 *   loss    += w_k Phi(S_k)
 *   coef    += w_k a exp(delta_k + x_k - nu log S_k)                (the softmax's share, times e_j)
 *   own_k    = a w_k (S_k^(1-nu) + (e^delta_k - 1) S_k^(-nu))       (subtracted from grad_k)
 * </pre>
 */
final class CompSum {
    private CompSum() {
    }

    /**
     * One vector of items sharing expert k (rows in lanes) and accumulating into per-lane arrays.
     *
     * <p>Where k is the row's first argmax (the lanes of {@code isTop}), the gradient of the top expert gets
     * {@code coef - own_k} as one double term instead of {@code coef} through the softmax and {@code -own_k}
     * separately: both are about {@code w a e^delta} and their difference can be many orders smaller (a
     * dominating winner), which float accumulation would lose.
     *
     * @param others  {@code sum_{k' != k} exp(a (f_k' - m))}, {@code >= 0}. Not modified.
     * @param x       {@code a (m - f_k) >= 0}. Not modified.
     * @param w       weights. Not modified.
     * @param isTop   1 where k is the row's first argmax, else 0. Not modified.
     * @param lossAcc per-lane loss sums at {@code off}: {@code += w Phi(S)}. Modified.
     * @param coefAcc per-lane softmax coefficients at {@code off}: {@code += coef = w a exp(delta + x - nu log S)}. Modified.
     * @param topAcc  per-lane top-expert terms at {@code off}: {@code += coef - isTop own}. Modified.
     * @param own     per-lane {@code own_k} (0 where isTop) at {@code off}, overwritten; {@code null} for loss only. Modified.
     */
    static void terms(DoubleVector others, DoubleVector x, DoubleVector w, DoubleVector isTop, double a,
                      double delta, double expDelta, double nu,
                      double[] lossAcc, double[] coefAcc, double[] topAcc, double[] own, int off) {
        DoubleVector logS = VectorMath.softplus(VectorMath.log(others).add(x).add(delta));
        DoubleVector phi = nu == 1.0 ? logS : VectorMath.expm1(logS.mul(1.0 - nu)).div(1.0 - nu);
        DoubleVector.fromArray(Species.D, lossAcc, off).add(w.mul(phi)).intoArray(lossAcc, off);
        if (own == null) {
            return;
        }
        DoubleVector wa = w.mul(a);
        DoubleVector coef = wa.mul(VectorMath.exp(x.add(delta).sub(logS.mul(nu))));
        DoubleVector invSnu = VectorMath.exp(logS.mul(-nu));
        DoubleVector sPow = nu == 1.0 ? logS.broadcast(1.0) : VectorMath.exp(logS.mul(1.0 - nu));
        DoubleVector ownK = wa.mul(sPow.add(invSnu.mul(expDelta - 1.0)));
        VectorMask<Double> top = isTop.eq(1.0);
        DoubleVector.fromArray(Species.D, coefAcc, off).add(coef).intoArray(coefAcc, off);
        DoubleVector.fromArray(Species.D, topAcc, off).add(coef.sub(ownK.blend(0.0, top.not()))).intoArray(topAcc, off);
        ownK.blend(0.0, top).intoArray(own, off);
    }

    /** {@code out[k] = exp(in[k])} with the kernel's exp, so that e^delta cancels exactly where the math says it does. */
    static void expOf(double[] in, double[] out) {
        int n = Species.D.length();
        for (int i = 0; i < in.length; i += n) {
            VectorMask<Double> m = Species.D.indexInRange(i, in.length);
            VectorMath.exp(DoubleVector.fromArray(Species.D, in, i, m)).intoArray(out, i, m);
        }
    }
}
