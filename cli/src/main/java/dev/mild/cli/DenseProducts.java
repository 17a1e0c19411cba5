package dev.mild.cli;

import dev.mild.router.DenseProduct;

/**
 * Which dense product the commands' routers use, and its warm-up. Every product gives the same bits, so this is a
 * matter of time only: {@code train} and {@code repro} use {@link DenseProduct#fastest()} and warm it up
 * ({@link DenseProduct#warmUp}) on a daemon thread while they read their data, so that training starts on compiled
 * code; {@code eval} and {@code route} route each row once, and use {@link DenseProduct#plain()} (see
 * {@link #forRoutingOnce}).
 */
final class DenseProducts {
    private DenseProducts() {
    }

    /**
     * {@link DenseProduct#plain()}, or the product {@value DenseProduct#PROPERTY} names. A command that routes each
     * row of a file once is over before the JIT has compiled the {@code simd} product, whose vectors are objects
     * until then: measured on the Zen 5 machine, {@code ./mild eval} of the README's 2,755 MMLU rows took 0.48 s
     * with {@code simd} against 0.28 s with {@code plain}, {@code route} 0.47 s against 0.25 s, eval of 10,000
     * Fashion-MNIST rows (784 features) 0.48 s against 0.33 s; at 110,000 rows both took the same (1.3-1.5 s, most
     * of it reading the CSV).
     */
    static DenseProduct forRoutingOnce() {
        String forced = System.getProperty(DenseProduct.PROPERTY);
        return forced == null || forced.isBlank() ? DenseProduct.plain() : DenseProduct.fastest();
    }

    /** Longer than the warm-up takes where measured (0.4 s on the Zen 5 machine); a bound for a slow compiler. */
    static final long MAX_MILLIS = 3000;

    static void warmUpInBackground() {
        DenseProduct product = DenseProduct.fastest();   // a bad -Dmild.dense fails here, on the command's thread
        Thread thread = new Thread(() -> {
            try {
                long t0 = System.nanoTime();
                boolean compiled = product.warmUp(MAX_MILLIS);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.getLogger("dev.mild").log(System.Logger.Level.INFO, () -> "dense product " + product.name()
                        + (compiled ? ": warmed up in " + ms + " ms" : ": not at compiled speed after " + ms + " ms"));
            } catch (OutOfMemoryError e) {
                // The command's data filled the heap meanwhile, and the command says so in one line; uncaught, this
                // thread printed its own stack trace beside that line. The warm-up only saves time: nothing is lost.
            }
        }, "mild-warm-up");
        thread.setDaemon(true);
        thread.start();
    }
}
