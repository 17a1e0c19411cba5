package dev.mild.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.RandomBatch;
import dev.mild.opencl.OpenClLoss.Layout;
import dev.mild.opencl.OpenClSpecAccuracyTest.Problem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The local size of every launch is one clEnqueueNDRangeKernel accepts on OpenCL 1.2: within the kernel's
 * CL_KERNEL_WORK_GROUP_SIZE, the device's CL_DEVICE_MAX_WORK_GROUP_SIZE and CL_DEVICE_MAX_WORK_ITEM_SIZES[0], and a
 * power of two (the global size is padded to a multiple of it, as 1.2 has no non-uniform work-groups).
 */
class OpenClWorkGroupLimitsTest {

    @BeforeEach
    void openClPresent() {
        OpenClContextTest.assumeOpenCl();
    }

    @Test
    void localSizesAreWithinTheDevicesLimits() {
        for (Layout layout : new Layout[] {Layout.TILED, Layout.DIRECT, Layout.WIDE}) {
            try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT, layout)) {
                long itemLimit = loss.context().maxWorkItemSize0();
                assertTrue(itemLimit >= 1, "CL_DEVICE_MAX_WORK_ITEM_SIZES[0] = " + itemLimit);
                for (int p : new int[] {1, 2, 8, 40, 130, 3000}) {
                    int r = loss.workItemsPerGroup(p);
                    assertTrue(r >= 1 && r <= itemLimit, layout + " p = " + p + ": " + r + " work-items a group, limit " + itemLimit);
                    assertEquals(Integer.highestOneBit(r), r, layout + " p = " + p + ": a power of two");
                }
            }
        }
    }

    /** This machine's device, but with CL_DEVICE_MAX_WORK_GROUP_SIZE = {@code limit} (PoCL's is 4096). */
    static OpenClDevices.Device withMaxWorkGroupSize(long limit) {
        OpenClDevices.Device d = OpenClDevices.select(null);
        return new OpenClDevices.Device(d.index(), d.platform(), d.id(), d.platformName(), d.name(), d.type(),
                d.version(), d.usable(), d.computeUnits(), limit, d.localMemoryBytes(), d.dedicatedLocalMemory(),
                d.maxAllocationBytes(), d.globalMemoryBytes());
    }

    /**
     * A device whose CL_DEVICE_MAX_WORK_GROUP_SIZE is below the rows a work-group would take (GPUs report 64 to 1024;
     * OpenCL 1.2 refuses a larger local size with CL_INVALID_WORK_GROUP_SIZE): every layout launches at most that many,
     * rounded down to a power of two (3 gives 2, 48 gives 32, 96 gives 64), and agree with the float64 reference for
     * p from 1 to 257 (beyond PoCL's and the tests' usual 130) with full and partial last work-groups. The limit was
     * ignored before: PoCL's 4096 left no launch of fewer than 64 rows in the direct layout.
     */
    @Test
    void aSmallDeviceWorkGroupLimitIsHonouredAndResultsAgree() {
        int[] ps = {1, 2, 7, 8, 9, 31, 33, 130, 257};
        for (long limit : new long[] {1, 3, 48, 96}) {
            for (Layout layout : new Layout[] {Layout.TILED, Layout.DIRECT, Layout.WIDE}) {
                try (OpenClLoss loss = new OpenClLoss(withMaxWorkGroupSize(limit), layout)) {
                    List<Problem> problems = new ArrayList<>();
                    for (int p : ps) {
                        int r = loss.workItemsPerGroup(p);
                        int cap = layout == Layout.TILED ? OpenClLoss.TILED_ROWS : layout == Layout.DIRECT
                                ? OpenClLoss.DIRECT_ROWS : Math.min(OpenClLoss.WIDE_ITEMS, p); // wide: a column for every work-item
                        assertTrue(r <= limit, layout + " p = " + p + ": " + r + " work-items a group on a device limited to " + limit);
                        assertEquals(Integer.highestOneBit(r), r, layout + " p = " + p + ": a power of two");
                        assertEquals(layout == Layout.WIDE ? 1 : r, loss.rowsPerWorkGroup(p), layout + " p = " + p + ": rows a group");
                        if (layout != Layout.TILED || p <= 9) { // wider tiled rows may be fewer still, by local memory
                            assertEquals(Integer.highestOneBit((int) Math.min(limit, cap)), r, layout + " p = " + p);
                        }
                        for (int rows : new int[] {1, 7, p <= 33 ? 1000 : 67}) {
                            for (boolean equal : new boolean[] {true, false}) {
                                if (!equal && p > 33 && rows > 7) {
                                    continue; // one softmax per expert: O(p^2) a row in the reference
                                }
                                RandomBatch b = RandomBatch.of(1000L * limit + 17L * p + rows, rows, p, equal, equal ? 1.0 : 2.0);
                                problems.add(new Problem("limit " + limit + ", p=" + p + ", B=" + rows
                                        + (equal ? " equal" : " distinct"), b.config(), rows, b.scores(), b.weights()));
                            }
                        }
                    }
                    OpenClSpecAccuracyTest.assertWithinTolerance("work-group limit " + limit, loss, layout, problems);
                }
            }
        }
    }

    /**
     * Rows wider than a GPU's local memory holds: with 32 KiB (Apple, older AMD; PoCL reports 1 MiB) the tiled layout
     * stages 2 rows a work-group at p = 1000 and 1 at p = 2705 (32468 bytes), and at p = 2729 (32756 of the 32768
     * bytes, inside the margin left for a driver's padding) falls back to the direct layout instead of failing the
     * launch. Each against the float64 reference, with a partial last
     * work-group; a direct loss on the same device for comparison. No defect found: coverage beyond p = 130.
     */
    @Test
    void rowsWiderThanLocalMemoryFallBackToDirect() {
        OpenClDevices.Device gpuLike = OpenClSpecAccuracyTest.withLocalMemory(32 * 1024);
        int[] ps = {1000, 2705, 2729, 4000};
        int[] want = {2, 1, 0, 0}; // tiled rows a work-group; 0: direct
        for (Layout layout : new Layout[] {Layout.TILED, Layout.DIRECT}) {
            try (OpenClLoss loss = new OpenClLoss(gpuLike, layout)) {
                for (int i = 0; i < ps.length; i++) {
                    int p = ps[i];
                    Layout used = layout == Layout.TILED && want[i] > 0 ? Layout.TILED : Layout.DIRECT;
                    assertEquals(used, loss.layout(p), layout + " p = " + p);
                    if (used == Layout.TILED) {
                        assertEquals(want[i], loss.rowsPerWorkGroup(p), "tiled rows a work-group at p = " + p);
                    }
                    List<Problem> problems = new ArrayList<>();
                    for (int rows : new int[] {1, 5}) {
                        RandomBatch b = RandomBatch.of(31L * p + rows, rows, p, true, rows == 1 ? 2.0 : 1.0);
                        problems.add(new Problem("p=" + p + ", B=" + rows, b.config(), rows, b.scores(), b.weights()));
                    }
                    if (p == 1000) {
                        RandomBatch b = RandomBatch.of(p, 3, p, false, 1.0);
                        problems.add(new Problem("p=" + p + ", B=3 distinct", b.config(), 3, b.scores(), b.weights()));
                    }
                    OpenClSpecAccuracyTest.assertWithinTolerance("32 KiB of local memory", loss, used, problems);
                }
            }
        }
    }
}
