package dev.mild.simd;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rows in lanes: one vector holds expert j of L consecutive rows, so a row's p experts are p vectors and the
 * softmax of a row needs no horizontal sum. This is the layout for few experts (with p = 2..8, experts in
 * lanes would leave most lanes idle), for many distinct margins, and for the general member.
 *
 * <p>Per block of L rows, {@link dev.mild.loss.ScalarKernel}'s algorithm lane by lane:
 * <pre>
 *   d_j = f_j - m (m: row maximum, j*: its first index)
 *   per group (inverse margin a):  e_j = 2^(d_j a log2 e) for j != j*,  zRest = sum_j e_j,  Z = 1 + zRest
 *     logsumexp: loss += sum_k w_k (a (m - f_k) + log1p zRest);  g_j += e_j a sumW / Z;  g_k -= a w_k
 *     general:   loss, coef and own terms of {@link CompSum} with others_k = (k == j*) ? zRest : Z - e_k
 *   g_j* gets its share of every group separately (see {@link #logSumExpGroup}), not through e_j* = 1
 * </pre>
 * Values are float; each row's loss is summed in double (double lanes for the general member, a compensated
 * float sum for logsumexp). {@code zRest} sums p terms in [0, 1] in
 * float, in two interleaved partial sums (relative error below p/2 * 2^-24 of a sum that is at least 1 in Z).
 * Rows go in and out of lanes through {@link Transpose}.
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
        int p = plan.p;
        int length = p * Species.L;
        boolean withGrad = grad != null;
        gatherColumns(plan, n, scores, s, weights, w, sc);
        markTop(p, sc, withGrad);
        Arrays.fill(sc.loss, 0.0);
        Arrays.fill(sc.lossHi, 0f);
        Arrays.fill(sc.lossLo, 0f);
        Arrays.fill(sc.topSum, 0f);
        // Groups in batches: all exps of the batch, then the batch's logs (independent, so they overlap in the
        // CPU instead of waiting on each other's division and log latency), then one pass over the gradient.
        for (int g0 = 0; g0 < plan.groups; g0 += plan.groupBatch) {
            int batch = Math.min(plan.groupBatch, plan.groups - g0);
            for (int b = 0; b < batch; b++) {
                Lanes.exp2Sum(sc.dExp, sc.e, b * length, length, plan.groupScale[g0 + b], sc.zRest, b * Species.L);
            }
            for (int b = 0; b < batch; b++) {
                if (plan.logSumExp) {
                    logSumExpGroup(plan, g0 + b, b, sc, withGrad);
                } else {
                    generalGroup(plan, g0 + b, b, sc, withGrad);
                }
            }
            if (withGrad) {
                Lanes.addScaledColumns(sc.e, length, batch, p, sc.coef, sc.g);
            }
        }
        if (withGrad) {
            scatterGradient(plan, n, grad, go, gradScale, sc);
        }
        return plan.logSumExp ? rowLossesCompensated(n, rowLoss, ro, sc) : rowLosses(n, rowLoss, ro, sc);
    }

    /** Columns in: {@code d[j L + i] = f(row i, expert j)}, same for weights; lanes from n on read 0. */
    private static void gatherColumns(Plan plan, int n, float[] scores, int s, float[] weights, int w, Scratch sc) {
        Transpose.columnsIn(scores, s, plan.p, n, plan.laneStride, sc.d, sc.e);
        Transpose.columnsIn(weights, w, plan.p, n, plan.laneStride, sc.w, sc.e);
    }

    /** {@code d -= m}; {@code dExp = d} with {@code -inf} at each row's first argmax; {@code g = 0}. */
    private static void markTop(int p, Scratch sc, boolean withGrad) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < p; j++) {
            m = m.max(FloatVector.fromArray(F, sc.d, j * L));
        }
        VectorMask<Float> seen = F.maskAll(false);
        for (int j = 0; j < p; j++) {
            FloatVector dj = FloatVector.fromArray(F, sc.d, j * L).sub(m);
            VectorMask<Float> top = dj.eq(0f).andNot(seen);
            seen = seen.or(top);
            dj.intoArray(sc.d, j * L);
            dj.blend(Float.NEGATIVE_INFINITY, top).intoArray(sc.dExp, j * L);
            if (withGrad) {
                FloatVector.zero(F).intoArray(sc.g, j * L);
            }
        }
    }

    /**
     * The logsumexp member, one group (in slot b of the batch): loss terms into {@code sc.lossHi/lossLo},
     * {@code -a w_k} into {@code g_k}, the softmax coefficient {@code a sumW / Z} into slot b of
     * {@code sc.coef}, the top expert's share into {@code sc.topSum}.
     */
    private static void logSumExpGroup(Plan plan, int grp, int b, Scratch sc, boolean withGrad) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        float a = plan.groupA[grp];
        FloatVector zRest = FloatVector.fromArray(F, sc.zRest, b * L);
        FloatVector z = zRest.add(1f);
        FloatVector invZ = z.broadcast(1f).div(z);
        FloatVector logZ = VectorMath.log1p(zRest, z, invZ);
        // Row losses as compensated float sums (TwoSum): float64-grade sums without converting lanes.
        FloatVector lossHi = FloatVector.fromArray(F, sc.lossHi, 0);
        FloatVector lossLo = FloatVector.fromArray(F, sc.lossLo, 0);
        FloatVector sumW = FloatVector.zero(F);
        FloatVector sumWOthers = FloatVector.zero(F); // members other than the row's top expert
        FloatVector wTop = FloatVector.zero(F);       // the top expert's weight, where it is a member
        for (int t = plan.groupStart[grp]; t < plan.groupStart[grp + 1]; t++) {
            int k = plan.members[t];
            FloatVector wk = FloatVector.fromArray(F, sc.w, k * L);
            VectorMask<Float> top = FloatVector.fromArray(F, sc.dExp, k * L).eq(Float.NEGATIVE_INFINITY);
            sumW = sumW.add(wk);
            sumWOthers = sumWOthers.add(wk, top.not());
            wTop = wTop.add(wk, top);
            FloatVector term = wk.mul(FloatVector.fromArray(F, sc.d, k * L).mul(-a).add(logZ));
            FloatVector sum = lossHi.add(term);
            FloatVector virt = sum.sub(lossHi);
            lossLo = lossLo.add(lossHi.sub(sum.sub(virt)).add(term.sub(virt)));
            lossHi = sum;
            if (withGrad) {
                FloatVector gk = FloatVector.fromArray(F, sc.g, k * L);
                wk.fma(wk.broadcast(-a), gk).blend(gk, top).intoArray(sc.g, k * L);
            }
        }
        lossHi.intoArray(sc.lossHi, 0);
        lossLo.intoArray(sc.lossLo, 0);
        if (withGrad) {
            sumW.mul(a).mul(invZ).intoArray(sc.coef, b * L);
            // The top expert's share a (sumW / Z - w_top) written as a (sumWOthers - w_top zRest) / Z: the two
            // O(a w) terms would cancel in float when zRest is small.
            FloatVector share = wTop.fma(zRest.neg(), sumWOthers).mul(a).mul(invZ);
            FloatVector.fromArray(F, sc.topSum, 0).add(share).intoArray(sc.topSum, 0);
        }
    }

    /**
     * The general member, one group (in slot b of the batch): per member k, {@link CompSum#terms} on each
     * half of the lanes (double lanes are half as many); {@code own_k} subtracted from {@code g_k} (not at
     * the top expert), the softmax coefficient into slot b of {@code sc.coef}, the top expert's share into
     * {@code sc.topSum}.
     */
    private static void generalGroup(Plan plan, int grp, int b, Scratch sc, boolean withGrad) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int half = Species.D.length();
        float a = plan.groupA[grp];
        int eOff = b * plan.p * L;
        FloatVector zRest = FloatVector.fromArray(F, sc.zRest, b * L);
        FloatVector z = zRest.add(1f);
        Arrays.fill(sc.coefD, 0.0);
        Arrays.fill(sc.topD, 0.0);
        double[] own = withGrad ? sc.ownD : null;
        for (int t = plan.groupStart[grp]; t < plan.groupStart[grp + 1]; t++) {
            int k = plan.members[t];
            VectorMask<Float> top = FloatVector.fromArray(F, sc.dExp, k * L).eq(Float.NEGATIVE_INFINITY);
            FloatVector isTop = FloatVector.zero(F).blend(1f, top);
            FloatVector others = z.sub(FloatVector.fromArray(F, sc.e, eOff + k * L)).blend(zRest, top);
            FloatVector x = FloatVector.fromArray(F, sc.d, k * L).mul(-a);
            FloatVector wk = FloatVector.fromArray(F, sc.w, k * L);
            CompSum.terms((DoubleVector) others.convert(VectorOperators.F2D, 0),
                    (DoubleVector) x.convert(VectorOperators.F2D, 0), (DoubleVector) wk.convert(VectorOperators.F2D, 0),
                    (DoubleVector) isTop.convert(VectorOperators.F2D, 0),
                    a, plan.delta[k], plan.expDelta[k], plan.nu, sc.loss, sc.coefD, sc.topD, own, 0);
            CompSum.terms((DoubleVector) others.convert(VectorOperators.F2D, 1),
                    (DoubleVector) x.convert(VectorOperators.F2D, 1), (DoubleVector) wk.convert(VectorOperators.F2D, 1),
                    (DoubleVector) isTop.convert(VectorOperators.F2D, 1),
                    a, plan.delta[k], plan.expDelta[k], plan.nu, sc.loss, sc.coefD, sc.topD, own, half);
            if (withGrad) {
                FloatVector.fromArray(F, sc.g, k * L).sub(toFloats(sc.ownD)).intoArray(sc.g, k * L);
            }
        }
        if (withGrad) {
            toFloats(sc.coefD).intoArray(sc.coef, b * L);
            FloatVector.fromArray(F, sc.topSum, 0).add(toFloats(sc.topD)).intoArray(sc.topSum, 0);
        }
    }

    /** Columns out: {@code grad(row i, expert j) = (g[j L + i] + [j = j*] topSum[i]) * gradScale}, rows below n. */
    private static void scatterGradient(Plan plan, int n, float[] grad, int go, float gradScale, Scratch sc) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector topSum = FloatVector.fromArray(F, sc.topSum, 0);
        for (int j = 0; j < plan.p; j++) {
            VectorMask<Float> top = FloatVector.fromArray(F, sc.dExp, j * L).eq(Float.NEGATIVE_INFINITY);
            FloatVector.fromArray(F, sc.g, j * L).add(topSum, top).mul(gradScale).intoArray(sc.g, j * L);
        }
        Transpose.rowsOut(sc.g, plan.p, n, plan.laneStride, grad, go, sc.e);
    }

    /** Writes the first n rows' losses (rounded to float) and returns their sum, in row order, in double. */
    private static double rowLosses(int n, float[] rowLoss, int ro, Scratch sc) {
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            if (rowLoss != null) {
                rowLoss[ro + i] = (float) sc.loss[i];
            }
            sum += sc.loss[i];
        }
        return sum;
    }

    /** The same from the compensated float sums of the logsumexp member. */
    private static double rowLossesCompensated(int n, float[] rowLoss, int ro, Scratch sc) {
        if (rowLoss != null) {
            FloatVector.fromArray(Species.F, sc.lossHi, 0).add(FloatVector.fromArray(Species.F, sc.lossLo, 0))
                    .intoArray(rowLoss, ro, Species.F.indexInRange(0, n));
        }
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            sum += (double) sc.lossHi[i] + sc.lossLo[i];
        }
        return sum;
    }

    /** L doubles as one float vector. */
    private static FloatVector toFloats(double[] v) {
        FloatVector lo = (FloatVector) DoubleVector.fromArray(Species.D, v, 0).convert(VectorOperators.D2F, 0);
        FloatVector hi = (FloatVector) DoubleVector.fromArray(Species.D, v, Species.D.length())
                .convert(VectorOperators.D2F, -1);
        return lo.add(hi);
    }
}
