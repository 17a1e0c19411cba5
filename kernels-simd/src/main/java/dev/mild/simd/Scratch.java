package dev.mild.simd;

/** Per-thread working arrays, grown to the largest p seen so that steady-state calls allocate nothing. */
final class Scratch {
    /** Scores minus the row maximum: {@code p x L} (rows in lanes) or p padded to whole vectors (experts in lanes). */
    float[] d = new float[0];
    /** General member, rows in lanes: the scores themselves, {@code p x L}, and each row's maximum. */
    float[] f = new float[0];
    final float[] m = new float[Species.L];
    /** The same with {@code -inf} at each row's first argmax, so exp2 gives 0 there and sums skip it. */
    float[] dExp = new float[0];
    /** {@link Plan#skipTop}: the exps' inputs, p - 1 columns, the last expert's d in each row's top column. */
    float[] dRest = new float[0];
    float[] w = new float[0];
    /** Gradient accumulators, unscaled. */
    float[] g = new float[0];
    /** exp(a (f_j - m)) of the groups in progress (rows in lanes: a batch of groups, p L floats each). */
    float[] e = new float[0];

    // One vector each (lanes are rows, or partial sums of one row):
    /** Sum of each group's exps, one vector per group of the batch. */
    float[] zRest = new float[0];
    /** Each group's softmax coefficient, multiplied into its exps for the gradient. */
    float[] coef = new float[0];
    /** Logsumexp member, rows in lanes: each group's {@code log Z} and {@code 1/Z}, {@code Z = 1 + zRest}. */
    float[] logZ = new float[0];
    float[] invZ = new float[0];
    /** What the top expert's gradient gets, summed over groups. */
    final float[] topSum = new float[Species.L];
    /** One vector of floats for conversions. */
    final float[] lanesF = new float[Species.L];
    /** Per-row losses (general member), or in {@code loss[0..1]} a row's partial sums (experts in lanes). */
    final double[] loss = new double[Species.L];
    /** Per-row losses of the logsumexp member as a compensated float sum: value and error term. */
    final float[] lossHi = new float[Species.L];
    final float[] lossLo = new float[Species.L];
    /** The general member's coefficient, top-expert share and own term, in double. */
    final double[] coefD = new double[Species.L];
    final double[] topD = new double[Species.L];
    final double[] ownD = new double[Species.L];
    /** Inputs and log S of the general member's terms for one expert, widened to double. */
    final double[] xOthers = new double[Species.L];
    final double[] xX = new double[Species.L];
    final double[] xW = new double[Species.L];
    final double[] xTop = new double[Species.L];
    final double[] xLogS = new double[Species.L];
    /** The parts of log S = softplus(v) = max(v, 0) + tail, v = delta + x + log others, for the gradient's exponent. */
    final double[] xLogOthers = new double[Species.L];
    final double[] xV = new double[Species.L];
    final double[] xTail = new double[Species.L];
    /** {@code S^(1-nu) - 1} of the general member's loss for {@code nu != 1}. */
    final double[] phiD = new double[Species.L];

    /** {@link Plan#othersInDouble}: a group's softmax terms in double, {@code p x L}. */
    double[] termsD = new double[0];

    /** Rows in lanes: the last partial block, zero-padded to L rows. Experts in lanes: the last row, padded. */
    float[] tailScores = new float[0];
    float[] tailWeights = new float[0];
    float[] tailGrad = new float[0];
    final float[] tailLoss = new float[Species.L];

    Scratch ensure(Plan plan) {
        int p = plan.p;
        int need = Math.max(p * Species.L, plan.expLength);
        if (d.length < need) {
            d = new float[need];
            f = new float[need];
            dExp = new float[need];
            dRest = new float[need];
            w = new float[need];
            g = new float[need];
            tailScores = new float[need];
            tailWeights = new float[need];
            tailGrad = new float[need];
        }
        if (plan.othersInDouble && termsD.length < p * Species.L) {
            termsD = new double[p * Species.L];
        }
        int batch = plan.layout == Plan.ROWS_IN_LANES ? plan.groupBatch : 1;
        if (e.length < batch * plan.expLength) {
            e = new float[batch * plan.expLength];
        }
        if (zRest.length < batch * Species.L) {
            zRest = new float[batch * Species.L];
            coef = new float[batch * Species.L];
            logZ = new float[batch * Species.L];
            invZ = new float[batch * Species.L];
        }
        return this;
    }
}
