package dev.mild.opencl;

import static org.jocl.CL.CL_BUILD_PROGRAM_FAILURE;
import static org.jocl.CL.CL_CONTEXT_REFERENCE_COUNT;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_ITEM_SIZES;
import static org.jocl.CL.CL_INVALID_BUFFER_SIZE;
import static org.jocl.CL.CL_KERNEL_LOCAL_MEM_SIZE;
import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_MEM_OBJECT_ALLOCATION_FAILURE;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_OUT_OF_HOST_MEMORY;
import static org.jocl.CL.CL_OUT_OF_RESOURCES;
import static org.jocl.CL.CL_PROGRAM_BINARIES;
import static org.jocl.CL.CL_PROGRAM_BINARY_SIZES;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_TRUE;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.NativePointerObject;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * Owner of every OpenCL object of one device: context, command queue, program, kernels and buffers, created
 * in that order and released in reverse by {@link #close()}. It keeps its own count of live objects (and the
 * process keeps a total) so tests can prove that nothing leaks.
 *
 * <p>Not thread-safe by itself: {@link OpenClLoss} serializes every use (one in-order queue, kernel
 * arguments that are set then enqueued).
 */
final class OpenClContext implements AutoCloseable {

    private static final AtomicInteger LIVE_IN_PROCESS = new AtomicInteger();
    private static final System.Logger LOG = System.getLogger("dev.mild");

    final OpenClDevices.Device device;
    private final List<NativePointerObject> live = new ArrayList<>(); // creation order
    private cl_context context;
    private cl_command_queue queue;
    private cl_program program;
    private boolean fromBinary;
    private boolean closed;

    /**
     * Creates the context and queue on {@code device} and builds {@code source} (once here; every call reuses the
     * kernels), from the binary of an earlier context of this process when there is one ({@link ProgramBinaries}).
     *
     * @throws OpenClException with the compiler's log when the build fails, or the OpenCL status otherwise;
     *                         whatever was created before the failure is released
     */
    @SuppressWarnings("deprecation") // clCreateCommandQueue: the OpenCL 1.x call every driver has
    OpenClContext(OpenClDevices.Device device, String source, String buildOptions) {
        this.device = device;
        try {
            // Statuses checked by Status, never by turning on JOCL's exceptions: that switch is the whole process's.
            cl_device_id[] ids = {device.id()};
            int[] err = new int[1];
            // The device's own platform named: without it the spec leaves the choice to the implementation.
            cl_context_properties properties = new cl_context_properties();
            properties.addProperty(CL.CL_CONTEXT_PLATFORM, device.platform());
            context = track(Status.created(CL.clCreateContext(properties, 1, ids, null, null, err), err));
            queue = track(Status.created(CL.clCreateCommandQueue(context, device.id(), 0, err), err));
            makeProgram(ids, source, buildOptions);
        } catch (CLException e) {
            close();
            throw failure("setting up OpenCL", e);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** The program from this process's binary of it if there is one, else built from source (see {@link ProgramBinaries}). */
    private void makeProgram(cl_device_id[] ids, String source, String buildOptions) {
        if (!ProgramBinaries.enabled()) {
            buildFromSource(ids, source, buildOptions);
            return;
        }
        ProgramBinaries.Key key = new ProgramBinaries.Key(device.id(), source, buildOptions);
        byte[] binary = ProgramBinaries.binary(key);
        if (binary != null) {
            if (loadBinary(ids, binary, buildOptions)) {
                fromBinary = true;
                return;
            }
            ProgramBinaries.refuse(key);
            LOG.log(System.Logger.Level.INFO, () -> device.label() + " refused the binary of the loss kernels it built"
                    + " earlier in this process; they are compiled from source at every open from now on");
        }
        buildFromSource(ids, source, buildOptions);
        if (ProgramBinaries.builtFromSource(key)) {
            byte[] built = programBinary();
            if (built == null) {
                ProgramBinaries.refuse(key);
            } else {
                ProgramBinaries.store(key, built);
            }
        }
    }

    private void buildFromSource(cl_device_id[] ids, String source, String buildOptions) {
        int[] err = new int[1];
        program = track(Status.created(CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, err), err));
        for (int attempt = 1; ; attempt++) {
            try {
                Status.check(CL.clBuildProgram(program, 1, ids, buildOptions, null, null));
                return;
            } catch (CLException e) {
                if (e.getStatus() != CL_BUILD_PROGRAM_FAILURE) {
                    throw e;
                }
                String log = buildLog();
                boolean lostTemporary = log.contains(LOST_TEMPORARY);
                if (lostTemporary && attempt < BUILD_ATTEMPTS) {
                    continue;
                }
                // PoCL with a cache directory it may not write lists its device, then fails every build, its log
                // saying only "failed to build the program".
                String cache = device.platformName().equals(PoclCache.PLATFORM) ? PoclCache.problem(System.getenv())
                        : null;
                throw new OpenClException("the OpenCL compiler of " + device.label() + " rejected the loss kernels:\n"
                        + log + (lostTemporary ? signalChainingHint(attempt) : "")
                        + (cache != null ? "\n" + cache : ""), e);
            }
        }
    }

    /**
     * Loads the program from {@code binary} (see {@link ProgramBinaries}).
     *
     * @return false, with nothing left behind, when the driver refuses it at any step (CL_INVALID_BINARY, or a
     *         build failure): the caller builds from source
     */
    private boolean loadBinary(cl_device_id[] ids, byte[] binary, String buildOptions) {
        cl_program loaded = null;
        try {
            int[] err = new int[1];
            int[] binaryStatus = new int[1];
            loaded = track(Status.created(CL.clCreateProgramWithBinary(context, 1, ids, new long[] {binary.length},
                    new byte[][] {binary}, binaryStatus, err), err));
            Status.check(binaryStatus[0]);
            Status.check(CL.clBuildProgram(loaded, 1, ids, buildOptions, null, null));
            program = loaded;
            return true;
        } catch (CLException e) { // caught whether JOCL's exceptions switch is on (it throws) or off (Status does)
            release(loaded);
            return false;
        }
    }

    /** The built program's binary for this device, or {@code null} when the driver gives none. */
    private byte[] programBinary() {
        try {
            long[] size = new long[1];
            Status.check(CL.clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null));
            if (size[0] <= 0 || size[0] > Integer.MAX_VALUE - 8) {
                return null;
            }
            byte[] binary = new byte[(int) size[0]];
            Status.check(CL.clGetProgramInfo(program, CL_PROGRAM_BINARIES, Sizeof.POINTER,
                    Pointer.to(new Pointer[] {Pointer.to(binary)}), null));
            return binary;
        } catch (CLException e) {
            return null;
        }
    }

    /** True when this context's program was loaded from a binary this process built before (for tests). */
    boolean programFromBinary() {
        return fromBinary;
    }

    /**
     * What a compiler built on LLVM (PoCL's) says when its temporary file vanished before it could rename it: LLVM's
     * crash handlers, installed in the JVM with the compiler, take the SIGSEGVs the JVM raises for its own use
     * (safepoint polls while other threads run) and delete the compiler's temporary files first. Without signal
     * chaining 41 of 100 builds failed so with three threads allocating beside them; the build is then tried again.
     */
    static final String LOST_TEMPORARY = "unable to rename temporary";
    /**
     * Builds tried when the compiler lost its temporary file. Under the noise above, without signal chaining, 2 of
     * 100 builds still failed five times (the failures come in runs); with it none fails in the first place.
     */
    static final int BUILD_ATTEMPTS = 5;

    private static String signalChainingHint(int attempts) {
        return "(" + attempts + " attempts: LLVM, inside the OpenCL driver, deleted the compiler's temporary files on"
                + " a signal the JVM raised for its own use; start java with signal chaining, LD_PRELOAD="
                + System.getProperty("java.home") + "/lib/libjsig.so, as ./mild does)";
    }

    /** A kernel of the program; released with the context. */
    cl_kernel kernel(String name) {
        ensureOpen();
        try {
            int[] err = new int[1];
            return track(Status.created(CL.clCreateKernel(program, name, err), err));
        } catch (CLException e) {
            throw failure("creating kernel " + name, e);
        }
    }

    /** Largest work-group size {@code kernel} can run with on this device. */
    long maxWorkGroupSize(cl_kernel kernel) {
        long[] v = new long[1];
        Status.check(CL.clGetKernelWorkGroupInfo(kernel, device.id(), CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t,
                Pointer.to(v), null));
        return v[0];
    }

    /**
     * CL_DEVICE_MAX_WORK_ITEM_SIZES[0]: a 1-D launch with a larger local size fails with CL_INVALID_WORK_ITEM_SIZE
     * even when it is within CL_KERNEL_WORK_GROUP_SIZE, which bounds only the product over the dimensions.
     */
    long maxWorkItemSize0() {
        int[] dims = new int[1];
        Status.check(CL.clGetDeviceInfo(device.id(), CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, Sizeof.cl_uint, Pointer.to(dims),
                null));
        long[] sizes = new long[Math.max(1, dims[0])];
        Status.check(CL.clGetDeviceInfo(device.id(), CL_DEVICE_MAX_WORK_ITEM_SIZES, (long) Sizeof.size_t * sizes.length,
                Pointer.to(sizes), null));
        return sizes[0];
    }

    /** Local memory {@code kernel} uses by itself (before the sizes we pass as arguments). */
    long staticLocalMemory(cl_kernel kernel) {
        long[] v = new long[1];
        Status.check(CL.clGetKernelWorkGroupInfo(kernel, device.id(), CL_KERNEL_LOCAL_MEM_SIZE, Sizeof.cl_ulong,
                Pointer.to(v), null));
        return v[0];
    }

    /**
     * A device buffer of {@code bytes} (at least 1), uninitialized.
     *
     * @param what names the buffer in error messages ("scores", "gradient", ...)
     */
    cl_mem allocate(long bytes, String what) {
        ensureOpen();
        long size = Math.max(bytes, 4);
        if (size > device.maxAllocationBytes()) {
            // Bytes too: in MiB alone, one float past a 4 GiB limit read "needs 4096.0 MiB but allows at most 4096.0 MiB".
            throw new OpenClException(String.format(Locale.ROOT, "the %s buffer needs %d bytes (%.1f MiB) but %s "
                            + "allows at most %d bytes (%.1f MiB) in one allocation; use smaller batches", what, size,
                    size / 1048576.0, device.label(), device.maxAllocationBytes(), device.maxAllocationBytes() / 1048576.0));
        }
        try {
            int[] err = new int[1];
            return track(Status.created(CL.clCreateBuffer(context, CL_MEM_READ_WRITE, size, null, err), err));
        } catch (CLException e) {
            throw failure(String.format(Locale.ROOT, "allocating %.1f MiB for the %s buffer", size / 1048576.0, what),
                    e);
        }
    }

    /** Blocking copy of {@code bytes} from host memory into {@code mem} at byte offset {@code at}. */
    void write(cl_mem mem, long at, Pointer from, long bytes) {
        ensureOpen();
        if (bytes == 0) {
            return;
        }
        try {
            Status.check(CL.clEnqueueWriteBuffer(queue, mem, CL_TRUE, at, bytes, from, 0, null, null));
        } catch (CLException e) {
            throw failure("copying " + bytes + " bytes to the device", e);
        }
    }

    /** Blocking copy of {@code bytes} from {@code mem} at byte offset {@code at} into host memory. */
    void read(cl_mem mem, long at, Pointer to, long bytes) {
        ensureOpen();
        if (bytes == 0) {
            return;
        }
        try {
            Status.check(CL.clEnqueueReadBuffer(queue, mem, CL_TRUE, at, bytes, to, 0, null, null));
        } catch (CLException e) {
            // Blocking: it waits for the commands queued before it, and a kernel that faulted or was stopped by a
            // watchdog reports it here, so the message must not blame the copy alone.
            throw failure("copying " + bytes + " bytes from the device (or in the commands queued before it, such as"
                    + " the loss kernel, which this copy waits for)", e);
        }
    }

    /** Enqueues {@code kernel} over {@code global} work-items in work-groups of {@code local}. */
    void run(cl_kernel kernel, long[] global, long[] local) {
        ensureOpen();
        try {
            Status.check(CL.clEnqueueNDRangeKernel(queue, kernel, 1, null, global, local, 0, null, null));
        } catch (CLException e) {
            throw failure("running the loss kernel (" + global[0] + " work-items in groups of " + local[0] + ")", e);
        }
    }

    /** Releases one object this context created (a buffer that is being replaced by a larger one). */
    void release(NativePointerObject object) {
        if (object != null && live.remove(object)) {
            LIVE_IN_PROCESS.decrementAndGet();
            releaseNow(object);
        }
    }

    /** OpenCL objects this context holds (itself included), by its own bookkeeping. */
    int liveObjects() {
        return live.size();
    }

    /** OpenCL objects held by every open context of the process. */
    static int liveObjectsInProcess() {
        return LIVE_IN_PROCESS.get();
    }

    /** The driver's reference count of the context: a second, independent view of what is still attached. */
    int driverContextReferenceCount() {
        ensureOpen();
        int[] v = new int[1];
        Status.check(CL.clGetContextInfo(context, CL_CONTEXT_REFERENCE_COUNT, Sizeof.cl_uint, Pointer.to(v), null));
        return v[0];
    }

    boolean isClosed() {
        return closed;
    }

    /** Finishes queued work, then releases every object in reverse order of creation. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (queue != null) {
            try {
                CL.clFinish(queue);
            } catch (CLException ignored) {
                // releasing anyway is all that is left to do
            }
        }
        for (int i = live.size() - 1; i >= 0; i--) {
            NativePointerObject object = live.remove(i);
            LIVE_IN_PROCESS.decrementAndGet();
            try {
                releaseNow(object);
            } catch (CLException ignored) {
                // keep releasing the rest
            }
        }
        program = null;
        queue = null;
        context = null;
    }

    private <T extends NativePointerObject> T track(T object) {
        live.add(object);
        LIVE_IN_PROCESS.incrementAndGet();
        return object;
    }

    private static void releaseNow(NativePointerObject object) {
        Status.check(switch (object) {
            case cl_mem m -> CL.clReleaseMemObject(m);
            case cl_kernel k -> CL.clReleaseKernel(k);
            case cl_program p -> CL.clReleaseProgram(p);
            case cl_command_queue q -> CL.clReleaseCommandQueue(q);
            case cl_context c -> CL.clReleaseContext(c);
            default -> throw new IllegalStateException("not an object this context creates: " + object);
        });
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this OpenCL context (" + device.label() + ") is closed");
        }
    }

    private String buildLog() {
        try {
            long[] size = new long[1];
            Status.check(CL.clGetProgramBuildInfo(program, device.id(), CL_PROGRAM_BUILD_LOG, 0, null, size));
            byte[] buf = new byte[(int) size[0]];
            Status.check(CL.clGetProgramBuildInfo(program, device.id(), CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf),
                    null));
            int n = 0;
            while (n < buf.length && buf[n] != 0) {
                n++;
            }
            return new String(buf, 0, n, StandardCharsets.UTF_8).strip();
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    /** An OpenCL status turned into a sentence that says what to do. */
    OpenClException failure(String doing, CLException e) {
        String status = CL.stringFor_errorCode(e.getStatus());
        String advice = switch (e.getStatus()) {
            case CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES, CL_INVALID_BUFFER_SIZE ->
                    ": the device ran out of memory or resources; use smaller batches, close other device users, "
                            + "or select another device (-D" + OpenClDevices.PROPERTY + ")";
            case CL_OUT_OF_HOST_MEMORY -> ": the host ran out of memory";
            default -> "";
        };
        return new OpenClException("OpenCL on " + device.label() + " failed " + doing + " (" + status + ")" + advice, e);
    }
}
