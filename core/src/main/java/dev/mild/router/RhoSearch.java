package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.data.Decimal;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.io.CommaList;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import java.util.ArrayList;
import java.util.Arrays;
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
 * {@code gamma = 0} is uniform margins (with mean margin 1, exactly TDEF for MILD with sum-others rewards; for
 * another loss, that loss at margins 1), {@code gamma = 1} the paper's theory.
 * The point with the lowest validation deferral loss wins; ties go to the smaller {@code gamma}, then to the
 * mean margin closest to 1 by ratio, then to the smaller mean margin. The mean margins can be replaced ({@code --rho-grid}, {@link #checkMeanMargins}); the
 * tilts stay. When the winner's mean margin is the grid's smallest or largest ({@link Result#chosenAtEdge}), a better
 * one may lie outside the grid: {@link Result#widerMeanMargins} is a grid reaching past that edge.
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
    /** The default mean margins (MATH.md's protocol). A copy is passed around; never change this array. */
    public static final double[] MEAN_MARGINS = {0.125, 0.25, 0.5, 1.0, 2.0};
    /** The tilts {@code gamma} searched at every mean margin. Never change this array. */
    public static final double[] TILTS = {0.0, 0.25, 0.5, 0.75, 1.0};

    private RhoSearch() {
    }

    /**
     * One grid point.
     *
     * @param meanMargin the mean margin {@code rho_bar / p}
     * @param gamma      the tilt
     * @param rho        the point's p margins ({@link Rho#tilted} with {@code rho_bar = meanMargin * p}). Not copied.
     * @param validLoss best validation deferral loss over the point's search epochs
     */
    public record Point(double meanMargin, double gamma, double[] rho, double validLoss) {
        /**
         * True for the uniform point with mean margin 1 (TDEF's margins).
         *
         * @return {@code gamma == 0 && meanMargin == 1}
         */
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
     * The search's outcome.
     *
     * @param grid              every point, mean margin major, in the order of {@code meanMargins} and {@link #TILTS}
     * @param meanMargins       the grid's mean margins, ascending ({@link #MEAN_MARGINS} unless replaced)
     * @param chosen            the winner
     * @param searchEpochs      epochs each point was trained from the base
     * @param base              the base training (uniform margins 1, full schedule: TDEF's margins)
     * @param rejectedValidLoss NaN, or, when the model trained from scratch at {@code chosen} ended above the base
     *                          on validation and the base was kept as the final model instead, that model's best
     *                          validation deferral loss
     */
    public record Result(List<Point> grid, double[] meanMargins, Point chosen, int searchEpochs, Trainer.Result base,
                         double rejectedValidLoss) {
        /** Copies {@code meanMargins}, not null. */
        public Result {
            meanMargins = meanMargins.clone();
        }

        /**
         * The grid's mean margins, ascending.
         *
         * @return a copy
         */
        @Override
        public double[] meanMargins() {
            return meanMargins.clone();
        }

        /**
         * True when the base, not a model trained at {@code chosen}, is the final model.
         *
         * @return {@code true} when {@link #rejectedValidLoss} is not NaN
         */
        public boolean baseKept() {
            return !Double.isNaN(rejectedValidLoss);
        }

        /**
         * True when the grid has more than one mean margin and the winner's is its smallest or largest: the best
         * mean margin may then lie outside the grid.
         *
         * @return whether the winner is at an edge of a grid of several mean margins
         */
        public boolean chosenAtEdge() {
            return meanMargins.length > 1 && (chosen.meanMargin == meanMargins[0]
                    || chosen.meanMargin == meanMargins[meanMargins.length - 1]);
        }

        /**
         * When {@link #chosenAtEdge}, a point inside the grid (neither its smallest nor its largest mean margin)
         * with the same validation loss as the winner, which then won by the tie rule, not by a lower loss: the
         * first in grid order, or null when there is none (or the winner is not at the edge). On MMLU the default
         * grid's winner, mean margin 2 and gamma 0, tied with mean margin 1 and gamma 1/4.
         *
         * @return that point, or null
         */
        public Point interiorTie() {
            if (!chosenAtEdge()) {
                return null;
            }
            for (Point pt : grid) {
                boolean inside = pt.meanMargin != meanMargins[0] && pt.meanMargin != meanMargins[meanMargins.length - 1];
                if (inside && pt.validLoss == chosen.validLoss) {
                    return pt;
                }
            }
            return null;
        }

        /**
         * When {@link #chosenAtEdge}, the grid's mean margins extended past that edge by two halvings (smallest
         * chosen: a quarter and a half of it first) or two doublings (largest chosen: twice and four times it
         * last); otherwise the grid's own mean margins. See {@link RhoSearch#widerMeanMargins(double[], boolean,
         * boolean)}. A suggested mean margin is left out when the grid's tilted margins, which scale with it, would
         * leave what a loss takes ({@link RhoSearch#checkGrid} would refuse it before training).
         *
         * @return a new array of mean margins, ascending
         */
        public double[] widerMeanMargins() {
            boolean smallest = chosenAtEdge() && chosen.meanMargin == meanMargins[0];
            double[] wider = RhoSearch.widerMeanMargins(meanMargins, smallest, chosenAtEdge() && !smallest);
            return Arrays.stream(wider).filter(m -> grid.stream().allMatch(pt -> Arrays.stream(pt.rho())
                    .map(r -> r * (m / pt.meanMargin()))
                    .allMatch(r -> r >= LossConfig.MIN_RHO && r <= LossConfig.MAX_RHO))).toArray();
        }

        /** This result, with the base kept because the model trained at {@code chosen} scored {@code validLoss}. */
        Result keepingBase(double validLoss) {
            return new Result(grid, meanMargins, chosen, searchEpochs, base, validLoss);
        }

        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }

    /**
     * A grid's mean margins (ascending) extended past its smallest by two halvings ({@code below}: a quarter and a
     * half of it first) and past its largest by two doublings ({@code above}: twice and four times it last): the
     * wider grid to try when searches chose an edge (several seeds may hit both). Values outside the margins a loss
     * takes ([{@link LossConfig#MIN_RHO}, {@link LossConfig#MAX_RHO}]) are left out: {@code --rho-grid} would refuse
     * the suggestion.
     *
     * @param meanMargins the grid's mean margins, ascending, at least one. Not modified.
     * @param below       whether to extend past the smallest
     * @param above       whether to extend past the largest
     * @return a new array of mean margins, ascending
     */
    public static double[] widerMeanMargins(double[] meanMargins, boolean below, boolean above) {
        int n = meanMargins.length;
        double[] wider = new double[n + 4];
        int size = 0;
        if (below) {
            wider[size++] = meanMargins[0] / 4;
            wider[size++] = meanMargins[0] / 2;
        }
        System.arraycopy(meanMargins, 0, wider, size, n);
        size += n;
        if (above) {
            wider[size++] = meanMargins[n - 1] * 2;
            wider[size++] = meanMargins[n - 1] * 4;
        }
        return Arrays.stream(wider, 0, size).filter(m -> m >= LossConfig.MIN_RHO && m <= LossConfig.MAX_RHO).toArray();
    }

    /** Progress callbacks. */
    public interface Listener {
        /**
         * An epoch of the base training has run; by default nothing.
         *
         * @param e the epoch's numbers
         */
        default void baseEpoch(Trainer.Epoch e) {
        }

        /**
         * The epochs each grid point gets, known once the base is trained; by default nothing.
         *
         * @param epochs epochs per grid point, {@code >= 1}
         */
        default void searchEpochs(int epochs) {
        }

        /**
         * A grid point has been trained and scored; by default nothing.
         *
         * @param point the point
         * @param index its place in the grid, 1-based
         * @param total the number of grid points
         */
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
     *
     * @param trainRows     rows of the training split
     * @param options       the run's options (batch and epochs)
     * @param baseBestEpoch the base training's best epoch, 1-based
     * @return {@code min(max(2, min(ceil(150 / stepsPerEpoch), max(2, baseBestEpoch))), epochsFor(trainRows))}
     */
    public static int defaultSearchEpochs(int trainRows, TrainOptions options, int baseBestEpoch) {
        int batches = options.stepsPerEpoch(trainRows);
        int e = Math.min(Math.ceilDiv(SEARCH_STEPS, batches), Math.max(2, baseBestEpoch));
        return Math.min(Math.max(2, e), options.epochsFor(trainRows));
    }

    /**
     * The mean margins of {@code --rho-grid}: comma-separated plain decimals, checked by {@link #checkMeanMargins}.
     * A mistake names the option and the item.
     *
     * @param text the option's value, e.g. "0.5,1,2,4"
     * @return a new array of the mean margins, ascending
     * @throws InvalidInputException when an item is empty or not a plain decimal, or as {@link #checkMeanMargins}
     */
    public static double[] parseMeanMargins(String text) {
        String[] items = CommaList.items("rho-grid", text);
        double[] margins = new double[items.length];
        for (int i = 0; i < items.length; i++) {
            try {
                margins[i] = Decimal.parseDouble(items[i]);
            } catch (NumberFormatException e) {
                throw new InvalidInputException("--rho-grid: \"" + items[i] + "\" (item " + (i + 1) + " of \"" + text
                        + "\") is not a number; give mean margins > 0 separated by commas, e.g. 0.5,1,2,4");
            }
        }
        check(margins, items);
        return margins;
    }

    /**
     * The mean margins of a grid, ascending: at least one, each finite and > 0 (in [{@link LossConfig#MIN_RHO},
     * {@link LossConfig#MAX_RHO}], where the kernels take a margin), no two equal (the same points twice).
     *
     * @param meanMargins the mean margins, in any order. Not modified.
     * @return a new array of them, ascending
     * @throws InvalidInputException naming {@code --rho-grid} and the offending item, counted from 1 (null or no
     *                               margin, a margin outside that range, a repeated margin)
     */
    public static double[] checkMeanMargins(double[] meanMargins) {
        if (meanMargins == null) {
            throw new InvalidInputException("--rho-grid is null; give at least one mean margin, e.g. 0.5,1,2,4");
        }
        String[] shown = new String[meanMargins.length];
        for (int i = 0; i < shown.length; i++) {
            shown[i] = Double.toString(meanMargins[i]);
        }
        return check(meanMargins, shown);
    }

    /** {@link #checkMeanMargins}, naming each item as {@code shown} (as typed, when parsed). */
    private static double[] check(double[] meanMargins, String[] shown) {
        if (meanMargins.length == 0) {
            throw new InvalidInputException("--rho-grid needs at least one mean margin, e.g. 0.5,1,2,4 (default "
                    + "0.125,0.25,0.5,1,2)");
        }
        for (int i = 0; i < meanMargins.length; i++) {
            double m = meanMargins[i];
            if (!(m >= LossConfig.MIN_RHO && m <= LossConfig.MAX_RHO)) {
                throw new InvalidInputException("--rho-grid: item " + (i + 1) + " is " + shown[i] + "; every mean"
                        + " margin must be finite and > 0 (in [" + LossConfig.MIN_RHO + ", " + LossConfig.MAX_RHO
                        + "], where the float32 kernels take a margin)");
            }
            for (int j = 0; j < i; j++) {
                if (meanMargins[j] == m) {
                    throw new InvalidInputException("--rho-grid: item " + (i + 1) + " (" + shown[i] + ") repeats item "
                            + (j + 1) + " (" + shown[j] + "); give each mean margin once");
                }
            }
        }
        double[] sorted = meanMargins.clone();
        Arrays.sort(sorted);
        return sorted;
    }

    /**
     * Runs the search over the default grid, {@link #MEAN_MARGINS} x {@link #TILTS}.
     *
     * @param kernel       the loss backend
     * @param lossAt       the surrogate for a margin vector
     * @param oracleLabels the oracle expert of each training row
     * @param norms        the L2 norm of each training row's router input
     * @param train        the training rows. Not modified.
     * @param valid        the validation rows, at least one. Not modified.
     * @param options      the base training's options (the points' epochs are {@code searchEpochs})
     * @param searchEpochs epochs per grid point, or 0 for {@link #defaultSearchEpochs}
     * @param listener     progress callbacks
     * @return the grid, the winner and the base training
     * @throws InvalidInputException as {@link #search(LossKernel, Function, int[], double[], Examples, Examples,
     *                               TrainOptions, int, double[], Listener)}
     */
    public static Result search(LossKernel kernel, Function<double[], Surrogate> lossAt, int[] oracleLabels,
                                double[] norms, Examples train, Examples valid, TrainOptions options,
                                int searchEpochs, Listener listener) {
        return search(kernel, lossAt, oracleLabels, norms, train, valid, options, searchEpochs, MEAN_MARGINS, listener);
    }

    /**
     * Runs the search: the base training, then every grid point warm-started from it.
     *
     * @param kernel       the loss backend (its thread count is part of the determinism contract)
     * @param lossAt       the surrogate for a margin vector (MILD or comp-sum with the chosen rewards)
     * @param oracleLabels the oracle expert of each training row
     * @param norms        the L2 norm of each training row's router input (standardized features)
     * @param train        the training rows. Not modified.
     * @param valid        the validation rows, at least one. Not modified.
     * @param options      the base training's options (the points' epochs are {@code searchEpochs})
     * @param searchEpochs epochs per grid point, or {@code <= 0} for {@link #defaultSearchEpochs}
     * @param meanMargins  the grid's mean margins (checked by {@link #checkMeanMargins}; searched ascending),
     *                     e.g. {@link #MEAN_MARGINS}. Not modified.
     * @param listener     progress callbacks
     * @return the grid in search order, the winner, the epochs per point and the base training; the base is not
     *         marked kept ({@code rejectedValidLoss} NaN)
     * @throws InvalidInputException as {@link #checkMeanMargins}; when there are no validation rows; when a grid
     *                               point's margins do not suit the loss (before any training); or as
     *                               {@link Trainer#train}
     */
    public static Result search(LossKernel kernel, Function<double[], Surrogate> lossAt, int[] oracleLabels,
                                double[] norms, Examples train, Examples valid, TrainOptions options,
                                int searchEpochs, double[] meanMargins, Listener listener) {
        double[] means = checkMeanMargins(meanMargins);
        if (valid.rows() < 1) {
            // Every point would score NaN and the first of the grid would win by default, silently.
            throw new InvalidInputException("rho auto scores each grid point by its validation deferral loss, but there"
                    + " are no validation rows; give some, or fixed margins (theory, uniform or a list)");
        }
        int p = train.p();
        checkGrid(lossAt, oracleLabels, norms, p, means);
        Trainer.Result base = Trainer.train(kernel, lossAt.apply(Rho.uniform(p, 1.0)), train, valid, null, options,
                listener::baseEpoch);
        if (searchEpochs <= 0) {
            searchEpochs = defaultSearchEpochs(train.rows(), options, base.bestEpoch());
        }
        listener.searchEpochs(searchEpochs);
        TrainOptions fine = options.withEpochs(searchEpochs);
        List<Point> grid = new ArrayList<>();
        int total = means.length * TILTS.length;
        Point best = null;
        for (double mean : means) {
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
        return new Result(List.copyOf(grid), means, best, searchEpochs, base, Double.NaN);
    }

    /**
     * Every grid point's margins and loss, before any training: a point whose margins fall outside what the loss
     * accepts (a mean margin of 1e30 tilted by gamma 1/4) failed only after the base training and the points before
     * it, which on real data take minutes, and the error named neither the grid nor the point.
     */
    static void checkGrid(Function<double[], Surrogate> lossAt, int[] oracleLabels, double[] norms, int p,
                          double[] means) {
        for (double mean : means) {
            for (double gamma : TILTS) {
                double[] rho = null;
                try {
                    rho = Rho.tilted(oracleLabels, norms, p, mean * p, gamma);
                    lossAt.apply(rho);
                } catch (InvalidInputException e) {
                    throw new InvalidInputException("--rho-grid: mean margin " + mean + " with tilt gamma " + gamma
                            + " gives " + (rho == null ? "no margins" : "margins " + Arrays.toString(rho))
                            + ", which this loss cannot take: " + e.getMessage() + ". Every mean margin is tilted by gamma"
                            + " up to 1 (the theory's spread between experts), so keep the grid's values well inside"
                            + " [" + LossConfig.MIN_RHO + ", " + LossConfig.MAX_RHO + "]", e);
                }
            }
        }
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
