package dev.mild.simd;

import dev.mild.loss.LossConfig;

/**
 * What the kernel derives once per {@link LossConfig}: the group constants in float, per-expert constants
 * padded to whole vectors, and the layout. Immutable, so threads can share it; rebuilt only when the
 * configuration changes.
 */
final class Plan {
    /** Rows in lanes: each lane one row, experts one after another (few experts, or the general member). */
    static final int ROWS_IN_LANES = 0;
    /** Experts in lanes: each row's experts across lanes (many experts, few distinct margins, logsumexp). */
    static final int EXPERTS_IN_LANES = 1;

    final LossConfig config;
    final int p;
    final int groups;
    final int layout;
    final boolean logSumExp;
    final double nu;

    /** Per group: inverse margin a as float (as the scalar kernel rounds it) and a log2(e), the exp2 scale. */
    final float[] groupA;
    final float[] groupScale;
    /** Group members in group order, and where each group starts in it. */
    final int[] members;
    final int[] groupStart;
    /** Group of each expert. */
    final int[] groupOf;
    /** Every margin distinct: group g is expert {@code members[g]} alone (the case RowLanes specializes). */
    final boolean oneMemberGroups;

    /** Per expert, padded with zeros to a whole number of vectors: {@code -a} of its group. */
    final float[] negA;
    /** Per expert (general member): delta_k, exp(delta_k) (computed by the kernel's own exp, see CompSum), a_k. */
    final double[] delta;
    final double[] expDelta;

    /**
     * Rows in lanes: groups whose exps are computed together before their logs (see RowLanes), as many as
     * fit {@value #BATCH_FLOATS} floats of exps.
     */
    final int groupBatch;
    /**
     * Floats of exps per group: rows in lanes {@code expColumns} columns of L (without {@link #skipTop} rounded
     * up to an even number, padding {@code d = -inf}, exp 0, because the exp loop takes a group's two halves
     * at once), experts in lanes p lanes rounded up to an even number of vectors (two exps per iteration).
     */
    final int expLength;
    /**
     * Rows in lanes, logsumexp member, an even number of groups: each softmax leaves out its top expert's exp
     * (always 1). The last expert's column moves into the top expert's, lane by lane, so a group has p - 1
     * columns of exps, and groups go in pairs through one exp loop (no odd column left over).
     */
    final boolean skipTop;
    /** Columns of exps per group: p - 1 with {@link #skipTop}, else p. */
    final int expColumns;
    static final int BATCH_FLOATS = 4096;

    /**
     * General member (which the logsumexp member with rho below about 1e-13 takes, see {@link #logSumExpPath})
     * with a large margin: some expert has {@code delta_k + max(0, log a_k)} above
     * {@value #OTHERS_IN_DOUBLE_ABOVE}. Its {@code others_k}, and the softmax part of its gradient, are then
     * formed in double from the scores instead of from the float exps, which are flushed below 2^-126:
     * {@code e^delta} lifts such a term back (delta 67 and weights of 3e5 lost a row loss of 2.3e-4 and the
     * gradient's entry of the flushed expert, KernelFuzzTest case 128003845). Below the threshold a flushed
     * term changes a loss or gradient by at most {@code |w| e^30 2^-126}, about {@code 1e-25 |w|}.
     */
    final boolean othersInDouble;
    static final double OTHERS_IN_DOUBLE_ABOVE = 30.0;

    /**
     * Whether a configuration takes the logsumexp member's float path: {@code nu = 1}, no additive margin, and no
     * inverse margin above {@code e^}{@value #OTHERS_IN_DOUBLE_ABOVE} (rho below about 1e-13). Past that a
     * softmax term the float exp flushes below 2^-126 carries a gradient contribution of up to {@code a |w| 2^-126},
     * which float32 holds (with rho 1e-20 it can be the whole gradient), so such configurations take the general
     * member's path, where {@link #othersInDouble} keeps those terms.
     */
    static boolean logSumExpPath(LossConfig config) {
        if (!config.isLogSumExp()) {
            return false;
        }
        for (int k = 0; k < config.experts(); k++) {
            if (Math.log(config.inverseMargin(k)) > OTHERS_IN_DOUBLE_ABOVE) {
                return false;
            }
        }
        return true;
    }

    /** Gather map for rows in lanes where {@link Transpose} has no network (e.g. p = 3): lane i reads offset {@code i * p}. */
    final int[] laneStride;
    /**
     * The way back without a network, as gathers from the columns: lane m of output vector k (float
     * {@code e = k L + m} of the block's L rows, row {@code e / p}, expert {@code e % p}) reads column float
     * {@code (e % p) L + e / p}. Length {@code p L}.
     */
    final int[] rowGather;

    Plan(LossConfig config, int lanes, int layout) {
        this.config = config;
        this.p = config.experts();
        this.groups = config.groups();
        this.layout = layout;
        this.logSumExp = logSumExpPath(config);
        this.nu = config.nu();
        groupA = new float[groups];
        groupScale = new float[groups];
        for (int g = 0; g < groups; g++) {
            float a = (float) config.groupInverseMargin(g);
            groupA[g] = a;
            groupScale[g] = (float) (a * (1.0 / Math.log(2.0)));
        }
        groupStart = new int[groups + 1];
        members = new int[p];
        for (int g = 0; g <= groups; g++) {
            groupStart[g] = config.groupStart(g);
        }
        oneMemberGroups = groups == p;
        groupOf = new int[p];
        for (int i = 0; i < p; i++) {
            members[i] = config.groupMember(i);
            groupOf[i] = config.groupOf(i);
        }
        int padded = (p + lanes - 1) / lanes * lanes;
        negA = new float[padded];
        delta = new double[p];
        expDelta = new double[p];
        for (int k = 0; k < p; k++) {
            negA[k] = -groupA[config.groupOf(k)];
            delta[k] = config.delta(k);
        }
        CompSum.expOf(delta, expDelta);
        boolean large = false;
        for (int k = 0; k < p && !logSumExp; k++) {
            large |= delta[k] + Math.max(0.0, Math.log(config.inverseMargin(k))) > OTHERS_IN_DOUBLE_ABOVE;
        }
        othersInDouble = large;
        skipTop = layout == ROWS_IN_LANES && logSumExp && groups % 2 == 0;
        expColumns = skipTop ? p - 1 : p;
        expLength = layout == ROWS_IN_LANES
                ? (skipTop ? (p - 1) * lanes : (p + 1) / 2 * 2 * lanes)
                : (p + 2 * lanes - 1) / (2 * lanes) * 2 * lanes;
        int batch = Math.max(1, Math.min(groups, BATCH_FLOATS / expLength));
        groupBatch = skipTop ? Math.max(2, batch / 2 * 2) : batch;
        laneStride = new int[lanes];
        for (int i = 0; i < lanes; i++) {
            laneStride[i] = i * p;
        }
        rowGather = new int[p * lanes];
        for (int e = 0; e < p * lanes; e++) {
            rowGather[e] = e % p * lanes + e / p;
        }
    }
}
