package dev.mild.data;

import dev.mild.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads MNIST-format IDX files (plain or gzipped), as Debian's {@code dataset-fashion-mnist} installs them:
 * an images file ({@code ...-images-idx3-ubyte[.gz]}: magic {@code 0x00000803}, count, rows, columns, then one
 * unsigned byte per pixel) and its labels file ({@code ...-labels-idx1-ubyte[.gz]}: magic {@code 0x00000801},
 * count, one byte per label). Pixels are scaled to {@code [0, 1]} ({@code byte / 255}); features are named
 * {@code pixel0 .. pixel<rows*cols-1>}. Integers in the headers are big-endian.
 */
public final class IdxReader {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {
    }

    /**
     * The labels file beside an images file: "images" becomes "labels" and "idx3" becomes "idx1" in the name.
     * Compressed or not, whichever is there: when that name does not exist but the same with {@code .gz} added or
     * removed does (images gzipped, labels unpacked, or the other way round), that one; readers tell gzip by its
     * first bytes, not by the name.
     *
     * @param images the images file
     * @return the labels file's path, which may not exist
     * @throws InvalidInputException if the images file's name contains neither "images" nor "idx3"
     */
    public static Path labelsFileFor(Path images) {
        Path labels = labelsNameFor(images);
        Path other = otherCompression(labels);
        return !Files.exists(labels) && Files.exists(other) ? other : labels;
    }

    private static Path labelsNameFor(Path images) {
        String name = images.getFileName().toString();
        String labels = name.replace("images", "labels").replace("idx3", "idx1");
        if (labels.equals(name)) {
            throw new InvalidInputException(images + ": cannot tell the labels file of this IDX images file (its name"
                    + " should contain \"images\" and \"idx3\", e.g. train-images-idx3-ubyte.gz, with the labels in"
                    + " train-labels-idx1-ubyte.gz beside it)");
        }
        return images.resolveSibling(labels);
    }

    /** The same name with {@code .gz} added, or removed when it has one. */
    private static Path otherCompression(Path file) {
        String name = file.getFileName().toString();
        return file.resolveSibling(name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name + ".gz");
    }

    /**
     * Reads an images file, from its content opened once by the caller ({@link DataFiles#read}), and the labels
     * file beside it ({@link #labelsFileFor}).
     */
    static Dataset read(Path images, InputStream in) throws IOException {
        // The magic first, before the file is read whole or its labels file looked for by name: a labels file given
        // in place of its images file, or an IDX file of another type (floats, 4 dimensions), is named as such.
        in.mark(4);
        byte[] head = in.readNBytes(4);
        in.reset();
        if (head.length == 4 && header(head, 0) == LABELS_MAGIC) {
            throw labelsInsteadOfImages(images);
        }
        if (head.length == 4 && header(head, 0) != IMAGES_MAGIC) {
            throw new InvalidInputException(images + ": " + describe(header(head, 0)) + ", which is not supported:"
                    + " MILD reads IDX images of unsigned bytes (magic 0x00000803) with their labels file (magic"
                    + " 0x00000801)");
        }
        // The header first, then exactly the pixels it promises and one byte more: read whole, a file past 2 GiB
        // failed as "does not fit in memory ... -Xmx8g", which no heap fixes (one array holds at most 2^31 - 9).
        byte[] header = in.readNBytes(16);
        Path labels = labelsFileFor(images);
        if (header.length < 16) {
            throw new InvalidInputException(images + ": truncated: " + header.length + " bytes, but an IDX images header"
                    + " alone has 16 (magic, count, rows, columns)");
        }
        int n = header(header, 4);
        int rows = header(header, 8);
        int cols = header(header, 12);
        // An image's pixels are one row of features, counted by an int. Checked before the size below, which a
        // larger image makes overflow: 16 images of 2^30 x 2^30 pixels "needed" 16 bytes and read as pixel-less rows.
        long pixels = (long) rows * cols;
        if (n < 0 || rows < 1 || cols < 1 || pixels > Integer.MAX_VALUE) {
            throw new InvalidInputException(images + ": bad IDX dimensions " + n + " x " + rows + " x " + cols
                    + (pixels > Integer.MAX_VALUE ? " (images of " + pixels + " pixels; at most " + Integer.MAX_VALUE
                    + ")" : ""));
        }
        long allPixels = n * pixels;
        long need = 16L + allPixels;
        if (allPixels >= CsvReader.MAX_ARRAY) {   // the pixels and one byte more must fit one array
            throw new InvalidInputException(String.format(Locale.ROOT, "%s: the header promises %d images of %d x %d"
                    + " pixels, %,d pixels in all; MILD reads them into one Java array, which holds at most %,d (about"
                    + " 2 GiB): use a file of fewer images", images, n, rows, cols, allPixels, CsvReader.MAX_ARRAY - 1));
        }
        byte[] img = in.readNBytes((int) allPixels + 1);
        if (img.length != allPixels) {
            throw new InvalidInputException(images + ": " + (img.length < allPixels ? "truncated" : "has trailing bytes")
                    + ": the header promises " + n + " images of " + rows + " x " + cols + " pixels (" + need
                    + " bytes), the file has " + (img.length < allPixels ? 16L + img.length + " bytes" : "more"));
        }
        if (!Files.exists(labels)) {
            throw new InvalidInputException(images + ": the labels file " + labels + " is missing, and so is "
                    + otherCompression(labels).getFileName() + " (an IDX images file needs its labels file beside it)");
        }
        byte[] lab = readAll(labels, 8L + n + 1);   // its header, n labels and one byte more, if there are more
        if (lab.length >= 4 && header(lab, 0) != LABELS_MAGIC) {
            throw new InvalidInputException(labels + ": not an IDX labels file of unsigned bytes (magic 0x00000801, the"
                    + " only kind supported): " + describe(header(lab, 0)));
        }
        if (lab.length < 8) {
            throw new InvalidInputException(labels + ": truncated: " + lab.length + " bytes, but an IDX labels header"
                    + " alone has 8 (magic, count)");
        }
        int nl = header(lab, 4);
        if (nl != n) {
            throw new InvalidInputException(labels + ": " + nl + " labels but " + images + " has " + n + " images");
        }
        if (lab.length != 8L + n) {
            throw new InvalidInputException(labels + ": " + (lab.length < 8L + n ? "truncated" : "has trailing bytes")
                    + ": the header promises " + n + " labels (" + (8L + n) + " bytes), the file has "
                    + (lab.length < 8L + n ? lab.length + " bytes" : "more"));
        }
        int d = rows * cols;
        if (n == 0) {
            throw new InvalidInputException(images + ": no images");
        }
        float[] x = new float[Math.multiplyExact(n, d)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (img[i] & 0xff) / 255f;
        }
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = lab[8 + i] & 0xff;
        }
        List<String> names = new ArrayList<>(d);
        for (int c = 0; c < d; c++) {
            names.add("pixel" + c);
        }
        return new Dataset(images.toString(), names, x, n, y, List.of(), null, null, null, labels.toString(), 0);
    }

    /**
     * The IDX type codes (the magic's third byte) and what each element is. The magic is {@code 00 00 TYPE DIMS}.
     */
    private static String typeName(int type) {
        return switch (type) {
            case 0x08 -> "unsigned bytes";
            case 0x09 -> "signed bytes";
            case 0x0B -> "2-byte integers";
            case 0x0C -> "4-byte integers";
            case 0x0D -> "4-byte floats";
            case 0x0E -> "8-byte floats";
            default -> null;
        };
    }

    /** Whether the magic's type byte is one IDX defines. */
    static boolean isIdxType(int type) {
        return typeName(type) != null;
    }

    /**
     * What a magic says: "an IDX file of 4-byte floats with 3 dimensions (magic 0x00000d03)", one whose type byte IDX
     * does not define (a damaged file: {@link DataFiles} sends every file that starts with two zero bytes and a type
     * byte other than 0 here), or that it is none.
     */
    static String describe(int magic) {
        int type = (magic >>> 8) & 0xff;
        int dims = magic & 0xff;
        if ((magic >>> 16) != 0) {
            return String.format(Locale.ROOT, "not an IDX file at all (magic 0x%08x)", magic);
        }
        if (!isIdxType(type)) {
            return String.format(Locale.ROOT, "an IDX file whose type byte, 0x%02x (the third of magic 0x%08x), IDX"
                    + " does not define: a damaged file?", type, magic);
        }
        return String.format(Locale.ROOT, "an IDX file of %s with %d dimension%s (magic 0x%08x)", typeName(type), dims,
                dims == 1 ? "" : "s", magic);
    }

    private static InvalidInputException labelsInsteadOfImages(Path file) {
        return new InvalidInputException(file + ": this is an IDX labels file; give the images file (its labels"
                + " are found beside it)");
    }

    /** The big-endian int at {@code offset}; the caller checked the length. */
    private static int header(byte[] b, int offset) {
        return ((b[offset] & 0xff) << 24) | ((b[offset + 1] & 0xff) << 16) | ((b[offset + 2] & 0xff) << 8)
                | (b[offset + 3] & 0xff);
    }

    /** The file's first {@code limit} bytes, or all of it when shorter. */
    private static byte[] readAll(Path file, long limit) {
        try (InputStream in = DataFiles.open(file)) {
            return in.readNBytes((int) Math.min(limit, CsvReader.MAX_ARRAY));
        } catch (IOException e) {
            throw DataFiles.cannotRead(file, e);
        }
    }
}
