package dev.mild.bench;

import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.RandomBatch;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * One question: how many rows per second does each backend push through the loss forward+backward pass,
 * on one thread, for a given number of experts, with distinct or equal margins (and, with {@code -p nu=0.5},
 * for the general member of the family instead of MILD's logsumexp)?
 *
 * <p>The score is operations (calls) per second; multiply by {@code batch} for rows per second (the report
 * script does). Forks stay on so backends do not share JIT profiles. One thread means the kernel's own threads:
 * with {@code -p backend=opencl} PoCL still runs a work-group per core unless {@code POCL_MAX_PTHREAD_COUNT=1} is
 * set in the environment (as {@code OpenClResidencyBenchmark} says).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LossThroughputBenchmark {

    @Param({"scalar"})
    public String backend;

    @Param({"8"})
    public int experts;

    @Param({"65536"})
    public int batch;

    @Param({"false"})
    public boolean equalRho;

    /** 1: MILD's logsumexp member; another value: the comp-sum member of that exponent (the general path). */
    @Param({"1"})
    public double nu;

    private LossKernel kernel;
    private RandomBatch data;
    private float[] rowLoss;
    private float[] grad;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        BenchParams.rows("batch", batch);
        String warning = backend.equals("simd") ? BenchParams.shortWarmUp(params) : null;
        if (warning != null) {
            System.err.println(warning);
        }
        kernel = Backends.open(backend, KernelOptions.threads(1));
        data = RandomBatch.of(42, batch, experts, equalRho, nu);
        rowLoss = new float[batch];
        grad = new float[batch * experts];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernel.close();
    }

    @Benchmark
    public double lossAndGradient() {
        return kernel.lossAndGradient(data.config(), batch, data.scores(), 0, data.weights(), 0, rowLoss, 0, grad, 0);
    }
}

// How to run (after ./mild bench builds bench/target/benchmarks.jar):
//   JDK25/bin/java -jar bench/target/benchmarks.jar LossThroughput -p backend=scalar,simd -p experts=2,8,32
