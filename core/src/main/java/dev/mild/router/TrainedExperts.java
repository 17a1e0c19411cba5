package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.data.Dataset;
import dev.mild.defer.Surrogate;
import dev.mild.loss.LossKernel;
import dev.mild.router.RouterTraining.Listener;
import dev.mild.router.RouterTraining.Spec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The experts of {@code --experts trained}: their rows are drawn ({@link #rows}) with the other checks, before any
 * training; their classifiers are trained ({@link #train}) before the router.
 */
final class TrainedExperts {
    private static final long EXPERT_STREAM = 0xA4093822299F31D0L;

    private TrainedExperts() {
    }

    /** The rows of {@code data} (training) and of the validation rows a trained expert's classifier gets. */
    record Rows(int[] train, int[] valid) {
    }

    /**
     * The rows each trained expert's classifier gets: the training rows of its class block plus
     * {@link RouterTraining#OTHER_CLASSES_SHARE} of the others, and the validation rows picked the same way. Drawn
     * before any training, so an expert left without a training row is an error now, naming the expert and its
     * classes.
     */
    static List<Rows> rows(ExpertSetup setup, Dataset data, int[] trainIdx, Dataset validData, int[] validIdx,
                           Spec spec) {
        int[] owner = ExpertSetup.classBlocks(setup.classes(), setup.blocks());
        SplittableRandom rnd = new SplittableRandom(spec.options.seed() ^ EXPERT_STREAM);
        List<Rows> out = new ArrayList<>();
        for (int k = 0; k < setup.experts(); k++) {
            int[] tr = blockRows(data.labels(), trainIdx, owner, k, rnd);
            int[] va = blockRows(validData.labels(), validIdx, owner, k, rnd);
            if (tr.length == 0) {
                throw new InvalidInputException(String.format(Locale.ROOT, "%s: trained expert %d (%s) has no training"
                        + " rows: the training split (%d rows with --seed %d) has no row of its %s, and the %.0f%% of"
                        + " the other classes' rows drawn for it is empty; give more rows of those classes, or another"
                        + " --seed or --blocks", data.source(), k + 1, setup.blockName(k), trainIdx.length,
                        spec.options.seed(), setup.blockName(k), 100 * RouterTraining.OTHER_CLASSES_SHARE));
            }
            out.add(new Rows(tr, va));
        }
        return out;
    }

    /**
     * The paper's real experts: expert k is a classifier (the router's MLP shape, class logits out, trained with
     * cross-entropy) on its rows from {@link #rows}, early-stopped on its validation rows.
     */
    static List<Trainer.Result> train(LossKernel kernel, ExpertSetup setup, List<Rows> rows, Dataset data,
                                      float[] dataStd, Dataset validData, float[] validStd, Spec spec,
                                      Listener listener) {
        int classes = setup.classes();
        Surrogate ce = Surrogate.ce(classes);
        // The experts keep the schedule of the paper's protocol (the automatic one is for the router).
        int epochs = spec.options.epochs() == TrainOptions.AUTO ? TrainOptions.AUTO_EPOCHS : spec.options.epochs();
        int patience = spec.options.patience() == TrainOptions.AUTO ? TrainOptions.AUTO_PATIENCE : spec.options.patience();
        TrainOptions opts = spec.options.withEpochs(Math.min(epochs, spec.expertEpochs)).withPatience(Math.min(patience, 5));
        List<Trainer.Result> out = new ArrayList<>();
        int d = data.d();
        for (int k = 0; k < setup.experts(); k++) {
            int[] tr = rows.get(k).train();
            listener.message(String.format(Locale.ROOT, "training expert %d (%s): a classifier on %d rows (its block"
                    + " plus %.0f%% of the others)", k + 1, setup.blockName(k), tr.length,
                    100 * RouterTraining.OTHER_CLASSES_SHARE));
            Examples trainEx = classification(dataStd, data.labels(), tr, d, classes);
            Examples validEx = classification(validStd, validData.labels(), rows.get(k).valid(), d, classes);
            String phase = "expert " + (k + 1);
            out.add(Trainer.train(kernel, ce, trainEx, validEx, null, opts.withSeed(spec.options.seed() + 1000L * (k + 1)),
                    e -> listener.epoch(phase, e)));
        }
        return out;
    }

    /** The candidates whose class is in block {@code k}, plus each other one with probability 1%. */
    private static int[] blockRows(int[] labels, int[] candidates, int[] owner, int k, SplittableRandom rnd) {
        int[] rows = new int[candidates.length];
        int n = 0;
        for (int i : candidates) {
            // Drawn for every row, so the streams stay aligned.
            boolean other = rnd.nextDouble() < RouterTraining.OTHER_CLASSES_SHARE;
            if (owner[labels[i]] == k || other) {
                rows[n++] = i;
            }
        }
        return Arrays.copyOf(rows, n);
    }

    /** Rows as a classification problem: experts = classes, cost {@code 1[class != label]}. */
    private static Examples classification(float[] x, int[] labels, int[] rows, int d, int classes) {
        float[] f = new float[Math.multiplyExact(rows.length, d)];
        double[] c = new double[Math.multiplyExact(rows.length, classes)];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(x, rows[i] * d, f, i * d, d);
            Arrays.fill(c, i * classes, (i + 1) * classes, 1.0);
            c[i * classes + labels[rows[i]]] = 0.0;
        }
        return new Examples(f, c, rows.length, d, classes);
    }
}
