package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mild.io.JsonOut;
import org.junit.jupiter.api.Test;

/**
 * The JSON the CLI writes by hand (--json reports, golden results): expected texts written out by hand from the JSON
 * grammar (RFC 8259). Only the CLI's spawned runs used these before, which mutation testing does not see.
 */
class JsonOutTest {

    @Test
    void stringsEscapeQuotesBackslashesAndControlCharactersOnly() {
        // U+001F is the last control character (escaped as \u001f); the space U+0020 and non-ASCII text stay.
        assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\u0000\\u001f ~\u00e9\"",
                JsonOut.quote("a\"b\\c\n\r\t\u0000\u001f ~\u00e9"));
        assertEquals("\"\"", JsonOut.quote(""));
    }

    @Test
    void wholeNumbersBelow1e15HaveNoFractionAndNonFiniteValuesAreNull() {
        assertEquals("3", JsonOut.number(3.0));
        assertEquals("-42", JsonOut.number(-42.0));
        assertEquals("0", JsonOut.number(-0.0));
        assertEquals("999999999999999", JsonOut.number(999_999_999_999_999.0));
        assertEquals("-999999999999999", JsonOut.number(-999_999_999_999_999.0));
        // 1e15 itself is past the bound: Java's shortest round-trip form, still a JSON number.
        assertEquals("1.0E15", JsonOut.number(1e15));
        assertEquals("-1.0E15", JsonOut.number(-1e15));
        assertEquals("0.5", JsonOut.number(0.5));
        assertEquals("-2.5E-4", JsonOut.number(-0.00025));
        assertEquals("null", JsonOut.number(Double.NaN));
        assertEquals("null", JsonOut.number(Double.POSITIVE_INFINITY));
        assertEquals("null", JsonOut.number(Double.NEGATIVE_INFINITY));
    }

    @Test
    void arraysSeparateNumbersWithCommaAndSpace() {
        assertEquals("[]", JsonOut.array(new double[0]));
        assertEquals("[7]", JsonOut.array(new double[] {7}));
        assertEquals("[1, 0.5, null]", JsonOut.array(new double[] {1, 0.5, Double.NaN}));
    }
}
