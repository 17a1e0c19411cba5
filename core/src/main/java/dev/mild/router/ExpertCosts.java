package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.data.Dataset;
import dev.mild.router.RouterTraining.Spec;
import java.util.ArrayList;
import java.util.List;

/**
 * The experts and costs of a training job: the {@link ExpertSetup} that the spec's options ({@code --experts},
 * {@code --blocks}, {@code --beta}, {@code --coverage}) and the data file's columns give, checked against the
 * data, and the checks on the costs it makes.
 */
final class ExpertCosts {
    private ExpertCosts() {
    }

    /** Where the costs come from, validated against the data (names, labels, blocks, prices). */
    static ExpertSetup setup(Dataset data, Dataset validFile, Spec spec) {
        ExpertSetup.Source source = source(data, spec);
        boolean simulated = spec.experts != null;   // then source is spec.experts: synthetic or trained
        List<String> names = simulated ? ExpertSetup.simulatedNames(spec.blocks.length) : data.experts();
        int classes = classes(data, validFile, spec);
        if (simulated) {
            everyClassHasRows(data, validFile, classes);
        }
        return new ExpertSetup(source, names, classes, spec.blocks, prices(spec, names), spec.options.seed());
    }

    /** Simulated experts when the spec asks for them (on labels alone), else the file's cost: or pred: columns. */
    private static ExpertSetup.Source source(Dataset data, Spec spec) {
        if (spec.experts != null) {
            if (spec.experts != ExpertSetup.Source.SYNTHETIC && spec.experts != ExpertSetup.Source.TRAINED) {
                throw new InvalidInputException("--experts must be synthetic or trained");
            }
            if (data.costs() != null || data.predictions() != null) {
                throw new InvalidInputException(data.source() + ": --experts " + spec.experts.label()
                        + " simulates experts from the label column, but the file already has cost: or pred: columns;"
                        + " drop --experts to use them");
            }
            if (!data.hasLabels()) {
                throw new InvalidInputException(data.source() + ": --experts " + spec.experts.label()
                        + " needs a label column (the true class of each row)");
            }
            if (spec.blocks.length == 0) {
                throw new InvalidInputException("--experts " + spec.experts.label() + " needs --blocks, e.g. --blocks 7,2,1");
            }
            return spec.experts;
        }
        if (data.costs() != null) {
            return ExpertSetup.Source.COSTS;
        }
        if (data.predictions() != null) {
            if (!data.hasLabels()) {
                throw new InvalidInputException(data.source() + ": pred:<expert> columns need a label column to tell"
                        + " right from wrong");
            }
            return ExpertSetup.Source.PREDICTIONS;
        }
        if (data.labelsFile() != null) {
            // An IDX file has no columns to add: "give cost:<expert> columns" was advice it cannot take.
            throw new InvalidInputException(data.source() + ": IDX images come with labels only, no experts: simulate"
                    + " them with --experts synthetic|trained --blocks 7,2,1 (or give a CSV file with cost:<expert>"
                    + " columns)");
        }
        throw new InvalidInputException(data.source() + ": no expert columns: give cost:<expert> columns, or a label"
                + " column with pred:<expert> columns, or a label column with --experts synthetic|trained --blocks 7,2,1");
    }

    /** The classes the labels of the data and validation files count (0 without labels), which blocks need. */
    private static int classes(Dataset data, Dataset validFile, Spec spec) {
        int classes = 0;
        if (data.hasLabels()) {
            classes = data.labelCount();
            if (validFile != null && validFile.hasLabels()) {
                classes = Math.max(classes, validFile.labelCount());
            }
        }
        if (spec.blocks.length > 0 && classes < 1) {
            throw new InvalidInputException(data.source() + ": --blocks needs a label column (blocks are classes)");
        }
        return classes;
    }

    /**
     * The classes that --blocks splits among the experts are 0 to the largest label, so one label out of place
     * (a corrupt byte: 200 among Fashion-MNIST's 0..9) made 201 classes, gave expert 1 every real class, and trained
     * without an error. Refused when most classes up to the largest label have no row in the data or validation
     * file; a few empty classes (a small sample of the data, labels counted from 1) only leave their experts' blocks
     * without rows there.
     */
    private static void everyClassHasRows(Dataset data, Dataset validFile, int classes) {
        int[] rows = new int[classes];
        int top = -1; // the first row with the largest label
        for (int r = 0; r < data.rows(); r++) {
            int label = data.labels()[r];
            rows[label]++;
            top = top < 0 || label > data.labels()[top] ? r : top;
        }
        if (validFile != null && validFile.hasLabels()) {
            for (int label : validFile.labels()) {
                rows[label]++;
            }
        }
        List<Integer> empty = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            if (rows[c] == 0) {
                empty.add(c);
            }
        }
        if (2 * empty.size() > classes) {
            String list = empty.size() <= 8 ? empty.toString()
                    : empty.subList(0, 8).toString().replace("]", ", ...] (" + empty.size() + " classes)");
            throw new InvalidInputException(data.source() + ": the labels run up to " + (classes - 1)
                    + (top >= 0 ? " (" + data.where(top) + ")" : "") + " but classes " + list + ", most of them, have no rows: --blocks"
                    + " splits the classes 0.." + (classes - 1) + " among the experts, so every class needs rows (labels"
                    + " number the classes 0..C-1; is that label a corrupt value?)");
        }
    }

    /** Each expert's price: the block shares for {@code --coverage}, {@code --beta}'s values, or none. */
    private static double[] prices(Spec spec, List<String> names) {
        if (spec.coverage) {
            if (spec.beta != null) {
                throw new InvalidInputException("give --beta or --coverage, not both");
            }
            if (spec.blocks.length == 0) {
                throw new InvalidInputException("--coverage prices each expert by the share of classes it covers, so it"
                        + " needs --blocks (e.g. --blocks 7,2,1 gives prices 0.7, 0.2, 0.1)");
            }
            if (spec.blocks.length != names.size()) {
                throw new InvalidInputException("--blocks has " + spec.blocks.length + " values for " + names.size()
                        + " experts");
            }
            return ExpertSetup.coverage(spec.blocks);
        }
        if (spec.beta != null) {
            if (spec.beta.length != names.size()) {
                throw new InvalidInputException("--beta has " + spec.beta.length + " values for " + names.size()
                        + " experts (" + String.join(", ", names) + "): give one price per expert, in that order");
            }
            return spec.beta;
        }
        return new double[names.size()];
    }

    /**
     * One-minus rewards read {@code 1 - c} as a reward, which the paper's lemma needs in [0, 1]; and any loss's
     * weights must fit float32. Checked here on every row of the data file, before the split, so the message
     * names the file line and the expert whatever the seed (the kernel's own check can only name a row of the
     * shuffled training split).
     */
    static void check(Spec spec, Dataset data, ExpertSetup setup, double[] costs) {
        sumsFitFloat32(data, setup.experts(), costs);
        if (spec.oneMinusRewards()) {
            inUnitInterval(data, setup, costs);
        }
    }

    /**
     * Every loss weighs an expert by at most the row's sum of costs (>= 0): it must fit the float32 the kernels
     * compute in (Rewards.apply checks it too, but can only name a row of the shuffled split).
     */
    private static void sumsFitFloat32(Dataset data, int p, double[] costs) {
        for (int i = 0; i < data.rows(); i++) {
            double sum = 0;
            for (int k = 0; k < p; k++) {
                sum += costs[i * p + k];
            }
            if (!(sum <= Float.MAX_VALUE)) {
                throw new InvalidInputException(data.where(i) + ": the costs add up to " + sum + ", beyond the float32"
                        + " range (at most " + Float.MAX_VALUE + ") the kernels weigh experts in; scale the costs down");
            }
        }
    }

    /** The range one-minus rewards need, with the price named where it took a cost out. */
    private static void inUnitInterval(Dataset data, ExpertSetup setup, double[] costs) {
        int p = setup.experts();
        double[] beta = setup.beta();
        for (int i = 0; i < data.rows(); i++) {
            for (int k = 0; k < p; k++) {
                double c = costs[i * p + k];
                if (!(c >= 0 && c <= 1)) {
                    String where = setup.source() == ExpertSetup.Source.COSTS ? data.expertColumn(k)
                            : "expert " + setup.names().get(k);
                    String price = beta[k] != 0 ? " (with its price " + beta[k] + " from --beta or --coverage)" : "";
                    throw new InvalidInputException(data.where(i) + ", " + where + ": cost " + c + price
                            + " is outside [0, 1], which --rewards one-minus needs (its reward is 1 - cost);"
                            + " use --rewards sum-others (the default), which takes any cost >= 0");
                }
            }
        }
    }

    /**
     * What of one-minus rewards can be checked before trained experts exist: a trained expert's cost is
     * {@code 1[wrong] + price}, so a price above 0 leaves [0, 1] on every row the classifier gets wrong (the other
     * sources' costs are known before training and checked row by row by {@link #check}).
     */
    static void checkOneMinusPrices(Spec spec, ExpertSetup setup) {
        if (!spec.oneMinusRewards() || setup.source() != ExpertSetup.Source.TRAINED) {
            return;
        }
        double[] beta = setup.beta();
        for (int k = 0; k < beta.length; k++) {
            if (beta[k] > 0) {
                throw new InvalidInputException("expert " + setup.names().get(k) + ": with its price " + beta[k]
                        + " (from --beta or --coverage) a wrong answer costs " + (1 + beta[k]) + ", outside [0, 1], which"
                        + " --rewards one-minus needs (its reward is 1 - cost); use --rewards sum-others (the default)");
            }
        }
    }
}
