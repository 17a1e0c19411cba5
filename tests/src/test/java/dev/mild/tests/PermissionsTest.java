package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mild.opencl.OpenClDevices;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files the user may not read or write, seen by a user who is not root: the commands run in a child JVM as
 * {@code nobody} ({@code setpriv}), since root may read and write any file and the tests usually run as root.
 * Each refusal comes before any training, names the file and the reason, and leaves every file as it was.
 * Skipped unless the tests run as root on a system with {@code setpriv} and a user {@code nobody} (uid 65534).
 */
class PermissionsTest {
    private static final int NOBODY = 65534;

    @TempDir
    Path tmp;

    private Path work;
    private String classPath;

    record Run(int code, String out, String err) {
    }

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"), "Linux only");
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root, to run the commands as nobody");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
        // @TempDir is private to root (0700): the directory nobody works in must be reachable.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        work = Files.createDirectory(tmp.resolve("work"));
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxrwxrwx"));
        classPath = readableClassPath();
    }

    /**
     * This JVM's class path as nobody can read it: jars are copied beside the work directory (Maven's repository
     * under /root is private), directories of classes are used where they are if every parent lets others in.
     */
    private String readableClassPath() throws IOException {
        Path jars = Files.createDirectory(tmp.resolve("jars"));
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isRegularFile(p)) {
                Path copy = jars.resolve((n++) + "-" + p.getFileName());
                Files.copy(p, copy);
                entries.add(copy.toString());
            } else if (Files.isDirectory(p)) {
                assumeTrue(othersMayEnter(p), p + " is not readable by other users");
                entries.add(p.toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static boolean othersMayEnter(Path dir) throws IOException {
        for (Path d = dir; d != null; d = d.getParent()) {
            if (!PosixFilePermissions.toString(Files.getPosixFilePermissions(d)).endsWith("x")) {
                return false;
            }
        }
        return true;
    }

    /** {@code ./mild ARGS} as nobody, in the work directory. */
    private Run asNobody(String... args) throws IOException, InterruptedException {
        return asNobody(Map.of(), args);
    }

    /** {@code ./mild ARGS} as nobody, in the work directory, with {@code env} added to the environment. */
    private Run asNobody(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath, "dev.mild.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile());
        pb.environment().remove("MILD_VERBOSE");
        // A null value removes the variable (the tests' own environment may set it: .ci/run sets POCL_CACHE_DIR).
        env.forEach((name, value) -> {
            if (value == null) {
                pb.environment().remove(name);
            } else {
                pb.environment().put(name, value);
            }
        });
        pb.redirectOutput(tmp.resolve("out.txt").toFile());
        pb.redirectError(tmp.resolve("err.txt").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the command finished");
        return new Run(p.exitValue(), Files.readString(tmp.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    /** Routing rows: two features and two experts' costs. */
    private Path data() throws IOException {
        SplittableRandom rnd = new SplittableRandom(3);
        StringBuilder sb = new StringBuilder("x0,x1,cost:small,cost:large\n");
        for (int i = 0; i < 300; i++) {
            double x0 = rnd.nextGaussian();
            sb.append(String.format(Locale.ROOT, "%.4f,%.4f,%.1f,0.5%n", x0, rnd.nextGaussian(), x0 > 0 ? 0.1 : 1.1));
        }
        Path f = Files.writeString(work.resolve("data.csv"), sb.toString());
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        return f;
    }

    private static String[] training(Path data, Path out) {
        return new String[] {"train", "--data", data.toString(), "--rho", "uniform", "--epochs", "1", "--out",
            out.toString()};
    }

    /** Exit 2 before any epoch, with the expected words. */
    private static void refusedBeforeTraining(Run r, String... expected) {
        assertEquals(2, r.code(), r.out() + r.err());
        for (String e : expected) {
            assertTrue(r.err().contains(e), "expected \"" + e + "\" in: " + r.err());
        }
        assertFalse(r.out().contains("epoch"), "no training ran:\n" + r.out());
    }

    private static void assertNoTemporaryFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".tmp"))
                    .toList());
        }
    }

    /** A model of nobody's, trained here as nobody. */
    private Path trainedModel(Path data, Path out) throws IOException, InterruptedException {
        Run r = asNobody(training(data, out));
        assertEquals(0, r.code(), r.err());
        return out;
    }

    @Test
    void filesTheUserMayNotReadAreNamedWithTheReason() throws Exception {
        Path data = data();
        Path model = trainedModel(data, work.resolve("m.mild"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("---------"));
        refusedBeforeTraining(asNobody(training(data, work.resolve("n.mild"))),
                "mild train: error: " + data + ": cannot read: permission denied");

        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(model, PosixFilePermissions.fromString("---------"));
        Run eval = asNobody("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(2, eval.code(), eval.err());
        assertTrue(eval.err().contains(model + ": cannot read the model: permission denied"), eval.err());

        Path golden = Files.writeString(work.resolve("cases.json"), Support.resource("surrogate-cases.json"));
        Files.setPosixFilePermissions(golden, PosixFilePermissions.fromString("---------"));
        Run g = asNobody("golden", golden.toString());
        assertEquals(2, g.code(), g.err());
        assertTrue(g.err().contains(golden + ": cannot read golden file: permission denied"), g.err());
    }

    @Test
    void aDirectoryTheUserMayNotWriteIsNamedBeforeTraining() throws Exception {
        Path data = data();
        Path readOnly = Files.createDirectory(work.resolve("ro"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        refusedBeforeTraining(asNobody(training(data, readOnly.resolve("m.mild"))),
                "--out " + readOnly.resolve("m.mild") + ": cannot create a file in " + readOnly
                        + " (permission denied)");
        try (Stream<Path> files = Files.list(readOnly)) {
            assertEquals(0, files.count());
        }
    }

    /**
     * A model the user made read-only is not replaced, as a shell's {@code >} would not (the rename the write uses
     * would have replaced it): refused before training, the file unchanged. Made writable, it is replaced.
     */
    @Test
    void aReadOnlyModelIsRefusedBeforeTraining() throws Exception {
        Path data = data();
        Path model = trainedModel(data, work.resolve("kept.mild"));
        byte[] before = Files.readAllBytes(model);
        Files.setPosixFilePermissions(model, PosixFilePermissions.fromString("r--r--r--"));
        String[] twoEpochs = training(data, model);
        twoEpochs[6] = "2";
        refusedBeforeTraining(asNobody(twoEpochs), "--out " + model + ": the file is read-only; make it writable"
                + " (chmod u+w) or remove it first, or choose another file");
        assertArrayEquals(before, Files.readAllBytes(model));
        assertNoTemporaryFiles(work);

        Files.setPosixFilePermissions(model, PosixFilePermissions.fromString("rw-r--r--"));
        Run r = asNobody(twoEpochs);
        assertEquals(0, r.code(), r.err());
        assertFalse(java.util.Arrays.equals(before, Files.readAllBytes(model)), "the two-epoch model replaced it");
    }

    /**
     * In a sticky directory (as /tmp is) the system lets only a file's owner replace it: another user's model was
     * found out only when the trained model was renamed over it, after the training. Now before; the user's own
     * model there is replaced as anywhere.
     */
    @Test
    void anotherUsersModelInAStickyDirectoryIsRefusedBeforeTraining() throws Exception {
        Path data = data();
        Path sticky = Files.createDirectory(work.resolve("shared"));
        Files.setPosixFilePermissions(sticky, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setAttribute(sticky, "unix:mode", 01777);
        Path mine = trainedModel(data, sticky.resolve("mine.mild"));
        // root's copy of it: the same bytes, owned by root, writable by all (so only the sticky bit stands in the way).
        Path roots = Files.copy(mine, sticky.resolve("roots.mild"));
        Files.setPosixFilePermissions(roots, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertEquals(0, (Integer) Files.getAttribute(roots, "unix:uid"));
        byte[] before = Files.readAllBytes(roots);

        refusedBeforeTraining(asNobody(training(data, roots)), "--out " + roots + ": cannot replace it: it belongs to"
                + " another user, and its directory " + sticky + " is sticky");
        assertArrayEquals(before, Files.readAllBytes(roots));
        assertNoTemporaryFiles(sticky);

        Run own = asNobody(training(data, mine));
        assertEquals(0, own.code(), own.err());
    }

    /**
     * PoCL lists no device when it cannot create its kernel cache (under $HOME/.cache, for a service account often
     * a home that does not exist or that it may not write): the message said to install an OpenCL driver, which was
     * installed. With a cache directory that exists but that it may not write (a POCL_CACHE_DIR of another user's),
     * PoCL lists its device and fails every build, its log saying only "failed to build the program". Both messages
     * now name the directory and POCL_CACHE_DIR; with that set to a directory of its own, the same command passes.
     */
    @Test
    void poclWithoutACacheDirectoryIsNamedAsSuch() throws Exception {
        assumeTrue(OpenClDevices.unavailableReason() == null, "OpenCL is not available here");
        assumeTrue(OpenClDevices.all().stream().anyMatch(d -> d.platformName().equals("Portable Computing Language")),
                "the OpenCL driver here is not PoCL");
        Path home = Files.createDirectory(work.resolve("home"));
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("r-xr-xr-x"));
        Map<String, String> env = new java.util.HashMap<>();
        env.put("HOME", home.toString());
        env.put("XDG_CACHE_HOME", "");
        env.put("POCL_CACHE_DIR", null);
        Run r = asNobody(env, "golden", "--backend", "opencl");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("PoCL lists no device, or builds nothing, when it cannot write its kernel cache,"
                + " and " + home + "/.cache/pocl/kcache (from HOME=" + home + ") cannot be created or written: "
                + home.resolve(".cache") + " does not exist and " + home + " is not writable by this user; set"
                + " POCL_CACHE_DIR to a writable directory"), r.err());
        assertFalse(r.err().contains("install an OpenCL driver"), r.err());

        Path rootsCache = Files.createDirectory(tmp.resolve("roots-cache"));   // 0755, root's
        env.put("POCL_CACHE_DIR", rootsCache.toString());
        Run build = asNobody(env, "golden", "--backend", "opencl");
        assertEquals(2, build.code(), build.out() + build.err());
        assertTrue(build.err().contains("rejected the loss kernels"), build.err());
        assertTrue(build.err().contains(rootsCache + " (from POCL_CACHE_DIR=" + rootsCache + ") cannot be created or"
                + " written: " + rootsCache + " is not writable by this user; set POCL_CACHE_DIR to a writable"
                + " directory"), build.err());

        env.put("POCL_CACHE_DIR", work.resolve("pocl-cache").toString());
        Run ok = asNobody(env, "golden", "--backend", "opencl");
        assertEquals(0, ok.code(), ok.err());
    }
}
