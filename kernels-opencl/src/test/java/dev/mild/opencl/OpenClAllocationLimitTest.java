package dev.mild.opencl;

import static dev.mild.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.loss.RandomBatch;
import dev.mild.loss.ReferenceKernel;
import dev.mild.opencl.OpenClLoss.Layout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What happens when the device cannot hold a buffer, on the real device with a copy of its description whose
 * allocation limit ({@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}) is a few KiB: the same checks a GPU hits at
 * gigabytes, with arrays of a few hundred floats.
 */
class OpenClAllocationLimitTest {

    private static final int P = 4;

    @BeforeEach
    void openClPresent() {
        OpenClContextTest.assumeOpenCl();
    }

    /** The device {@link OpenClDevices#select} picks, allowing at most {@code bytes} in one allocation. */
    static OpenClDevices.Device withAllocationLimit(long bytes) {
        OpenClDevices.Device d = OpenClDevices.select(null);
        return new OpenClDevices.Device(d.index(), d.platform(), d.id(), d.platformName(), d.name(), d.type(),
                d.version(), d.usable(), d.computeUnits(), d.maxWorkGroupSize(), d.localMemoryBytes(),
                d.dedicatedLocalMemory(), bytes, d.globalMemoryBytes());
    }

    /** The mean loss of the first {@code rows} rows by the host-array backend, checked against the float64 reference. */
    private static double meanChecked(OpenClKernel kernel, RandomBatch data, int rows) {
        float[] grad = new float[rows * P];
        double mean = kernel.lossAndGradient(data.config(), rows, data.scores(), 0, data.weights(), 0, null, 0, grad, 0);
        double[] wantGrad = new double[rows * P];
        double want = ReferenceKernel.evaluate(data.config(), rows, toDouble(data.scores()), toDouble(data.weights()),
                null, wantGrad);
        assertEquals(want, mean, 1e-5 * Math.abs(want), "mean loss of " + rows + " rows");
        assertArrayEquals(wantGrad, toDouble(grad), 1e-5 * maxAbs(wantGrad), "gradient of " + rows + " rows");
        return mean;
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * A batch too large for the device fails with advice, and the next, smaller batch runs. The staging buffer
     * being replaced was released before the allocation failed, and the next call reused it: "DeviceBuffer[scores,
     * ..., closed] is closed" on every call from then on.
     */
    @Test
    void aBatchTooLargeForTheDeviceLeavesTheBackendUsable() {
        RandomBatch data = RandomBatch.of(11, 300, P, false);
        try (OpenClKernel kernel = new OpenClKernel(new OpenClLoss(withAllocationLimit(1000 * 4), Layout.DIRECT))) {
            double first = meanChecked(kernel, data, 100);
            OpenClException e = assertThrows(OpenClException.class, () -> kernel.lossAndGradient(data.config(), 300,
                    data.scores(), 0, data.weights(), 0, null, 0, new float[300 * P], 0));
            assertTrue(e.getMessage().contains("scores buffer needs") && e.getMessage().contains("smaller batches")
                    && e.getMessage().contains(kernel.deviceLoss().device().name()), e.getMessage());
            assertEquals(first, meanChecked(kernel, data, 100), 0.0, "the same batch after the failure, bit for bit");
            meanChecked(kernel, data, 250); // up to the limit still fits
        }
    }

    /**
     * A batch that fits the device runs even when growing the staging buffers by half would not: 170 rows then
     * 250 (1000 floats, the limit) asked for 1020 floats and failed with "needs ... allows at most".
     */
    @Test
    void growingStopsAtTheDeviceLimit() {
        RandomBatch data = RandomBatch.of(12, 250, P, true);
        try (OpenClKernel kernel = new OpenClKernel(new OpenClLoss(withAllocationLimit(1000 * 4), Layout.DIRECT))) {
            meanChecked(kernel, data, 170);
            meanChecked(kernel, data, 250);
        }
    }

    /**
     * A configuration the device cannot hold fails, and the previous one still computes the right loss. Its
     * buffers were released, or replaced by an unwritten one, before the allocation failed, while the loss still
     * counted them as uploaded: the next call ran the kernel on them.
     */
    @Test
    void aConfigurationTooLargeForTheDeviceLeavesTheLossUsable() {
        // 100 floats (400 bytes) per data buffer fit; 100 experts with distinct margins do not (201 ints for the
        // groups, 501 floats: a, log a and a's rounding per group, delta and its rounding per expert, 1 - nu).
        RandomBatch narrow = RandomBatch.of(13, 25, P, false);
        RandomBatch wide = RandomBatch.of(14, 1, 100, false);
        try (OpenClLoss loss = new OpenClLoss(withAllocationLimit(500), Layout.DIRECT)) {
            DeviceBuffer scores = loss.allocate(100, "scores");
            DeviceBuffer weights = loss.allocate(100, "weights");
            DeviceBuffer grad = loss.allocate(100, "gradient");
            scores.write(narrow.scores());
            weights.write(narrow.weights());
            double[] wantGrad = new double[100];
            double want = ReferenceKernel.evaluate(narrow.config(), 25, toDouble(narrow.scores()),
                    toDouble(narrow.weights()), null, wantGrad);
            for (int call = 0; call < 2; call++) {
                if (call == 1) {
                    OpenClException e = assertThrows(OpenClException.class, () -> loss.lossAndGradient(wide.config(), 1,
                            scores, 0, weights, 0, null, 0, grad, 0));
                    assertTrue(e.getMessage().contains("loss configuration buffer needs"), e.getMessage());
                }
                double mean = loss.lossAndGradient(narrow.config(), 25, scores, 0, weights, 0, null, 0, grad, 0);
                float[] got = new float[100];
                grad.read(0, got, 0, 100);
                String when = call == 0 ? "before" : "after the failed configuration";
                assertEquals(want, mean, 1e-5 * Math.abs(want), "mean loss " + when);
                assertArrayEquals(wantGrad, toDouble(got), 1e-5 * maxAbs(wantGrad), "gradient " + when);
            }
        }
    }
}
