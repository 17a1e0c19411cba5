package dev.mild.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mild.router.Dense;
import dev.mild.router.DenseProduct;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The vector dense products give exactly the bits of the order {@link DenseProduct} promises, checked against
 * that order written out here in scalar Java and against {@link Dense}: the forward product at every output count
 * around the vector blocks (1..70, 128, 130: the four-vector blocks, single vectors and the scalar tail at 4, 8
 * and 16 lanes, this module's three widths) and input counts around the blocks of four (and the product by
 * {@code W^T}, whose lanes are the inputs, at the same shapes: 784 and 130 inputs cover its blocks); the weight gradient at
 * output counts 1..70 and 128, weight-row ranges around its tiles of four, and batch sizes around the blocks of
 * four rows.
 */
class SimdDenseTest {

    @Test
    void bitIdenticalToThePromisedOrderAtEveryShape() {
        SplittableRandom rnd = new SplittableRandom(5);
        int[] inputs = {1, 2, 3, 4, 5, 7, 8, 13, 64, 130, 784};
        for (int nIn : inputs) {
            for (int nOut = 1; nOut <= 130; nOut = nOut < 70 ? nOut + 1 : nOut == 70 ? 128 : 130 + (nOut == 130 ? 1 : 2)) {
                check(rnd, nIn, nOut);
            }
        }
    }

    static void check(SplittableRandom rnd, int nIn, int nOut) {
        int inOff = rnd.nextInt(3);
        float[] in = new float[inOff + nIn];
        for (int c = 0; c < in.length; c++) {
            in[c] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 3)); // magnitudes apart: order shows
        }
        float[] w = new float[nIn * nOut];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        DenseProduct.Layer layer = new SimdDenseProduct().trainingLayer(nIn, nOut);
        layer.load(w);
        float[] got = new float[nOut];
        layer.multiply(in, inOff, got);
        String shape = nIn + " x " + nOut + " (" + Species.describe() + ")";
        assertArrayEquals(promisedOrder(in, inOff, w, nIn, nOut), got, "against the promised order, " + shape);
        float[] plain = new float[nOut];
        Dense.multiply(in, inOff, nIn, Dense.rows(w, nIn, nOut), plain, nOut);
        assertArrayEquals(plain, got, "against Dense.multiply, " + shape);
        // Times W^T (the delta passed down a layer): out[c] = sum_j delta[j] W[c][j], j in order.
        float[] deltaRow = new float[nOut];
        for (int j = 0; j < nOut; j++) {
            deltaRow[j] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 3));
        }
        float[] back = new float[nIn];
        layer.multiplyTransposed(deltaRow, back);
        float[] wantBack = new float[nIn];
        for (int c = 0; c < nIn; c++) {
            float sum = 0f;
            for (int j = 0; j < nOut; j++) {
                sum = sum + deltaRow[j] * w[c * nOut + j];
            }
            wantBack[c] = sum;
        }
        assertArrayEquals(wantBack, back, "times W^T against the promised order, " + shape);
        float[] plainBack = new float[nIn];
        Dense.multiplyTransposed(deltaRow, nOut, Dense.rows(w, nIn, nOut), nIn, plainBack);
        assertArrayEquals(plainBack, back, "times W^T against Dense.multiplyTransposed, " + shape);
        // Through a ReLU: the sum where z > 0, else 0 (z of every sign, zeros of both signs, NaN).
        float[] z = new float[nIn];
        float[] special = {0f, -0f, Float.NaN, Float.MIN_VALUE, -Float.MIN_VALUE};
        for (int c = 0; c < nIn; c++) {
            z[c] = rnd.nextInt(4) == 0 ? special[rnd.nextInt(special.length)] : (float) rnd.nextGaussian();
        }
        float[] gated = new float[nIn];
        java.util.Arrays.fill(gated, 7f); // every element written
        layer.multiplyTransposedThroughRelu(deltaRow, z, gated);
        float[] wantGated = new float[nIn];
        for (int c = 0; c < nIn; c++) {
            wantGated[c] = z[c] > 0f ? wantBack[c] : 0f;
        }
        assertArrayEquals(wantGated, gated, "times W^T through a ReLU against the promised order, " + shape);
        float[] plainGated = new float[nIn];
        Dense.multiplyTransposed(deltaRow, nOut, Dense.rows(w, nIn, nOut), nIn, z, plainGated);
        assertArrayEquals(plainGated, gated, "times W^T through a ReLU against Dense, " + shape);
        // A batch through multiplyRows (four rows at a time, then the rest): each row's bits as multiply gives them.
        int rows = 1 + rnd.nextInt(10);
        float[][] batch = new float[rows + 2][nIn];
        for (float[] row : batch) {
            for (int c = 0; c < nIn; c++) {
                row[c] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 3));
            }
        }
        float[][] outs = new float[rows + 2][nOut];
        layer.multiplyRows(batch, 1, rows + 1, outs); // rows 1..rows: a batch that does not start at row 0
        for (int r = 0; r < rows + 2; r++) {
            float[] want = r >= 1 && r <= rows ? promisedOrder(batch[r], 0, w, nIn, nOut) : new float[nOut];
            assertArrayEquals(want, outs[r], "multiplyRows, row " + r + " of rows 1.." + rows + ", " + shape);
        }
    }

    /** DenseProduct's order, one output at a time: blocks of four inputs left to right, then the rest. */
    static float[] promisedOrder(float[] in, int inOff, float[] w, int nIn, int nOut) {
        float[] out = new float[nOut];
        for (int j = 0; j < nOut; j++) {
            float sum = 0f;
            int c = 0;
            for (; c + 4 <= nIn; c += 4) {
                float block = in[inOff + c] * w[c * nOut + j];
                block = block + in[inOff + c + 1] * w[(c + 1) * nOut + j];
                block = block + in[inOff + c + 2] * w[(c + 2) * nOut + j];
                block = block + in[inOff + c + 3] * w[(c + 3) * nOut + j];
                sum = sum + block;
            }
            for (; c < nIn; c++) {
                sum = sum + in[inOff + c] * w[c * nOut + j];
            }
            out[j] = sum;
        }
        return out;
    }

    @Test
    void weightGradientBitIdenticalToThePromisedOrderAtEveryShape() {
        SplittableRandom rnd = new SplittableRandom(6);
        for (int rows : new int[] {0, 1, 3, 4, 5, 9, 64}) {
            for (int nIn : new int[] {1, 3, 4, 5, 8, 11}) {
                for (int n = 1; n <= 70; n++) {
                    checkGradient(rnd, rows, nIn, n);
                }
                checkGradient(rnd, rows, nIn, 128);
            }
            // Weight rows as lanes, for the outputs fewer than a vector holds (the score layer): one and more
            // vectors of weight rows with and without rows left over, next to outputs in vectors.
            for (int nIn : new int[] {16, 17, 33, 64, 70}) {
                for (int n = 1; n <= 20; n++) {
                    checkGradient(rnd, rows, nIn, n);
                }
                checkGradient(rnd, rows, nIn, 2 * Species.L + 3);
            }
        }
    }

    static void checkGradient(SplittableRandom rnd, int rows, int nIn, int n) {
        float[][] in = new float[rows][nIn];
        float[][] delta = new float[rows][n];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < nIn; c++) {
                in[r][c] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 3));
            }
            for (int j = 0; j < n; j++) {
                delta[r][j] = (float) rnd.nextGaussian();
            }
        }
        float[][] start = new float[nIn][n]; // a gradient already holding values: they are added to
        for (float[] row : start) {
            for (int j = 0; j < n; j++) {
                row[j] = (float) rnd.nextGaussian();
            }
        }
        int c0 = nIn > 4 ? 1 : 0; // a range that does not start at the first weight row, as a thread's may not
        float[][] got = copy(start);
        new SimdDenseProduct().accumulateOuter(in, delta, rows, got, c0, nIn, n);
        float[][] want = copy(start);
        float[][] plain = copy(start);
        Dense.accumulateOuter(in, delta, rows, plain, c0, nIn, n);
        for (int c = c0; c < nIn; c++) {
            for (int j = 0; j < n; j++) {
                float sum = want[c][j];
                int r = 0;
                for (; r + 4 <= rows; r += 4) {
                    float block = in[r][c] * delta[r][j];
                    block = block + in[r + 1][c] * delta[r + 1][j];
                    block = block + in[r + 2][c] * delta[r + 2][j];
                    block = block + in[r + 3][c] * delta[r + 3][j];
                    sum = sum + block;
                }
                for (; r < rows; r++) {
                    sum = sum + in[r][c] * delta[r][j];
                }
                want[c][j] = sum;
            }
        }
        String shape = rows + " rows, weight rows " + c0 + ".." + nIn + ", " + n + " outputs (" + Species.describe() + ")";
        for (int c = 0; c < nIn; c++) {
            assertArrayEquals(want[c], got[c], "against the promised order, weight row " + c + ", " + shape);
            assertArrayEquals(plain[c], got[c], "against Dense.accumulateOuter, weight row " + c + ", " + shape);
        }
    }

    static float[][] copy(float[][] a) {
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }

    @Test
    void refusesShapesItCannotHold() {
        SimdDenseProduct product = new SimdDenseProduct();
        assertThrows(IllegalArgumentException.class, () -> product.layer(0, 3));
        assertThrows(IllegalArgumentException.class, () -> product.layer(3, 0));
        assertThrows(IllegalArgumentException.class, () -> product.layer(65536, 65536));
        // One weight more than the largest layer it holds (its weights and a vector of padding in one Java array)
        // is refused before anything is allocated.
        int tooMany = Integer.MAX_VALUE - 16 - Species.L + 1;
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> product.layer(1, tooMany));
        assertEquals("a layer of 1 x " + tooMany + " weights does not fit one Java array", big.getMessage());
        DenseProduct.Layer layer = product.layer(3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layer.load(new float[11]));
        assertEquals("11 weights for a layer of 3 x 4", e.getMessage());
        IllegalStateException s = assertThrows(IllegalStateException.class,
                () -> layer.multiplyTransposed(new float[4], new float[3]));
        assertEquals("this layer was made by DenseProduct.layer; multiplying by W^T needs one made by trainingLayer",
                s.getMessage());
        IllegalStateException g = assertThrows(IllegalStateException.class,
                () -> layer.multiplyTransposedThroughRelu(new float[4], new float[3], new float[3]));
        assertEquals("this layer was made by DenseProduct.layer; multiplying by W^T needs one made by trainingLayer",
                g.getMessage());
    }
}
