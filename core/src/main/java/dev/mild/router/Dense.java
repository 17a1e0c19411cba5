package dev.mild.router;

/**
 * The dense products of an MLP on <em>row arrays</em> ({@code float[rows][cols]}): the forward product
 * {@code z = a W} and the weight gradient {@code dW += a^T delta}, written so that C2 compiles their inner loops
 * to SIMD multiply-adds.
 *
 * <p>Why row arrays and not one flat row-major array: the inner loop of both products is an axpy,
 * {@code y[j] += s * w[j]} over a row of 64 or so outputs. When {@code y} and {@code w} are addressed with the
 * same index {@code j}, the JIT vectorizes it even though it cannot prove the two arrays distinct (an
 * iteration only touches index {@code j}). With a flat matrix the row is {@code w[off + j]}; if {@code y} and
 * {@code w} were the same array that would be a loop-carried dependence, so C2 (JDK 25) keeps the loop scalar.
 * Measured on this project's machine (AVX-512, d = 784, 64 outputs, one row): flat 36 us, row arrays 11 us,
 * row arrays with four input rows per pass 6.4 us; EJML's {@code mult} (flat, offsets) ran at the flat speed.
 *
 * <p>Four rows of {@code W} per pass ({@code y[j] += a0 w0[j] + a1 w1[j] + a2 w2[j] + a3 w3[j]}) cut the loads
 * and stores of {@code y} by four. The summation order is fixed (blocks of four in input order, left to
 * right), so results are deterministic. {@link #multiply}'s order is the one every {@link DenseProduct} keeps
 * (this is {@link DenseProduct#plain()}), so the router and the trainer compute bit-identical scores whichever
 * product runs.
 */
public final class Dense {
    private Dense() {
    }

    /**
     * {@code acc[j] = sum_c a[aOff + c] * w[c][j]} for {@code j < n} (overwrites {@code acc}).
     *
     * @param a    input values, {@code nIn} of them from {@code aOff}. Not modified.
     * @param aOff the index in {@code a} of the first input
     * @param nIn  the number of inputs (rows of {@code w} used)
     * @param w    {@code nIn} rows of at least {@code n} weights. Not modified.
     * @param acc  at least {@code n}. Modified.
     * @param n    the number of outputs
     */
    public static void multiply(float[] a, int aOff, int nIn, float[][] w, float[] acc, int n) {
        for (int j = 0; j < n; j++) {
            acc[j] = 0f;
        }
        int c = 0;
        for (; c + 4 <= nIn; c += 4) {
            float a0 = a[aOff + c];
            float a1 = a[aOff + c + 1];
            float a2 = a[aOff + c + 2];
            float a3 = a[aOff + c + 3];
            float[] w0 = w[c];
            float[] w1 = w[c + 1];
            float[] w2 = w[c + 2];
            float[] w3 = w[c + 3];
            for (int j = 0; j < n; j++) {
                acc[j] += a0 * w0[j] + a1 * w1[j] + a2 * w2[j] + a3 * w3[j];
            }
        }
        for (; c < nIn; c++) {
            float a0 = a[aOff + c];
            float[] w0 = w[c];
            for (int j = 0; j < n; j++) {
                acc[j] += a0 * w0[j];
            }
        }
    }

    /**
     * {@code dw[c][j] += sum_{r < rows} in[r][c] * delta[r][j]} for {@code c0 <= c < c1}, {@code j < n}: the
     * weight gradient of a layer, accumulated over a batch. Each {@code dw} row is summed over the batch rows in
     * order (four at a time), independently of other rows, so splitting {@code [c0, c1)} between threads gives
     * the same result.
     *
     * @param in    {@code rows} rows of the layer's input, at least {@code c1} each. Not modified.
     * @param delta {@code rows} rows of {@code dLoss/dz}, at least {@code n} each. Not modified.
     * @param rows  the number of batch rows
     * @param dw    the gradient rows, one per input, at least {@code n} each. Rows {@code c0 .. c1-1} modified.
     * @param c0    the first gradient row (input index) to accumulate
     * @param c1    one past the last gradient row to accumulate
     * @param n     the number of outputs (columns of {@code delta} and {@code dw})
     */
    public static void accumulateOuter(float[][] in, float[][] delta, int rows, float[][] dw, int c0, int c1, int n) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            float[] i0 = in[r];
            float[] i1 = in[r + 1];
            float[] i2 = in[r + 2];
            float[] i3 = in[r + 3];
            float[] d0 = delta[r];
            float[] d1 = delta[r + 1];
            float[] d2 = delta[r + 2];
            float[] d3 = delta[r + 3];
            for (int c = c0; c < c1; c++) {
                float x0 = i0[c];
                float x1 = i1[c];
                float x2 = i2[c];
                float x3 = i3[c];
                float[] g = dw[c];
                for (int j = 0; j < n; j++) {
                    g[j] += x0 * d0[j] + x1 * d1[j] + x2 * d2[j] + x3 * d3[j];
                }
            }
        }
        for (; r < rows; r++) {
            float[] i0 = in[r];
            float[] d0 = delta[r];
            for (int c = c0; c < c1; c++) {
                float x0 = i0[c];
                float[] g = dw[c];
                for (int j = 0; j < n; j++) {
                    g[j] += x0 * d0[j];
                }
            }
        }
    }

    /**
     * {@code out[c] = sum_j delta[j] * w[c][j]} for {@code c < nIn}, {@code j < n}: the gradient passed to the layer
     * below.
     *
     * @param delta the layer's {@code dLoss/dz}, at least {@code n}. Not modified.
     * @param n     the number of outputs
     * @param w     {@code nIn} rows of at least {@code n} weights. Not modified.
     * @param nIn   the number of inputs
     * @param out   at least {@code nIn}. Modified.
     */
    public static void multiplyTransposed(float[] delta, int n, float[][] w, int nIn, float[] out) {
        multiplyTransposed(delta, n, w, nIn, null, out);
    }

    /**
     * {@link #multiplyTransposed(float[], int, float[][], int, float[])} through a ReLU:
     * {@code out[c] = z[c] > 0 ? sum_j delta[j] * w[c][j] : 0}.
     *
     * @param delta the layer's {@code dLoss/dz}, at least {@code n}. Not modified.
     * @param n     the number of outputs
     * @param w     {@code nIn} rows of at least {@code n} weights. Not modified.
     * @param nIn   the number of inputs
     * @param z     the layer below's values, at least {@code nIn}, whose sign gates each entry; null for no ReLU.
     *              Not modified.
     * @param out   at least {@code nIn}. Modified.
     */
    public static void multiplyTransposed(float[] delta, int n, float[][] w, int nIn, float[] z, float[] out) {
        for (int c = 0; c < nIn; c++) {
            float[] wc = w[c];
            float s = 0f;
            for (int j = 0; j < n; j++) {
                s += delta[j] * wc[j];
            }
            out[c] = z == null || z[c] > 0f ? s : 0f;
        }
    }

    /**
     * Rows of a flat row-major {@code rows x cols} matrix, copied.
     *
     * @param flat the matrix, row-major {@code [rows][cols]}. Not modified.
     * @param rows the number of rows to copy
     * @param cols the number of columns
     * @return a new {@code float[rows][cols]}
     */
    public static float[][] rows(float[] flat, int rows, int cols) {
        float[][] r = new float[rows][cols];
        copyIn(flat, r, rows, cols);
        return r;
    }

    /**
     * Copies the first {@code n} rows of a flat row-major matrix into row arrays.
     *
     * @param flat the matrix, row-major {@code [n][cols]} at least. Not modified.
     * @param rows at least {@code n} rows of at least {@code cols} each. Modified.
     * @param n    the number of rows to copy
     * @param cols the number of columns
     */
    public static void copyIn(float[] flat, float[][] rows, int n, int cols) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * cols, rows[i], 0, cols);
        }
    }

    /**
     * Copies the first {@code n} row arrays into a flat row-major matrix.
     *
     * @param rows at least {@code n} rows of at least {@code cols} each. Not modified.
     * @param n    the number of rows to copy
     * @param cols the number of columns
     * @param flat at least {@code n * cols} elements. Modified.
     */
    public static void copyOut(float[][] rows, int n, int cols, float[] flat) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(rows[i], 0, flat, i * cols, cols);
        }
    }
}
