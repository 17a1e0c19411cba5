package dev.mild.opencl;

import static org.jocl.CL.CL_DEVICE_AVAILABLE;
import static org.jocl.CL.CL_DEVICE_COMPILER_AVAILABLE;
import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_LOCAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_LOCAL_MEM_TYPE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_LOCAL;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PLATFORM_NOT_FOUND_KHR;

import dev.mild.InvalidInputException;
import dev.mild.loss.KernelOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * The OpenCL devices of this machine and the rule that picks one.
 *
 * <p><b>The rule.</b> Devices are numbered in enumeration order: platform by platform (as the ICD loader lists
 * them, the order of {@code clinfo -l}), each platform's devices in order. A device is usable when it is
 * available and has a compiler. Without a selector the first usable GPU wins, then the first accelerator,
 * then the first CPU, then anything else. A selector, from {@link KernelOptions#device()} or else the system
 * property {@value #PROPERTY}, is either an index into that numbering ({@code 0}, {@code 1}, ...) or a
 * case-insensitive substring of {@code "platform name: device name (type)"}, e.g. {@code "nvidia"},
 * {@code "gpu"}, {@code "pocl"}; the first usable device in rule order that contains it wins. A selector that
 * matches nothing is an error that lists the devices.
 *
 * <p>The enumeration (which loads JOCL's native library and the system's libOpenCL) runs once per process;
 * its failure is remembered as the reason the backend is unavailable.
 */
public final class OpenClDevices {

    /** System property selecting a device by index or name substring (see the class comment). */
    public static final String PROPERTY = "mild.opencl.device";

    private static final String INSTALL_HINT = "install an OpenCL driver: Debian's pocl-opencl-icd and "
            + "ocl-icd-libopencl1 for the CPU, or your GPU vendor's OpenCL driver";

    private static volatile Enumeration enumeration;

    private OpenClDevices() {
    }

    /**
     * One OpenCL device and what the kernels need to know about it.
     *
     * @param index                position in the enumeration order (what a numeric selector picks)
     * @param platform             the device's platform, as JOCL names it
     * @param id                   the device, as JOCL names it
     * @param platformName         the platform's {@code CL_PLATFORM_NAME}
     * @param name                 the device's {@code CL_DEVICE_NAME}
     * @param type                 the device's {@code CL_DEVICE_TYPE} bits
     * @param version              the device's {@code CL_DEVICE_VERSION}
     * @param usable               true when the device is available and has a compiler
     * @param computeUnits         {@code CL_DEVICE_MAX_COMPUTE_UNITS}
     * @param maxWorkGroupSize     {@code CL_DEVICE_MAX_WORK_GROUP_SIZE}, in work items
     * @param localMemoryBytes     {@code CL_DEVICE_LOCAL_MEM_SIZE}, in bytes
     * @param dedicatedLocalMemory true when local memory is on-chip ({@code CL_LOCAL}); CPUs emulate it in RAM
     * @param maxAllocationBytes   {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}: the largest single buffer, in bytes
     * @param globalMemoryBytes    {@code CL_DEVICE_GLOBAL_MEM_SIZE}, in bytes
     */
    public record Device(int index, cl_platform_id platform, cl_device_id id, String platformName, String name,
                         long type, String version, boolean usable, int computeUnits, long maxWorkGroupSize,
                         long localMemoryBytes, boolean dedicatedLocalMemory, long maxAllocationBytes,
                         long globalMemoryBytes) {

        /**
         * The device's kind, for messages and the automatic rule.
         *
         * @return "GPU", "accelerator" or "CPU" by the first of those bits {@link #type()} has, in that order;
         *         else "other"
         */
        public String typeName() {
            if ((type & CL_DEVICE_TYPE_GPU) != 0) {
                return "GPU";
            }
            if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) {
                return "accelerator";
            }
            if ((type & CL_DEVICE_TYPE_CPU) != 0) {
                return "CPU";
            }
            return "other";
        }

        /** Rank in the automatic rule: GPU 0, accelerator 1, CPU 2, other 3. */
        int rank() {
            return switch (typeName()) {
                case "GPU" -> 0;
                case "accelerator" -> 1;
                case "CPU" -> 2;
                default -> 3;
            };
        }

        /**
         * What a name selector is matched against.
         *
         * @return {@code "platform: device (type)"}, with {@link #typeName()} as the type
         */
        public String label() {
            return platformName + ": " + name + " (" + typeName() + ")";
        }

        /**
         * One line for logs and {@code mild backends}.
         *
         * @return the index, label, version, compute units and global memory in MiB, and a note when the device is
         *         not usable
         */
        public String describe() {
            return String.format(Locale.ROOT, "#%d %s, %s, %d compute units, %d MiB", index, label(), version,
                    computeUnits, globalMemoryBytes >> 20) + (usable ? "" : " [not usable: unavailable or no compiler]");
        }
    }

    private record Enumeration(List<Device> devices, String failure) {
    }

    /**
     * Every OpenCL device, in enumeration order.
     *
     * @return the devices, usable or not; an unmodifiable list
     * @throws OpenClException when there is no OpenCL library, no platform, or no device (the message says
     *                         what to install)
     */
    public static List<Device> all() {
        Enumeration e = enumerate();
        if (e.failure != null) {
            throw new OpenClException(e.failure);
        }
        return e.devices;
    }

    /**
     * Whether OpenCL can run here, and if not, why.
     *
     * @return {@code null} when some device is usable (and the {@value #PROPERTY} selector, if set, matches one);
     *         else why not, in words that say what to install or change
     */
    public static String unavailableReason() {
        Enumeration e = enumerate();
        if (e.failure != null) {
            return e.failure;
        }
        try {
            select(null);
            return null;
        } catch (RuntimeException ex) {
            return ex.getMessage();
        }
    }

    /**
     * The device {@link #select} picks without an explicit selector (so by the {@value #PROPERTY} property when it
     * is set, else by the automatic rule).
     *
     * @return that device, or {@code null} when {@link #unavailableReason()} is not null
     */
    public static Device defaultDevice() {
        if (unavailableReason() != null) {
            return null;
        }
        return select(null);
    }

    /**
     * The device for {@code selector} (or, when it is null or blank, for the {@value #PROPERTY} property, or
     * else the automatic rule).
     *
     * @param selector an index, a name substring, or {@code null}/blank
     * @return the device picked
     * @throws OpenClException       when OpenCL is unavailable or no device is usable
     * @throws InvalidInputException when the selector matches no usable device (the message lists them)
     */
    public static Device select(String selector) {
        List<Device> devices = all();
        if (selector != null && !selector.isBlank()) {
            return choose(devices, selector, "device selector");
        }
        return choose(devices, System.getProperty(PROPERTY), "-D" + PROPERTY);
    }

    /**
     * The rule of the class comment as a pure function of a device list (testable without the hardware).
     *
     * @param devices  in enumeration order ({@link Device#index()} = position). Not modified.
     * @param selector an index, a name substring, or {@code null}/blank for the automatic rule
     * @param source   where the selector came from, for messages
     * @return the usable device that an index names, or the first usable one in rule order whose
     *         {@link Device#label()} contains the name substring (ignoring case), or by the automatic rule
     * @throws OpenClException       if there is no selector and no usable device
     * @throws InvalidInputException if the selector names no device, or an unusable one (the message lists them)
     */
    public static Device choose(List<Device> devices, String selector, String source) {
        List<Device> ranked = devices.stream().filter(Device::usable)
                .sorted(Comparator.comparingInt(Device::rank).thenComparingInt(Device::index)).toList();
        if (selector == null || selector.isBlank()) {
            if (ranked.isEmpty()) {
                throw new OpenClException("no usable OpenCL device (all are unavailable or lack a compiler): "
                        + listing(devices));
            }
            return ranked.get(0);
        }
        String s = selector.trim();
        // ASCII digits only: Character.isDigit and Integer.parseInt also take other scripts' digits.
        if (s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            int index = s.length() > 9 ? -1 : Integer.parseInt(s);
            for (Device d : devices) {
                if (d.index == index) {
                    if (!d.usable) {
                        throw new InvalidInputException(source + " \"" + s + "\": OpenCL device " + index + " ("
                                + d.label() + ") is unavailable or has no compiler; devices: " + listing(devices));
                    }
                    return d;
                }
            }
            throw new InvalidInputException(source + " \"" + s + "\": there is no OpenCL device " + s
                    + "; devices: " + listing(devices));
        }
        String needle = s.toLowerCase(Locale.ROOT);
        for (Device d : ranked) {
            if (d.label().toLowerCase(Locale.ROOT).contains(needle)) {
                return d;
            }
        }
        throw new InvalidInputException(source + " \"" + s + "\" matches no usable OpenCL device; devices: "
                + listing(devices));
    }

    static String listing(List<Device> devices) {
        return devices.stream().map(Device::describe).collect(Collectors.joining("; "));
    }

    private static Enumeration enumerate() {
        Enumeration e = enumeration;
        if (e == null) {
            synchronized (OpenClDevices.class) {
                e = enumeration;
                if (e == null) {
                    e = enumerateNow();
                    enumeration = e;
                }
            }
        }
        return e;
    }

    /** JOCL's system property for a native library file of its own per JVM (deleted when the JVM exits). */
    static final String UNIQUE_LIBRARY_NAMES = "uniqueLibraryNames";

    private static Enumeration enumerateNow() {
        // JOCL copies its native library into java.io.tmpdir under one fixed name, writing it in place: JVMs starting
        // at once loaded each other's half-written copy (6 at a time on a fresh directory: 20 of 90 starts failed, 13
        // killed by SIGBUS), a truncated leftover killed every later start, and a file planted under that name in a
        // shared /tmp would be loaded. Unless the program chose otherwise, each JVM takes a copy of its own.
        if (System.getProperty(UNIQUE_LIBRARY_NAMES) == null) {
            System.setProperty(UNIQUE_LIBRARY_NAMES, "true");
        }
        int[] count = new int[1];
        int status;
        try {
            // the first use of JOCL: loads the native libraries
            status = statusOf(() -> CL.clGetPlatformIDs(0, null, count));
        } catch (LinkageError err) {
            return new Enumeration(List.of(), nativeLibraryFailure(err));
        }
        try {
            countUnlessNotFound(status, CL_PLATFORM_NOT_FOUND_KHR, count);
            if (count[0] == 0) {
                return new Enumeration(List.of(), "no OpenCL platform found (the ICD loader found no driver in "
                        + "/etc/OpenCL/vendors" + (System.getenv("OCL_ICD_VENDORS") != null
                        ? " or OCL_ICD_VENDORS=" + System.getenv("OCL_ICD_VENDORS") : "") + "); " + INSTALL_HINT);
            }
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            Status.check(CL.clGetPlatformIDs(platforms.length, platforms, null));
            List<Device> devices = new ArrayList<>();
            List<String> platformNames = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            for (int pi = 0; pi < platforms.length; pi++) {
                cl_platform_id platform = platforms[pi];
                // One broken driver (a leftover ICD file, a GPU driver without its GPU) must not hide the
                // devices of the others: its error is kept for the message when no device is left at all.
                String platformName = "platform " + pi;
                List<Device> found = new ArrayList<>();
                try {
                    platformName = platformString(platform, CL_PLATFORM_NAME);
                    int[] n = new int[1];
                    countUnlessNotFound(statusOf(() -> CL.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, n)),
                            CL_DEVICE_NOT_FOUND, n);
                    cl_device_id[] ids = new cl_device_id[n[0]];
                    if (ids.length > 0) {
                        Status.check(CL.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids.length, ids, null));
                    }
                    for (cl_device_id id : ids) {
                        found.add(describe(devices.size() + found.size(), platform, platformName, id));
                    }
                } catch (CLException ex) {
                    failures.add(platformName + " failed while listing its devices (" + ex.getMessage() + ")");
                    continue;
                }
                platformNames.add(platformName);
                devices.addAll(found);
            }
            if (devices.isEmpty()) {
                String why = platformNames.isEmpty() ? "" : "the OpenCL platform(s) " + String.join(", ", platformNames)
                        + " have no device";
                if (!failures.isEmpty()) {
                    why += (why.isEmpty() ? "" : "; ") + String.join("; ", failures);
                }
                // The driver is there; what it lacks is its cache directory (a home that does not exist).
                String cache = platformNames.contains(PoclCache.PLATFORM) ? PoclCache.problem(System.getenv()) : null;
                return new Enumeration(List.of(), why + "; " + (cache != null ? cache : INSTALL_HINT));
            }
            return new Enumeration(List.copyOf(devices), null);
        } catch (CLException ex) {
            return new Enumeration(List.of(), "OpenCL failed while listing devices (" + ex.getMessage() + "); "
                    + INSTALL_HINT);
        } catch (LinkageError err) {
            return new Enumeration(List.of(), "no OpenCL library: " + err + "; " + INSTALL_HINT);
        }
    }

    /** A JOCL call's status, also where JOCL threw it instead (while the program has JOCL's exceptions on). */
    private static int statusOf(java.util.function.IntSupplier call) {
        try {
            return call.getAsInt();
        } catch (CLException ex) {
            return ex.getStatus();
        }
    }

    /** A count query's answer: {@code notFound} (no platform, no device) is a count of 0; other errors throw. */
    private static void countUnlessNotFound(int status, int notFound, int[] count) {
        if (status == notFound) {
            count[0] = 0;
        } else {
            Status.check(status);
        }
    }

    /**
     * Why JOCL did not load, in one line: its own native part, which it copies to {@code java.io.tmpdir} and loads
     * from there (its message is many lines of stack traces; the line that says why is picked out), or else the
     * system's libOpenCL (the ICD loader).
     */
    static String nativeLibraryFailure(LinkageError err) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = err; t != null; t = t.getCause()) { // a NoClassDefFoundError once CL failed to initialize
            all.append(t.getMessage()).append('\n');
        }
        String message = all.toString();
        if (!message.contains(JOCL_LOAD_FAILURE)) {
            return "no OpenCL library: JOCL could not load the system's libOpenCL (the ICD loader): "
                    + message.lines().findFirst().orElse("") + "; " + INSTALL_HINT;
        }
        int at = message.indexOf(JOCL_RESOURCE_ATTEMPT);
        String why = at < 0 ? message.lines().findFirst().orElse("")
                : message.substring(at + JOCL_RESOURCE_ATTEMPT.length()).strip().lines().findFirst().orElse("");
        return "JOCL could not load its native library, which it copies to java.io.tmpdir (" + System.getProperty("java.io.tmpdir")
                + ") and loads from there: " + why + "; that directory must be writable and allow executing files (not "
                + "mounted noexec): choose one with -Djava.io.tmpdir=DIR. A copy there left short by a JVM that was "
                + "writing it at the same moment or was killed doing so must be deleted; -DuniqueLibraryNames=true gives "
                + "each JVM its own copy";
    }

    /** How JOCL 2.0.6's message starts when its own native library did not load (LibUtils.loadLibrary). */
    static final String JOCL_LOAD_FAILURE = "Error while loading native library";
    /** The line of that message before the error of copying the library out of the jar and loading the copy. */
    private static final String JOCL_RESOURCE_ATTEMPT = "Stack trace from the attempt to load the library as a resource:";

    private static Device describe(int index, cl_platform_id platform, String platformName, cl_device_id id) {
        long type = deviceLong(id, CL_DEVICE_TYPE);
        boolean usable = deviceInt(id, CL_DEVICE_AVAILABLE) != 0 && deviceInt(id, CL_DEVICE_COMPILER_AVAILABLE) != 0;
        return new Device(index, platform, id, platformName, deviceString(id, CL_DEVICE_NAME).trim(), type,
                deviceString(id, CL_DEVICE_VERSION).trim(), usable, deviceInt(id, CL_DEVICE_MAX_COMPUTE_UNITS),
                deviceSize(id, CL_DEVICE_MAX_WORK_GROUP_SIZE), deviceLong(id, CL_DEVICE_LOCAL_MEM_SIZE),
                deviceInt(id, CL_DEVICE_LOCAL_MEM_TYPE) == CL_LOCAL, deviceLong(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE));
    }

    private static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        Status.check(CL.clGetPlatformInfo(platform, param, 0, null, size));
        byte[] buf = new byte[(int) size[0]];
        Status.check(CL.clGetPlatformInfo(platform, param, buf.length, Pointer.to(buf), null));
        return cString(buf);
    }

    static String deviceString(cl_device_id device, int param) {
        long[] size = new long[1];
        Status.check(CL.clGetDeviceInfo(device, param, 0, null, size));
        byte[] buf = new byte[(int) size[0]];
        Status.check(CL.clGetDeviceInfo(device, param, buf.length, Pointer.to(buf), null));
        return cString(buf);
    }

    private static int deviceInt(cl_device_id device, int param) {
        int[] v = new int[1];
        Status.check(CL.clGetDeviceInfo(device, param, Sizeof.cl_uint, Pointer.to(v), null));
        return v[0];
    }

    private static long deviceLong(cl_device_id device, int param) {
        long[] v = new long[1];
        Status.check(CL.clGetDeviceInfo(device, param, Sizeof.cl_ulong, Pointer.to(v), null));
        return v[0];
    }

    private static long deviceSize(cl_device_id device, int param) {
        long[] v = new long[1];
        Status.check(CL.clGetDeviceInfo(device, param, Sizeof.size_t, Pointer.to(v), null));
        return v[0];
    }

    private static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
}
