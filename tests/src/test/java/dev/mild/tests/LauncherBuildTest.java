package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the {@code ./mild} launcher starts: its build on first use when several launchers start at once (a script, a
 * parallel benchmark on a fresh clone: each ran Maven in the same target directories, and two of three such starts
 * failed here, a jar read while another build wrote it), through a symbolic link, and by {@code sh}. The launcher is
 * copied into a tree of its own with a Maven and a JDK that are small scripts ({@link #fakeClone}).
 */
class LauncherBuildTest {
    @TempDir
    Path tmp;

    private static Path script(Path file, String body) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "#!/bin/bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    private Path root;
    private Path jdk;
    private Path log;

    /**
     * A clone of the launcher alone, whose sources are newer than its (missing) jar, a fake Maven that logs its
     * start and end around a pause and writes the jar, and a fake JDK 25 whose java says whether it holds the build
     * lock (it would, for as long as it runs, had the launcher not let it go).
     */
    private void fakeClone() throws IOException {
        root = Files.createDirectory(tmp.resolve("clone"));
        Files.copy(Path.of("..", "mild"), root.resolve("mild"));
        Files.writeString(root.resolve("pom.xml"), "<project/>\n");
        Files.createDirectories(root.resolve("cli/src/main/java"));
        Files.writeString(root.resolve("cli/src/main/java/A.java"), "class A {}\n");
        log = tmp.resolve("maven.log");
        // mvn -B -q -DskipTests -pl cli -am package: runs from the clone's root.
        script(tmp.resolve("bin/mvn"), "echo start >> '" + log + "'; sleep 1; mkdir -p cli/target;"
                + " echo jar > cli/target/mild.jar; echo end >> '" + log + "'");
        jdk = tmp.resolve("jdk");
        Files.createDirectories(jdk);
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25.0.1\"\n");
        script(jdk.resolve("bin/javac"), "exit 0");
        // Java replaces the launcher's process (exec), so an open descriptor of the lock file is the launcher's.
        script(jdk.resolve("bin/java"), "if ls -l /proc/$$/fd | grep -q build-lock; then echo \"ran $* holding the"
                + " lock\"; else echo \"ran $* with the lock free\"; fi");
    }

    /** {@code bash launcher backends}, started, with the fake JDK and Maven; output in outN.txt and errN.txt. */
    private Process start(Path launcher, int n) throws IOException {
        return start("bash", launcher, n);
    }

    private Process start(String shell, Path launcher, int n) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(shell, launcher.toString(), "backends")
                .redirectOutput(tmp.resolve("out" + n + ".txt").toFile())
                .redirectError(tmp.resolve("err" + n + ".txt").toFile());
        pb.environment().put("MILD_JAVA_HOME", jdk.toString());
        pb.environment().put("PATH", tmp.resolve("bin") + ":" + System.getenv("PATH"));
        pb.environment().remove("MILD_JVM_OPTS");
        return pb.start();
    }

    @Test
    void launchersStartedTogetherBuildOnceAndEachRuns() throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "needs flock (util-linux)");
        fakeClone();
        List<Process> launchers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            launchers.add(start(root.resolve("mild"), i));
        }
        int builds = 0;
        for (int i = 0; i < launchers.size(); i++) {
            assertTrue(launchers.get(i).waitFor(60, TimeUnit.SECONDS), "launcher " + i + " finished");
            String err = Files.readString(tmp.resolve("err" + i + ".txt"), StandardCharsets.UTF_8);
            assertEquals(0, launchers.get(i).exitValue(), err);
            builds += err.contains("mild: building mild") ? 1 : 0;
            String out = Files.readString(tmp.resolve("out" + i + ".txt"), StandardCharsets.UTF_8).strip();
            assertTrue(out.startsWith("ran ") && out.endsWith("-jar " + root.resolve("cli/target/mild.jar")
                    + " backends with the lock free"), out);
        }
        assertEquals(1, builds, "one launcher built, the others found the jar fresh once they had the lock");
        assertEquals(List.of("start", "end"), Files.readAllLines(log), "one build, not interleaved with another");
    }

    /**
     * Run through a symbolic link (one on the PATH: ln -s ~/mild/mild ~/bin/mild), the launcher took the link's
     * directory for the clone and tried to build there ("build failed"). It finds its clone through the link now.
     */
    @Test
    void aLauncherRunThroughASymbolicLinkFindsItsClone() throws IOException, InterruptedException {
        fakeClone();
        Path link = Files.createSymbolicLink(Files.createDirectories(tmp.resolve("elsewhere/bin")).resolve("mild"),
                root.resolve("mild"));
        Process p = start(link, 0);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher finished");
        String err = Files.readString(tmp.resolve("err0.txt"), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), err);
        assertEquals("ran --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar "
                + root.resolve("cli/target/mild.jar") + " backends with the lock free",
                Files.readString(tmp.resolve("out0.txt"), StandardCharsets.UTF_8).strip());
        assertTrue(Files.exists(root.resolve("cli/target/mild.jar")), "built in the clone");
        assertFalse(Files.exists(tmp.resolve("elsewhere/bin/target")), "nothing made beside the link");
    }

    /** Started as {@code sh mild} (dash on Debian), the launcher stopped at "set: Illegal option -o pipefail". */
    @Test
    void aLauncherStartedByShRunsInBash() throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs /bin/sh");
        fakeClone();
        Process p = start("sh", root.resolve("mild"), 0);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher finished");
        String err = Files.readString(tmp.resolve("err0.txt"), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), err);
        assertTrue(Files.readString(tmp.resolve("out0.txt"), StandardCharsets.UTF_8).strip().endsWith(" backends with"
                + " the lock free"), err);
    }
}
