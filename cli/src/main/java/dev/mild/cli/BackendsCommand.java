package dev.mild.cli;

import dev.mild.loss.Backends;
import dev.mild.router.DenseProduct;
import java.util.Locale;
import java.util.Set;

/** {@code ./mild backends}: what backends exist here, which is the default, why others are unavailable. */
final class BackendsCommand implements Command {
    @Override
    public String name() {
        return "backends";
    }

    @Override
    public String summary() {
        return "list the loss backends found, the default one, and why others cannot run";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild backends

                Lists every loss backend found on the class path (a backend is an implementation of the
                same surrogate-loss kernel: float64 reference, float32 scalar loops, SIMD vector lanes,
                OpenCL devices), whether it can run on this machine, and which one is used when you do
                not pass --backend. The default is the usable backend with the highest priority; backends
                with priority "by name" are only used when asked for (--backend NAME or -Dmild.backend=NAME).

                Example:
                  ./mild backends

                Output columns: name, status (default / available / unavailable), priority, and a
                description, or the reason the backend cannot run and what to do about it. A last line
                names the routers' dense product (how train and an embedded router multiply a layer's
                weights: simd on vector lanes, or plain Java; both give the same bits, so only speed
                differs). eval and route use plain Java: they route each row once, and finish before
                the JIT has compiled simd (-Dmild.dense=simd forces it, see README.md).
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of();
    }

    @Override
    public int run(Args args, Console console) {
        args.positional(0, "no arguments");
        String def = Backends.defaultName();
        console.out().println(String.format(Locale.ROOT, "%-10s %-12s %-9s %s", "backend", "status", "priority", "notes"));
        for (Backends.Info b : Backends.list()) {
            String status = !b.available() ? "unavailable" : b.name().equals(def) ? "default" : "available";
            String prio = b.automatic() ? Integer.toString(b.autoPriority()) : "by name";
            String notes = b.available() ? b.description() : b.unavailableReason();
            console.out().println(String.format(Locale.ROOT, "%-10s %-12s %-9s %s", b.name(), status, prio, notes));
        }
        StringBuilder dense = new StringBuilder("routers' dense product: " + DenseProduct.fastest().name());
        dense.append(" (eval and route: ").append(DenseProducts.forRoutingOnce().name()).append(')');
        for (DenseProduct other : DenseProduct.present()) {
            String why = other.unavailableReason();
            if (why != null) {
                dense.append(" (").append(other.name()).append(" cannot run: ").append(why).append(')');
            }
        }
        console.out().println(dense);
        return Main.OK;
    }
}
