package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A machine without an OpenCL platform, simulated by pointing the ICD loader at an empty vendor directory
 * ({@code OCL_ICD_VENDORS}) in a child JVM: the backend lists itself as unavailable with the reason and what
 * to install, asking for it by name is a clear error (exit 2), and everything else still runs.
 */
class OpenClUnavailableTest {

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    Result mild(String... args) throws IOException, InterruptedException {
        return mild(List.of(), args);
    }

    Result mild(List<String> jvmOptions, String... args) throws IOException, InterruptedException {
        Path vendors = Files.createDirectories(tmp.resolve("no-vendors"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.mild.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("OCL_ICD_VENDORS", vendors.toString());
        pb.environment().remove("OPENCL_VENDOR_PATH");
        pb.redirectOutput(tmp.resolve("out.txt").toFile());
        pb.redirectError(tmp.resolve("err.txt").toFile());
        Process proc = pb.start();
        assertTrue(proc.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
        return new Result(proc.exitValue(), Files.readString(tmp.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void withoutPlatformTheBackendIsUnavailableAndTheRestRuns() throws Exception {
        Result backends = mild("backends");
        assertEquals(0, backends.code, backends.err);
        String line = backends.out.lines().filter(l -> l.startsWith("opencl ")).findFirst().orElse("");
        assertTrue(line.contains("unavailable") && line.contains("no OpenCL platform found")
                && line.contains("pocl-opencl-icd"), "mild backends should say why opencl is unavailable:\n" + backends.out);
        assertTrue(backends.out.lines().anyMatch(l -> l.contains("default")), backends.out);

        Result asked = mild("throughput", "--backend", "opencl", "--batch", "10", "--seconds", "0.05");
        assertEquals(2, asked.code, asked.out + asked.err);
        assertTrue(asked.err.contains("backend \"opencl\" is not available here") && asked.err.contains("no OpenCL platform"),
                asked.err);

        Path golden = tmp.resolve("cases.json");
        Files.writeString(golden, Support.resource("surrogate-cases.json"));
        Result all = mild("golden", golden.toString());
        assertEquals(0, all.code, all.err);
        assertTrue(all.out.contains("\"backend\": \"scalar\"") && !all.out.contains("\"backend\": \"opencl\""), all.out);
    }

    /**
     * JOCL copies its native library to java.io.tmpdir and loads it from there; where it cannot (read-only,
     * {@code noexec}, or here a path that cannot be a directory, which fails the same way for root), the reason is
     * one line that names the directory and what to do, not "install an OpenCL driver" followed by stack traces.
     */
    @Test
    void anUnusableTmpdirIsNamedInOneLine() throws Exception {
        Path notADirectory = Files.writeString(tmp.resolve("a-file"), "");
        Result backends = mild(List.of("-Djava.io.tmpdir=" + notADirectory.resolve("sub")), "backends");
        assertEquals(0, backends.code, backends.err);
        List<String> lines = backends.out.lines().toList();
        int at = lines.indexOf(lines.stream().filter(l -> l.startsWith("opencl ")).findFirst().orElse(""));
        assertTrue(at >= 0, backends.out);
        String line = lines.get(at);
        assertTrue(line.contains("unavailable") && line.contains("java.io.tmpdir (" + notADirectory.resolve("sub") + ")")
                && line.contains("Could not create directory") && line.contains("-Djava.io.tmpdir=DIR")
                && !line.contains("install an OpenCL driver"), line);
        assertTrue(at + 1 == lines.size() || !lines.get(at + 1).startsWith("\t"), "one line:\n" + backends.out);
    }
}
