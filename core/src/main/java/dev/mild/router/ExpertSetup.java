package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.data.Dataset;
import dev.mild.io.Figures;
import dev.mild.loss.Checks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Where the cost of routing a row to each expert comes from, stored in the model so that {@code eval} can
 * rebuild the costs of a new file the same way:
 *
 * <ul>
 *   <li>{@link Source#COSTS}: the file's {@code cost:<expert>} columns, plus {@code beta_k};</li>
 *   <li>{@link Source#PREDICTIONS}: {@code 1[pred_k != label] + beta_k} from {@code pred:<expert>} columns;</li>
 *   <li>{@link Source#SYNTHETIC}: the paper's synthetic experts (App. C.1): expert k is always right on its
 *       block of classes and guesses a class uniformly at random elsewhere; cost {@code 1[wrong] + beta_k};</li>
 *   <li>{@link Source#TRAINED}: the paper's real experts: expert k is a classifier trained on its block plus
 *       1% of the other classes' rows (the classifiers are stored in the model); cost {@code 1[wrong] + beta_k}.</li>
 * </ul>
 *
 * <p>Class blocks are proportions: {@code 7,2,1} over 10 classes gives classes 0-6, 7-8 and 9; over 100 classes
 * 0-69, 70-89 and 90-99. Block k's classes are {@code [round(C s_{k-1} / S), round(C s_k / S))} with
 * {@code s_k} the running sum and {@code S} the total.
 *
 * @param source  which rule makes the costs
 * @param names   expert names, in score order, at least one. Copied.
 * @param classes number of classes ({@code 0} when the data has no labels)
 * @param blocks  class-block proportions per expert, each {@code >= 1} (empty when there are none). Copied.
 * @param beta    per-expert price added to every cost, finite and {@code >= 0}. Copied.
 * @param seed    seeds the synthetic experts' guesses
 */
public record ExpertSetup(Source source, List<String> names, int classes, int[] blocks, double[] beta, long seed) {

    /** Which rule produces the costs. */
    public enum Source {
        /** The file's {@code cost:<expert>} columns, plus {@code beta_k}. */
        COSTS("costs"),
        /** {@code 1[pred_k != label] + beta_k} from the file's {@code pred:<expert>} and {@code label} columns. */
        PREDICTIONS("predictions"),
        /** The paper's synthetic experts, simulated from the {@code label} column. */
        SYNTHETIC("synthetic"),
        /** The paper's real experts: classifiers trained on their blocks, stored in the model. */
        TRAINED("trained");

        private final String label;

        Source(String label) {
            this.label = label;
        }

        /**
         * The name {@link #byName} takes.
         *
         * @return {@code "costs"}, {@code "predictions"}, {@code "synthetic"} or {@code "trained"}
         */
        public String label() {
            return label;
        }

        /**
         * The source of a name.
         *
         * @param name one of the {@link #label} values, exactly
         * @return the source with that label
         * @throws InvalidInputException for any other name, null included
         */
        public static Source byName(String name) {
            for (Source s : values()) {
                if (s.label.equals(name)) {
                    return s;
                }
            }
            throw new InvalidInputException("unknown experts \"" + name + "\" (known: costs, predictions, synthetic,"
                    + " trained)");
        }

        /**
         * The sources that simulate experts from a label column, the values of {@code --experts}.
         *
         * @param name {@code "synthetic"} or {@code "trained"}
         * @return {@link #SYNTHETIC} or {@link #TRAINED}
         * @throws InvalidInputException for any other name, null included
         */
        public static Source simulated(String name) {
            if (name == null || !name.equals(SYNTHETIC.label) && !name.equals(TRAINED.label)) {
                throw new InvalidInputException("--experts takes synthetic or trained, got \"" + name + "\"");
            }
            return byName(name);
        }
    }

    /** Random streams of the synthetic experts: one per file, so a file's costs never depend on another. */
    public static final int STREAM_DATA = 0;
    /** The random stream of the {@code --test} file. */
    public static final int STREAM_TEST = 1;
    /** The random stream of the {@code --valid} file. */
    public static final int STREAM_VALID = 2;

    /**
     * Checks the setup and copies the names, blocks and prices.
     *
     * @throws InvalidInputException when a part or a name is null; when there is no expert; when {@code classes < 0};
     *                               when {@code beta} is
     *                               not one finite price {@code >= 0} per expert; when {@code blocks} is neither
     *                               empty nor one per expert, or (with {@code classes > 0}) as
     *                               {@link #classBlocks}; or when synthetic or trained experts lack blocks or
     *                               classes
     */
    public ExpertSetup {
        Checks.required("expert setup: source", source);
        names = List.copyOf(Checks.requiredElements("expert setup: names", names));
        Checks.required("expert setup: blocks (an empty array for none)", blocks);
        Checks.required("expert setup: beta (zeros for no price)", beta);
        blocks = blocks.clone();
        beta = beta.clone();
        if (names.isEmpty()) {
            throw new InvalidInputException("need at least one expert");
        }
        if (classes < 0) {
            throw new InvalidInputException("expert setup: classes is " + classes + " (0 when the labels are unknown)");
        }
        if (beta.length != names.size()) {
            throw new InvalidInputException("beta has " + beta.length + " values for " + names.size() + " experts ("
                    + String.join(", ", names) + "): give one price per expert");
        }
        for (int k = 0; k < beta.length; k++) {
            if (!Double.isFinite(beta[k]) || beta[k] < 0) {
                throw new InvalidInputException("beta of expert " + names.get(k) + " is " + beta[k]
                        + " (must be finite and >= 0)");
            }
        }
        if (blocks.length > 0) {
            if (blocks.length != names.size()) {
                throw new InvalidInputException("--blocks has " + blocks.length + " values for " + names.size()
                        + " experts: give one class block per expert");
            }
            if (classes > 0) {
                classBlocks(classes, blocks);   // validates
            }
        }
        if ((source == Source.SYNTHETIC || source == Source.TRAINED) && (blocks.length == 0 || classes < 1)) {
            throw new InvalidInputException(source.label() + " experts need --blocks and a label column");
        }
    }

    /**
     * Simulated experts named {@code expert1..expertK}, one per block.
     *
     * @param experts the number of experts K ({@code < 1}: none)
     * @return a new list {@code expert1, ..., expertK}
     */
    public static List<String> simulatedNames(int experts) {
        List<String> n = new ArrayList<>();
        for (int k = 1; k <= experts; k++) {
            n.add("expert" + k);
        }
        return n;
    }

    /**
     * The class-block proportions.
     *
     * @return a copy (empty when there are none)
     */
    @Override
    public int[] blocks() {
        return blocks.clone();
    }

    /**
     * The per-expert prices.
     *
     * @return a copy, one per expert
     */
    @Override
    public double[] beta() {
        return beta.clone();
    }

    /**
     * The number of experts.
     *
     * @return {@code p >= 1}, the size of {@link #names}
     */
    public int experts() {
        return names.size();
    }

    /**
     * Whether the classes are split into blocks (and so {@link #blockName} and {@link #classBlocks} apply).
     *
     * @return {@code true} when there are blocks and {@code classes > 0}
     */
    public boolean hasBlocks() {
        return blocks.length > 0 && classes > 0;
    }

    /**
     * {@code beta_k = blocks_k / sum(blocks)}: the paper's coverage price (0.7 / 0.2 / 0.1 for 7/2/1).
     *
     * @param blocks the class-block proportions, each {@code >= 1} (not checked). Not modified.
     * @return a new array of one price per block
     */
    public static double[] coverage(int[] blocks) {
        // Summed in long: an int sum of two blocks of 2e9 overflowed, and the prices came out negative.
        double total = Arrays.stream(blocks).asLongStream().sum();
        double[] b = new double[blocks.length];
        for (int k = 0; k < blocks.length; k++) {
            b[k] = blocks[k] / total;
        }
        return b;
    }

    /**
     * The block (expert) owning each class, for {@code classes} classes split by the proportions {@code blocks}.
     *
     * @param classes the number of classes, {@code >= 0}
     * @param blocks  the proportions, each {@code >= 1}. Not modified.
     * @return a new array of {@code classes} block indexes, as in the class comment
     * @throws InvalidInputException when a proportion is {@code < 1} or a block would get no class
     */
    public static int[] classBlocks(int classes, int[] blocks) {
        long total = 0;
        for (int b : blocks) {
            if (b < 1) {
                throw new InvalidInputException("--blocks " + joined(blocks) + ": every block needs a size >= 1");
            }
            total += b;
        }
        int[] owner = new int[classes];
        long running = 0;
        int start = 0;
        for (int k = 0; k < blocks.length; k++) {
            running += blocks[k];
            int end = (int) Math.round((double) classes * running / total);
            if (end <= start) {
                throw new InvalidInputException("--blocks " + joined(blocks) + " over " + classes + " classes leaves block "
                        + (k + 1) + " without a class");
            }
            for (int c = start; c < end; c++) {
                owner[c] = k;
            }
            start = end;
        }
        return owner;
    }

    /**
     * "classes 0-6" for block k.
     *
     * @param k the block, {@code 0..p-1}, of a setup with {@link #hasBlocks()}
     * @return "classes first-last", or "class c" for a block of one class
     */
    public String blockName(int k) {
        int[] owner = classBlocks(classes, blocks);
        int first = -1;
        int last = -1;
        for (int c = 0; c < classes; c++) {
            if (owner[c] == k) {
                if (first < 0) {
                    first = c;
                }
                last = c;
            }
        }
        return first == last ? "class " + first : "classes " + first + "-" + last;
    }

    static String joined(int[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(v[i]);
        }
        return sb.toString();
    }

    /**
     * Each synthetic expert's prediction for each row: its own block right, a uniform guess elsewhere.
     *
     * @param labels the true classes, each in {@code 0..classes-1}. Not modified.
     * @param stream which file (see {@link #STREAM_DATA}); the same seed and stream give the same guesses
     * @return a new {@code rows x p} matrix of predicted classes, {@code rows = labels.length}
     * @throws InvalidInputException as {@link #classBlocks}
     */
    public int[] syntheticPredictions(int[] labels, int stream) {
        int[] owner = classBlocks(classes, blocks);
        int p = experts();
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L * (stream + 1));
        int[] pred = new int[Math.multiplyExact(labels.length, p)];
        for (int i = 0; i < labels.length; i++) {
            int y = labels[i];
            for (int k = 0; k < p; k++) {
                int guess = rnd.nextInt(classes);   // drawn for every expert, so streams stay aligned across rows
                pred[i * p + k] = owner[y] == k ? y : guess;
            }
        }
        return pred;
    }

    /**
     * {@code c_ik = 1[pred_ik != label_i] + beta_k}.
     *
     * @param labels      the true classes, one per row. Not modified.
     * @param predictions {@code rows x p}, {@code rows = labels.length}. Not modified.
     * @return a new {@code rows x p} cost matrix
     */
    public double[] errorCosts(int[] labels, int[] predictions) {
        int p = experts();
        double[] c = new double[Math.multiplyExact(labels.length, p)];
        for (int i = 0; i < labels.length; i++) {
            for (int k = 0; k < p; k++) {
                c[i * p + k] = (predictions[i * p + k] == labels[i] ? 0.0 : 1.0) + beta[k];
            }
        }
        return c;
    }

    /**
     * {@code c_ik = cost_ik + beta_k} for cost columns.
     *
     * @param costs {@code rows x p} costs. Not modified.
     * @param rows  number of rows, {@code >= 0}
     * @return a new {@code rows x p} cost matrix
     */
    public double[] pricedCosts(double[] costs, int rows) {
        int p = experts();
        double[] c = new double[Math.multiplyExact(rows, p)];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < p; k++) {
                c[i * p + k] = costs[i * p + k] + beta[k];
            }
        }
        return c;
    }

    /**
     * The {@code rows x p} costs of a data set, by this setup's rule.
     *
     * @param data         rows aligned to the model ({@link dev.mild.data.DataFiles#align})
     * @param standardized the rows' standardized features (only read for trained experts)
     * @param classifiers  the trained experts' classifiers (only for {@link Source#TRAINED})
     * @param stream       the synthetic experts' random stream for this file
     * @return a new {@code rows x p} cost matrix
     * @throws InvalidInputException naming the file when the columns the rule needs are missing, as
     *                               {@link #checkInputs}
     */
    public double[] costsFor(Dataset data, float[] standardized, List<Mlp> classifiers, int stream) {
        checkInputs(data);
        return switch (source) {
            case COSTS -> pricedCosts(data.costs(), data.rows());
            case PREDICTIONS -> errorCosts(data.labels(), data.predictions());
            case SYNTHETIC -> errorCosts(data.labels(), syntheticPredictions(data.labels(), stream));
            case TRAINED -> errorCosts(data.labels(), classifierPredictions(classifiers, standardized, data.rows()));
        };
    }

    /**
     * Checks that {@code data} has what {@link #costsFor} needs under this rule, without computing anything (so
     * that a file used only after training is checked before it).
     *
     * @param data rows aligned to the model ({@link dev.mild.data.DataFiles#align})
     * @throws InvalidInputException naming the file, and the line of a label outside the classes
     */
    public void checkInputs(Dataset data) {
        switch (source) {
            case COSTS -> {
                if (data.costs() == null) {
                    throw new InvalidInputException(data.source() + ": no cost:<expert> columns; this model's costs come"
                            + " from columns cost:" + String.join(", cost:", names)
                            + (data.predictions() != null ? " (the file has pred: columns instead)" : ""));
                }
            }
            case PREDICTIONS -> {
                if (data.predictions() == null || data.labels() == null) {
                    throw new InvalidInputException(data.source() + ": needs a label column and pred:<expert> columns"
                            + " (pred:" + String.join(", pred:", names) + ") for this model's costs"
                            + (data.costs() != null ? " (the file has cost: columns instead)" : ""));
                }
            }
            case SYNTHETIC, TRAINED -> {
                if (data.labels() == null) {
                    throw new InvalidInputException(data.source() + ": no label column; " + source.label()
                            + " experts make their costs from the true class of each row");
                }
            }
        }
        if (needsClassRange()) {
            checkLabels(data);
        }
    }

    /**
     * True when the costs need every label to be a class of this setup: synthetic experts look up the block of
     * the true class. The other rules accept a class never seen in training: a prediction is compared with the label
     * as it is, a trained classifier is simply wrong there (it only predicts the classes it was trained on), and
     * cost columns do not read labels at all (reports show such a class on its own line).
     */
    private boolean needsClassRange() {
        return source == Source.SYNTHETIC;
    }

    /**
     * Each classifier's predicted class (argmax of its logits, the highest class on a tie) for each standardized
     * row.
     *
     * @param classifiers one classifier per expert, each of {@code d} inputs. Not modified.
     * @param standardized {@code rows x d} standardized features, finite. Not modified.
     * @param rows         number of rows, {@code >= 0}
     * @return a new {@code rows x p} matrix of predicted classes, {@code p = classifiers.size()}
     * @throws InvalidInputException as {@link Trainer#scores}
     */
    public static int[] classifierPredictions(List<Mlp> classifiers, float[] standardized, int rows) {
        int p = classifiers.size();
        int[] pred = new int[Math.multiplyExact(rows, p)];
        for (int k = 0; k < p; k++) {
            Mlp c = classifiers.get(k);
            float[] logits = Trainer.scores(c, standardized, rows);
            int classes = c.outputs();
            for (int i = 0; i < rows; i++) {
                pred[i * p + k] = dev.mild.defer.Deferral.route(logits, i * classes, classes);
            }
        }
        return pred;
    }

    /** Checks that every label of {@code data} is a class of this setup (see {@link #needsClassRange}). */
    private void checkLabels(Dataset data) {
        if (data.labels() == null || classes < 1) {
            return;
        }
        for (int i = 0; i < data.rows(); i++) {
            if (data.labels()[i] >= classes) {
                throw new InvalidInputException(data.labelWhere(i) + ": label " + data.labels()[i]
                        + " is outside the classes 0.." + (classes - 1) + " the experts were set up for");
            }
        }
    }

    /**
     * One line for reports: the source, the blocks and the prices.
     *
     * @return e.g. "synthetic, blocks 7,2,1 over 10 classes, beta 0.7/0.2/0.1"
     */
    public String describe() {
        StringBuilder sb = new StringBuilder(source.label());
        if (hasBlocks()) {
            sb.append(", blocks ").append(joined(blocks)).append(" over ").append(classes).append(" classes");
        }
        if (Arrays.stream(beta).anyMatch(b -> b != 0)) {
            sb.append(", beta ");
            for (int k = 0; k < beta.length; k++) {
                // Three significant digits as a person writes them: "0/0.2", not %.3g's "0.00/0.200"; far from 1 in
                // the short scientific form (1E-30, 1E+30), not 31 digits written out.
                sb.append(k == 0 ? "" : "/").append(Figures.decimal(
                        new java.math.BigDecimal(String.format(Locale.ROOT, "%.3g", beta[k])), 12));
            }
        }
        return sb.toString();
    }

    /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
    @Override
    public String toString() {
        return RecordText.of(this);
    }
}
