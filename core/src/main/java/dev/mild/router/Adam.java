package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.loss.Checks;
import java.util.Locale;

/**
 * Adam (Kingma and Ba) and AdamW (Loshchilov and Hutter) over a list of float32 tensors, with the first and
 * second moments kept per parameter. For step {@code t = 1, 2, ...}, gradient {@code g} and parameter
 * {@code theta}:
 *
 * <pre>
 *   Adam:   g := g + wd * theta                              (L2 penalty folded into the gradient)
 *   AdamW:  theta := theta * (1 - lr * wd)                   (decoupled decay, before the update)
 *   m := beta1 m + (1 - beta1) g
 *   v := beta2 v + (1 - beta2) g^2
 *   theta := theta - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * </pre>
 *
 * The same update as PyTorch's {@code torch.optim.Adam} / {@code AdamW} (decay on every parameter, biases
 * included), in float32 with the bias corrections computed in float64. Not thread-safe.
 */
public final class Adam {

    /** Which weight decay. */
    public enum Kind {
        /** Adam: weight decay as an L2 penalty added to the gradient. */
        ADAM("adam"),
        /** AdamW: decoupled weight decay, the parameters shrunk by {@code 1 - lr * wd} before the update. */
        ADAMW("adamw");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /**
         * The name {@link #byName} takes.
         *
         * @return {@code "adam"} or {@code "adamw"}
         */
        public String label() {
            return label;
        }

        /**
         * The optimizer of a label (as {@code --optimizer} takes it).
         *
         * @param name {@code "adam"} or {@code "adamw"}, exactly (lower case)
         * @return the kind with that {@link #label}
         * @throws InvalidInputException for any other name, null included
         */
        public static Kind byName(String name) {
            for (Kind k : values()) {
                if (k.label.equals(name)) {
                    return k;
                }
            }
            throw new InvalidInputException("--optimizer: unknown optimizer \"" + name + "\" (known: adam, adamw)");
        }
    }

    /** The usual decay rate of the first moment, 0.9. */
    public static final double BETA1 = 0.9;
    /** The usual decay rate of the second moment, 0.999. */
    public static final double BETA2 = 0.999;
    /** The usual term added to the denominator, 1e-8. */
    public static final double EPS = 1e-8;

    private final Kind kind;
    private final double lr;
    private final double weightDecay;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final float[][] m;
    private final float[][] v;
    private long step;

    /**
     * Optimizer state (moments at 0, no steps taken) for tensors of the given sizes.
     *
     * @param kind        Adam or AdamW
     * @param lr          learning rate, finite and {@code > 0}
     * @param weightDecay weight decay {@code wd}, finite and {@code >= 0}
     * @param beta1       first moment's decay rate, in {@code [0, 1)}
     * @param beta2       second moment's decay rate, in {@code [0, 1)}
     * @param eps         term added to the denominator, {@code > 0}
     * @param sizes number of parameters of each tensor, in the order {@link #step} receives them
     * @throws InvalidInputException when {@code kind} is null or a number is out of the ranges above
     */
    public Adam(Kind kind, double lr, double weightDecay, double beta1, double beta2, double eps, int... sizes) {
        Checks.required("optimizer kind (Adam or AdamW)", kind); // null ran as Adam
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new InvalidInputException("learning rate must be finite and > 0, got " + lr);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new InvalidInputException("weight decay must be finite and >= 0, got " + weightDecay);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0)) {
            throw new InvalidInputException(String.format(Locale.ROOT,
                    "Adam needs 0 <= beta1, beta2 < 1 and eps > 0, got %g, %g, %g", beta1, beta2, eps));
        }
        this.kind = kind;
        this.lr = lr;
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.m = new float[sizes.length][];
        this.v = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            m[i] = new float[sizes[i]];
            v[i] = new float[sizes[i]];
        }
    }

    /**
     * The usual betas (0.9, 0.999) and eps 1e-8.
     *
     * @param kind        Adam or AdamW
     * @param lr          learning rate, finite and {@code > 0}
     * @param weightDecay weight decay, finite and {@code >= 0}
     * @param sizes       number of parameters of each tensor, in the order {@link #step} receives them
     * @throws InvalidInputException when {@code lr} or {@code weightDecay} is out of range
     */
    public Adam(Kind kind, double lr, double weightDecay, int... sizes) {
        this(kind, lr, weightDecay, BETA1, BETA2, EPS, sizes);
    }

    /**
     * Optimizer state for every weight and bias tensor of {@code net}, in {@link #step(Mlp, Backprop)} order.
     *
     * @param kind        Adam or AdamW
     * @param lr          learning rate, finite and {@code > 0}
     * @param weightDecay weight decay, finite and {@code >= 0}
     * @param net         the network whose layer sizes are taken. Not modified.
     * @return a new optimizer with the usual betas and eps
     * @throws InvalidInputException when {@code lr} or {@code weightDecay} is out of range
     */
    public static Adam forNetwork(Kind kind, double lr, double weightDecay, Mlp net) {
        int[] sizes = new int[2 * net.layers()];
        for (int l = 0; l < net.layers(); l++) {
            sizes[2 * l] = net.weights(l).length;
            sizes[2 * l + 1] = net.biases(l).length;
        }
        return new Adam(kind, lr, weightDecay, sizes);
    }

    /**
     * Steps taken so far.
     *
     * @return the number of {@code step} calls, {@code t} of the last one
     */
    public long steps() {
        return step;
    }

    /**
     * One update of the network's parameters with the gradients of the last backward pass.
     *
     * @param net   the network this optimizer was made for. Modified (weights and biases).
     * @param grads the gradients of a backward pass through {@code net}. Not modified.
     */
    public void step(Mlp net, Backprop grads) {
        step++;
        for (int l = 0; l < net.layers(); l++) {
            update(2 * l, net.weights(l), grads.weightGradient(l));
            update(2 * l + 1, net.biases(l), grads.biasGradient(l));
        }
    }

    /**
     * One update of tensors {@code 0..params.length-1}.
     *
     * @param params the parameters. Modified.
     * @param grads  their gradients, same shapes. Not modified.
     */
    public void step(float[][] params, float[][] grads) {
        step++;
        for (int i = 0; i < params.length; i++) {
            update(i, params[i], grads[i]);
        }
    }

    private void update(int tensor, float[] theta, float[] g) {
        float[] mt = m[tensor];
        float[] vt = v[tensor];
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float oneMinusB1 = (float) (1.0 - beta1);
        float oneMinusB2 = (float) (1.0 - beta2);
        // Bias corrections folded into the step size and the denominator, as PyTorch does.
        double correction1 = 1.0 - Math.pow(beta1, step);
        double correction2 = 1.0 - Math.pow(beta2, step);
        float stepSize = (float) (lr / correction1);
        float invSqrtCorrection2 = (float) (1.0 / Math.sqrt(correction2));
        float epsF = (float) eps;
        boolean decoupled = kind == Kind.ADAMW;
        float l2 = decoupled ? 0f : (float) weightDecay;
        float shrink = decoupled ? (float) (1.0 - lr * weightDecay) : 1f;
        for (int i = 0; i < theta.length; i++) {
            float p = theta[i] * shrink;
            float gi = g[i] + l2 * p;
            float mi = b1 * mt[i] + oneMinusB1 * gi;
            float vi = b2 * vt[i] + oneMinusB2 * gi * gi;
            mt[i] = mi;
            vt[i] = vi;
            theta[i] = p - stepSize * mi / ((float) Math.sqrt(vi) * invSqrtCorrection2 + epsF);
        }
    }
}
