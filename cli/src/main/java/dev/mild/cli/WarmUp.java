package dev.mild.cli;

import dev.mild.router.DenseProduct;

/**
 * Warms the routers' dense product up ({@link DenseProduct#warmUp}) on a daemon thread while a command reads its
 * data, so that training starts on compiled code. Nothing waits for it: it changes no result, only how soon the
 * products run at full speed.
 */
final class WarmUp {
    private WarmUp() {
    }

    /** Longer than the warm-up takes where measured (0.4 s on the Zen 5 machine); a bound for a slow compiler. */
    static final long MAX_MILLIS = 3000;

    static void startInBackground() {
        DenseProduct product = DenseProduct.fastest();   // a bad -Dmild.dense fails here, on the command's thread
        Thread thread = new Thread(() -> {
            long t0 = System.nanoTime();
            boolean compiled = product.warmUp(MAX_MILLIS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.getLogger("dev.mild").log(System.Logger.Level.INFO, () -> "dense product " + product.name()
                    + (compiled ? ": warmed up in " + ms + " ms" : ": not at compiled speed after " + ms + " ms"));
        }, "mild-warm-up");
        thread.setDaemon(true);
        thread.start();
    }
}
