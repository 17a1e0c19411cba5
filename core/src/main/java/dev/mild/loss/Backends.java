package dev.mild.loss;

import dev.mild.InvalidInputException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Finds loss backends at run time ({@link ServiceLoader} over {@link LossKernelProvider}) and picks one.
 *
 * <p>The rule: a name given by the caller ({@code --backend NAME}) or by the system property
 * {@value #PROPERTY} must exist and be usable here, or it is an error listing what is available. Otherwise
 * the usable backend with the highest {@link LossKernelProvider#autoPriority()} wins
 * ({@code simd} 30, {@code scalar} 10; {@code opencl} and {@code reference} only by name); when a preferred
 * backend cannot run, one warning says why and what to do.
 */
public final class Backends {

    /** System property that forces a backend by name. */
    public static final String PROPERTY = "mild.backend";

    private static final System.Logger LOG = System.getLogger("dev.mild");
    private static volatile List<Entry> entries;
    private static LossKernel shared;

    private Backends() {
    }

    /** What {@code mild backends} shows for one backend. */
    public record Info(String name, String description, int autoPriority, String unavailableReason) {
        public boolean available() {
            return unavailableReason == null;
        }

        public boolean automatic() {
            return autoPriority >= 0;
        }
    }

    private record Entry(LossKernelProvider provider, Info info) {
    }

    /** Every backend found, usable ones first, each group by automatic priority (highest first). */
    public static List<Info> list() {
        return entries().stream().map(Entry::info).toList();
    }

    /** Names of the backends usable here, in {@link #list()} order. */
    public static List<String> availableNames() {
        return entries().stream().filter(e -> e.info.available()).map(e -> e.info.name()).toList();
    }

    /** The name {@link #openDefault} would use: the {@value #PROPERTY} property if set, else the automatic choice. */
    public static String defaultName() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) {
            return require(forced.trim()).info.name();
        }
        return automatic().info.name();
    }

    /**
     * The backend called {@code name}, built with {@code options}.
     *
     * @throws InvalidInputException when no backend has that name or it cannot run here (the message lists
     *                               the available ones and says why this one is not), or options is null
     */
    public static LossKernel open(String name, KernelOptions options) {
        Entry entry = require(name);
        requireOptions(options);
        LossKernel kernel = entry.provider.create(options);
        LOG.log(System.Logger.Level.DEBUG, () -> "backend " + kernel.describe());
        return kernel;
    }

    /** The backend named by {@value #PROPERTY} if set, else the automatic choice (logged once). */
    public static LossKernel openDefault(KernelOptions options) {
        requireOptions(options);
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) {
            return open(forced.trim(), options);
        }
        LossKernel kernel = automatic().provider.create(options);
        if (!defaultLogged) {
            defaultLogged = true;
            LOG.log(System.Logger.Level.INFO, () -> "loss backend: " + kernel.describe());
        }
        return kernel;
    }

    /**
     * A process-wide default backend for {@link Loss#of}, created on first use and never closed: its
     * {@link LossKernel#close()} does nothing, since every {@code Loss.of} in the process shares it (closing it
     * used to make every later call anywhere throw "backend is closed").
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
            if (e.info.name().equals(name)) {
                if (!e.info.available()) {
                    throw new InvalidInputException("backend \"" + name + "\" is not available here: "
                            + e.info.unavailableReason() + " (available: " + String.join(", ", availableNames()) + ")");
                }
                return e;
            }
        }
        throw new InvalidInputException("unknown backend \"" + name + "\" (available: "
                + String.join(", ", availableNames()) + ")");
    }

    private static volatile boolean choiceLogged;
    private static volatile boolean defaultLogged;

    private static Entry automatic() {
        Entry best = null;
        List<String> skipped = new ArrayList<>();
        for (Entry e : entries()) {
            if (!e.info.automatic()) {
                continue;
            }
            if (e.info.available()) {
                if (best == null || e.info.autoPriority() > best.info.autoPriority()) {
                    best = e;
                }
            }
        }
        if (best == null) {
            throw new IllegalStateException("no loss backend found: the scalar backend in mild-core should always be present");
        }
        for (Entry e : entries()) {
            if (e.info.automatic() && !e.info.available() && e.info.autoPriority() > best.info.autoPriority()) {
                skipped.add(e.info.name() + " (" + e.info.unavailableReason() + ")");
            }
        }
        if (!choiceLogged) {
            choiceLogged = true;
            if (!skipped.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "using the " + best.info.name() + " backend; not available: "
                        + String.join("; ", skipped));
            }
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
            String reason;
            try {
                reason = provider.unavailableReason();
            } catch (RuntimeException | LinkageError err) {
                reason = "failed to start: " + err;
            }
            if (found.stream().anyMatch(x -> x.info.name().equals(provider.name()))) {
                continue;
            }
            found.add(new Entry(provider, new Info(provider.name(), provider.description(), provider.autoPriority(), reason)));
        }
        found.sort(Comparator.comparing((Entry x) -> !x.info.available())
                .thenComparing(x -> -x.info.autoPriority())
                .thenComparing(x -> x.info.name()));
        return List.copyOf(found);
    }

    /** For messages: "name (reason)" of every backend that cannot run here. */
    public static String unavailableSummary() {
        return entries().stream().filter(e -> !e.info.available())
                .map(e -> e.info.name() + " (" + e.info.unavailableReason() + ")")
                .collect(Collectors.joining("; "));
    }
}
