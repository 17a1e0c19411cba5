package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.loss.LossKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code auto} margins (MATH.md, "Choosing rho"): a validation search over the mean margin
 * {@code rho_bar / p} in {1/8, 1/4, 1/2, 1, 2} and the tilt {@code gamma} in {0, 1/4, 1/2, 3/4, 1}:
 *
 * <pre>
 *   rho_j = rho_bar * t_j^gamma / sum_j' t_j'^gamma,    t_j = (m_j X_j^2)^(1/3)      ({@link Rho#tilted})
 * </pre>
 *
 * {@code gamma = 0} is uniform margins (with mean margin 1, exactly TDEF), {@code gamma = 1} the paper's theory.
 * The point with the lowest validation deferral loss wins; ties go to the smaller {@code gamma}, then to the
 * mean margin closest to 1.
 *
 * <p><b>Cost.</b> 25 full trainings would cost 25 times one. Instead: one <em>base</em> training with uniform
 * margins 1 (the grid's TDEF point) on the full schedule, then every grid point is a <em>warm start</em> from
 * the base's best parameters (fresh optimizer state) trained for a few {@code searchEpochs} with its own
 * margins, scored by its best validation deferral loss over those epochs. Margins mostly move the decision
 * boundaries between experts, which a few hundred steps from a trained network show. The search therefore
 * costs about one training plus {@code 25 x searchEpochs} epochs; the final model is then trained from scratch
 * at the chosen point (the base itself when the TDEF point wins, since that is the same training).
 */
public final class RhoSearch {
    public static final double[] MEAN_MARGINS = {0.125, 0.25, 0.5, 1.0, 2.0};
    public static final double[] TILTS = {0.0, 0.25, 0.5, 0.75, 1.0};

    private RhoSearch() {
    }

    /**
     * One grid point.
     *
     * @param validLoss best validation deferral loss over the point's search epochs
     */
    public record Point(double meanMargin, double gamma, double[] rho, double validLoss) {
        /** True for the uniform point with mean margin 1 (TDEF's margins). */
        public boolean isUniformOne() {
            return gamma == 0.0 && meanMargin == 1.0;
        }

        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }

    /**
     * @param grid              every point, mean margin major, in the order of {@link #MEAN_MARGINS} and {@link #TILTS}
     * @param chosen            the winner
     * @param searchEpochs      epochs each point was trained from the base
     * @param base              the base training (uniform margins 1, full schedule: TDEF's margins)
     * @param rejectedValidLoss NaN, or, when the model trained from scratch at {@code chosen} ended above the base
     *                          on validation and the base was kept as the final model instead, that model's best
     *                          validation deferral loss
     */
    public record Result(List<Point> grid, Point chosen, int searchEpochs, Trainer.Result base,
                         double rejectedValidLoss) {
        /** True when the base, not a model trained at {@code chosen}, is the final model. */
        public boolean baseKept() {
            return !Double.isNaN(rejectedValidLoss);
        }

        /** This result, with the base kept because the model trained at {@code chosen} scored {@code validLoss}. */
        Result keepingBase(double validLoss) {
            return new Result(grid, chosen, searchEpochs, base, validLoss);
        }

        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }

    /** Progress callbacks. */
    public interface Listener {
        default void baseEpoch(Trainer.Epoch e) {
        }

        /** The epochs each grid point gets, known once the base is trained. */
        default void searchEpochs(int epochs) {
        }

        default void point(Point point, int index, int total) {
        }
    }

    /** Optimizer steps a grid point gets by default (rounded up to whole epochs). */
    public static final int SEARCH_STEPS = 150;

    /**
     * Epochs per grid point by default: about {@value #SEARCH_STEPS} optimizer steps, but no more epochs than
     * the base needed to reach its best validation loss (longer would only measure over-fitting), and at least 2;
     * never more than {@code options.epochsFor(trainRows)}, the most epochs any training of the run may take (with
     * 1, a point trained 2 would be compared with a final model trained 1).
     */
    public static int defaultSearchEpochs(int trainRows, TrainOptions options, int baseBestEpoch) {
        int batches = options.stepsPerEpoch(trainRows);
        int e = Math.min(Math.ceilDiv(SEARCH_STEPS, batches), Math.max(2, baseBestEpoch));
        return Math.min(Math.max(2, e), options.epochsFor(trainRows));
    }

    /**
     * Runs the search.
     *
     * @param lossAt       the surrogate for a margin vector (MILD or comp-sum with the chosen rewards)
     * @param oracleLabels the oracle expert of each training row
     * @param norms        the L2 norm of each training row's router input (standardized features)
     * @param valid        the validation rows, at least one
     * @param searchEpochs epochs per grid point, or 0 for {@link #defaultSearchEpochs}
     */
    public static Result search(LossKernel kernel, Function<double[], Surrogate> lossAt, int[] oracleLabels,
                                double[] norms, Examples train, Examples valid, TrainOptions options,
                                int searchEpochs, Listener listener) {
        if (valid.rows() < 1) {
            // Every point would score NaN and the first of the grid would win by default, silently.
            throw new InvalidInputException("rho auto scores each grid point by its validation deferral loss, but there"
                    + " are no validation rows; give some, or fixed margins (theory, uniform or a list)");
        }
        int p = train.p();
        Trainer.Result base = Trainer.train(kernel, lossAt.apply(Rho.uniform(p, 1.0)), train, valid, null, options,
                listener::baseEpoch);
        if (searchEpochs <= 0) {
            searchEpochs = defaultSearchEpochs(train.rows(), options, base.bestEpoch());
        }
        listener.searchEpochs(searchEpochs);
        TrainOptions fine = options.withEpochs(searchEpochs);
        List<Point> grid = new ArrayList<>();
        int total = MEAN_MARGINS.length * TILTS.length;
        Point best = null;
        for (double mean : MEAN_MARGINS) {
            for (double gamma : TILTS) {
                double[] rho = Rho.tilted(oracleLabels, norms, p, mean * p, gamma);
                Trainer.Result r = Trainer.train(kernel, lossAt.apply(rho), train, valid, base.network(), fine,
                        Trainer.Listener.NONE);
                Point pt = new Point(mean, gamma, rho, r.bestValidLoss());
                grid.add(pt);
                if (best == null || better(pt, best)) {
                    best = pt;
                }
                listener.point(pt, grid.size(), total);
            }
        }
        return new Result(List.copyOf(grid), best, searchEpochs, base, Double.NaN);
    }

    private static boolean better(Point a, Point b) {
        if (a.validLoss != b.validLoss) {
            return a.validLoss < b.validLoss;
        }
        if (a.gamma != b.gamma) {
            return a.gamma < b.gamma;
        }
        return Math.abs(Math.log(a.meanMargin)) < Math.abs(Math.log(b.meanMargin));
    }
}
