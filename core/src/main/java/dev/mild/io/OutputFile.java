package dev.mild.io;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Files a command writes (a model, a plot): checked before any long work, then written atomically.
 *
 * <p>{@link #check} runs before training, so that a destination that cannot be written, or that would destroy
 * something of the user's (an input file, a file of another kind), fails in a second rather than after the
 * training. {@link #write} writes a temporary file beside the target, forces it to disk and renames it over the
 * target, so a crash or a full disk leaves the old file or the new one, never half of one. The temporary file is
 * created like any new file (permissions from the umask), and takes the permissions of the file it replaces.
 * A destination that is a symbolic link is written through, as a shell's {@code >} does: the file it points to is
 * replaced (or created) and the link stays; renaming over the link itself turned it into a regular file and left
 * the file it pointed to as it was.
 */
public final class OutputFile {
    private OutputFile() {
    }

    /**
     * What an existing file at the destination must be for replacing it to lose nothing (an older model or plot).
     *
     * @param name      what the command writes, for messages ("MILD model", "PNG image")
     * @param signature the first bytes every such file starts with
     */
    public record Kind(String name, byte[] signature) {
        /**
         * Keeps a copy of {@code signature}, so that changing the caller's array changes nothing here.
         *
         * @throws NullPointerException if {@code signature} is null
         */
        public Kind {
            signature = signature.clone();
        }

        /** True when {@code file} starts with the signature. */
        boolean matches(Path file) throws IOException {
            try (InputStream in = Files.newInputStream(file)) {
                return Arrays.equals(in.readNBytes(signature.length), signature);
            }
        }

        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }

    /**
     * Checks that {@code target} can be written now, without writing it: its directory exists and takes a new
     * file, it is not one of {@code others} (compared by real path, so links and relative paths do not hide it),
     * and if it exists it is a regular file of {@code kind}.
     *
     * @param option what names the destination in messages (e.g. "--out")
     * @param target the destination
     * @param kind   what the command writes, and what an existing file there must start with
     * @param others the files the command reads or also writes, each with what names it (e.g. "the --data file")
     * @throws InvalidInputException naming {@code option} and {@code target} when the destination will not do
     */
    public static void check(String option, Path target, Kind kind, Map<String, Path> others) {
        String where = option + " " + target;
        Path absolute;
        try {
            absolute = throughLinks(target.toAbsolutePath().normalize());
        } catch (IOException e) {
            throw new InvalidInputException(where + ": cannot follow its symbolic link (" + reason(e) + ")", e);
        }
        Path dir = absolute.getParent();
        if (dir == null || absolute.getFileName() == null) {
            throw new InvalidInputException(where + ": not a file name");
        }
        if (!Files.exists(dir)) {
            throw new InvalidInputException(where + ": the directory " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(where + ": " + dir + " is not a directory");
        }
        Path real = realPath(absolute);
        for (Map.Entry<String, Path> other : others.entrySet()) {
            Path otherPath = other.getValue().toAbsolutePath().normalize();
            if (real.equals(realPath(otherPath)) || sameExistingFile(absolute, otherPath)) {
                throw new InvalidInputException(where + ": this is " + other.getKey() + "; writing the " + kind.name()
                        + " there would replace it. Choose another file.");
            }
        }
        if (Files.exists(absolute)) {
            if (Files.isDirectory(absolute)) {
                throw new InvalidInputException(where + ": is a directory; give a file name");
            }
            if (!Files.isRegularFile(absolute)) {
                throw new InvalidInputException(where + ": exists and is not a regular file");
            }
            boolean ours;
            try {
                ours = kind.matches(absolute);
            } catch (IOException e) {
                throw new InvalidInputException(where + ": exists and cannot be read to check that it is a "
                        + kind.name() + " (" + reason(e) + ")", e);
            }
            if (!ours) {
                throw new InvalidInputException(where + ": exists and is not a " + kind.name() + "; writing would"
                        + " replace it. Remove it first or choose another file.");
            }
        }
        // The real test that the directory takes a new file: create and delete one the way write() will.
        Path probe = null;
        try {
            probe = createTemp(absolute);
            if (Files.exists(absolute)) {
                checkReplaceable(where, absolute, dir, probe);
            }
        } catch (IOException e) {
            throw new InvalidInputException(where + ": cannot create a file in " + dir + " (" + reason(e) + ")", e);
        } finally {
            deleteQuietly(probe);
        }
    }

    /**
     * Refuses, before the long work, an existing target that the rename in {@link #write} should not or could not
     * replace: a file its user may not write (a model kept read-only on purpose; a shell's {@code >} refuses it too,
     * where a rename would not), and a file of another user in a sticky directory such as /tmp, where the system
     * refuses the rename and said so only after the training. {@code probe} is a file this process just created
     * there, whose owner is this process's user.
     */
    private static void checkReplaceable(String where, Path target, Path dir, Path probe) throws IOException {
        if (!Files.isWritable(target)) {
            throw new InvalidInputException(where + ": the file is read-only; make it writable (chmod u+w) or remove"
                    + " it first, or choose another file");
        }
        int me;
        int mode;
        int owner;
        int dirOwner;
        try {
            me = (Integer) Files.getAttribute(probe, "unix:uid");
            mode = (Integer) Files.getAttribute(dir, "unix:mode");
            owner = (Integer) Files.getAttribute(target, "unix:uid");
            dirOwner = (Integer) Files.getAttribute(dir, "unix:uid");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return; // no Unix attributes here: the write itself says what is wrong
        }
        boolean sticky = (mode & STICKY_BIT) != 0;
        if (sticky && me != 0 && me != owner && me != dirOwner) {
            throw new InvalidInputException(where + ": cannot replace it: it belongs to another user, and its"
                    + " directory " + dir + " is sticky (as /tmp is: only a file's owner may replace it). Choose"
                    + " another file name.");
        }
    }

    /** S_ISVTX: in such a directory only a file's owner, the directory's owner or root may rename over a file. */
    private static final int STICKY_BIT = 01000;

    /**
     * Writes {@code bytes} to {@code target} atomically (temporary file in the same directory + rename).
     *
     * @param target the destination; its directory must exist
     * @param bytes  the file's whole content. Not modified.
     * @param what   what the file holds, for messages ("the model", "the plot")
     * @throws InvalidInputException naming {@code target} (never the temporary file) when writing fails; the
     *                               temporary file is removed and an existing target is left as it was
     */
    public static void write(Path target, byte[] bytes, String what) {
        Path absolute;
        try {
            absolute = throughLinks(target.toAbsolutePath().normalize());
        } catch (IOException e) {
            throw new InvalidInputException(target + ": cannot write " + what + ": cannot follow its symbolic link ("
                    + reason(e) + ")", e);
        }
        Path dir = absolute.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new InvalidInputException(target + ": cannot write " + what + ": the directory " + dir
                    + " does not exist");
        }
        Path tmp = null;
        try {
            tmp = createTemp(absolute);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            keepPermissions(absolute, tmp);
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new InvalidInputException(target + ": cannot write " + what + ": " + reason(e), e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    /**
     * Where writing {@code path} lands: {@code path} itself, or, when it is a symbolic link, the file at the end of
     * its chain of links (which need not exist yet). Each link's text is resolved against the link's own directory,
     * as the system does; not normalized, since ".." after a linked directory is not its lexical parent.
     */
    private static Path throughLinks(Path path) throws IOException {
        Path p = path;
        for (int hops = 0; Files.isSymbolicLink(p); hops++) {
            if (hops == MAX_LINKS) {
                throw new FileSystemException(path.toString(), null, "too many levels of symbolic links");
            }
            p = p.resolveSibling(Files.readSymbolicLink(p));
        }
        return p;
    }

    /** Linux's limit on the links followed in one path (MAXSYMLINKS). */
    private static final int MAX_LINKS = 40;

    /**
     * A new empty file {@code .NAME.RANDOM.tmp} beside {@code target}. Created without explicit attributes,
     * so it gets the permissions of any new file (0666 minus the umask), unlike Files.createTempFile's 0600.
     */
    private static Path createTemp(Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = target.resolveSibling("." + target.getFileName() + "."
                    + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /** A replaced file keeps its permissions (e.g. a model made readable by the group stays so). */
    private static void keepPermissions(Path target, Path tmp) throws IOException {
        if (!Files.isRegularFile(target)) {
            return;
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(target);
            Files.setPosixFilePermissions(tmp, perms);
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the new file keeps the default permissions.
        }
    }

    /**
     * Whether both exist and are one file by the file system's own identity: a hard link to an input has another
     * path (its real path differs) and was "exists and is not a MILD model file" instead of named as that input.
     */
    private static boolean sameExistingFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false; // cannot tell: the checks below and the write itself say what is wrong
        }
    }

    /** The real path of {@code p}, or of its nearest existing parent with the rest appended. */
    private static Path realPath(Path p) {
        try {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && Files.exists(p)) {
                return p.toRealPath();
            }
            Path parent = p.getParent();
            return parent == null ? p : realPath(parent).resolve(p.getFileName());
        } catch (IOException e) {
            return p;
        }
    }

    /**
     * What went wrong, in words, for a message that names the target itself: no path for a denied permission, a
     * missing file, or a file system error with a reason (so not the temporary file's name).
     *
     * @param e the failure
     * @return "permission denied", "no such file or directory", the file system's reason (a leading capital of a
     *         word lowered: "operation not permitted"), or else {@code e}'s
     *         message (which may name a path) or, without one, {@code e.toString()}
     */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            // The system's words ("Operation not permitted") in the lower case of the messages around them.
            String r = f.getReason();
            boolean capitalWord = r.length() > 1 && Character.isUpperCase(r.charAt(0))
                    && Character.isLowerCase(r.charAt(1));
            return capitalWord ? Character.toLowerCase(r.charAt(0)) + r.substring(1) : r;
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    private static void deleteQuietly(Path tmp) {
        if (tmp == null) {
            return;
        }
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // Nothing else to do: the file is hidden and named after the target.
        }
    }
}
