package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mild.io.Figures;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** Losses print with four decimals near the scale of errors and prices, in exponent form far from it. */
class FiguresTest {

    @Test
    void fourDecimalsNearUnitScale() {
        assertEquals("0.4542", Figures.of(0.45421));
        assertEquals("0.0100", Figures.of(0.01));
        assertEquals("0.0000", Figures.of(0.0));
        assertEquals("12345.6789", Figures.of(12345.6789));
    }

    @Test
    void exponentFormFarFromIt() {
        assertEquals("4.543e-06", Figures.of(4.5425e-6), "dollars per query: 0.0000 before");
        assertEquals("9.990e-03", Figures.of(0.00999));
        assertEquals("6.000e+36", Figures.of(5.999999999999995e36), "a 40-digit number before");
        assertEquals("1.000e+05", Figures.of(1e5));
    }

    @Test
    void numbersPrintedTogetherShareTheFormOfTheLargest() {
        assertEquals("%13.4f", Figures.pattern(13, 0.5, 1e-6));
        assertEquals("%13.3e", Figures.pattern(13, 3.5e-6, 1.5e-6));
        assertEquals("%.4f", Figures.pattern(0, Double.NaN, 0.2), "NaN does not choose the form");
        assertEquals("%.4f", Figures.pattern(0), "no numbers");
        assertEquals("   3.500e-06", String.format(Locale.ROOT, Figures.pattern(12, 3.5e-6), 3.5e-6));
    }
}
