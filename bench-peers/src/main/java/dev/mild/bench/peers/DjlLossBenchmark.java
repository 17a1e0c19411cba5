package dev.mild.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.mild.loss.LossConfig;
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

/**
 * The same loss forward+backward as {@link PyTorchLossBenchmark}, written with DJL's {@code NDArray} (DJL 0.36 on
 * its PyTorch engine, libtorch 2.7.1 through DJL's own JNI) the way a Java program that uses DJL would write it: the
 * same formulas and the same two candidates per case, on arrays kept resident between calls, each call's
 * intermediates freed by an {@link NDScope}. The set-up checks both candidates against the float64 reference and
 * measures the faster ({@link PeerSetUp}).
 *
 * <p>One thread: the engine's {@code ai.djl.pytorch.num_threads} and {@code num_interop_threads} properties, set
 * in the fork's flags, and {@code OMP_NUM_THREADS=1}, which {@code bench/peers.sh} exports. Offline: the native
 * library comes from the {@code pytorch-native-cpu} jar on the class path ({@code ai.djl.offline}); DJL unpacks it
 * once into its cache ({@code ~/.djl.ai}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1"})
public class DjlLossBenchmark {

    @Param({"8"})
    public int experts;

    @Param({"65536"})
    public int batch;

    @Param({"false"})
    public boolean equalRho;

    /** One way of computing {@code {rowLoss (B), grad (B x p)}}; called inside an NDScope. */
    private interface Formulation {
        NDArray[] compute();
    }

    private NDManager manager;
    // Resident between calls (made outside any NDScope, closed with the manager).
    private NDArray f;          // B x p scores
    private NDArray w;          // B x p weights
    private NDArray a;          // p inverse margins
    private NDArray aK11;       // p x 1 x 1 inverse margins, a_k along the first dimension
    private float[] aK;         // a_k
    private float equalA;       // the shared inverse margin when all are equal
    private float gradScale;    // a / B (equal margins) or 1 / B

    private Formulation chosen;

    @Setup(Level.Trial)
    public void setUp() {
        RandomBatch data = PeerSetUp.data(batch, experts, equalRho);
        LossConfig config = data.config();
        aK = new float[experts];
        for (int k = 0; k < experts; k++) {
            aK[k] = (float) config.inverseMargin(k);
        }
        boolean allEqual = config.groups() == 1;
        equalA = aK[0];
        gradScale = allEqual ? equalA / batch : 1f / batch;
        manager = NDManager.newBaseManager("PyTorch");
        f = manager.create(data.scores(), new Shape(batch, experts));
        w = manager.create(data.weights(), new Shape(batch, experts));
        a = manager.create(aK, new Shape(experts));
        aK11 = manager.create(aK, new Shape(experts, 1, 1));

        // The same candidates as PyTorchLossBenchmark (its comment says why each), those with the batch in the
        // lanes both on DJL's transposes as they come (strided views) and on row-major copies, as PyTorch's
        // contiguous() makes them: which is faster depends on p and the machine, so the set-up measures.
        String[] names;
        Formulation[] candidates;
        if (allEqual) {
            names = new String[] {"row-major B x p", "batch in lanes p x B, views", "batch in lanes p x B, copies"};
            candidates = new Formulation[] {this::equalRowMajor, () -> equalBatchInLanes(false),
                    () -> equalBatchInLanes(true)};
        } else {
            names = new String[] {"k x j x B array, views", "k x j x B array, copies", "loop over k on p x B, views",
                    "loop over k on p x B, copies"};
            candidates = new Formulation[] {() -> distinctBatched(false), () -> distinctBatched(true),
                    () -> distinctLoop(false), () -> distinctLoop(true)};
        }
        PeerSetUp.Expected expected = PeerSetUp.Expected.of(data);
        Runnable[] calls = new Runnable[candidates.length];
        for (int c = 0; c < candidates.length; c++) {
            try (NDScope scope = new NDScope()) {
                NDArray[] out = candidates[c].compute();
                PeerSetUp.check("DJL (" + names[c] + ")", expected, out[0].toFloatArray(), out[1].toFloatArray(), data);
            }
            Formulation candidate = candidates[c];
            calls[c] = () -> {
                try (NDScope scope = new NDScope()) {
                    candidate.compute();
                }
            };
        }
        chosen = candidates[PeerSetUp.faster("DjlLossBenchmark p=" + experts + (allEqual ? " equal" : " distinct")
                + " (" + manager.getEngine().getEngineName() + " " + manager.getEngine().getVersion() + ")", names, calls)];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    public double lossAndGradient() {
        try (NDScope scope = new NDScope()) {
            NDArray[] out = chosen.compute();
            // The mean loss, as our kernels return it (the engine is eager on the CPU).
            return out[0].sum().getFloat() / batch;
        }
    }

    /**
     * The view itself, or with {@code copy} the same array in row-major order, as PyTorch's {@code contiguous()}
     * makes it (DJL has no such call): flattening a strided view copies it, and the reshape is a view of the copy.
     */
    private static NDArray layout(NDArray view, boolean copy) {
        return copy ? view.flatten().reshape(view.getShape()) : view;
    }

    /** Equal margins, one softmax per row: loss = -sum_k w_k ls_k, grad = a (sum_k w_k * softmax - w) / B. */
    private NDArray[] equalRowMajor() {
        NDArray ls = (equalA == 1f ? f : f.mul(equalA)).logSoftmax(1);      // B x p
        NDArray loss = ls.mul(w).sum(new int[] {1}).negi();
        NDArray wSum = w.sum(new int[] {1}, true);
        NDArray grad = ls.exp().muli(wSum).subi(w).muli(gradScale);
        return new NDArray[] {loss, grad};
    }

    /** The same with the batch along the softmax's lanes (p x B). */
    private NDArray[] equalBatchInLanes(boolean copy) {
        NDArray ft = layout(f.transpose(), copy);
        NDArray wt = layout(w.transpose(), copy);
        NDArray ls = (equalA == 1f ? ft : ft.mul(equalA)).logSoftmax(0);    // p x B
        NDArray loss = ls.mul(wt).sum(new int[] {0}).negi();
        NDArray wSum = wt.sum(new int[] {0}, true);
        NDArray grad = ls.exp().muli(wSum).subi(wt).muli(gradScale);
        return new NDArray[] {loss, layout(grad.transpose(), copy)};
    }

    /**
     * Distinct margins, all p softmaxes at once: ls[k, j, i] = log_softmax_j(a_k f_ij);
     * loss_i = -sum_k w_ik ls[k, k, i]; grad_ij = (sum_k w_ik a_k exp(ls[k, j, i]) - w_ij a_j) / B.
     */
    private NDArray[] distinctBatched(boolean copy) {
        NDArray ft = layout(f.transpose(), copy);                             // j x B
        NDArray wa = layout(w.mul(a).transpose(), copy);                      // k x B: w_ik a_k
        NDArray ls = ft.expandDims(0).mul(aK11).logSoftmax(1);               // k x j x B
        NDArray loss = ls.diagonal(0, 0, 1).mul(w).sum(new int[] {1}).negi(); // diagonal: B x k
        NDArray grad = ls.exp().muli(wa.expandDims(1)).sum(new int[] {0}).subi(wa).muli(gradScale);
        return new NDArray[] {loss, layout(grad.transpose(), copy)};
    }

    /** Distinct margins, one p x B softmax per expert k. */
    private NDArray[] distinctLoop(boolean copy) {
        NDArray ft = layout(f.transpose(), copy);                             // j x B
        NDArray wa = layout(w.mul(a).transpose(), copy);                      // k x B: w_ik a_k
        NDArray grad = wa.neg();
        NDArray loss = null;
        for (int k = 0; k < experts; k++) {
            NDArray ls = ft.mul(aK[k]).logSoftmax(0);                        // j x B
            NDArray term = ls.get(k).mul(w.get(":, " + k));                  // w_ik ls[k, i]
            loss = loss == null ? term.neg() : loss.subi(term);
            grad.addi(ls.exp().muli(wa.get(k).expandDims(0)));
        }
        grad.muli(gradScale);
        return new NDArray[] {loss, layout(grad.transpose(), copy)};
    }
}
