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
                        + preferred + "-bit vectors (tests may add -D" + SimdKernelProvider.EMULATE_PROPERTY
                        + "=true to run it in Java code, slowly)", reason);
            }
        }
        assertNull(reasonWithBits(""), "an empty value is unset");
        assertNull(reasonWithBits("   "), "a blank value is unset");
    }

    /** With {@value SimdKernelProvider#EMULATE_PROPERTY}, every known width is usable, and unknown ones still not. */
    @Test
    void emulationAllowsWidthsWiderThanTheCpusOwn() {
        for (int bits : new int[] {128, 256, 512}) {
            assertNull(reasonWith(String.valueOf(bits), "true"), bits + " bits, emulated where wider than the CPU's");
        }
        String reason = reasonWith("1024", "true");
        assertTrue(reason != null && reason.contains("is not one of 128, 256, 512"), reason);
    }

    /** {@code unavailableReason()} with the width property set to {@code value}, without emulation. */
    private static String reasonWithBits(String value) {
        return reasonWith(value, null);
    }

    /**
     * {@code unavailableReason()} with the width and emulation properties set ({@code null}: cleared), the run's own
     * values restored after.
     */
    private static String reasonWith(String bits, String emulate) {
        String bitsBefore = System.getProperty(SimdKernelProvider.BITS_PROPERTY);
        String emulateBefore = System.getProperty(SimdKernelProvider.EMULATE_PROPERTY);
        try {
            set(SimdKernelProvider.BITS_PROPERTY, bits);
            set(SimdKernelProvider.EMULATE_PROPERTY, emulate);
            return new SimdKernelProvider().unavailableReason();
        } finally {
            set(SimdKernelProvider.BITS_PROPERTY, bitsBefore);
            set(SimdKernelProvider.EMULATE_PROPERTY, emulateBefore);
        }
    }

    private static void set(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }
}
