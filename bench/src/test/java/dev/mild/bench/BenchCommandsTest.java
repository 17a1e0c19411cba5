package dev.mild.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.BenchmarkListEntry;

/**
 * Every {@code ./mild bench PATTERN} the documentation and the benchmarks' "how to run" comments give selects a
 * benchmark: JMH takes the pattern as a regular expression found in the full name
 * ({@code dev.mild.bench.OpenClOpenBenchmark.laterOpen}), and a pattern that matches nothing runs nothing
 * ("No matching benchmarks"). {@code 'OpenClOpen.laterOpen'} did: its dot stood for the B of Benchmark.
 */
class BenchCommandsTest {

    /** A quoted pattern, or a bare one (a class name, perhaps with a method). */
    private static final Pattern COMMAND = Pattern.compile("\\./mild bench +(?:'([^']+)'|([A-Z][A-Za-z0-9_.]*))");

    /** The benchmarks JMH's annotation processor listed for this module. */
    private static List<String> benchmarks() throws IOException {
        List<String> names = new ArrayList<>();
        for (BenchmarkListEntry entry : entries()) {
            names.add(entry.getUsername());
        }
        return names;
    }

    private static List<BenchmarkListEntry> entries() throws IOException {
        try (InputStream in = BenchCommandsTest.class.getResourceAsStream("/META-INF/BenchmarkList")) {
            List<BenchmarkListEntry> entries = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    entries.add(new BenchmarkListEntry(line));
                }
            }
            return entries;
        }
    }

    /**
     * The flags a benchmark's forks need (the vector module, native access) are prepended, so that a command's own
     * {@code -jvmArgsAppend -Dname=value} (PERFORMANCE.md's ablation, a device choice) adds to them: JMH's command-line
     * option replaces the annotation's attribute of the same name, and with the flags in {@code jvmArgsAppend} a
     * fork started without them ("backend simd is not available here: jdk.incubator.vector is not added") unless
     * its parent JVM had them too (./mild bench does, bench/peers.sh did not).
     */
    @Test
    void forkFlagsArePrependedSoThatAnAppendedOneAddsToThem() throws IOException {
        for (BenchmarkListEntry entry : entries()) {
            assertTrue(!entry.getJvmArgsAppend().hasValue(), () -> entry.getUsername() + " sets jvmArgsAppend: "
                    + entry.getJvmArgsAppend().get());
            if (!entry.getUsername().contains("OpenCl")) {
                assertTrue(entry.getJvmArgsPrepend().hasValue() && entry.getJvmArgsPrepend().get().contains("jdk.incubator.vector"),
                        entry.getUsername() + " does not add the vector module to its forks");
            }
        }
    }

    /** The documents and sources that give ./mild bench commands (surefire runs in bench/). */
    private static List<Path> documents() throws IOException {
        List<Path> files = new ArrayList<>(List.of(Path.of("../README.md"), Path.of("README.md"),
                Path.of("PERFORMANCE.md")));
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            sources.filter(p -> p.toString().endsWith(".java")).sorted().forEach(files::add);
        }
        return files;
    }

    @Test
    void everyDocumentedPatternSelectsABenchmark() throws IOException {
        List<String> names = benchmarks();
        assertTrue(names.contains("dev.mild.bench.OpenClOpenBenchmark.laterOpen"), names.toString());
        List<String> unmatched = new ArrayList<>();
        int patterns = 0;
        for (Path file : documents()) {
            Matcher m = COMMAND.matcher(Files.readString(file));
            while (m.find()) {
                String pattern = m.group(1) != null ? m.group(1) : m.group(2).replaceFirst("\\.$", "");
                patterns++;
                Pattern regex = Pattern.compile(pattern);
                if (names.stream().noneMatch(n -> regex.matcher(n).find())) {
                    unmatched.add(file + ": ./mild bench " + pattern);
                }
            }
        }
        assertTrue(patterns >= 20, "found only " + patterns + " commands: has the format changed?");
        assertEquals(List.of(), unmatched, "patterns that select no benchmark");
    }
}
