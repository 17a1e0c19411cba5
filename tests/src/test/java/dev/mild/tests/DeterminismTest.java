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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The same inputs give bit-identical outputs, call after call and for 1, 2, 3 and 5 threads, on 20011 rows
 * (ten chunks): for the logsumexp member with distinct and with equal margins, and for every member of
 * {@link AgreementTest#MEMBERS} (nu in {0, 0.5, 2, 3}, additive margins, realizable rewards). OpenCL has no
 * host threads; it is held to the same bits from call to call.
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
}
