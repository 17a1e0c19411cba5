package dev.mild.bench;

import java.util.concurrent.TimeUnit;
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
 * The layout {@link dev.mild.router.Router} avoids, for {@link RouterLatencyBenchmark}'s network and queries: the
 * first layer stored output-major and computed as {@code h_j = sum_c x_c W[j, c]}, one reduction per hidden unit
 * (a chain of dependent adds each, which C2 keeps scalar). Run it with {@code RouterLatency} so the ratio is
 * measured side by side: {@code ./mild bench 'RouterLatency|DotProductLayout'}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DotProductLayoutBenchmark {

    @Param({"186", "784"})
    public int d;

    @Param({"64"})
    public int hidden;

    @Param({"3"})
    public int experts;

    private float[][] queries;
    private int next;
    private float[] mean;
    private float[] scale;
    private float[] w1t;      // W1 transposed: hidden x d
    private float[] b1;
    private float[] w2;
    private float[] b2;
    private float[] h;
    private float[] xs;

    @Setup(Level.Trial)
    public void setUp() {
        RouterLatencyBenchmark.Fixture f = RouterLatencyBenchmark.Fixture.make(d, hidden, experts);
        queries = f.queries();
        mean = f.std().mean();
        scale = f.std().scale();
        w1t = new float[hidden * d];
        float[] w1 = f.net().weights(0);
        for (int c = 0; c < d; c++) {
            for (int j = 0; j < hidden; j++) {
                w1t[j * d + c] = w1[c * hidden + j];
            }
        }
        b1 = f.net().biases(0).clone();
        w2 = f.net().weights(1).clone();
        b2 = f.net().biases(1).clone();
        h = new float[hidden];
        xs = new float[d];
    }

    @Benchmark
    public int dotProductLayout() {
        float[] x = queries[next];
        next = (next + 1) & (RouterLatencyBenchmark.QUERIES - 1);
        for (int c = 0; c < d; c++) {
            xs[c] = (x[c] - mean[c]) * scale[c];
        }
        for (int j = 0; j < hidden; j++) {
            float sum = 0f;
            int row = j * d;
            for (int c = 0; c < d; c++) {
                sum += xs[c] * w1t[row + c];
            }
            h[j] = Math.max(sum + b1[j], 0f);
        }
        int best = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < experts; k++) {
            float sc = b2[k];
            for (int j = 0; j < hidden; j++) {
                sc += h[j] * w2[j * experts + k];
            }
            if (sc >= max) {
                max = sc;
                best = k;
            }
        }
        return best;
    }
}
