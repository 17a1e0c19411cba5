package dev.mild.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/report.sh, bench/ab.sh, bench/train-ab.sh and bench/hsdis/build.sh on wrong use: each says what is wrong and exits nonzero, and none of these
 * cases runs a benchmark. The scripts run from a copy of bench/ beside a stand-in for the ./mild launcher, so
 * nothing is built: the stand-in prints this JVM's home for {@code java-home} and, for {@code bench}, does what
 * the test puts in its MILD_STUB_BENCH (a JMH run that measures nothing, or one that fails).
 */
class BenchScriptsTest {

    private record Run(int code, String out, String err) {
    }

    /** A project root with bench/{script} and the bench/lib.sh it sources copied in, and ./mild replaced by the stand-in. */
    private static Path root(Path dir, String script) throws IOException {
        Files.createDirectories(dir.resolve("bench"));
        Files.copy(Path.of(script), dir.resolve("bench").resolve(script)); // surefire runs in bench/
        Files.copy(Path.of("lib.sh"), dir.resolve("bench").resolve("lib.sh")); // what the scripts share
        Files.writeString(dir.resolve("mild"), """
                #!/usr/bin/env bash
                case "$1" in
                  java-home) echo "$MILD_STUB_JAVA_HOME" ;;
                  bench) eval "${MILD_STUB_BENCH:-exit 0}" ;;
                esac
                """);
        for (String f : List.of("mild", "bench/" + script)) {
            Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return dir;
    }

    private static Run run(Path root, String script, String stubBench, String... args)
            throws IOException, InterruptedException {
        return runWithJdk(root, System.getProperty("java.home"), script, stubBench, args);
    }

    private static Run runWithJdk(Path root, String javaHome, String script, String stubBench, String... args)
            throws IOException, InterruptedException {
        return runWithEnv(root, javaHome, Map.of(), script, stubBench, args);
    }

    private static Run runWithEnv(Path root, String javaHome, Map<String, String> env, String script, String stubBench,
                                  String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", root.resolve("bench").resolve(script).toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("MILD_STUB_JAVA_HOME", javaHome);
        // Stand-ins for peers.sh's Maven build (it must not reach the real one) and for its JDK: java -jar is
        // the JMH run (MILD_STUB_BENCH), java -cp the table.
        Path bin = Files.createDirectories(root.resolve("stub-bin"));
        Path fakeJdk = Files.createDirectories(root.resolve("stub-jdk/bin"));
        Files.writeString(bin.resolve("mvn"), "#!/usr/bin/env bash\necho \"mvn $*\" >&2; exit ${MILD_STUB_MVN_EXIT:-0}\n");
        Files.writeString(fakeJdk.resolve("java"), """
                #!/usr/bin/env bash
                if [[ " $* " == *" -jar "* ]]; then eval "${MILD_STUB_BENCH:-exit 0}"; else echo "table of $*"; fi
                """);
        for (Path f : List.of(bin.resolve("mvn"), fakeJdk.resolve("java"))) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        pb.environment().put("PATH", bin + ":" + pb.environment().get("PATH"));
        pb.environment().put("MILD_STUB_BENCH", stubBench);
        pb.environment().remove("MILD_BENCH_OUT");
        pb.environment().remove("BATCH");
        pb.environment().putAll(env);
        return exec(pb, root);
    }

    /** Runs {@code pb} to the end: exit code, stdout, and stderr (through a file in {@code dir}). */
    private static Run exec(ProcessBuilder pb, Path dir) throws IOException, InterruptedException {
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        return new Run(code, out, Files.readString(err));
    }

    /** --help of a script that runs JMH: usage on stdout with its example, exit 0, and nothing else run. */
    private static void assertHelpOnly(Run r, String usage, String example) {
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith(usage + "\n"), r.out());
        assertTrue(r.out().contains(example), r.out());
        assertEquals("", r.err(), "no Maven build, no JMH run");
    }

    @Test
    void reportHelpExplainsTheScriptAndMeasuresNothing(@TempDir Path dir) throws Exception {
        Path root = root(dir, "report.sh");
        assertHelpOnly(run(root, "report.sh", "echo JMH ran >&2; exit 1", "--help"), "Usage: bench/report.sh [JMH ARGS]",
                "EXPERTS=8 bench/report.sh");
    }

    /** -l, -h, or anything else after which JMH writes no results: no table, least of all an older run's. */
    @Test
    void reportOfARunThatMeasuredNothingIsAnErrorAndKeepsTheLastResults(@TempDir Path dir) throws Exception {
        Path root = root(dir, "report.sh");
        Path results = Files.createDirectories(root.resolve("bench/target")).resolve("report-results.json");
        Files.writeString(results, "[\"an older run\"]");

        Run listed = run(root, "report.sh", "exit 0", "-l");
        assertEquals(2, listed.code(), listed.err());
        assertEquals("", listed.out());
        assertEquals("bench/report.sh: JMH measured nothing (no results), so there is no table; " + results
                + " is unchanged", listed.err().strip());

        Run failed = run(root, "report.sh", "echo 'benchmark error' >&2; exit 1");
        assertEquals(1, failed.code());
        assertEquals("", failed.out());
        assertEquals("benchmark error", failed.err().strip());

        assertEquals("[\"an older run\"]", Files.readString(results));
        try (var left = Files.list(results.getParent())) {
            assertEquals(List.of(results), left.toList(), "no temporary results file left behind");
        }
    }

    @Test
    void reportStopsAtTheFirstFailingBenchmarkUnlessToldOtherwise(@TempDir Path dir) throws Exception {
        Path root = root(dir, "report.sh");
        // The stand-in prints the JMH arguments it was given, then measures nothing.
        Run r = run(root, "report.sh", "echo \"$*\" >&2", "-wi", "1");
        assertTrue(r.err().contains(" -foe true -rf json "), r.err());
        r = run(root, "report.sh", "echo \"$*\" >&2", "-foe", "false");
        assertTrue(!r.err().contains("-foe true") && r.err().contains("-foe false"), r.err());
    }

    /** BATCH picks the one batch size of the table; a -p batch= argument would add a second one to 65536. */
    @Test
    void reportAndPeersMeasureTheBatchSizeOfBatch(@TempDir Path dir) throws Exception {
        for (String script : List.of("report.sh", "peers.sh")) {
            Path root = root(dir.resolve(script), script);
            String jdk = root.resolve("stub-jdk").toString();
            // The stand-in prints the JMH arguments it was given, then measures nothing.
            Run byDefault = runWithEnv(root, jdk, Map.of(), script, "echo \"$*\" >&2");
            assertTrue(byDefault.err().contains(" -p batch=65536 "), script + ": " + byDefault.err());
            Run chosen = runWithEnv(root, jdk, Map.of("BATCH", "1024"), script, "echo \"$*\" >&2");
            assertTrue(chosen.err().contains(" -p batch=1024 ") && !chosen.err().contains("65536"),
                    script + ": " + chosen.err());
        }
    }

    /**
     * As bench/report.sh, bench/peers.sh checks its environment before the Maven build (on first use a 140 MB
     * download): it passed BATCH=abc to JMH, which stopped with a stack trace and exit 1 after the build, and a
     * MILD_BENCH_OUT that is a directory got the results inside it before the table failed.
     */
    @Test
    void peersRefusesBadEnvironmentValuesBeforeBuilding(@TempDir Path dir) throws Exception {
        Path root = root(dir, "peers.sh");
        String jdk = root.resolve("stub-jdk").toString();
        Path outDir = Files.createDirectories(dir.resolve("results"));
        String[][] cases = {
                {"BATCH", "abc", "bench/peers.sh: BATCH=abc: give batch sizes, each >= 1, separated by commas (e.g. BATCH=1024)"},
                {"EXPERTS", "8,,32", "bench/peers.sh: EXPERTS=8,,32: give numbers of experts, each >= 1, separated by"
                        + " commas (e.g. EXPERTS=8)"},
                {"EQUAL_RHO", "yes", "bench/peers.sh: EQUAL_RHO=yes: give true or false, separated by commas (e.g."
                        + " EQUAL_RHO=false)"},
                {"MILD_BENCH_OUT", outDir.toString(), "bench/peers.sh: MILD_BENCH_OUT=" + outDir + " is a directory; give"
                        + " the file the results go to (e.g. " + outDir + "/results.json)"}};
        for (String[] c : cases) {
            Run r = runWithEnv(root, jdk, Map.of(c[0], c[1]), "peers.sh", "echo JMH ran >&2; exit 1");
            assertEquals(2, r.code(), c[0] + ": " + r.err());
            assertEquals("", r.out(), c[0]);
            assertEquals(c[2], r.err().strip(), "no Maven build, no JMH run");
        }
        try (var left = Files.list(outDir)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void peersHelpExplainsTheScriptWithoutBuildingOrDownloading(@TempDir Path dir) throws Exception {
        Path root = root(dir, "peers.sh");
        Run help = run(root, "peers.sh", "echo JMH ran >&2; exit 1", "--help");
        assertHelpOnly(help, "Usage: bench/peers.sh [JMH ARGS]", "bench/peers.sh -wi 2 -i 3");
        // The whole comment and nothing past it: its last line, then no line of the script's code
        assertTrue(help.out().endsWith("unless you pass -foe), exit code nonzero.\n"), help.out());
        assertTrue(help.out().contains("DjlLossBenchmark"), help.out());
    }

    @Test
    void peersOfARunThatMeasuredNothingIsAnErrorAndKeepsTheLastResults(@TempDir Path dir) throws Exception {
        Path root = root(dir, "peers.sh");
        String jdk = root.resolve("stub-jdk").toString();
        Path results = Files.createDirectories(root.resolve("bench-peers/target")).resolve("peers-results.json");
        Files.writeString(results, "[\"an older run\"]");

        Run listed = runWithJdk(root, jdk, "peers.sh", "echo \"$*\" >&2", "-l");
        assertEquals(2, listed.code(), listed.err());
        assertEquals("", listed.out());
        assertTrue(listed.err().contains(" -foe true -rf json "), listed.err());
        assertTrue(listed.err().endsWith("bench/peers.sh: JMH measured nothing (no results), so there is no table; "
                + results + " is unchanged\n"), listed.err());

        Run failed = runWithJdk(root, jdk, "peers.sh", "exit 1");
        assertEquals(1, failed.code(), failed.err());
        assertEquals("", failed.out());

        assertEquals("[\"an older run\"]", Files.readString(results));
        try (var left = Files.list(results.getParent())) {
            assertEquals(List.of(results), left.toList(), "no temporary results file left behind");
        }

        // A run that measures: its results replace the older ones, and the table is made from them.
        Run measured = runWithJdk(root, jdk, "peers.sh", "for a; do [[ $prev == -rff ]] && echo '[\"new\"]' > \"$a\"; prev=$a; done");
        assertEquals(0, measured.code(), measured.err());
        assertEquals("[\"new\"]\n", Files.readString(results));
        assertTrue(measured.out().contains("table of -cp " + root.resolve("bench-peers/target/peers-benchmarks.jar")
                + " dev.mild.bench.peers.PeersReport " + results), measured.out());
    }

    @Test
    void abSaysWhatIsWrongWithItsArguments(@TempDir Path dir) throws Exception {
        Path root = root(dir, "ab.sh");
        Path jar = Files.writeString(dir.resolve("a.jar"), "not a jar");

        Run help = run(root, "ab.sh", "", "--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().startsWith("Usage: bench/ab.sh ROUNDS OLD.jar NEW.jar [THROUGHPUT OPTIONS]\n"), help.out());

        Run tooFew = run(root, "ab.sh", "", "7", jar.toString());
        assertEquals(2, tooFew.code());
        assertTrue(tooFew.err().startsWith("Usage: bench/ab.sh"), tooFew.err());

        for (String rounds : List.of("seven", "0", "-1", "2.5")) {
            Run r = run(root, "ab.sh", "", rounds, jar.toString(), jar.toString());
            assertEquals(2, r.code(), rounds);
            assertEquals("", r.out(), rounds);
            assertEquals("bench/ab.sh: ROUNDS (the first argument) must be a whole number of at least 1, got \""
                    + rounds + "\"", r.err().strip());
        }

        Run missing = run(root, "ab.sh", "", "1", jar.toString(), dir.resolve("none.jar").toString());
        assertEquals(2, missing.code());
        assertEquals("bench/ab.sh: no such jar: " + dir.resolve("none.jar"), missing.err().strip());
    }

    /**
     * bench/hsdis/build.sh --help explains the script; it used to start the build (gcc, then a 90 MB copy of the
     * JDK). An argument it does not take is refused. Stand-ins for ./mild and gcc record whether they ran.
     */
    @Test
    void hsdisBuildHelpExplainsTheScriptWithoutBuilding(@TempDir Path dir) throws Exception {
        Path script = Files.createDirectories(dir.resolve("bench/hsdis")).resolve("build.sh");
        Files.copy(Path.of("hsdis/build.sh"), script); // surefire runs in bench/
        Path ran = dir.resolve("ran.txt");
        Path bin = Files.createDirectories(dir.resolve("stub-bin"));
        Files.writeString(dir.resolve("mild"), "#!/usr/bin/env bash\necho \"mild $*\" >> \"$MILD_STUB_RAN\"\n");
        Files.writeString(bin.resolve("gcc"), "#!/usr/bin/env bash\necho \"gcc $*\" >> \"$MILD_STUB_RAN\"\n");
        for (Path f : List.of(script, dir.resolve("mild"), bin.resolve("gcc"))) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        for (List<String> args : List.of(List.of("--help"), List.of("-h"), List.of("extra"))) {
            List<String> command = new ArrayList<>(List.of("bash", script.toString()));
            command.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().put("PATH", bin + ":" + pb.environment().get("PATH"));
            pb.environment().put("MILD_STUB_RAN", ran.toString());
            Run r = exec(pb, dir);
            int code = r.code();
            String out = r.out();
            String errText = r.err();
            if (args.equals(List.of("extra"))) {
                assertEquals(2, code, errText);
                assertEquals("", out);
                assertTrue(errText.startsWith("bench/hsdis/build.sh: takes no arguments, got: extra\n"
                        + "Usage: bench/hsdis/build.sh\n"), errText);
            } else {
                assertEquals(0, code, args + ": " + errText);
                assertTrue(out.startsWith("Usage: bench/hsdis/build.sh\n"), out);
                assertTrue(out.contains("needs gcc and binutils-dev"), out);
                assertEquals("", errText, args.toString());
            }
            assertTrue(!Files.exists(ran), args + " ran " + (Files.exists(ran) ? Files.readString(ran) : ""));
            assertTrue(!Files.exists(dir.resolve("bench/hsdis/target")), args + " built nothing");
        }
    }

    /**
     * Each round runs both jars, OLD first in odd rounds and NEW first in even ones, so a drift of the machine
     * does not always fall on the same side; the ratios pair the runs of one round. The stand-in java prints the
     * samplesPerSecond of the jar's name (old: 1M, new: 1.1M to 1.3M by round) and logs the order.
     */
    @Test
    void abAlternatesWhichJarRunsFirstAndPairsTheRunsOfARound(@TempDir Path dir) throws Exception {
        Path root = root(dir, "ab.sh");
        Path oldJar = Files.writeString(dir.resolve("old.jar"), "");
        Path newJar = Files.writeString(dir.resolve("new.jar"), "");
        Path order = dir.resolve("order.txt");
        String stub = "for a; do [[ $prev == -jar ]] && jar=$(basename \"$a\" .jar); prev=$a; done; "
                + "echo $jar >> " + order + "; n=$(wc -l < " + order + "); "
                + "if [[ $jar == old ]]; then r=1000000; else r=$((1000000 + 100000 * ((n + 1) / 2))); fi; "
                + "echo \"{\\\"samplesPerSecond\\\": $r}\"";
        Run r = runWithJdk(root, root.resolve("stub-jdk").toString(), "ab.sh", stub, "3", oldJar.toString(),
                newJar.toString(), "--experts", "8");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("old", "new", "new", "old", "old", "new"), Files.readAllLines(order));
        // New: 1.1M (run 2), 1.2M (run 3), 1.3M (run 6); old always 1M.
        assertEquals("old median 1.00M rows/s, new median 1.20M rows/s\n"
                + "paired new/old: 1.100 1.200 1.300; median 1.200\n", r.out());
    }

    /** A run of the jar that fails (here: not a jar at all) shows the jar's own error instead of none. */
    @Test
    void abShowsTheErrorOfARunThatFails(@TempDir Path dir) throws Exception {
        Path root = root(dir, "ab.sh");
        Path jar = Files.writeString(dir.resolve("broken.jar"), "not a jar");
        Run r = run(root, "ab.sh", "", "1", jar.toString(), jar.toString(), "--experts", "4");
        assertEquals(2, r.code(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("bench/ab.sh: " + jar + " throughput --backend simd --experts 4 failed:\n"), r.err());
        assertTrue(r.err().contains("Invalid or corrupt jarfile " + jar), r.err());
    }

    @Test
    void trainAbSaysWhatIsWrongWithItsArguments(@TempDir Path dir) throws Exception {
        Path root = root(dir, "train-ab.sh");
        Path jar = Files.writeString(dir.resolve("a.jar"), "not a jar");

        Run help = run(root, "train-ab.sh", "", "--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().startsWith("Usage: bench/train-ab.sh ROUNDS OLD.jar NEW.jar TRAIN OPTIONS\n"), help.out());
        // The usage is the script's header comment and ends with its example, not with the script's first line of code.
        assertTrue(help.out().stripTrailing().endsWith("--loss tdef --epochs 1"), help.out());

        Run tooFew = run(root, "train-ab.sh", "", "7", jar.toString(), jar.toString());
        assertEquals(2, tooFew.code());
        assertTrue(tooFew.err().startsWith("Usage: bench/train-ab.sh"), tooFew.err());

        for (String rounds : List.of("seven", "0", "-1", "2.5")) {
            Run r = run(root, "train-ab.sh", "", rounds, jar.toString(), jar.toString(), "--data", "x.csv");
            assertEquals(2, r.code(), rounds);
            assertEquals("bench/train-ab.sh: ROUNDS (the first argument) must be a whole number of at least 1, got \""
                    + rounds + "\"", r.err().strip());
        }
        for (List<String> outOption : List.of(List.of("--out", "m.mild"), List.of("--out=m.mild"))) {
            List<String> args = new ArrayList<>(List.of("1", jar.toString(), jar.toString(), "--data", "x.csv"));
            args.addAll(outOption);
            Run out = run(root, "train-ab.sh", "", args.toArray(String[]::new));
            assertEquals(2, out.code(), outOption.toString());
            assertEquals("bench/train-ab.sh: leave --out out: each build writes to a temporary file", out.err().strip());
        }

        Run missing = run(root, "train-ab.sh", "", "1", jar.toString(), dir.resolve("none.jar").toString(), "--data", "x");
        assertEquals(2, missing.code());
        assertEquals("bench/train-ab.sh: no such jar: " + dir.resolve("none.jar"), missing.err().strip());
    }

    /**
     * As bench/ab.sh, OLD first in odd rounds and NEW first in even ones; each build's model goes to its own file,
     * and the last line says whether the two are the same. The stand-in java logs the order and writes a model
     * whose content is MODEL_OLD or MODEL_NEW's.
     */
    @Test
    void trainAbAlternatesTheJarsAndComparesTheirModels(@TempDir Path dir) throws Exception {
        Path root = root(dir, "train-ab.sh");
        Path oldJar = Files.writeString(dir.resolve("old.jar"), "");
        Path newJar = Files.writeString(dir.resolve("new.jar"), "");
        Path order = dir.resolve("order.txt");
        String stub = "for a; do [[ $prev == -jar ]] && jar=$(basename \"$a\" .jar); [[ $prev == --out ]] && model=$a; "
                + "prev=$a; done; echo \"$jar $*\" >> " + order + "; "
                + "if [[ $jar == old ]]; then echo \"$MODEL_OLD\" > \"$model\"; else echo \"$MODEL_NEW\" > \"$model\"; fi";
        for (String newModel : List.of("same", "other")) {
            Files.deleteIfExists(order);
            Run r = runWithEnv(root, root.resolve("stub-jdk").toString(), Map.of("MODEL_OLD", "same", "MODEL_NEW", newModel),
                    "train-ab.sh", stub, "3", oldJar.toString(), newJar.toString(), "--data", "x.csv", "--loss", "tdef");
            assertEquals(0, r.code(), r.err());
            List<String> runs = Files.readAllLines(order);
            assertEquals(List.of("old", "new", "new", "old", "old", "new"), runs.stream().map(l -> l.split(" ")[0]).toList());
            assertTrue(runs.get(0).contains(" train --data x.csv --loss tdef --out "), runs.get(0));
            String[] lines = r.out().split("\n");
            assertEquals(3, lines.length, r.out());
            assertTrue(lines[0].matches("old median [0-9.]+ s, new median [0-9.]+ s"), lines[0]);
            assertTrue(lines[1].matches("paired old/new: [0-9.]+ [0-9.]+ [0-9.]+; median [0-9.]+"), lines[1]);
            assertEquals(newModel.equals("same") ? "model files: the same, byte for byte" : "model files: they differ",
                    lines[2]);
        }
    }

    /** A training that fails shows the jar's own error, and nothing is compared. */
    @Test
    void trainAbShowsTheErrorOfARunThatFails(@TempDir Path dir) throws Exception {
        Path root = root(dir, "train-ab.sh");
        Path jar = Files.writeString(dir.resolve("broken.jar"), "not a jar");
        Run r = run(root, "train-ab.sh", "", "1", jar.toString(), jar.toString(), "--data", "x.csv");
        assertEquals(2, r.code(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("bench/train-ab.sh: " + jar + " train --data x.csv failed:\n"), r.err());
        assertTrue(r.err().contains("Invalid or corrupt jarfile " + jar), r.err());
    }
}
