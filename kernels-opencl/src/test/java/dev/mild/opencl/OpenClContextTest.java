package dev.mild.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mild.testing.Required;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_mem;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The context's failure paths: a kernel that does not compile, and OpenCL statuses turned into advice. */
class OpenClContextTest {

    @BeforeEach
    void openClPresent() {
        assumeOpenCl();
    }

    /** Skips the calling test when OpenCL cannot run here, or fails it when opencl is required. */
    static void assumeOpenCl() {
        String reason = OpenClDevices.unavailableReason();
        if (reason == null) {
            return;
        }
        if (Required.names().contains(OpenClKernel.NAME)) {
            fail("opencl is required (" + Required.describe() + ") but unavailable: " + reason);
        }
        // Per test, so each is reported as skipped with the reason.
        Assumptions.abort("OpenCL is not available here, so the OpenCL tests are skipped: " + reason);
    }

    @Test
    void aCompileErrorQuotesTheCompilerAndReleasesEverything() {
        int before = OpenClContext.liveObjectsInProcess();
        OpenClDevices.Device device = OpenClDevices.select(null);
        OpenClException e = assertThrows(OpenClException.class, () -> new OpenClContext(device,
                "__kernel void broken(__global float *x) { x[0] = no_such_variable; }", ""));
        assertTrue(e.getMessage().contains("rejected the loss kernels") && e.getMessage().contains("no_such_variable"),
                e.getMessage());
        assertEquals(before, OpenClContext.liveObjectsInProcess(), "objects created before the failure are released");
    }

    /**
     * A blocking read reports the failures of the commands queued before it too (a kernel's fault, a watchdog): its
     * message said only "copying 8 bytes from the device" (the OpenCL review). Here the read itself fails (past the
     * buffer's end), which is the one failure a CPU device can be made to give on purpose.
     */
    @Test
    void aFailedReadSaysItAlsoReportsTheCommandsBeforeIt() {
        try (OpenClContext context = new OpenClContext(OpenClDevices.select(null), "__kernel void k() {}", "")) {
            cl_mem mem = context.allocate(16, "small");
            float[] host = new float[8];
            OpenClException e = assertThrows(OpenClException.class, () -> context.read(mem, 0, Pointer.to(host), 32));
            assertTrue(e.getMessage().contains("copying 32 bytes from the device (or in the commands queued before it,"
                    + " such as the loss kernel, which this copy waits for)"), e.getMessage());
        }
    }

    @Test
    void theRealKernelsBuildAndEveryObjectIsReleasedInReverse() {
        int before = OpenClContext.liveObjectsInProcess();
        try (OpenClContext context = new OpenClContext(OpenClDevices.select(null), OpenClLoss.source(), "")) {
            context.kernel("loss_tiled");
            context.kernel("loss_direct");
            context.kernel("loss_wide");
            context.allocate(1024, "scratch");
            assertEquals(7, context.liveObjects(), "context, queue, program, three kernels, one buffer");
            assertEquals(before + 7, OpenClContext.liveObjectsInProcess());
        }
        assertEquals(before, OpenClContext.liveObjectsInProcess());
    }

    /**
     * JOCL's exceptions switch is one for the whole process: the backend neither flips it (other JOCL code in the
     * program would start getting exceptions) nor needs it (errors must still be seen when that code turns it off).
     */
    @Test
    void joclsProcessWideExceptionSwitchIsNeitherChangedNorNeeded() {
        String broken = "__kernel void broken(__global float *x) { x[0] = no_such_variable; }";
        OpenClDevices.Device device = OpenClDevices.select(null);
        try {
            for (boolean on : new boolean[] {false, true}) {
                CL.setExceptionsEnabled(on);
                int before = OpenClContext.liveObjectsInProcess();
                OpenClException e = assertThrows(OpenClException.class, () -> new OpenClContext(device, broken, ""));
                assertTrue(e.getMessage().contains("no_such_variable"), e.getMessage());
                assertEquals(before, OpenClContext.liveObjectsInProcess());
                try (OpenClContext context = new OpenClContext(device, "__kernel void k() {}", "")) {
                    cl_mem mem = context.allocate(16, "small");
                    CL.setExceptionsEnabled(!on); // the embedding program changes its mind later
                    OpenClException late = assertThrows(OpenClException.class,
                            () -> context.write(mem, 1 << 20, Pointer.to(new float[4]), 16), "a copy past the end");
                    assertTrue(late.getMessage().contains("CL_INVALID_VALUE"), late.getMessage());
                    CL.setExceptionsEnabled(on);
                }
                // The switch as the program left it: a status while off, an exception while on.
                int noSuchParameter = 0x7fff;
                if (on) {
                    assertThrows(CLException.class, () -> CL.clGetDeviceInfo(device.id(), noSuchParameter, 4, null, null));
                } else {
                    assertEquals(CL.CL_INVALID_VALUE, CL.clGetDeviceInfo(device.id(), noSuchParameter, 4, null, null),
                            "the switch was turned on");
                }
            }
        } finally {
            CL.setExceptionsEnabled(false); // JOCL's default
        }
    }

    @Test
    void outOfResourcesSaysWhatToDo() {
        try (OpenClContext context = new OpenClContext(OpenClDevices.select(null), "__kernel void k() {}", "")) {
            for (int status : new int[] {CL.CL_OUT_OF_RESOURCES, CL.CL_MEM_OBJECT_ALLOCATION_FAILURE}) {
                OpenClException e = context.failure("allocating 900 MiB for the scores buffer", new CLException("x", status));
                assertTrue(e.getMessage().contains(context.device.name()) && e.getMessage().contains("900 MiB")
                        && e.getMessage().contains(CL.stringFor_errorCode(status))
                        && e.getMessage().contains("smaller batches"), e.getMessage());
            }
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> {
                context.close();
                context.allocate(16, "late");
            });
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        }
    }
}
