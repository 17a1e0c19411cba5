package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.defer.Deferral;
import dev.mild.defer.Surrogate;
import dev.mild.io.Figures;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Trains an {@link Mlp} router by mini-batch Adam/AdamW on a surrogate loss, with early stopping on the
 * validation <em>deferral</em> loss (the mean cost of the expert the router picks, the target the surrogate
 * stands in for).
 *
 * <p>Per epoch: shuffle the training rows (seeded), one optimizer step per mini-batch on the gradient of the
 * batch's mean surrogate loss, then route the validation rows and keep a copy of the parameters whenever the
 * validation deferral loss is strictly lower than before (epochs and patience as {@link TrainOptions#epochsFor} and
 * {@link TrainOptions#patienceFor} set them for the training rows). The surrogate's weights are first brought to a scale
 * near 1 by a power of ten when the costs are far from it ({@link #weightScale(Surrogate, Examples)}). Training stops after {@code epochs} epochs, or after
 * {@code patience} epochs without improvement once at least {@code 2 x patience} epochs have run; the result is
 * the best copy. The same options, data and start give the same network bit for bit, for any thread count (the
 * kernel's and {@link TrainOptions#threads()}).
 *
 * <p>Thread-safe: trainings may run on several threads at once, sharing one kernel (which serializes what it must);
 * each gives the network it gives alone.
 */
public final class Trainer {
    private static final long INIT_STREAM = 0x1A2B3C4D5E6F7081L;
    private static final long SHUFFLE_STREAM = 0x5DEECE66DL;

    private Trainer() {
    }

    /** Called after every epoch (for progress lines). */
    @FunctionalInterface
    public interface Listener {
        /**
         * One epoch has run (and the best copy has been updated).
         *
         * @param e the epoch's numbers
         */
        void epoch(Epoch e);

        /** A listener that does nothing. */
        Listener NONE = e -> {
        };
    }

    /**
     * One epoch's numbers, as {@link Listener#epoch} receives them.
     *
     * @param epoch         the epoch just run, 1-based
     * @param epochs        the most epochs this training can run ({@link TrainOptions#epochsFor})
     * @param trainLoss     mean surrogate loss over the epoch's batches, in the costs' units (the training's
     *                      weights divided by {@link #weightScale} again)
     * @param validLoss     validation deferral loss after the epoch ({@code NaN} without validation rows)
     * @param bestValidLoss lowest validation deferral loss so far ({@code NaN} without validation rows)
     * @param bestEpoch     the epoch of that loss, 1-based (without validation rows, this epoch)
     */
    public record Epoch(int epoch, int epochs, double trainLoss, double validLoss, double bestValidLoss, int bestEpoch) {
        /**
         * A progress line.
         *
         * @return "epoch 3/100  loss ...  valid deferral ...  (best ... at 2)"
         */
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "epoch %d/%d  loss %s  valid deferral %s  (best %s at %d)",
                    epoch, epochs, Figures.of(trainLoss), Figures.of(validLoss), Figures.of(bestValidLoss), bestEpoch);
        }
    }

    /**
     * What a training gave.
     *
     * @param network       the parameters of the best epoch
     * @param bestEpoch     that epoch (1-based); without validation rows the last epoch run
     * @param bestValidLoss its validation deferral loss ({@code NaN} without validation rows)
     * @param trainLoss     mean surrogate loss per epoch run, in the costs' units (divided by {@code weightScale})
     * @param validLoss     validation deferral loss per epoch run
     * @param weightScale   the factor of the surrogate's weights in this training ({@link #weightScale(Surrogate, Examples)})
     * @param maxEpochs     the most epochs this training could run ({@link TrainOptions#epochsFor})
     * @param patience      its patience ({@link TrainOptions#patienceFor})
     */
    public record Result(Mlp network, int bestEpoch, double bestValidLoss, double[] trainLoss, double[] validLoss,
                         double weightScale, int maxEpochs, int patience) {
        /**
         * The epochs that ran.
         *
         * @return the length of {@link #trainLoss}, at most {@link #maxEpochs}
         */
        public int epochsRun() {
            return trainLoss.length;
        }

        /**
         * Whether the validation loss was still falling when the epochs ran out: every epoch ran and the best came
         * in the last quarter of them and within the last half patience (a best 56 epochs before the end, with
         * patience 58, is a plateau more than a fall). More epochs (or a larger learning rate) may then give a
         * better router. False without validation rows (a NaN loss), and when the best is the first epoch (the only
         * one, say): then nothing was seen falling. (A tie keeps the earlier epoch, so a best after the first is
         * below every loss before it.)
         *
         * @return {@code true} when every epoch ran, {@code bestEpoch > 1} and {@code maxEpochs - bestEpoch <
         *         max(1, min(patience / 2, maxEpochs / 4))} (integer halves and quarters)
         */
        public boolean stillImproving() {
            return !Double.isNaN(bestValidLoss) && epochsRun() == maxEpochs && bestEpoch > 1
                    && maxEpochs - bestEpoch < Math.max(1, Math.min(patience / 2, maxEpochs / 4));
        }

        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }

    /**
     * Trains from {@code start} (copied, not modified), or from a fresh He-initialized network of
     * {@code options.hidden()} when {@code start} is null.
     *
     * @param kernel    the loss backend (its thread count does not change the result); may be shared with other
     *                  trainings running at the same time
     * @param surrogate the loss; its weights come from the training costs
     * @param train     the training rows. Not modified.
     * @param valid     the validation rows (may have 0 rows: then the last epoch is the result). Not modified.
     * @param start     the network to start from, of {@code d} inputs and {@code p} outputs, or null. Not modified.
     * @param options   the hyperparameters ({@link TrainOptions#hidden} only without {@code start})
     * @param listener  called after every epoch ({@link Listener#NONE} for none)
     * @return the best epoch's network, its epoch and loss, and the losses of every epoch run
     * @throws InvalidInputException when an argument but {@code start} is null; when the loss, the validation rows
     *                               or {@code start} disagree with the training rows on features or experts; when
     *                               there are no training rows; when the costs do not suit the loss's rewards
     *                               ({@link Surrogate#weights}); when the network's training would not fit in the
     *                               Java heap; or when training diverges (a non-finite loss or parameter)
     */
    public static Result train(LossKernel kernel, Surrogate surrogate, Examples train, Examples valid, Mlp start,
                               TrainOptions options, Listener listener) {
        dev.mild.loss.Checks.required("kernel", kernel);
        dev.mild.loss.Checks.required("surrogate", surrogate);
        dev.mild.loss.Checks.required("training rows", train);
        dev.mild.loss.Checks.required("validation rows (an empty set for none)", valid);
        dev.mild.loss.Checks.required("options", options);
        dev.mild.loss.Checks.required("listener", listener);
        int d = train.d();
        int p = train.p();
        if (surrogate.experts() != p) {
            throw new InvalidInputException("the loss has " + surrogate.experts() + " experts but the costs have " + p);
        }
        if (valid.d() != d || valid.p() != p) {
            throw new InvalidInputException("validation rows have " + valid.d() + " features and " + valid.p()
                    + " experts, training rows " + d + " and " + p);
        }
        if (train.rows() < 1) {
            throw new InvalidInputException("no training rows");
        }
        requireHeapFor(start != null ? start.sizes() : Mlp.sizes(d, options.hidden(), p));
        Mlp net;
        if (start != null) {
            if (start.inputs() != d || start.outputs() != p) {
                throw new InvalidInputException("the starting network maps " + start.inputs() + " inputs to "
                        + start.outputs() + " scores, the data has " + d + " features and " + p + " experts");
            }
            net = start.copy();
        } else {
            net = Mlp.initialized(Mlp.sizes(d, options.hidden(), p), options.seed() ^ INIT_STREAM);
        }
        int batch = Math.min(options.batch(), train.rows());
        try (Backprop bp = new Backprop(net, Math.max(batch, Math.min(valid.rows(), 4096)), options.threads())) {
            return run(kernel, surrogate, train, valid, net, bp, batch, options, listener);
        }
    }

    /**
     * Copies of the network training holds at least: the weights, the best epoch's copy, the gradient and Adam's
     * two moments (the dense products' own layouts and the activations come on top).
     */
    static final int TRAINING_COPIES = 5;

    /**
     * Refuses, before anything is allocated, a network whose training cannot fit in the Java heap: {@code --hidden
     * 50000000} on two features ran out of memory part-way, with a message that named the heap but not the network.
     */
    static void requireHeapFor(int[] sizes) {
        long parameters = Mlp.checkSizes(sizes); // a layer no array holds is refused there, naming the layer
        long needed = parameters * Float.BYTES * TRAINING_COPIES;
        long heap = Runtime.getRuntime().maxMemory();
        if (needed > heap) {
            throw new InvalidInputException("the network " + java.util.Arrays.toString(sizes) + " has " + parameters
                    + " parameters, and training holds at least " + TRAINING_COPIES + " copies of them (weights, the"
                    + " best epoch's, the gradient, Adam's two moments): " + (needed >> 20) + " MiB, more than the"
                    + " Java heap's limit of " + (heap >> 20) + " MiB. Make the hidden layers narrower, or give Java a"
                    + " larger heap (-Xmx)");
        }
    }

    private static Result run(LossKernel kernel, Surrogate surrogate, Examples train, Examples valid, Mlp net,
                              Backprop bp, int batch, TrainOptions options, Listener listener) {
        int p = train.p();
        Adam adam = Adam.forNetwork(options.optimizer(), options.lr(), options.weightDecay(), net);
        float[] weights = weightsOf(surrogate, train);
        // In double: a float 1e-38 is subnormal, with a few significant bits fewer.
        double scale = weightScale(surrogate, weights);
        if (scale != 1.0) {
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (float) (weights[i] * scale);
            }
        }

        int n = train.rows();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom shuffle = new SplittableRandom(options.seed() ^ SHUFFLE_STREAM);
        Mlp best = net.copy();
        // The start is not a candidate: the result is always a trained epoch (a warm start must show its own loss).
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        int epochs = options.epochsFor(n);
        int patience = options.patienceFor(n);
        double[] trainLoss = new double[epochs];
        double[] validLoss = new double[epochs];
        int run = 0;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            shuffle(order, shuffle);
            double sum = 0.0;
            for (int from = 0; from < n; from += batch) {
                int rows = Math.min(batch, n - from);
                sum += rows * bp.lossAndGradient(kernel, surrogate.config(), train.features(), weights, order, from, rows);
                adam.step(net, bp);
            }
            double epochLoss = sum / n;
            if (!Double.isFinite(epochLoss) || !net.isFinite()) {
                throw diverged(epoch, epochLoss, surrogate.config(), train, options);
            }
            double v = valid.rows() > 0 ? deferralLoss(bp, valid) : Double.NaN;
            trainLoss[run] = epochLoss / scale; // the costs' units, as every other loss printed (exact: linear in w)
            validLoss[run] = v;
            run++;
            if (valid.rows() == 0 || v < bestLoss) {
                bestLoss = v;
                bestEpoch = epoch;
                best.copyFrom(net);
            }
            listener.epoch(new Epoch(epoch, epochs, epochLoss / scale, v, bestLoss, bestEpoch));
            // Early epochs can move away from the best before settling (sharp margins over-correct first), so
            // stopping waits for at least 2 x patience epochs.
            if (valid.rows() > 0 && epoch - bestEpoch >= patience && epoch >= 2 * patience) {
                break;
            }
        }
        return new Result(best, bestEpoch, bestLoss, Arrays.copyOf(trainLoss, run), Arrays.copyOf(validLoss, run), scale,
                epochs, patience);
    }

    /** Loss weights whose mean magnitude lies in this band are used as they are (see {@link #weightScale}). */
    static final double WEIGHT_BAND_LOW = 1e-2;
    static final double WEIGHT_BAND_HIGH = 1e2;

    /**
     * The power of ten the training multiplies the surrogate's weights by: 1 when their mean magnitude
     * ({@link #meanWeightMagnitude}) is within [0.01, 100] (or 0), else the power that brings it nearest to 1.
     *
     * <p>Why: the loss, and so its gradient, scales with the weights, which scale with the costs, while the
     * defaults of the learning rate and the weight decay were set for costs of about 1 (errors of 0 or 1, prices
     * below 1). Costs in dollars per query (1e-5) gave a gradient far below the decay term, which then ran the
     * training: the router shrank to near-constant scores and sent 78% of the rows to one expert where the same
     * costs in other units gave 58%. Scaling every weight by one positive factor leaves the loss's minimizers and
     * the costs the router is judged by unchanged; it is the same as giving the costs in other units. A power of
     * ten, not the mean itself, so that the factor is exact to state; and a wide band, so that costs that already
     * train well train as before: on that problem (TDEF, 150 epochs) mean weights of 0.02 and 200 routed as at
     * 1 (test loss 1.8-2.0 times the oracle's, the same shares within a point), 0.003 moved the shares by two
     * points, and the 1.8e-5 of the costs in dollars by twenty.
     *
     * @param meanWeightMagnitude the weights' mean {@code |w|}, {@code >= 0}
     * @return {@code 10^-round(log10 m)} for a mean {@code m} outside the band, else 1
     */
    public static double weightScale(double meanWeightMagnitude) {
        double m = meanWeightMagnitude;
        if (m == 0.0 || (m >= WEIGHT_BAND_LOW && m <= WEIGHT_BAND_HIGH)) {
            return 1.0;
        }
        return Math.pow(10.0, -Math.round(Math.log10(m)));
    }

    /**
     * The factor {@link #train} multiplies {@code surrogate}'s weights for {@code train}'s costs by:
     * {@link #weightScale(double)} of their mean magnitude when they follow the costs (a loss with rewards), and 1
     * for the one-hot losses (ce, cwce, ldam), whose weights are about 1 per row whatever the costs' units: their
     * mean over a row's p entries is about 1/p, which for more than 100 experts or classes fell below the band
     * and multiplied the loss by 100.
     *
     * @param surrogate the loss. Not modified.
     * @param train     the training rows, of the loss's p experts. Not modified.
     * @return a power of ten, {@code > 0}
     * @throws InvalidInputException as {@link Surrogate#weights}
     */
    public static double weightScale(Surrogate surrogate, Examples train) {
        return weightScale(surrogate, weightsOf(surrogate, train));
    }

    private static double weightScale(Surrogate surrogate, float[] weights) {
        return weightScale(surrogate, meanWeightMagnitude(weights));
    }

    /**
     * {@link #weightScale(Surrogate, Examples)} from the weights' mean magnitude, when the caller has it already.
     *
     * @param surrogate           the loss
     * @param meanWeightMagnitude its weights' mean {@code |w|} ({@link #meanWeightMagnitude(Surrogate, Examples)})
     * @return 1 for a loss without rewards, else {@link #weightScale(double)}
     */
    public static double weightScale(Surrogate surrogate, double meanWeightMagnitude) {
        return surrogate.rewards() == null ? 1.0 : weightScale(meanWeightMagnitude);
    }

    /**
     * The mean of {@code |w|} over every row and expert (0 for no weights).
     *
     * @param weights {@code rows x p} weights, not null. Not modified.
     * @return the mean, summed in float64
     */
    public static double meanWeightMagnitude(float[] weights) {
        double sum = 0.0;
        for (float w : weights) {
            sum += Math.abs(w);
        }
        return weights.length == 0 ? 0.0 : sum / weights.length;
    }

    /**
     * {@link #meanWeightMagnitude(float[])} of {@code surrogate}'s weights for {@code train}'s costs.
     *
     * @param surrogate the loss. Not modified.
     * @param train     the rows, of the loss's p experts. Not modified.
     * @return the mean {@code |w|}, before any scaling
     * @throws InvalidInputException as {@link Surrogate#weights}
     */
    public static double meanWeightMagnitude(Surrogate surrogate, Examples train) {
        return meanWeightMagnitude(weightsOf(surrogate, train));
    }

    /** {@code surrogate}'s float32 weights for {@code train}'s costs, {@code rows x p}. */
    private static float[] weightsOf(Surrogate surrogate, Examples train) {
        float[] weights = new float[Math.multiplyExact(train.rows(), train.p())];
        surrogate.weights(train.costs(), train.rows(), weights);
        return weights;
    }

    /**
     * A loss whose scores may differ within a row by less than this overflows at spreads a trained router reaches
     * (compsum with nu = 0 and rho = 0.05: 3.4); beyond it only a runaway step or huge inputs get there.
     */
    private static final double TIGHT_SCORE_SPREAD = 1e3;

    /**
     * Why training diverged, with the way out that fits: a loss that tolerates only a small score spread (nu &lt; 1
     * with small margins) overflows at ordinary scores, where lowering the learning rate does not help;
     * otherwise the step or the inputs' scale.
     */
    private static InvalidInputException diverged(int epoch, double loss, LossConfig config, Examples train,
                                                  TrainOptions options) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "training diverged at epoch %d (surrogate"
                + " loss %s): ", epoch, loss));
        if (config.maxScoreSpread() < TIGHT_SCORE_SPREAD) {
            int sharpest = 0;
            for (int k = 1; k < config.experts(); k++) {
                sharpest = config.rho(k) < config.rho(sharpest) ? k : sharpest;
            }
            List<String> raise = new ArrayList<>();
            if (config.nu() < 1) {
                raise.add("nu (now " + config.nu() + ")");
            }
            if (config.rho(sharpest) < 1) {
                raise.add("the smallest margin rho (now " + config.rho(sharpest) + ", expert " + (sharpest + 1) + ")");
            }
            sb.append(String.format(Locale.ROOT, "this loss leaves the float32 range once a row's scores differ by more"
                    + " than %.3g, which a router reaches at ordinary inputs. Raise %s", config.maxScoreSpread(),
                    String.join(" or ", raise)));
        } else {
            sb.append(String.format(Locale.ROOT, "the router's scores left the float32 range. Lower the learning rate"
                    + " (now %g), or bring the inputs to a smaller scale (the largest is %.3g in magnitude;"
                    + " standardized inputs are a few units)", options.lr(), largestMagnitude(train.features())));
        }
        return new InvalidInputException(sb.toString());
    }

    private static double largestMagnitude(float[] x) {
        float max = 0f;
        for (float v : x) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    /** Mean cost of the experts the network picks on {@code rows} (ties to the highest index, as routing does). */
    static double deferralLoss(Backprop bp, Examples rows) {
        int p = rows.p();
        double sum = 0.0;
        for (int from = 0; from < rows.rows(); from += bp.maxRows()) {
            int n = Math.min(bp.maxRows(), rows.rows() - from);
            float[] scores = bp.forward(rows.features(), null, from, n);
            for (int r = 0; r < n; r++) {
                sum += rows.costs()[(from + r) * p + Deferral.route(scores, r * p, p)];
            }
        }
        return sum / rows.rows();
    }

    /**
     * Scores of every row of {@code x} ({@code rows x d}) with the batch forward of the trainer.
     *
     * @param net  the network. Not modified.
     * @param x    {@code rows x d} features, {@code d = net.inputs()}, finite. Not modified.
     * @param rows number of rows, {@code >= 0}
     * @return a new {@code rows x p} matrix of scores, {@code p = net.outputs()}
     * @throws InvalidInputException when {@code net} or {@code x} is null, {@code x} is too short or holds a
     *                               value that is not finite, or {@code rows < 0}
     */
    public static float[] scores(Mlp net, float[] x, int rows) {
        dev.mild.loss.Checks.required("network", net);
        dev.mild.loss.Checks.finiteMatrix("features", x, 0, rows, net.inputs());
        int p = net.outputs();
        float[] out = new float[Math.multiplyExact(rows, p)];
        if (rows == 0) {
            return out;
        }
        try (Backprop bp = new Backprop(net, Math.min(rows, 4096), 1)) {
            for (int from = 0; from < rows; from += bp.maxRows()) {
                int n = Math.min(bp.maxRows(), rows - from);
                System.arraycopy(bp.forward(x, null, from, n), 0, out, from * p, n * p);
            }
        }
        return out;
    }

    /** Fisher-Yates, last index first. */
    static void shuffle(int[] a, SplittableRandom rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
