package dev.mild.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species the kernel runs on, fixed once per JVM: the CPU's preferred float species (AVX-512: 16
 * lanes), or the width forced by the test-only system property {@value SimdKernelProvider#BITS_PROPERTY}
 * (128, 256 or 512), so the tests can run the AVX2 and NEON widths on an AVX-512 machine, and, with
 * {@value SimdKernelProvider#EMULATE_PROPERTY}, the AVX-512 width in Java code on a machine without it.
 *
 * <p>The species are {@code static final} on purpose: C2 compiles Vector API code to plain SIMD instructions
 * only when the species is a compile-time constant; an instance field would leave boxed vectors in the loop.
 */
final class Species {
    private Species() {
    }

    /** Float lanes. */
    static final VectorSpecies<Float> F = floats();

    /** Double lanes of the same width: half as many. */
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());

    /** Float lanes per vector. */
    static final int L = F.length();

    private static VectorSpecies<Float> floats() {
        int bits = SimdKernelProvider.forcedBits();
        if (bits > 0 && (bits <= FloatVector.SPECIES_PREFERRED.vectorBitSize() || SimdKernelProvider.emulateWider())) {
            return VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        }
        return FloatVector.SPECIES_PREFERRED;
    }

    /** Whether the lanes are wider than the CPU's, run in Java code ({@value SimdKernelProvider#EMULATE_PROPERTY}). */
    static boolean emulated() {
        return F.vectorBitSize() > FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }

    /** For logs: width and lanes. */
    static String describe() {
        return F.vectorBitSize() + "-bit, " + L + " float lanes"
                + (emulated() ? ", emulated in Java code (tests only)" : "");
    }
}
