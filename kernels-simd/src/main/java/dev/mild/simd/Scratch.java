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
    /** One vector of floats for ordered lane sums. */
    final float[] lanesF = new float[Species.L];
    /** Per-lane double accumulators of the general member: loss, softmax coefficient, top-expert term, own term, and ordered sums. */
    final double[] loss = new double[Species.L];
    final double[] coef = new double[Species.L];
    final double[] top = new double[Species.L];
    final double[] own = new double[Species.L];
    final double[] lanesD = new double[Species.L];

    Scratch ensure(int p) {
        int need = Math.max(p * Species.L, (p + Species.L - 1) / Species.L * Species.L);
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
