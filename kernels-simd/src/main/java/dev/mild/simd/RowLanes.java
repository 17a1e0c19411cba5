package dev.mild.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rows in lanes: one vector holds expert j of L consecutive rows, so a row's p experts are p vectors and the
 * softmax of a row never needs a horizontal sum. This is the layout for few experts (with p = 2..8, experts
 * in lanes would leave most lanes idle) and for the general member, whose per-expert terms dominate.
 *
 * <p>Per block of L rows, {@link dev.mild.loss.ScalarKernel}'s algorithm lane by lane:
 * <pre>
 *   d_j = f_j - m (m: row maximum, j*: its first index)
 *   per group (inverse margin a):  e_j = 2^(d_j a log2 e) for j != j*,  zRest = sum_j e_j,  Z = 1 + zRest
 *     logsumexp: loss += sum_k w_k (a (m - f_k) + log1p zRest);  g_j += e_j a sumW / Z;  g_k -= a w_k
 *     general:   loss, coef and own terms of {@link CompSum} with others_k = (k == j*) ? zRest : Z - e_k
 *   g_{j*} += sum over groups of the coefficient (e_{j*} = 1 was left out of the sums)
 * </pre>
 * Values are float; each row's loss is summed in double lanes. {@code zRest} sums p terms in [0, 1] in
 * float, in two interleaved partial sums (relative error below p/2 * 2^-24 of a sum that is at least 1 in Z).
 */
final class RowLanes {
    private RowLanes() {
    }

    static double block(Plan plan, int rows, float[] scores, int sOff, float[] weights, int wOff,
                        float[] rowLoss, int rOff, float[] grad, int gOff, float gradScale, Scratch sc) {
        int p = plan.p;
        double sum = 0.0;
        for (int r = 0; r < rows; r += Species.L) {
            int n = Math.min(Species.L, rows - r);
            sum += rowBlock(plan, n, scores, sOff + r * p, weights, wOff + r * p, rowLoss, rOff + r,
                    grad, gOff + r * p, gradScale, sc);
        }
        return sum;
    }

    /** Up to L rows starting at the given offsets; returns the sum of their losses. */
    private static double rowBlock(Plan plan, int n, float[] scores, int s, float[] weights, int w,
                                   float[] rowLoss, int ro, float[] grad, int go, float gradScale, Scratch sc) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int p = plan.p;
        VectorMask<Float> live = F.indexInRange(0, n);
        int map = n * L;
        float[] d = sc.d;
        float[] dExp = sc.dExp;
        float[] wt = sc.w;
        float[] g = sc.g;
        float[] e = sc.e;
        boolean withGrad = grad != null;

        // Columns in (lanes beyond n read as 0 and are never written back).
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < p; j++) {
            FloatVector f = FloatVector.fromArray(F, scores, s + j, plan.laneStride, map, live);
            f.intoArray(d, j * L);
            m = m.max(f);
            FloatVector.fromArray(F, weights, w + j, plan.laneStride, map, live).intoArray(wt, j * L);
        }
        VectorMask<Float> seen = F.maskAll(false);
        for (int j = 0; j < p; j++) {
            FloatVector f = FloatVector.fromArray(F, d, j * L);
            VectorMask<Float> top = f.eq(m).andNot(seen);
            seen = seen.or(top);
            FloatVector dj = f.sub(m);
            dj.intoArray(d, j * L);
            dj.blend(Float.NEGATIVE_INFINITY, top).intoArray(dExp, j * L);
            if (withGrad) {
                FloatVector.zero(F).intoArray(g, j * L);
            }
        }

        DoubleVector lossLo = DoubleVector.zero(Species.D);
        DoubleVector lossHi = DoubleVector.zero(Species.D);
        FloatVector coefSum = FloatVector.zero(F); // what the top expert gets (its e_j = 1 was left out)
        if (!plan.logSumExp) {
            java.util.Arrays.fill(sc.loss, 0.0);
        }
        for (int grp = 0; grp < plan.groups; grp++) {
            float a = plan.groupA[grp];
            float scale = plan.groupScale[grp];
            FloatVector z0 = FloatVector.zero(F);
            FloatVector z1 = FloatVector.zero(F);
            int j = 0;
            for (; j + 1 < p; j += 2) {
                FloatVector e0 = VectorMath.exp2(FloatVector.fromArray(F, dExp, j * L).mul(scale));
                FloatVector e1 = VectorMath.exp2(FloatVector.fromArray(F, dExp, (j + 1) * L).mul(scale));
                e0.intoArray(e, j * L);
                e1.intoArray(e, (j + 1) * L);
                z0 = z0.add(e0);
                z1 = z1.add(e1);
            }
            if (j < p) {
                FloatVector e0 = VectorMath.exp2(FloatVector.fromArray(F, dExp, j * L).mul(scale));
                e0.intoArray(e, j * L);
                z0 = z0.add(e0);
            }
            FloatVector zRest = z0.add(z1);
            FloatVector z = zRest.add(1f);
            FloatVector invZ = z.broadcast(1f).div(z);
            int from = plan.groupStart[grp];
            int to = plan.groupStart[grp + 1];
            FloatVector coef;
            FloatVector topPart;
            if (plan.logSumExp) {
                FloatVector logZ = VectorMath.log1p(zRest, z, invZ);
                FloatVector sumW = FloatVector.zero(F);
                FloatVector sumWOthers = FloatVector.zero(F); // members other than the row's top expert
                FloatVector wTop = FloatVector.zero(F);       // the top expert's weight, where it is a member
                for (int t = from; t < to; t++) {
                    int k = plan.members[t];
                    FloatVector wk = FloatVector.fromArray(F, wt, k * L);
                    VectorMask<Float> top = FloatVector.fromArray(F, dExp, k * L).eq(Float.NEGATIVE_INFINITY);
                    sumW = sumW.add(wk);
                    sumWOthers = sumWOthers.add(wk, top.not());
                    wTop = wTop.add(wk, top);
                    FloatVector x = FloatVector.fromArray(F, d, k * L).mul(-a);
                    FloatVector term = wk.mul(x.add(logZ));
                    lossLo = lossLo.add(term.convert(VectorOperators.F2D, 0));
                    lossHi = lossHi.add(term.convert(VectorOperators.F2D, 1));
                    if (withGrad) {
                        FloatVector gk = FloatVector.fromArray(F, g, k * L);
                        wk.fma(wk.broadcast(-a), gk).blend(gk, top).intoArray(g, k * L);
                    }
                }
                coef = sumW.mul(a).mul(invZ);
                // The top expert's own share, a (sumW / Z - w_top) = a (sumWOthers - w_top zRest) / Z, without
                // the cancellation of the two O(a w) terms when zRest is small.
                topPart = wTop.fma(zRest.neg(), sumWOthers).mul(a).mul(invZ);
            } else {
                coef = general(plan, grp, a, from, to, zRest, z, withGrad, sc);
                topPart = toFloats(sc.top);
            }
            if (withGrad) {
                coefSum = coefSum.add(topPart);
                for (int jj = 0; jj < p; jj++) {
                    FloatVector.fromArray(F, e, jj * L).fma(coef, FloatVector.fromArray(F, g, jj * L)).intoArray(g, jj * L);
                }
            }
        }

        if (!plan.logSumExp) {
            lossLo = DoubleVector.fromArray(Species.D, sc.loss, 0);
            lossHi = DoubleVector.fromArray(Species.D, sc.loss, Species.D.length());
        }
        if (rowLoss != null) {
            FloatVector lo = (FloatVector) lossLo.convert(VectorOperators.D2F, 0);
            FloatVector hi = (FloatVector) lossHi.convert(VectorOperators.D2F, -1);
            lo.add(hi).intoArray(rowLoss, ro, live);
        }
        if (withGrad) {
            for (int j = 0; j < p; j++) {
                FloatVector gj = FloatVector.fromArray(F, g, j * L);
                VectorMask<Float> top = FloatVector.fromArray(F, dExp, j * L).eq(Float.NEGATIVE_INFINITY);
                gj.add(coefSum, top).mul(gradScale).intoArray(grad, go + j, plan.laneStride, map, live);
            }
        }
        double[] lanes = sc.lanesD;
        lossLo.intoArray(lanes, 0);
        lossHi.intoArray(lanes, Species.D.length());
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            sum += lanes[i];
        }
        return sum;
    }

    /**
     * The general member for one group: per member k, {@link CompSum#terms} on each half of the lanes (double
     * lanes are half as many); subtracts {@code own_k} from {@code g_k} (not at the top expert), leaves the
     * top expert's share in {@code sc.top} and returns the group's softmax coefficient.
     */
    private static FloatVector general(Plan plan, int grp, float a, int from, int to, FloatVector zRest,
                                       FloatVector z, boolean withGrad, Scratch sc) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int half = Species.D.length();
        java.util.Arrays.fill(sc.coef, 0.0);
        java.util.Arrays.fill(sc.top, 0.0);
        double[] own = withGrad ? sc.own : null;
        for (int t = from; t < to; t++) {
            int k = plan.members[t];
            FloatVector ek = FloatVector.fromArray(F, sc.e, k * L);
            VectorMask<Float> top = FloatVector.fromArray(F, sc.dExp, k * L).eq(Float.NEGATIVE_INFINITY);
            FloatVector isTop = FloatVector.zero(F).blend(1f, top);
            FloatVector others = z.sub(ek).blend(zRest, top);
            FloatVector x = FloatVector.fromArray(F, sc.d, k * L).mul(-a);
            FloatVector wk = FloatVector.fromArray(F, sc.w, k * L);
            CompSum.terms((DoubleVector) others.convert(VectorOperators.F2D, 0),
                    (DoubleVector) x.convert(VectorOperators.F2D, 0), (DoubleVector) wk.convert(VectorOperators.F2D, 0),
                    (DoubleVector) isTop.convert(VectorOperators.F2D, 0),
                    a, plan.delta[k], plan.expDelta[k], plan.nu, sc.loss, sc.coef, sc.top, own, 0);
            CompSum.terms((DoubleVector) others.convert(VectorOperators.F2D, 1),
                    (DoubleVector) x.convert(VectorOperators.F2D, 1), (DoubleVector) wk.convert(VectorOperators.F2D, 1),
                    (DoubleVector) isTop.convert(VectorOperators.F2D, 1),
                    a, plan.delta[k], plan.expDelta[k], plan.nu, sc.loss, sc.coef, sc.top, own, half);
            if (withGrad) {
                FloatVector.fromArray(F, sc.g, k * L).sub(toFloats(sc.own)).intoArray(sc.g, k * L);
            }
        }
        return toFloats(sc.coef);
    }

    /** L doubles as one float vector. */
    private static FloatVector toFloats(double[] v) {
        FloatVector lo = (FloatVector) DoubleVector.fromArray(Species.D, v, 0).convert(VectorOperators.D2F, 0);
        FloatVector hi = (FloatVector) DoubleVector.fromArray(Species.D, v, Species.D.length())
                .convert(VectorOperators.D2F, -1);
        return lo.add(hi);
    }
}
