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
 *   g_j* gets its share of every group separately (see {@link #logSumExpGroup}), not through e_j* = 1;
 *   the logsumexp member's -a w_k is added once, when the gradient goes out
 * </pre>
 * With {@link Plan#skipTop} (logsumexp, an even number of groups) the exp loop does not compute the top
 * expert's exp at all: each row's last expert moves into its top expert's column, so a group has p - 1
 * columns of exps (the last expert's softmax part comes back out of that column in {@link #scatterGradient}).
 * Without it the top's exp is computed from {@code -inf} and is 0.
 * Values are float; each row's loss is summed in double (double lanes for the general member, a compensated
 * float sum for logsumexp). {@code zRest} sums at most p terms in [0, 1]
 * in float, in one or two partial sums (relative error below p * 2^-24 of a sum that is at least 1 in Z).
 * Rows go in and out of lanes through {@link Transpose}; the last partial block through zero-padded copies.
 */
final class RowLanes {
    private RowLanes() {
    }

    static double block(Plan plan, int rows, float[] scores, int sOff, float[] weights, int wOff,
                        float[] rowLoss, int rOff, float[] grad, int gOff, float gradScale, Scratch sc) {
        int p = plan.p;
        int L = Species.L;
        double sum = 0.0;
        int full = rows / L * L;
        for (int r = 0; r < full; r += L) {
            sum += rowBlock(plan, L, scores, sOff + r * p, weights, wOff + r * p, rowLoss, rOff + r,
                    grad, gOff + r * p, gradScale, sc);
        }
        int n = rows - full;
        if (n > 0) {
            // The last rows go through zero-padded copies: whole-vector loads and stores only. (Masked ones
            // past the end of an array run the Vector API's Java fallback, which allocates.)
            System.arraycopy(scores, sOff + full * p, sc.tailScores, 0, n * p);
            System.arraycopy(weights, wOff + full * p, sc.tailWeights, 0, n * p);
            Arrays.fill(sc.tailScores, n * p, p * L, 0f);
            Arrays.fill(sc.tailWeights, n * p, p * L, 0f);
            sum += rowBlock(plan, n, sc.tailScores, 0, sc.tailWeights, 0, rowLoss == null ? null : sc.tailLoss, 0,
                    grad == null ? null : sc.tailGrad, 0, gradScale, sc);
            if (rowLoss != null) {
                System.arraycopy(sc.tailLoss, 0, rowLoss, rOff + full, n);
            }
            if (grad != null) {
                System.arraycopy(sc.tailGrad, 0, grad, gOff + full * p, n * p);
            }
        }
        return sum;
    }

    /** L rows starting at the given offsets (the first n real, the others zero padding); returns the sum of the n rows' losses. */
    private static double rowBlock(Plan plan, int n, float[] scores, int s, float[] weights, int w,
                                   float[] rowLoss, int ro, float[] grad, int go, float gradScale, Scratch sc) {
        int p = plan.p;
        int length = plan.expLength;
        int L = Species.L;
        boolean withGrad = grad != null;
        gatherColumns(plan, scores, s, weights, w, sc);
        markTop(p, plan.skipTop, !plan.logSumExp, sc, withGrad);
        // One vector store each, not Arrays.fill (a call into a fill stub per array, measurable at small p)
        FloatVector zero = FloatVector.zero(Species.F);
        zero.intoArray(sc.topSum, 0);
        if (plan.logSumExp) {
            zero.intoArray(sc.lossHi, 0);
            zero.intoArray(sc.lossLo, 0);
        } else {
            Arrays.fill(sc.loss, 0.0);
        }
        // Groups in batches: all exps of the batch, then the batch's logs (independent, so they overlap in the
        // CPU instead of waiting on each other's division and log latency), then one pass over the gradient.
        for (int g0 = 0; g0 < plan.groups; g0 += plan.groupBatch) {
            int batch = Math.min(plan.groupBatch, plan.groups - g0);
            // All exps of the batch in one call; with skipTop the groups' inputs are the p - 1 columns of dRest.
            VectorMath.exp2Groups(plan.skipTop ? sc.dRest : sc.dExp, length, sc.e, 0, plan.groupScale, g0, sc.zRest, 0,
                    batch);
            if (plan.logSumExp) {
                VectorMath.log1p(sc.zRest, sc.logZ, sc.invZ, batch * L);
            }
            if (plan.logSumExp && plan.oneMemberGroups) {
                singleMemberGroups(plan, g0, batch, sc, withGrad);
            } else {
                for (int b = 0; b < batch; b++) {
                    if (plan.logSumExp) {
                        logSumExpGroup(plan, g0 + b, b, sc, withGrad);
                    } else {
                        generalGroup(plan, g0 + b, b, sc, withGrad);
                    }
                }
            }
            if (withGrad) {
                Lanes.addScaledColumns(sc.e, length, batch, plan.expColumns, sc.coef, sc.g);
            }
        }
        if (withGrad) {
            scatterGradient(plan, grad, go, gradScale, sc);
        }
        return plan.logSumExp ? rowLossesCompensated(n, rowLoss, ro, sc) : rowLosses(n, rowLoss, ro, sc);
    }

    /** Columns in: {@code d[j L + i] = f(row i, expert j)}, same for weights. */
    private static void gatherColumns(Plan plan, float[] scores, int s, float[] weights, int w, Scratch sc) {
        Transpose.columnsIn(scores, s, plan.p, plan.laneStride, sc.d);
        Transpose.columnsIn(weights, w, plan.p, plan.laneStride, sc.w);
    }

    /**
     * {@code d -= m}; {@code dExp = d} with {@code -inf} at each row's first argmax; {@code g = 0}; with
     * {@code skipTop}, {@code dRest} = d's first p - 1 columns with the last column's d at the top expert.
     */
    private static void markTop(int p, boolean skipTop, boolean keepScores, Scratch sc, boolean withGrad) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < p; j++) {
            FloatVector f = FloatVector.fromArray(F, sc.d, j * L);
            m = m.blend(f, f.compare(VectorOperators.GT, m)); // not max(): see VectorMath.exp2Groups
        }
        if (keepScores) { // the general member forms x = a (m - f_k) from them in double (see memberInputs)
            m.intoArray(sc.m, 0);
            System.arraycopy(sc.d, 0, sc.f, 0, p * L);
        }
        VectorMask<Float> seen = F.maskAll(false);
        FloatVector dLast = FloatVector.fromArray(F, sc.d, (p - 1) * L).sub(m);
        for (int j = 0; j < p; j++) {
            FloatVector dj = FloatVector.fromArray(F, sc.d, j * L).sub(m);
            VectorMask<Float> top = dj.eq(0f).andNot(seen);
            seen = seen.or(top);
            dj.intoArray(sc.d, j * L);
            dj.blend(Float.NEGATIVE_INFINITY, top).intoArray(sc.dExp, j * L);
            if (skipTop && j < p - 1) {
                dj.blend(dLast, top).intoArray(sc.dRest, j * L);
            }
            if (withGrad) {
                FloatVector.zero(F).intoArray(sc.g, j * L);
            }
        }
        if (p % 2 == 1 && !skipTop) {
            FloatVector.broadcast(F, Float.NEGATIVE_INFINITY).intoArray(sc.dExp, p * L); // the exp loop's padding
        }
    }

    /**
     * The logsumexp member, one group (in slot b of the batch): loss terms into {@code sc.lossHi/lossLo},
     * the softmax coefficient {@code a sumW / Z} into slot b of {@code sc.coef}, the top expert's share into
     * {@code sc.topSum} ({@code g_k -= a w_k} is left to {@link #scatterGradient}).
     */
    private static void logSumExpGroup(Plan plan, int grp, int b, Scratch sc, boolean withGrad) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        float a = plan.groupA[grp];
        FloatVector zRest = FloatVector.fromArray(F, sc.zRest, b * L);
        FloatVector invZ = FloatVector.fromArray(F, sc.invZ, b * L);
        FloatVector logZ = FloatVector.fromArray(F, sc.logZ, b * L);
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
     * {@link #logSumExpGroup} for a batch of groups of one member each (every margin distinct), in one loop:
     * the row losses and the top expert's share stay in registers across the groups instead of going through
     * scratch arrays once per group.
     */
    private static void singleMemberGroups(Plan plan, int g0, int batch, Scratch sc, boolean withGrad) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector lossHi = FloatVector.fromArray(F, sc.lossHi, 0);
        FloatVector lossLo = FloatVector.fromArray(F, sc.lossLo, 0);
        FloatVector topSum = FloatVector.fromArray(F, sc.topSum, 0);
        for (int b = 0; b < batch; b++) {
            int grp = g0 + b;
            float a = plan.groupA[grp];
            int k = plan.members[grp];
            FloatVector zRest = FloatVector.fromArray(F, sc.zRest, b * L);
            FloatVector invZ = FloatVector.fromArray(F, sc.invZ, b * L);
            FloatVector logZ = FloatVector.fromArray(F, sc.logZ, b * L);
            FloatVector wk = FloatVector.fromArray(F, sc.w, k * L);
            FloatVector term = wk.mul(FloatVector.fromArray(F, sc.d, k * L).mul(-a).add(logZ));
            // TwoSum written out, as in logSumExpGroup: one shared method in VectorMath for both made the kernel
            // 0.6x (p = 8 distinct) and 0.37x (p = 8 equal) as fast, most likely C2's inlining budget again.
            FloatVector sum = lossHi.add(term);
            FloatVector virt = sum.sub(lossHi);
            lossLo = lossLo.add(lossHi.sub(sum.sub(virt)).add(term.sub(virt)));
            lossHi = sum;
            if (withGrad) {
                VectorMask<Float> top = FloatVector.fromArray(F, sc.dExp, k * L).eq(Float.NEGATIVE_INFINITY);
                FloatVector coef = wk.mul(a).mul(invZ);
                coef.intoArray(sc.coef, b * L);
                // The top expert's share: coef where k is not the top expert, -a w_k zRest / Z where it is.
                topSum = topSum.add(coef.mul(zRest.broadcast(1f).blend(zRest.neg(), top)));
            }
        }
        lossHi.intoArray(sc.lossHi, 0);
        lossLo.intoArray(sc.lossLo, 0);
        topSum.intoArray(sc.topSum, 0);
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
        float a = plan.groupA[grp];
        int eOff = b * plan.expLength;
        Arrays.fill(sc.coefD, 0.0);
        Arrays.fill(sc.topD, 0.0);
        double aDouble = plan.config.groupInverseMargin(grp);
        if (plan.othersInDouble) {
            termsInDouble(plan.p, aDouble, sc);
        }
        for (int t = plan.groupStart[grp]; t < plan.groupStart[grp + 1]; t++) {
            int k = plan.members[t];
            memberInputs(plan, k, b, aDouble, eOff, sc);
            CompSum.terms(sc, a, plan.delta[k], plan.expDelta[k], plan.nu, withGrad);
            if (withGrad) {
                subtractOwn(k, sc);
            }
        }
        if (withGrad) {
            if (plan.othersInDouble) {
                softmaxPartInDouble(plan.p, sc);
            }
            toFloats(sc.coefD, sc.coef, b * L);
            toFloats(sc.topD, sc.lanesF, 0);
            FloatVector.fromArray(F, sc.topSum, 0).add(FloatVector.fromArray(F, sc.lanesF, 0)).intoArray(sc.topSum, 0);
        }
    }

    /**
     * Expert k's others, x (from the scores, with the double inverse margin a), weight and d (-inf at the top
     * expert), in double into {@code sc.xOthers, xX, xW, xTop}.
     */
    private static void memberInputs(Plan plan, int k, int b, double a, int eOff, Scratch sc) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        if (plan.othersInDouble) {
            othersInDouble(plan.p, k, sc);
        } else {
            FloatVector zRest = FloatVector.fromArray(F, sc.zRest, b * L);
            FloatVector dExp = FloatVector.fromArray(F, sc.dExp, k * L);
            zRest.add(1f).sub(FloatVector.fromArray(F, sc.e, eOff + k * L)).blend(zRest, dExp.eq(Float.NEGATIVE_INFINITY))
                    .intoArray(sc.lanesF, 0);
            widen(sc.lanesF, 0, sc.xOthers);
        }
        // x = a (m - f_k) in double (the difference of two floats is exact there): as -a d in float it kept
        // 1.5 ulp of itself, and Phi ~ e^((1-nu) x) turned that into 1e-5 of the loss near the spread's limit
        for (int i = 0; i < L; i++) {
            sc.xX[i] = a * ((double) sc.m[i] - sc.f[k * L + i]);
        }
        widen(sc.w, k * L, sc.xW);
        widen(sc.dExp, k * L, sc.xTop); // -inf marks the top expert
    }

    /**
     * {@link Plan#othersInDouble}: the group's softmax terms {@code termsD[j L + i] = exp(a (f_j - m))} of every
     * expert j in double from the scores (1 at each row's top expert), with the kernel's double exp, once per
     * group: every member's others and the group's softmax part of the gradient are formed from them.
     */
    private static void termsInDouble(int p, double a, Scratch sc) {
        int L = Species.L;
        for (int j = 0; j < p; j++) {
            for (int i = 0; i < L; i++) {
                sc.termsD[j * L + i] = a * ((double) sc.f[j * L + i] - sc.m[i]);
            }
        }
        for (int off = 0; off < p * L; off += Species.D.length()) {
            VectorMath.exp(sc.termsD, sc.termsD, off);
        }
    }

    /** {@code others_k = sum_{j != k} termsD_j} per lane, j in order (see {@link #termsInDouble}). */
    private static void othersInDouble(int p, int k, Scratch sc) {
        int L = Species.L;
        Arrays.fill(sc.xOthers, 0.0);
        for (int j = 0; j < p; j++) {
            if (j == k) {
                continue;
            }
            for (int i = 0; i < L; i++) {
                sc.xOthers[i] += sc.termsD[j * L + i];
            }
        }
    }

    /**
     * With {@link Plan#othersInDouble}, the group's softmax part of the gradient, {@code g_j += coef e_j}, in double
     * from {@link #termsInDouble}'s terms (0 at the row's top expert, whose share goes through {@code topSum}), and
     * {@code coefD} cleared so that the float pass over the exps adds nothing: the float exps are flushed below
     * 2^-126, and a coefficient of up to {@code |w| a e^delta} lifts such a term back into the gradient, as it
     * does into the loss.
     */
    private static void softmaxPartInDouble(int p, Scratch sc) {
        int L = Species.L;
        for (int j = 0; j < p; j++) {
            for (int i = 0; i < L; i++) {
                double e = sc.dExp[j * L + i] == Float.NEGATIVE_INFINITY ? 0.0 : sc.termsD[j * L + i];
                sc.g[j * L + i] += (float) (sc.coefD[i] * e);
            }
        }
        Arrays.fill(sc.coefD, 0.0);
    }

    /** {@code g_k -= own_k}. */
    private static void subtractOwn(int k, Scratch sc) {
        int L = Species.L;
        toFloats(sc.ownD, sc.lanesF, 0);
        FloatVector.fromArray(Species.F, sc.g, k * L).sub(FloatVector.fromArray(Species.F, sc.lanesF, 0))
                .intoArray(sc.g, k * L);
    }

    /**
     * Columns out: {@code grad(row i, expert j) = (g[j L + i] + own) * gradScale}, where own is
     * {@code topSum[i]} at the top expert and elsewhere {@code -a w_j} for the logsumexp member (the general
     * member has subtracted its own terms already).
     */
    private static void scatterGradient(Plan plan, float[] grad, int go, float gradScale, Scratch sc) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        FloatVector topSum = FloatVector.fromArray(F, sc.topSum, 0);
        // skipTop: the last expert's softmax part sits in each row's top column; collected here on the way
        // (every time: branch-free, so that C2 keeps the vectors in registers).
        FloatVector last = FloatVector.zero(F);
        int columns = plan.expColumns;
        for (int j = 0; j < columns; j++) {
            VectorMask<Float> top = FloatVector.fromArray(F, sc.dExp, j * L).eq(Float.NEGATIVE_INFINITY);
            FloatVector own = plan.logSumExp ? FloatVector.fromArray(F, sc.w, j * L).mul(plan.negA[j]) : FloatVector.zero(F);
            FloatVector gj = FloatVector.fromArray(F, sc.g, j * L);
            last = last.add(FloatVector.zero(F).blend(gj, top));
            gj.add(own).blend(topSum, top).mul(gradScale).intoArray(sc.g, j * L);
        }
        if (plan.skipTop) {
            int j = plan.p - 1;
            VectorMask<Float> top = FloatVector.fromArray(F, sc.dExp, j * L).eq(Float.NEGATIVE_INFINITY);
            FloatVector own = FloatVector.fromArray(F, sc.w, j * L).mul(plan.negA[j]);
            last.add(own).blend(topSum, top).mul(gradScale).intoArray(sc.g, j * L);
        }
        Transpose.rowsOut(sc.g, plan.p, plan.rowGather, grad, go);
    }

    /** Writes the L rows' losses (rounded to float) and returns the sum of the first n, in row order, in double. */
    private static double rowLosses(int n, float[] rowLoss, int ro, Scratch sc) {
        double sum = 0.0;
        for (int i = 0; i < Species.L; i++) {
            if (rowLoss != null) {
                rowLoss[ro + i] = (float) sc.loss[i];
            }
            if (i < n) {
                sum += sc.loss[i];
            }
        }
        return sum;
    }

    /** The same from the compensated float sums of the logsumexp member. */
    private static double rowLossesCompensated(int n, float[] rowLoss, int ro, Scratch sc) {
        if (rowLoss != null) {
            FloatVector.fromArray(Species.F, sc.lossHi, 0).add(FloatVector.fromArray(Species.F, sc.lossLo, 0))
                    .intoArray(rowLoss, ro);
        }
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            sum += (double) sc.lossHi[i] + sc.lossLo[i];
        }
        return sum;
    }

    /** L floats widened to doubles (a scalar loop: F2D of the upper half needs extra shuffles and node budget). */
    private static void widen(float[] v, int off, double[] out) {
        for (int i = 0; i < Species.L; i++) {
            out[i] = v[off + i];
        }
    }

    /** L doubles rounded to floats into {@code out[off..]} (a scalar loop: D2F into the upper half of a vector is not compiled to SIMD code). */
    private static void toFloats(double[] v, float[] out, int off) {
        for (int i = 0; i < Species.L; i++) {
            out[off + i] = (float) v[i];
        }
    }
}
