package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.data.DataFiles;
import dev.mild.io.OutputFile;
import dev.mild.loss.Checks;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UTFDataFormatException;
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
    static final byte[] MAGIC = {'M', 'I', 'L', 'D', 'R', 'T', 'R', 0x1A};   // CsvReader knows it (a model as data)
    /** The format version this build writes, and the only one it reads. */
    public static final int VERSION = 1;
    static final int HEADER = 20;
    static final int TRAILER = 4;

    private ModelFile() {
    }

    /** What an existing file must be for {@code --out} to replace it: a model (an input or any other file is kept). */
    public static final OutputFile.Kind KIND = new OutputFile.Kind("MILD model file", MAGIC);

    /**
     * Writes {@code model} to {@code file} atomically (temporary file + rename; see {@link OutputFile#write}).
     *
     * @param model the model to save
     * @param file  where to save it; a file already there is replaced, whatever it holds (the CLI's {@code --out}
     *              checks {@link #KIND} first, this method does not)
     * @throws InvalidInputException when {@code model} or {@code file} is {@code null}, or naming {@code file}
     *                               when writing fails (an existing file is then left as it was)
     */
    public static void save(RouterModel model, Path file) {
        Checks.required("model to save", model);
        Checks.required("file to save", file);
        OutputFile.write(file, toBytes(model), "the model");
    }

    /**
     * Reads a model saved by {@link #save}.
     *
     * @param file the model file; read whole into memory (at most the heap's size) after its magic is checked
     * @return the model, checked as {@link RouterModel}'s constructor checks it
     * @throws InvalidInputException naming the file and what is wrong: missing or unreadable, not a model file
     *                               (magic), another format version, truncated or corrupt (length, CRC32, payload)
     */
    public static RouterModel load(Path file) {
        Checks.required("model file to load", file);
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(file + ": is a directory; give a model file saved by ./mild train");
        }
        byte[] bytes;
        // The magic is checked before the rest is read: a device given as the model (/dev/zero) or a large file of
        // another kind was read whole first, and then "out of memory: give Java a larger heap".
        boolean regular = Files.isRegularFile(file);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(MAGIC.length);
            checkMagic(magic, file + (regular ? "" : " (not a regular file: a device? a pipe?)"));
            long limit = maxFileBytes();
            if (regular) {
                long size = Files.size(file);
                if (size > limit) {
                    throw tooLarge(file, size + " bytes", limit);
                }
            }
            // readNBytes grows its buffer as bytes come, so a pipe is read up to the limit and no further.
            byte[] rest = in.readNBytes((int) (limit - MAGIC.length + 1));
            if (MAGIC.length + (long) rest.length > limit) {
                throw tooLarge(file, "more than " + limit + " bytes", limit);
            }
            bytes = ByteBuffer.allocate(MAGIC.length + rest.length).put(magic).put(rest).array();
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such model file");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read the model: " + OutputFile.reason(e), e);
        }
        return fromBytes(bytes, file.toString());
    }

    /**
     * The largest model file {@link #load} reads: what one Java array holds, and no more than the heap this JVM
     * may use (the model is parsed from the file's bytes, in memory).
     */
    static long maxFileBytes() {
        return Math.min(Integer.MAX_VALUE - 8L, Runtime.getRuntime().maxMemory());
    }

    private static InvalidInputException tooLarge(Path file, String size, long limit) {
        boolean heap = limit < Integer.MAX_VALUE - 8L;
        return new InvalidInputException(file + ": too large for a model file (" + size + "; at most " + limit
                + " bytes are read, " + (heap ? "the Java heap limit: if it really is a model, give Java a larger"
                + " heap with -Xmx, e.g. MILD_JVM_OPTS=-Xmx8g ./mild ..." : "the most one Java array holds") + ")");
    }

    /** Refuses bytes that do not start with the magic; {@code source} names them in the message. */
    private static void checkMagic(byte[] bytes, String source) {
        if (bytes.length < MAGIC.length) {
            throw new InvalidInputException(source + ": not a MILD model file (" + bytes.length + " bytes, too short)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                // A model gzipped to be stored or sent (m.mild.gz) was only "wrong magic bytes".
                DataFiles.Compression compressed = DataFiles.compressedKind(bytes);
                throw new InvalidInputException(source + ": not a MILD model file (wrong magic bytes; a model starts"
                        + " with \"MILDRTR\")" + (compressed == null ? "" : ": it is " + compressed.description()
                        + "; unpack it first (" + compressed.unpackWith() + ")"));
            }
        }
    }

    /**
     * The whole file's bytes for a model.
     *
     * @param model the model to encode, not {@code null}
     * @return a new array: header, payload and checksum, what {@link #save} writes and {@link #fromBytes} reads
     * @throws InvalidInputException when {@code model} is {@code null} or a name is longer than
     *                               {@link #MAX_NAME_BYTES} in modified UTF-8
     */
    public static byte[] toBytes(RouterModel model) {
        Checks.required("model to save", model);   // as save: a NullPointerException from deep in the writer before
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
     * @param bytes  the whole file's bytes, as {@link #toBytes} gives them. Not modified.
     * @param source what the bytes are, for messages (a resource name, a key)
     * @return the model, checked as {@link RouterModel}'s constructor checks it
     * @throws InvalidInputException as {@link #load}, and for null bytes (e.g. a lookup that found no model)
     */
    public static RouterModel fromBytes(byte[] bytes, String source) {
        if (bytes == null) {
            throw new InvalidInputException(source + ": no model bytes (null)");
        }
        checkMagic(bytes, source);
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
        if (n < 0) {
            throw new InvalidInputException(source + ": corrupt model file: the header announces a negative payload"
                    + " length (" + n + "), the file has " + bytes.length + " bytes");
        }
        // Compared without adding the header to n: a damaged length near 2^63 overflowed the sum, and the message
        // gave the whole file a negative size.
        long payloadBytes = bytes.length - HEADER - TRAILER;
        if (n != payloadBytes) {
            boolean possible = n <= Long.MAX_VALUE - HEADER - TRAILER;   // else no file could be that long
            String total = possible ? Long.toString(HEADER + n + TRAILER) : "more than a file can hold";
            throw new InvalidInputException(source + ": " + (n > payloadBytes && possible ? "truncated" : "corrupt")
                    + " model file: the header announces " + n + " payload bytes (" + total + " in all), the file has "
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
        Payload in = new Payload(bytes, (int) n);
        try {
            RouterModel m = readPayload(in);
            if (in.remaining() != 0) {
                // Without the source: the catch below puts it and "corrupt model file" in front (they were there twice).
                throw new InvalidInputException(in.remaining() + " unexpected bytes after the model (from byte offset "
                        + (HEADER + n - in.remaining()) + ")");
            }
            return m;
        } catch (EOFException e) {
            throw new InvalidInputException(source + ": corrupt model file: the payload (" + n + " bytes) ends early,"
                    + " in " + in.part, e);
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
     * @param names  the names to check
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

    private static RouterModel readPayload(Payload in) throws IOException {
        int infoCount = in.count("info entries", 4);   // two strings, each at least its 2-byte length
        Map<String, String> info = new LinkedHashMap<>();
        for (int i = 0; i < infoCount; i++) {
            String key = in.readName("the key of info entry " + (i + 1));
            if (info.put(key, in.readName("the value of info entry " + (i + 1))) != null) {
                // Kept, the later value replaced the earlier in silence (the writer's map never repeats a key).
                throw new InvalidInputException(in.part + ": info entry " + (i + 1) + " repeats the key \"" + key
                        + "\" of an earlier one");
            }
        }
        in.part = "the feature names";
        int d = in.count("features", 2 + 8);   // a name, a mean and a std
        List<String> features = new ArrayList<>(d);
        for (int c = 0; c < d; c++) {
            features.add(in.readName("the name of feature " + (c + 1)));
        }
        in.part = "the standardization";
        float[] mean = in.readFloats(d);
        float[] std = in.readFloats(d);
        Standardizer standardizer = new Standardizer(mean, std, features);   // checks them, naming the feature
        Mlp network = readNetwork(in, "the router network");
        in.part = "the expert setup";
        String sourceName = in.readName("the source of the experts' costs");
        int p = in.count("experts", 2 + 8);   // a name and a price
        List<String> names = new ArrayList<>(p);
        for (int k = 0; k < p; k++) {
            names.add(in.readName("the name of expert " + (k + 1)));
        }
        int classes = in.readInt();   // not a size (nothing per class is stored): bounded like a data file's labels
        if (classes < 0 || classes > dev.mild.data.CsvReader.MAX_CLASS + 1) {
            throw new InvalidInputException(in.part + ": impossible number of classes: " + classes);
        }
        int nb = in.count("blocks", 4);
        int[] blocks = new int[nb];
        for (int i = 0; i < nb; i++) {
            blocks[i] = in.readInt();
        }
        double[] beta = new double[p];
        for (int k = 0; k < p; k++) {
            beta[k] = in.readDouble();
        }
        long seed = in.readLong();
        ExpertSetup setup;
        try {
            setup = new ExpertSetup(ExpertSetup.Source.byName(sourceName), names, classes, blocks, beta, seed);
        } catch (InvalidInputException e) {
            // Its own words alone ("unknown experts", "--blocks ...") did not say where in the file the damage is.
            throw new InvalidInputException(in.part + ": " + e.getMessage(), e);
        }
        in.part = "the expert classifiers";
        int nc = in.count("classifiers", 4 + 2 * 4 + 2 * 4);   // the smallest network: 1 -> 1, one weight, one bias
        List<Mlp> classifiers = new ArrayList<>(nc);
        for (int i = 0; i < nc; i++) {
            classifiers.add(readNetwork(in, "the classifier of expert " + (i + 1)));
        }
        return new RouterModel(features, standardizer, network, setup, classifiers, info);
    }

    /**
     * The payload being parsed, and the part of it being read ({@code part}), so that damage found there (a count
     * larger than the bytes left, a string that is not modified UTF-8, the end coming early) is named by its place.
     */
    private static final class Payload {
        private final byte[] file;
        private final int end;
        private final ByteArrayInputStream bytes;
        private final DataInputStream in;
        String part = "the info entries";

        Payload(byte[] file, int length) {
            this.file = file;
            end = HEADER + length;
            bytes = new ByteArrayInputStream(file, HEADER, length);
            in = new DataInputStream(bytes);
        }

        int remaining() {
            return bytes.available();   // exact for an in-memory stream
        }

        int readInt() throws IOException {
            return in.readInt();
        }

        long readLong() throws IOException {
            return in.readLong();
        }

        double readDouble() throws IOException {
            return in.readDouble();
        }

        /** A string; {@code what} names it in the message when its bytes are not modified UTF-8. */
        String readName(String what) throws IOException {
            int start = end - remaining();
            String name;
            try {
                name = in.readUTF();
            } catch (UTFDataFormatException e) {
                // Its own words ("malformed input around byte 7") said neither which string nor that it is the file's.
                throw notText(what, e);
            }
            // readUTF also takes encodings writeUTF never makes (a raw 0 byte for U+0000, an overlong C1 81 for 'A'):
            // the name read was not the one written, and the model saved again made another file.
            ByteArrayOutputStream written = new ByteArrayOutputStream();
            new DataOutputStream(written).writeUTF(name);
            if (!java.util.Arrays.equals(file, start, end - remaining(), written.toByteArray(), 0, written.size())) {
                throw notText(what, null);
            }
            return name;
        }

        private InvalidInputException notText(String what, IOException cause) {
            return new InvalidInputException(part + ": " + what + " is not text (its bytes are not the modified UTF-8 a"
                    + " model file stores strings in)", cause);
        }

        /**
         * A count of elements of at least {@code bytesEach} bytes: refused when negative, or when that many could
         * not fit in the rest of the payload, before anything is allocated for them.
         */
        int count(String what, int bytesEach) throws IOException {
            int n = in.readInt();
            if (n < 0) {
                throw new InvalidInputException(part + ": impossible number of " + what + ": " + n);
            }
            if ((long) n * bytesEach > remaining()) {
                throw new InvalidInputException(part + ": impossible number of " + what + ": " + n + " (they take at"
                        + " least " + bytesEach + " bytes each, and only " + remaining() + " bytes of the payload follow)");
            }
            return n;
        }

        float[] readFloats(int n) throws IOException {
            float[] v = new float[n];
            readInto(v);
            return v;
        }

        void readInto(float[] v) throws IOException {
            byte[] raw = new byte[v.length * 4];
            in.readFully(raw);
            ByteBuffer.wrap(raw).asFloatBuffer().get(v);
        }
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
    private static Mlp readNetwork(Payload in, String what) throws IOException {
        in.part = what;
        int n = in.count("layer sizes", 4);
        int[] sizes = new int[n];
        for (int i = 0; i < n; i++) {
            sizes[i] = in.readInt();
            if (sizes[i] < 1) {
                throw new InvalidInputException(what + ": layer " + i + " has " + sizes[i] + " units (every layer"
                        + " needs >= 1)");
            }
        }
        // Checked layer by layer, before the network is allocated: a damaged size cannot ask for more parameters
        // than the bytes left hold (and the running sum stays far from overflowing a long).
        long params = 0;
        for (int i = 1; i < n; i++) {
            params += (long) sizes[i - 1] * sizes[i] + sizes[i];
            if (params > in.remaining() / 4) {   // not params * 4: two sizes near 2^31 overflow that
                throw new InvalidInputException(what + ": a network of sizes " + java.util.Arrays.toString(sizes)
                        + " cannot fit in the file (" + in.remaining() + " bytes of the payload follow)");
            }
        }
        Mlp net;
        try {
            net = new Mlp(sizes);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(what + ": " + e.getMessage(), e);
        }
        for (int l = 0; l < net.layers(); l++) {
            in.readInto(net.weights(l));
            in.readInto(net.biases(l));
        }
        // A NaN or infinite parameter (a damaged file whose checksum was recomputed, or another writer) would route
        // every row by NaN scores; the file is refused instead.
        net.checkFinite(what);
        return net;
    }

    private static void writeFloats(DataOutputStream out, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4);
        b.asFloatBuffer().put(v);
        out.write(b.array());
    }
}
