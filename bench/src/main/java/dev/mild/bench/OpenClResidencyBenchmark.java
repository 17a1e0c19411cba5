package dev.mild.bench;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.RandomBatch;
import dev.mild.opencl.DeviceBuffer;
import dev.mild.opencl.OpenClKernel;
import dev.mild.opencl.OpenClLoss;
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

/**
 * One question: what do the host-device copies cost the opencl backend? The same loss + gradient on the same
 * device, once through the host-array {@code LossKernel} (scores and weights copied in, row losses and
 * gradient copied out on every call) and once on data already in {@link DeviceBuffer}s (only the loss
 * partials come back). On a CPU device (PoCL) the copies are memcpy; on a discrete GPU they cross PCIe.
 *
 * <p>The score is calls per second; multiply by {@code batch} for rows per second. Needs an OpenCL device
 * ({@code ./mild backends}); {@code -Dmild.opencl.device=...} in {@code -jvmArgsAppend} picks one.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--enable-native-access=ALL-UNNAMED"})
public class OpenClResidencyBenchmark {

    @Param({"8"})
    public int experts;

    @Param({"65536"})
    public int batch;

    @Param({"false", "true"})
    public boolean equalRho;

    private OpenClKernel kernel;
    private OpenClLoss device;
    private RandomBatch data;
    private float[] rowLoss;
    private float[] grad;
    private DeviceBuffer scoresOnDevice;
    private DeviceBuffer weightsOnDevice;
    private DeviceBuffer rowLossOnDevice;
    private DeviceBuffer gradOnDevice;

    @Setup(Level.Trial)
    public void setUp() {
        BenchParams.rows("batch", batch);
        kernel = new OpenClKernel(KernelOptions.DEFAULT);
        device = kernel.deviceLoss();
        data = RandomBatch.of(42, batch, experts, equalRho);
        rowLoss = new float[batch];
        grad = new float[batch * experts];
        long n = (long) batch * experts;
        scoresOnDevice = device.allocate(n, "scores");
        weightsOnDevice = device.allocate(n, "weights");
        rowLossOnDevice = device.allocate(batch, "row loss");
        gradOnDevice = device.allocate(n, "gradient");
        scoresOnDevice.write(data.scores());
        weightsOnDevice.write(data.weights());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernel.close(); // releases the device buffers too
    }

    @Benchmark
    public double hostArrays() {
        return kernel.lossAndGradient(data.config(), batch, data.scores(), 0, data.weights(), 0, rowLoss, 0, grad, 0);
    }

    @Benchmark
    public double deviceResident() {
        return device.lossAndGradient(data.config(), batch, scoresOnDevice, 0, weightsOnDevice, 0, rowLossOnDevice, 0,
                gradOnDevice, 0);
    }
}

// How to run (after ./mild bench builds bench/target/benchmarks.jar):
//   ./mild bench OpenClResidency -p experts=8,32 -p batch=65536
// PoCL uses every core by default; POCL_MAX_PTHREAD_COUNT=1 in the environment pins it to one thread.
