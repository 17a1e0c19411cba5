package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mild.InvalidInputException;
import dev.mild.router.DenseProduct;
import dev.mild.router.Mlp;
import dev.mild.router.Router;
import dev.mild.router.Standardizer;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Router as a service embeds it: clear errors for misuse, no allocation per call, one router on many threads. */
class RouterApiTest {

    /** A router with random weights: what it routes to does not matter here, only that it does so consistently. */
    static Router router(int d, int hidden, int p, long seed) {
        return router(d, hidden, p, seed, DenseProduct.fastest());
    }

    static Router router(int d, int hidden, int p, long seed, DenseProduct product) {
        float[] mean = new float[d];
        float[] std = new float[d];
        Arrays.fill(std, 0.5f);
        List<String> names = new ArrayList<>();
        for (int k = 0; k < p; k++) {
            names.add("expert" + k);
        }
        return new Router(new Standardizer(mean, std), Mlp.initialized(new int[] {d, hidden, p}, seed), names, product);
    }

    /**
     * A service that loads a new model drops the old router while its worker threads live on: the old router must
     * then be collectable, although each thread that routed with it keeps the buffers it used, in a thread-local
     * (were they to refer to the router, every reload would leak a router per thread).
     */
    @Test
    void aReplacedRouterIsCollectedWhileTheThreadsThatUsedItLive() throws InterruptedException {
        java.lang.ref.WeakReference<Router> old = routedAndDropped();
        for (int i = 0; i < 100 && old.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(old.get() == null, "a router this thread routed with is still reachable after it was dropped");
    }

    private static java.lang.ref.WeakReference<Router> routedAndDropped() {
        Router r = router(12, 16, 3, 5);
        float[] x = rows(1, 12, 6);
        r.route(x, new float[3]);   // this thread's buffers for r, in its thread-local
        return new java.lang.ref.WeakReference<>(r);
    }

    /**
     * A service that reloads its model keeps one set of buffers per worker thread, not one per router it ever
     * served: routing with freshly made routers of a size the thread has served allocates nothing. With a
     * thread-local per router, each new router's first call on a thread allocated its buffers, and a replaced
     * router's stayed on the thread (about 100 MB over a reload test's pool) until its thread-locals were cleaned.
     */
    @Test
    void newRoutersReuseTheThreadsBuffers() {
        com.sun.management.ThreadMXBean threads = allocationCounter();
        float[] x = rows(4, 40, 3);
        float[] one = Arrays.copyOf(x, 40);
        // The plain product: the vector one allocates boxed vectors until C2 has compiled it, which is not what
        // this test is about (routingAllocatesNothingOnceWarm checks that one once warm).
        DenseProduct plain = DenseProduct.plain();
        router(40, 96, 7, 1, plain).routeBatch(x, 4, new int[4], null); // this thread's buffers, for the largest below
        List<Router> reloaded = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            reloaded.add(router(40, i % 2 == 0 ? 96 : 32, i % 3 + 2, 100 + i, plain));
        }
        int[] choice = new int[4];
        long before = threads.getCurrentThreadAllocatedBytes();
        int sink = 0;
        for (Router r : reloaded) {
            sink += r.route(one);
            r.routeBatch(x, 4, choice, null);
            sink += choice[3];
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated <= AllocationTest.NOISE_BYTES, "50 new routers' first calls allocated " + allocated
                + " bytes (checksum " + sink + ")");
    }

    /**
     * The thread's buffers are shared and grow: a router after a larger one (its buffers hold the larger one's
     * values past this router's sizes) and a larger one after a smaller give the scores each gives with a scratch
     * of its own, bit for bit, on the default and the plain dense product.
     */
    @Test
    void sharedBuffersGiveEachRouterItsOwnScores() {
        for (DenseProduct product : List.of(DenseProduct.fastest(), DenseProduct.plain())) {
            List<Router> turns = new ArrayList<>();
            for (int[] shape : new int[][] {{9, 20, 3}, {33, 70, 11}, {9, 20, 3}, {5, 8, 2}, {61, 130, 17}, {33, 70, 11}}) {
                float[] mean = new float[shape[0]];
                float[] std = new float[shape[0]];
                Arrays.fill(std, 0.5f);
                List<String> names = new ArrayList<>();
                for (int k = 0; k < shape[2]; k++) {
                    names.add("e" + k);
                }
                turns.add(new Router(new Standardizer(mean, std),
                        Mlp.initialized(new int[] {shape[0], shape[1], shape[1], shape[2]}, shape[1]), names, product));
            }
            Thread worker = new Thread(() -> {
                for (int round = 0; round < 2; round++) {
                    for (Router r : turns) {
                        int d = r.features();
                        int p = r.experts();
                        float[] x = rows(7, d, d + round);
                        float[] shared = new float[7 * p];
                        float[] own = new float[7 * p];
                        int[] sharedChoice = new int[7];
                        int[] ownChoice = new int[7];
                        r.routeBatch(x, 7, sharedChoice, shared);
                        r.routeBatch(x, 7, ownChoice, own, r.newScratch());
                        assertArrayEquals(own, shared, d + " features, " + p + " experts, round " + round);
                        assertArrayEquals(ownChoice, sharedChoice);
                        float[] scores = new float[p];
                        float[] ownScores = new float[p];
                        float[] row = Arrays.copyOfRange(x, 6 * d, 7 * d);
                        assertEquals(r.route(row, ownScores, r.newScratch()), r.route(row, scores));
                        assertArrayEquals(ownScores, scores);
                        assertEquals(ownChoice[6], r.route(row));
                    }
                }
            });
            AssertionError[] failure = new AssertionError[1];
            worker.setUncaughtExceptionHandler((t, e) -> failure[0] = e instanceof AssertionError a ? a : new AssertionError(e));
            worker.start();
            try {
                worker.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            if (failure[0] != null) {
                throw failure[0];
            }
        }
    }

    /**
     * route's scores may not overwrite its own row, as routeBatch already refused: with scoresOut == features the
     * scores landed on the features, and an overflow's message then quoted a score as the row's raw value.
     */
    @Test
    void routeRefusesScoresWrittenOverItsFeatures() {
        Router r = router(5, 8, 3, 7);
        float[] x = rows(1, 5, 8);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> r.route(x, x));
        assertTrue(e.getMessage().startsWith("scoresOut and features are the same array and their elements overlap"),
                e.getMessage());
        float[] both = new float[8];
        System.arraycopy(x, 0, both, 0, 5);
        assertThrows(InvalidInputException.class, () -> r.route(both, both, r.newScratch()));
    }

    /** This JVM's per-thread allocation counter; the test is skipped where there is none. */
    private static com.sun.management.ThreadMXBean allocationCounter() {
        var bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean tb && tb.isThreadAllocatedMemorySupported(),
                "this JVM cannot count allocated bytes per thread");
        return (com.sun.management.ThreadMXBean) bean;
    }

    static float[] rows(int n, int d, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (3 * rnd.nextGaussian());
        }
        return x;
    }

    /** A scratch from a smaller router failed with an ArrayIndexOutOfBoundsException, a null one with an NPE. */
    @Test
    void aScratchTooSmallOrMissingIsAClearError() {
        Router big = router(6, 64, 3, 1);
        Router small = router(2, 4, 3, 2);
        float[] x = new float[6];
        float[] scores = new float[3];
        ValidationTest.fails(() -> big.route(x, scores, small.newScratch()), "scratch of 2 features, 4 units and 3"
                + " experts is too small for this router of 6, 64 and 3", "newScratch()");
        ValidationTest.fails(() -> big.route(x, scores, null), "scratch is missing (null)");
        // A larger router's scratch fits, and gives what the router's own does.
        int expert = small.route(new float[] {1f, -2f}, scores, big.newScratch());
        float[] own = new float[3];
        assertEquals(small.route(new float[] {1f, -2f}, own), expert);
        assertArrayEquals(own, scores);
    }

    /** routeBatch had no caller-owned scratch, as route has; with one it gives each row what route gives. */
    @Test
    void aBatchWithCallerOwnedScratchRoutesEachRowAsRouteDoes() {
        Router r = router(6, 16, 3, 4);
        Router bigger = router(8, 32, 5, 5);
        int n = 20;
        float[] x = rows(n, 6, 6);
        int[] choice = new int[n];
        float[] scores = new float[n * 3];
        r.routeBatch(x, n, choice, scores, r.newScratch());
        int[] choiceNoScores = new int[n];
        r.routeBatch(x, n, choiceNoScores, null, bigger.newScratch()); // a larger router's scratch fits
        float[] one = new float[6];
        float[] oneScores = new float[3];
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, i * 6, one, 0, 6);
            int expected = r.route(one, oneScores, r.newScratch());
            assertEquals(expected, choice[i], "row " + i);
            assertEquals(expected, choiceNoScores[i], "row " + i + " without scores");
            assertArrayEquals(oneScores, Arrays.copyOfRange(scores, i * 3, i * 3 + 3), "row " + i);
        }
        Router small = router(2, 4, 3, 2);
        ValidationTest.fails(() -> r.routeBatch(x, n, choice, scores, small.newScratch()), "scratch of 2 features, 4"
                + " units and 3 experts is too small for this router of 6, 16 and 3", "newScratch()");
        ValidationTest.fails(() -> r.routeBatch(x, n, choice, null, null), "scratch is missing (null)");
    }

    /** The message named the column only: in a batch the row is needed too. */
    @Test
    void aBadValueInABatchNamesItsRow() {
        Router r = router(6, 16, 3, 1);
        float[] x = rows(5, 6, 3);
        x[3 * 6 + 1] = Float.NaN;
        ValidationTest.fails(() -> r.routeBatch(x, 5, new int[5], null), "row 4 of the batch (1-based)",
                "feature column 2 (1-based", "NaN");
        x[3 * 6 + 1] = 0f;
        x[4 * 6 + 5] = Float.MAX_VALUE; // finite, but (x - mean) / std overflows float32
        ValidationTest.fails(() -> r.routeBatch(x, 5, new int[5], new float[15]), "row 5 of the batch (1-based)",
                "feature column 6", "too far from the training mean");
        // Four rows go through the network at a time: a bad row in the second four still leaves every row before
        // it routed, as documented, with and without scores.
        float[] y = rows(10, 6, 8);
        y[6 * 6 + 2] = Float.POSITIVE_INFINITY;
        int[] choice = new int[10];
        int[] choiceNoScores = new int[10];
        Arrays.fill(choice, -1);
        Arrays.fill(choiceNoScores, -1);
        ValidationTest.fails(() -> r.routeBatch(y, 10, choice, new float[30]), "row 7 of the batch (1-based)",
                "feature column 3");
        ValidationTest.fails(() -> r.routeBatch(y, 10, choiceNoScores, null), "row 7 of the batch (1-based)");
        for (int i = 0; i < 6; i++) {
            int expected = r.route(Arrays.copyOfRange(y, i * 6, i * 6 + 6));
            assertEquals(expected, choice[i], "row " + i + " before the bad one");
            assertEquals(expected, choiceNoScores[i], "row " + i + " before the bad one, without scores");
        }
    }

    /** routeBatch takes four rows at a time through the network: every batch size gives each row what route gives. */
    @Test
    void everyBatchSizeRoutesEachRowAsRouteDoes() {
        for (DenseProduct product : List.of(DenseProduct.plain(), DenseProduct.fastest())) {
            float[] std = new float[7];
            Arrays.fill(std, 0.5f);
            Router r = new Router(new Standardizer(new float[7], std), Mlp.initialized(new int[] {7, 40, 24, 3}, 3),
                    List.of("a", "b", "c"), product);
            for (int n = 0; n <= 11; n++) {
                float[] x = rows(n, 7, 20 + n);
                int[] choice = new int[n];
                int[] choiceNoScores = new int[n];
                float[] scores = new float[n * 3];
                r.routeBatch(x, n, choice, scores);
                r.routeBatch(x, n, choiceNoScores, null);
                float[] one = new float[3];
                for (int i = 0; i < n; i++) {
                    int expected = r.route(Arrays.copyOfRange(x, i * 7, i * 7 + 7), one);
                    String what = product.name() + ", row " + i + " of " + n;
                    assertArrayEquals(one, Arrays.copyOfRange(scores, i * 3, i * 3 + 3), what);
                    assertEquals(expected, choice[i], what);
                    assertEquals(expected, choiceNoScores[i], what + " without scores");
                }
            }
        }
    }

    /**
     * 3e38 standardizes to a finite float32 but overflows the network: every score was NaN and the row went to
     * expert 0 without an error.
     */
    @Test
    void scoresThatOverflowAreAnErrorNamingTheColumn() {
        // Every weight 1: each of the 4 hidden units is the sum of the standardized features, each score 4 times it.
        Mlp net = new Mlp(6, 4, 3);
        Arrays.fill(net.weights(0), 1f);
        Arrays.fill(net.weights(1), 1f);
        float[] std = new float[6];
        Arrays.fill(std, 0.5f);
        Router r = new Router(new Standardizer(new float[6], std), net, List.of("a", "b", "c"));
        float[] x = new float[6];
        x[1] = 1e36f;
        x[2] = -1e30f;
        float[] scores = new float[3];
        r.route(x, scores); // far, but the scores are still finite
        assertArrayEquals(new float[] {8 * (1e36f - 1e30f), 8 * (1e36f - 1e30f), 8 * (1e36f - 1e30f)}, scores,
                1e31f);
        x[1] = 1.5e38f; // standardizes to 3e38, and the scores to 4 times that
        ValidationTest.fails(() -> r.route(x), "feature column 2 (1-based, in the model's order) is 1.5E38",
                "scores overflow float32");
        float[] batch = new float[12];
        System.arraycopy(x, 0, batch, 6, 6);
        ValidationTest.fails(() -> r.routeBatch(batch), "row 2 of the batch (1-based)", "feature column 2");
        float[] six = new float[36]; // the same inside a batch's first four rows
        System.arraycopy(x, 0, six, 12, 6);
        ValidationTest.fails(() -> r.routeBatch(six, 6, new int[6], new float[18]), "row 3 of the batch (1-based)",
                "feature column 2", "scores overflow float32");
    }

    /** The README promises no allocation per call once warm, with the built-in or a caller-owned scratch. */
    @Test
    void routingAllocatesNothingOnceWarm() {
        com.sun.management.ThreadMXBean threads = allocationCounter();
        Router r = router(6, 64, 3, 1);
        float[] x = rows(64, 6, 5);
        float[] one = new float[6];
        float[] scores = new float[3];
        float[] batchScores = new float[64 * 3];
        int[] choice = new int[64];
        Router.Scratch scratch = r.newScratch();
        int sink = 0;
        for (int round = 0; round < 2; round++) { // the first round warms up, the second is measured
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 50_000; i++) {
                System.arraycopy(x, (i % 64) * 6, one, 0, 6);
                sink += r.route(one) + r.route(one, scores) + r.route(one, scores, scratch);
                if (i % 64 == 0) {
                    r.routeBatch(x, 64, choice, batchScores);
                    r.routeBatch(x, 64, choice, null, scratch);
                }
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            if (round == 1) {
                assertTrue(allocated <= AllocationTest.NOISE_BYTES, "routing allocated " + allocated
                        + " bytes over 150,000 calls (checksum " + sink + ")");
            }
        }
    }

    /**
     * The dense product is a matter of speed only: a router on the vector product (the default where the tests
     * run) and the same model on the plain one give every row the same scores, bit for bit, over shapes that
     * leave tails of inputs and of outputs (DenseProduct's promise, which a trained model relies on).
     */
    @Test
    void everyDenseProductGivesTheSameScores() {
        for (int[] shape : new int[][] {{186, 64, 3}, {7, 33, 5}, {784, 64, 2}, {13, 100, 17}}) {
            int d = shape[0];
            int p = shape[2];
            float[] std = new float[d];
            Arrays.fill(std, 0.5f);
            Mlp net = Mlp.initialized(new int[] {d, shape[1], shape[1], p}, 11);
            List<String> names = new ArrayList<>();
            for (int k = 0; k < p; k++) {
                names.add("e" + k);
            }
            Router fast = new Router(new Standardizer(new float[d], std), net, names);
            Router plain = new Router(new Standardizer(new float[d], std), net, names, DenseProduct.plain());
            int n = 200;
            float[] x = rows(n, d, 13);
            int[] fastChoice = new int[n];
            int[] plainChoice = new int[n];
            float[] fastScores = new float[n * p];
            float[] plainScores = new float[n * p];
            fast.routeBatch(x, n, fastChoice, fastScores);
            plain.routeBatch(x, n, plainChoice, plainScores);
            String what = d + " x " + shape[1] + " x " + shape[1] + " x " + p;
            assertArrayEquals(plainScores, fastScores, DenseProduct.fastest().name() + " against plain, " + what);
            assertArrayEquals(plainChoice, fastChoice, what);
        }
    }

    /** One router on several threads at once (documented thread-safe) gives each row the scores it gives alone. */
    @Test
    void oneRouterOnManyThreadsGivesTheSameScores() throws Exception {
        Router r = router(6, 64, 4, 7);
        int n = 1000;
        float[] x = rows(n, 6, 9);
        int[] expected = new int[n];
        float[] expectedScores = new float[n * 4];
        r.routeBatch(x, n, expected, expectedScores);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    float[] one = new float[6];
                    float[] scores = new float[4];
                    for (int rep = 0; rep < 20; rep++) {
                        for (int i = 0; i < n; i++) {
                            System.arraycopy(x, i * 6, one, 0, 6);
                            int k = r.route(one, scores);
                            if (k != expected[i] || !Arrays.equals(scores, 0, 4, expectedScores, i * 4, i * 4 + 4)) {
                                return "row " + i + ": expert " + k + " scores " + Arrays.toString(scores);
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<String> f : results) {
                assertEquals(null, f.get());
            }
        } finally {
            pool.shutdown();
        }
    }
}
