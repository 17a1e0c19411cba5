package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.data.Dataset;
import dev.mild.data.Generated;
import dev.mild.defer.Surrogate;
import dev.mild.router.DenseProduct;
import dev.mild.router.ExpertSetup;
import dev.mild.router.Mlp;
import dev.mild.router.ModelFile;
import dev.mild.router.Router;
import dev.mild.router.RouterModel;
import dev.mild.router.RouterTraining;
import dev.mild.router.Standardizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model files: round trip, atomic replacement, and clear errors for every kind of damage. */
class ModelFileTest {
    static RouterModel model;
    static Dataset data;

    @TempDir
    Path tmp;

    @BeforeAll
    static void train() {
        data = Generated.clusters(1200, 10, 6, 1.5, 8);
        model = RouterTraining.run(data, null, null, RouterTrainingTest.synthetic(Surrogate.Kind.MILD, "theory", 4, 5),
                RouterTraining.Listener.SILENT).model();
    }

    @Test
    void roundTripGivesIdenticalRoutesAndScores() {
        Path f = tmp.resolve("m.mild");
        ModelFile.save(model, f);
        RouterModel back = ModelFile.load(f);
        assertEquals(model.featureNames(), back.featureNames());
        assertEquals(model.expertNames(), back.expertNames());
        assertEquals(model.info(), back.info());
        assertEquals(model.experts().source(), back.experts().source());
        assertArrayEquals(model.experts().blocks(), back.experts().blocks());
        assertArrayEquals(model.experts().beta(), back.experts().beta());
        assertEquals(model.experts().classes(), back.experts().classes());
        assertEquals(model.experts().seed(), back.experts().seed());
        assertTrue(model.network().sameParameters(back.network()));
        assertArrayEquals(model.standardizer().mean(), back.standardizer().mean());
        assertArrayEquals(model.standardizer().std(), back.standardizer().std());
        Router a = model.router();
        Router b = back.router();
        Router plain = back.router(DenseProduct.plain()); // as ./mild eval and route route: the same bits
        int n = data.rows();
        int[] ca = new int[n];
        int[] cb = new int[n];
        int[] cp = new int[n];
        float[] sa = new float[n * 3];
        float[] sb = new float[n * 3];
        float[] sp = new float[n * 3];
        a.routeBatch(data.features(), n, ca, sa);
        b.routeBatch(data.features(), n, cb, sb);
        plain.routeBatch(data.features(), n, cp, sp);
        assertArrayEquals(ca, cb);
        assertArrayEquals(sa, sb);
        assertArrayEquals(ca, cp);
        assertArrayEquals(sa, sp);
        assertArrayEquals(ModelFile.toBytes(model), ModelFile.toBytes(back), "saving again gives the same bytes");
    }

    @Test
    void saveReplacesAtomicallyAndLeavesNoTemporaryFile() throws IOException {
        Path f = tmp.resolve("router.mild");
        Files.writeString(f, "an older file");
        ModelFile.save(model, f);
        ModelFile.save(model, f);
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(1, files.count(), "only the model, no temporary file");
        }
        assertArrayEquals(ModelFile.toBytes(model), Files.readAllBytes(f));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ModelFile.save(model, tmp.resolve("missing-dir").resolve("m.mild")));
        assertTrue(e.getMessage().contains("missing-dir"), e.getMessage());
        // No model: the same error from toBytes as from save (it was a NullPointerException from the writer)
        e = assertThrows(InvalidInputException.class, () -> ModelFile.toBytes(null));
        assertEquals(assertThrows(InvalidInputException.class, () -> ModelFile.save(null, f)).getMessage(),
                e.getMessage());
    }

    @Test
    void damagedFilesAreClearErrors() throws IOException {
        byte[] good = ModelFile.toBytes(model);
        assertError(Arrays.copyOf(good, good.length - 1), "truncated");
        assertError(Arrays.copyOf(good, 12), "truncated");
        assertError(new byte[0], "not a MILD model file");
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertError(magic, "not a MILD model file");
        byte[] version = good.clone();
        ByteBuffer.wrap(version).putInt(8, 2);
        assertError(version, "version 2 is not supported");
        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 0x10;
        assertError(flipped, "checksum mismatch");
        byte[] longer = Arrays.copyOf(good, good.length + 3);
        assertError(longer, "corrupt");
        byte[] text = "hello, I am not a model".getBytes();
        assertError(text, "not a MILD model file");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFile.load(tmp.resolve("nope.mild")));
        assertTrue(e.getMessage().contains("nope.mild") && e.getMessage().contains("no such"), e.getMessage());
    }

    @Test
    void nullBytesNameTheSource() {
        // A lookup that found no model (a missing resource, an empty database column) once gave a bare NPE.
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ModelFile.fromBytes(null, "models table, row 7"));
        assertEquals("models table, row 7: no model bytes (null)", e.getMessage());
    }

    @Test
    void aDirectoryGivenAsTheModelIsNamedAsOne() {
        // --model with a directory (or an empty --model '', the current directory) once read "java.io.IOException".
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFile.load(tmp));
        assertEquals(tmp + ": is a directory; give a model file saved by ./mild train", e.getMessage());
    }

    @Test
    void nonFiniteParametersAreRefusedOnLoading() throws IOException {
        // A valid checksum over a NaN or infinite parameter (another writer, or damage with the checksum redone).
        Mlp router = model.network().copy();
        router.weights(0)[3] = Float.NaN;
        assertError(ModelFile.toBytes(withNetwork(router)),
                "the router network: layer 1 weight 3 (input 0, output 3; these 0-based) is NaN");
        router = model.network().copy();
        router.biases(router.layers() - 1)[1] = Float.POSITIVE_INFINITY;
        assertError(ModelFile.toBytes(withNetwork(router)), "the router network: layer "
                + router.layers() + " bias 1 (0-based) is Infinity");
    }

    @Test
    void aBadStandardizationIsRefusedOnLoadingNamingTheFeature() throws IOException {
        // The format's payload starts with the info entries and the feature names; the means follow, then the stds.
        byte[] good = ModelFile.toBytes(model);
        int d = model.featureNames().size();
        int means = standardizationOffset(good);
        String second = model.featureNames().get(1);
        assertError(withChecksum(good, means + 4, Float.NaN), "feature \"" + second + "\"", "NaN");
        // A negative deviation is finite, but no deviation: named too (it was refused without the name).
        assertError(withChecksum(good, means + 4 * d + 4, -1f), "feature \"" + second + "\"", "std -1.0",
                "std >= 0");
        // A deviation so small that 1 / std is infinite: the model loaded, then every row failed to standardize,
        // even one at the mean, with the blame on the row's value.
        assertError(withChecksum(good, means + 4 * d + 4, 1e-40f), "feature \"" + second + "\" has std 1.0E-40, too"
                + " small to divide by in float32 (1 / std overflows)");
    }

    /**
     * A name twice among the features or the experts (damage with the checksum redone, or another writer): such a
     * model loaded, and then eval read one file column for both (the expert's costs, silently), and route said a
     * header naming the feature had no column of that name.
     */
    @Test
    void aRepeatedFeatureOrExpertNameIsRefusedOnLoading() throws IOException {
        byte[] good = ModelFile.toBytes(model);
        assertEquals(List.of("x0", "x1"), model.featureNames().subList(0, 2));
        assertError(withChecksum(replaceOnce(good, "\0\2x1", "\0\2x0")), "model: feature name \"x0\" appears twice");
        assertEquals(List.of("expert1", "expert2"), model.expertNames().subList(0, 2));
        assertError(withChecksum(replaceOnce(good, "\0\7expert2", "\0\7expert1")),
                "model: expert name \"expert1\" appears twice");
    }

    /**
     * Damage inside the payload with the checksum redone (found by fuzzing): each is refused naming the file and the
     * part of the payload. A string whose bytes are not modified UTF-8 read "java.io.UTFDataFormatException:
     * malformed input around byte 0"; a count larger than the bytes left was allocated and read until the payload
     * ran out ("the payload ends early", naming no part).
     */
    @Test
    void damageInsideThePayloadNamesThePart() throws IOException {
        byte[] good = ModelFile.toBytes(model);
        int features = featureCountOffset(good);   // the feature count, then the names: x0, x1, ...
        assertEquals(model.featureNames().size(), ByteBuffer.wrap(good).getInt(features));
        assertEquals(2, ByteBuffer.wrap(good).getShort(features + 4), "x0 takes two bytes");
        byte[] notText = good.clone();
        notText[features + 4 + 2 + 2 + 2] = (byte) 0xff;   // the 'x' of x1: no modified UTF-8 byte is 0xff
        assertError(withChecksum(notText), "corrupt model file: the feature names: the name of feature 2 is not text");
        byte[] tooMany = good.clone();
        int after = good.length - 4 - (features + 4);   // payload bytes after the count
        ByteBuffer.wrap(tooMany).putInt(features, after / 10 + 1);   // each feature takes a name, a mean, a std
        assertError(withChecksum(tooMany), "the feature names: impossible number of features: " + (after / 10 + 1)
                + " (they take at least 10 bytes each, and only " + after + " bytes of the payload follow)");
        byte[] longName = good.clone();
        ByteBuffer.wrap(longName).putShort(features + 4, (short) 0xffff);   // x0 "runs" past the end of the file
        assertTrue(good.length < 0xffff);
        assertError(withChecksum(longName), "corrupt model file: the payload (" + (good.length - 24)
                + " bytes) ends early, in the feature names");
    }

    /**
     * Bytes after the model inside the payload (length and checksum redone) named the file and "corrupt model file"
     * twice: the message was made with them and then wrapped by the payload parser's own catch. Found by fuzzing model
     * payloads with the checksum recomputed.
     */
    @Test
    void bytesAfterTheModelAreNamedOnce() throws IOException {
        byte[] good = ModelFile.toBytes(model);
        byte[] longer = Arrays.copyOf(good, good.length + 3);   // three more payload bytes, then the checksum
        ByteBuffer.wrap(longer).putLong(12, good.length - 24 + 3);
        Path f = tmp.resolve("longer.mild");
        Files.write(f, withChecksum(longer));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFile.load(f));
        // The model's own bytes end where the good file's checksum began.
        assertEquals(f + ": corrupt model file: 3 unexpected bytes after the model (from byte offset "
                + (good.length - 4) + ")", e.getMessage());
    }

    /**
     * Where a model file's standardization (the means, then the stds) starts: after the 20-byte header, the info
     * entries (a count, then key and value strings) and the feature names (a count, then the names). Read here
     * with the format's own layout, not through ModelFile.
     */
    private static int standardizationOffset(byte[] file) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(file, 20, file.length - 24));
        for (int i = in.readInt(); i > 0; i--) {
            in.readUTF();
            in.readUTF();
        }
        for (int c = in.readInt(); c > 0; c--) {
            in.readUTF();
        }
        return file.length - 4 - in.available();
    }

    /** Layer sizes near 2^31 (checksum redone) are refused as not fitting the file, without overflowing the count. */
    @Test
    void hugeLayerSizesAreRefusedBeforeAllocating() throws IOException {
        byte[] good = ModelFile.toBytes(model);
        int layers = standardizationOffset(good) + 8 * model.featureNames().size();   // after means and stds
        assertEquals(model.network().sizes().length, ByteBuffer.wrap(good).getInt(layers));
        int sizes = layers + 4;   // the router network's first size
        byte[] huge = good.clone();
        // 4 x (s0 s1 + s1 + s1 s2 + s2) is 2^64 here, 0 in a long: that product let these sizes through.
        ByteBuffer.wrap(huge).putInt(sizes, Integer.MAX_VALUE).putInt(sizes + 4, Integer.MAX_VALUE).putInt(sizes + 8, 1);
        assertError(withChecksum(huge), "corrupt model file: the router network: a network of sizes [2147483647,"
                + " 2147483647, 1] cannot fit in the file");
    }

    @Test
    void aPayloadLengthBeyondAnyFileIsNamedWithoutOverflow() throws IOException {
        byte[] good = ModelFile.toBytes(model);
        // 20 + n + 4 overflowed a long: "the header announces 9223372036854775807 payload bytes
        // (-9223372036854775786 in all)".
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).putLong(12, Long.MAX_VALUE);
        assertError(huge, "corrupt model file: the header announces 9223372036854775807 payload bytes (more than a"
                + " file can hold in all), the file has " + good.length);
        byte[] negative = good.clone();
        ByteBuffer.wrap(negative).putLong(12, -1);
        assertError(negative, "corrupt model file: the header announces a negative payload length (-1), the file has "
                + good.length + " bytes");
    }

    /** The offset in a model file's bytes of the feature count (after the info entries). */
    private static int featureCountOffset(byte[] file) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(file, 20, file.length - 24));
        for (int i = in.readInt(); i > 0; i--) {
            in.readUTF();
            in.readUTF();
        }
        return file.length - 4 - in.available();
    }

    /** {@code bytes} with the one occurrence of {@code from} (ASCII) replaced by {@code to}, of the same length. */
    static byte[] replaceOnce(byte[] bytes, String from, String to) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf(from);
        assertTrue(at >= 0 && text.indexOf(from, at + 1) < 0, "\"" + from + "\" occurs once");
        return (text.substring(0, at) + to + text.substring(at + from.length())).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A model file's bytes with the checksum recomputed over the payload. */
    static byte[] withChecksum(byte[] file) {
        byte[] bytes = file.clone();
        CRC32 crc = new CRC32();
        crc.update(bytes, 20, bytes.length - 24);
        ByteBuffer.wrap(bytes).putInt(bytes.length - 4, (int) crc.getValue());
        return bytes;
    }

    /** A model file's bytes with the float at {@code offset} replaced and the checksum recomputed. */
    private static byte[] withChecksum(byte[] file, int offset, float value) {
        byte[] bytes = file.clone();
        ByteBuffer.wrap(bytes).putFloat(offset, value);
        return withChecksum(bytes);
    }

    /** The model with another router network (the constructors accept any parameter values). */
    private static RouterModel withNetwork(Mlp network) {
        return new RouterModel(model.featureNames(), model.standardizer(), network, model.experts(), model.expertClassifiers(),
                model.info());
    }

    @Test
    void savedModelsGetTheUsualPermissionsOfANewFileOrKeepTheReplacedOnes() throws IOException {
        Assumptions.assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path plain = Files.createFile(tmp.resolve("plain"));   // what any new file gets here (the umask)
        Path f = tmp.resolve("new.mild");
        ModelFile.save(model, f);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(f));
        Set<PosixFilePermission> groupReadable = PosixFilePermissions.fromString("rw-r-----");
        Files.setPosixFilePermissions(f, groupReadable);
        ModelFile.save(model, f);
        assertEquals(groupReadable, Files.getPosixFilePermissions(f), "replacing a model keeps its permissions");
        assertArrayEquals(ModelFile.toBytes(model), Files.readAllBytes(f));
    }

    @Test
    void aNameTooLongForTheFormatIsAClearError() {
        List<String> names = new java.util.ArrayList<>(model.featureNames());
        names.set(1, "x".repeat(70_000));
        RouterModel longName = new RouterModel(names, model.standardizer(), model.network(), model.experts(),
                model.expertClassifiers(), model.info());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFile.toBytes(longName));
        assertTrue(e.getMessage().contains("feature name \"xxxx") && e.getMessage().contains("65535"), e.getMessage());
    }

    /**
     * The model was read whole before its magic was looked at: /dev/zero as --model ran until the heap was full
     * ("give Java a larger heap"), and a file too large for one array failed with Java's "Required array size too
     * large". The magic comes first, then the size; a model through a pipe still loads.
     */
    @Test
    void theMagicIsCheckedBeforeTheRestIsReadAndAbsurdSizesAreRefused() throws Exception {
        Path zero = Path.of("/dev/zero");
        Assumptions.assumeTrue(Files.exists(zero), "needs /dev/zero");
        InvalidInputException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(30), () -> assertThrows(InvalidInputException.class, () -> ModelFile.load(zero)));
        assertEquals("/dev/zero (not a regular file: a device? a pipe?): not a MILD model file (wrong magic bytes; a"
                + " model starts with \"MILDRTR\")", e.getMessage());

        // A sparse file of 2 GiB and more that starts like a model: refused by its size, without reading it.
        Path huge = tmp.resolve("huge.mild");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.write(ModelFile.toBytes(model), 0, 20);
            f.setLength((1L << 31) + 100);
        }
        e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                () -> assertThrows(InvalidInputException.class, () -> ModelFile.load(huge)));
        // At most what one array holds (2^31 - 9 bytes) and no more than this JVM's heap; which of the two limits
        // applies is said.
        long limit = Math.min(Integer.MAX_VALUE - 8L, Runtime.getRuntime().maxMemory());
        assertEquals(huge + ": too large for a model file (2147483748 bytes; at most " + limit + " bytes are read, "
                + (limit < 2147483639L ? "the Java heap limit: if it really is a model, give Java a larger heap with"
                + " -Xmx, e.g. MILD_JVM_OPTS=-Xmx8g ./mild ..." : "the most one Java array holds") + ")", e.getMessage());

        Path fifo = tmp.resolve("pipe.mild");
        Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "needs mkfifo");
        byte[] good = ModelFile.toBytes(model);
        Thread writer = Thread.ofPlatform().daemon().start(() -> {
            try {
                Files.write(fifo, good);
            } catch (IOException ignored) {
                // the reader failed; the assertion below says how
            }
        });
        RouterModel back = ModelFile.load(fifo);
        writer.join(10_000);
        assertEquals(model.featureNames(), back.featureNames());
    }

    /**
     * A small model built by hand, with trained experts: its two classifiers come last in the file, the second one
     * filling the payload to its last byte (a network that exactly fits what is left is not "too large"), and every
     * parameter survives the round trip. The models trained above have no classifiers, so this part of the format
     * was never written or read by a test (found by mutation testing).
     */
    @Test
    void aModelWithTrainedExpertsKeepsItsClassifiers() {
        RouterModel hand = handModel(ExpertSetup.Source.TRAINED, 2, new int[] {1, 1});
        RouterModel back = ModelFile.fromBytes(ModelFile.toBytes(hand), "hand");
        assertEquals(2, back.expertClassifiers().size());
        for (int i = 0; i < 2; i++) {
            assertTrue(hand.expertClassifiers().get(i).sameParameters(back.expertClassifiers().get(i)), "classifier " + i);
        }
        assertTrue(hand.network().sameParameters(back.network()));
        assertEquals(List.of("e1", "e2"), back.expertNames());
        assertEquals(2, back.experts().classes());
    }

    /**
     * The class count is bounded like a data file's labels (0..MAX_CLASS, so at most 1000001 classes): both ends
     * load, one more is refused. Costs-column experts take any count, so the writer stores what it is given.
     */
    @Test
    void theClassCountIsAcceptedUpToTheLabelsBound() throws IOException {
        for (int classes : new int[] {0, 1_000_001}) {
            RouterModel hand = handModel(ExpertSetup.Source.COSTS, classes, new int[0]);
            assertEquals(classes, ModelFile.fromBytes(ModelFile.toBytes(hand), "hand").experts().classes());
        }
        assertError(ModelFile.toBytes(handModel(ExpertSetup.Source.COSTS, 1_000_002, new int[0])),
                "corrupt model file: the expert setup: impossible number of classes: 1000002");
    }

    /**
     * One feature "a" standardized by mean 0.5 and std 2, a router 1 -> 2 with parameters set by hand, experts e1 and
     * e2 (prices 0.25 and 0), and for trained experts one classifier 1 -> classes each.
     */
    static RouterModel handModel(ExpertSetup.Source source, int classes, int[] blocks) {
        Mlp router = new Mlp(1, 2);
        router.weights(0)[0] = 1.5f;
        router.weights(0)[1] = -2f;
        router.biases(0)[1] = 0.125f;
        List<Mlp> classifiers = new java.util.ArrayList<>();
        if (source == ExpertSetup.Source.TRAINED) {
            for (int i = 0; i < 2; i++) {
                Mlp c = new Mlp(1, classes);
                c.weights(0)[1] = 3f + i;
                c.biases(0)[0] = -1f - i;
                classifiers.add(c);
            }
        }
        return new RouterModel(List.of("a"), new Standardizer(new float[] {0.5f}, new float[] {2f}, List.of("a")),
                router, new ExpertSetup(source, List.of("e1", "e2"), classes, blocks, new double[] {0.25, 0}, 7),
                classifiers, java.util.Map.of());
    }

    /** Damage in the second of several strings or networks is named by its number, from 1. */
    @Test
    void damageIsNamedByTheNumberOfTheEntryExpertOrClassifier() throws IOException {
        RouterModel hand = handModel(ExpertSetup.Source.TRAINED, 2, new int[] {1, 1});
        java.util.Map<String, String> two = new java.util.LinkedHashMap<>();
        two.put("k1", "v1");
        two.put("k2", "v2");
        RouterModel withInfo = new RouterModel(hand.featureNames(), hand.standardizer(), hand.network(), hand.experts(),
                hand.expertClassifiers(), two);
        byte[] good = ModelFile.toBytes(withInfo);
        // 0xff is no byte of modified UTF-8.
        assertError(withChecksum(replaceOnce(good, "\0\2k2", "\0\2\u00ff2")),
                "the info entries: the key of info entry 2 is not text");
        assertError(withChecksum(replaceOnce(good, "\0\2v2", "\0\2\u00ff2")),
                "the info entries: the value of info entry 2 is not text");
        assertError(withChecksum(replaceOnce(good, "\0\2e2", "\0\2\u00ff2")),
                "the expert setup: the name of expert 2 is not text");
        Mlp second = hand.expertClassifiers().get(1).copy();
        second.weights(0)[0] = Float.NaN;
        RouterModel nan = new RouterModel(hand.featureNames(), hand.standardizer(), hand.network(), hand.experts(),
                List.of(hand.expertClassifiers().get(0), second), java.util.Map.of());
        assertError(ModelFile.toBytes(nan), "corrupt model file: the classifier of expert 2: layer 1 weight 0");
    }

    /**
     * Bytes given to fromBytes directly (a resource, a database column) have their magic checked there too, not
     * only by load; and the header's length is compared with the file's size in exact words.
     */
    @Test
    void fromBytesChecksTheMagicAndTheAnnouncedLength() {
        byte[] good = ModelFile.toBytes(model);
        byte[] magic = good.clone();
        magic[3] = 'X';
        assertTrue(assertThrows(InvalidInputException.class, () -> ModelFile.fromBytes(magic, "res"))
                .getMessage().startsWith("res: not a MILD model file (wrong magic bytes"));
        int len = good.length;
        long n = len - 24;   // 20 header bytes and a 4-byte checksum around the payload
        // One byte short: the header announces n payload bytes, n + 24 in all.
        assertEquals("res: truncated model file: the header announces " + n + " payload bytes (" + len
                + " in all), the file has " + (len - 1), fromBytesError(Arrays.copyOf(good, len - 1)));
        // The header alone (20 bytes): not refused as shorter than the header, but by its announced length.
        assertEquals("res: truncated model file: the header announces " + n + " payload bytes (" + len
                + " in all), the file has 20", fromBytesError(Arrays.copyOf(good, 20)));
        // The largest length a file could have: 9223372036854775807 - 24 = 9223372036854775783, total 2^63 - 1.
        byte[] largest = good.clone();
        ByteBuffer.wrap(largest).putLong(12, Long.MAX_VALUE - 24);
        assertEquals("res: truncated model file: the header announces 9223372036854775783 payload bytes"
                + " (9223372036854775807 in all), the file has " + len, fromBytesError(largest));
        // An empty payload (length 0; the CRC32 of no bytes is 0) is not a negative length: it ends early.
        byte[] empty = ByteBuffer.allocate(24).put(good, 0, 12).putLong(0).putInt(0).array();
        assertEquals("res: corrupt model file: the payload (0 bytes) ends early, in the info entries",
                fromBytesError(empty));
    }

    private static String fromBytesError(byte[] bytes) {
        return assertThrows(InvalidInputException.class, () -> ModelFile.fromBytes(bytes, "res")).getMessage();
    }

    /**
     * A hidden layer one unit wider than the bytes left can hold (checksum redone) is refused by the size check, as
     * "cannot fit", with the count of bytes left: h is the smallest width whose parameters d h + h + h p + p floats
     * take more than those bytes.
     */
    @Test
    void aHiddenLayerJustTooWideForTheFileIsRefusedBeforeAllocating() throws IOException {
        byte[] good = ModelFile.toBytes(model);
        int layers = standardizationOffset(good) + 8 * model.featureNames().size();
        int[] sizes = model.network().sizes();
        assertEquals(3, sizes.length, "d -> hidden -> p");
        int left = good.length - 4 - (layers + 4 + 4 * 3);   // payload bytes after the three sizes
        long d = sizes[0];
        long p = sizes[2];
        int h = 1;
        while (4 * (d * h + h + h * p + p) <= left) {
            h++;
        }
        byte[] wide = good.clone();
        ByteBuffer.wrap(wide).putInt(layers + 8, h);
        assertError(withChecksum(wide), "corrupt model file: the router network: a network of sizes [" + d + ", " + h
                + ", " + p + "] cannot fit in the file (" + left + " bytes of the payload follow)");
    }

    /**
     * Names are stored in modified UTF-8 with a 16-bit length: 1 byte for U+0001..U+007F, 2 for U+0000 and
     * U+0080..U+07FF, 3 above. A name of exactly 65535 bytes is accepted (and saved and loaded), one character more
     * is refused with its size; DataOutputStream.writeUTF, the format's own writer, agrees on each.
     */
    @Test
    void namesAreMeasuredInModifiedUtf8UpToTheLastByte() throws IOException {
        record Case(String fits, String over, long overBytes) {
        }
        List<Case> cases = List.of(
                new Case("a".repeat(65_535), "a".repeat(65_536), 65_536),
                new Case("\u0001".repeat(65_535), "\u0001".repeat(65_536), 65_536),
                new Case("\u007f".repeat(65_535), "\u007f".repeat(65_536), 65_536),
                new Case("\0".repeat(32_767) + "a", "\0".repeat(32_768), 65_536),
                new Case("\u0080".repeat(32_767) + "a", "\u0080".repeat(32_767) + "ab", 65_536),
                new Case("\u07ff".repeat(32_767) + "a", "\u07ff".repeat(32_768), 65_536),
                new Case("\u0800".repeat(21_845), "\u0800".repeat(21_845) + "a", 65_536),
                new Case("\uffff".repeat(21_845), "\uffff".repeat(21_846), 65_538));
        for (Case c : cases) {
            new DataOutputStream(new ByteArrayOutputStream()).writeUTF(c.fits);   // the format's writer takes it
            assertThrows(java.io.UTFDataFormatException.class,
                    () -> new DataOutputStream(new ByteArrayOutputStream()).writeUTF(c.over));
            ModelFile.checkNames("f.csv", "feature column", List.of("x", c.fits));
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> ModelFile.checkNames("f.csv", "feature column", List.of("x", c.over)));
            // (the name's first characters are shown escaped when they are control characters)
            assertTrue(e.getMessage().startsWith("f.csv: the name of feature column \"") && e.getMessage().contains(
                    "...\" (feature column 2 of 2) is " + String.format(java.util.Locale.ROOT, "%,d", c.overBytes)
                    + " bytes in UTF-8"), e.getMessage());
        }
        // The writer's own check: a feature name of 65535 bytes is saved and loaded back.
        String longest = cases.get(5).fits;
        RouterModel hand = handModel(ExpertSetup.Source.COSTS, 0, new int[0]);
        RouterModel named = new RouterModel(List.of(longest), hand.standardizer().named(List.of(longest)),
                hand.network(), hand.experts(), List.of(), java.util.Map.of());
        assertEquals(List.of(longest), ModelFile.fromBytes(ModelFile.toBytes(named), "hand").featureNames());
    }

    private void assertError(byte[] bytes, String... expected) throws IOException {
        Path f = tmp.resolve("bad.mild");
        Files.write(f, bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFile.load(f));
        for (String x : expected) {
            assertTrue(e.getMessage().contains(x) && e.getMessage().contains("bad.mild"),
                    "expected \"" + x + "\" and the file name in: " + e.getMessage());
        }
    }
}
