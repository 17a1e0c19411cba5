package dev.mild.bench;

import dev.mild.simd.SimdRoofline;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One question: how many exps (and logs) per second does the SIMD kernel's own exp loop reach on one thread?
 * That is the roofline for the loss: a row of the MILD loss costs p exps per distinct margin, so
 * {@code exps/s / (p * groups)} rows/s is the most any kernel built on this exp could do. Run it in the same
 * JMH run as {@link LossThroughputBenchmark} (bench/report.sh does): the same build and JVM flags, though not the
 * same moment (JMH runs one benchmark's forks after another's, minutes apart), so read a fraction of it as about
 * +-5 points.
 *
 * <p>The score is calls per second; each call is {@value #ELEMENTS} exps (or logs). Inputs are what the
 * kernel sees: {@code d = f - m <= 0} scaled by {@code a log2 e}, and {@code zRest >= 0}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 6, time = 1)
@Measurement(iterations = 5, time = 1)
// Six warm-up seconds: with three, two of the three forks of the 2026-12-01 15:45 run still rose by 20-30% over
// their measured iterations (1.65 to 2.16 million calls/s), which the median only just hid. Three forks: the
// rate moves by up to 15% from one JVM to the next (4.28e9 to 4.84e9 exps/s in four forks of one run on the
// Xeon), and the report divides by it.
@Fork(value = 3, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ExpRooflineBenchmark {

    /** Elements per call: 16 KiB of inputs, resident in L1 like the kernel's working set. */
    public static final int ELEMENTS = 4096;

    private float[] d;
    private float[] z;
    private float[] out;
    private float[] inverse;
    private float[] sum;
    /** log2 e, in the one-element array the kernel's exp loop reads its scale from (its plan holds one). */
    private final float[] scale = {1.4426950f};

    @Setup
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(42);
        d = new float[ELEMENTS];
        z = new float[ELEMENTS];
        out = new float[ELEMENTS];
        inverse = new float[ELEMENTS];
        sum = new float[SimdRoofline.blockLength()];
        for (int i = 0; i < ELEMENTS; i++) {
            d[i] = (float) (-6.0 * Math.abs(rnd.nextGaussian())); // scores of N(0, 2^2) minus the row maximum
            z[i] = (float) (8.0 * rnd.nextDouble());              // zRest of a row of up to 9 experts
        }
    }

    // Not inlined into JMH's loop: C2 compiles Vector API code into SIMD instructions only while a method's
    // graph stays under its inlining budget, and the kernel's own loops sit in small methods too.
    @Benchmark
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    public float exp() {
        return SimdRoofline.exp2(d, out, scale, sum);
    }

    /**
     * The same exps in calls of 8 vectors (4 loop iterations): not the roofline, but how much of it short loops
     * keep. Shorter than the kernel's calls: at p = 8 with distinct margins the kernel skips the top expert's exp
     * and takes a whole batch of groups per call ({@code VectorMath.exp2Groups}: 4 pairs of groups, 7 iterations
     * each).
     */
    @Benchmark
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    public float expInGroupCalls() {
        return SimdRoofline.exp2InCalls(d, out, scale, sum, 4 * SimdRoofline.blockLength());
    }

    @Benchmark
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    public float log() {
        return SimdRoofline.log1p(z, out, inverse);
    }

    /** The Vector API's own EXP lanes in the same loop (SVML on x86): what the kernel's exp was chosen against. */
    @Benchmark
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    public float vectorApiExp() {
        return SimdRoofline.vectorApiExp(d, out, 1.4426950f, sum);
    }

    @Benchmark
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    public float vectorApiLog() {
        return SimdRoofline.vectorApiLog1p(z, out);
    }
}

// How to run (after ./mild bench builds bench/target/benchmarks.jar): bench/report.sh runs it together with
// LossThroughputBenchmark and prints the table; alone: ./mild bench ExpRoofline
