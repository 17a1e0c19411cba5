package dev.mild.simd;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.LossKernelProvider;

/**
 * Registers the {@code simd} backend (automatic priority 30, above {@code scalar}). This class must load on
 * any JVM, so it names no Vector API type: it checks that {@code jdk.incubator.vector} is in the boot layer
 * before anything touches the kernel.
 *
 * <p>Usable when: the module was added ({@code --add-modules jdk.incubator.vector}; the launcher and the tests
 * do) and the preferred float species has at least 4 lanes (128 bits: SSE, NEON; the kernel's rows-in-lanes
 * layout gains nothing from 2 lanes, and the C2 compiler does not turn narrower vectors into SIMD code).
 */
public final class SimdKernelProvider implements LossKernelProvider {

    /** Test-only: force a vector width in bits (128, 256, 512) instead of the CPU's preferred one. */
    public static final String BITS_PROPERTY = "mild.simd.bits";

    /**
     * Test-only: {@code true} runs a forced width wider than this CPU's vectors anyway, in the Vector API's Java
     * code instead of SIMD instructions (tens of times slower, same arithmetic), so that a machine without AVX-512
     * still tests the kernel's 16-lane code.
     */
    public static final String EMULATE_PROPERTY = "mild.simd.emulate";

    static final String MODULE = "jdk.incubator.vector";

    /** The provider {@link java.util.ServiceLoader} instantiates. */
    public SimdKernelProvider() {
    }

    @Override
    public String name() {
        return SimdKernel.NAME;
    }

    @Override
    public String description() {
        return "float32 on jdk.incubator.vector lanes (rows in lanes for few experts, experts in lanes for many)";
    }

    @Override
    public int autoPriority() {
        return 30;
    }

    @Override
    public String unavailableReason() {
        return vectorProblem();
    }

    /** Why the Vector API cannot be used here, or {@code null}: shared with {@link SimdDenseProduct}. */
    static String vectorProblem() {
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            return MODULE + " is not added: pass --add-modules " + MODULE;
        }
        return Probe.speciesProblem();
    }

    @Override
    public LossKernel create(KernelOptions options) {
        return new SimdKernel(options);
    }

    /** The forced width from {@value #BITS_PROPERTY}, 0 when unset. */
    static int forcedBits() {
        String s = System.getProperty(BITS_PROPERTY);
        if (s == null || s.isBlank()) {
            return 0;
        }
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whether {@value #EMULATE_PROPERTY} allows a forced width wider than the CPU's. */
    static boolean emulateWider() {
        return Boolean.getBoolean(EMULATE_PROPERTY);
    }

    /** Touches the Vector API; only loaded once the module is known to be present. */
    private static final class Probe {
        static String speciesProblem() {
            int preferred = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
            int forced = forcedBits();
            if (forced != 0 && forced != 128 && forced != 256 && forced != 512) {
                return "-D" + BITS_PROPERTY + "=" + System.getProperty(BITS_PROPERTY) + " is not one of 128, 256, 512";
            }
            if (forced > preferred && !emulateWider()) {
                return "-D" + BITS_PROPERTY + "=" + forced + " is wider than this CPU's " + preferred + "-bit vectors"
                        + " (tests may add -D" + EMULATE_PROPERTY + "=true to run it in Java code, slowly)";
            }
            if (preferred < 128) {
                return "the preferred float vector is " + preferred + " bits; the SIMD kernel needs at least 128 (4 lanes)";
            }
            return null;
        }
    }
}
