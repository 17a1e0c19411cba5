package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.loss.Checks;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * How a dense layer's products are computed ({@code W}: {@code nIn x nOut}, row-major, as {@link Mlp#weights}
 * holds it): {@code out = in W} for the {@link Router} and the trainer's forward pass (a row, or a batch's rows),
 * and for the trainer's backward pass the delta passed down a layer, {@code delta W^T}, and the weight gradient
 * {@code dW += A^T D}.
 *
 * <p><b>Every implementation gives the same bits.</b> Each output of {@code in W} is summed in
 * {@link Dense#multiply}'s order (inputs in blocks of four, {@code ((in_c w_c + in_c+1 w_c+1) + in_c+2 w_c+2) +
 * in_c+3 w_c+3} added to the running sum, then the inputs left over one at a time), with separate float
 * multiplies and adds (no fused multiply-add); {@code delta W^T} and the weight gradient likewise keep
 * {@link Dense#multiplyTransposed}'s and {@link Dense#accumulateOuter}'s orders. So a model trained
 * where one implementation ran is the same model where another runs, routes every row the same, and the choice
 * is a matter of speed only.
 *
 * <p>{@link #fastest()} takes an implementation found with {@link ServiceLoader} ({@code kernels-simd} adds one
 * on the Vector API, used when {@code jdk.incubator.vector} is added) and falls back to {@link #plain()}.
 * System property {@value #PROPERTY}{@code =plain} forces the plain one (for comparisons).
 */
public interface DenseProduct {

    /** {@code -Dmild.dense=NAME}: the implementation {@link #fastest()} returns ({@code plain}, {@code simd}). */
    String PROPERTY = "mild.dense";

    /**
     * Short name ({@code plain}, {@code simd}).
     *
     * @return the name {@link #named} and {@value #PROPERTY} take
     */
    String name();

    /**
     * {@code null} when this implementation can run here, otherwise why not. An implementation loaded by
     * {@link ServiceLoader} must not touch hardware-specific classes before this says yes.
     *
     * @return {@code null}, or a reason phrased for the user ({@code simd}, for example, asks for
     *         {@code --add-modules jdk.incubator.vector} when the module is missing)
     */
    String unavailableReason();

    /**
     * An empty layer of this implementation: {@link Layer#load} its weights before the first product.
     *
     * @param nIn  the layer's inputs, {@code >= 1}
     * @param nOut the layer's outputs, {@code >= 1}
     * @return a new layer of {@code nIn x nOut} zero weights
     * @throws IllegalArgumentException when {@code nIn} or {@code nOut} is below 1 (or, for {@code simd}, the
     *                                  weights would not fit one Java array)
     */
    Layer layer(int nIn, int nOut);

    /**
     * An empty layer that also multiplies by {@code W^T} ({@link Layer#multiplyTransposed}, for the trainer's
     * backward pass); an implementation may hold the weights a second time, transposed, for it.
     *
     * @param nIn  the layer's inputs, {@code >= 1}
     * @param nOut the layer's outputs, {@code >= 1}
     * @return a new layer of {@code nIn x nOut} zero weights
     * @throws IllegalArgumentException as {@link #layer}
     */
    Layer trainingLayer(int nIn, int nOut);

    /**
     * A layer's weight gradient over a batch, {@code dw[c][j] += sum_{r < rows} in[r][c] delta[r][j]} for
     * {@code c0 <= c < c1}, {@code j < n}, bit-identical to {@link Dense#accumulateOuter} (each element adds the
     * rows in its blocks of four, then the rest, to its value in {@code dw}): so splitting {@code [c0, c1)}
     * between threads gives the same result.
     *
     * @param in    the layer's inputs per row: {@code in[r]} holds at least {@code c1} values. Not modified.
     * @param delta the deltas of the layer's outputs per row: {@code delta[r]} holds at least {@code n} values.
     *              Not modified.
     * @param rows  the number of rows, {@code in[0 .. rows-1]} and {@code delta[0 .. rows-1]}
     * @param dw    the weight gradient: {@code dw[c][0 .. n-1]} for {@code c0 <= c < c1} is added to (not
     *              overwritten). Modified.
     * @param c0    the first input column to accumulate
     * @param c1    one past the last input column to accumulate
     * @param n     the number of outputs {@code j}
     */
    void accumulateOuter(float[][] in, float[][] delta, int rows, float[][] dw, int c0, int c1, int n);

    /**
     * Runs this implementation's products on small made-up layers until the JIT has compiled them, for at most
     * {@code maxMillis}, so that the first real products run compiled and allocate nothing. An implementation on
     * the Vector API needs this: until C2 compiles it, it runs as plain Java that allocates an object per vector
     * operation and is 10-100 times slower. Measured on the Zen 5 machine ({@code simd}): the warm-up takes about
     * 0.4 s, most of it the compiler's; a router at 784 features then takes 0.3 ms for its first call (56 KB: its
     * per-thread buffers) and 5-55 us for each of the next 1,000, allocating nothing (without the warm-up: up to
     * 26 ms and 2.5 MB per call), and {@code ./mild train}, which runs it on a
     * thread of its own while the data loads, trains on Fashion-MNIST about 1 s sooner. Call it at startup, or on
     * a thread of its own; it changes no result (every product gives the same bits compiled or not).
     * Thread-safe; once it has returned {@code true}, later calls return at once. Interrupting the thread that runs
     * it stops it after the round in hand (it returns {@code false} with the interrupt status kept).
     *
     * @param maxMillis the time budget in milliseconds (a negative value counts as 0); checked between rounds,
     *                  so it may be overrun by one round
     * @return {@code true} when the products ran allocating nothing (so compiled) before {@code maxMillis};
     *         implementations that need no warm-up ({@link #plain()}: plain Java loops are quick to compile and
     *         allocate nothing before) return {@code true} at once
     */
    default boolean warmUp(long maxMillis) {
        return true;
    }

    /** One layer's weights, held in the layout its implementation reads fastest. */
    interface Layer {
        /**
         * Copies {@code nIn x nOut} weights (flat, row-major: input-major) in. Not thread-safe with {@link #multiply}.
         *
         * @param weights {@code W[c][j]} at {@code c * nOut + j}, at least {@code nIn * nOut} values (a shorter
         *                array is an unchecked exception). Not modified.
         */
        void load(float[] weights);

        /**
         * {@code out[j] = sum_c in[inOff + c] W[c][j]} for {@code j < nOut}, in the order above. Reads the weights
         * only, so many threads may call it at once. Allocates nothing once compiled.
         *
         * @param in    the row's inputs, {@code nIn} values from {@code inOff}. Not modified.
         * @param inOff the index of the row's first input in {@code in}
         * @param out   the products, written to {@code out[0 .. nOut-1]}. Modified.
         */
        void multiply(float[] in, int inOff, float[] out);

        /**
         * Rows {@code from..to-1} of a batch, {@code out[r] = in[r] W}, with exactly the bits {@link #multiply} gives
         * each row (an implementation may share weight loads between rows). Thread-safe as {@link #multiply}.
         *
         * @param in   the rows' inputs: {@code in[r]} holds {@code nIn} values from index 0. Not modified.
         * @param from the first row
         * @param to   one past the last row
         * @param out  the products: {@code out[r]} gets {@code nOut} values from index 0. Modified.
         */
        default void multiplyRows(float[][] in, int from, int to, float[][] out) {
            for (int r = from; r < to; r++) {
                multiply(in[r], 0, out[r]);
            }
        }

        /**
         * {@code out[c] = sum_j delta[j] W[c][j]} for {@code c < nIn}: the delta passed to the layer below,
         * bit-identical to {@link Dense#multiplyTransposed} (each output sums {@code j = 0, 1, ..} in order).
         * Thread-safe as {@link #multiply}.
         *
         * @param delta the deltas of the layer's outputs, {@code nOut} values. Not modified.
         * @param out   the delta for the layer's inputs, written to {@code out[0 .. nIn-1]}. Modified.
         * @throws IllegalStateException when the layer was made by {@link DenseProduct#layer} rather than
         *                               {@link DenseProduct#trainingLayer} and this implementation keeps no
         *                               transposed weights there ({@code simd}; {@code plain}'s layers serve both
         *                               products)
         */
        void multiplyTransposed(float[] delta, float[] out);

        /**
         * {@link #multiplyTransposed} through a ReLU: {@code out[c]} is that sum where {@code z[c] > 0} and 0 elsewhere
         * (a NaN {@code z[c]} included), the delta passed to a hidden layer whose outputs {@code z} went through
         * {@code max(0, z)}; the same bits as {@link #multiplyTransposed} followed by zeroing. An implementation picks
         * per element without a branch: a branch on the sign of {@code z} goes either way about as often, and on a
         * network of 8 features and 64 hidden units its mispredictions took about a third of the training time.
         * Thread-safe as {@link #multiply}.
         *
         * @param delta the deltas of the layer's outputs, {@code nOut} values. Not modified.
         * @param z     this layer's inputs before the ReLU (the outputs of the hidden layer below), {@code nIn}
         *              values. Not modified.
         * @param out   the delta for the layer's inputs, written to {@code out[0 .. nIn-1]}. Modified.
         * @throws IllegalStateException as {@link #multiplyTransposed}
         */
        void multiplyTransposedThroughRelu(float[] delta, float[] z, float[] out);
    }

    /**
     * Every implementation present, usable here or not ({@link #unavailableReason()}): {@link #plain()} first, then
     * those {@link ServiceLoader} finds, in its order.
     *
     * @return a new list; each call loads the service implementations again
     */
    static List<DenseProduct> present() {
        List<DenseProduct> all = new ArrayList<>();
        all.add(PlainDenseProduct.INSTANCE);
        ServiceLoader.load(DenseProduct.class, DenseProduct.class.getClassLoader()).forEach(all::add);
        return all;
    }

    /**
     * Plain Java on row arrays ({@link Dense#multiply}): runs everywhere.
     *
     * @return the one plain implementation, named {@code plain}
     */
    static DenseProduct plain() {
        return PlainDenseProduct.INSTANCE;
    }

    /**
     * The fastest implementation usable here (the first of {@link #present()} after {@link #plain()} whose
     * {@link #unavailableReason()} is {@code null}), else {@link #plain()}; or the one {@value #PROPERTY} names.
     *
     * @return the implementation a {@link Router} uses when it is given none
     * @throws InvalidInputException when {@value #PROPERTY} names one that is not present or cannot run here
     */
    static DenseProduct fastest() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) {
            try {
                return named(forced.trim());
            } catch (InvalidInputException e) {
                // Set as a Java option (MILD_JVM_OPTS), not on the command line: say where it came from.
                throw Checks.fromJavaOption(PROPERTY, forced.trim(), e);
            }
        }
        return PlainDenseProduct.Fastest.FOUND;
    }

    /**
     * The implementation called {@code name}.
     *
     * @param name {@code plain}, {@code simd}, or the name of another implementation on the class path
     * @return that implementation, usable here
     * @throws InvalidInputException when none is called so, or the one called so cannot run here (saying why)
     */
    static DenseProduct named(String name) {
        List<DenseProduct> all = PlainDenseProduct.Present.ALL;
        for (DenseProduct product : all) {
            if (product.name().equals(name)) {
                String why = product.unavailableReason();
                if (why != null) {
                    throw new InvalidInputException("dense product '" + name + "' cannot run here: " + why);
                }
                return product;
            }
        }
        throw new InvalidInputException("no dense product called '" + name + "' (present: "
                + String.join(", ", all.stream().map(DenseProduct::name).toList()) + ")");
    }
}
