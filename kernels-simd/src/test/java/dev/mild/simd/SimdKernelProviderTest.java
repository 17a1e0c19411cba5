package dev.mild.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * What the provider says of the test-only width property {@value SimdKernelProvider#BITS_PROPERTY}: a width it
 * does not know, or one wider than this CPU's vectors, makes the backend unavailable with a message naming the
 * value; 128, 256 and up to the CPU's width are usable. The property is read again on every call (the species
 * itself is fixed once per JVM), so it is set here for the call and then put back as the run had it.
 */
class SimdKernelProviderTest {

    @Test
    void widthsItDoesNotKnowAreRefusedByName() {
        for (String value : new String[] {"64", "384", "1024", "0x100", "wide", "-512"}) {
            String reason = reasonWithBits(value);
            assertTrue(reason != null && reason.contains("-D" + SimdKernelProvider.BITS_PROPERTY + "=" + value)
                    && reason.contains("is not one of 128, 256, 512"), value + ": " + reason);
        }
    }

    @Test
    void knownWidthsAreUsableUpToTheCpusOwn() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        for (int bits : new int[] {128, 256, 512}) {
            String reason = reasonWithBits(" " + bits + " "); // blanks around the number are allowed
            if (bits <= preferred) {
                assertNull(reason, bits + " bits on a CPU of " + preferred);
            } else {
                assertEquals("-D" + SimdKernelProvider.BITS_PROPERTY + "=" + bits + " is wider than this CPU's "
                        + preferred + "-bit vectors", reason);
            }
        }
        assertNull(reasonWithBits(""), "an empty value is unset");
        assertNull(reasonWithBits("   "), "a blank value is unset");
    }

    /** {@code unavailableReason()} with the property set to {@code value}, the run's own value restored after. */
    private static String reasonWithBits(String value) {
        String before = System.getProperty(SimdKernelProvider.BITS_PROPERTY);
        try {
            System.setProperty(SimdKernelProvider.BITS_PROPERTY, value);
            return new SimdKernelProvider().unavailableReason();
        } finally {
            if (before == null) {
                System.clearProperty(SimdKernelProvider.BITS_PROPERTY);
            } else {
                System.setProperty(SimdKernelProvider.BITS_PROPERTY, before);
            }
        }
    }
}
