package dev.mild.router;

import dev.mild.InvalidInputException;
import java.util.Arrays;

/**
 * How to train a router: network shape, optimizer and schedule. The defaults are the MILD paper's image
 * settings (Adam with weight decay 1e-3 as an L2 term, learning rate 1e-3, batch 1024; its MMLU runs used
 * AdamW) and one hidden layer of 64 ReLU units. Adam is the default because it trained better routers than
 * AdamW with the same decay in 11 of the 12 Fashion-MNIST protocol comparisons measured (setups I-III, two
 * costs, TDEF and MILD; README, "Measured results").
 *
 * @param hidden      widths of the hidden layers, each {@code >= 1} (may be empty: a linear router). Copied.
 * @param optimizer   {@link Adam.Kind#ADAMW} (decoupled decay) or {@link Adam.Kind#ADAM} (L2 in the gradient)
 * @param lr          learning rate, finite and {@code > 0}
 * @param weightDecay weight decay, finite and {@code >= 0}
 * @param batch       mini-batch size, {@code >= 1}
 * @param epochs      most passes over the training split, {@code >= 1}, or {@link #AUTO} ({@link #epochsFor})
 * @param patience    stop after this many epochs without a lower validation deferral loss (but not before
 *                    {@code 2 x patience} epochs), {@code >= 1}, or {@link #AUTO} ({@link #patienceFor})
 * @param seed        seeds initialization and shuffling: the same seed and data give the same model bit for bit
 * @param threads     threads for the dense products, {@code 1..}{@link dev.mild.loss.KernelOptions#MAX_THREADS}
 *                    (results do not depend on it)
 */
public record TrainOptions(int[] hidden, Adam.Kind optimizer, double lr, double weightDecay, int batch, int epochs,
                           int patience, long seed, int threads) {

    /**
     * Epochs or patience set from the size of the training split: {@link #epochsFor}, {@link #patienceFor}. Not 0,
     * so that a count computed as 0 by mistake is an error, not the automatic schedule.
     */
    public static final int AUTO = -1;

    /**
     * The automatic schedule: the paper's image one, at most 100 epochs stopping after 10 without a gain, where an
     * epoch of Fashion-MNIST is about 53 optimizer steps (54,000 rows, batch 1024); on smaller data it keeps at
     * least that many steps (4000 at most, 400 without a gain) instead of that many epochs. Counted in epochs only,
     * 2,100 rows (3 steps an epoch) stopped after 30 steps without a gain and 300 in all: on a six-expert problem
     * whose best expert the features tell apart ({@code TrainScheduleTest}), TDEF stopped after 52 epochs at a test
     * loss of 0.353 (oracle 0.100), and reached 0.154 and 0.146 given patience 30 and 100 (and epochs enough).
     */
    public static final int AUTO_EPOCHS = 100;
    /** The automatic patience's least value, in epochs (see {@link #AUTO_EPOCHS}). */
    public static final int AUTO_PATIENCE = 10;
    /** The automatic schedule's most optimizer steps (see {@link #AUTO_EPOCHS}). */
    public static final int AUTO_STEPS = 4000;
    /** The automatic patience in optimizer steps (see {@link #AUTO_EPOCHS}). */
    public static final int AUTO_PATIENCE_STEPS = 400;

    /**
     * The defaults: one hidden layer of 64, Adam, learning rate 1e-3, weight decay 1e-3, batch 1024, automatic
     * epochs and patience, seed 1, one thread.
     */
    public static final TrainOptions DEFAULT = new TrainOptions(new int[] {64}, Adam.Kind.ADAM, 1e-3, 1e-3, 1024,
            AUTO, AUTO, 1, 1);

    /**
     * Checks the options and copies {@code hidden}.
     *
     * @throws InvalidInputException when {@code hidden} or {@code optimizer} is null, a value is outside the range
     *                               given above
     */
    public TrainOptions {
        if (hidden == null) {
            throw new InvalidInputException("hidden layer widths are missing (null); an empty array is a linear router");
        }
        hidden = hidden.clone();
        for (int h : hidden) {
            if (h < 1) {
                throw new InvalidInputException("hidden layer widths must be >= 1, got " + Arrays.toString(hidden));
            }
        }
        if (optimizer == null) {
            throw new InvalidInputException("an optimizer is required (adam or adamw)");
        }
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new InvalidInputException("learning rate must be finite and > 0, got " + lr);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new InvalidInputException("weight decay must be finite and >= 0, got " + weightDecay);
        }
        if (batch < 1 || (epochs < 1 && epochs != AUTO) || (patience < 1 && patience != AUTO) || threads < 1
                || threads > dev.mild.loss.KernelOptions.MAX_THREADS) {
            throw new InvalidInputException("batch must be >= 1, threads in 1.." + dev.mild.loss.KernelOptions.MAX_THREADS
                    + ", epochs and patience >= 1 or AUTO (-1) for"
                    + " automatic, got " + batch + ", " + threads + ", " + epochs + ", " + patience);
        }
    }

    /**
     * Optimizer steps an epoch of {@code trainRows} rows takes (the batch is at most the rows).
     *
     * @param trainRows rows of the training split (fewer than 1 count as 1)
     * @return {@code ceil(rows / min(batch, rows))}, {@code >= 1}
     */
    public int stepsPerEpoch(int trainRows) {
        int rows = Math.max(1, trainRows);
        return Math.ceilDiv(rows, Math.min(batch, rows));
    }

    /**
     * The most epochs on {@code trainRows} rows: {@code epochs}, or if automatic max(100, 4000 steps).
     *
     * @param trainRows rows of the training split
     * @return {@code epochs}, or for {@link #AUTO} {@code max(100, ceil(4000 / stepsPerEpoch(trainRows)))}
     */
    public int epochsFor(int trainRows) {
        return epochs != AUTO ? epochs : Math.max(AUTO_EPOCHS, Math.ceilDiv(AUTO_STEPS, stepsPerEpoch(trainRows)));
    }

    /**
     * The patience on {@code trainRows} rows: {@code patience}, or if automatic max(10, 400 steps).
     *
     * @param trainRows rows of the training split
     * @return {@code patience}, or for {@link #AUTO} {@code max(10, ceil(400 / stepsPerEpoch(trainRows)))}
     */
    public int patienceFor(int trainRows) {
        return patience != AUTO ? patience
                : Math.max(AUTO_PATIENCE, Math.ceilDiv(AUTO_PATIENCE_STEPS, stepsPerEpoch(trainRows)));
    }

    /**
     * {@link #toString} with the schedule on {@code trainRows} rows, saying which values are automatic.
     *
     * @param trainRows rows of the training split
     * @return one line for the {@code Training:} report
     */
    public String describe(int trainRows) {
        return network() + ", epochs " + epochsFor(trainRows) + (epochs == AUTO ? " auto" : "")
                + ", patience " + patienceFor(trainRows) + (patience == AUTO ? " auto" : "")
                + (epochs == AUTO || patience == AUTO ? " (" + stepsPerEpoch(trainRows) + " steps an epoch)" : "")
                + ", seed " + seed;
    }

    /**
     * The widths of the hidden layers.
     *
     * @return a copy
     */
    @Override
    public int[] hidden() {
        return hidden.clone();
    }

    /**
     * These options with another hidden layer widths.
     *
     * @param h the new hidden layer widths, each {@code >= 1}, possibly none
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withHidden(int... h) {
        return new TrainOptions(h, optimizer, lr, weightDecay, batch, epochs, patience, seed, threads);
    }

    /**
     * These options with another optimizer.
     *
     * @param o the new optimizer, not null
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withOptimizer(Adam.Kind o) {
        return new TrainOptions(hidden, o, lr, weightDecay, batch, epochs, patience, seed, threads);
    }

    /**
     * These options with another learning rate.
     *
     * @param v the new learning rate, finite and {@code > 0}
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withLr(double v) {
        return new TrainOptions(hidden, optimizer, v, weightDecay, batch, epochs, patience, seed, threads);
    }

    /**
     * These options with another weight decay.
     *
     * @param v the new weight decay, finite and {@code >= 0}
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withWeightDecay(double v) {
        return new TrainOptions(hidden, optimizer, lr, v, batch, epochs, patience, seed, threads);
    }

    /**
     * These options with another batch size.
     *
     * @param v the new batch size, {@code >= 1}
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withBatch(int v) {
        return new TrainOptions(hidden, optimizer, lr, weightDecay, v, epochs, patience, seed, threads);
    }

    /**
     * These options with another most epochs.
     *
     * @param v the new most epochs, {@code >= 1} or {@link #AUTO}
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withEpochs(int v) {
        return new TrainOptions(hidden, optimizer, lr, weightDecay, batch, v, patience, seed, threads);
    }

    /**
     * These options with another patience.
     *
     * @param v the new patience, {@code >= 1} or {@link #AUTO}
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withPatience(int v) {
        return new TrainOptions(hidden, optimizer, lr, weightDecay, batch, epochs, v, seed, threads);
    }

    /**
     * These options with another seed.
     *
     * @param v the new seed
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withSeed(long v) {
        return new TrainOptions(hidden, optimizer, lr, weightDecay, batch, epochs, patience, v, threads);
    }

    /**
     * These options with another thread count.
     *
     * @param v the new thread count, {@code 1..}{@link dev.mild.loss.KernelOptions#MAX_THREADS}
     * @return new options
     * @throws InvalidInputException as the canonical constructor
     */
    public TrainOptions withThreads(int v) {
        return new TrainOptions(hidden, optimizer, lr, weightDecay, batch, epochs, patience, seed, v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainOptions t && Arrays.equals(hidden, t.hidden) && optimizer == t.optimizer
                && lr == t.lr && weightDecay == t.weightDecay && batch == t.batch && epochs == t.epochs
                && patience == t.patience && seed == t.seed && threads == t.threads;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(hidden) * 31 + Long.hashCode(seed);
    }

    @Override
    public String toString() {
        return network() + ", epochs " + (epochs == AUTO ? "auto" : epochs) + " (patience "
                + (patience == AUTO ? "auto" : patience) + "), seed " + seed;
    }

    /** The shape, optimizer and batch: the part of {@link #toString} and {@link #describe} that is not the schedule. */
    private String network() {
        return "hidden " + Arrays.toString(hidden) + ", " + optimizer.label() + " lr " + lr + " wd " + weightDecay
                + ", batch " + batch;
    }
}
