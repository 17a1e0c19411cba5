package dev.mild.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.loss.RandomBatch;
import dev.mild.opencl.OpenClLoss.Layout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The program built at the first two opens of a process ({@link ProgramBinaries}): later opens load its binary and
 * compute the same bits as a source build, a binary the driver refuses falls back to the source, threads that open
 * at once all get the program, and the cache stays bounded.
 */
class ProgramBinariesTest {

    @BeforeEach
    void openClPresent() {
        OpenClContextTest.assumeOpenCl();
        ProgramBinaries.clear(); // earlier tests' opens: the next open here is the first of its key
    }

    @AfterEach
    void forget() {
        ProgramBinaries.clear();
    }

    /** Every row loss, gradient entry and mean of a few batches (both members; p = 3, 8, 40), as bits. */
    static int[] resultBits(OpenClLoss loss) {
        OpenClKernel kernel = new OpenClKernel(loss); // not closed here: that would close the loss
        List<Integer> bits = new ArrayList<>();
        RandomBatch[] batches = {RandomBatch.of(1, 257, 3, true), RandomBatch.of(2, 257, 8, false),
                RandomBatch.of(3, 65, 40, true, 2.0)};
        for (RandomBatch b : batches) {
            float[] rowLoss = new float[b.rows()];
            float[] grad = new float[b.rows() * b.experts()];
            long mean = Double.doubleToRawLongBits(kernel.lossAndGradient(b.config(), b.rows(), b.scores(), 0,
                    b.weights(), 0, rowLoss, 0, grad, 0));
            bits.add((int) mean);
            bits.add((int) (mean >>> 32));
            for (float f : rowLoss) {
                bits.add(Float.floatToRawIntBits(f));
            }
            for (float f : grad) {
                bits.add(Float.floatToRawIntBits(f));
            }
        }
        return bits.stream().mapToInt(Integer::intValue).toArray();
    }

    private static ProgramBinaries.Key keyOfTheLoss(OpenClDevices.Device device) {
        return new ProgramBinaries.Key(device.id(), OpenClLoss.source(), ""); // OpenClLoss's build options: none
    }

    /**
     * Six opens in turn, both layouts: the first two compile the source (the second keeps the binary), the other
     * four load the binary, and every one computes the bits of the source build of its layout.
     */
    @Test
    void laterOpensLoadTheProgramFromItsBinaryAndGiveTheSameBits() {
        OpenClDevices.Device device = OpenClDevices.select(null);
        int before = OpenClLoss.liveObjectsInProcess();
        Layout[] layouts = {Layout.TILED, Layout.DIRECT};
        int[][] want = new int[2][];
        int[] wantLive = new int[2];
        List<Boolean> fromBinary = new ArrayList<>();
        for (int open = 0; open < 6; open++) {
            try (OpenClLoss loss = new OpenClLoss(device, layouts[open % 2])) {
                fromBinary.add(loss.context().programFromBinary());
                int[] bits = resultBits(loss);
                if (open < 2) {
                    want[open] = bits;
                    wantLive[open] = loss.liveObjects();
                } else {
                    assertArrayEquals(want[open % 2], bits, "open " + open + " (" + layouts[open % 2]
                            + "): results differ from the source build's");
                    assertEquals(wantLive[open % 2], loss.liveObjects(), "open " + open + ": OpenCL objects held");
                }
            }
        }
        assertEquals(List.of(false, false, true, true, true, true), fromBinary,
                "program loaded from the binary, open by open");
        assertEquals(before, OpenClLoss.liveObjectsInProcess(), "OpenCL objects left after the opens");
    }

    /**
     * A binary the driver refuses (CL_INVALID_BINARY) is not the caller's problem: the open compiles the source,
     * computes the same bits, holds no extra object, and the binary is not offered again. Random bytes, because
     * PoCL trusts a binary whose header it knows: a real one cut in half crashed the JVM (SIGSEGV), one with bytes
     * flipped aborted it (an assertion in pocl_binary.c), which is why binaries are kept in memory, made by this
     * process, and never read from files.
     */
    @Test
    void aRefusedBinaryFallsBackToTheSourceAndIsNotOfferedAgain() {
        OpenClDevices.Device device = OpenClDevices.select(null);
        ProgramBinaries.Key key = keyOfTheLoss(device);
        int[] want;
        int wantLive;
        try (OpenClLoss loss = new OpenClLoss(device, Layout.DIRECT)) {
            want = resultBits(loss);
            wantLive = loss.liveObjects();
        }
        byte[] garbage = new byte[4096];
        new Random(42).nextBytes(garbage);
        ProgramBinaries.store(key, garbage);
        int before = OpenClLoss.liveObjectsInProcess();
        for (int open = 0; open < 2; open++) {
            try (OpenClLoss loss = new OpenClLoss(device, Layout.DIRECT)) {
                assertFalse(loss.context().programFromBinary(), "open " + open + ": a refused binary was used");
                assertTrue(ProgramBinaries.refused(key), "open " + open + ": the binary was not offered, or not refused");
                assertNull(ProgramBinaries.binary(key), "a refused binary is offered again");
                assertArrayEquals(want, resultBits(loss), "open " + open + ": results of the source build after a refusal");
                assertEquals(wantLive, loss.liveObjects(), "open " + open + ": the refused program was left behind");
            }
        }
        assertEquals(before, OpenClLoss.liveObjectsInProcess(), "OpenCL objects left after the fallbacks");
    }

    /**
     * Four threads open a loss at once, four times: the first round compiles (each thread, the same program), the
     * others load the binary, and all compute the bits of a source build; nothing is left open.
     */
    @Test
    void threadsOpeningAtOnceAllGetTheSameProgram() throws Exception {
        OpenClDevices.Device device = OpenClDevices.select(null);
        int[] want;
        try (OpenClLoss loss = new OpenClLoss(device, Layout.DIRECT)) {
            want = resultBits(loss);
        }
        int before = OpenClLoss.liveObjectsInProcess();
        int threads = 4;
        int rounds = 4;
        CyclicBarrier barrier = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Boolean>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    List<Boolean> fromBinary = new ArrayList<>();
                    for (int round = 0; round < rounds; round++) {
                        barrier.await(60, TimeUnit.SECONDS);
                        try (OpenClLoss loss = new OpenClLoss(device, Layout.DIRECT)) {
                            fromBinary.add(loss.context().programFromBinary());
                            assertArrayEquals(want, resultBits(loss), "thread " + thread + ", round " + round);
                        }
                    }
                    return fromBinary;
                }));
            }
            for (Future<List<Boolean>> r : results) {
                List<Boolean> fromBinary = r.get(120, TimeUnit.SECONDS);
                assertEquals(List.of(false, true, true, true), fromBinary, "program loaded from the binary, round by round");
            }
        } finally {
            pool.shutdownNow();
        }
        assertNotNull(ProgramBinaries.binary(keyOfTheLoss(device)));
        assertEquals(before, OpenClLoss.liveObjectsInProcess(), "OpenCL objects left after the threads' opens");
    }

    /** With {@value OpenClLoss#PROGRAM_BINARIES_PROPERTY}=false every open compiles, whatever the cache holds. */
    @Test
    void thePropertyTurnsBinariesOff() {
        OpenClDevices.Device device = OpenClDevices.select(null);
        for (int open = 0; open < 2; open++) {
            new OpenClLoss(device, Layout.DIRECT).close(); // the binary is kept
        }
        assertNotNull(ProgramBinaries.binary(keyOfTheLoss(device)));
        String old = System.getProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY);
        try {
            System.setProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY, "false");
            try (OpenClLoss loss = new OpenClLoss(device, Layout.DIRECT)) {
                assertFalse(loss.context().programFromBinary());
            }
        } finally {
            if (old == null) {
                System.clearProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY);
            } else {
                System.setProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY, old);
            }
        }
        try (OpenClLoss loss = new OpenClLoss(device, Layout.DIRECT)) {
            assertTrue(loss.context().programFromBinary(), "the binary is used again once the property is gone");
        }
    }

    /** At most {@link ProgramBinaries#CAPACITY} keys; the least recently used goes first. */
    @Test
    void theCacheIsBounded() {
        int n = 3 * ProgramBinaries.CAPACITY;
        for (int i = 0; i < n; i++) {
            ProgramBinaries.store(new ProgramBinaries.Key(null, "source " + i, ""), new byte[] {(byte) i});
            ProgramBinaries.binary(new ProgramBinaries.Key(null, "source 0", "")); // kept by use
        }
        assertEquals(ProgramBinaries.CAPACITY, ProgramBinaries.size());
        assertNotNull(ProgramBinaries.binary(new ProgramBinaries.Key(null, "source 0", "")), "the one in use was dropped");
        assertNotNull(ProgramBinaries.binary(new ProgramBinaries.Key(null, "source " + (n - 1), "")), "the newest was dropped");
        assertNull(ProgramBinaries.binary(new ProgramBinaries.Key(null, "source 1", "")), "an old unused one was kept");
    }
}
