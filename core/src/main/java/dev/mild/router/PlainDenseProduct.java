package dev.mild.router;

import java.util.List;

/** {@link DenseProduct#plain()}: the weights as row arrays, {@link Dense#multiply} (C2 vectorizes its axpys). */
final class PlainDenseProduct implements DenseProduct {
    static final PlainDenseProduct INSTANCE = new PlainDenseProduct();

    private PlainDenseProduct() {
    }

    @Override
    public String name() {
        return "plain";
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public Layer layer(int nIn, int nOut) {
        if (nIn < 1 || nOut < 1) {
            throw new IllegalArgumentException("a layer needs at least one input and one output, got " + nIn + " x " + nOut);
        }
        float[][] rows = new float[nIn][nOut];
        return new Layer() {
            @Override
            public void load(float[] weights) {
                Dense.copyIn(weights, rows, nIn, nOut);
            }

            @Override
            public void multiply(float[] in, int inOff, float[] out) {
                Dense.multiply(in, inOff, nIn, rows, out, nOut);
            }

            @Override
            public void multiplyTransposed(float[] delta, float[] out) {
                Dense.multiplyTransposed(delta, nOut, rows, nIn, out);
            }

            @Override
            public void multiplyTransposedThroughRelu(float[] delta, float[] z, float[] out) {
                Dense.multiplyTransposed(delta, nOut, rows, nIn, z, out);
            }
        };
    }

    /** The row arrays serve both products, so a training layer is a plain one. */
    @Override
    public Layer trainingLayer(int nIn, int nOut) {
        return layer(nIn, nOut);
    }

    @Override
    public void accumulateOuter(float[][] in, float[][] delta, int rows, float[][] dw, int c0, int c1, int n) {
        Dense.accumulateOuter(in, delta, rows, dw, c0, c1, n);
    }

    /**
     * The implementations present, loaded once when first asked for (class initialization is lazy and
     * thread-safe): {@link DenseProduct#named} and {@link DenseProduct#fastest()} run for every {@link Router}
     * built, and loading the services again each time cost a class-path scan per router.
     */
    static final class Present {
        static final List<DenseProduct> ALL = List.copyOf(DenseProduct.present());
    }

    /** Found once, when first asked for. */
    static final class Fastest {
        static final DenseProduct FOUND = find();

        private static DenseProduct find() {
            for (DenseProduct product : Present.ALL) {
                if (product != INSTANCE && product.unavailableReason() == null) {
                    return product;
                }
            }
            return INSTANCE;
        }
    }
}
