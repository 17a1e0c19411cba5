package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.cli.Console;
import dev.mild.cli.Main;
import dev.mild.io.Json;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI contract: output formats and exit codes (0 ok, 1 check failed, 2 bad usage or input). */
class CliTest {

    record Run(int code, String out, String err) {
        List<String> lines() {
            return out.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Console c = new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        int code = Main.run(args, c);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @TempDir
    Path tmp;

    Path golden() throws IOException {
        Path f = tmp.resolve("surrogate-cases.json");
        Files.writeString(f, Support.resource("surrogate-cases.json"));
        return f;
    }

    @Test
    void goldenPrintsOneJsonObjectPerCaseAndBackend() throws IOException {
        int cases = Support.surrogateCases().size();
        for (String backend : Support.fastBackends()) {
            Run r = run("golden", golden().toString(), "--backend", backend);
            assertEquals(0, r.code, r.err);
            assertEquals(cases, r.lines().size());
            for (String line : r.lines()) {
                Map<?, ?> m = (Map<?, ?>) Json.parse(line, "output");
                assertEquals(backend, m.get("backend"));
                assertEquals(Boolean.TRUE, m.get("ok"));
                assertTrue((Double) m.get("lossRelErr") <= 1e-5 && (Double) m.get("gradErr") <= 1e-4, line);
                assertTrue(m.get("case") instanceof String);
            }
        }
        Run all = run("golden", golden().toString());
        assertEquals(0, all.code, all.err);
        assertTrue(all.lines().size() >= 2 * cases, "every usable backend, reference included");
        assertTrue(all.out.contains("\"backend\": \"reference\""));
    }

    @Test
    void goldenFailsWithExitOneWhenAValueIsOff() throws IOException {
        // A different expected value in one case: the check must notice (exit 1) and say which case.
        String text = Support.resource("surrogate-cases.json").replaceFirst("6\\.725557834579566", "6.73");
        Path f = tmp.resolve("tampered.json");
        Files.writeString(f, text);
        Run r = run("golden", f.toString(), "--backend", "scalar");
        assertEquals(1, r.code);
        assertTrue(r.lines().get(0).contains("\"ok\": false") && r.lines().get(0).contains("mild-p3-sum-others"), r.out);
    }

    @Test
    void goldenRejectsBadFilesWithExitTwo() throws IOException {
        Path broken = tmp.resolve("broken.json");
        Files.writeString(broken, "{\"cases\": [{\"name\": \"x\", \"nu\": 1.0,\n \"rho\": [1.0, }]}");
        Run r = run("golden", broken.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("broken.json") && r.err.contains("line 2"), r.err);

        Path ragged = tmp.resolve("ragged.json");
        Files.writeString(ragged, "{\"cases\": [{\"name\": \"r\", \"nu\": 1, \"rho\": [1, 1], \"scores\": [[1, 2], [3]],"
                + " \"weights\": [[1, 1], [1, 1]], \"rowLoss\": [0, 0], \"gradMeanLoss\": [[0, 0], [0, 0]]}]}");
        r = run("golden", ragged.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("scores row 1") && r.err.contains("expected 2"), r.err);

        Path badRho = tmp.resolve("rho.json");
        Files.writeString(badRho, "{\"cases\": [{\"nu\": 1, \"rho\": [1, 0], \"scores\": [], \"weights\": [],"
                + " \"rowLoss\": [], \"gradMeanLoss\": []}]}");
        r = run("golden", badRho.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("rho of expert 1"), r.err);

        r = run("golden", tmp.resolve("missing.json").toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("missing.json"), r.err);
    }

    @Test
    void goldenAcceptsAnotherFileInTheSameFormat() throws IOException {
        // An empty batch (B = 0) and an extra unknown field: still the format.
        Path f = tmp.resolve("other.json");
        Files.writeString(f, "{\"cases\": [{\"name\": \"empty\", \"nu\": 0.5, \"rho\": [1, 2], \"delta\": null,"
                + " \"scores\": [], \"weights\": [], \"rowLoss\": [], \"meanLoss\": 0, \"gradMeanLoss\": [], \"note\": \"hi\"}]}");
        Run r = run("golden", f.toString(), "--backend", "scalar");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("\"case\": \"empty\""));
    }

    @Test
    void unknownBackendIsBadUsage() throws IOException {
        Run r = run("golden", golden().toString(), "--backend", "warp-drive");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("unknown backend \"warp-drive\"") && r.err.contains("available:"), r.err);
    }

    @Test
    void backendsListsTheDefault() {
        Run r = run("backends");
        assertEquals(0, r.code);
        assertTrue(r.out.contains("default"));
        assertTrue(r.out.contains("reference") && r.out.contains("scalar"));
    }

    @Test
    void everyCommandHasHelp() {
        Run top = run("--help");
        assertEquals(0, top.code);
        for (String cmd : List.of("demo", "golden", "throughput", "backends")) {
            assertTrue(top.out.contains(cmd), "top-level help lists " + cmd);
            Run r = run(cmd, "--help");
            assertEquals(0, r.code);
            assertTrue(r.out.contains("Usage: ./mild " + cmd), cmd + " --help");
            assertTrue(r.out.contains("Example"), cmd + " --help has an example");
        }
        assertEquals(2, run().code);
        assertEquals(2, run("frobnicate").code);
        assertEquals(2, run("golden", "--no-such-option").code);
    }

    @Test
    void throughputPrintsOneJsonObject() {
        Run r = run("throughput", "--backend", "scalar", "--experts", "5", "--batch", "300", "--seconds", "0.2",
                "--threads", "1");
        assertEquals(0, r.code, r.err);
        Map<?, ?> m = (Map<?, ?>) Json.parse(r.out.trim(), "output");
        assertEquals("scalar", m.get("backend"));
        assertEquals(5.0, m.get("experts"));
        assertEquals(300.0, m.get("batch"));
        assertEquals(1.0, m.get("threads"));
        assertEquals(Boolean.FALSE, m.get("equalRho"));
        double sps = (Double) m.get("samplesPerSecond");
        double ns = (Double) m.get("nsPerSample");
        assertTrue(sps > 0 && ns > 0);
        assertEquals(1e9 / sps, ns, 1e-2 * ns);
        assertEquals(2, run("throughput", "--experts", "0").code);
    }

    @Test
    void demoRunsAndEveryBackendIsWithinTolerance() {
        Run r = run("demo", "--rows", "2000");
        assertEquals(0, r.code, r.out + r.err);
        for (String loss : List.of("mild", "compsum", "tdef", "realizable-log", "realizable-mae", "ce", "cwce", "ldam")) {
            assertTrue(r.out.contains(loss), "demo shows " + loss);
        }
        assertTrue(!r.out.contains("OUTSIDE"));
        assertTrue(r.out.contains("Oracle"));
    }
}
