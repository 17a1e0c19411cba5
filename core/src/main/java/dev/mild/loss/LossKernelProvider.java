package dev.mild.loss;

/**
 * A backend that {@link Backends} can discover with {@link java.util.ServiceLoader}. The provider class itself
 * must load on every JVM: it may not touch hardware-specific classes (Vector API, JOCL) until
 * {@link #unavailableReason()} or {@link #create} is called.
 */
public interface LossKernelProvider {

    /** Short name used by {@code --backend NAME} and {@code -Dmild.backend=NAME}. */
    String name();

    /** One line for {@code mild backends}: what it is. */
    String description();

    /**
     * Rank among automatic choices, highest first; a negative value means "only when asked by name"
     * (the float64 reference, or a device backend whose host-array path would lose to the CPU).
     */
    int autoPriority();

    /**
     * {@code null} when the backend can run here; otherwise why it cannot, phrased so the user knows what to
     * do (for example "pass --add-modules jdk.incubator.vector").
     */
    String unavailableReason();

    /** A ready backend. Only called when {@link #unavailableReason()} is {@code null}. */
    LossKernel create(KernelOptions options);
}
