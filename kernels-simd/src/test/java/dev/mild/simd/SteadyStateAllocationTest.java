package dev.mild.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.RandomBatch;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Once C2 has compiled it, a call allocates nothing (the kernel contract). This is easy to break without
 * noticing: a vector passed to a method that C2 did not inline is boxed on the heap, and the kernel then
 * allocates kilobytes per row and runs several times slower while every value stays right.
 *
 * <p>Each configuration is called until a round of calls allocates nothing, in a fresh JVM ({@link #main}), as
 * an embedder's service starts. Which calls C2 inlines depends on the order its compilations finish in, so on
 * timing; before no method of the kernel passed vectors, with both cores busy during warm-up one JVM in six got
 * stuck with a general member that boxed its vectors and stayed so (6 of 36 runs; the in-process check failed
 * once in CI). Hence two checks: {@link #noVectorCrossesAMethodBoundaryC2MayLeaveOutOfLine} takes the timing out
 * by keeping every method of the kernel out of line, and {@link #steadyStateCallsAllocateNothingInAFreshJvm}
 * runs the JVM as a service would, compiling in the background.
 */
class SteadyStateAllocationTest {

    /** A stuck state does not clear with time: past this, a configuration counts as allocating. */
    static final long WARM_UP_SECONDS = 20;

    @Test
    void steadyStateCallsAllocateNothingInAFreshJvm() throws IOException, InterruptedException {
        assumeCountable();
        String failure = checkInChild(List.of());
        assertEquals(null, failure, "the kernel still allocates after warm-up in a fresh JVM");
    }

    /**
     * The property that makes the kernel allocation-free whatever C2 decides: none of its methods passes a vector
     * to another, so with every method of the kernel kept out of line, as C2 keeps a call once a compile has
     * grown past its node budget, a call must still allocate nothing. Before the general member's double lanes
     * passed arrays, this failed at its first configuration in every run (0.7 KB a row at p = 2, 14 KB at p =
     * 40), which is the state some JVMs got stuck in under load; with the exp loop calling a vector exp2, at the
     * first configuration too.
     */
    @Test
    void noVectorCrossesAMethodBoundaryC2MayLeaveOutOfLine() throws IOException, InterruptedException {
        assumeCountable();
        String failure = checkInChild(List.of("-Xbatch", "-XX:CompileCommand=quiet",
                "-XX:CompileCommand=dontinline,dev.mild.simd.*::*"));
        assertEquals(null, failure, "a vector is boxed where C2 does not inline one of the kernel's methods");
    }

    /**
     * Runs at the CPU's own width and at a forced one (the child JVM gets the same width), except 128 bits on
     * x86: there the general member's double lanes have two lanes, and x86's C2 has no two-lane masks (its
     * smallest mask vector is 4 bytes), so every compare and blend of {@code DoubleVector}s allocates (measured:
     * 232 bytes a blend, about 4 KB a row). Only the tests force that width on x86; on aarch64 128 bits is NEON's
     * own, this check runs as the CPU's own width (whether C2 keeps two-lane masks in registers there is not
     * measured here: no such machine).
     */
    static void assumeCountable() {
        int bits = SimdKernelProvider.forcedBits();
        boolean x86 = System.getProperty("os.arch").matches("amd64|x86_64");
        assumeTrue(!(x86 && Species.D.length() == 2), "two-lane double masks are not intrinsified on x86 (" + bits
                + "-bit lanes forced)");
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported(), "this JVM does not count allocated bytes");
    }

    /** Runs {@link #main} in a fresh JVM with {@code jvmFlags}: null if every configuration got to 0 bytes, else what happened. */
    static String checkInChild(List<String> jvmFlags) throws IOException, InterruptedException {
        Child child = runChild(SteadyStateAllocationTest.class, jvmFlags, 12 * WARM_UP_SECONDS + 120);
        if (child.exit() == 0) {
            assertTrue(child.output().contains("every configuration: 0 bytes"), child.output());
            return null;
        }
        return (child.exit() > 0 ? ", exit " + child.exit() : ", timed out") + ":\n" + child.output();
    }

    /** What a child JVM printed, and its exit code (-1: killed after the time allowed). */
    record Child(int exit, String output) {
    }

    /**
     * Runs {@code main}'s {@code main(args)} in a fresh JVM with the module, this JVM's class path, forced width and
     * instruction-set limit, and {@code jvmFlags}.
     */
    static Child runChild(Class<?> main, List<String> jvmFlags, long seconds, String... args)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("child-jvm", ".txt");
        try {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector"));
            if (SimdKernelProvider.forcedBits() > 0) {
                cmd.add("-D" + SimdKernelProvider.BITS_PROPERTY + "=" + SimdKernelProvider.forcedBits());
            }
            // The instruction set this JVM was limited to (-XX:UseAVX=2 in the 256-bit run stands for an AVX2-only CPU).
            for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (flag.startsWith("-XX:UseAVX=") || flag.equals("-XX:+IgnoreUnrecognizedVMOptions")) {
                    cmd.add(flag);
                }
            }
            cmd.addAll(jvmFlags);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
            cmd.addAll(List.of(args));
            Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            boolean done = child.waitFor(seconds, TimeUnit.SECONDS);
            if (!done) {
                child.destroyForcibly();
            }
            return new Child(done ? child.exitValue() : -1, Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * The check in this JVM: every configuration called in rounds of 20 until a round allocates nothing, for at
     * most {@link #WARM_UP_SECONDS}; exits 1 at the first that does not get there.
     */
    public static void main(String[] args) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int rows = 4099; // a partial last block of rows, and a last row that ends the arrays
        // 2 and 8 through Transpose's shuffle network, 5 through its gathers (a scatter there allocated on AVX2), 40
        // with experts in lanes.
        for (int p : new int[] {2, 5, 8, 40}) {
            for (int v = 0; v < 4; v++) {
                // logsumexp with distinct and equal margins, nu = 0.5, nu = 1 with additive margins
                RandomBatch data = RandomBatch.of(p, rows, p, v == 1);
                double[] delta = new double[p];
                java.util.Arrays.fill(delta, 0.25);
                LossConfig config = switch (v) {
                    case 2 -> LossConfig.of(data.config().rho(), null, 0.5);
                    case 3 -> LossConfig.of(data.config().rho(), delta, 1.0);
                    default -> data.config();
                };
                float[] loss = new float[rows];
                float[] grad = new float[rows * p];
                try (SimdKernel k = new SimdKernel(KernelOptions.threads(1))) {
                    long deadline = System.nanoTime() + WARM_UP_SECONDS * 1_000_000_000L;
                    long bytes = Long.MAX_VALUE;
                    while (bytes > 0 && System.nanoTime() < deadline) {
                        long before = mx.getCurrentThreadAllocatedBytes();
                        for (int i = 0; i < 20; i++) {
                            k.lossAndGradient(config, rows, data.scores(), 0, data.weights(), 0, loss, 0, grad, 0);
                        }
                        bytes = mx.getCurrentThreadAllocatedBytes() - before;
                    }
                    if (bytes > 0) {
                        System.out.println("p=" + p + " " + config + ": 20 calls still allocate " + bytes + " bytes after "
                                + WARM_UP_SECONDS + " s of warm-up (layout " + k.layoutOf(config) + ")");
                        System.exit(1);
                    }
                    System.out.println("p=" + p + " variant " + v + ": 0 bytes (" + Species.describe() + ")");
                }
            }
        }
        // The router's dense product (DenseProduct "simd"): a Fashion-MNIST layer, a hidden one, a score layer.
        for (int[] shape : new int[][] {{784, 64}, {64, 64}, {64, 3}}) {
            SimdDenseLayer layer = new SimdDenseLayer(shape[0], shape[1], true);
            layer.load(new float[shape[0] * shape[1]]);
            float[] in = new float[shape[0]];
            float[] out = new float[shape[1]];
            float[][] batch = new float[7][shape[0]];
            float[][] outs = new float[7][shape[1]];
            long deadline = System.nanoTime() + WARM_UP_SECONDS * 1_000_000_000L;
            long bytes = Long.MAX_VALUE;
            while (bytes > 0 && System.nanoTime() < deadline) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 200; i++) {
                    layer.multiply(in, 0, out);
                }
                layer.multiplyRows(batch, 0, 7, outs); // four rows at a time, then three
                layer.multiplyTransposed(out, in);
                layer.multiplyTransposedThroughRelu(out, batch[0], in);
                bytes = mx.getCurrentThreadAllocatedBytes() - before;
            }
            if (bytes > 0) {
                System.out.println("dense layer " + shape[0] + " x " + shape[1] + ": 200 products still allocate " + bytes
                        + " bytes after " + WARM_UP_SECONDS + " s of warm-up");
                System.exit(1);
            }
            System.out.println("dense layer " + shape[0] + " x " + shape[1] + ": 0 bytes");
        }
        // Its weight gradient over a batch of 67 rows: a tile of four weight rows, single vectors, single outputs;
        // and a score layer's, whose outputs are fewer than a vector holds (weight rows as lanes).
        for (int[] shape : new int[][] {{7, 3 * Species.L + 3}, {64, 3}}) {
            int nIn = shape[0];
            int n = shape[1];
            float[][] in = new float[67][nIn];
            float[][] delta = new float[67][n];
            float[][] dw = new float[nIn][n];
            long deadline = System.nanoTime() + WARM_UP_SECONDS * 1_000_000_000L;
            long bytes = Long.MAX_VALUE;
            while (bytes > 0 && System.nanoTime() < deadline) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 200; i++) {
                    SimdOuterProduct.accumulate(in, delta, 67, dw, 0, nIn, n);
                }
                bytes = mx.getCurrentThreadAllocatedBytes() - before;
            }
            if (bytes > 0) {
                System.out.println("dense weight gradient " + nIn + " x " + n + ": 200 calls still allocate " + bytes
                        + " bytes after " + WARM_UP_SECONDS + " s of warm-up");
                System.exit(1);
            }
            System.out.println("dense weight gradient " + nIn + " x " + n + ": 0 bytes");
        }
        System.out.println("every configuration: 0 bytes");
    }
}
