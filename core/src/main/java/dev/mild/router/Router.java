package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.defer.Deferral;
import dev.mild.loss.Checks;
import java.util.List;

/**
 * A trained router for services: raw feature row in, expert out.
 *
 * <pre>{@code
 * Router router = ModelFile.load(Path.of("router.mild")).router();
 * int k = router.route(features);                 // features: the model's columns, in order, unstandardized
 * String expert = router.expertName(k);
 * }</pre>
 *
 * <p><b>Per call:</b> standardize with the training statistics, run the network, pick the highest score (ties
 * to the highest index, as {@link Deferral#route}). No allocation: each thread gets one set of scratch buffers,
 * shared by every router it routes with and made larger when a larger router comes (a {@link ThreadLocal} of this
 * class), or the caller passes a {@link Scratch}. "Once" is per thread: on virtual threads, which are new for every
 * task, the first call of each task allocates them ({@code 5 (d + 2 width + p)} floats, {@code width} the widest
 * layer, the input's {@code d} included: one row, and four for {@code routeBatch}; 11.6 KB at d = 186); keep
 * {@link Scratch}es per worker there and pass one. A service that reloads its model keeps one set of buffers per
 * thread, sized for the largest router that thread has served; the replaced router is collected as usual. (With
 * a thread-local per router, each replaced router's buffers stayed on every thread that had used it until that
 * thread's thread-locals happened to be cleaned.) Thread-safe: the parameters are never written after
 * construction.
 *
 * <p><b>Speed:</b> each layer's product goes through a {@link DenseProduct}, by default
 * {@link DenseProduct#fastest()}: on vector lanes when {@code jdk.incubator.vector} is added (the launcher does),
 * plain Java otherwise. All of them sum in the same order, so scores are bit-identical whichever runs, and
 * bit-identical to the trainer's batch forward ({@link Trainer#scores}).
 */
public final class Router {
    private final int d;
    private final int p;
    private final int layers;
    private final int[] sizes;
    private final Standardizer standardizer;
    private final DenseProduct.Layer[] w;   // per layer: n_l x n_{l+1} weights
    private final float[][] b;
    private final int width;
    private final List<String> experts;
    /** Each thread's buffers, for every router: see the class comment. */
    private static final ThreadLocal<Scratch> THREAD_SCRATCH = new ThreadLocal<>();

    /** Per-thread working memory of {@link #route(float[], float[], Scratch)} and the same {@code routeBatch}. */
    public static final class Scratch {
        final float[] x;
        final float[] h0;
        final float[] h1;
        final float[] scores;
        /** {@code routeBatch}'s four rows at a time: standardized inputs, and two buffers of layer outputs. */
        final float[][] x4;
        final float[][] h4a;
        final float[][] h4b;
        final float[] scores4;

        private Scratch(int d, int width, int p) {
            x = new float[d];
            h0 = new float[width];
            h1 = new float[width];
            scores = new float[p];
            x4 = new float[4][d];
            h4a = new float[4][width];
            h4b = new float[4][width];
            scores4 = new float[4 * p];
        }

        /** Large enough for a router of d features, widest layer width and p experts. */
        boolean fits(int d, int width, int p) {
            return x.length >= d && h0.length >= width && scores.length >= p;
        }
    }

    /**
     * A router over a trained network, using {@link DenseProduct#fastest()}. Usually made by
     * {@link RouterModel#router()} from a loaded model file.
     *
     * @param standardizer the training split's statistics ({@code d} features)
     * @param network      {@code d} inputs, {@code p} outputs; copied, so later changes to it are not seen
     * @param experts      the {@code p} expert names, in score order
     * @throws InvalidInputException when an argument is missing (or an expert name is), the standardizer's
     *                               feature count is not the network's input count, the names are not one per
     *                               output or repeat one, or a network parameter is not finite
     */
    public Router(Standardizer standardizer, Mlp network, List<String> experts) {
        this(standardizer, network, experts, DenseProduct.fastest());
    }

    /**
     * The same with a chosen dense product (all give the same scores; see {@link DenseProduct}).
     *
     * @param standardizer the training split's statistics ({@code d} features)
     * @param network      {@code d} inputs, {@code p} outputs; copied, so later changes to it are not seen
     * @param experts      the {@code p} expert names, in score order
     * @param product how each layer's product is computed, e.g. {@link DenseProduct#plain()}
     * @throws InvalidInputException when an argument is missing (the product too) (or an expert name is), the standardizer's
     *                               feature count is not the network's input count, the names are not one per
     *                               output or repeat one, or a network parameter is not finite
     */
    public Router(Standardizer standardizer, Mlp network, List<String> experts, DenseProduct product) {
        Checks.required("router: standardizer", standardizer);
        Checks.required("router: dense product", product);
        Checks.required("router: network", network);
        Checks.requiredElements("router: expert names", experts);
        if (standardizer.features() != network.inputs()) {
            throw new InvalidInputException("the standardizer has " + standardizer.features()
                    + " features but the network " + network.inputs() + " inputs");
        }
        if (experts.size() != network.outputs()) {
            throw new InvalidInputException(experts.size() + " expert names for a network with " + network.outputs()
                    + " outputs");
        }
        RouterModel.rejectRepeated("router", "expert", experts); // a route names its expert: two could not be told apart
        network.checkFinite("router: network");
        this.d = network.inputs();
        this.p = network.outputs();
        this.layers = network.layers();
        this.sizes = network.sizes();
        this.standardizer = standardizer;
        this.w = new DenseProduct.Layer[layers];
        this.b = new float[layers][];
        for (int l = 0; l < layers; l++) {
            w[l] = product.layer(sizes[l], sizes[l + 1]);
            w[l].load(network.weights(l));
            b[l] = network.biases(l).clone();
        }
        this.width = network.maxWidth();
        this.experts = List.copyOf(experts);
    }

    /** This thread's buffers, made (larger) when this router is the first, or the first this large, it serves. */
    private Scratch threadScratch() {
        Scratch s = THREAD_SCRATCH.get();
        if (s == null || !s.fits(d, width, p)) {
            s = s == null ? newScratch()
                    : new Scratch(Math.max(d, s.x.length), Math.max(width, s.h0.length), Math.max(p, s.scores.length));
            THREAD_SCRATCH.set(s);
        }
        return s;
    }

    /**
     * Working memory for one thread (for callers that manage their own, e.g. one per worker).
     *
     * @return a new scratch of {@code 5 (d + 2 width + p)} floats, to be used by one thread at a time
     */
    public Scratch newScratch() {
        return new Scratch(d, width, p);
    }

    /**
     * Number of input features {@code d}.
     *
     * @return the length of a feature row, {@code >= 1}
     */
    public int features() {
        return d;
    }

    /**
     * Number of experts {@code p}.
     *
     * @return the number of scores per row, and one more than the largest index {@link #route} returns
     */
    public int experts() {
        return p;
    }

    /**
     * The name of expert {@code k}, as {@link #route} returns it.
     *
     * @param k the expert's index, counted from 0
     * @return its name, as in the model file
     * @throws IndexOutOfBoundsException unless {@code 0 <= k < experts()}
     */
    public String expertName(int k) {
        return experts.get(k);
    }

    /**
     * All expert names, in score order.
     *
     * @return an unmodifiable list of {@code p} names; name {@code k} is {@link #expertName expertName(k)}
     */
    public List<String> expertNames() {
        return experts;
    }

    /**
     * The expert for one row of raw (unstandardized) features, in the model's column order.
     *
     * @param features length {@code d}, finite. Not modified.
     * @return the index of the expert with the highest score, counted from 0 (ties to the highest index);
     *         {@link #expertName} names it
     * @throws InvalidInputException on a missing row, a wrong length, a NaN/infinite value, or a value so far from the training
     *                               data that standardizing it or the scores overflow float32 (naming the column)
     */
    public int route(float[] features) {
        Scratch s = threadScratch();
        return route(features, s.scores, s);
    }

    /**
     * The same, also writing the {@code p} scores.
     *
     * @param features  length {@code d}, raw, finite. Not modified.
     * @param scoresOut length {@code >= p}, not {@code features} where their first elements overlap; the scores are
     *                  written to its first {@code p} elements. Modified.
     * @return the index of the expert with the highest score, counted from 0 (ties to the highest index);
     *         {@link #expertName} names it
     * @throws InvalidInputException as {@link #route(float[])}, and when {@code scoresOut} is missing or too short
     */
    public int route(float[] features, float[] scoresOut) {
        return route(features, scoresOut, threadScratch());
    }

    /**
     * The same with caller-owned scratch (one per thread), from {@link #newScratch()} of this router or of one at
     * least as large (as many features, units in its widest layer and experts, or more).
     *
     * @param features  length {@code d}, raw, finite. Not modified.
     * @param scoresOut length {@code >= p}, not {@code features} where their first elements overlap; the scores are
     *                  written to its first {@code p} elements. Modified.
     * @param s         working memory, used by no other thread during the call. Modified.
     * @return the index of the expert with the highest score, counted from 0 (ties to the highest index);
     *         {@link #expertName} names it
     * @throws InvalidInputException as {@link #route(float[], float[])}, and also when {@code s} is missing
     *                               or too small for this router
     */
    public int route(float[] features, float[] scoresOut, Scratch s) {
        if (features == null || features.length != d) {
            throw new InvalidInputException("a feature row needs " + d + " values, got "
                    + (features == null ? "null" : features.length));
        }
        if (scoresOut == null || scoresOut.length < p) {
            throw new InvalidInputException("scoresOut needs room for " + p + " scores");
        }
        // As routeBatch: the scores would overwrite the row, and an overflow's message would then read them
        Checks.disjoint("scoresOut", scoresOut, 0, p, "features", features, 0, d);
        checkScratch(s);
        forward(features, 0, scoresOut, 0, s);
        return Deferral.route(scoresOut, 0, p);
    }

    /** A scratch of a smaller router failed deep in the network with an ArrayIndexOutOfBoundsException. */
    private void checkScratch(Scratch s) {
        if (s == null || !s.fits(d, width, p)) {
            throw new InvalidInputException("scratch " + (s == null ? "is missing (null)"
                    : "of " + s.x.length + " features, " + s.h0.length + " units and " + s.scores.length
                    + " experts is too small for this router of " + d + ", " + width + " and " + p)
                    + ": take one from this router's newScratch()");
        }
    }

    /**
     * Routes {@code rows} rows of an {@code rows x d} matrix.
     *
     * @param features  {@code rows x d}, raw, finite, from element 0; may be longer. Not modified.
     * @param rows      the number of rows to route, {@code >= 0}
     * @param choiceOut the expert per row, length {@code >= rows}. Modified.
     * @param scoresOut {@code rows x p} scores, or {@code null}; not the {@code features} array where their
     *                  ranges overlap. Modified.
     * @throws InvalidInputException on a negative {@code rows}, a missing or too short array, {@code scoresOut}
     *                               overlapping {@code features}, or a NaN/infinite value (naming the row and column);
     *                               rows before the bad one have been routed
     */
    public void routeBatch(float[] features, int rows, int[] choiceOut, float[] scoresOut) {
        routeBatch(features, rows, choiceOut, scoresOut, threadScratch());
    }

    /**
     * The same with caller-owned scratch (one per thread), as {@link #route(float[], float[], Scratch)}.
     *
     * @param features  {@code rows x d}, raw, finite, from element 0; may be longer. Not modified.
     * @param rows      the number of rows to route, {@code >= 0}
     * @param choiceOut the expert per row, length {@code >= rows}. Modified.
     * @param scoresOut {@code rows x p} scores, or {@code null}; not the {@code features} array where their
     *                  ranges overlap. Modified.
     * @param s         working memory, used by no other thread during the call. Modified.
     * @throws InvalidInputException as {@link #routeBatch(float[], int, int[], float[])}, and also when
     *                               {@code s} is missing or too small for this router
     */
    public void routeBatch(float[] features, int rows, int[] choiceOut, float[] scoresOut, Scratch s) {
        if (rows < 0 || features == null || (long) rows * d > features.length) {
            throw new InvalidInputException(rows + " rows of " + d + " features need " + ((long) rows * d)
                    + " values, got " + (features == null ? "null" : features.length));
        }
        if (choiceOut == null || choiceOut.length < rows) {
            throw new InvalidInputException("choiceOut needs room for " + rows + " rows");
        }
        if (scoresOut != null && (long) rows * p > scoresOut.length) {
            throw new InvalidInputException("scoresOut needs room for " + rows + " x " + p + " scores");
        }
        // Row r's scores would overwrite the features of rows still to come
        Checks.disjoint("scoresOut", scoresOut, 0, (long) rows * p, "features", features, 0, (long) rows * d);
        checkScratch(s);
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            float[] out = scoresOut != null ? scoresOut : s.scores4;
            int first = scoresOut != null ? r : 0; // the row of out that holds row r's scores
            if (!forwardFour(features, r, out, first, s)) {
                break; // a row of the four is bad: row by row from the first of them names it
            }
            for (int k = 0; k < 4; k++) {
                choiceOut[r + k] = Deferral.route(out, (first + k) * p, p);
            }
        }
        for (; r < rows; r++) {
            float[] out = scoresOut != null ? scoresOut : s.scores;
            int o = scoresOut != null ? r * p : 0;
            try {
                forward(features, r * d, out, o, s);
            } catch (InvalidInputException e) { // the column alone did not say which row of the batch
                throw new InvalidInputException("row " + (r + 1) + " of the batch (1-based): " + e.getMessage(), e);
            }
            choiceOut[r] = Deferral.route(out, o, p);
        }
    }

    /**
     * Rows {@code r..r+3} of a batch through the network together ({@link DenseProduct.Layer#multiplyRows}: the
     * weights are read once for four rows), each row's scores bit-identical to {@link #forward}'s: the same steps
     * ({@link #standardize}, {@link #hidden}, {@link #scores}). Returns false when one of the rows is not finite,
     * does not standardize, or overflows the scores (some scores of the four may be written by then): the caller
     * then routes the four row by row, which says which row and why.
     */
    private boolean forwardFour(float[] x, int r, float[] out, int first, Scratch s) {
        for (int k = 0; k < 4; k++) {
            try {
                standardize(x, (r + k) * d, s.x4[k]);
            } catch (InvalidInputException e) {
                return false;
            }
        }
        float[][] cur = s.x4;
        for (int l = 0; l < layers; l++) {
            float[][] next = cur == s.h4a ? s.h4b : s.h4a;
            w[l].multiplyRows(cur, 0, 4, next);
            for (int k = 0; k < 4; k++) {
                if (l == layers - 1) {
                    if (!scores(next[k], out, (first + k) * p)) {
                        return false;
                    }
                } else {
                    hidden(l, next[k]);
                }
            }
            cur = next;
        }
        return true;
    }

    /**
     * Routes every row of an {@code n x d} matrix; returns the expert per row.
     *
     * @param features {@code n x d}, raw, finite; its length a multiple of {@code d}. Not modified.
     * @return a new array of {@code n} expert indices, counted from 0
     * @throws InvalidInputException when {@code features} is missing or its length is not a multiple of {@code d},
     *                               or as {@link #routeBatch(float[], int, int[], float[])}
     */
    public int[] routeBatch(float[] features) {
        if (features == null || features.length % d != 0) {
            throw new InvalidInputException("a batch needs a multiple of " + d + " values, got "
                    + (features == null ? "null" : features.length));
        }
        int rows = features.length / d;
        int[] out = new int[rows];
        routeBatch(features, rows, out, null);
        return out;
    }

    /**
     * Scores that overflowed float32 (a standardizable value like 3e38 made them all NaN, and the row went to
     * expert 0 without an error): names the feature furthest from the training data.
     */
    private InvalidInputException overflow(float[] x, int xOff, float[] standardized) {
        int far = 0;
        for (int c = 1; c < d; c++) {
            far = Math.abs(standardized[c]) > Math.abs(standardized[far]) ? c : far;
        }
        return new InvalidInputException(standardizer.describe(far) + " is "
                + x[xOff + far] + ", " + standardized[far] + " standard deviations from the training mean: the"
                + " router's scores overflow float32 for this row; it was not trained on anything like it");
    }

    private void forward(float[] x, int xOff, float[] out, int outOff, Scratch s) {
        float[] in = s.x;
        standardize(x, xOff, in);
        float[] cur = in;
        for (int l = 0; l < layers; l++) {
            float[] next = cur == s.h0 ? s.h1 : s.h0;
            w[l].multiply(cur, 0, next);
            if (l == layers - 1) {
                if (!scores(next, out, outOff)) {
                    throw overflow(x, xOff, in);
                }
            } else {
                hidden(l, next);
            }
            cur = next;
        }
    }

    /** {@code into} = the row standardized; a value that is not finite, or too far out to standardize, is an error. */
    private void standardize(float[] x, int xOff, float[] into) {
        for (int c = 0; c < d; c++) {
            float v = x[xOff + c];
            if (!Float.isFinite(v)) {
                throw new InvalidInputException(standardizer.describe(c) + " is " + v
                        + " (must be finite)");
            }
        }
        standardizer.apply(x, xOff, into, 0); // a value too far from the training mean to standardize is an error
    }

    /** Hidden layer l's units from their products, in place: ReLU of product plus bias. */
    private void hidden(int l, float[] units) {
        float[] bl = b[l];
        for (int j = 0; j < sizes[l + 1]; j++) {
            units[j] = Math.max(units[j] + bl[j], 0f);
        }
    }

    /** The scores from the last layer's products, into {@code out[o..o+p)}; false when one is not finite. */
    private boolean scores(float[] products, float[] out, int o) {
        float[] bl = b[layers - 1];
        boolean finite = true;
        for (int j = 0; j < p; j++) {
            float score = products[j] + bl[j];
            out[o + j] = score;
            finite &= Float.isFinite(score);
        }
        return finite;
    }
}
