package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mild.router.Backprop;
import dev.mild.router.Mlp;
import dev.mild.testing.TestArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

    /**
     * Every pass after close() is refused, whatever its size and thread count: a batch too small to split (fewer
     * than 16 rows) and a one-thread instance, which never reach the pool, used to run as if nothing was closed.
     */
    @Test
    void closedBackpropRefusesAPass() {
        Mlp net = Mlp.initialized(Mlp.sizes(8, new int[] {8}, 2), 3);
        for (int threads : new int[] {1, 2}) {
            Backprop bp = new Backprop(net, 64, threads);
            bp.close();
            bp.close(); // closing twice is harmless
            for (int rows : new int[] {1, 8, 64}) {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> bp.forward(new float[64 * 8], null, 0, rows), rows + " rows, " + threads + " threads");
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
            }
        }
    }

    /**
     * close() from another thread while a pass runs (a cancelled training): the pass ends, by finishing or with
     * IllegalStateException. Before the fix close() was shutdownNow(), which drops the ranges still queued for the
     * pool without completing their futures: the pass waited for them forever (about one attempt in three on the
     * 2-core machine), or its next submit threw RejectedExecutionException while earlier ranges were still running.
     */
    @Test
    void closeDuringAPassEndsIt() throws Exception {
        int rows = 256;
        Mlp net = Mlp.initialized(Mlp.sizes(8, new int[] {8}, 2), 3);
        float[] x = TestArrays.gaussian(new SplittableRandom(2), rows * 8, 1);
        for (int attempt = 0; attempt < 60; attempt++) {
            Backprop bp = new Backprop(net, rows, 8);
            bp.forward(x, null, 0, rows); // the pool's threads exist: later ranges are queued for them
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            Thread trainer = new Thread(() -> {
                try {
                    while (true) {
                        bp.forward(x, null, 0, rows);
                    }
                } catch (Throwable t) {
                    ended.complete(t);
                }
            }, "closeDuringAPassEndsIt-" + attempt);
            trainer.setDaemon(true); // one that hangs must not keep the test JVM alive
            trainer.start();
            Thread.sleep(0, (attempt % 10) * 100_000);
            bp.close();
            Throwable t;
            try {
                t = ended.get(5, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                fail("attempt " + attempt + ": a pass did not end after close(); it waits at "
                        + Arrays.toString(trainer.getStackTrace()));
                return;
            }
            assertTrue(t instanceof IllegalStateException && t.getMessage().contains("closed"),
                    "attempt " + attempt + ": a pass closed in flight ended with " + t);
        }
    }

    /**
     * A pass whose pool the system refuses to grow (a thread or memory limit) waits for the ranges it handed out and
     * says what happened. Before, the JVM's OutOfMemoryError "unable to create native thread" left the pass at once,
     * its pool threads still writing, and ./mild called it a Java heap too small for the data. The child JVM
     * ({@link Support#underAThreadLimit}: about a dozen threads) asks for 4096 threads over 1024 rows (128 ranges).
     */
    @Test
    void aPoolThatCannotGrowEndsThePassWithAClearError() throws Exception {
        String out = Support.underAThreadLimit(RefusedPoolChild.class);
        org.junit.jupiter.api.Assumptions.assumeFalse(out.contains("passed"), "every pool thread started here: " + out);
        assertTrue(out.contains("pass failed: dev.mild.InvalidInputException: cannot start 4096 threads for training:"
                + " the system refused one (unable to create native thread"), out);
        assertTrue(out.contains("use fewer threads"), out);
        assertTrue(out.contains("closed: true"), out);
    }

    /** The child JVM of {@link #aPoolThatCannotGrowEndsThePassWithAClearError}. */
    static final class RefusedPoolChild {
        public static void main(String[] args) {
            int rows = 1024;
            Mlp net = Mlp.initialized(Mlp.sizes(8, new int[] {16}, 3), 1);
            Backprop bp = new Backprop(net, rows, dev.mild.loss.KernelOptions.MAX_THREADS);
            try {
                bp.forward(new float[rows * 8], null, 0, rows);
                System.out.println("passed");
            } catch (Throwable t) {
                System.out.println("pass failed: " + t);
            }
            bp.close();
            System.out.println("closed: true");
        }
    }
}
