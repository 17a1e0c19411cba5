package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mild.InvalidInputException;
import dev.mild.io.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The JSON reader (golden files, reports) on documents that end right after a value, whitespace in every place the
 * grammar (RFC 8259) allows it, and every ASCII hex digit in \\u escapes. Found by mutation testing: the golden
 * files read so far never end inside a number or an escape, and have no spaces before a colon or inside an empty
 * array. Expected values are written by hand (Java's own escapes and literals).
 */
class JsonTest {

    @Test
    void numbersAtTheEndOfTheDocumentAreRead() {
        assertEquals(10.0, Json.parse("10", "t"));
        assertEquals(-0.09, Json.parse("-0.09", "t"));
        assertEquals(-1e9, Json.parse("-1e+09", "t"));
        assertEquals(0.2, Json.parse("2E-1", "t"));
        assertEquals(List.of(10.0, 0.09, 9.0), Json.parse("[10,0.09,9]", "t"));
    }

    @Test
    void whitespaceIsAllowedAroundEveryToken() {
        assertEquals(Map.of(), Json.parse("{ }", "t"));
        assertEquals(List.of(), Json.parse("[ ]", "t"));
        assertEquals(Map.of("a", List.of(1.0)), Json.parse(" {\n\t\"a\" :\r [ 1 ] } \n", "t"));
    }

    @Test
    void everyAsciiHexDigitIsReadInEscapes() {
        // \u09af is U+09AF, \uAF0F is U+AF0F: the digits 0 9 a f A F, each end of the three ranges.
        assertEquals("\u09af\uaf0f", Json.parse("\"\\u09af\\uAF0F\"", "t"));
        for (String notHex : List.of("/", ":", "`", "g", "@", "G")) {
            // named at column 4, where the escape's four digits start
            assertEquals("t: line 1, column 4: bad \\u escape", error("\"\\u00" + notHex + "0\""), notHex);
        }
    }

    @Test
    void aDocumentEndingEarlyIsNamedWhereItEnds() {
        assertEquals("t: line 1, column 4: unexpected end of input", error("[1,"));
        assertEquals("t: line 1, column 2: unexpected end of input", error("["));
        assertEquals("t: line 1, column 2: unexpected end of input", error("{"));
        assertEquals("t: line 1, column 5: unterminated string", error("\"abc"));
        assertEquals("t: line 1, column 3: expected a digit", error("1e"));
        assertEquals("t: line 1, column 4: truncated \\u escape", error("\"\\u00"));
        // The escape is whole; the string is not closed.
        assertEquals("t: line 1, column 8: unterminated string", error("\"\\u0041"));
    }

    /** Columns counted by hand from 1; a number too long to show whole is cut at 40 characters. */
    @Test
    void syntaxErrorsNameTheOffendingCharacter() {
        assertEquals("t: line 1, column 9: expected ',' or '}'", error("{\"a\": 1 2}"));
        assertEquals("t: line 1, column 6: expected ':'", error("{\"a\" 1}"));
        assertEquals("t: line 1, column 3: control character in string", error("\"a\u0001\""));
        String forty = "1" + "0".repeat(35) + "e999";   // 40 characters, shown whole; 42 below, cut to 40
        assertEquals("t: line 1, column 1: number " + forty + " is beyond the float64 range (at most"
                + " 1.7976931348623157E308 in magnitude)", error(forty));
        assertEquals("t: line 2, column 1: number -1" + "0".repeat(36) + "e9... is beyond the float64 range"
                + " (at most 1.7976931348623157E308 in magnitude)", error("\n-" + "1" + "0".repeat(36) + "e999"));
    }

    private static String error(String text) {
        return assertThrows(InvalidInputException.class, () -> Json.parse(text, "t")).getMessage();
    }
}
