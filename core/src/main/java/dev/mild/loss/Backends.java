package dev.mild.loss;

import dev.mild.InvalidInputException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Finds loss backends at run time ({@link ServiceLoader} over {@link LossKernelProvider}) and picks one.
 *
 * <p>The rule: a name given by the caller ({@code --backend NAME}) or by the system property
 * {@value #PROPERTY} must exist and be usable here, or it is an error listing what is available. Otherwise
 * the usable backend with the highest {@link LossKernelProvider#autoPriority()} wins
 * ({@code simd} 30, {@code scalar} 10; {@code opencl} and {@code reference} only by name); when a preferred
 * backend cannot run, one warning says why and what to do.
 *
 * <p>A backend is asked whether it can run here ({@link LossKernelProvider#unavailableReason()}) only when that
 * matters: the automatic choice asks the automatic ones only, a name asks that backend, {@link #list()} asks all.
 * Asking {@code opencl} starts the OpenCL platform (45-57 ms with PoCL on the Zen 5 machine, more with some GPU
 * drivers, and a broken driver can fail in it), which a run on {@code simd} has no use for.
 */
public final class Backends {

    /** System property that forces a backend by name. */
    public static final String PROPERTY = "mild.backend";

    private static final System.Logger LOG = System.getLogger("dev.mild");
    private static volatile List<Entry> entries;
    private static LossKernel shared;

    private Backends() {
    }

    /**
     * What {@code mild backends} shows for one backend.
     *
     * @param name              the name {@link #open} and {@value #PROPERTY} take ({@code scalar}, {@code simd}, ...)
     * @param description       one line saying what the backend is
     * @param autoPriority      its rank among automatic choices, highest first; negative when it is used only by
     *                          name
     * @param unavailableReason why it cannot run here, phrased so the user knows what to do; {@code null} when it
     *                          can
     */
    public record Info(String name, String description, int autoPriority, String unavailableReason) {
        /**
         * Whether the backend can run in this JVM.
         *
         * @return {@code true} when {@link #unavailableReason()} is {@code null}
         */
        public boolean available() {
            return unavailableReason == null;
        }

        /**
         * Whether the automatic choice considers this backend.
         *
         * @return {@code true} when {@link #autoPriority()} is {@code >= 0}; {@code false} for backends used only
         *         by name ({@code reference}, {@code opencl})
         */
        public boolean automatic() {
            return autoPriority >= 0;
        }
    }

    /** A backend found, and whether it can run here once asked (asked once per JVM). */
    private static final class Entry {
        final LossKernelProvider provider;
        final String name;
        final int autoPriority;
        private volatile Info info;

        Entry(LossKernelProvider provider) {
            this.provider = provider;
            this.name = provider.name();
            this.autoPriority = provider.autoPriority();
        }

        boolean automatic() {
            return autoPriority >= 0;
        }

        /** Asks the backend whether it can run here, the first time. */
        Info info() {
            Info i = info;
            if (i == null) {
                synchronized (this) {
                    i = info;
                    if (i == null) {
                        String reason;
                        try {
                            reason = provider.unavailableReason();
                        } catch (RuntimeException | LinkageError err) {
                            reason = "failed to start: " + err;
                        }
                        i = new Info(name, provider.description(), autoPriority, reason);
                        info = i;
                    }
                }
            }
            return i;
        }
    }

    /**
     * Every backend found, usable ones first, each group by automatic priority (highest first). Asks every one.
     *
     * @return an unmodifiable list, one entry per backend name found on the class path or module path
     */
    public static List<Info> list() {
        return entries().stream().map(Entry::info)
                .sorted(Comparator.comparing((Info x) -> !x.available())
                        .thenComparing(x -> -x.autoPriority())
                        .thenComparing(Info::name))
                .toList();
    }

    /**
     * Names of the backends usable here, in {@link #list()} order.
     *
     * @return an unmodifiable list of names; never empty, since {@code scalar} always runs
     */
    public static List<String> availableNames() {
        return list().stream().filter(Info::available).map(Info::name).toList();
    }

    /**
     * The name {@link #openDefault} would use: the {@value #PROPERTY} property if set, else the automatic choice.
     *
     * @return the backend's name
     * @throws InvalidInputException when {@value #PROPERTY} names a backend that does not exist or cannot run here
     */
    public static String defaultName() {
        String forced = forcedName();
        return forced != null ? requireForced(forced).name : automatic().name;
    }

    /**
     * {@link #require}, for the name {@value #PROPERTY} gives, which the user set as a Java option (through
     * MILD_JVM_OPTS), not as --backend: "unknown backend" alone sent them looking for a --backend they never gave.
     */
    private static Entry requireForced(String name) {
        try {
            return require(name);
        } catch (InvalidInputException e) {
            throw Checks.fromJavaOption(PROPERTY, name, e);
        }
    }

    /** The backend {@value #PROPERTY} names, trimmed; {@code null} when it is unset or blank. */
    private static String forcedName() {
        String forced = System.getProperty(PROPERTY);
        return forced == null || forced.isBlank() ? null : forced.trim();
    }

    /**
     * The backend called {@code name}, built with {@code options}. The caller owns it: close it when done
     * (try-with-resources). With {@code options.threads()} other than 1 a CPU backend starts its worker threads
     * here and stops them at {@link LossKernel#close()}; one dropped open has them stopped only when the garbage
     * collector finds it. {@link Loss#of} shares one process-wide kernel instead ({@link #shared()}).
     *
     * @param name    the backend's name, as {@link #list()} gives it ({@code reference}, {@code scalar},
     *                {@code simd}, {@code opencl})
     * @param options worker threads and device; {@link KernelOptions#DEFAULT} for all cores and the default device
     * @return a new kernel, owned by the caller
     * @throws InvalidInputException when no backend has that name or it cannot run here (the message lists
     *                               the available ones and says why this one is not), options is null, or the
     *                               system refuses a CPU backend's worker threads (a thread or memory limit; the
     *                               ones already started are stopped)
     */
    public static LossKernel open(String name, KernelOptions options) {
        Entry entry = require(name);
        requireOptions(options);
        LossKernel kernel = entry.provider.create(options);
        LOG.log(System.Logger.Level.DEBUG, () -> "backend " + kernel.describe());
        return kernel;
    }

    /**
     * The backend named by {@value #PROPERTY} if set, else the automatic choice (logged once); the caller owns it, as
     * {@link #open}'s.
     *
     * @param options worker threads and device; {@link KernelOptions#DEFAULT} for all cores and the default device
     * @return a new kernel, owned by the caller
     * @throws InvalidInputException when {@code options} is {@code null}, {@value #PROPERTY} names a backend that
     *                               does not exist or cannot run here, or the system refuses the worker threads
     *                               (as {@link #open})
     */
    public static LossKernel openDefault(KernelOptions options) {
        requireOptions(options);
        String forced = forcedName();
        if (forced != null) {
            requireForced(forced);
            return open(forced, options);
        }
        LossKernel kernel = automatic().provider.create(options);
        if (DEFAULT_LOGGED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, () -> "loss backend: " + kernel.describe());
        }
        return kernel;
    }

    /**
     * A process-wide default backend for {@link Loss#of}, created on first use and never closed: its
     * {@link LossKernel#close()} does nothing, since every {@code Loss.of} in the process shares it (closing it
     * used to make every later call anywhere throw "backend is closed").
     *
     * @return the same kernel on every call, built with {@link KernelOptions#DEFAULT} on first use
     * @throws InvalidInputException on first use, when {@value #PROPERTY} names a backend that does not exist or
     *                               cannot run here
     */
    public static synchronized LossKernel shared() {
        if (shared == null) {
            shared = new Shared(openDefault(KernelOptions.DEFAULT));
        }
        return shared;
    }

    /** The shared backend as callers get it: all of it but {@link #close()}. */
    private record Shared(LossKernel kernel) implements LossKernel {
        @Override
        public String name() {
            return kernel.name();
        }

        @Override
        public String describe() {
            return kernel.describe();
        }

        @Override
        public Tolerance tolerance() {
            return kernel.tolerance();
        }

        @Override
        public boolean warmUp(long maxMillis) {
            return kernel.warmUp(maxMillis);
        }

        @Override
        public double lossAndGradient(LossConfig config, int rows, float[] scores, int scoresOffset, float[] weights,
                                      int weightsOffset, float[] rowLoss, int rowLossOffset, float[] grad,
                                      int gradOffset) {
            return kernel.lossAndGradient(config, rows, scores, scoresOffset, weights, weightsOffset, rowLoss,
                    rowLossOffset, grad, gradOffset);
        }

        @Override
        public void close() {
            // shared by the whole process: not the caller's to close
        }
    }

    private static void requireOptions(KernelOptions options) {
        if (options == null) {
            throw new InvalidInputException("kernel options are missing (null): use KernelOptions.DEFAULT or"
                    + " KernelOptions.threads(n)");
        }
    }

    private static Entry require(String name) {
        for (Entry e : entries()) {
            if (e.name.equals(name)) {
                if (!e.info().available()) {
                    throw new InvalidInputException("backend \"" + name + "\" is not available here: "
                            + e.info().unavailableReason() + " (available: " + String.join(", ", availableNames()) + ")");
                }
                return e;
            }
        }
        throw new InvalidInputException("unknown backend \"" + name + "\" (available: "
                + String.join(", ", availableNames()) + ")");
    }

    // Compare-and-set, so that threads opening backends at once log each line once, not once each.
    private static final AtomicBoolean CHOICE_LOGGED = new AtomicBoolean();
    private static final AtomicBoolean DEFAULT_LOGGED = new AtomicBoolean();

    private static Entry automatic() {
        Entry best = null;
        List<String> skipped = new ArrayList<>();
        for (Entry e : entries()) {
            if (e.automatic() && e.info().available() && (best == null || e.autoPriority > best.autoPriority)) {
                best = e;
            }
        }
        if (best == null) {
            throw new IllegalStateException("no loss backend found: the scalar backend in mild-core should always be present");
        }
        for (Entry e : entries()) {
            if (e.automatic() && !e.info().available() && e.autoPriority > best.autoPriority) {
                skipped.add(e.name + " (" + e.info().unavailableReason() + ")");
            }
        }
        if (!skipped.isEmpty() && CHOICE_LOGGED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "using the " + best.name + " backend; not available: "
                    + String.join("; ", skipped));
        }
        return best;
    }

    private static List<Entry> entries() {
        List<Entry> e = entries;
        if (e == null) {
            synchronized (Backends.class) {
                e = entries;
                if (e == null) {
                    e = discover();
                    entries = e;
                }
            }
        }
        return e;
    }

    private static List<Entry> discover() {
        List<Entry> found = new ArrayList<>();
        Iterator<LossKernelProvider> it = ServiceLoader.load(LossKernelProvider.class, Backends.class.getClassLoader()).iterator();
        while (true) {
            LossKernelProvider provider;
            try {
                if (!it.hasNext()) {
                    break;
                }
                provider = it.next();
            } catch (ServiceConfigurationError | LinkageError err) {
                LOG.log(System.Logger.Level.WARNING, "a loss backend failed to load: " + err);
                continue;
            }
            if (found.stream().noneMatch(x -> x.name.equals(provider.name()))) {
                found.add(new Entry(provider));
            }
        }
        return List.copyOf(found);
    }

    /**
     * For messages: "name (reason)" of every backend that cannot run here.
     *
     * @return those entries joined by "; ", or an empty string when every backend can run
     */
    public static String unavailableSummary() {
        return list().stream().filter(i -> !i.available())
                .map(i -> i.name() + " (" + i.unavailableReason() + ")")
                .collect(Collectors.joining("; "));
    }
}
