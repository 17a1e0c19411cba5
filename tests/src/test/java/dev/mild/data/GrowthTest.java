package dev.mild.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mild.InvalidInputException;
import org.junit.jupiter.api.Test;

/**
 * The arrays a CSV file's columns are read into grow by doubling. Past 2^30 elements the doubled size overflowed to
 * -2^31, so a file of more than 1.1 billion feature values, read with a heap large enough for them (-Xmx8g, as the
 * out-of-memory message advises, holds 2^30 floats), stopped with "NegativeArraySizeException: -2147483648" and no
 * file named. Found by the file-fuzzing review, reading the growth code after fuzzing the readers; a file that large
 * cannot be read in a test, so the growth step is checked at the sizes where it went wrong.
 */
class GrowthTest {

    @Test
    void capacityDoublesUpToTheLargestArrayAndNoFurther() {
        assertEquals(1 << 13, CsvReader.grownCapacity(1 << 12, "f.csv", "rows"));
        assertEquals(CsvReader.MAX_ARRAY, CsvReader.grownCapacity(1 << 30, "f.csv", "rows"));
        assertEquals(CsvReader.MAX_ARRAY, CsvReader.grownCapacity(CsvReader.MAX_ARRAY - 1, "f.csv", "rows"));
    }

    @Test
    void aFullLargestArrayIsAnErrorNamingTheFile() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CsvReader.grownCapacity(
                CsvReader.MAX_ARRAY, "big.csv", "feature values (rows x feature columns)"));
        assertEquals("big.csv: more than 2,147,483,639 feature values (rows x feature columns), the most one Java array"
                + " holds: use fewer rows", e.getMessage());
    }
}
