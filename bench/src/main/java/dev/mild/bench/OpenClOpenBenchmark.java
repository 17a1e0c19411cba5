package dev.mild.bench;

import dev.mild.loss.KernelOptions;
import dev.mild.opencl.OpenClDevices;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One question: what does {@code OpenClLoss.open} (with its {@code close}) cost a program that opens losses
 * again and again, as a service may? {@code firstOpen}: the first of a JVM (one per fork; the devices are listed,
 * and JOCL loaded, before it). {@code laterOpen}: every one after the first two, with the program loaded from the
 * binary the second open kept ({@code programBinaries=true}, the default) or compiled from source every time
 * ({@code false}, as before 2026-12-02). On PoCL the compile finds its result in PoCL's disk cache
 * ({@code ~/.cache/pocl}) but still runs the front end; with a cold cache each source build takes about 1.5 s.
 *
 * <p>Needs an OpenCL device ({@code ./mild backends}). Run as {@code ./mild bench OpenClOpen} (the launcher
 * preloads libjsig, which the compiler inside the JVM needs; see README's OpenCL section).
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--enable-native-access=ALL-UNNAMED"})
public class OpenClOpenBenchmark {

    @Param({"true", "false"})
    public String programBinaries;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY, programBinaries);
        OpenClDevices.all(); // loads JOCL and the ICD loader, which are not the open's cost
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    @Fork(value = 10, jvmArgsPrepend = {"--enable-native-access=ALL-UNNAMED"})
    public void firstOpen() {
        OpenClLoss.open(KernelOptions.DEFAULT).close();
    }

    /** The warm-up's first two opens build from source (the second keeps the binary: see ProgramBinaries). */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @Warmup(iterations = 2, time = 1)
    @Measurement(iterations = 5, time = 1)
    public void laterOpen() {
        OpenClLoss.open(KernelOptions.DEFAULT).close();
    }
}

// How to run: ./mild bench OpenClOpen            (both methods, both settings: about 1.5 minutes)
//             ./mild bench 'OpenClOpenBenchmark.laterOpen' -p programBinaries=true -i 10
