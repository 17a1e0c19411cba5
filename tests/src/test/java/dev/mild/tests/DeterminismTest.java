package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.RandomBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The same inputs give bit-identical outputs, call after call and for 1, 2, 3 and 5 threads, on 20011 rows
 * (ten chunks): for the logsumexp member with distinct and with equal margins, and for every member of
 * {@link AgreementTest#MEMBERS} (nu in {0, 0.5, 2, 3}, additive margins, realizable rewards). OpenCL has no
 * host threads; it is held to the same bits from call to call. Many caller threads sharing one kernel (8 callers
 * on a kernel of 3 threads, as LossKernel's contract allows) get the bits a lone caller gets.
 */
class DeterminismTest {
    static final int ROWS = 20_011;
    static final int P = 7;

    record Inputs(String name, LossConfig config, float[] scores, float[] weights) {
    }

    static List<Inputs> inputs() {
        List<Inputs> all = new ArrayList<>();
        for (boolean equal : new boolean[] {false, true}) {
            RandomBatch data = RandomBatch.of(3, ROWS, P, equal);
            all.add(new Inputs(equal ? "equal rho" : "distinct rho", data.config(), data.scores(), data.weights()));
        }
        for (int m = 0; m < AgreementTest.MEMBERS.length; m++) {
            AgreementTest.MemberInputs in = AgreementTest.memberInputs(m, P, ROWS, 17L + m); // no reference needed
            all.add(new Inputs(AgreementTest.MEMBERS[m], in.config(), in.scores(), in.weights()));
        }
        return all;
    }

    @TestFactory
    Stream<DynamicTest> bitIdenticalAcrossCallsAndThreads() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Inputs> inputs = inputs();
        for (String name : Support.fastBackends()) {
            for (Inputs in : inputs) {
                tests.add(dynamicTest(name + " " + in.name(), () -> {
                    float[] loss1 = new float[ROWS];
                    float[] grad1 = new float[ROWS * P];
                    double mean1;
                    try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
                        mean1 = k.lossAndGradient(in.config(), ROWS, in.scores(), 0, in.weights(), 0, loss1, 0, grad1, 0);
                    }
                    for (int threads : new int[] {1, 2, 3, 5}) {
                        try (LossKernel k = Backends.open(name, KernelOptions.threads(threads))) {
                            for (int repeat = 0; repeat < 2; repeat++) {
                                float[] loss = new float[ROWS];
                                float[] grad = new float[ROWS * P];
                                double mean = k.lossAndGradient(in.config(), ROWS, in.scores(), 0, in.weights(), 0, loss, 0, grad, 0);
                                String what = " with " + threads + " threads, call " + (repeat + 1);
                                assertEquals(Double.doubleToLongBits(mean1), Double.doubleToLongBits(mean), "mean differs" + what);
                                assertArrayEquals(loss1, loss, "row losses differ" + what);
                                assertArrayEquals(grad1, grad, "gradient differs" + what);
                            }
                        }
                    }
                }));
            }
        }
        return tests.stream();
    }

    /** One call of {@link #manyCallersShareOneKernelAndGetALoneCallersBits}: a view of an input's rows. */
    record Call(Inputs in, int fromRow, int rows) {
        Object[] run(LossKernel k) {
            int p = in.config().experts();
            float[] loss = new float[rows];
            float[] grad = new float[rows * p];
            double mean = k.lossAndGradient(in.config(), rows, in.scores(), fromRow * p, in.weights(), fromRow * p,
                    loss, 0, grad, 0);
            return new Object[] {Double.doubleToRawLongBits(mean), loss, grad};
        }

        static boolean same(Object[] a, Object[] b) {
            return a[0].equals(b[0]) && Arrays.equals((float[]) a[1], (float[]) b[1])
                    && Arrays.equals((float[]) a[2], (float[]) b[2]);
        }
    }

    /**
     * Eight threads call one kernel of three threads at once, each through every input in its own order: whole
     * batches (ten chunks, the parallel path, one call at a time per kernel) beside one-chunk views at an offset
     * and single rows (the caller's own thread, not serialized), several configurations in turn (the simd
     * kernel's plans). Every result equals, bit for bit, what one caller got alone from the same kernel.
     */
    @TestFactory
    Stream<DynamicTest> manyCallersShareOneKernelAndGetALoneCallersBits() {
        List<Inputs> inputs = inputs();
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            calls.add(new Call(inputs.get(i), 0, ROWS));
            calls.add(new Call(inputs.get(i), 17 + i, 1500));
            calls.add(new Call(inputs.get(i), 3 * i + 1, 1));
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Support.fastBackends()) {
            tests.add(dynamicTest(name, () -> {
                int callers = 8;
                try (LossKernel k = Backends.open(name, KernelOptions.threads(3))) {
                    List<Object[]> alone = new ArrayList<>();
                    for (Call c : calls) {
                        alone.add(c.run(k));
                    }
                    ExecutorService pool = Executors.newFixedThreadPool(callers);
                    try {
                        CyclicBarrier start = new CyclicBarrier(callers);
                        List<Future<String>> results = new ArrayList<>();
                        for (int t = 0; t < callers; t++) {
                            int caller = t;
                            results.add(pool.submit(() -> {
                                start.await();
                                for (int n = 0; n < calls.size(); n++) {
                                    int c = (n + caller * 7) % calls.size(); // each caller from its own start
                                    if (!Call.same(alone.get(c), calls.get(c).run(k))) {
                                        Call call = calls.get(c);
                                        return "caller " + caller + ": " + call.in().name() + " rows " + call.fromRow()
                                                + ".." + (call.fromRow() + call.rows() - 1) + " differ from a lone caller's";
                                    }
                                }
                                return null;
                            }));
                        }
                        for (Future<String> f : results) {
                            assertEquals(null, f.get(10, TimeUnit.MINUTES));
                        }
                    } finally {
                        pool.shutdownNow();
                    }
                }
            }));
        }
        return tests.stream();
    }
}
