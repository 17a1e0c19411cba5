package dev.mild.simd;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

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
 *   own_k    = a w_k S_k^(-nu) (S_k - 1 + e^delta_k) = coef_k others_k + a w_k e^delta_k S_k^(-nu)   (from grad_k)
 * </pre>
 */
final class CompSum {
    private CompSum() {
    }

    /**
     * One vector of items sharing expert k (rows in lanes), in double lanes, accumulating into per-lane arrays
     * of L doubles. Inputs are in {@code sc.xOthers}, {@code sc.xX}, {@code sc.xW}, {@code sc.xTop} (L doubles
     * each): {@code others = sum_{k' != k} exp(a (f_k' - m)) >= 0}, {@code x = a (m - f_k) >= 0}, the weights,
     * and {@code -inf} where k is the row's first argmax.
     *
     * <p>Where k is the top expert, its gradient gets {@code coef - own_k} as one term instead of {@code coef}
     * through the softmax and {@code -own_k} separately: both are about {@code w a e^delta} and their
     * difference, {@code -a w S^-nu (S - 1)}, can be many orders smaller (a dominating winner). Even in double
     * the subtraction would keep only {@code 1e-16 / (S - 1)} of it, so it is formed directly from
     * {@code S - 1 = e^delta zRest} (x = 0 and others = zRest at the top expert).
     *
     * <p>Modified: {@code sc.loss} ({@code += w Phi(S)}); with the gradient also {@code sc.coefD}
     * ({@code += coef = w a exp(delta + x - nu log S)}), {@code sc.topD} ({@code += coef} off the top expert,
     * {@code -a w S^-nu e^delta zRest} at it) and {@code sc.ownD} ({@code = own_k}, 0 at the top expert).
     * The work is split into small steps that pass arrays, never vectors: wherever C2 stops inlining, a step
     * is an ordinary call, and no vector is boxed on the heap (see {@link VectorMath}'s double lanes).
     */
    static void terms(Scratch sc, double a, double delta, double expDelta, double nu, boolean withGrad) {
        int n = Species.D.length();
        for (int off = 0; off < Species.L; off += n) {
            logOthers(sc, delta, off);
            VectorMath.softplus(sc.xV, sc.xTail, sc.xLogS, off); // log S = max(v, 0) + tail
            loss(sc, nu, off);
            if (withGrad) {
                coefficient(sc, a, delta, nu, off);
                own(sc, a, expDelta, nu, off);
            }
        }
    }

    // Each step calls at most one of VectorMath's functions, which C2 can then inline into the step's own
    // compile (one exp or log fills much of its node budget); the steps and those functions pass arrays, never
    // vectors, so wherever C2 stops inlining the call is a plain call, not a boxed vector on the heap.

    /** {@code log others} into {@code sc.xLogOthers} and {@code v = log others + x + delta} into {@code sc.xV}: log S is softplus(v). */
    private static void logOthers(Scratch sc, double delta, int off) {
        VectorMath.log(sc.xOthers, sc.xLogOthers, off);
        DoubleVector x = DoubleVector.fromArray(Species.D, sc.xX, off);
        DoubleVector.fromArray(Species.D, sc.xLogOthers, off).add(x).add(delta).intoArray(sc.xV, off);
    }

    /**
     * {@code loss += w Phi(S)}: {@code log S} for nu = 1, else {@code (S^(1-nu) - 1) / (1 - nu) = expm1((1 - nu)
     * log S) / (1 - nu)}.
     */
    private static void loss(Scratch sc, double nu, int off) {
        double[] phi = sc.xLogS; // an array, not a vector, chosen by the branch: no vector merges two paths
        double divisor = 1.0;
        if (nu != 1.0) {
            DoubleVector.fromArray(Species.D, sc.xLogS, off).mul(1.0 - nu).intoArray(sc.ownD, off);
            VectorMath.expm1(sc.ownD, sc.phiD, off);
            phi = sc.phiD;
            divisor = 1.0 - nu;
        }
        DoubleVector w = DoubleVector.fromArray(Species.D, sc.xW, off);
        DoubleVector term = w.mul(DoubleVector.fromArray(Species.D, phi, off).div(divisor));
        DoubleVector.fromArray(Species.D, sc.loss, off).add(term).intoArray(sc.loss, off);
    }

    /**
     * {@code coef = w a exp(delta + x - nu log S)}: into {@code sc.coefD}, into {@code sc.topD} off the top expert,
     * and this item's coef into {@code sc.xX} for {@link #own}. With {@code u = delta + x} and {@code log S =
     * max(v, 0) + tail}, the exponent is {@code (1 - nu) u - nu (log others + tail)} where v > 0: formed as
     * {@code u - nu log S} it took log others back out of its sum with u, where x of 1e16 (rho 1e-16, a score gap
     * of 1) had rounded it away, and the gradient was 2x off for two tied top scores.
     */
    private static void coefficient(Scratch sc, double a, double delta, double nu, int off) {
        DoubleVector u = DoubleVector.fromArray(Species.D, sc.xX, off).add(delta);
        DoubleVector nuTail = DoubleVector.fromArray(Species.D, sc.xTail, off).mul(nu);
        DoubleVector large = u.mul(1.0 - nu).sub(DoubleVector.fromArray(Species.D, sc.xLogOthers, off).mul(nu));
        VectorMask<Double> positive = DoubleVector.fromArray(Species.D, sc.xV, off).compare(VectorOperators.GT, 0.0);
        u.blend(large, positive).sub(nuTail).intoArray(sc.ownD, off);
        VectorMath.exp(sc.ownD, sc.ownD, off);
        DoubleVector coef = DoubleVector.fromArray(Species.D, sc.xW, off).mul(a)
                .mul(DoubleVector.fromArray(Species.D, sc.ownD, off));
        VectorMask<Double> top = DoubleVector.fromArray(Species.D, sc.xTop, off).eq(Double.NEGATIVE_INFINITY);
        coef.intoArray(sc.xX, off); // x is not needed again; own() takes this item's coef from here
        DoubleVector.fromArray(Species.D, sc.coefD, off).add(coef).intoArray(sc.coefD, off);
        DoubleVector.fromArray(Species.D, sc.topD, off).add(coef.blend(0.0, top)).intoArray(sc.topD, off);
    }

    /**
     * {@code own = a w S^(-nu) (S - 1 + e^delta) = coef others + a w e^delta S^(-nu)} into {@code sc.ownD} off
     * the top expert ({@code S - 1 = e^(delta + x) others}, so {@code coef others} is its part without forming
     * {@code 1 - 1/S}, which lost the whole term when S - 1 is below double's resolution, as with a negative
     * delta); at the top expert {@code coef - own = -a w S^-nu e^delta zRest} into {@code sc.topD} (others =
     * zRest there).
     */
    private static void own(Scratch sc, double a, double expDelta, double nu, int off) {
        DoubleVector.fromArray(Species.D, sc.xLogS, off).mul(-nu).intoArray(sc.ownD, off);
        VectorMath.exp(sc.ownD, sc.ownD, off);
        DoubleVector invSnu = DoubleVector.fromArray(Species.D, sc.ownD, off);
        DoubleVector aw = DoubleVector.fromArray(Species.D, sc.xW, off).mul(a);
        DoubleVector coef = DoubleVector.fromArray(Species.D, sc.xX, off); // stored by coefficient()
        DoubleVector own = coef.mul(DoubleVector.fromArray(Species.D, sc.xOthers, off)).add(aw.mul(invSnu).mul(expDelta));
        DoubleVector topShare = aw.mul(invSnu).mul(DoubleVector.fromArray(Species.D, sc.xOthers, off)).mul(-expDelta);
        VectorMask<Double> top = DoubleVector.fromArray(Species.D, sc.xTop, off).eq(Double.NEGATIVE_INFINITY);
        DoubleVector.fromArray(Species.D, sc.topD, off).add(topShare.blend(0.0, top.not())).intoArray(sc.topD, off);
        own.blend(0.0, top).intoArray(sc.ownD, off);
    }

    /** {@code out[k] = exp(in[k])} with the kernel's exp, so that e^delta cancels exactly where the math says it does. */
    static void expOf(double[] in, double[] out) {
        int n = Species.D.length();
        double[] x = Arrays.copyOf(in, (in.length + n - 1) / n * n); // whole vectors; built once per plan
        double[] e = new double[x.length];
        for (int i = 0; i < x.length; i += n) {
            VectorMath.exp(x, e, i);
        }
        System.arraycopy(e, 0, out, 0, in.length);
    }
}
