package dev.mild.bench;

import dev.mild.router.DenseProduct;
import dev.mild.router.Mlp;
import dev.mild.router.Router;
import dev.mild.router.Standardizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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
 * One question: how long does routing one query take with a trained-size router ({@code d} features, one
 * hidden layer of {@code hidden} ReLU units, {@code experts} scores)? {@code d = 186} is the MMLU data,
 * {@code d = 784} Fashion-MNIST.
 *
 * <ul>
 *   <li>{@code route}: {@link Router#route(float[])}, the service call (per-thread scratch from a ThreadLocal);</li>
 *   <li>{@code routeOwnScratch}: the overload with caller-owned scratch (no ThreadLocal lookup);</li>
 *   <li>{@code routeBatch16}: {@link Router#routeBatch} of 16 rows (divide by 16 for a row), which takes four rows
 *       at a time through the network;</li>
 *   <li>each with each {@link DenseProduct} ({@code dense}): on vector lanes, and plain Java.</li>
 * </ul>
 * {@link DotProductLayoutBenchmark} routes the same queries through the same network in the layout the Router
 * avoids; it has no {@code dense} parameter, so it is a class of its own (here it ran once per value of it).
 * Queries cycle through 1024 random rows so no single row stays hot in the branch predictor.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class RouterLatencyBenchmark {

    @Param({"186", "784"})
    public int d;

    @Param({"64"})
    public int hidden;

    @Param({"3"})
    public int experts;

    /** The router's {@link DenseProduct}: {@code simd} (the default where the Vector API is added) or {@code plain}. */
    @Param({"simd", "plain"})
    public String dense;

    static final int QUERIES = 1024;
    private static final int BATCH = 16;

    private float[][] batches;     // the queries again, 16 rows to a flat array, for routeBatch16
    private int nextBatch;
    private final int[] batchChoice = new int[BATCH];
    private float[] batchScores;

    private Router router;
    private Router.Scratch scratch;
    private float[][] queries;
    private float[] scores;
    private int next;

    /** A router of {@code d} features, {@code hidden} units and {@code experts} scores, the same for every benchmark. */
    record Fixture(Mlp net, Standardizer std, List<String> names, float[][] queries) {
        static Fixture make(int d, int hidden, int experts) {
            SplittableRandom rnd = new SplittableRandom(42);
            Mlp net = Mlp.initialized(new int[] {d, hidden, experts}, 7);
            for (int l = 0; l < net.layers(); l++) {
                float[] b = net.biases(l);
                for (int j = 0; j < b.length; j++) {
                    b[j] = (float) (0.1 * rnd.nextGaussian());
                }
            }
            float[] m = new float[d];
            float[] s = new float[d];
            for (int c = 0; c < d; c++) {
                m[c] = (float) rnd.nextGaussian();
                s[c] = (float) (0.5 + rnd.nextDouble());
            }
            List<String> names = new ArrayList<>();
            for (int k = 0; k < experts; k++) {
                names.add("e" + k);
            }
            float[][] queries = new float[QUERIES][d];
            for (float[] q : queries) {
                for (int c = 0; c < d; c++) {
                    q[c] = (float) (m[c] + s[c] * rnd.nextGaussian());
                }
            }
            return new Fixture(net, new Standardizer(m, s), names, queries);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        Fixture f = Fixture.make(d, hidden, experts);
        router = new Router(f.std(), f.net(), f.names(), DenseProduct.named(dense));
        scratch = router.newScratch();
        scores = new float[experts];
        queries = f.queries();
        batches = new float[QUERIES / BATCH][BATCH * d];
        for (int q = 0; q < QUERIES; q++) {
            System.arraycopy(queries[q], 0, batches[q / BATCH], (q % BATCH) * d, d);
        }
        batchScores = new float[BATCH * experts];
    }

    private float[] nextQuery() {
        float[] q = queries[next];
        next = (next + 1) & (QUERIES - 1);
        return q;
    }

    @Benchmark
    public int route() {
        return router.route(nextQuery());
    }

    @Benchmark
    public int routeOwnScratch() {
        return router.route(nextQuery(), scores, scratch);
    }

    /** {@link Router#routeBatch} over 16 rows (one op; divide by 16 for a row): four rows at a time through the network. */
    @Benchmark
    public int routeBatch16() {
        float[] batch = batches[nextBatch];
        nextBatch = (nextBatch + 1) % batches.length;
        router.routeBatch(batch, BATCH, batchChoice, batchScores, scratch);
        return batchChoice[0];
    }
}

// How to run (./mild bench builds bench/target/benchmarks.jar):
//   ./mild bench RouterLatency                      (d = 186 and 784, ns per query)
//   ./mild bench RouterLatency -p d=784 -prof gc    (gc.alloc.rate.norm shows 0 bytes per call)
