package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.io.OutputFile;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The model file: a small binary format, versioned and checksummed, written atomically.
 *
 * <pre>
 *   offset  size  field
 *   0       8     magic "MILDRTR" followed by 0x1A
 *   8       4     format version (big-endian int), currently 1
 *   12      8     payload length N (big-endian long)
 *   20      N     payload
 *   20+N    4     CRC32 of the payload (big-endian, unsigned 32 bits)
 * </pre>
 *
 * The payload, in {@link DataOutputStream} encoding (big-endian; strings as modified UTF-8):
 * <pre>
 *   info:      int count, then count x (key, value) strings
 *   features:  int d, d names
 *   standardization: d floats mean, d floats std
 *   router:    network (below)
 *   experts:   source label, int p, p names, int classes, int b, b block sizes, p doubles beta, long seed
 *   classifiers: int count, count networks
 *   network:   int layers+1, the sizes, then per layer sizes[l]*sizes[l+1] floats W (input-major), sizes[l+1] floats b
 * </pre>
 *
 * <p>Saving writes a temporary file in the target's directory, forces it to disk, then renames it over the
 * target (atomically where the file system allows), so a crash leaves either the old model or the new one,
 * never half of one. Loading checks magic, version, length and checksum before parsing, and names what is wrong.
 */
public final class ModelFile {
    static final byte[] MAGIC = {'M', 'I', 'L', 'D', 'R', 'T', 'R', 0x1A};
    public static final int VERSION = 1;
    static final int HEADER = 20;
    static final int TRAILER = 4;

    private ModelFile() {
    }

    /** What an existing file must be for {@code --out} to replace it: a model (an input or any other file is kept). */
    public static final OutputFile.Kind KIND = new OutputFile.Kind("MILD model file", MAGIC);

    /** Writes {@code model} to {@code file} atomically (temporary file + rename; see {@link OutputFile#write}). */
    public static void save(RouterModel model, Path file) {
        if (model == null || file == null) {
            throw new InvalidInputException((model == null ? "model" : "file") + " to save is missing (null)");
        }
        OutputFile.write(file, toBytes(model), "the model");
    }

    /**
     * Reads a model saved by {@link #save}.
     *
     * @throws InvalidInputException naming the file and what is wrong: missing or unreadable, not a model file
     *                               (magic), another format version, truncated or corrupt (length, CRC32, payload)
     */
    public static RouterModel load(Path file) {
        if (file == null) {
            throw new InvalidInputException("model file to load is missing (null)");
        }
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(file + ": is a directory; give a model file saved by ./mild train");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such model file");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read the model: " + OutputFile.reason(e), e);
        }
        return fromBytes(bytes, file.toString());
    }

    /** The whole file's bytes for a model. */
    public static byte[] toBytes(RouterModel model) {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(payload)) {
            writePayload(model, out);
        } catch (IOException e) {
            throw new IllegalStateException(e);   // in-memory streams do not fail
        }
        byte[] p = payload.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(p);
        ByteBuffer buf = ByteBuffer.allocate(HEADER + p.length + TRAILER);
        buf.put(MAGIC).putInt(VERSION).putLong(p.length).put(p).putInt((int) crc.getValue());
        return buf.array();
    }

    /**
     * Parses a model file's bytes (for a model that does not come from a file: a resource, a database) with the
     * checks of {@link #load}; {@code source} names it in messages.
     *
     * @throws InvalidInputException as {@link #load}, and for null bytes (e.g. a lookup that found no model)
     */
    public static RouterModel fromBytes(byte[] bytes, String source) {
        if (bytes == null) {
            throw new InvalidInputException(source + ": no model bytes (null)");
        }
        if (bytes.length < MAGIC.length) {
            throw new InvalidInputException(source + ": not a MILD model file (" + bytes.length + " bytes, too short)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new InvalidInputException(source + ": not a MILD model file (wrong magic bytes; a model starts with"
                        + " \"MILDRTR\")");
            }
        }
        if (bytes.length < HEADER) {
            throw new InvalidInputException(source + ": truncated model file (" + bytes.length + " bytes, the header"
                    + " alone has " + HEADER + ")");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        int version = buf.getInt(8);
        if (version != VERSION) {
            throw new InvalidInputException(source + ": model format version " + version + " is not supported (this"
                    + " build reads version " + VERSION + "); retrain the model with this build");
        }
        long n = buf.getLong(12);
        long expected = HEADER + n + TRAILER;
        if (n < 0 || bytes.length != expected) {
            throw new InvalidInputException(source + ": " + (n >= 0 && bytes.length < expected ? "truncated" : "corrupt")
                    + " model file: the header announces " + n + " payload bytes (" + expected + " in all), the file has "
                    + bytes.length);
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, HEADER, (int) n);
        int stored = buf.getInt(HEADER + (int) n);
        if ((int) crc.getValue() != stored) {
            throw new InvalidInputException(String.format(
                    "%s: corrupt model file: checksum mismatch (stored CRC32 %08x, computed %08x)", source, stored,
                    (int) crc.getValue()));
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, HEADER, (int) n))) {
            RouterModel m = readPayload(in, (int) n);
            if (in.available() != 0) {
                throw new InvalidInputException(source + ": corrupt model file: " + in.available()
                        + " unexpected bytes after the model");
            }
            return m;
        } catch (EOFException e) {
            throw new InvalidInputException(source + ": corrupt model file: the payload ends early", e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidInputException iie) {
                throw new InvalidInputException(source + ": corrupt model file: " + iie.getMessage(), e);
            }
            throw new InvalidInputException(source + ": corrupt model file: " + e, e);
        }
    }

    /** Longest string the format stores: {@link DataOutputStream#writeUTF} keeps the length in 16 bits. */
    public static final int MAX_NAME_BYTES = 65_535;

    /** Bytes of {@code s} in the modified UTF-8 of {@link DataOutputStream#writeUTF}. */
    static long encodedLength(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c >= 0x0001 && c <= 0x007F ? 1 : c <= 0x07FF ? 2 : 3;
        }
        return n;
    }

    /**
     * Checks that every name fits in a model file, so that training does not start on data whose model could not
     * be saved.
     *
     * @param source what the names come from, for messages (the data file)
     * @param what   "feature column" or "expert"
     * @throws InvalidInputException naming the source and the column (its position and first characters)
     */
    public static void checkNames(String source, String what, List<String> names) {
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            long bytes = encodedLength(name);
            if (bytes > MAX_NAME_BYTES) {
                throw new InvalidInputException(String.format(java.util.Locale.ROOT,
                        "%s: the name of %s \"%s...\" (%s %d of %d) is %,d bytes in UTF-8; a model file stores"
                                + " names of at most %,d bytes: shorten it", source, what, name.substring(0, 20), what,
                        i + 1, names.size(), bytes, MAX_NAME_BYTES));
            }
        }
    }

    private static void writeName(DataOutputStream out, String what, String s) throws IOException {
        if (encodedLength(s) > MAX_NAME_BYTES) {
            throw new InvalidInputException("model: " + what + " \"" + s.substring(0, 20) + "...\" is longer than the "
                    + MAX_NAME_BYTES + " bytes a model file stores");
        }
        out.writeUTF(s);
    }

    private static void writePayload(RouterModel m, DataOutputStream out) throws IOException {
        out.writeInt(m.info().size());
        for (Map.Entry<String, String> e : m.info().entrySet()) {
            writeName(out, "info key", e.getKey());
            writeName(out, "info value of " + e.getKey(), e.getValue());
        }
        out.writeInt(m.featureNames().size());
        for (String f : m.featureNames()) {
            writeName(out, "feature name", f);
        }
        writeFloats(out, m.standardizer().mean());
        writeFloats(out, m.standardizer().std());
        writeNetwork(out, m.network());
        ExpertSetup e = m.experts();
        out.writeUTF(e.source().label());
        out.writeInt(e.experts());
        for (String name : e.names()) {
            writeName(out, "expert name", name);
        }
        out.writeInt(e.classes());
        int[] blocks = e.blocks();
        out.writeInt(blocks.length);
        for (int b : blocks) {
            out.writeInt(b);
        }
        for (double b : e.beta()) {
            out.writeDouble(b);
        }
        out.writeLong(e.seed());
        out.writeInt(m.expertClassifiers().size());
        for (Mlp c : m.expertClassifiers()) {
            writeNetwork(out, c);
        }
    }

    private static RouterModel readPayload(DataInputStream in, int payload) throws IOException {
        int infoCount = count(in, payload, "info entries");
        Map<String, String> info = new LinkedHashMap<>();
        for (int i = 0; i < infoCount; i++) {
            info.put(in.readUTF(), in.readUTF());
        }
        int d = count(in, payload, "features");
        List<String> features = new ArrayList<>(d);
        for (int c = 0; c < d; c++) {
            features.add(in.readUTF());
        }
        float[] mean = readFloats(in, d);
        float[] std = readFloats(in, d);
        Standardizer standardizer = new Standardizer(mean, std, features);   // checks them, naming the feature
        Mlp network = readNetwork(in, payload, "the router network");
        ExpertSetup.Source source = ExpertSetup.Source.byName(in.readUTF());
        int p = count(in, payload, "experts");
        List<String> names = new ArrayList<>(p);
        for (int k = 0; k < p; k++) {
            names.add(in.readUTF());
        }
        int classes = in.readInt();   // not a size (nothing per class is stored): bounded like a data file's labels
        if (classes < 0 || classes > dev.mild.data.CsvReader.MAX_CLASS + 1) {
            throw new InvalidInputException("impossible number of classes: " + classes);
        }
        int nb = count(in, payload, "blocks");
        int[] blocks = new int[nb];
        for (int i = 0; i < nb; i++) {
            blocks[i] = in.readInt();
        }
        double[] beta = new double[p];
        for (int k = 0; k < p; k++) {
            beta[k] = in.readDouble();
        }
        long seed = in.readLong();
        int nc = count(in, payload, "classifiers");
        List<Mlp> classifiers = new ArrayList<>(nc);
        for (int i = 0; i < nc; i++) {
            classifiers.add(readNetwork(in, payload, "the classifier of expert " + (i + 1)));
        }
        return new RouterModel(features, standardizer, network,
                new ExpertSetup(source, names, classes, blocks, beta, seed), classifiers, info);
    }

    // A count can never exceed the payload's size: this keeps a corrupt count from allocating gigabytes.
    private static int count(DataInputStream in, int payload, String what) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > payload) {
            throw new InvalidInputException("impossible number of " + what + ": " + n);
        }
        return n;
    }

    private static void writeNetwork(DataOutputStream out, Mlp net) throws IOException {
        out.writeInt(net.layers() + 1);
        for (int s : net.sizes()) {
            out.writeInt(s);
        }
        for (int l = 0; l < net.layers(); l++) {
            writeFloats(out, net.weights(l));
            writeFloats(out, net.biases(l));
        }
    }

    /** {@code what} names the network in messages ("the router network"). */
    private static Mlp readNetwork(DataInputStream in, int payload, String what) throws IOException {
        int n = count(in, payload, "layers");
        int[] sizes = new int[n];
        long params = 0;
        for (int i = 0; i < n; i++) {
            sizes[i] = count(in, payload, "units");
            if (i > 0) {
                params += (long) sizes[i - 1] * sizes[i] + sizes[i];
            }
        }
        if (params * 4 > payload) {
            throw new InvalidInputException("a network of sizes " + java.util.Arrays.toString(sizes)
                    + " cannot fit in the file");
        }
        Mlp net = new Mlp(sizes);
        for (int l = 0; l < net.layers(); l++) {
            readInto(in, net.weights(l));
            readInto(in, net.biases(l));
            finite(what + ", layer " + (l + 1) + " weights", net.weights(l));
            finite(what + ", layer " + (l + 1) + " biases", net.biases(l));
        }
        return net;
    }

    // A NaN or infinite parameter (a damaged file whose checksum was recomputed, or another writer) would route
    // every row by NaN scores; the file is refused instead.
    private static void finite(String what, float... v) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new InvalidInputException(what + (v.length > 1 ? ", entry " + i : "") + " is " + v[i]
                        + " (every parameter must be finite)");
            }
        }
    }

    private static void writeFloats(DataOutputStream out, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4);
        b.asFloatBuffer().put(v);
        out.write(b.array());
    }

    private static float[] readFloats(DataInputStream in, int n) throws IOException {
        float[] v = new float[n];
        readInto(in, v);
        return v;
    }

    private static void readInto(DataInputStream in, float[] v) throws IOException {
        byte[] raw = new byte[v.length * 4];
        in.readFully(raw);
        ByteBuffer.wrap(raw).asFloatBuffer().get(v);
    }
}
