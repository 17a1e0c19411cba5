package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.data.Decimal;
import dev.mild.data.Dataset;
import dev.mild.defer.Rewards;
import dev.mild.defer.Surrogate;
import dev.mild.io.CommaList;
import dev.mild.io.Figures;
import dev.mild.loss.Backends;
import dev.mild.loss.Checks;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The whole training job behind {@code ./mild train}: data file(s) in, a {@link RouterModel} and its reports out.
 * {@link #run} makes a {@code TrainingJob}, whose constructor does steps 1 to 4 and whose {@code train} the rest.
 *
 * <ol>
 *   <li>Decide where costs come from ({@link ExpertSetup}, by {@code ExpertCosts}): cost columns, prediction
 *       columns, or simulated experts (synthetic or trained) on labelled rows; add per-expert prices
 *       ({@code beta} or coverage).</li>
 *   <li>Check every input before any training: the options against the loss, each file against the expert
 *       setup (a test file is checked now though only used at the very end, for the report), the rho list,
 *       the names a model file must store, the rows each trained expert gets ({@code TrainedExperts}).</li>
 *   <li>Split the data file by seed into train / validation / test (a separate validation or test file
 *       replaces that split).</li>
 *   <li>Standardize features with the training split's statistics.</li>
 *   <li>Train the experts' classifiers when they are trained, which gives their costs.</li>
 *   <li>Optionally add Gaussian noise to the <em>training</em> cost matrix ({@code costNoise}).</li>
 *   <li>Build the surrogate; for {@code mild} and {@code compsum} choose rho: {@code auto} ({@link RhoSearch}),
 *       {@code theory}, {@code uniform} or an explicit list ({@code RouterFit}).</li>
 *   <li>Train ({@link Trainer}) with early stopping on the validation deferral loss; evaluate validation and
 *       test splits.</li>
 * </ol>
 */
public final class RouterTraining {
    private static final long SPLIT_STREAM = 0x243F6A8885A308D3L;

    /** Share of the other classes' rows a trained expert also sees (the paper's 1%). */
    public static final double OTHER_CLASSES_SHARE = 0.01;

    private RouterTraining() {
    }

    /**
     * What to train; public fields with the defaults of {@code ./mild train}. The loss's own options ({@code rho},
     * {@code rhoMean}, {@code searchEpochs}, {@code rhoGrid}, {@code rewards}, {@code nu}) are null when not given:
     * {@link #check} refuses one the loss does not use, and the accessors of the same name give the value in effect.
     */
    public static final class Spec {
        /** The defaults of {@code ./mild train}: {@code --loss mild --rho auto}, split 70/10/20 by seed. */
        public Spec() {
        }

        /** The surrogate ({@code --loss}; default mild), not null. */
        public Surrogate.Kind loss = Surrogate.Kind.MILD;
        /** {@code auto}, {@code theory}, {@code uniform}, a comma-separated list, or null for the loss's default. */
        public String rho;
        /** Mean margin {@code rho_bar / p} for {@code theory} and {@code uniform} (default 1). */
        public Double rhoMean;
        /** Rewards of mild and compsum (default sum-others). */
        public Rewards rewards;
        /** Exponent of {@code compsum} and {@code multitask} (default 0.5). */
        public Double nu;
        /** Simulated experts, or null to take costs from the file's columns. */
        public ExpertSetup.Source experts;
        /** Class-block proportions per expert ({@code --blocks}); empty for none, not null. */
        public int[] blocks = {};
        /** Per-expert prices, or null. */
        public double[] beta;
        /** Prices = block shares (0.7/0.2/0.1 for 7/2/1). */
        public boolean coverage;
        /** Standard deviation of Gaussian noise on the training costs. */
        public double costNoise;
        /** How features are scaled before training (default: each column to standard deviation 1). */
        public Standardizer.Scaling scaling = Standardizer.Scaling.COLUMNS;
        /** Share of the data split off for validation (default 0.1); must stay null when a validation file is given. */
        public Double validFraction;
        /** Share of the data split off for testing (default 0.2); must stay null when a test file is given. */
        public Double testFraction;
        /** Epochs per grid point of the auto search; null or 0 for {@link RhoSearch#defaultSearchEpochs}. */
        public Integer searchEpochs;
        /** Mean margins of the auto search ({@code --rho-grid}), any order; null for {@link RhoSearch#MEAN_MARGINS}. */
        public double[] rhoGrid;
        /** Epochs cap for trained experts' classifiers, {@code >= 1} (no automatic value: they keep the paper's). */
        public int expertEpochs = 20;
        /** The router's network, optimizer and schedule (default {@link TrainOptions#DEFAULT}), not null. */
        public TrainOptions options = TrainOptions.DEFAULT;
        /** Loss backend by name, or null for the fastest present. */
        public String backend;

        /**
         * True when the loss takes per-expert margins.
         *
         * @return {@code true} for mild and compsum
         */
        public boolean hasMargins() {
            return loss == Surrogate.Kind.MILD || loss == Surrogate.Kind.COMPSUM;
        }

        /**
         * The rho rule in effect: {@code auto} by default for losses with margins, {@code fixed} otherwise.
         *
         * @return {@code "fixed"}, {@link #rho}, or {@code "auto"} when it is null
         */
        public String rhoRule() {
            if (!hasMargins()) {
                return "fixed";
            }
            return rho == null ? "auto" : rho;
        }

        /** A loss with margins whose rho rule is an explicit comma-separated list (not auto, theory or uniform). */
        boolean listsRho() {
            String rule = rhoRule();
            return hasMargins() && !rule.equals("auto") && !rule.equals("theory") && !rule.equals("uniform");
        }

        /** One-minus rewards, which only mild and compsum take. */
        boolean oneMinusRewards() {
            return hasMargins() && rewards() == Rewards.ONE_MINUS;
        }

        /**
         * The mean margin in effect.
         *
         * @return {@link #rhoMean}, or 1 when it is null
         */
        public double rhoMean() {
            return rhoMean == null ? 1.0 : rhoMean;
        }

        /**
         * The validation fraction in effect.
         *
         * @return {@link #validFraction}, or 0.1 when it is null
         */
        public double validFraction() {
            return validFraction == null ? 0.1 : validFraction;
        }

        /**
         * The test fraction in effect.
         *
         * @return {@link #testFraction}, or 0.2 when it is null
         */
        public double testFraction() {
            return testFraction == null ? 0.2 : testFraction;
        }

        /**
         * The epochs per grid point in effect.
         *
         * @return {@link #searchEpochs}, or 0 (the default, {@link RhoSearch#defaultSearchEpochs}) when it is null
         */
        public int searchEpochs() {
            return searchEpochs == null ? 0 : searchEpochs;
        }

        /**
         * The auto search's mean margins in effect, ascending (checked: run {@link #check} first).
         *
         * @return a new array: {@link #rhoGrid} sorted, or {@link RhoSearch#MEAN_MARGINS} when it is null
         * @throws InvalidInputException as {@link RhoSearch#checkMeanMargins}
         */
        public double[] rhoGrid() {
            return RhoSearch.checkMeanMargins(rhoGrid == null ? RhoSearch.MEAN_MARGINS : rhoGrid);
        }

        /**
         * The rewards in effect.
         *
         * @return {@link #rewards}, or {@link Rewards#SUM_OTHERS} when it is null
         */
        public Rewards rewards() {
            return rewards == null ? Rewards.SUM_OTHERS : rewards;
        }

        /**
         * The exponent in effect.
         *
         * @return {@link #nu}, or 0.5 when it is null
         */
        public double nu() {
            return nu == null ? 0.5 : nu;
        }

        /**
         * Refuses an option the loss (or the rho rule) does not use, rather than ignoring it, and a malformed rho
         * rule or mean margin. Needs no data: run before reading files. The count of an explicit rho list is
         * checked by {@link #run}, which knows the experts.
         *
         * @throws InvalidInputException when {@code loss}, {@code options}, {@code blocks} or {@code scaling} is
         *                               null; when {@code validFraction} is 0; when an option is given that the
         *                               loss or rho rule does not use; when a rho list item, {@code rhoMean},
         *                               {@code nu}, {@code rhoGrid}, {@code searchEpochs}, {@code expertEpochs} or
         *                               {@code costNoise} is out of range; or for cost noise with one-minus rewards
         */
        public void check() {
            checkWhatEveryRunNeeds();
            if (hasMargins()) {
                refuseWhatTheRhoRuleDoesNotUse();
            } else {
                refuseMarginOptions();
            }
            if (nu != null && loss != Surrogate.Kind.COMPSUM && loss != Surrogate.Kind.MULTITASK) {
                throw new InvalidInputException("--nu is the exponent of --loss compsum and multitask; " + loss.label()
                        + (loss == Surrogate.Kind.MILD ? " is the logsumexp member (nu = 1)" : " has a fixed exponent"));
            }
            checkValues();
        }

        /** A loss, options, validation rows and a blocks array. */
        private void checkWhatEveryRunNeeds() {
            // Public fields: a null would otherwise surface as a NullPointerException somewhere in the run.
            if (loss == null) {
                throw new InvalidInputException("loss is null; set a Surrogate.Kind (--loss; the default is mild)");
            }
            if (options == null) {
                throw new InvalidInputException("options is null; set TrainOptions (TrainOptions.DEFAULT for the"
                        + " defaults of ./mild train)");
            }
            if (validFraction != null && validFraction == 0) {
                // Said now, not after reading the data: every run needs validation rows.
                throw new InvalidInputException("--valid-fraction 0 leaves no validation rows, which early stopping"
                        + " and the choice of rho need: give a fraction above 0 (default 0.1), or --valid FILE");
            }
            if (blocks == null) {
                throw new InvalidInputException("blocks is null; use an empty array for no class blocks");
            }
        }

        /** The options of per-expert margins, given with a loss whose margins are fixed. */
        private void refuseMarginOptions() {
            String applies = " applies to --loss mild and compsum; " + loss.label();
            refuseGiven(rho, "--rho" + applies + " has fixed margins");
            refuseGiven(rhoMean, "--rho-mean (the mean margin of --rho theory and uniform)" + applies
                    + " has fixed margins");
            refuseGiven(searchEpochs, "--search-epochs (the epochs of the --rho auto search)" + applies
                    + " has fixed margins, so there is no search");
            refuseGiven(rhoGrid, "--rho-grid (the mean margins of the --rho auto search)" + applies
                    + " has fixed margins, so there is no search");
            refuseGiven(rewards, "--rewards" + applies + switch (loss) {
                case TDEF, MULTITASK -> " always uses sum-others rewards";
                case REALIZABLE_LOG, REALIZABLE_MAE -> " always uses realizable rewards";
                default -> " trains on the oracle expert, without rewards";
            });
        }

        private static void refuseGiven(Object option, String message) {
            if (option != null) {
                throw new InvalidInputException(message);
            }
        }

        /** With margins: the options of another rho rule, and a malformed rho list. */
        private void refuseWhatTheRhoRuleDoesNotUse() {
            String rule = rhoRule();
            if (rhoMean != null && !rule.equals("theory") && !rule.equals("uniform")) {
                throw new InvalidInputException("--rho-mean sets the mean margin of --rho theory and uniform; with --rho "
                        + rule + " it would be unused");
            }
            if (searchEpochs != null && !rule.equals("auto")) {
                throw new InvalidInputException("--search-epochs sets the epochs per grid point of --rho auto; with"
                        + " --rho " + rule + " there is no search");
            }
            if (rhoGrid != null && !rule.equals("auto")) {
                throw new InvalidInputException("--rho-grid sets the mean margins searched by --rho auto; with"
                        + " --rho " + rule + " there is no search");
            }
            if (listsRho()) {
                parseRho(rule, 0);   // the numbers; their count needs the experts
            }
        }

        /** Each value in its range, the scaling set, and noise only with rewards that take any cost. */
        private void checkValues() {
            if (rhoMean != null && (!(rhoMean > 0) || !Double.isFinite(rhoMean))) {
                throw new InvalidInputException("--rho-mean must be finite and > 0, got " + rhoMean);
            }
            if (nu != null && (!(nu >= 0) || !Double.isFinite(nu))) {
                throw new InvalidInputException("--nu must be finite and >= 0, got " + nu);
            }
            if (rhoGrid != null) {
                RhoSearch.checkMeanMargins(rhoGrid);
            }
            if (searchEpochs != null && searchEpochs < 1) {
                throw new InvalidInputException("--search-epochs must be >= 1, got " + searchEpochs
                        + " (leave it out, null in the API, for the default: about " + RhoSearch.SEARCH_STEPS
                        + " optimizer steps per grid point)");
            }
            if (expertEpochs < 1) {
                // A cap below 1 is no cap (and as TrainOptions' AUTO it would silently train up to 4000 steps).
                throw new InvalidInputException("expertEpochs (the most epochs of a trained expert's classifier) must"
                        + " be >= 1, got " + expertEpochs);
            }
            if (scaling == null) {
                // Read only when the model is saved: null would fail after the whole training.
                throw new InvalidInputException("scaling is null; set Standardizer.Scaling.COLUMNS (--scale columns,"
                        + " the default) or NONE (--scale none)");
            }
            if (!(costNoise >= 0) || !Double.isFinite(costNoise)) {
                throw new InvalidInputException("--cost-noise must be finite and >= 0, got " + costNoise);
            }
            if (costNoise > 0 && oneMinusRewards()) {
                throw new InvalidInputException("--cost-noise with --rewards one-minus: Gaussian noise moves costs out of"
                        + " [0, 1], where one-minus rewards (1 - cost) are defined; use --rewards sum-others (the default)");
            }
        }
    }

    /** Progress callbacks (all optional). */
    public interface Listener extends RhoSearch.Listener {
        /** No progress reports. */
        Listener SILENT = new Listener() {
        };

        /**
         * A step of the job, e.g. "standardizing 784 features"; by default nothing.
         *
         * @param text the step, one line
         */
        default void message(String text) {
        }

        /**
         * An epoch of the final training (or of an expert classifier, with {@code phase} saying which); by
         * default nothing.
         *
         * @param phase which training the epoch belongs to
         * @param e     the epoch's numbers
         */
        default void epoch(String phase, Trainer.Epoch e) {
        }
    }

    /**
     * What a training job gave.
     *
     * @param model        the router model to save ({@link ModelFile#save})
     * @param surrogate    the loss the router was trained on, with the margins used
     * @param trainRows    rows of the training split
     * @param validRows    validation rows
     * @param testRows     test rows, 0 without any
     * @param testSource   where the test rows came from ("FILE" or "20% split of FILE"), null without test rows
     * @param rho          the margins used ({@code null} for losses without per-expert margins)
     * @param search       the auto search, or null
     * @param training     the router's final training
     * @param valid        the router's report on the validation rows
     * @param test         the router's report on the test rows, or null without test rows
     * @param trainOracle  the oracle's shares on the training costs (after noise)
     * @param expertTraining the trained experts' classifier trainings, one per expert; empty unless the experts are
     *                     {@link ExpertSetup.Source#TRAINED}
     */
    public record Outcome(RouterModel model, Surrogate surrogate, int trainRows, int validRows, int testRows,
                          String testSource, double[] rho, RhoSearch.Result search, Trainer.Result training,
                          Evaluation.Result valid, Evaluation.Result test, double[] trainOracle,
                          List<Trainer.Result> expertTraining) {
        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }

    /**
     * Refuses a fraction for a split that a file replaces (it would be silently unused); callers that read the
     * files later (the CLI) call it before reading them, {@link #run} again.
     *
     * @param spec      the spec, not null
     * @param validFile whether a validation file is given
     * @param testFile  whether a test file is given
     * @throws InvalidInputException when a file is given with its split's fraction
     */
    public static void checkSplits(Spec spec, boolean validFile, boolean testFile) {
        if (validFile && spec.validFraction != null) {
            throw new InvalidInputException("--valid FILE and --valid-fraction both say where the validation rows come"
                    + " from; with --valid no rows of --data are split off for validation: drop --valid-fraction");
        }
        if (testFile && spec.testFraction != null) {
            throw new InvalidInputException("--test FILE and --test-fraction both say where the test rows come from;"
                    + " with --test no rows of --data are split off for testing: drop --test-fraction");
        }
    }

    /**
     * Trains a router. Every check on the inputs (options, files, names, the rows of each trained expert) runs
     * before any training, so a mistake fails in seconds, never after a long run.
     *
     * @param data      the rows to train on (all of them when both files are given), at least 2
     * @param validFile replaces the validation split, or null
     * @param testFile  replaces the test split, or null; checked first, used only after training for the report
     * @param spec      what to train ({@link Spec#check}ed here). Not modified.
     * @param progress  progress reports, or null for none ({@link Listener#SILENT})
     * @return the model and the reports
     * @throws InvalidInputException on a missing {@code data} or {@code spec} and every check above, before
     *                               training; when training diverges ({@link Trainer#train})
     */
    public static Outcome run(Dataset data, Dataset validFile, Dataset testFile, Spec spec, Listener progress) {
        Checks.required("data", data);
        Checks.required("spec", spec);
        spec.check();
        checkSplits(spec, validFile != null, testFile != null);
        if (data.rows() < 2) {
            throw new InvalidInputException(data.source() + ": need at least 2 rows to train, got " + data.rows());
        }
        TrainingJob job = new TrainingJob(data, validFile, testFile, spec, progress == null ? Listener.SILENT : progress);
        KernelOptions kopts = KernelOptions.threads(spec.options.threads());
        try (LossKernel kernel = spec.backend == null ? Backends.openDefault(kopts) : Backends.open(spec.backend, kopts)) {
            return job.train(kernel);
        }
    }

    /**
     * An explicit rho rule: {@code p} comma-separated margins, each in [{@link LossConfig#MIN_RHO},
     * {@link LossConfig#MAX_RHO}]; every item is parsed and checked before the count, which is checked only when
     * {@code p > 0} (before the data is read the experts are not known).
     */
    static double[] parseRho(String rule, int p) {
        String[] parts = CommaList.items("rho", rule);
        double[] rho = new double[parts.length];
        for (int k = 0; k < parts.length; k++) {
            try {
                rho[k] = Decimal.parseDouble(parts[k]);
                if (!(rho[k] >= LossConfig.MIN_RHO && rho[k] <= LossConfig.MAX_RHO)) {
                    throw new InvalidInputException("--rho: the margin of expert " + (k + 1) + " is " + parts[k]
                            + " (must be in [" + LossConfig.MIN_RHO + ", " + LossConfig.MAX_RHO
                            + "]: the float32 kernels form 1/rho)");
                }
            } catch (NumberFormatException e) {
                // The count is the experts' when known, never the items': "theroy" is not a list of 1 margin.
                String perExpert = "one margin per expert" + (p > 0 ? " (" + p + " here)" : "");
                throw new InvalidInputException(parts.length == 1
                        ? "--rho \"" + rule + "\" is neither a rule nor a number; expected auto, theory, uniform or "
                                + perExpert + ", comma-separated"
                        : "--rho: \"" + parts[k] + "\" (expert " + (k + 1) + ") is not a number; expected auto, theory,"
                                + " uniform or " + perExpert + ", comma-separated");
            }
        }
        if (p > 0 && parts.length != p) {
            throw new InvalidInputException("--rho \"" + rule + "\": expected auto, theory, uniform or " + p
                    + " comma-separated margins (one per expert), got " + parts.length + " value(s)");
        }
        return rho;
    }

    /**
     * A seeded split of {@code n} rows: {@code [train, valid, test]}, each sorted. Test takes
     * {@code round(testFraction n)} rows, validation {@code round(validFraction n)}, training the rest (which
     * may be none).
     *
     * @param n             the number of rows, {@code >= 0}
     * @param validFraction the validation share, {@code >= 0}
     * @param testFraction  the test share, {@code >= 0}, with {@code validFraction + testFraction < 1}
     * @param seed          seeds the shuffle: the same seed and {@code n} give the same split
     * @return three new arrays of row indexes, {@code {train, valid, test}}, each ascending, together
     *         {@code 0..n-1} once each
     * @throws InvalidInputException when a fraction is out of range
     */
    public static int[][] split(int n, double validFraction, double testFraction, long seed) {
        if (!(validFraction >= 0 && testFraction >= 0 && validFraction + testFraction < 1)) {
            throw new InvalidInputException("validation and test fractions must be >= 0 and sum to less than 1, got "
                    + validFraction + " and " + testFraction);
        }
        int[] perm = all(n);
        Trainer.shuffle(perm, new SplittableRandom(seed ^ SPLIT_STREAM));
        int nTest = (int) Math.round(testFraction * n);
        int nValid = (int) Math.round(validFraction * n);
        int[] test = Arrays.copyOfRange(perm, 0, nTest);
        int[] valid = Arrays.copyOfRange(perm, nTest, nTest + nValid);
        int[] train = Arrays.copyOfRange(perm, nTest + nValid, n);
        Arrays.sort(test);
        Arrays.sort(valid);
        Arrays.sort(train);
        return new int[][] {train, valid, test};
    }

    /** The indexes {@code 0..n-1}: every row of a file of {@code n} rows. */
    static int[] all(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    /**
     * 0.1 as "0.1", 0 as "0": a fraction as the user would type it; a tiny one as 1E-300, which written out plainly
     * (--valid-fraction 1e-300) filled a message with 300 zeros.
     */
    static String plain(double v) {
        return Figures.decimal(BigDecimal.valueOf(v), 20);
    }
}
