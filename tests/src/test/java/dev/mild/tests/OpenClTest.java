package dev.mild.tests;

import static dev.mild.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mild.InvalidInputException;
import dev.mild.io.GoldenCase;
import dev.mild.io.Json;
import dev.mild.loss.Backends;
import dev.mild.loss.GradientError;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.RandomBatch;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import dev.mild.opencl.DeviceBuffer;
import dev.mild.opencl.OpenClDevices;
import dev.mild.opencl.OpenClException;
import dev.mild.opencl.OpenClKernel;
import dev.mild.opencl.OpenClLoss;
import dev.mild.opencl.OpenClLoss.Layout;
import dev.mild.testing.Required;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The OpenCL backend beyond the shared contract tests (which run it through {@link Backends} like any other):
 * every launch layout against the float64 reference for every p in 1..130 and B in {0, 1, 7, 1000, 100000}, and
 * against the golden file and finite differences, the wide layout also for every p in 131..300 and at p = 1000 and 4000,
 * the device-resident API, resource release over 10,000 calls, and the device rule.
 *
 * <p>Without an OpenCL platform these tests are skipped with the reason, unless {@link Required} names
 * {@code opencl} ({@code MILD_TEST_REQUIRE} or {@code -Dmild.test.require}, as {@code .ci/run} sets): then they fail. {@link OpenClUnavailableTest} covers the
 * machine without a platform.
 */
class OpenClTest {

    private static boolean skipAnnounced;

    /**
     * Skips (or, when opencl is required, fails) the calling test when OpenCL cannot run here. Per test, so
     * each one is reported as skipped with the reason, which is also printed once.
     */
    static void assumeOpenCl() {
        if (Backends.availableNames().contains(OpenClKernel.NAME)) {
            return;
        }
        String reason = Backends.list().stream().filter(b -> b.name().equals(OpenClKernel.NAME)).findFirst()
                .map(Backends.Info::unavailableReason).orElse("the opencl backend is not on the class path");
        boolean required = Support.required().contains(OpenClKernel.NAME);
        String message = "OpenCL is not available here: " + reason;
        synchronized (OpenClTest.class) {
            if (!skipAnnounced && !required) {
                skipAnnounced = true;
                System.err.println("mild tests: " + message + "; the OpenCL tests are skipped");
            }
        }
        Support.missing(required, message);
    }

    @BeforeEach
    void openClPresent() {
        assumeOpenCl();
    }

    /** Every layout, each forced: on PoCL the wide layout runs only when asked for (AUTO picks direct on a CPU). */
    static final Layout[] LAYOUTS = {Layout.TILED, Layout.DIRECT, Layout.WIDE};

    /**
     * Every p in 1..130 with B in {0, 1, 7, 1000}, every layout. The two one-margin members (equal rho, and
     * nu = 2) run at every p and B; the distinct-margin members (one softmax per expert: O(p^2) per row) run at
     * every p for {@code B <= 7} and at B = 1000 for {@code p <= 40} and around 64 and 128, which keeps the run short.
     */
    @TestFactory
    Stream<DynamicTest> everyLayoutAgreesWithReferenceForEveryP() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int from = 1; from <= 130; from += 26) {
            int lo = from;
            int hi = Math.min(130, from + 25);
            tests.add(dynamicTest("p = " + lo + ".." + hi + ", B in {0, 1, 7, 1000}", () -> {
                try (OpenClKernel tiled = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, Layout.TILED));
                     OpenClKernel direct = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, Layout.DIRECT));
                     OpenClKernel wide = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, Layout.WIDE))) {
                    for (int p = lo; p <= hi; p++) {
                        // Else a tiled kernel that fell back to direct would test the direct layout twice.
                        assertEquals(Layout.TILED, tiled.deviceLoss().layout(p), "tiled layout used for p = " + p);
                        assertEquals(Layout.DIRECT, direct.deviceLoss().layout(p), "direct layout used for p = " + p);
                        assertEquals(Layout.WIDE, wide.deviceLoss().layout(p), "wide layout used for p = " + p);
                        for (int b : new int[] {0, 1, 7, 1000}) {
                            for (int v : variants(p, b)) {
                                AgreementTest.Problem pr = AgreementTest.problem(p, b, v, 31L * p + 7L * b + v);
                                AgreementTest.check(tiled, pr);
                                AgreementTest.check(direct, pr);
                                AgreementTest.check(wide, pr);
                            }
                        }
                    }
                }
            }));
        }
        return tests.stream();
    }

    /**
     * Every layout on every case of the golden file and on every finite-difference case of
     * {@link FiniteDifferenceTest}: the contract tests reach OpenCL only through {@link Backends}, in the layout
     * the device prefers ({@code direct} on a CPU device such as PoCL), so without this the {@code tiled} and
     * {@code wide} layouts (the GPU's) never met the golden values, the members with nu = 0 or 3, scores of 1e4 with rho of
     * 1e-3, or finite differences. Each kernel is checked to run the layout it is named for.
     */
    @TestFactory
    Stream<DynamicTest> everyLayoutMatchesGoldenAndFiniteDifferences() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Layout layout : LAYOUTS) {
            tests.add(dynamicTest(layout + ": golden cases", () -> {
                try (OpenClKernel kernel = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, layout))) {
                    for (GoldenCase c : Support.surrogateCases()) {
                        assertEquals(layout, kernel.deviceLoss().layout(c.config().experts()), c.name() + ": layout used");
                        GoldenTest.check(kernel, c);
                    }
                }
            }));
            tests.add(dynamicTest(layout + ": finite differences", () -> {
                try (OpenClKernel kernel = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, layout))) {
                    for (int p : new int[] {1, 2, 40}) {
                        assertEquals(layout, kernel.deviceLoss().layout(p), "layout used for p = " + p);
                    }
                    FiniteDifferenceTest.assertGradientsMatchFiniteDifferences(kernel);
                }
            }));
        }
        return tests.stream();
    }

    /**
     * A batch whose row losses are finite but whose sum is beyond float32 (33 rows of 1.4e37; weights need only be
     * finite): the work-group sums overflowed to infinity and the mean came back NaN (found by KernelFuzzTest,
     * case 11007081), while the CPU backends sum in float64. The mean must match the reference.
     */
    @TestFactory
    Stream<DynamicTest> aBatchSumBeyondFloat32KeepsAFiniteMean() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Layout layout : LAYOUTS) {
            tests.add(dynamicTest(layout.toString(), () -> {
                int rows = 33;
                LossConfig config = LossConfig.mild(1.0, 1.0);
                float[] scores = new float[rows * 2];
                float[] weights = new float[rows * 2];
                java.util.Arrays.fill(weights, 1e37f);
                double want = new ReferenceKernel().lossAndGradient(config, rows, scores, 0, weights, 0, null, 0, null, 0);
                assertEquals(2 * (double) 1e37f * Math.log(2), want, 1e-12 * want, "reference: w (log 2 + log 2) a row");
                try (OpenClKernel kernel = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, layout))) {
                    float[] rowLoss = new float[rows];
                    double got = kernel.lossAndGradient(config, rows, scores, 0, weights, 0, rowLoss, 0, null, 0);
                    assertEquals(want, got, 1e-5 * want, layout + ": mean of 33 rows of " + rowLoss[0]);
                }
            }));
        }
        return tests.stream();
    }

    /**
     * The wide layout (one work-group a row, for GPUs at wide rows) beyond p = 130: every p in 131..300 with B in
     * {0, 1, 2, 7} and every member of {@link AgreementTest#variant} (one margin, one per expert, three shared
     * ones; nu = 1, 0.5 with additive margins, 2; signed weights), B = 100 with one margin at every p and with
     * every member at every 13th p; p = 1000 and 4000 with B in {1, 2}. {@link AgreementTest#check} also checks a
     * loss-only call; here its row losses must also be the gradient call's bit for bit, and a second call must
     * repeat the first bit for bit.
     */
    @TestFactory
    Stream<DynamicTest> wideLayoutAgreesWithReferenceAtWideRows() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int from = 131; from <= 300; from += 34) {
            int lo = from;
            int hi = Math.min(300, from + 33);
            tests.add(dynamicTest("p = " + lo + ".." + hi, () -> {
                try (OpenClKernel wide = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, Layout.WIDE))) {
                    for (int p = lo; p <= hi; p++) {
                        for (int b : new int[] {0, 1, 2, 7, 100}) {
                            int[] vs = b < 100 || p % 13 == 0 ? AgreementTest.ALL_VARIANTS : new int[] {1, 3};
                            for (int v : vs) {
                                checkWide(wide, AgreementTest.problem(p, b, v, 37L * p + 11L * b + v));
                            }
                        }
                    }
                }
            }));
        }
        for (int p : new int[] {1000, 4000}) {
            tests.add(dynamicTest("p = " + p, () -> {
                try (OpenClKernel wide = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, Layout.WIDE))) {
                    for (int b : new int[] {1, 2}) {
                        for (int v : AgreementTest.ALL_VARIANTS) {
                            checkWide(wide, AgreementTest.problem(p, b, v, 41L * p + b + v));
                        }
                    }
                }
            }));
        }
        return tests.stream();
    }

    private static void checkWide(OpenClKernel wide, AgreementTest.Problem pr) {
        int p = pr.config().experts();
        assertEquals(Layout.WIDE, wide.deviceLoss().layout(p), "wide layout used for p = " + p);
        AgreementTest.check(wide, pr);
        float[] loss = new float[pr.rows()];
        float[] grad = new float[pr.rows() * p];
        float[] lossOnly = new float[pr.rows()];
        float[] loss2 = new float[pr.rows()];
        float[] grad2 = new float[pr.rows() * p];
        double mean = wide.lossAndGradient(pr.config(), pr.rows(), pr.scores(), 0, pr.weights(), 0, loss, 0, grad, 0);
        double meanOnly = wide.lossAndGradient(pr.config(), pr.rows(), pr.scores(), 0, pr.weights(), 0, lossOnly, 0, null, 0);
        double mean2 = wide.lossAndGradient(pr.config(), pr.rows(), pr.scores(), 0, pr.weights(), 0, loss2, 0, grad2, 0);
        assertEquals(mean, meanOnly, 0.0, pr.name() + ": loss-only mean");
        assertArrayEquals(loss, lossOnly, pr.name() + ": loss-only row losses");
        assertEquals(mean, mean2, 0.0, pr.name() + ": repeated mean");
        assertArrayEquals(loss, loss2, pr.name() + ": repeated row losses");
        assertArrayEquals(grad, grad2, pr.name() + ": repeated gradient");
    }

    /** {@link AgreementTest#variant}s to run: 1 and 3 have one margin; 0 and 2 one per expert (see above). */
    static int[] variants(int p, int rows) {
        boolean distinctToo = rows <= 7 || p <= 40 || (p >= 63 && p <= 65) || p >= 127;
        return distinctToo ? new int[] {0, 1, 2, 3} : new int[] {1, 3};
    }

    /** Rows in the reference block that B = 100000 repeats: prime, so no work-group sees the same rows. */
    static final int PERIOD = 1009;

    /**
     * B = 100000 for p at and around every power of two up to 130 (work-group and tile boundaries): the batch
     * repeats a block of {@value #PERIOD} reference rows, so every row's expected loss and gradient is known
     * from the float64 reference without running it on 100000 rows. Distinct margins up to p = 17, one margin
     * (logsumexp and nu = 2) beyond, where distinct margins would cost p^2 exps per row.
     */
    @TestFactory
    Stream<DynamicTest> everyLayoutAgreesWithReferenceAtB100000() {
        List<DynamicTest> tests = new ArrayList<>();
        int[] ps = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 130};
        for (Layout layout : LAYOUTS) {
            tests.add(dynamicTest(layout + ", B = 100000, p in " + Arrays.toString(ps), () -> {
                try (OpenClKernel kernel = new OpenClKernel(OpenClLoss.open(KernelOptions.DEFAULT, layout))) {
                    for (int p : ps) {
                        assertEquals(layout, kernel.deviceLoss().layout(p), "layout used for p = " + p);
                        for (int v : p <= 17 ? new int[] {0, 2} : new int[] {1, 3}) {
                            checkPeriodic(kernel, AgreementTest.problem(p, 100_000, PERIOD, v, 7919L * p + v));
                        }
                    }
                }
            }));
        }
        return tests.stream();
    }

    /** One call on a problem whose rows repeat a block of reference rows ({@link AgreementTest#repeated}). */
    static void checkPeriodic(LossKernel kernel, AgreementTest.Problem pr) {
        int p = pr.config().experts();
        float[] loss = new float[pr.rows()];
        float[] grad = new float[pr.rows() * p];
        double mean = kernel.lossAndGradient(pr.config(), pr.rows(), pr.scores(), 0, pr.weights(), 0, loss, 0, grad, 0);
        assertWithin(kernel.describe() + " " + pr.name(), pr.refLoss(), pr.refGrad(), pr.refGradTerms(), pr.refMean(),
                loss, grad, mean);
    }

    static void assertWithin(String what, double[] wantLoss, double[] wantGrad, double[] wantGradTerms,
                             double wantMean, float[] loss, float[] grad, double mean) {
        Tolerance t = Tolerance.FLOAT32;
        double le = GoldenTest.lossRelErr(toDouble(loss), wantLoss);
        GradientError ge = GradientError.of(toDouble(grad), wantGrad, wantGradTerms);
        assertTrue(le <= t.lossRelative(), what + ": lossRelErr " + le);
        assertTrue(t.acceptsGradient(ge), what + ": gradErr " + ge);
        assertEquals(wantMean, mean, t.lossRelative() * Math.max(1, Math.abs(wantMean)), what + ": mean");
    }

    /**
     * Data kept on the device: views at offsets inside larger buffers, outputs skipped or not, the loss
     * configuration switched between calls, several p on one context; checked against the reference, with
     * the floats around each output range left untouched.
     */
    @TestFactory
    Stream<DynamicTest> deviceResidentApiMatchesReference() {
        return Arrays.stream(LAYOUTS).map(layout -> dynamicTest(layout.toString(), () -> {
            try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT, layout)) {
                int capacity = 64 * 1024;
                DeviceBuffer scores = loss.allocate(capacity, "scores");
                DeviceBuffer weights = loss.allocate(capacity, "weights");
                DeviceBuffer rowLoss = loss.allocate(capacity, "row loss");
                DeviceBuffer grad = loss.allocate(capacity, "gradient");
                float[] poison = new float[capacity];
                Arrays.fill(poison, Float.NaN);
                int round = 0;
                for (int p : new int[] {1, 3, 8, 17, 40, 130}) {
                    assertEquals(layout, loss.layout(p), "layout used for p = " + p);
                    for (int rows : new int[] {0, 1, 7, 333}) {
                        for (int v = 0; v < 4; v++) {
                            AgreementTest.Problem pr = AgreementTest.problem(p, rows, v, 101L * p + rows + v);
                            int n = rows * p;
                            long sOff = 5 + round % 3;
                            long wOff = 11 + 2L * (round % 5);
                            long rOff = 3 + round % 7;
                            long gOff = 17 + round % 4;
                            round++;
                            scores.write(sOff, pr.scores(), 0, n);
                            weights.write(wOff, pr.weights(), 0, n);
                            rowLoss.write(0, poison, 0, capacity);
                            grad.write(0, poison, 0, capacity);
                            boolean withLoss = v != 1;
                            boolean withGrad = v != 3;
                            double mean = loss.lossAndGradient(pr.config(), rows, scores, sOff, weights, wOff,
                                    withLoss ? rowLoss : null, rOff, withGrad ? grad : null, gOff);
                            float[] l = new float[capacity];
                            float[] g = new float[capacity];
                            rowLoss.read(0, l, 0, capacity);
                            grad.read(0, g, 0, capacity);
                            String what = layout + " " + pr.name() + (withLoss ? "" : " no rowLoss") + (withGrad ? "" : " no grad");
                            float[] gotLoss = withLoss ? Arrays.copyOfRange(l, (int) rOff, (int) rOff + rows) : new float[0];
                            float[] gotGrad = withGrad ? Arrays.copyOfRange(g, (int) gOff, (int) gOff + n) : new float[0];
                            assertWithin(what, withLoss ? pr.refLoss() : new double[0], withGrad ? pr.refGrad() : new double[0],
                                    withGrad ? pr.refGradTerms() : new double[0], pr.refMean(), gotLoss, gotGrad, mean);
                            assertUntouched(what + " rowLoss", l, withLoss ? (int) rOff : 0, withLoss ? rows : 0);
                            assertUntouched(what + " grad", g, withGrad ? (int) gOff : 0, withGrad ? n : 0);
                        }
                    }
                }
            }
        }));
    }

    static void assertUntouched(String what, float[] buffer, int from, int length) {
        for (int i = 0; i < buffer.length; i++) {
            if ((i < from || i >= from + length) && !Float.isNaN(buffer[i])) {
                fail(what + ": float " + i + " outside the output range " + from + ".." + (from + length - 1)
                        + " was written (" + buffer[i] + ")");
            }
        }
    }

    /** {@code ./mild throughput --backend opencl}: both figures, the device named, no host thread count. */
    @Test
    void throughputReportsHostArrayAndDeviceResidentFigures() {
        CliTest.Run r = CliTest.run("throughput", "--backend", "opencl", "--experts", "5", "--batch", "300",
                "--seconds", "0.2");
        assertEquals(0, r.code(), r.err());
        Map<?, ?> m = (Map<?, ?>) Json.parse(r.out().trim(), "output");
        assertEquals("opencl", m.get("backend"));
        assertEquals(5.0, m.get("experts"));
        assertTrue(m.containsKey("threads") && m.get("threads") == null, "threads is null for a device: " + r.out());
        for (String key : List.of("samplesPerSecond", "deviceResidentSamplesPerSecond")) {
            assertTrue((Double) m.get(key) > 0, key + " in " + r.out());
        }
        double resident = (Double) m.get("deviceResidentSamplesPerSecond");
        assertEquals(1e9 / resident, (Double) m.get("deviceResidentNsPerSample"), 1e-2 * 1e9 / resident);
        assertTrue(((String) m.get("device")).contains("layout"), "names the device and layout: " + r.out());
    }

    @Test
    void deviceResidentApiRejectsBadBuffers() {
        try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT); OpenClLoss other = OpenClLoss.open(KernelOptions.DEFAULT)) {
            LossConfig c = LossConfig.mild(0.5, 1, 2);
            DeviceBuffer s = loss.allocate(30, "scores");
            DeviceBuffer w = loss.allocate(30, "weights");
            DeviceBuffer g = loss.allocate(30, "gradient");
            DeviceBuffer foreign = other.allocate(30, "foreign");
            ValidationTest.fails(() -> loss.lossAndGradient(c, 11, s, 0, w, 0, null, 0, g, 0), "scores buffer", "capacity of 30");
            ValidationTest.fails(() -> loss.lossAndGradient(c, 10, w, 1, s, 0, null, 0, g, 0), "weights buffer");
            ValidationTest.fails(() -> loss.lossAndGradient(c, 5, s, 0, w, 0, null, 0, s, 10), "grad and scores are the"
                    + " same buffer and their elements overlap (grad 10..24, scores 0..14): the kernel would overwrite"
                    + " what it still reads; pass grad its own buffer");
            ValidationTest.fails(() -> loss.lossAndGradient(c, 5, s, 0, w, 0, w, 14, g, 0), "rowLoss and weights are"
                    + " the same buffer and their elements overlap (rowLoss 14..18, weights 0..14)");
            ValidationTest.fails(() -> loss.lossAndGradient(c, 5, s, 0, foreign, 0, null, 0, g, 0), "another OpenClLoss");
            ValidationTest.fails(() -> loss.lossAndGradient(c, -1, s, 0, w, 0, null, 0, g, 0), "rows must be >= 0");
            ValidationTest.fails(() -> s.write(25, new float[10], 0, 10), "outside its capacity");
            // Offsets near Long.MAX_VALUE wrapped offset + length negative and passed the range check: the copies
            // reached the driver, and the kernel read and wrote outside the buffers (silently, on PoCL).
            long huge = Long.MAX_VALUE - 2;
            ValidationTest.fails(() -> s.write(huge, new float[10], 0, 10), "scores buffer", "outside its capacity");
            ValidationTest.fails(() -> s.read(huge, new float[10], 0, 10), "scores buffer", "outside its capacity");
            ValidationTest.fails(() -> loss.lossAndGradient(c, 5, s, huge, w, 0, null, 0, g, 0), "scores buffer", "capacity of 30");
            ValidationTest.fails(() -> loss.lossAndGradient(c, 5, s, 0, w, 0, null, 0, g, huge), "gradient buffer", "capacity of 30");
            ValidationTest.fails(() -> loss.lossAndGradient(c, 5, s, 0, w, 0, w, huge, g, 0), "weights buffer", "capacity of 30");
            g.close();
            ValidationTest.fails(() -> loss.lossAndGradient(c, 5, s, 0, w, 0, null, 0, g, 0), "closed");
            // Separate, non-overlapping ranges of one buffer are fine.
            s.write(0, new float[30], 0, 30);
            w.write(0, new float[30], 0, 30);
            loss.lossAndGradient(c, 5, s, 0, w, 0, null, 0, s, 15);
        }
    }

    /**
     * FloatBuffer copies take direct buffers in the native byte order only. A big-endian view (what
     * {@code allocateDirect(n).asFloatBuffer()} gives) was copied byte for byte and arrived as garbage floats, and a
     * read-only buffer was written into.
     */
    @Test
    void floatBufferCopiesRefuseTheOtherByteOrderAndReadOnlyBuffers() {
        try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT)) {
            DeviceBuffer b = loss.allocate(4, "scores");
            ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
            FloatBuffer swapped = ByteBuffer.allocateDirect(16).order(other).asFloatBuffer().put(new float[] {1, 2, 3, 4}).flip();
            ValidationTest.fails(() -> b.write(0, swapped), "native byte", other.toString());
            ValidationTest.fails(() -> b.read(0, swapped), "native byte", other.toString());
            ValidationTest.fails(() -> b.write(0, FloatBuffer.allocate(4)), "direct", "heap");
            FloatBuffer nativeOrder = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer();
            nativeOrder.put(new float[] {1, 2, 3, 4}).position(1);
            b.write(0, nativeOrder); // the 3 floats from its position
            float[] back = new float[4];
            b.read(0, back, 0, 4);
            assertEquals(List.of(2f, 3f, 4f), List.of(back[0], back[1], back[2]));
            FloatBuffer readOnly = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer().asReadOnlyBuffer();
            ValidationTest.fails(() -> b.read(0, readOnly), "read-only");
            assertEquals(0f, readOnly.get(0), "the read-only buffer is unchanged");
        }
    }

    /** More than the device allows in one allocation is a clear error, and the context stays usable. */
    @Test
    void tooLargeAnAllocationSaysSo() {
        try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT)) {
            long tooMany = loss.device().maxAllocationBytes() / 4 + 1;
            OpenClException e = assertThrows(OpenClException.class, () -> loss.allocate(tooMany, "scores"));
            assertTrue(e.getMessage().contains("scores buffer needs") && e.getMessage().contains("smaller batches"),
                    e.getMessage());
            // In MiB alone both sizes printed the same (4096.0 MiB on PoCL): the exact bytes tell them apart.
            assertTrue(e.getMessage().contains("needs " + tooMany * 4 + " bytes")
                    && e.getMessage().contains("at most " + loss.device().maxAllocationBytes() + " bytes"), e.getMessage());
            RandomBatch data = RandomBatch.of(1, 50, 4, false);
            OpenClKernel k = new OpenClKernel(loss);
            double mean = k.lossAndGradient(data.config(), 50, data.scores(), 0, data.weights(), 0, null, 0, null, 0);
            double want = ReferenceKernel.evaluate(data.config(), 50, toDouble(data.scores()),
                    toDouble(data.weights()), null, null);
            assertEquals(want, mean, 1e-5 * Math.abs(want));
        }
    }

    /**
     * 10,000 calls through both APIs, with batch sizes and p that force the staging buffers, the partials
     * and the configuration buffers to grow: the OpenCL objects held stay constant by our own count and by
     * the driver's context reference count (PoCL adds one per buffer, queue and program attached to the
     * context, so a leaked buffer shows there too), and closing returns the process to where it started.
     */
    @Test
    void noLeakOver10000Calls() {
        int before = OpenClLoss.liveObjectsInProcess();
        RandomBatch big = RandomBatch.of(3, 3000, 9, false);
        RandomBatch equal = RandomBatch.of(4, 3000, 9, true);
        float[] loss = new float[3000];
        float[] grad = new float[3000 * 9];
        try (OpenClKernel kernel = new OpenClKernel(KernelOptions.DEFAULT)) {
            OpenClLoss device = kernel.deviceLoss();
            DeviceBuffer s = device.allocate(3000 * 9, "scores");
            DeviceBuffer w = device.allocate(3000 * 9, "weights");
            DeviceBuffer g = device.allocate(3000 * 9, "gradient");
            s.write(big.scores());
            w.write(big.weights());
            // Warm-up at the largest sizes, so every buffer has its final size.
            kernel.lossAndGradient(big.config(), 3000, big.scores(), 0, big.weights(), 0, loss, 0, grad, 0);
            device.lossAndGradient(big.config(), 3000, s, 0, w, 0, null, 0, g, 0);
            int held = device.liveObjects();
            int driverRefs = device.driverContextReferenceCount();
            assertEquals(held, OpenClLoss.liveObjectsInProcess() - before);
            for (int call = 1; call <= 10_000; call++) {
                int rows = 1 + (call * 37) % 3000;
                RandomBatch data = call % 3 == 0 ? equal : big;
                if (call % 2 == 0) {
                    kernel.lossAndGradient(data.config(), rows, data.scores(), 0, data.weights(), 0, loss, 0, grad, 0);
                } else {
                    device.lossAndGradient(data.config(), rows, s, 0, w, 0, null, 0, g, 0);
                }
                if (call % 1000 == 0) {
                    assertEquals(held, device.liveObjects(), "OpenCL objects held after " + call + " calls");
                    assertEquals(driverRefs, device.driverContextReferenceCount(), "driver's context references after " + call + " calls");
                }
            }
        }
        assertEquals(before, OpenClLoss.liveObjectsInProcess(), "OpenCL objects left after close");
        // Opening and closing contexts leaks nothing either (the kernels are built each time, from the driver's cache).
        for (int i = 0; i < 20; i++) {
            try (OpenClLoss l = OpenClLoss.open(KernelOptions.DEFAULT)) {
                l.allocate(100, "scratch");
            }
        }
        assertEquals(before, OpenClLoss.liveObjectsInProcess(), "OpenCL objects left after 20 open/close");
    }

    /**
     * A loss dropped without close() (an embedder's mistake, or an exception path that skipped it) gives its
     * OpenCL objects back once it is collected; a buffer still held keeps its loss, and the device memory, alive.
     */
    @Test
    void aLossDroppedWithoutCloseIsReleasedWhenCollected() throws InterruptedException {
        int before = liveObjectsAfterGc();       // earlier tests' garbage collected first
        DeviceBuffer kept = openAndDrop();
        int held = liveObjectsAfterGc();
        assertTrue(held > before, "the loss of a held buffer was released: " + held + " objects, " + before + " before");
        kept.write(new float[] {1, 2});          // still usable: its loss is alive
        kept = null;
        assertEquals(before, collectedLiveObjects(before), "OpenCL objects of an unreachable loss left");
    }

    /** Opens a loss with two buffers, runs it once and returns one buffer without closing anything. */
    private static DeviceBuffer openAndDrop() {
        OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT);
        DeviceBuffer s = loss.allocate(2, "scores");
        DeviceBuffer w = loss.allocate(2, "weights");
        s.write(new float[] {1, 2});
        w.write(new float[] {1, 0});
        loss.lossAndGradient(LossConfig.uniform(2, 1.0, 1.0), 1, s, 0, w, 0, null, 0, null, 0);
        return s;
    }

    private static int liveObjectsAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return OpenClLoss.liveObjectsInProcess();
    }

    /** {@code count} after collecting garbage until it reaches {@code target} or 10 s pass. */
    private static int collected(java.util.function.IntSupplier count, int target) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        int live = count.getAsInt();
        while (live != target && System.nanoTime() < end) {
            System.gc();
            Thread.sleep(20); // the cleaner's thread releases after the collection
            live = count.getAsInt();
        }
        return live;
    }

    /** The process's live OpenCL objects after collecting garbage until they reach {@code target} or 10 s pass. */
    private static int collectedLiveObjects(int target) throws InterruptedException {
        return collected(OpenClLoss::liveObjectsInProcess, target);
    }

    /**
     * A buffer dropped without close() gives its device memory back once it is collected, by our count and by the
     * driver's (PoCL counts a context reference per buffer), while the loss stays open and a buffer still held
     * keeps its memory. Before, the 20 dropped here stayed until the loss was closed.
     */
    @Test
    void aDroppedBufferIsReleasedWhenCollected() throws InterruptedException {
        try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT)) {
            DeviceBuffer kept = loss.allocate(1000, "kept");
            int held = loss.liveObjects();
            int driverRefs = loss.driverContextReferenceCount();
            allocateAndDrop(loss, 20);
            assertEquals(held, collected(loss::liveObjects, held), "OpenCL objects of 20 unreachable buffers left");
            assertEquals(driverRefs, loss.driverContextReferenceCount(), "the driver's context references");
            float[] data = canaryPattern(7);
            kept.write(data);
            float[] back = new float[1000];
            kept.read(0, back, 0, 1000);
            assertTrue(Arrays.equals(data, back), "the buffer still held lost its contents");
        }
    }

    /** Allocates and fills {@code buffers} buffers of {@code loss} and drops them (none is left on a caller's stack). */
    private static void allocateAndDrop(OpenClLoss loss, int buffers) {
        for (int i = 0; i < buffers; i++) {
            loss.allocate(1000, "dropped " + i).write(new float[1000]);
        }
    }

    /**
     * Losses closed while the cleaner releases their dropped buffers and while another thread calls them:
     * no call waits for good (the cleaner takes the loss's lock), no buffer is released twice or after its context is
     * gone (a handle freed twice may by then be another context's: a canary loss allocates, writes and reads back its
     * own buffers all along), and every count returns to where it started. 20 rounds.
     */
    @Test
    void closingALossWhileItsDroppedBuffersAreCleaned() throws Exception {
        int before = liveObjectsAfterGc();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread collector = new Thread(() -> {
            while (!stop.get()) {
                System.gc();
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
        });
        collector.setDaemon(true);
        collector.start();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        LossConfig config = LossConfig.uniform(4, 1.0, 1.0);
        try (OpenClLoss canary = OpenClLoss.open(KernelOptions.DEFAULT)) {
            int canaryHeld = canary.liveObjects();
            int canaryRefs = canary.driverContextReferenceCount();
            List<DeviceBuffer> canaryBuffers = new ArrayList<>();
            for (int round = 0; round < 20; round++) {
                OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT);
                DeviceBuffer s = loss.allocate(64 * 4, "scores");
                DeviceBuffer w = loss.allocate(64 * 4, "weights");
                s.write(new float[64 * 4]);
                w.write(new float[64 * 4]);
                Thread caller = new Thread(() -> {
                    try {
                        while (true) {
                            loss.lossAndGradient(config, 64, s, 0, w, 0, null, 0, null, 0);
                            Thread.yield(); // the lock is not fair: let the allocations and close() in
                        }
                    } catch (IllegalStateException closed) {
                        // the loss was closed: the end of this thread's calls
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                caller.start();
                allocateAndDrop(loss, 10 + round % 7 * 5);
                loss.close();
                caller.join(30_000);
                assertTrue(!caller.isAlive(), "round " + round + ": a call on the loss has not returned in 30 s");
                DeviceBuffer c = canary.allocate(1000, "canary " + round);
                c.write(canaryPattern(round));
                canaryBuffers.add(c);
                for (int i = 0; i < canaryBuffers.size(); i++) {
                    float[] back = new float[1000];
                    canaryBuffers.get(i).read(0, back, 0, 1000);
                    assertTrue(Arrays.equals(canaryPattern(i), back), "round " + round + ": canary buffer " + i + " changed");
                }
            }
            assertEquals(List.of(), failures, "calls failed other than by the loss being closed");
            assertEquals(canaryHeld + 20, canary.liveObjects(), "the canary's OpenCL objects");
            assertEquals(canaryRefs + 20, canary.driverContextReferenceCount(), "the driver's references to the canary");
        } finally {
            stop.set(true);
            collector.join();
        }
        assertEquals(before, collectedLiveObjects(before), "OpenCL objects left after the losses and their buffers");
    }

    /** 1000 floats that differ from every other {@code round}'s. */
    private static float[] canaryPattern(int round) {
        float[] v = new float[1000];
        for (int i = 0; i < v.length; i++) {
            v[i] = round * 1000 + i;
        }
        return v;
    }

    @Test
    void closedBackendSaysSo() {
        OpenClKernel k = new OpenClKernel(KernelOptions.DEFAULT);
        DeviceBuffer b = k.deviceLoss().allocate(10, "scores");
        k.close();
        k.close(); // idempotent
        assertTrue(b.isClosed());
        RandomBatch data = RandomBatch.of(1, 4, 3, true);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> k.lossAndGradient(data.config(), 4, data.scores(), 0, data.weights(), 0, null, 0, null, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        // An empty batch too, as on the CPU backends (it returned 0 as if the backend were open).
        e = assertThrows(IllegalStateException.class,
                () -> k.lossAndGradient(data.config(), 0, data.scores(), 0, data.weights(), 0, null, 0, null, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        // The device-resident API too: it said "scores buffer is closed", an InvalidInputException, as if the
        // caller had passed a bad argument.
        e = assertThrows(IllegalStateException.class,
                () -> k.deviceLoss().lossAndGradient(data.config(), 1, b, 0, b, 5, null, 0, null, 0));
        assertTrue(e.getMessage().contains("closed") && e.getMessage().contains(k.deviceLoss().device().name()), e.getMessage());
        // Closed first, whatever the arguments, as the CPU backends: a short scores array or no config was
        // "scores has ... values" or a NullPointerException instead (the doclint helper).
        e = assertThrows(IllegalStateException.class,
                () -> k.lossAndGradient(data.config(), 4, new float[1], 0, data.weights(), 0, null, 0, null, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        e = assertThrows(IllegalStateException.class,
                () -> k.deviceLoss().lossAndGradient(null, 1, b, 0, b, 5, null, 0, null, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    /** A null config is a bad argument, as in every backend: it was a NullPointerException on the device API. */
    @Test
    void aNullConfigIsNamed() {
        try (OpenClKernel k = new OpenClKernel(KernelOptions.DEFAULT)) {
            DeviceBuffer b = k.deviceLoss().allocate(10, "scores");
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> k.deviceLoss().lossAndGradient(null, 1, b, 0, b, 5, null, 0, null, 0));
            assertEquals("config is missing (null)", e.getMessage());
        }
    }

    /** The rule on invented device lists: GPU first, then accelerator, then CPU; index and name selectors. */
    @Test
    void deviceRule() {
        OpenClDevices.Device cpu = fake(0, "Portable Computing Language", "pthread-cpu", org.jocl.CL.CL_DEVICE_TYPE_CPU, true);
        OpenClDevices.Device gpu = fake(1, "NVIDIA CUDA", "NVIDIA GeForce RTX", org.jocl.CL.CL_DEVICE_TYPE_GPU, true);
        OpenClDevices.Device deadGpu = fake(2, "NVIDIA CUDA", "Broken GPU", org.jocl.CL.CL_DEVICE_TYPE_GPU, false);
        OpenClDevices.Device accel = fake(3, "FPGA SDK", "Board", org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR, true);
        List<OpenClDevices.Device> all = List.of(cpu, gpu, deadGpu, accel);
        assertSame(gpu, OpenClDevices.choose(all, null, "test"), "GPU first");
        assertSame(gpu, OpenClDevices.choose(List.of(cpu, deadGpu, gpu), " ", "test"), "the first usable GPU");
        assertSame(accel, OpenClDevices.choose(List.of(cpu, deadGpu, accel), null, "test"), "then accelerators");
        assertSame(cpu, OpenClDevices.choose(List.of(cpu, deadGpu), null, "test"), "then CPUs");
        assertSame(cpu, OpenClDevices.choose(all, "0", "test"), "an index picks that device");
        assertSame(accel, OpenClDevices.choose(all, "3", "test"));
        assertSame(cpu, OpenClDevices.choose(all, "cpu", "test"), "the type is part of the name");
        assertSame(cpu, OpenClDevices.choose(all, "portable COMPUTING", "test"), "case-insensitive");
        assertSame(gpu, OpenClDevices.choose(all, "nvidia", "test"), "a platform substring, first usable in rule order");
        assertSame(accel, OpenClDevices.choose(all, "board", "test"));
        ValidationTest.fails(() -> OpenClDevices.choose(all, "2", "test"), "unavailable", "Broken GPU");
        ValidationTest.fails(() -> OpenClDevices.choose(all, "7", "test"), "no OpenCL device 7", "#0", "#3");
        // An index is ASCII digits: U+0663 (ARABIC-INDIC DIGIT THREE) picked device 3; now it is a name matching none.
        ValidationTest.fails(() -> OpenClDevices.choose(all, "\u0663", "test"), "matches no usable");
        ValidationTest.fails(() -> OpenClDevices.choose(all, "amd radeon", "test"), "matches no usable", "NVIDIA GeForce RTX");
        assertThrows(OpenClException.class, () -> OpenClDevices.choose(List.of(deadGpu), null, "test"));
    }

    private static OpenClDevices.Device fake(int index, String platform, String name, long type, boolean usable) {
        return new OpenClDevices.Device(index, null, null, platform, name, type, "OpenCL 3.0", usable, 1, 256, 65536,
                true, 1L << 30, 4L << 30);
    }

    /** The rule on this machine: an index, a name, the system property, and a selector that matches nothing. */
    @Test
    void deviceSelectionOnThisMachine() {
        List<OpenClDevices.Device> devices = OpenClDevices.all();
        OpenClDevices.Device first = devices.get(0);
        try (OpenClKernel k = new OpenClKernel(new KernelOptions(1, "0"))) {
            assertEquals(first.index(), k.deviceLoss().device().index());
            assertTrue(k.describe().contains(first.name()), k.describe());
        }
        try (OpenClKernel k = new OpenClKernel(new KernelOptions(1, first.name().substring(0, 3).toUpperCase()))) {
            assertEquals(first.name(), k.deviceLoss().device().name());
        }
        String old = System.getProperty(OpenClDevices.PROPERTY);
        try {
            System.setProperty(OpenClDevices.PROPERTY, "no-such-device-anywhere");
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> OpenClLoss.open(KernelOptions.DEFAULT));
            assertTrue(e.getMessage().contains("-D" + OpenClDevices.PROPERTY) && e.getMessage().contains(first.name()), e.getMessage());
            assertNotEquals(null, OpenClDevices.unavailableReason(), "a property that matches nothing makes the backend unavailable");
            // An explicit selector wins over the property.
            try (OpenClLoss l = OpenClLoss.open(new KernelOptions(1, Integer.toString(first.index())))) {
                assertEquals(first.index(), l.device().index());
            }
            System.setProperty(OpenClDevices.PROPERTY, Integer.toString(first.index()));
            try (OpenClLoss l = OpenClLoss.open(KernelOptions.DEFAULT)) {
                assertEquals(first.index(), l.device().index());
            }
        } finally {
            if (old == null) {
                System.clearProperty(OpenClDevices.PROPERTY);
            } else {
                System.setProperty(OpenClDevices.PROPERTY, old);
            }
        }
    }

    @Test
    void byNameOnlyAndListedWithItsDevice() {
        Backends.Info info = Backends.list().stream().filter(b -> b.name().equals(OpenClKernel.NAME)).findFirst().orElseThrow();
        assertTrue(!info.automatic(), "opencl must not be an automatic choice (host arrays lose to the CPU backends)");
        assertNotEquals(OpenClKernel.NAME, Backends.defaultName());
        assertTrue(info.description().contains(OpenClDevices.defaultDevice().name()), info.description());
    }

    /**
     * Kernels build while other threads make the JVM raise its own signals (allocation: collections, so safepoint
     * polls). PoCL's compiler runs in this process with LLVM's crash handlers, which took those SIGSEGVs and deleted
     * the compiler's temporary files first: 41 of 100 builds failed ("unable to rename temporary"), one test in a
     * CI run among them. The build now retries that failure, and the test JVMs (like ./mild) preload the JDK's
     * libjsig, so that the JVM keeps its signal handlers; on Linux this test also checks that it is loaded. Every
     * open here compiles ({@value OpenClLoss#PROGRAM_BINARIES_PROPERTY}=false): with the program binaries of
     * "Opening again" all but the first two of a process load a binary and run no compiler, and the test would
     * check nothing.
     */
    @Test
    void kernelsBuildWhileOtherThreadsMakeTheJvmRaiseItsSignals() throws Exception {
        if (System.getProperty("os.name").equals("Linux")) {
            String maps = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/maps"));
            assertTrue(maps.contains("libjsig.so"), "libjsig.so is not preloaded in this JVM (LD_PRELOAD="
                    + System.getenv("LD_PRELOAD") + "): see the signal-chaining profile of pom.xml");
        }
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<Thread> noise = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            Thread thread = new Thread(() -> {
                for (long n = 1; !stop.get(); n++) {
                    garbage = new byte[1 << 16];
                    if (n % 1000 == 0) {
                        System.gc();
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
            noise.add(thread);
        }
        List<String> failures = new ArrayList<>();
        String binaries = System.getProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY);
        System.setProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY, "false");
        try {
            for (int i = 0; i < 40; i++) {
                try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT)) {
                    assertTrue(loss.toString() != null);
                } catch (OpenClException e) {
                    failures.add("build " + i + ": " + e.getMessage());
                }
            }
        } finally {
            if (binaries == null) {
                System.clearProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY);
            } else {
                System.setProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY, binaries);
            }
            stop.set(true);
            for (Thread thread : noise) {
                thread.join();
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " of 40 builds failed: " + failures);
    }

    private static volatile byte[] garbage;

    /**
     * JVMs that start at once on a fresh java.io.tmpdir all get OpenCL. JOCL copies its native library there under
     * one fixed name, writing it in place, and six JVMs at a time loaded each other's half-written copy: 20 of 90
     * starts failed, 13 of them killed by SIGBUS. The backend now asks JOCL for a copy per JVM
     * ({@code uniqueLibraryNames}) unless the program set that property. Five rounds of six {@code ./mild backends}
     * (the class, in child JVMs), each round on a new directory.
     */
    @Test
    void jvmsStartingAtOnceOnAFreshTmpdirAllGetOpenCl(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        for (int round = 0; round < 5; round++) {
            java.nio.file.Path dir = java.nio.file.Files.createDirectories(tmp.resolve("round" + round));
            List<Process> children = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                children.add(new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString(), "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + dir,
                        "-cp", System.getProperty("java.class.path"), "dev.mild.cli.Main", "backends")
                        .redirectErrorStream(true).redirectOutput(dir.resolve("out" + i + ".txt").toFile()).start());
            }
            for (int i = 0; i < children.size(); i++) {
                Process child = children.get(i);
                assertTrue(child.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "child JVM timed out");
                String out = java.nio.file.Files.readString(dir.resolve("out" + i + ".txt"));
                assertEquals(0, child.exitValue(), "round " + round + ", JVM " + i + ":\n" + out);
                String opencl = out.lines().filter(l -> l.startsWith("opencl ")).findFirst().orElse("");
                assertTrue(!opencl.isEmpty() && !opencl.contains("unavailable"), "round " + round + ", JVM " + i + ":\n"
                        + out);
            }
        }
    }
}
