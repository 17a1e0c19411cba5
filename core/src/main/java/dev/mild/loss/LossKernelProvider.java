package dev.mild.loss;

/**
 * A backend that {@link Backends} can discover with {@link java.util.ServiceLoader}. The provider class itself
 * must load on every JVM: it may not touch hardware-specific classes (Vector API, JOCL) until
 * {@link #unavailableReason()} or {@link #create} is called.
 */
public interface LossKernelProvider {

    /**
     * The backend's short name.
     *
     * @return the name that {@code --backend NAME} and {@code -Dmild.backend=NAME} select it by
     */
    String name();

    /**
     * What the backend is, in one line.
     *
     * @return the line {@code mild backends} prints for it
     */
    String description();

    /**
     * Rank among automatic choices, highest first; a negative value means "only when asked by name"
     * (the float64 reference, or a device backend whose host-array path would lose to the CPU).
     *
     * @return the backend's rank; negative for a backend used only by name
     */
    int autoPriority();

    /**
     * Whether the backend can run here, and if not, why.
     *
     * @return {@code null} when the backend can run here; otherwise why it cannot, phrased so the user knows what
     *         to do (for example "pass --add-modules jdk.incubator.vector")
     */
    String unavailableReason();

    /**
     * A ready backend. Only called when {@link #unavailableReason()} is {@code null}.
     *
     * @param options the thread count and device to build it with
     * @return a new kernel, which the caller closes
     */
    LossKernel create(KernelOptions options);
}
