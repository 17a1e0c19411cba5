package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mild.InvalidInputException;
import dev.mild.data.DataFiles;
import dev.mild.data.Dataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DataFiles.align, the step that puts a file's columns in a model's order for eval and route, in process: before,
 * only the CLI tests' child JVMs reached it, so mutation testing saw none of it. Every expected array is the file's
 * cells moved by hand.
 */
class AlignTest {
    @TempDir
    Path tmp;

    private Dataset read(String csv) throws IOException {
        Path f = tmp.resolve("f.csv");
        Files.writeString(f, csv);
        return DataFiles.read(f);
    }

    @Test
    void featuresAndCostsTakeTheModelsOrderAndKeepTheirFileColumns() throws IOException {
        Dataset data = read("b,a,cost:y,cost:x\n1,2,0.25,0.75\n3,4,0.5,0\n");
        Dataset aligned = DataFiles.align(data, List.of("a", "b"), List.of("x", "y"));
        assertEquals(List.of("a", "b"), aligned.featureNames());
        assertArrayEquals(new float[] {2, 1, 4, 3}, aligned.features());
        assertEquals(List.of("x", "y"), aligned.experts());
        assertArrayEquals(new double[] {0.75, 0.25, 0, 0.5}, aligned.costs());
        // Messages about an aligned column still name its place in the file (1-based).
        assertEquals("column 2 (a)", aligned.featureColumn(0));
        assertEquals("column 4 (cost:x)", aligned.expertColumn(0));
        assertEquals("column 3 (cost:y)", aligned.expertColumn(1));
        assertArrayEquals(new float[] {1, 2, 3, 4}, data.features(), "the file's data set is not modified");
    }

    @Test
    void columnsAlreadyInOrderGiveTheDataSetItself() throws IOException {
        Dataset data = read("a,b,cost:x,cost:y\n1,2,0.25,0.75\n");
        assertSame(data, DataFiles.align(data, List.of("a", "b"), List.of("x", "y")));
        Dataset labelsOnly = read("a,b,label\n1,2,0\n");
        assertSame(labelsOnly, DataFiles.align(labelsOnly, List.of("a", "b"), List.of("x", "y")));
    }

    @Test
    void expertsAloneOutOfOrderAreMovedWithTheFeaturesAsTheyWere() throws IOException {
        Dataset data = read("a,b,cost:y,cost:x\n1,2,0.25,0.75\n");
        Dataset aligned = DataFiles.align(data, List.of("a", "b"), List.of("x", "y"));
        assertNotSame(data, aligned);
        assertArrayEquals(new float[] {1, 2}, aligned.features());
        assertArrayEquals(new double[] {0.75, 0.25}, aligned.costs());
    }

    @Test
    void predictionsAndLabelsFollowTheSameWay() throws IOException {
        Dataset data = read("label,b,a,pred:y,pred:x\n0,1,2,3,4\n1,5,6,7,8\n");
        Dataset aligned = DataFiles.align(data, List.of("a", "b"), List.of("x", "y"));
        assertArrayEquals(new float[] {2, 1, 6, 5}, aligned.features());
        assertArrayEquals(new int[] {4, 3, 8, 7}, aligned.predictions());
        assertArrayEquals(new int[] {0, 1}, aligned.labels());
        assertEquals("column 5 (pred:x)", aligned.expertColumn(0));
    }

    @Test
    void aFileWithoutExpertColumnsStaysWithoutThem() throws IOException {
        Dataset data = read("b,a,label\n1,2,0\n");
        Dataset aligned = DataFiles.align(data, List.of("a", "b"), List.of("x", "y"));
        assertArrayEquals(new float[] {2, 1}, aligned.features());
        assertEquals(List.of(), aligned.experts());
        assertEquals(null, aligned.costs());
    }

    @Test
    void aMissingOrForeignColumnIsNamedWithTheFile() throws IOException {
        Dataset data = read("a,b,cost:x,cost:y\n1,2,0.25,0.75\n");
        String f = data.source();
        assertEquals(f + ": the model needs feature column \"c\", which the file does not have",
                refused(data, List.of("a", "b", "c"), List.of("x", "y")));
        assertEquals(f + ": column 2 (b) is not a feature of the model (the model's features: a)",
                refused(data, List.of("a"), List.of("x", "y")));
        assertEquals(f + ": column 4 (cost:y) names an expert the model does not know (its experts: x, z)",
                refused(data, List.of("a", "b"), List.of("x", "z")));
        assertEquals(f + ": no cost:z column for the model's expert \"z\"",
                refused(data, List.of("a", "b"), List.of("x", "y", "z")));
        Dataset preds = read("label,a,pred:x\n0,1,0\n");
        assertEquals(preds.source() + ": no pred:y column for the model's expert \"y\"",
                refused(preds, List.of("a"), List.of("x", "y")));
    }

    /** train's --valid and --test files take the --data file's order, and the messages name both files. */
    @Test
    void aHeldOutFileTakesTheDataFilesOrder() throws IOException {
        Path d = tmp.resolve("d.csv");
        Files.writeString(d, "a,b,cost:x,cost:y\n1,2,0.25,0.75\n");
        Dataset data = DataFiles.read(d);
        Dataset held = read("b,a,cost:y,cost:x\n5,6,1,0\n");
        Dataset aligned = DataFiles.alignToData(held, "--test", data);
        assertArrayEquals(new float[] {6, 5}, aligned.features());
        assertArrayEquals(new double[] {0, 1}, aligned.costs());
        String h = "--test " + held.source();
        String other = "--data " + d;
        assertEquals(h + ": column 3 (c) is not a column of " + other + " (its features: a, b)", assertThrows(
                InvalidInputException.class, () -> DataFiles.alignToData(read("a,b,c,cost:x,cost:y\n1,2,3,0,1\n"),
                        "--test", data)).getMessage());
        assertEquals(h + ": no column \"b\", which " + other + " has as a feature", assertThrows(
                InvalidInputException.class, () -> DataFiles.alignToData(read("a,cost:x,cost:y\n1,0,1\n"), "--test",
                        data)).getMessage());
        assertEquals(h + ": column 4 (cost:z) names an expert that " + other + " has no column for (its experts: x, y)",
                assertThrows(InvalidInputException.class, () -> DataFiles.alignToData(
                        read("a,b,cost:x,cost:z\n1,2,0,1\n"), "--test", data)).getMessage());
        assertEquals(h + ": no cost:y column, which " + other + " has", assertThrows(InvalidInputException.class,
                () -> DataFiles.alignToData(read("a,b,cost:x\n1,2,0\n"), "--test", data)).getMessage());
    }

    /** IDX images (read with a labels file) of another size than the model's are named by both sizes. */
    @Test
    void imagesOfAnotherSizeAreNamedByTheirSizes() {
        Dataset nine = images(9);
        assertEquals("imgs: images are 3x3, the model's are 2x2 (4 pixels)", refused(nine, pixels(4), List.of()));
        assertEquals("imgs: images are 3x3, the model's are of 6 pixels", refused(nine, pixels(6), List.of()));
        assertEquals("imgs: images are of 6 pixels, the model's are 2x2 (4 pixels)",
                refused(images(6), pixels(4), List.of()));
        // The same names without a labels file are not images: the first column the model lacks is named.
        Dataset notImages = new Dataset("imgs", pixels(9), new float[9], 1, new int[] {0}, List.of(), null, null, null);
        assertEquals("imgs: column \"pixel4\" is not a feature of the model (the model's features: pixel0, pixel1,"
                + " pixel2, pixel3)", refused(notImages, pixels(4), List.of()));
    }

    private static List<String> pixels(int n) {
        return java.util.stream.IntStream.range(0, n).mapToObj(i -> "pixel" + i).toList();
    }

    /** One image of {@code n} pixels from labels file "labels", its source not a file (so sizes come from counts). */
    private static Dataset images(int n) {
        return new Dataset("imgs", pixels(n), new float[n], 1, new int[] {0}, List.of(), null, null, null, "labels", 0);
    }

    private static String refused(Dataset data, List<String> features, List<String> experts) {
        return assertThrows(InvalidInputException.class, () -> DataFiles.align(data, features, experts)).getMessage();
    }
}
