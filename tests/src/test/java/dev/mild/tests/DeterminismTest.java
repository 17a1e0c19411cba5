package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.RandomBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** The same inputs give bit-identical outputs, call after call and for 1, 2, 3 and 5 threads. */
class DeterminismTest {
    @TestFactory
    Stream<DynamicTest> bitIdenticalAcrossCallsAndThreads() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : Support.fastBackends()) {
            for (boolean equal : new boolean[] {false, true}) {
                tests.add(dynamicTest(name + (equal ? " equal rho" : " distinct rho"), () -> {
                    int rows = 20_011;
                    RandomBatch data = RandomBatch.of(3, rows, 7, equal);
                    float[] loss1 = new float[rows];
                    float[] grad1 = new float[rows * 7];
                    double mean1;
                    try (LossKernel k = Backends.open(name, KernelOptions.threads(1))) {
                        mean1 = k.lossAndGradient(data.config(), rows, data.scores(), 0, data.weights(), 0, loss1, 0, grad1, 0);
                    }
                    for (int threads : new int[] {1, 2, 3, 5}) {
                        try (LossKernel k = Backends.open(name, KernelOptions.threads(threads))) {
                            for (int repeat = 0; repeat < 2; repeat++) {
                                float[] loss = new float[rows];
                                float[] grad = new float[rows * 7];
                                double mean = k.lossAndGradient(data.config(), rows, data.scores(), 0, data.weights(), 0, loss, 0, grad, 0);
                                assertEquals(Double.doubleToLongBits(mean1), Double.doubleToLongBits(mean),
                                        "mean differs with " + threads + " threads");
                                assertArrayEquals(loss1, loss, "row losses differ with " + threads + " threads");
                                assertArrayEquals(grad1, grad, "gradient differs with " + threads + " threads");
                            }
                        }
                    }
                }));
            }
        }
        return tests.stream();
    }
}
