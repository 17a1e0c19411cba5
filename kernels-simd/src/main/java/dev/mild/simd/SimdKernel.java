package dev.mild.simd;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.RowBlockKernel;
import java.util.Arrays;

/**
 * The loss family on {@code jdk.incubator.vector} lanes: the algorithm of {@link dev.mild.loss.ScalarKernel}
 * (one softmax per distinct margin per row, everything relative to the row maximum), in one of two layouts
 * chosen per configuration ({@link #layoutFor}):
 * <ul>
 *   <li>{@link RowLanes}: lanes are rows. Few experts, many distinct margins, and the general member.</li>
 *   <li>{@link ExpertLanes}: lanes are experts. Many experts with few distinct margins (logsumexp only).</li>
 * </ul>
 * exp and log are this module's own polynomials ({@link VectorMath}), which are deterministic and as fast as
 * the Vector API's. Chunks, threads and the ordered float64 sum of the chunk losses come from
 * {@link RowBlockKernel}, so results are bit-identical for any thread count.
 */
public final class SimdKernel extends RowBlockKernel {

    /** The backend's name, {@value}. */
    public static final String NAME = "simd";

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Configurations whose plans are kept: more than this many used in turn rebuild a plan per call. */
    static final int PLANS_KEPT = 8;

    private final int forcedLayout;
    // The plans of the configurations in use, newest first (never modified: a new plan replaces the array).
    // One kernel often serves several losses (every Loss.of shares one), and keeping a single plan rebuilt it
    // on every switch: about 560 bytes and 1.7 us a call for two losses in turn on 64 rows of 5 experts.
    private volatile Plan[] plans = new Plan[0];

    /**
     * A kernel whose layout is chosen per configuration ({@link #layoutFor}). Needs {@code jdk.incubator.vector}:
     * check {@link SimdKernelProvider#unavailableReason()} first.
     *
     * @param options the thread count (the device is not used)
     */
    public SimdKernel(KernelOptions options) {
        this(options, -1);
    }

    /** For tests: {@code layout} is {@link Plan#ROWS_IN_LANES}, {@link Plan#EXPERTS_IN_LANES}, or -1 for the rule. */
    SimdKernel(KernelOptions options, int layout) {
        super(options);
        this.forcedLayout = layout;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Both layouts and both members on small batches until they allocate nothing ({@code SimdWarmUp}); about 1.5 s
     * on the Zen 5 machine. Where the kernel allocates even compiled it returns {@code false} after
     * {@code maxMillis}: the general member's two-lane double masks at 128 bits on x86, a width only the tests force.
     * A {@code false} logs a warning on {@code dev.mild} naming each configuration whose calls still allocate.
     */
    @Override
    public boolean warmUp(long maxMillis) {
        return SimdWarmUp.lossKernel(maxMillis);
    }

    @Override
    public String describe() {
        return NAME + " (" + Species.describe() + "; exp2/log1p: own polynomials, not SVML; " + threadCount() + ")";
    }

    /**
     * The layout rule, from measurements on AVX-512 (one thread, B = 16384, rows/s of rows in lanes against
     * experts in lanes): experts in lanes only for the logsumexp member with more than 32 experts and at most
     * {@code max(2, p/32)} distinct margins (p = 64: 5.4M against 3.8M rows/s with one margin, 1.9M against
     * 2.8M with four; p = 130: 3.2M against 1.3M with one margin). Distinct margins always favour rows in
     * lanes (p = 16: 5.3M against 1.1M), as do p up to 32 (p = 32, equal margins: 13.2M against 8.1M).
     */
    static int layoutFor(LossConfig config) {
        int p = config.experts();
        return Plan.logSumExpPath(config) && p > 32 && config.groups() <= Math.max(2, p / 32)
                ? Plan.EXPERTS_IN_LANES : Plan.ROWS_IN_LANES;
    }

    private Plan plan(LossConfig config) {
        Plan[] kept = plans;
        for (Plan pl : kept) {
            if (pl.config == config) {
                return pl;
            }
        }
        for (Plan pl : kept) {
            if (pl.config.equals(config)) {
                return pl;
            }
        }
        int layout = forcedLayout >= 0 && !(forcedLayout == Plan.EXPERTS_IN_LANES && !Plan.logSumExpPath(config))
                ? forcedLayout : layoutFor(config);
        Plan pl = new Plan(config, Species.L, layout);
        Plan[] next = new Plan[Math.min(kept.length + 1, PLANS_KEPT)];
        next[0] = pl;
        System.arraycopy(kept, 0, next, 1, next.length - 1);
        plans = next; // two threads adding at once may drop one plan: it is rebuilt on its next call
        return pl;
    }

    /** The layout used for {@code config} (tests check that both are exercised). */
    int layoutOf(LossConfig config) {
        return plan(config).layout;
    }

    @Override
    protected double block(LossConfig config, int rows,
                           float[] scores, int scoresOffset,
                           float[] weights, int weightsOffset,
                           float[] rowLoss, int rowLossOffset,
                           float[] grad, int gradOffset,
                           float gradScale) {
        int p = config.experts();
        if (p == 1) {
            // S = 1 with no other expert: Phi(1) = 0 and nothing to differentiate, exactly.
            if (rowLoss != null) {
                Arrays.fill(rowLoss, rowLossOffset, rowLossOffset + rows, 0f);
            }
            if (grad != null) {
                Arrays.fill(grad, gradOffset, gradOffset + rows, 0f);
            }
            return 0.0;
        }
        Plan pl = plan(config);
        Scratch sc = SCRATCH.get().ensure(pl);
        return pl.layout == Plan.EXPERTS_IN_LANES
                ? ExpertLanes.block(pl, rows, scores, scoresOffset, weights, weightsOffset, rowLoss, rowLossOffset,
                        grad, gradOffset, gradScale, sc)
                : RowLanes.block(pl, rows, scores, scoresOffset, weights, weightsOffset, rowLoss, rowLossOffset,
                        grad, gradOffset, gradScale, sc);
    }
}
