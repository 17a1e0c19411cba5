import jdk.incubator.vector.*;
import dev.mild.loss.*;
import java.util.*;

/**
 * A prototype, not part of the build (bench/PERFORMANCE.md, "A row's softmax matrix in the lanes"): the
 * logsumexp member at p = 8 with distinct margins, two rows per 16-lane vector (lanes: row, expert j) and one
 * vector per softmax (group k), so the exps need no permutes and the gradient sums down the vectors; each
 * softmax's sum runs across lanes instead (a tree of two-vector selects). Checked against the reference
 * backend, then timed against the simd backend in the same JVM, alternating 1-second rounds. AVX-512 only
 * (16 float lanes); B even.
 *
 * <pre>
 *   J=/usr/lib/jvm/temurin-25-jdk-amd64/bin; ./mild --help >/dev/null   # builds cli/target/mild.jar
 *   $J/javac --add-modules jdk.incubator.vector -cp cli/target/mild.jar -d /tmp/proto bench/prototypes/MatrixLanesPrototype.java
 *   $J/java --add-modules jdk.incubator.vector -cp cli/target/mild.jar:/tmp/proto MatrixLanesPrototype 65536 10
 * </pre>
 */
public class MatrixLanesPrototype {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final int L = 16, P = 8;
    static final float LOG2E = 1.4426950408889634f;

    static final FloatVector V_MIN = FloatVector.broadcast(F, -127f);
    static final FloatVector V_RB = FloatVector.broadcast(F, 12582912f + 127f);
    static final FloatVector E1 = FloatVector.broadcast(F, 0.6931471824645996f);
    static final FloatVector E2 = FloatVector.broadcast(F, 0.24022647738456726f);
    static final FloatVector E3 = FloatVector.broadcast(F, 0.055503323674201965f);
    static final FloatVector E4 = FloatVector.broadcast(F, 0.00961843691766262f);
    static final FloatVector E5 = FloatVector.broadcast(F, 0.0013398873852565885f);
    static final FloatVector E6 = FloatVector.broadcast(F, 0.00015353361959569156f);
    static final FloatVector ONE = FloatVector.broadcast(F, 1f);
    static final FloatVector ZERO = FloatVector.zero(F);
    static final int SQRT_HALF_F_BITS = 0x3f3504f3;
    static final float LN2_HI_F = 0.693145751953125f, LN2_LO_F = 1.4286067653e-06f;

    static int[] xor(int m) { int[] a = new int[L]; for (int i = 0; i < L; i++) a[i] = i ^ m; return a; }
    static final int[] X1 = xor(1), X2 = xor(2), X4 = xor(4);
    static final int[][] CSEL = new int[8][L];   // c_k of row 0 in lanes 0-7, of row 1 in 8-15
    static final int[][] TA = new int[7][L], TB = new int[7][L];
    static {
        for (int k = 0; k < 8; k++) for (int i = 0; i < L; i++) CSEL[k][i] = (i / 8) * 8 + k;
        // E_k lane l: segment (row l/8, group k) -> id (l/8)*8 + k
        int[][] seg = new int[8][L];
        for (int k = 0; k < 8; k++) for (int l = 0; l < L; l++) seg[k][l] = (l / 8) * 8 + k;
        int[][] level = seg; int c = 0;
        while (level.length > 1) {
            int[][] next = new int[level.length / 2][];
            for (int v = 0; v < next.length; v++) { next[v] = plan(level[2 * v], level[2 * v + 1], TA[c], TB[c]); c++; }
            level = next;
        }
        for (int l = 0; l < L; l++) if (level[0][l] != l) throw new AssertionError("order " + Arrays.toString(level[0]));
    }
    static int[] plan(int[] x, int[] y, int[] ia, int[] ib) {
        TreeMap<Integer, List<Integer>> bySeg = new TreeMap<>();
        for (int l = 0; l < L; l++) bySeg.computeIfAbsent(x[l], k -> new ArrayList<>()).add(l);
        for (int l = 0; l < L; l++) bySeg.computeIfAbsent(y[l], k -> new ArrayList<>()).add(L + l);
        int[] out = new int[L]; int o = 0;
        for (var e : bySeg.entrySet()) {
            List<Integer> ls = e.getValue(); int h = ls.size() / 2;
            for (int i = 0; i < h; i++) { ia[o] = ls.get(i); ib[o] = ls.get(h + i); out[o] = e.getKey(); o++; }
        }
        if (o != L) throw new AssertionError();
        return out;
    }
    static final int[] TREE = new int[14 * 16], CSELF = new int[8 * 16], XORS = new int[3 * 16];
    static {
        for (int n = 0; n < 7; n++) { System.arraycopy(TA[n], 0, TREE, 32 * n, 16); System.arraycopy(TB[n], 0, TREE, 32 * n + 16, 16); }
        for (int k = 0; k < 8; k++) System.arraycopy(CSEL[k], 0, CSELF, 16 * k, 16);
        System.arraycopy(X1, 0, XORS, 0, 16); System.arraycopy(X2, 0, XORS, 16, 16); System.arraycopy(X4, 0, XORS, 32, 16);
    }

    static final int PAIRS = 16;

    static double kernel(float[] a, int rows, float[] s, float[] w, float[] rowLoss, float[] g, float gradScale, Scr sc) {
        for (int i = 0; i < L; i++) { sc.a2[i] = a[i % 8]; sc.a2s[i] = a[i % 8] * gradScale; }
        for (int k = 0; k < 8; k++) sc.scale[k] = a[k] * LOG2E;
        double sum = 0;
        for (int r = 0; r < rows; r += 2 * PAIRS) {
            int pairs = Math.min(PAIRS, (rows - r) / 2);
            prepare(s, r * P, pairs, sc.mx, sc.tops);
            exps(s, r * P, sc.mx, pairs, sc.scale, sc.ev);
            sum += finish(s, w, r, pairs, sc, rowLoss, g);
        }
        return sum / rows;
    }
    static final class Scr {
        final float[] a2 = new float[L], a2s = new float[L], scale = new float[8], mx = new float[PAIRS * L];
        final float[] ev = new float[PAIRS * 8 * L], tmp = new float[L];
        final long[] tops = new long[PAIRS];
    }

    static void prepare(float[] s, int off0, int pairs, float[] mxOut, long[] tops) {
        IntVector x1 = IntVector.fromArray(I, XORS, 0), x2 = IntVector.fromArray(I, XORS, 16), x4 = IntVector.fromArray(I, XORS, 32);
        for (int q = 0; q < pairs; q++) {
            FloatVector f = FloatVector.fromArray(F, s, off0 + q * L);
            FloatVector mx = f;
            FloatVector t = x1.selectFrom(mx.reinterpretAsInts()).reinterpretAsFloats(); mx = mx.blend(t, mx.lt(t));
            t = x2.selectFrom(mx.reinterpretAsInts()).reinterpretAsFloats(); mx = mx.blend(t, mx.lt(t));
            t = x4.selectFrom(mx.reinterpretAsInts()).reinterpretAsFloats(); mx = mx.blend(t, mx.lt(t));
            mx.intoArray(mxOut, q * L);
            long bits = f.eq(mx).toLong();
            long lo = bits & 0xFF, hi = bits & 0xFF00;
            tops[q] = (lo & -lo) | (hi & -hi);
        }
    }

    static void exps(float[] s, int off0, float[] mx, int pairs, float[] scale, float[] ev) {
        for (int q = 0; q < pairs; q++) {
            FloatVector d = FloatVector.fromArray(F, s, off0 + q * L).sub(FloatVector.fromArray(F, mx, q * L));
            for (int k = 0; k < 8; k += 2) {
                FloatVector u0 = d.mul(scale[k]), u1 = d.mul(scale[k + 1]);
                u0 = u0.blend(V_MIN, u0.lt(V_MIN));
                u1 = u1.blend(V_MIN, u1.lt(V_MIN));
                FloatVector t0 = u0.add(V_RB), t1 = u1.add(V_RB);
                FloatVector r0 = u0.sub(t0.sub(V_RB)), r1 = u1.sub(t1.sub(V_RB));
                r0.fma(E6, E5).fma(r0, E4).fma(r0, E3).fma(r0, E2).fma(r0, E1).fma(r0, ONE)
                    .mul(t0.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats()).intoArray(ev, (8 * q + k) * L);
                r1.fma(E6, E5).fma(r1, E4).fma(r1, E3).fma(r1, E2).fma(r1, E1).fma(r1, ONE)
                    .mul(t1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats()).intoArray(ev, (8 * q + k + 1) * L);
            }
        }
    }

    static double finish(float[] s, float[] w, int r0, int pairs, Scr sc, float[] rowLoss, float[] g) {
        float[] ev = sc.ev;
        FloatVector A = FloatVector.fromArray(F, sc.a2, 0), AS = FloatVector.fromArray(F, sc.a2s, 0);
        IntVector x1 = IntVector.fromArray(I, XORS, 0), x2 = IntVector.fromArray(I, XORS, 16), x4 = IntVector.fromArray(I, XORS, 32);
        double sum = 0;
        for (int q = 0; q < pairs; q++) {
            int r = r0 + 2 * q;
            int off = r * P;
            int e = 8 * q * L;
            VectorMask<Float> top = VectorMask.fromLong(F, sc.tops[q]);
            FloatVector e0 = FloatVector.fromArray(F, ev, e), e1 = FloatVector.fromArray(F, ev, e + L);
            FloatVector e2 = FloatVector.fromArray(F, ev, e + 2 * L), e3 = FloatVector.fromArray(F, ev, e + 3 * L);
            FloatVector e4 = FloatVector.fromArray(F, ev, e + 4 * L), e5 = FloatVector.fromArray(F, ev, e + 5 * L);
            FloatVector e6 = FloatVector.fromArray(F, ev, e + 6 * L), e7 = FloatVector.fromArray(F, ev, e + 7 * L);
            // zRest_k per row: the top's 1 left out, a tree of two-vector selects
            FloatVector z0 = e0.blend(ZERO, top), z1 = e1.blend(ZERO, top), z2 = e2.blend(ZERO, top), z3 = e3.blend(ZERO, top);
            FloatVector z4 = e4.blend(ZERO, top), z5 = e5.blend(ZERO, top), z6 = e6.blend(ZERO, top), z7 = e7.blend(ZERO, top);
            IntVector ta = IntVector.fromArray(I, TREE, 0), tb = IntVector.fromArray(I, TREE, 16);
            FloatVector q0 = ta.selectFrom(z0.reinterpretAsInts(), z1.reinterpretAsInts()).reinterpretAsFloats().add(tb.selectFrom(z0.reinterpretAsInts(), z1.reinterpretAsInts()).reinterpretAsFloats());
            ta = IntVector.fromArray(I, TREE, 32); tb = IntVector.fromArray(I, TREE, 48);
            FloatVector q1 = ta.selectFrom(z2.reinterpretAsInts(), z3.reinterpretAsInts()).reinterpretAsFloats().add(tb.selectFrom(z2.reinterpretAsInts(), z3.reinterpretAsInts()).reinterpretAsFloats());
            ta = IntVector.fromArray(I, TREE, 64); tb = IntVector.fromArray(I, TREE, 80);
            FloatVector q2 = ta.selectFrom(z4.reinterpretAsInts(), z5.reinterpretAsInts()).reinterpretAsFloats().add(tb.selectFrom(z4.reinterpretAsInts(), z5.reinterpretAsInts()).reinterpretAsFloats());
            ta = IntVector.fromArray(I, TREE, 96); tb = IntVector.fromArray(I, TREE, 112);
            FloatVector q3 = ta.selectFrom(z6.reinterpretAsInts(), z7.reinterpretAsInts()).reinterpretAsFloats().add(tb.selectFrom(z6.reinterpretAsInts(), z7.reinterpretAsInts()).reinterpretAsFloats());
            ta = IntVector.fromArray(I, TREE, 128); tb = IntVector.fromArray(I, TREE, 144);
            FloatVector h0 = ta.selectFrom(q0.reinterpretAsInts(), q1.reinterpretAsInts()).reinterpretAsFloats().add(tb.selectFrom(q0.reinterpretAsInts(), q1.reinterpretAsInts()).reinterpretAsFloats());
            ta = IntVector.fromArray(I, TREE, 160); tb = IntVector.fromArray(I, TREE, 176);
            FloatVector h1 = ta.selectFrom(q2.reinterpretAsInts(), q3.reinterpretAsInts()).reinterpretAsFloats().add(tb.selectFrom(q2.reinterpretAsInts(), q3.reinterpretAsInts()).reinterpretAsFloats());
            ta = IntVector.fromArray(I, TREE, 192); tb = IntVector.fromArray(I, TREE, 208);
            FloatVector z = ta.selectFrom(h0.reinterpretAsInts(), h1.reinterpretAsInts()).reinterpretAsFloats().add(tb.selectFrom(h0.reinterpretAsInts(), h1.reinterpretAsInts()).reinterpretAsFloats());
            // log1p(z) and 1/(1+z)
            FloatVector u = z.add(1f);
            FloatVector invU = ONE.div(u);
            IntVector ix = ((IntVector) u.reinterpretAsInts()).sub(SQRT_HALF_F_BITS);
            IntVector kk = ix.lanewise(VectorOperators.ASHR, 23);
            FloatVector ff = ix.and(0x007fffff).add(SQRT_HALF_F_BITS).reinterpretAsFloats().sub(1f);
            FloatVector ss = ff.div(ff.add(2f));
            FloatVector s2 = ss.mul(ss);
            FloatVector rr = s2.fma(2f / 9, 2f / 7);
            rr = rr.fma(s2, s2.broadcast(2f / 5));
            rr = rr.fma(s2, s2.broadcast(2f / 3));
            rr = rr.mul(s2);
            FloatVector hfsq = ff.mul(ff).mul(0.5f);
            FloatVector kf = (FloatVector) kk.convert(VectorOperators.I2F, 0);
            FloatVector corr = z.sub(u.sub(1f)).mul(invU);
            FloatVector low = ss.fma(hfsq.add(rr), kf.fma(kf.broadcast(LN2_LO_F), corr));
            FloatVector logZ = kf.fma(kf.broadcast(LN2_HI_F), ff.sub(hfsq.sub(low)));
            FloatVector f = FloatVector.fromArray(F, s, off);
            FloatVector wv = FloatVector.fromArray(F, w, off);
            FloatVector mx = FloatVector.fromArray(F, sc.mx, q * L);
            FloatVector lt = mx.sub(f).fma(A, logZ).mul(wv);
            lt = lt.add(x1.selectFrom(lt.reinterpretAsInts()).reinterpretAsFloats()); lt = lt.add(x2.selectFrom(lt.reinterpretAsInts()).reinterpretAsFloats()); lt = lt.add(x4.selectFrom(lt.reinterpretAsInts()).reinterpretAsFloats());
            float l0 = lt.lane(0), l1 = lt.lane(8);
            rowLoss[r] = l0; rowLoss[r + 1] = l1;
            sum += (double) l0 + (double) l1;
            FloatVector c = wv.mul(AS).mul(invU);
            FloatVector gr = e0.mul(IntVector.fromArray(I, CSELF, 0).selectFrom(c.reinterpretAsInts()).reinterpretAsFloats());
            gr = e1.fma(IntVector.fromArray(I, CSELF, 16).selectFrom(c.reinterpretAsInts()).reinterpretAsFloats(), gr);
            gr = e2.fma(IntVector.fromArray(I, CSELF, 32).selectFrom(c.reinterpretAsInts()).reinterpretAsFloats(), gr);
            gr = e3.fma(IntVector.fromArray(I, CSELF, 48).selectFrom(c.reinterpretAsInts()).reinterpretAsFloats(), gr);
            gr = e4.fma(IntVector.fromArray(I, CSELF, 64).selectFrom(c.reinterpretAsInts()).reinterpretAsFloats(), gr);
            gr = e5.fma(IntVector.fromArray(I, CSELF, 80).selectFrom(c.reinterpretAsInts()).reinterpretAsFloats(), gr);
            gr = e6.fma(IntVector.fromArray(I, CSELF, 96).selectFrom(c.reinterpretAsInts()).reinterpretAsFloats(), gr);
            gr = e7.fma(IntVector.fromArray(I, CSELF, 112).selectFrom(c.reinterpretAsInts()).reinterpretAsFloats(), gr);
            gr.sub(wv.mul(AS)).intoArray(g, off);
        }
        return sum;
    }

    public static void main(String[] args) {
        int B = Integer.parseInt(args.length > 0 ? args[0] : "65536");
        RandomBatch rb = RandomBatch.of(1, B, 8, false);
        float[] a = new float[8];
        for (int k = 0; k < 8; k++) a[k] = (float) (1 / (0.5 + 1.5 * k / 7));
        float[] rl = new float[B], g = new float[B * 8];
        float[] rl2 = new float[B], g2 = new float[B * 8];
        Scr sc = new Scr();
        LossKernel ref = Backends.open("reference", KernelOptions.threads(1));
        LossKernel simd = Backends.open("simd", KernelOptions.threads(1));
        double want = ref.lossAndGradient(rb.config(), B, rb.scores(), 0, rb.weights(), 0, rl2, 0, g2, 0);
        double got = kernel(a, B, rb.scores(), rb.weights(), rl, g, 1f / B, sc);
        double worstL = 0, worstG = 0;
        for (int i = 0; i < B; i++) worstL = Math.max(worstL, Math.abs(rl[i] - rl2[i]) / Math.max(1e-3, Math.abs(rl2[i])));
        for (int i = 0; i < B * 8; i++) worstG = Math.max(worstG, Math.abs(g[i] - g2[i]) * B);
        System.out.printf("loss %.9f want %.9f; worst row rel %.2e; worst grad abs*B %.2e%n", got, want, worstL, worstG);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        if (rounds < 3) { // the median leaves the first two out
            throw new IllegalArgumentException("ROUNDS must be at least 3 (the first 2 warm up), got " + rounds);
        }
        double[] ratios = new double[rounds];
        for (int round = 0; round < rounds; round++) {
            long t0 = System.nanoTime(); int n = 0;
            while (System.nanoTime() - t0 < 1_000_000_000L) { kernel(a, B, rb.scores(), rb.weights(), rl, g, 1f / B, sc); n++; }
            double proto = (double) n * B / ((System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime(); n = 0;
            while (System.nanoTime() - t0 < 1_000_000_000L) { simd.lossAndGradient(rb.config(), B, rb.scores(), 0, rb.weights(), 0, rl2, 0, g2, 0); n++; }
            double cur = (double) n * B / ((System.nanoTime() - t0) / 1e9);
            ratios[round] = proto / cur;
            System.out.printf("round %d: proto %.2fM rows/s, simd %.2fM rows/s, ratio %.3f%n", round, proto / 1e6, cur / 1e6, proto / cur);
        }
        double[] tail = Arrays.copyOfRange(ratios, 2, rounds); Arrays.sort(tail);
        System.out.printf("median ratio after 2 warm-up rounds: %.3f%n", tail[tail.length / 2]);
    }
}
