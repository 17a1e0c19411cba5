package dev.mild.simd;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Experts in lanes, one row at a time: the layout for many experts and few distinct margins under the
 * logsumexp member ({@code nu = 1}, {@code delta = 0}), where a row is several full vectors and reading it
 * in place beats moving it into rows-in-lanes order. The last vector of a row is masked; padding lanes hold
 * {@code d = -inf}, so their exps are 0.
 *
 * <pre>
 *   m = max_j f_j (first index j*),  d_j = f_j - m
 *   loss = sum_k w_k (-a_k d_k) + sum_groups sumW_g log Z_g
 *   per group: e_j = 2^(d_j a log2 e) (j != j*),  zRest = sum e_j,  g_j += e_j a sumW_g / Z_g
 *              g_j* += a (sumW_g - w_j* [j* in g] (1 + zRest)) / Z_g   (in double, no cancellation)
 *   g_k starts at -a_k w_k (k != j*)
 * </pre>
 * Lane sums are added in a fixed order in double (never {@code reduceLanes(ADD)}, whose order the JIT may
 * change), so results are bit-identical call after call.
 */
final class ExpertLanes {
    private ExpertLanes() {
    }

    static double block(Plan plan, int rows, float[] scores, int sOff, float[] weights, int wOff,
                        float[] rowLoss, int rOff, float[] grad, int gOff, float gradScale, Scratch sc) {
        int p = plan.p;
        int padded = (p + Species.L - 1) / Species.L * Species.L;
        boolean withGrad = grad != null;
        double sum = 0.0;
        for (int i = 0; i < rows; i++) {
            int s = sOff + i * p;
            int w = wOff + i * p;
            int go = gOff + i * p;
            // A row whose last vector would reach past the end of an array goes through a padded copy: masked
            // loads and stores past an array's end run the Vector API's Java fallback, which allocates.
            boolean copy = s + padded > scores.length || w + padded > weights.length
                    || (withGrad && go + padded > grad.length);
            float[] rowScores = scores;
            float[] rowWeights = weights;
            if (copy) {
                System.arraycopy(scores, s, sc.tailScores, 0, p);
                System.arraycopy(weights, w, sc.tailWeights, 0, p);
                rowScores = sc.tailScores;
                rowWeights = sc.tailWeights;
                s = 0;
                w = 0;
            }
            int top = prepareRow(plan, rowScores, s, rowWeights, w, withGrad, sc);
            double loss = sc.loss[0];
            double sumWAll = sc.loss[1];
            sc.g[top] = 0f; // the top expert's terms are added per group below, in double
            for (int grp = 0; grp < plan.groups; grp++) {
                VectorMath.exp2Groups(sc.d, plan.expLength, sc.e, 0, plan.groupScale, grp, sc.zRest, 0, 1);
                double zRest = laneSum(sc.zRest);
                double z = 1.0 + zRest;
                double logZ = Math.log(z) + (zRest - (z - 1.0)) / z; // log1p(zRest), rounding of z corrected
                double sumW = plan.groups == 1 ? sumWAll : memberWeights(plan, grp, rowWeights, w);
                loss += sumW * logZ;
                if (withGrad) {
                    double a = plan.groupA[grp];
                    Arrays.fill(sc.coef, (float) (a * sumW / z));
                    Lanes.addScaled(sc.e, sc.g, padded, sc.coef);
                    // The top expert: a (sumW / Z - [top in group] w_top) = a (sumW - w_top - w_top zRest) / Z,
                    // which does not cancel two O(a w) terms when zRest is small.
                    double wTop = plan.groupOf[top] == grp ? rowWeights[w + top] : 0.0;
                    sc.g[top] += (float) (a * ((sumW - wTop) - wTop * zRest) / z);
                }
            }
            if (withGrad) {
                if (copy) {
                    writeGradient(p, sc.tailGrad, 0, gradScale, sc.g);
                    System.arraycopy(sc.tailGrad, 0, grad, go, p);
                } else {
                    writeGradient(p, grad, go, gradScale, sc.g);
                }
            }
            if (rowLoss != null) {
                rowLoss[rOff + i] = (float) loss;
            }
            sum += loss;
        }
        return sum;
    }

    /**
     * One row: {@code d = f - m} into {@code sc.d} (padding and the first argmax set to {@code -inf}),
     * {@code g = -a w}, and into {@code sc.loss[0]} the loss terms {@code sum_k w_k (-a_k d_k)}, into
     * {@code sc.loss[1]} the sum of all weights. Returns the first argmax.
     */
    private static int prepareRow(Plan plan, float[] scores, int s, float[] weights, int w, boolean withGrad,
                                  Scratch sc) {
        VectorSpecies<Float> F = Species.F;
        int L = Species.L;
        int p = plan.p;
        int padded = (p + L - 1) / L * L;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < padded; j += L) {
            VectorMask<Float> in = F.indexInRange(j, p);
            mv = mv.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, scores, s + j, in), in);
        }
        float m = mv.reduceLanes(VectorOperators.MAX); // exact in any order
        int top = 0;
        for (int j = 0; j < padded; j += L) {
            VectorMask<Float> in = F.indexInRange(j, p);
            VectorMask<Float> hit = FloatVector.fromArray(F, scores, s + j, in).eq(m).and(in);
            if (hit.anyTrue()) {
                top = j + hit.firstTrue();
                break;
            }
        }
        DoubleVector xLo = DoubleVector.zero(Species.D);
        DoubleVector xHi = DoubleVector.zero(Species.D);
        DoubleVector wLo = DoubleVector.zero(Species.D);
        DoubleVector wHi = DoubleVector.zero(Species.D);
        for (int j = 0; j < padded; j += L) {
            VectorMask<Float> in = F.indexInRange(j, p);
            FloatVector dj = FloatVector.fromArray(F, scores, s + j, in).sub(m);
            FloatVector wj = FloatVector.fromArray(F, weights, w + j, in);
            FloatVector negA = FloatVector.fromArray(F, plan.negA, j);
            FloatVector term = wj.mul(negA.mul(dj));
            xLo = xLo.add(term.convert(VectorOperators.F2D, 0));
            xHi = xHi.add(term.convert(VectorOperators.F2D, 1));
            wLo = wLo.add(wj.convert(VectorOperators.F2D, 0));
            wHi = wHi.add(wj.convert(VectorOperators.F2D, 1));
            if (withGrad) {
                negA.mul(wj).intoArray(sc.g, j);
            }
            dj.blend(Float.NEGATIVE_INFINITY, in.not()).intoArray(sc.d, j);
        }
        sc.d[top] = Float.NEGATIVE_INFINITY;
        if (plan.expLength > padded) {
            FloatVector.broadcast(F, Float.NEGATIVE_INFINITY).intoArray(sc.d, padded); // the exp loop's padding
        }
        xLo.add(xHi).intoArray(sc.coefD, 0);
        wLo.add(wHi).intoArray(sc.topD, 0);
        double x = 0.0;
        double sw = 0.0;
        for (int i = 0; i < Species.D.length(); i++) {
            x += sc.coefD[i];
            sw += sc.topD[i];
        }
        sc.loss[0] = x;
        sc.loss[1] = sw;
        return top;
    }

    private static void writeGradient(int p, float[] grad, int go, float gradScale, float[] g) {
        VectorSpecies<Float> F = Species.F;
        for (int j = 0; j < p; j += Species.L) {
            FloatVector.fromArray(F, g, j).mul(gradScale).intoArray(grad, go + j, F.indexInRange(j, p));
        }
    }

    private static double memberWeights(Plan plan, int grp, float[] weights, int w) {
        double s = 0.0;
        for (int t = plan.groupStart[grp]; t < plan.groupStart[grp + 1]; t++) {
            s += weights[w + plan.members[t]];
        }
        return s;
    }

    /** The first L floats of v, widened to double and summed in four interleaved chains (L is a multiple of 4). */
    private static double laneSum(float[] v) {
        double s0 = 0.0;
        double s1 = 0.0;
        double s2 = 0.0;
        double s3 = 0.0;
        for (int i = 0; i < Species.L; i += 4) {
            s0 += v[i];
            s1 += v[i + 1];
            s2 += v[i + 2];
            s3 += v[i + 3];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
