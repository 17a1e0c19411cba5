package dev.mild.opencl;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.LossKernelProvider;

/**
 * Registers the {@code opencl} backend ({@link OpenClKernel}) with {@link dev.mild.loss.Backends}.
 *
 * <p><b>Priority: by name only</b> ({@code -1}), on every machine. Through the host-array interface every call
 * copies {@code 12 p + 4} bytes per row to and from the device; on a CPU device (PoCL) that is pure overhead
 * next to the SIMD backend on the same cores, and on a discrete GPU the PCIe copies cap it near the CPU's own
 * speed while nobody here has measured one. The device wins when data stays on it: use the device-resident
 * {@link OpenClLoss} (or {@code --backend opencl} / {@code -Dmild.backend=opencl}) deliberately.
 *
 * <p>Availability: the OpenCL library loads, a platform exists and a usable device matches the rule of
 * {@link OpenClDevices} (and {@code -Dmild.opencl.device}, if set). Otherwise {@link #unavailableReason()}
 * says what is missing and what to install; nothing else in the program is affected. This class touches no
 * JOCL class until one of those methods runs, so it loads on any JVM.
 */
public final class OpenClProvider implements LossKernelProvider {
    /** The provider {@link java.util.ServiceLoader} instantiates. */
    public OpenClProvider() {
    }

    @Override
    public String name() {
        return OpenClKernel.NAME;
    }

    @Override
    public String description() {
        String device;
        try {
            OpenClDevices.Device d = OpenClDevices.defaultDevice();
            device = d == null ? "an OpenCL device" : d.label();
        } catch (RuntimeException | LinkageError e) {
            device = "an OpenCL device";
        }
        return "float32 OpenCL C kernels through JOCL on " + device + " (host arrays copied each call; "
                + "select with -D" + OpenClDevices.PROPERTY + "=INDEX|NAME)";
    }

    @Override
    public int autoPriority() {
        return -1;
    }

    @Override
    public String unavailableReason() {
        try {
            return OpenClDevices.unavailableReason();
        } catch (LinkageError e) {
            return "no OpenCL library: " + e;
        }
    }

    @Override
    public LossKernel create(KernelOptions options) {
        return new OpenClKernel(options);
    }
}
