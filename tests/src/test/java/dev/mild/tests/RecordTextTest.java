package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.RecordText;
import dev.mild.data.Dataset;
import dev.mild.router.ExpertSetup;
import dev.mild.router.Mlp;
import dev.mild.router.RouterModel;
import dev.mild.router.Standardizer;
import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Records of the public API that hold arrays printed them as identity hashes ({@code [F@1b2c3d}) in toString, and
 * lists in full. Now an array shows its type, length and first values, and a long list its first items and size.
 */
class RecordTextTest {

    static void readable(String text, int maxLength) {
        for (String identity : new String[] {"[F@", "[D@", "[I@", "[B@", "[J@", "@"}) {
            assertFalse(text.contains(identity), "an identity hash (" + identity + ") in: " + text);
        }
        assertTrue(text.length() <= maxLength, text.length() + " characters: " + text);
    }

    /** 200 rows of 1,000 named features (200,000 values): a few hundred characters, with the first values. */
    @Test
    void aLargeDataSetPrintsItsShapesAndFirstValues() {
        int rows = 200;
        int d = 1000;
        List<String> names = new ArrayList<>();
        for (int c = 0; c < d; c++) {
            names.add("pixel" + c);
        }
        float[] x = new float[rows * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = i % 7;
        }
        int[] labels = new int[rows];
        labels[0] = 3;
        double[] costs = new double[rows * 2];
        costs[1] = 0.25;
        Dataset data = new Dataset("big.csv", names, x, rows, labels, List.of("a", "b"), costs, null, null);
        String text = data.toString();
        readable(text, 800);
        assertTrue(text.startsWith("Dataset[source=big.csv, featureNames=[pixel0, pixel1,"), text);
        assertTrue(text.contains("pixel7, ... (1000 in all)]"), text);
        assertTrue(text.contains("features=float[200000] {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, ...}"), text);
        assertTrue(text.contains("labels=int[200] {3, 0, 0, 0, 0, 0, 0, 0, ...}"), text);
        assertTrue(text.contains("costs=double[400] {0.0, 0.25, 0.0,"), text);
        assertTrue(text.contains("experts=[a, b]"), text);
        assertTrue(text.contains("predictions=null"), text);
    }

    /** A model holds a standardizer (a class) and an expert setup (a record with arrays): both shown, shortened. */
    @Test
    void aModelPrintsItsParts() {
        Standardizer standardizer = new Standardizer(new float[] {1f, 2f}, new float[] {0.5f, 0f});
        ExpertSetup setup = new ExpertSetup(ExpertSetup.Source.SYNTHETIC, List.of("e1", "e2"), 10, new int[] {7, 3},
                new double[] {0.7, 0.3}, 5);
        RouterModel model = new RouterModel(List.of("a", "b"), standardizer, new Mlp(2, 4, 2), setup, List.of(),
                Map.of("seed", "5"));
        String text = model.toString();
        readable(text, 600);
        assertTrue(text.contains("standardizer=Standardizer[features=2, mean=float[2] {1.0, 2.0}, std=float[2]"
                + " {0.5, 0.0}]"), text);
        assertTrue(text.contains("network=Mlp[2, 4, 2]"), text);
        assertTrue(text.contains("blocks=int[2] {7, 3}, beta=double[2] {0.7, 0.3}"), text);
        assertEquals("float[3][] {float[1] {1.0}, float[0] {}, null}",
                RecordText.value(new float[][] {{1f}, {}, null}));
    }

    /**
     * Every public record of the engine that holds an array or a collection has its own toString (a record added
     * later with an array would print {@code [F@...} again). The toString javac writes for a record calls
     * {@code ObjectMethods} through invokedynamic; the class files say whose toString each record has.
     */
    @Test
    void everyPublicRecordWithArraysOrListsHasItsOwnToString() throws IOException, URISyntaxException {
        List<String> missing = new ArrayList<>();
        int checked = 0;
        Path location = Path.of(RecordText.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (FileSystem jar = Files.isDirectory(location) ? null : FileSystems.newFileSystem(location);
             Stream<Path> files = Files.walk(jar == null ? location : jar.getPath("/"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                ClassModel model = ClassFile.of().parse(Files.readAllBytes(file));
                Class<?> c = load(model.thisClass().asInternalName().replace('/', '.'));
                if (!c.isRecord() || !isPublicApi(c)) {
                    continue;
                }
                boolean holdsMany = false;
                for (RecordComponent rc : c.getRecordComponents()) {
                    holdsMany |= rc.getType().isArray() || Collection.class.isAssignableFrom(rc.getType());
                }
                if (holdsMany) {
                    checked++;
                    if (hasGeneratedToString(model)) {
                        missing.add(c.getName());
                    }
                }
            }
        }
        assertTrue(checked >= 10, "found only " + checked + " public records with arrays or lists");
        assertEquals(List.of(), missing, "public records that print arrays as identity hashes");
    }

    private static boolean hasGeneratedToString(ClassModel model) {
        for (MethodModel m : model.methods()) {
            if (m.methodName().equalsString("toString") && m.methodType().equalsString("()Ljava/lang/String;")) {
                return m.code().orElseThrow().elementStream().anyMatch(e -> e instanceof InvokeDynamicInstruction indy
                        && indy.bootstrapMethod().owner().descriptorString().equals("Ljava/lang/runtime/ObjectMethods;"));
            }
        }
        return false;
    }

    private static boolean isPublicApi(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            if (!Modifier.isPublic(k.getModifiers())) {
                return false;
            }
        }
        return true;
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, RecordTextTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError("cannot load " + name, e);
        }
    }
}
