package dev.mild.simd;

/** Per-thread working arrays, grown to the largest p seen so that steady-state calls allocate nothing. */
final class Scratch {
    /** Scores minus the row maximum: {@code p x L} (rows in lanes) or p padded to whole vectors (experts in lanes). */
    float[] d = new float[0];
    /** The same with {@code -inf} at each row's first argmax, so exp2 gives 0 there and sums skip it. */
    float[] dExp = new float[0];
    float[] w = new float[0];
    /** Gradient accumulators, unscaled. */
    float[] g = new float[0];
    /** exp(a (f_j - m)) of the group in progress. */
    float[] e = new float[0];

    // One vector each (lanes are rows, or partial sums of one row):
    /** Sum of the group's exps. */
    final float[] zRest = new float[Species.L];
    /** The group's softmax coefficient, multiplied into its exps for the gradient. */
    final float[] coef = new float[Species.L];
    /** What the top expert's gradient gets, summed over groups. */
    final float[] topSum = new float[Species.L];
    /** Per-row losses (general member), or in {@code loss[0..1]} a row's partial sums (experts in lanes). */
    final double[] loss = new double[Species.L];
    /** Per-row losses of the logsumexp member as a compensated float sum: value and error term. */
    final float[] lossHi = new float[Species.L];
    final float[] lossLo = new float[Species.L];
    /** The general member's coefficient, top-expert share and own term, in double. */
    final double[] coefD = new double[Species.L];
    final double[] topD = new double[Species.L];
    final double[] ownD = new double[Species.L];

    /** Room for p experts in either layout, rounded up to an even number of vectors (see {@link Lanes#exp2Sum}). */
    static int padded(int p) {
        int twoL = 2 * Species.L;
        return Math.max((p + 1) / 2 * twoL, (p + twoL - 1) / twoL * twoL);
    }

    Scratch ensure(int p) {
        int need = padded(p);
        if (d.length < need) {
            d = new float[need];
            dExp = new float[need];
            w = new float[need];
            g = new float[need];
            e = new float[need];
        }
        return this;
    }
}
