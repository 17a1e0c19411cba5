package dev.mild.tests;

import static dev.mild.testing.TestArrays.gaussian;
import static dev.mild.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.router.Dense;
import dev.mild.router.DenseProduct;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

/**
 * The router's dense kernels ({@link Dense}) against EJML's products computed in float64 (an independent
 * implementation): {@code Z = A W}, {@code dW = A^T D} and {@code D W^T}, on shapes that hit every tail of the
 * four-row blocking (inputs and batch sizes 1, 3, 4, 5, 7, 64, 130). Tolerance: float32 sums of up to 130
 * products of unit-scale values, relative to the largest entry: 1e-5. The plain and the fastest {@link DenseProduct}
 * (simd: the tests add the Vector API) give {@link Dense#multiply}'s bits exactly.
 */
class DenseTest {
    static final double TOLERANCE = 1e-5;

    @Test
    void productsMatchEjmlInFloat64() {
        SplittableRandom rnd = new SplittableRandom(17);
        int[] sizes = {1, 3, 4, 5, 7, 64, 130};
        for (int rows : sizes) {
            for (int nIn : sizes) {
                for (int nOut : new int[] {1, 3, 64}) {
                    check(rnd, rows, nIn, nOut);
                }
            }
        }
    }

    static void check(SplittableRandom rnd, int rows, int nIn, int nOut) {
        float[] a = gaussian(rnd, rows * nIn, 1.0);
        float[] w = gaussian(rnd, nIn * nOut, 1.0);
        float[] d = gaussian(rnd, rows * nOut, 1.0);
        float[][] wRows = Dense.rows(w, nIn, nOut);
        float[][] aRows = Dense.rows(a, rows, nIn);
        float[][] dRows = Dense.rows(d, rows, nOut);
        DMatrixRMaj a64 = new DMatrixRMaj(rows, nIn, true, toDouble(a));
        DMatrixRMaj w64 = new DMatrixRMaj(nIn, nOut, true, toDouble(w));
        DMatrixRMaj d64 = new DMatrixRMaj(rows, nOut, true, toDouble(d));
        String shape = rows + " x " + nIn + " x " + nOut;

        DMatrixRMaj z64 = new DMatrixRMaj(rows, nOut);
        CommonOps_DDRM.mult(a64, w64, z64);
        float[] z = new float[rows * nOut];
        float[] acc = new float[nOut];
        for (int r = 0; r < rows; r++) {
            Dense.multiply(a, r * nIn, nIn, wRows, acc, nOut);
            System.arraycopy(acc, 0, z, r * nOut, nOut);
        }
        close("A W " + shape, z, z64.data);
        for (DenseProduct product : List.of(DenseProduct.plain(), DenseProduct.fastest())) {
            DenseProduct.Layer layer = product.trainingLayer(nIn, nOut);
            layer.load(w);
            float[] out = new float[nOut];
            float[][] batchOut = new float[rows][nOut];
            layer.multiplyRows(aRows, 0, rows, batchOut);
            for (int r = 0; r < rows; r++) {
                layer.multiply(a, r * nIn, out);
                assertArrayEquals(Arrays.copyOfRange(z, r * nOut, (r + 1) * nOut), out,
                        product.name() + " dense product gives Dense.multiply's bits, row " + r + ", " + shape);
                assertArrayEquals(out, batchOut[r], product.name() + " multiplyRows, row " + r + ", " + shape);
            }
        }

        DMatrixRMaj g64 = new DMatrixRMaj(nIn, nOut);
        CommonOps_DDRM.multTransA(a64, d64, g64);
        float[][] g = new float[nIn][nOut];
        Dense.accumulateOuter(aRows, dRows, rows, g, 0, nIn, nOut);
        float[] gFlat = new float[nIn * nOut];
        Dense.copyOut(g, nIn, nOut, gFlat);
        close("A^T D " + shape, gFlat, g64.data);
        for (DenseProduct product : List.of(DenseProduct.plain(), DenseProduct.fastest())) {
            float[][] viaProduct = new float[nIn][nOut];
            product.accumulateOuter(aRows, dRows, rows, viaProduct, 0, nIn, nOut);
            for (int c = 0; c < nIn; c++) {
                assertArrayEquals(g[c], viaProduct[c], product.name() + " weight gradient gives Dense's bits, row " + c
                        + ", " + shape);
            }
        }
        // Split into two ranges of weight rows (as threads do): bit-identical.
        float[][] split = new float[nIn][nOut];
        Dense.accumulateOuter(aRows, dRows, rows, split, 0, nIn / 2, nOut);
        Dense.accumulateOuter(aRows, dRows, rows, split, nIn / 2, nIn, nOut);
        for (int c = 0; c < nIn; c++) {
            assertTrue(java.util.Arrays.equals(g[c], split[c]), "split ranges give the same gradient, " + shape);
        }

        DMatrixRMaj t64 = new DMatrixRMaj(rows, nIn);
        CommonOps_DDRM.multTransB(d64, w64, t64);
        float[] t = new float[rows * nIn];
        float[] row = new float[nIn];
        for (int r = 0; r < rows; r++) {
            Dense.multiplyTransposed(dRows[r], nOut, wRows, nIn, row);
            System.arraycopy(row, 0, t, r * nIn, nIn);
        }
        close("D W^T " + shape, t, t64.data);
        for (DenseProduct product : List.of(DenseProduct.plain(), DenseProduct.fastest())) {
            DenseProduct.Layer layer = product.trainingLayer(nIn, nOut);
            layer.load(w);
            float[] viaProduct = new float[nIn];
            for (int r = 0; r < rows; r++) {
                layer.multiplyTransposed(dRows[r], viaProduct);
                assertArrayEquals(Arrays.copyOfRange(t, r * nIn, (r + 1) * nIn), viaProduct,
                        product.name() + " times W^T gives Dense's bits, row " + r + ", " + shape);
                // Through a ReLU whose inputs are the rows of A: the same sums where A > 0, zeros elsewhere.
                layer.multiplyTransposedThroughRelu(dRows[r], aRows[r], viaProduct);
                for (int c = 0; c < nIn; c++) {
                    assertEquals(aRows[r][c] > 0f ? t[r * nIn + c] : 0f, viaProduct[c],
                            product.name() + " times W^T through a ReLU, row " + r + ", input " + c + ", " + shape);
                }
            }
        }

        // The float32 EJML product agrees too (a second, flat-layout implementation).
        FMatrixRMaj z32 = new FMatrixRMaj(rows, nOut);
        org.ejml.dense.row.CommonOps_FDRM.mult(new FMatrixRMaj(rows, nIn, true, a), new FMatrixRMaj(nIn, nOut, true, w), z32);
        close("A W (EJML float32) " + shape, z, toDouble(z32.data));
    }

    static void close(String what, float[] got, double[] want) {
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            worst = Math.max(worst, Math.abs(got[i] - want[i]));
        }
        assertTrue(worst <= TOLERANCE * Math.max(scale, 1), what + ": worst error " + worst + " (scale " + scale + ")");
    }
}
