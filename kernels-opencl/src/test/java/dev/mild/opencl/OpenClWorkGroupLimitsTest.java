package dev.mild.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.loss.KernelOptions;
import dev.mild.opencl.OpenClLoss.Layout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The local size of every launch is one clEnqueueNDRangeKernel accepts on OpenCL 1.2: within the kernel's
 * CL_KERNEL_WORK_GROUP_SIZE and the device's CL_DEVICE_MAX_WORK_ITEM_SIZES[0], and a power of two (the global
 * size is padded to a multiple of it, as 1.2 has no non-uniform work-groups).
 */
class OpenClWorkGroupLimitsTest {

    @BeforeEach
    void openClPresent() {
        OpenClContextTest.assumeOpenCl();
    }

    @Test
    void localSizesAreWithinTheDevicesLimits() {
        for (Layout layout : new Layout[] {Layout.TILED, Layout.DIRECT}) {
            try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT, layout)) {
                long itemLimit = loss.context().maxWorkItemSize0();
                assertTrue(itemLimit >= 1, "CL_DEVICE_MAX_WORK_ITEM_SIZES[0] = " + itemLimit);
                for (int p : new int[] {1, 2, 8, 40, 130, 3000}) {
                    int r = loss.rowsPerWorkGroup(p);
                    assertTrue(r >= 1 && r <= itemLimit, layout + " p = " + p + ": " + r + " rows a group, limit " + itemLimit);
                    assertEquals(Integer.highestOneBit(r), r, layout + " p = " + p + ": a power of two");
                }
            }
        }
    }
}
