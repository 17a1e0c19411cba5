package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.defer.Deferral;
import dev.mild.defer.Rho;
import dev.mild.defer.Surrogate;
import dev.mild.io.Figures;
import dev.mild.loss.LossKernel;
import dev.mild.router.RouterTraining.Listener;
import dev.mild.router.RouterTraining.Spec;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;

/**
 * The router's training in a training job: the surrogate of the spec's loss, for {@code mild} and {@code compsum}
 * its margins rho by the rule ({@code auto}: {@link RhoSearch}; {@code theory}, {@code uniform} or a list), and the
 * router trained with it on the training rows, early-stopped on the validation rows.
 */
final class RouterFit {

    /**
     * @param rho    the margins used ({@code null} for losses without per-expert margins)
     * @param search the auto search, or null
     */
    record Result(Surrogate surrogate, double[] rho, RhoSearch.Result search, Trainer.Result training) {
    }

    private final LossKernel kernel;
    private final Spec spec;
    private final Examples train;
    private final Examples valid;
    private final int[] oracle;
    private final Listener listener;
    private final int p;
    /** The surrogate at given margins. */
    private final Function<double[], Surrogate> lossAt;

    private RouterFit(LossKernel kernel, Spec spec, Examples train, Examples valid, int[] oracle, Listener listener) {
        this.kernel = kernel;
        this.spec = spec;
        this.train = train;
        this.valid = valid;
        this.oracle = oracle;
        this.listener = listener;
        this.p = train.p();
        int[] counts = Deferral.counts(oracle, p);
        this.lossAt = rho -> surrogate(spec, rho, p, counts);
    }

    /**
     * @param listedRho the margins of an explicit rho list (checked against the experts before any training), or null
     * @param oracle    the oracle expert of each training row
     */
    static Result fit(LossKernel kernel, Spec spec, double[] listedRho, Examples train, Examples valid, int[] oracle,
                      Listener listener) {
        return new RouterFit(kernel, spec, train, valid, oracle, listener).fit(listedRho);
    }

    private Result fit(double[] listedRho) {
        // The loss weights depend on the costs (and counts), not on the margins: their scale at margins 1 is the
        // scale of every training here. A loss without margins ignores them, so this is the loss it trains.
        Surrogate unitMargins = lossAt.apply(spec.hasMargins() ? Rho.uniform(p, 1.0) : null);
        reportWeightScale(unitMargins);
        if (!spec.hasMargins()) {
            return trainedAt(unitMargins, null);
        }
        String rule = spec.rhoRule();
        if (rule.equals("auto")) {
            return p > 1 ? searched() : oneExpert();
        }
        double[] rho = listedRho != null ? listedRho : fixedRho(rule);
        return trainedAt(surrogateFor(rho, listedRho != null ? "the listed margins" : "--rho " + rule), rho);
    }

    /** Says when training rescales the loss weights, and by how much (see {@link Trainer#weightScale}). */
    private void reportWeightScale(Surrogate surrogate) {
        double meanWeight = Trainer.meanWeightMagnitude(surrogate, train);
        double weightScale = Trainer.weightScale(surrogate, meanWeight);
        if (weightScale != 1.0) {
            listener.message(String.format(Locale.ROOT, "the loss weights average %.3g in magnitude (they follow"
                    + " the costs' units); training multiplies them by %s, as if the costs were in units %s times"
                    + " %s, so that the learning rate and weight decay fit. The router is judged and reported in"
                    + " the costs as given", meanWeight, powerOfTen(weightScale),
                    powerOfTen(weightScale > 1 ? weightScale : 1 / weightScale), weightScale > 1 ? "smaller" : "larger"));
        }
    }

    /** The router trained with margins that are not searched. */
    private Result trainedAt(Surrogate surrogate, double[] rho) {
        listener.message("training " + surrogate);
        return new Result(surrogate, rho, null, trainRouter(surrogate));
    }

    /** {@code --rho auto}: the grid search, then the router at the chosen point unless that is the base. */
    private Result searched() {
        int searchEpochs = spec.searchEpochs() > 0
                ? Math.min(spec.searchEpochs(), spec.options.epochsFor(train.rows())) : 0;
        double[] meanMargins = spec.rhoGrid();
        listener.message("rho auto: a base training with uniform margins 1, then "
                + meanMargins.length * RhoSearch.TILTS.length + " grid points warm-started from it");
        RhoSearch.Result search = RhoSearch.search(kernel, lossAt, oracle, norms(), train, valid, spec.options,
                searchEpochs, meanMargins, listener);
        double[] rho = search.chosen().rho();
        Surrogate surrogate = lossAt.apply(rho);
        if (search.chosen().isUniformOne()) {
            listener.message("chosen: uniform margins 1 (the base training is the final model)");
            return new Result(surrogate, rho, search, search.base());
        }
        listener.message("training the final model at the chosen point: " + surrogate);
        Trainer.Result training = trainRouter(surrogate);
        // auto is never worse than TDEF on validation (MATH.md): the grid scored warm starts, and the model
        // trained from scratch at the winner can still end above the base, TDEF's training.
        if (training.bestValidLoss() > search.base().bestValidLoss()) {
            listener.message(String.format(Locale.ROOT, "the final model's validation deferral loss %s"
                    + " is above the base's %s: the base (uniform margins 1) is kept",
                    Figures.of(training.bestValidLoss()), Figures.of(search.base().bestValidLoss())));
            RhoSearch.Result kept = search.keepingBase(training.bestValidLoss());
            double[] uniform = Rho.uniform(p, 1.0);
            return new Result(lossAt.apply(uniform), uniform, kept, kept.base());
        }
        return new Result(surrogate, rho, search, training);
    }

    /** {@code --rho auto} with one expert, who gets every row whatever the scores: every grid point would route alike. */
    private Result oneExpert() {
        listener.message("rho auto: one expert gets every row whatever the margins, so there is nothing to search;"
                + " margin 1");
        double[] rho = Rho.uniform(p, 1.0);
        return trainedAt(lossAt.apply(rho), rho);
    }

    private Trainer.Result trainRouter(Surrogate surrogate) {
        return Trainer.train(kernel, surrogate, train, valid, null, spec.options, e -> listener.epoch("router", e));
    }

    /** The L2 norm of each training row's router input, which theory's margins follow. */
    private double[] norms() {
        return Rho.rowNorms(train.features(), train.rows(), train.d());
    }

    /**
     * The loss at margins from a rule, or an error that names the rule: theory's margins follow the standardized
     * inputs' norms and the experts' shares, and unscaled features of 1e17 gave one expert 4e-35, refused with a
     * message that named only "rho of expert 2".
     */
    private Surrogate surrogateFor(double[] rho, String rule) {
        try {
            return lossAt.apply(rho);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(rule + " gives margins " + Arrays.toString(rho) + ": " + e.getMessage()
                    + (rule.equals("--rho theory") ? ". The theory's margins grow with the largest input norm of each"
                    + " expert's rows: standardize the features (--scale columns) or use --rho uniform or auto" : ""), e);
        }
    }

    /** The surrogate of {@code spec.loss} at margins {@code rho} (ignored by losses without margins). */
    private static Surrogate surrogate(Spec spec, double[] rho, int p, int[] oracleCounts) {
        return switch (spec.loss) {
            case MILD -> Surrogate.mild(rho, spec.rewards());
            case COMPSUM -> Surrogate.compSum(rho, spec.nu(), spec.rewards());
            case TDEF -> Surrogate.tdef(p);
            case REALIZABLE_LOG -> Surrogate.realizableLog(p);
            case REALIZABLE_MAE -> Surrogate.realizableMae(p);
            case MULTITASK -> Surrogate.multiTask(p, spec.nu());
            case CE -> Surrogate.ce(p);
            case CWCE -> Surrogate.cwce(oracleCounts);
            case LDAM -> Surrogate.ldam(oracleCounts, 1.0, 0.5);
        };
    }

    /** {@code theory} or {@code uniform} with the spec's mean margin (checked by {@link Spec#check}). */
    private double[] fixedRho(String rule) {
        double mean = spec.rhoMean();
        return rule.equals("theory") ? Rho.theory(oracle, norms(), p, mean * p) : Rho.uniform(p, mean);
    }

    /** A power of ten as 100000 up to a million, else as 1e-38 (not 38 zeros). */
    private static String powerOfTen(double v) {
        long exponent = Math.round(Math.log10(v));
        return Math.abs(exponent) <= 6 ? RouterTraining.plain(v) : "1e" + exponent;
    }
}
