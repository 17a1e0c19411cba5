package dev.mild.simd;

import dev.mild.router.DenseProduct;

/**
 * Registers the {@code simd} dense product ({@link SimdDenseLayer}, {@link SimdOuterProduct}). Like {@link SimdKernelProvider}, this class
 * names no Vector API type, so it loads on any JVM; the layer class is loaded only once the module is known to
 * be present.
 */
public final class SimdDenseProduct implements DenseProduct {
    /** The product {@link java.util.ServiceLoader} instantiates. */
    public SimdDenseProduct() {
    }

    @Override
    public String name() {
        return "simd";
    }

    @Override
    public String unavailableReason() {
        return SimdKernelProvider.vectorProblem();
    }

    @Override
    public Layer layer(int nIn, int nOut) {
        return new SimdDenseLayer(nIn, nOut, false);
    }

    @Override
    public Layer trainingLayer(int nIn, int nOut) {
        return new SimdDenseLayer(nIn, nOut, true);
    }

    @Override
    public boolean warmUp(long maxMillis) {
        return SimdWarmUp.denseProducts(maxMillis);
    }

    @Override
    public void accumulateOuter(float[][] in, float[][] delta, int rows, float[][] dw, int c0, int c1, int n) {
        SimdOuterProduct.accumulate(in, delta, rows, dw, c0, c1, n);
    }
}
