package dev.mild.bench;

import dev.mild.router.Dense;
import dev.mild.router.DenseProduct;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One question: how fast is the trainer's batch forward product {@code Z = X W} ({@code batch x d} times
 * {@code d x hidden}) with the router's row-array kernel ({@link Dense#multiply}) against EJML's
 * {@code CommonOps_FDRM.mult} on flat row-major matrices, and with the vector dense product ({@code denseSimd},
 * {@link DenseProduct} "simd", what the trainer's forward pass runs where the Vector API is added)? Single thread,
 * microseconds per batch; the multiply-adds per batch are {@code batch x d x hidden}. This measurement is why
 * the trainer uses {@link Dense} rather than EJML (see that class's comment). {@code gradientRows} and
 * {@code gradientSimd}: the backward pass's weight gradient {@code X^T D} ({@code d x hidden} over the batch),
 * plain and simd.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DenseProductBenchmark {

    @Param({"186", "784"})
    public int d;

    @Param({"64"})
    public int hidden;

    @Param({"1024"})
    public int batch;

    private FMatrixRMaj x;
    private FMatrixRMaj w;
    private FMatrixRMaj z;
    private float[][] wRows;
    private float[][] zRows;
    private DenseProduct.Layer simd;
    private DenseProduct simdProduct;
    private float[][] xRows;
    private float[][] gradRows;

    @Setup(Level.Trial)
    public void setUp() {
        BenchParams.rows("batch", batch);
        SplittableRandom rnd = new SplittableRandom(3);
        x = new FMatrixRMaj(batch, d);
        w = new FMatrixRMaj(d, hidden);
        z = new FMatrixRMaj(batch, hidden);
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < w.data.length; i++) {
            w.data[i] = (float) rnd.nextGaussian();
        }
        wRows = Dense.rows(w.data, d, hidden);
        zRows = new float[batch][hidden];
        simdProduct = DenseProduct.named("simd");
        simd = simdProduct.layer(d, hidden);
        xRows = Dense.rows(x.data, batch, d);
        gradRows = new float[d][hidden];
        for (float[] zr : zRows) { // a delta for the gradient benchmarks (the forward ones overwrite it alike)
            for (int j = 0; j < hidden; j++) {
                zr[j] = (float) rnd.nextGaussian();
            }
        }
        simd.load(w.data);
    }

    @Benchmark
    public float ejmlMult() {
        CommonOps_FDRM.mult(x, w, z);
        return z.data[0];
    }

    @Benchmark
    public float denseRows() {
        for (int r = 0; r < batch; r++) {
            Dense.multiply(x.data, r * d, d, wRows, zRows[r], hidden);
        }
        return zRows[0][0];
    }

    /** The trainer's weight gradient {@code dW = X^T D} ({@code d x hidden}), plain: {@link Dense#accumulateOuter}. */
    @Benchmark
    public float gradientRows() {
        for (float[] g : gradRows) {
            java.util.Arrays.fill(g, 0f);
        }
        Dense.accumulateOuter(xRows, zRows, batch, gradRows, 0, d, hidden);
        return gradRows[0][0];
    }

    /** The same with the vector dense product ({@link DenseProduct#accumulateOuter}, same bits). */
    @Benchmark
    public float gradientSimd() {
        for (float[] g : gradRows) {
            java.util.Arrays.fill(g, 0f);
        }
        simdProduct.accumulateOuter(xRows, zRows, batch, gradRows, 0, d, hidden);
        return gradRows[0][0];
    }

    /** The same batch through {@link DenseProduct.Layer#multiplyRows} (four rows per weight load), as the trainer runs it. */
    @Benchmark
    public float denseSimdRows() {
        simd.multiplyRows(xRows, 0, batch, zRows);
        return zRows[0][0];
    }

    /** The vector dense product row by row, as the router runs it where the Vector API is added. */
    @Benchmark
    public float denseSimd() {
        for (int r = 0; r < batch; r++) {
            simd.multiply(x.data, r * d, zRows[r]);
        }
        return zRows[0][0];
    }
}

// How to run (./mild bench builds bench/target/benchmarks.jar):
//   ./mild bench DenseProduct           (microseconds per 1024-row batch; lower is better)
