package dev.mild.bench.peers;

import static org.bytedeco.pytorch.global.torch.log_softmax;

import dev.mild.loss.LossConfig;
import dev.mild.loss.RandomBatch;
import dev.mild.loss.Tolerance;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
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
 * The peer of {@code LossThroughputBenchmark}: the same loss forward+backward (MILD's logsumexp member,
 * {@code nu = 1}, {@code delta = 0}) on the same data, computed by PyTorch (bytedeco) with tensor ops on one
 * thread, on tensors kept resident between calls.
 *
 * <pre>
 *   loss_i       = sum_k w_ik (logsumexp_j(a_k f_ij) - a_k f_ik) = -sum_k w_ik log_softmax(a_k f_i)_k
 *   dmean/df_ij  = (1/B) sum_k w_ik a_k (softmax(a_k f_i)_j - [j = k])
 * </pre>
 * Equal margins collapse to one softmax per row; distinct margins cost p softmaxes per row. Each case has two
 * candidate formulations (explicit tensor formulas, which beat autograd here); the set-up checks both, times
 * them in alternating rounds and measures the faster (see the comment in {@link #setUp}), printing its choice.
 *
 * <p>The score is calls per second; times {@code batch} it is rows per second ({@code PeersReport} does it).
 * Before measuring, the set-up checks PyTorch's per-row losses and gradient against the float64
 * {@link dev.mild.loss.ReferenceKernel} on the whole benchmark batch and throws beyond {@link Tolerance#FLOAT32}: only equal
 * computations are compared.
 *
 * <p>One thread: {@code torch.set_num_threads(1)} and {@code set_num_interop_threads(1)} here, and
 * {@code OMP_NUM_THREADS=1} in the environment. JMH cannot set a fork's environment, but a fork inherits
 * the launching process's, so {@code bench/peers.sh} exports it before starting JMH.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        // JavaCPP reaches sun.misc.Unsafe; every tensor of a call is freed by the PointerScope, so JavaCPP's
        // GC-driven deallocator thread is not needed.
        "--sun-misc-unsafe-memory-access=allow", "-Dorg.bytedeco.javacpp.nopointergc=true"})
public class PyTorchLossBenchmark {

    @Param({"8"})
    public int experts;

    @Param({"65536"})
    public int batch;

    @Param({"false"})
    public boolean equalRho;

    /** One way of computing {@code {rowLoss (B), grad (B x p)}}; called inside a PointerScope. */
    private interface Formulation {
        Tensor[] compute();
    }

    // Resident between calls (allocated outside any PointerScope, released in tearDown).
    private Tensor f;          // B x p scores
    private Tensor w;          // B x p weights
    private Tensor a;          // p inverse margins
    private Tensor aK11;       // p x 1 x 1 inverse margins, a_k along the first dimension
    private double equalA;     // the shared inverse margin when all are equal
    private Scalar sharedA;
    private Scalar gradScale;  // a / B (equal margins) or 1 / B
    private Scalar[] aScalar;  // a_k
    private final long[] dim0 = {0};
    private final long[] dim1 = {1};
    private ScalarTypeOptional sameType;

    private Formulation chosen;

    @Setup(Level.Trial)
    public void setUp() {
        torch.set_num_threads(1);
        try {
            torch.set_num_interop_threads(1);
        } catch (RuntimeException alreadySet) {
            // PyTorch allows it once per process, before any inter-op work; a fork runs one trial anyway.
        }
        RandomBatch data = PeerSetUp.data(batch, experts, equalRho);
        LossConfig config = data.config();
        aScalar = new Scalar[experts];
        float[] invF = new float[experts];
        for (int k = 0; k < experts; k++) {
            aScalar[k] = new Scalar(config.inverseMargin(k));
            invF[k] = (float) config.inverseMargin(k);
        }
        boolean allEqual = config.groups() == 1;
        equalA = config.inverseMargin(0);
        f = AbstractTensor.create(data.scores(), batch, experts);
        w = AbstractTensor.create(data.weights(), batch, experts);
        a = AbstractTensor.create(invF, experts);
        aK11 = AbstractTensor.create(invF, experts, 1, 1);
        sharedA = new Scalar(equalA);
        gradScale = new Scalar(allEqual ? equalA / batch : 1.0 / batch);
        sameType = new ScalarTypeOptional();

        // Which layout is faster depends on p and on the machine's vector width: PyTorch's CPU softmax runs
        // its lanes along the softmax dimension when that dimension is the last one (row-major B x p: lanes
        // idle when p is below a vector) and along the inner dimension otherwise (p x B: the batch fills the
        // lanes, at the cost of two transposes per call). Tried on an AVX-512 machine, B = 65536, ops/s:
        //   equal margins,    p = 2 / 8 / 32:  row-major 434 / 110 / 167,  batch in lanes 867 / 326 / 56
        //   distinct margins, p = 4 / 8 / 16 / 32:  k x j x B tensor 265 / 76 / 9.5 / 1.8,
        //                                           loop over k on p x B 227 / 63 / 16.5 / 3.3
        //   (row-major for distinct margins was slower throughout: B x p x p tensor 146 / 9.9 / - / 1.05 at
        //   p = 2 / 8 / 32 (bmm for the sum over k: 184 / 10.7 / 1.7), loop over k on B x p 245 / 12.6 / 3.8;
        //   autograd instead of the explicit gradient: 0.6-0.75x the explicit row-major formulas.)
        // So the set-up keeps both candidates of its case, checks each against the reference, times them in
        // alternating rounds and measures the faster: PyTorch gets its best layout for every configuration.
        String[] names;
        Formulation[] candidates;
        if (allEqual) {
            names = new String[] {"row-major B x p", "batch in lanes p x B"};
            candidates = new Formulation[] {this::equalRowMajor, this::equalBatchInLanes};
        } else {
            names = new String[] {"k x j x B tensor", "loop over k on p x B"};
            candidates = new Formulation[] {this::distinctBatched, this::distinctLoop};
        }
        PeerSetUp.Expected expected = PeerSetUp.Expected.of(data);
        Runnable[] calls = new Runnable[candidates.length];
        for (int c = 0; c < candidates.length; c++) {
            check(expected, candidates[c], names[c], data);
            Formulation candidate = candidates[c];
            calls[c] = () -> {
                try (PointerScope scope = new PointerScope()) {
                    candidate.compute();
                }
            };
        }
        chosen = candidates[PeerSetUp.faster("PyTorchLossBenchmark p=" + experts + (allEqual ? " equal" : " distinct"),
                names, calls)];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        f.close();
        w.close();
        a.close();
        aK11.close();
        sharedA.close();
        gradScale.close();
        sameType.close();
        for (Scalar s : aScalar) {
            s.close();
        }
    }

    @Benchmark
    public double lossAndGradient() {
        try (PointerScope scope = new PointerScope()) {
            Tensor[] out = chosen.compute();
            // The mean loss, as our kernels return it (and forcing nothing: PyTorch on CPU is eager).
            return out[0].sum().item_double() / batch;
        }
    }

    /** Equal margins, one softmax per row: loss = -sum_k w_k ls_k, grad = a (sum_k w_k * softmax - w) / B. */
    private Tensor[] equalRowMajor() {
        Tensor ls = log_softmax(equalA == 1.0 ? f : f.mul(sharedA), 1);       // B x p
        Tensor loss = ls.mul(w).sum(dim1, false, sameType).neg_();
        Tensor wSum = w.sum(dim1, true, sameType);
        Tensor grad = ls.exp_().mul_(wSum).sub_(w).mul_(gradScale);
        return new Tensor[] {loss, grad};
    }

    /** The same with the batch along the softmax's lanes (p x B). */
    private Tensor[] equalBatchInLanes() {
        Tensor ft = f.t().contiguous();
        Tensor wt = w.t().contiguous();
        Tensor ls = log_softmax(equalA == 1.0 ? ft : ft.mul(sharedA), 0);     // p x B
        Tensor loss = ls.mul(wt).sum(dim0, false, sameType).neg_();
        Tensor wSum = wt.sum(dim0, true, sameType);
        Tensor grad = ls.exp_().mul_(wSum).sub_(wt).mul_(gradScale);
        return new Tensor[] {loss, grad.t().contiguous()};
    }

    /**
     * Distinct margins, all p softmaxes at once: ls[k, j, i] = log_softmax_j(a_k f_ij);
     * loss_i = -sum_k w_ik ls[k, k, i]; grad_ij = (sum_k w_ik a_k exp(ls[k, j, i]) - w_ij a_j) / B.
     */
    private Tensor[] distinctBatched() {
        Tensor ft = f.t().contiguous();                                        // j x B
        Tensor wa = w.mul(a).t().contiguous();                                 // k x B: w_ik a_k
        Tensor ls = log_softmax(ft.unsqueeze(0).mul(aK11), 1);                 // k x j x B
        Tensor loss = ls.diagonal(0, 0, 1).mul(w).sum(dim1, false, sameType).neg_();  // diagonal: B x k
        Tensor grad = ls.exp_().mul_(wa.unsqueeze(1)).sum(dim0, false, sameType).sub_(wa).mul_(gradScale);
        return new Tensor[] {loss, grad.t().contiguous()};
    }

    /** Distinct margins, one p x B softmax per expert k. */
    private Tensor[] distinctLoop() {
        Tensor ft = f.t().contiguous();                                        // j x B
        Tensor wa = w.mul(a).t().contiguous();                                 // k x B: w_ik a_k
        Tensor grad = wa.neg();
        Tensor loss = null;
        for (int k = 0; k < experts; k++) {
            Tensor ls = log_softmax(ft.mul(aScalar[k]), 0);            // j x B
            Tensor term = ls.select(0, k).mul(w.select(1, k));                 // w_ik ls[k, i]
            loss = loss == null ? term.neg() : loss.sub_(term);
            grad.add_(ls.exp_().mul_(wa.select(0, k).unsqueeze(0)));
        }
        grad.mul_(gradScale);
        return new Tensor[] {loss, grad.t().contiguous()};
    }

    /** Throws unless the formulation agrees with the float64 reference within {@link Tolerance#FLOAT32}. */
    private void check(PeerSetUp.Expected expected, Formulation formulation, String name, RandomBatch data) {
        float[] loss = new float[batch];
        float[] grad = new float[batch * experts];
        try (PointerScope scope = new PointerScope()) {
            Tensor[] out = formulation.compute();
            ((FloatBuffer) out[0].contiguous().createBuffer()).get(loss);
            ((FloatBuffer) out[1].contiguous().createBuffer()).get(grad);
        }
        PeerSetUp.check("PyTorch (" + name + ")", expected, loss, grad, data);
    }
}
