package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.router.Backprop;
import dev.mild.router.Mlp;
import dev.mild.testing.TestArrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A pass of {@link Backprop} that is interrupted must not leave its pool threads writing behind it: the
 * next pass, on other rows, must give exactly what a fresh one-thread pass gives.
 */
class BackpropThreadsTest {

    @Test
    void interruptedPassLeavesNoWorkerBehind() {
        int inputs = 300;
        int rows = 240;
        Mlp net = Mlp.initialized(Mlp.sizes(inputs, new int[] {300, 300}, 4), 11);
        SplittableRandom rnd = new SplittableRandom(5);
        float[] first = TestArrays.gaussian(rnd, rows * inputs, 1);
        float[] second = TestArrays.gaussian(rnd, rows * inputs, 1);
        float[] expected;
        try (Backprop one = new Backprop(net, rows, 1)) {
            expected = one.forward(second, null, 0, rows).clone();
        }
        try (Backprop bp = new Backprop(net, rows, 3)) {
            int interrupted = 0;
            for (int attempt = 0; attempt < 200; attempt++) {
                Thread.currentThread().interrupt(); // the waiting part of the pass sees it at once
                try {
                    bp.forward(first, null, 0, rows);
                } catch (IllegalStateException e) {
                    interrupted++;
                    assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag is kept for the caller");
                }
                Thread.interrupted();
                float[] scores = bp.forward(second, null, 0, rows);
                assertArrayEquals(expected, scores, "attempt " + attempt + ": the pass after an interrupted one");
            }
            assertTrue(interrupted > 0, "no pass was interrupted, so nothing was checked");
        }
    }

    @Test
    void closedBackpropRefusesAPass() {
        Mlp net = Mlp.initialized(Mlp.sizes(8, new int[] {8}, 2), 3);
        Backprop bp = new Backprop(net, 64, 2);
        bp.close();
        assertThrows(IllegalStateException.class, () -> bp.forward(new float[64 * 8], null, 0, 64));
    }
}
