package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.loss.Checks;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The parameters of a multi-layer perceptron: {@code sizes[0]} inputs, hidden layers with ReLU, and
 * {@code sizes[L]} linear outputs (one score per expert for a router, one logit per class for a classifier).
 *
 * <pre>
 *   a_0 = x,   z_l = a_l W_l + b_l,   a_{l+1} = max(0, z_l)  (hidden),   scores = z_{L-1}
 * </pre>
 *
 * Layer {@code l} stores {@code W_l} as a row-major {@code sizes[l] x sizes[l+1]} matrix (input-major:
 * {@code W_l[c, j]} at {@code c * sizes[l+1] + j}). That one layout serves both paths: each row's product
 * {@code x W} goes through a {@link DenseProduct}, as sums over {@code x_c W[c, :]} with the outputs in vector
 * lanes (one reduction per output, which the JIT does not vectorize, would be the other way).
 *
 * <p>Mutable: the trainer updates the arrays in place. Arrays returned by {@link #weights} and {@link #biases}
 * are the live storage.
 */
public final class Mlp {
    /** Most weights in one layer: the longest Java array the JVM allocates ({@code Integer.MAX_VALUE - 8}). */
    public static final int MAX_LAYER_WEIGHTS = Integer.MAX_VALUE - 8;

    private final int[] sizes;
    private final float[][] weights;
    private final float[][] biases;

    /**
     * All parameters zero. {@code sizes} = inputs, hidden widths..., outputs; each {@code >= 1}.
     *
     * @param sizes the layer widths, at least two. Copied.
     * @throws InvalidInputException when {@code sizes} is null or shorter than 2, a width is {@code < 1}, or a
     *                               layer would have more than {@link #MAX_LAYER_WEIGHTS} weights
     */
    public Mlp(int... sizes) {
        checkSizes(sizes);
        this.sizes = sizes.clone();
        int layers = sizes.length - 1;
        this.weights = new float[layers][];
        this.biases = new float[layers][];
        for (int l = 0; l < layers; l++) {
            weights[l] = new float[Math.multiplyExact(sizes[l], sizes[l + 1])];
            biases[l] = new float[sizes[l + 1]];
        }
    }

    /**
     * The checks of {@link #Mlp(int...)}, before anything is allocated (the trainer sizes its memory from them).
     *
     * @param sizes the layer widths
     * @return the number of parameters, weights and biases of every layer
     */
    static long checkSizes(int[] sizes) {
        if (sizes == null || sizes.length < 2) {
            throw new InvalidInputException("a network needs at least an input and an output size, got "
                    + Arrays.toString(sizes));
        }
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] < 1) {
                throw new InvalidInputException("layer " + i + " of the network has size " + sizes[i]
                        + " (every layer needs >= 1 unit): sizes " + Arrays.toString(sizes));
            }
        }
        long parameters = 0;
        for (int l = 0; l + 1 < sizes.length; l++) {
            // One layer's weights are one Java array, indexed by int (--hidden 100000,100000 would overflow it).
            long count = (long) sizes[l] * sizes[l + 1];
            if (count > MAX_LAYER_WEIGHTS) {
                throw new InvalidInputException("the network's weight layer " + (l + 1) + " (" + sizes[l] + " inputs x "
                        + sizes[l + 1] + " units) would have " + count + " weights, more than one layer can hold ("
                        + MAX_LAYER_WEIGHTS + "): make the hidden layers narrower (network sizes "
                        + Arrays.toString(sizes) + ")");
            }
            parameters += count + sizes[l + 1];
        }
        return parameters;
    }

    /**
     * He-uniform initialization for ReLU networks: {@code W_l ~ U(-sqrt(6/fan_in), sqrt(6/fan_in))}, biases 0.
     * The same sizes and seed give the same parameters.
     *
     * @param sizes the layer widths, as {@link #Mlp(int...)} takes them. Not modified.
     * @param seed  seed of the random draws
     * @return a new network
     * @throws InvalidInputException as {@link #Mlp(int...)}
     */
    public static Mlp initialized(int[] sizes, long seed) {
        Mlp net = new Mlp(sizes);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int l = 0; l < net.layers(); l++) {
            float bound = (float) Math.sqrt(6.0 / sizes[l]);
            float[] w = net.weights[l];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) ((2.0 * rnd.nextDouble() - 1.0) * bound);
            }
        }
        return net;
    }

    /**
     * Sizes for {@code inputs -> hidden... -> outputs} (not checked: {@link #Mlp(int...)} checks them).
     *
     * @param inputs  width of the input
     * @param hidden  widths of the hidden layers, possibly empty. Not modified.
     * @param outputs width of the output
     * @return a new array {@code {inputs, hidden..., outputs}}
     * @throws InvalidInputException when {@code hidden} is null
     */
    public static int[] sizes(int inputs, int[] hidden, int outputs) {
        if (hidden == null) {
            throw new InvalidInputException("hidden layer sizes are missing (null); give an empty array for none");
        }
        int[] s = new int[hidden.length + 2];
        s[0] = inputs;
        System.arraycopy(hidden, 0, s, 1, hidden.length);
        s[s.length - 1] = outputs;
        return s;
    }

    /**
     * Number of weight layers {@code L} (hidden layers + 1).
     *
     * @return {@code L >= 1}
     */
    public int layers() {
        return sizes.length - 1;
    }

    /**
     * Width of layer {@code i}: 0 is the input, {@link #layers()} the output.
     *
     * @param i the layer, {@code 0..layers()}
     * @return its number of units
     */
    public int size(int i) {
        return sizes[i];
    }

    /**
     * A copy of all sizes.
     *
     * @return a new array of {@code layers() + 1} widths, input first
     */
    public int[] sizes() {
        return sizes.clone();
    }

    /**
     * Width of the input.
     *
     * @return {@code size(0)}, the number of features
     */
    public int inputs() {
        return sizes[0];
    }

    /**
     * Width of the output.
     *
     * @return {@code size(layers())}, the number of scores (experts) or logits (classes)
     */
    public int outputs() {
        return sizes[sizes.length - 1];
    }

    /**
     * Widest layer (for scratch buffers).
     *
     * @return the largest of the sizes, input and output included
     */
    public int maxWidth() {
        return Arrays.stream(sizes).max().orElse(1);
    }

    /**
     * The live {@code sizes[l] x sizes[l+1]} weights of layer {@code l}.
     *
     * @param l the weight layer, {@code 0..layers()-1}
     * @return the layer's storage, not a copy
     */
    public float[] weights(int l) {
        return weights[l];
    }

    /**
     * The live {@code sizes[l+1]} biases of layer {@code l}.
     *
     * @param l the weight layer, {@code 0..layers()-1}
     * @return the layer's storage, not a copy
     */
    public float[] biases(int l) {
        return biases[l];
    }

    /**
     * A deep copy.
     *
     * @return a new network of the same sizes and parameters, sharing no arrays with this one
     */
    public Mlp copy() {
        Mlp c = new Mlp(sizes);
        c.copyFrom(this);
        return c;
    }

    /**
     * Overwrites this network's parameters with those of {@code other} (same sizes).
     *
     * @param other the network to copy from. Not modified.
     * @throws InvalidInputException when {@code other} is null or its sizes differ
     */
    public void copyFrom(Mlp other) {
        Checks.required("the network to copy from", other);
        if (!Arrays.equals(sizes, other.sizes)) {
            throw new InvalidInputException("cannot copy a network of sizes " + Arrays.toString(other.sizes)
                    + " into one of sizes " + Arrays.toString(sizes));
        }
        for (int l = 0; l < layers(); l++) {
            System.arraycopy(other.weights[l], 0, weights[l], 0, weights[l].length);
            System.arraycopy(other.biases[l], 0, biases[l], 0, biases[l].length);
        }
    }

    /**
     * Whether every parameter is finite (training diverged otherwise).
     *
     * @return {@code true} when no weight or bias is NaN or infinite
     */
    public boolean isFinite() {
        return firstNonFinite() == null;
    }

    /**
     * Refuses a NaN or infinite parameter, naming it: such a network routes every row by NaN scores (to the last
     * expert, or blamed on an input column when the scores overflow).
     *
     * @param what the network's name in the message, e.g. "router: network"
     * @throws InvalidInputException naming the layer (1-based) and the weight or bias (0-based, row-major)
     */
    public void checkFinite(String what) {
        int[] at = firstNonFinite();
        if (at == null) {
            return;
        }
        int l = at[0];
        int i = at[2];
        boolean weight = at[1] == 0;
        float v = weight ? weights[l][i] : biases[l][i];
        throw new InvalidInputException(what + ": layer " + (l + 1) + (weight ? " weight " : " bias ") + i
                + (weight ? " (input " + i / sizes[l + 1] + ", output " + i % sizes[l + 1] + "; these 0-based)"
                : " (0-based)") + " is " + v + " (every parameter must be finite)");
    }

    /** {layer, 0 for a weight or 1 for a bias, index} of the first NaN or infinite parameter, or null. */
    private int[] firstNonFinite() {
        for (int l = 0; l < layers(); l++) {
            for (int i = 0; i < weights[l].length; i++) {
                if (!Float.isFinite(weights[l][i])) {
                    return new int[] {l, 0, i};
                }
            }
            for (int i = 0; i < biases[l].length; i++) {
                if (!Float.isFinite(biases[l][i])) {
                    return new int[] {l, 1, i};
                }
            }
        }
        return null;
    }

    /**
     * Bit-for-bit equality of sizes and parameters.
     *
     * @param other the network to compare with
     * @return {@code true} when the sizes are equal and every weight and bias has the same value
     *         ({@link Arrays#equals(float[], float[])}: NaN equals NaN, 0.0 differs from -0.0)
     * @throws InvalidInputException when {@code other} is null
     */
    public boolean sameParameters(Mlp other) {
        Checks.required("the network to compare with", other);
        if (!Arrays.equals(sizes, other.sizes)) {
            return false;
        }
        for (int l = 0; l < layers(); l++) {
            if (!Arrays.equals(weights[l], other.weights[l]) || !Arrays.equals(biases[l], other.biases[l])) {
                return false;
            }
        }
        return true;
    }

    /**
     * The sizes, for logs.
     *
     * @return "Mlp[4, 64, 3]" for sizes {4, 64, 3}
     */
    @Override
    public String toString() {
        return "Mlp" + Arrays.toString(sizes);
    }
}
