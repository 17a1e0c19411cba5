package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
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
import java.time.Duration;
import java.util.ArrayList;
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
        return runWithInput(new byte[0], args);
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

    /** Writes {@code json} to {@code file}, runs {@code golden} on it with {@code args}: bad input, exit 2. */
    private Run goldenRefuses(Path file, String json, String... args) throws IOException {
        Files.writeString(file, json);
        List<String> command = new ArrayList<>(List.of("golden", file.toString()));
        command.addAll(List.of(args));
        Run r = run(command.toArray(String[]::new));
        assertEquals(2, r.code, r.out + r.err);
        return r;
    }

    @Test
    void goldenRejectsBadFilesWithExitTwo() throws IOException {
        Run r = goldenRefuses(tmp.resolve("broken.json"), "{\"cases\": [{\"name\": \"x\", \"nu\": 1.0,\n \"rho\": [1.0, }]}");
        assertTrue(r.err.contains("broken.json") && r.err.contains("line 2"), r.err);

        r = goldenRefuses(tmp.resolve("ragged.json"), "{\"cases\": [{\"name\": \"r\", \"nu\": 1, \"rho\": [1, 1], \"scores\":"
                + " [[1, 2], [3]], \"weights\": [[1, 1], [1, 1]], \"rowLoss\": [0, 0], \"gradMeanLoss\": [[0, 0], [0, 0]]}]}");
        assertTrue(r.err.contains("scores row 1") && r.err.contains("expected 2"), r.err);

        r = goldenRefuses(tmp.resolve("rho.json"), "{\"cases\": [{\"nu\": 1, \"rho\": [1, 0], \"scores\": [], \"weights\": [],"
                + " \"rowLoss\": [], \"gradMeanLoss\": []}]}");
        assertTrue(r.err.contains("case 0: rho of expert 2 (1-based) must be finite and > 0, got 0.0"), r.err);

        r = run("golden", tmp.resolve("missing.json").toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("missing.json"), r.err);

        // A number written as a JSON string was shown without its quotes: "\"nu\" must be a number, got 1.0", and an
        // empty string as nothing at all ("got "). Found by the file-fuzzing review (tokens swapped in golden files).
        r = goldenRefuses(tmp.resolve("text.json"), "{\"cases\": [{\"nu\": \"1.0\", \"rho\": [1, 1]}]}");
        assertTrue(r.err.contains("text.json: case 0: \"nu\" must be a number, got the text \"1.0\""), r.err);
        r = goldenRefuses(tmp.resolve("text.json"), "{\"cases\": [{\"nu\": 1, \"rho\": \"\"}]}");
        assertTrue(r.err.contains("text.json: case 0: \"rho\" must be an array of numbers, got the text \"\""), r.err);
        r = goldenRefuses(tmp.resolve("text.json"), "{\"theoryRho\": \"[1, 2]\"}");
        assertTrue(r.err.contains("text.json: \"theoryRho\" must be an object, got the text \"[1, 2]\""), r.err);

        // A number beyond float64 was read as Infinity: infinite weights made the case "fail" (exit 1), and
        // infinite deferral costs an error that named neither the file nor the place.
        Path huge = tmp.resolve("huge.json");
        r = goldenRefuses(huge, "{\"cases\": [{\"nu\": 1, \"rho\": [1, 1], \"scores\": [[1, 2]],\n \"weights\": [[1e999, 0]],"
                + " \"rowLoss\": [0], \"gradMeanLoss\": [[0, 0]]}]}", "--backend", "scalar");
        assertEquals("mild golden: error: " + huge + ": line 2, column 15: number 1e999 is beyond the float64 range"
                + " (at most 1.7976931348623157E308 in magnitude)", r.err.strip());
        r = goldenRefuses(huge, "{\"rewards\": {\"costs\": [[0, -1e999]], \"sum-others\": [[0, 0]]}}");
        assertTrue(r.err.contains(huge + ": line 1, column 28: number -1e999 is beyond"), r.err);

        // Within float64 but beyond float32, in which the float backends read the weights and a router its
        // scores: weights made the case "fail" on them (exit 1); scores stopped without naming the file.
        r = goldenRefuses(huge, "{\"cases\": [{\"nu\": 1, \"rho\": [1, 1], \"scores\": [[1, 2]], \"weights\": [[0, 1e300]],"
                + " \"rowLoss\": [0], \"gradMeanLoss\": [[0, 0]]}]}", "--backend", "scalar");
        assertEquals("mild golden: error: " + huge + ": case 0: \"weights\" row 0, column 1: 1.0E300 is beyond the"
                + " float32 range (at most 3.4028235E38 in magnitude)", r.err.strip());
        r = goldenRefuses(huge, "{\"deferralLoss\": {\"scores\": [[1, 2], [-1e300, 0]], \"costs\": [[0, 1], [1, 0]],"
                + " \"choice\": [1, 1], \"rowLoss\": [1, 0], \"meanLoss\": 0.5}}");
        assertEquals("mild golden: error: " + huge + ": deferralLoss: \"scores\" row 1, column 0: -1.0E300 is beyond"
                + " the float32 range (at most 3.4028235E38 in magnitude)", r.err.strip());
    }

    @Test
    void goldenRefusesAFileThatChecksNothingAndSaysWhyAFileCannotBeRead() throws IOException {
        // No case at all: exit 0 ("every case is ok") would be a pass that checked nothing.
        Path empty = tmp.resolve("empty.json");
        Files.writeString(empty, "{\"cases\": []}");
        Run r = run("golden", empty.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertTrue(r.err.contains("empty.json: the \"cases\" array is empty; there is nothing to check"), r.err);
        assertEquals("", r.out.strip());

        Path binary = tmp.resolve("binary.json");
        Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        r = run("golden", binary.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("binary.json: not a golden JSON file: the bytes are not UTF-8 text (line 1, byte"
                + " offset 0: 0xff)"), r.err);
        // Further in, the place is what tells a damaged byte from a file in another encoding (Latin-1 \u00e9, 0xe9).
        Path latin1 = tmp.resolve("latin1.json");
        Files.write(latin1, "{\"cases\": [\n  {\"name\": \"caf\u00e9\"}]}".getBytes(StandardCharsets.ISO_8859_1));
        r = run("golden", latin1.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("latin1.json: not a golden JSON file: the bytes are not UTF-8 text (line 2, byte"
                + " offset 27: 0xe9)"), r.err);

        r = run("golden", tmp.resolve("missing.json").toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("missing.json: cannot read golden file: no such file or directory"), r.err);

        r = run("golden", tmp.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains(tmp + ": is a directory; give a golden JSON file"), r.err);
    }

    @Test
    void goldenSkipsAByteOrderMarkLikeTheCsvReader() throws IOException {
        Path f = tmp.resolve("bom.json");
        Files.writeString(f, "\uFEFF" + Support.resource("surrogate-cases.json"));
        Run r = run("golden", f.toString(), "--backend", "scalar");
        assertEquals(0, r.code, r.err);
        assertFalse(r.lines().isEmpty());
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
    void goldenChecksTheDeferralCasesToo() throws IOException {
        Path f = tmp.resolve("deferral-cases.json");
        String text = Support.resource("deferral-cases.json");
        Files.writeString(f, text);
        Run r = run("golden", f.toString());
        assertEquals(0, r.code, r.out + r.err);
        assertEquals(List.of("deferralLoss", "rewards/sum-others", "rewards/one-minus", "rewards/realizable", "theoryRho"),
                r.lines().stream().map(l -> l.replaceAll("^\\{\"case\": \"([^\"]+)\".*", "$1")).toList());
        assertTrue(r.lines().stream().allMatch(l -> l.endsWith("\"ok\": true}")), r.out);

        // One expected choice and one theory margin changed: both checks must fail, the others pass.
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = (Map<String, Object>) Json.parse(text, "deferral-cases.json");
        @SuppressWarnings("unchecked")
        Map<String, Object> loss = (Map<String, Object>) doc.get("deferralLoss");
        @SuppressWarnings("unchecked")
        List<Object> choice = (List<Object>) loss.get("choice");
        int first = ((Double) choice.get(0)).intValue();
        String tampered = text.replaceFirst("\"choice\": \\[\\s*" + first, "\"choice\": [" + (first + 1) % 3)
                .replaceFirst("\"rhoBar\": ([0-9.]+)", "\"rhoBar\": 1.5");
        assertTrue(!tampered.equals(text));
        Files.writeString(f, tampered);
        r = run("golden", f.toString());
        assertEquals(1, r.code, r.out + r.err);
        assertTrue(r.out.contains("{\"case\": \"deferralLoss\", \"maxAbsErr\": 0, \"mismatches\": 1, \"ok\": false}"), r.out);
        assertTrue(r.out.contains("\"case\": \"theoryRho\"") && r.lines().get(4).endsWith("\"ok\": false}"), r.out);
        assertTrue(r.lines().get(1).endsWith("\"ok\": true}"), r.out);

        assertEquals(2, run("golden", f.toString(), "--backend", "simd").code);
        Files.writeString(f, "{\"theoryRho\": {\"labels\": [0, 1], \"norms\": [1, 1], \"p\": 2.5, \"rhoBar\": 1, \"rho\": [1, 1]}}");
        r = run("golden", f.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("theoryRho: \"p\" must be a whole number >= 0, got 2.5"), r.err);
    }

    /**
     * A key of a deferral-cases file that is none of its sections (a misspelt "theoryrho", or loss "cases" beside
     * the sections) was skipped in silence: the other sections passed, exit 0, and that check never ran.
     */
    @Test
    void goldenRefusesAnUnknownSectionOfADeferralFile() throws IOException {
        Path f = tmp.resolve("deferral-cases.json");
        String text = Support.resource("deferral-cases.json");
        Files.writeString(f, text.replaceFirst("\"theoryRho\"", "\"theoryrho\""));
        Run r = run("golden", f.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertEquals("mild golden: error: " + f + ": \"theoryrho\" is not a section of a deferral-cases file"
                + " (sections: deferralLoss, rewards, theoryRho); it would go unchecked", r.err.strip());
        assertEquals("", r.out);
        Files.writeString(f, text.replaceFirst("\\{", "{\"cases\": [], "));
        r = run("golden", f.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertTrue(r.err.contains("\"deferralLoss\" is not part of a loss-cases file (it has only \"cases\"); it would"
                + " go unchecked: give the deferral sections in a file of their own"), r.err);
        Files.writeString(f, text.replaceFirst("\\{", "{\"cases\": {}, "));
        r = run("golden", f.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertTrue(r.err.contains("\"cases\" is not a section of a deferral-cases file")
                && r.err.contains("give loss cases in a file of their own"), r.err);
    }

    /** A rewards section with costs and no expected weights checked nothing, and alone in its file passed (exit 0). */
    @Test
    void goldenRefusesARewardsSectionWithoutExpectedWeights() throws IOException {
        Path f = tmp.resolve("rewards-only.json");
        Run r = goldenRefuses(f, "{\"rewards\": {\"costs\": [[0, 1], [1, 0]]}}");
        assertEquals("mild golden: error: " + f + ": rewards: costs but no expected weights; give at least one rule's"
                + " (sum-others, one-minus, realizable) rows of weights", r.err.strip());
        assertEquals("", r.out);
        // With one rule it runs: sum-others of (0, 1) is (1, 0), by hand.
        Files.writeString(f, "{\"rewards\": {\"costs\": [[0, 1], [1, 0]], \"sum-others\": [[1, 0], [0, 1]]}}");
        r = run("golden", f.toString());
        assertEquals(0, r.code, r.out + r.err);
        assertTrue(r.out.contains("\"case\": \"rewards/sum-others\"") && r.out.contains("\"ok\": true"), r.out);
    }

    /** An expected choice beyond the experts is a bad file (exit 2), not a router that chose differently (exit 1). */
    @Test
    void goldenRefusesAnExpectedChoiceOutsideTheExperts() throws IOException {
        Path f = tmp.resolve("deferral-cases.json");
        Files.writeString(f, "{\"deferralLoss\": {\"scores\": [[1, 0, 0], [0, 1, 0]], \"costs\": [[0, 1, 1], [1, 0, 1]],"
                + " \"choice\": [0, 9], \"rowLoss\": [0, 0], \"meanLoss\": 0}}");
        Run r = run("golden", f.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertEquals("mild golden: error: " + f + ": deferralLoss: \"choice\"[1] is 9, outside the experts 0..2",
                r.err.strip());
    }

    /**
     * A width that does not match names the field that set it: a "rho" of 2 margins for rows of 3 scores was
     * reported as "scores row 0 has 3 values, expected 2", a short first row blamed the second, and "norms" one
     * value short was reported as "labels" one too many.
     */
    @Test
    void goldenShapeErrorsNameWhereTheWidthComesFrom() throws IOException {
        Path f = tmp.resolve("cases.json");
        Files.writeString(f, "{\"cases\": [{\"name\": \"two\", \"nu\": 1, \"rho\": [1, 1], \"delta\": null,"
                + " \"scores\": [[1, 2, 3]], \"weights\": [[1, 1, 1]], \"rowLoss\": [1], \"meanLoss\": 1,"
                + " \"gradMeanLoss\": [[0, 0, 0]]}]}");
        Run r = run("golden", f.toString(), "--backend", "scalar");
        assertEquals(2, r.code, r.out + r.err);
        assertEquals("mild golden: error: " + f + ": case 0 (\"two\"): \"scores row 0\" has 3 values, expected 2"
                + " (one per expert, as \"rho\" has)", r.err.strip());

        Files.writeString(f, "{\"rewards\": {\"costs\": [[0, 1], [1, 0, 1]], \"sum-others\": [[1, 0, 2], [1, 2, 1]]}}");
        r = run("golden", f.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertEquals("mild golden: error: " + f + ": rewards: \"costs row 1\" has 3 values, expected 2 (as row 0 has)",
                r.err.strip());

        Files.writeString(f, "{\"theoryRho\": {\"labels\": [0, 1, 1], \"norms\": [1, 1], \"p\": 2, \"rhoBar\": 1,"
                + " \"rho\": [1, 1]}}");
        r = run("golden", f.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertEquals("mild golden: error: " + f + ": theoryRho: \"labels\" has 3 values, \"norms\" has 2 (one of each"
                + " per row)", r.err.strip());
    }

    @Test
    void goldenWithoutAFileChecksBothBuiltInFiles() throws IOException {
        // The jar's built-in copies must give exactly what the test resources' copies give as FILEs.
        Path deferral = tmp.resolve("deferral-cases.json");
        Files.writeString(deferral, Support.resource("deferral-cases.json"));
        Run lossRun = run("golden", golden().toString(), "--backend", "scalar");
        Run deferralRun = run("golden", deferral.toString());
        assertEquals(0, lossRun.code, lossRun.err);
        assertEquals(0, deferralRun.code, deferralRun.err);

        Run builtIn = run("golden", "--backend", "scalar");
        assertEquals(0, builtIn.code, builtIn.out + builtIn.err);
        List<String> expected = new java.util.ArrayList<>(lossRun.lines());
        expected.addAll(deferralRun.lines());
        assertEquals(expected, builtIn.lines());
        assertTrue(lossRun.lines().size() > 10 && deferralRun.lines().size() == 5, builtIn.out);

        Run twoFiles = run("golden", golden().toString(), deferral.toString());
        assertEquals(2, twoFiles.code);
        assertTrue(twoFiles.err.contains("expects at most one golden FILE"), twoFiles.err);
    }

    @Test
    void unknownBackendIsBadUsage() throws IOException {
        Run r = run("golden", golden().toString(), "--backend", "warp-drive");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("unknown backend \"warp-drive\"") && r.err.contains("available:"), r.err);
    }

    @Test
    void usageErrorsReadLikeOtherErrorsAndPointAtHelp() {
        // A malformed option value (a usage error) and an unknown option: one prefix, and where to look, once.
        Run bad = run("throughput", "--experts", "eight");
        assertEquals(2, bad.code);
        assertEquals("mild throughput: error: --experts must be a whole number, got \"eight\" (see ./mild throughput"
                + " --help)", bad.err.strip().lines().reduce((a, b) -> b).orElse(""), bad.err);
        Run unknown = run("throughput", "--expert", "8");
        assertEquals(2, unknown.code);
        String last = unknown.err.strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("mild throughput: error: unknown option --expert"), unknown.err);
        assertEquals(1, last.split("--help", -1).length - 1, "one pointer to --help: " + last);
    }

    @Test
    void aForgottenOrEmptyOptionValueIsNamedAsSuch() {
        // The value of --epochs was forgotten: "--out" is the next option, not the value (nor is m.mild a stray argument).
        Run r = run("train", "--data", "d.csv", "--epochs", "--out", "m.mild");
        assertEquals(2, r.code);
        assertEquals("mild train: error: --epochs needs a value, but the next argument is the option --out"
                + " (see ./mild train --help)", r.err.strip());
        // An empty value (an unset shell variable) is not the current directory.
        r = run("eval", "--model", "", "--data", "d.csv");
        assertEquals(2, r.code);
        assertEquals("mild eval: error: --model needs a value, got an empty one (see ./mild eval --help)", r.err.strip());
        r = run("train", "--data=");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--data needs a value, got an empty one"), r.err);
    }

    /**
     * An empty argument that is no option's value (./mild golden "$FILE" with FILE unset) was golden's FILE, the
     * current directory (": is a directory"), and elsewhere "expects no positional arguments, got " named nothing.
     */
    @Test
    void anEmptyArgumentIsNamedAsSuch() {
        Run r = run("golden", "");
        assertEquals(2, r.code, r.err);
        assertEquals("mild golden: error: argument 1 after 'golden' is empty (an unset shell variable?): give what"
                + " belongs there, or leave it out (see ./mild golden --help)", r.err.strip());
        r = run("eval", "--model", "m.mild", "--data", "d.csv", " ");
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("error: argument 5 after 'eval' is empty"), r.err);
    }

    /**
     * "--" was "unknown option -- (options start with --; ...)", which contradicts itself, and a golden FILE whose
     * name starts with a dash could only be given as ./-x.json. Now it ends the options, as in other tools.
     */
    @Test
    void doubleDashEndsTheOptions() throws IOException {
        Path dashed = tmp.resolve("-cases.json");
        Files.writeString(dashed, Support.resource("surrogate-cases.json"));
        Run r = run("golden", "--backend", "scalar", "--", dashed.toString());
        assertEquals(0, r.code, r.err);
        assertEquals(Support.surrogateCases().size(), r.lines().size(), r.out);
        assertEquals(0, run("backends", "--").code);
        // After it, what looks like an option is an argument (here one that train does not take), --help included.
        r = run("train", "--", "--data", "d.csv");
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: 'train' expects no positional arguments (give the data with --data FILE), got"
                + " --data d.csv (see ./mild train --help)", r.err.strip());
        r = run("golden", "--", "--help");
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("--help: cannot read golden file"), r.err);
    }

    @Test
    void backendsListsTheDefault() {
        Run r = run("backends");
        assertEquals(0, r.code);
        assertTrue(r.out.contains("default"));
        assertTrue(r.out.contains("reference") && r.out.contains("scalar"));
        String dense = Boolean.getBoolean("mild.test.noVector") ? "plain (eval and route: plain) (simd cannot run: "
                : "simd (eval and route: plain)\n";
        assertTrue(r.out.contains("routers' dense product: " + dense), r.out);
    }

    @Test
    void everyCommandHasHelp() {
        Run top = run("--help");
        assertEquals(0, top.code);
        for (String cmd : List.of("demo", "train", "eval", "route", "repro", "golden", "throughput", "backends")) {
            assertTrue(top.out.contains(cmd), "top-level help lists " + cmd);
            Run r = run(cmd, "--help");
            assertEquals(0, r.code);
            assertTrue(r.out.contains("Usage: ./mild " + cmd), cmd + " --help");
            assertTrue(r.out.contains("Example"), cmd + " --help has an example");
        }
        // Feature columns are standardized only with the default --scale columns.
        String train = run("train", "--help").out;
        String columns = train.substring(train.indexOf("any other column"), train.indexOf("Rows of --data"));
        assertTrue(columns.contains("unless --scale none"), columns);
        // The text output has no line for the oracle on the training split: the help sends the reader to --json.
        String output = train.substring(train.indexOf("Output:")).replaceAll("\\s+", " ");
        assertTrue(output.contains("and also gives the oracle's shares on the training split (trainOracleRatios)"),
                output);
        assertEquals(2, run().code);
        assertEquals(2, run("frobnicate").code);
        assertEquals(2, run("golden", "--no-such-option").code);
        // "help CMD" gives that command's help; a name that is no command is an error, not the general usage.
        assertEquals(run("eval", "--help").out, run("help", "eval").out);
        Run misspelt = run("help", "trian");
        assertEquals(2, misspelt.code);
        assertEquals("", misspelt.out);
        assertTrue(misspelt.err.contains("no help for 'trian': not a command. Commands: demo, train"), misspelt.err);
    }

    /**
     * "./mild tset" listed the jar's commands only ("Commands: demo, ..., backends"), as if there were no test, bench
     * or java-home; the jar run by itself with one of those said "unknown command".
     */
    @Test
    void anUnknownCommandListsTheScriptsCommandsToo() {
        String all = "demo, train, eval, route, repro, golden, throughput, backends, test, bench, java-home";
        Run r = run("tset");
        assertEquals(2, r.code, r.err);
        assertEquals("mild: unknown command 'tset'. Commands: " + all + ". Try ./mild --help.", r.err.strip());
        r = run("help", "tset");
        assertEquals(2, r.code, r.err);
        assertEquals("mild: no help for 'tset': not a command. Commands: " + all + ". Try ./mild --help.", r.err.strip());
        r = run("test");
        assertEquals(2, r.code, r.err);
        assertEquals("mild: 'test' is a command of the ./mild script, not of this jar: run ./mild test", r.err.strip());
        r = run("help", "bench");
        assertEquals(2, r.code, r.err);
        assertEquals("mild: 'bench' is a command of the ./mild script, not of this jar: run ./mild bench --help",
                r.err.strip());
    }

    /**
     * README's "Commands" table gives each command's usage: every option of the usage line of its --help is in the
     * table's first cell (the table had lost demo's --rows/--seed/--epochs, repro's --dir/--train-rows/--epochs/--json,
     * golden's --threads and train's --valid, found by reading the README against the help).
     */
    @Test
    void readmeCommandTableNamesEveryOptionOfEachUsageLine() throws IOException {
        List<String> readme = Files.readAllLines(Path.of("..", "README.md")); // surefire runs in the tests module
        for (String cmd : List.of("demo", "train", "eval", "route", "repro", "golden", "throughput", "backends")) {
            String help = run(cmd, "--help").out;
            String usage = help.substring(0, help.indexOf("\n\n"));
            String row = readme.stream().filter(l -> l.startsWith("| `" + cmd + " ") || l.startsWith("| `" + cmd + "`"))
                    .findFirst().orElseThrow(() -> new AssertionError("no row for " + cmd + " in README's Commands"));
            String cell = row.substring(0, row.indexOf("` |") + 1);
            java.util.regex.Matcher option = java.util.regex.Pattern.compile("--[a-z][a-z-]*").matcher(usage);
            while (option.find()) {
                assertTrue(cell.contains(option.group() + " ") || cell.contains(option.group() + "]")
                        || cell.contains(option.group() + "`"), cmd + ": README's row lacks " + option.group() + ": " + cell);
            }
        }
    }

    /** test, bench and java-home belong to the ./mild script; --help lists them and explains each, as for the jar's. */
    @Test
    void theLauncherExplainsItsOwnCommands() throws IOException, InterruptedException {
        Path launcher = Path.of("..", "mild"); // surefire runs in the tests module
        assertTrue(Files.isRegularFile(launcher), launcher.toAbsolutePath().toString());
        Run top = run("--help");
        for (String cmd : List.of("test", "bench", "java-home")) {
            assertTrue(top.out.contains("\n  " + cmd + " "), "top-level help lists " + cmd + ":\n" + top.out);
            Process p = new ProcessBuilder("bash", launcher.toString(), cmd, "--help").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            assertTrue(out.startsWith("Usage: ./mild " + cmd), cmd + " --help:\n" + out);
            // "./mild help CMD", the form that works for the jar's commands, gives the same text.
            Process h = new ProcessBuilder("bash", launcher.toString(), "help", cmd).redirectErrorStream(true).start();
            String viaHelp = new String(h.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, h.waitFor(), viaHelp);
            assertEquals(out, viaHelp, "./mild help " + cmd);
            assertTrue(out.contains("Example"), cmd + " --help has an example");
            if (cmd.equals("bench")) {
                // JMH's scores are per call, not per row: the help says so, and how to get rows per second.
                String output = out.substring(Math.max(0, out.indexOf("Output:"))).replaceAll("\\s+", " ");
                assertTrue(output.startsWith("Output:") && output.contains("calls per second")
                        && output.contains("multiply by the batch parameter for rows per second"), out);
            }
        }
    }

    /**
     * bench/ab.sh adds --backend simd unless a backend is given, but looked only for "--backend NAME": with
     * --backend=scalar both went to the jar, which refused them as "--backend is given twice".
     */
    @Test
    void benchAbTakesABackendWrittenWithAnEqualsSign() throws IOException, InterruptedException {
        Path jar = Path.of("..", "cli", "target", "mild.jar");   // surefire runs in the tests module
        assertTrue(Files.isRegularFile(jar), jar.toAbsolutePath().toString());
        Process p = new ProcessBuilder("bash", Path.of("..", "bench", "ab.sh").toString(), "1", jar.toString(),
                jar.toString(), "--backend=scalar", "--experts", "2", "--batch", "64", "--seconds", "0.05")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("paired new/old: "), out);
    }

    /**
     * bench/report.sh checks its environment before building and measuring: JMH took BATCH=abc to a stack trace and
     * exit 1, and a MILD_BENCH_OUT that is a directory got the results inside it before the table failed (both left by
     * the command-line arguments review).
     */
    @Test
    void benchReportRefusesBadEnvironmentValuesUpFront() throws IOException, InterruptedException {
        String[][] cases = {
                {"BATCH", "abc", "bench/report.sh: BATCH=abc: give batch sizes, each >= 1, separated by commas"},
                {"EXPERTS", "8,,16", "bench/report.sh: EXPERTS=8,,16: give numbers of experts, each >= 1"},
                {"EQUAL_RHO", "yes", "bench/report.sh: EQUAL_RHO=yes: give true or false"},
                {"NU", "-1", "bench/report.sh: NU=-1: give exponents nu >= 0"},
                {"MILD_BENCH_OUT", tmp.toString(), "bench/report.sh: MILD_BENCH_OUT=" + tmp + " is a directory"}};
        for (String[] c : cases) {
            ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "bench", "report.sh").toString())
                    .redirectErrorStream(true);
            pb.environment().put(c[0], c[1]);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(2, p.waitFor(), out);
            assertTrue(out.contains(c[2]), out);
        }
    }

    /**
     * A MILD_JAVA_HOME that is no JDK >= 25 (a typo, an old JDK) was passed over in silence for whatever JDK the search
     * found next.
     */
    @Test
    void theLauncherRefusesAMildJavaHomeThatIsNoJdk25() throws IOException, InterruptedException {
        Path old = tmp.resolve("jdk-17");
        Files.createDirectories(old.resolve("bin"));
        for (String tool : List.of("java", "javac")) {
            Path f = Files.writeString(old.resolve("bin").resolve(tool), "#!/bin/sh\nexit 1\n");
            assertTrue(f.toFile().setExecutable(true));
        }
        Files.writeString(old.resolve("release"), "JAVA_VERSION=\"17.0.2\"\n");
        String[][] cases = {
                {old.toString(), "mild: MILD_JAVA_HOME=" + old + " is a JDK 17; ./mild needs 25 or newer."},
                {tmp.resolve("nowhere").toString(), "mild: MILD_JAVA_HOME=" + tmp.resolve("nowhere") + " is not a JDK"
                        + " (no bin/java and bin/javac there)."}};
        for (String[] c : cases) {
            ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "mild").toString(), "java-home");
            pb.environment().put("MILD_JAVA_HOME", c[0]);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(2, p.waitFor(), out + err);
            assertEquals("", out);
            assertEquals(c[1] + "\nmild: point MILD_JAVA_HOME at a JDK 25 or newer, or unset it to let ./mild look"
                    + " (JAVA_HOME, /usr/lib/jvm/*, ...).", err.strip());
        }
    }

    /** "./mild java-home extra" printed the JDK with exit 0, where the jar's commands refuse a stray argument. */
    @Test
    void theLaunchersJavaHomeRefusesArguments() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", Path.of("..", "mild").toString(), "java-home", "extra").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.waitFor(), out + err);
        assertEquals("", out);
        assertEquals("mild java-home: error: 'java-home' expects no arguments, got extra (see ./mild java-home --help)",
                err.strip());
        // Not an argument: -h is its help, as for the jar's commands (java-home has no Maven or JMH behind it).
        Process h = new ProcessBuilder("bash", Path.of("..", "mild").toString(), "java-home", "-h").start();
        String help = new String(h.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, h.waitFor(), help);
        assertTrue(help.startsWith("Usage: ./mild java-home"), help);
    }

    /**
     * MILD_JVM_OPTS that Java refuses stopped the JVM with exit code 1, this CLI's "a check failed", with Java's message
     * alone ("Unrecognized option: --bogus"; for "-Dname=a b": "Could not find or load main class b").
     */
    @Test
    void theLauncherNamesMildJvmOptsThatJavaRefuses() throws IOException, InterruptedException {
        Path launcher = Path.of("..", "mild");
        String[][] cases = {
                {"-XX:+NoSuchOptionAnywhere", "Unrecognized VM option 'NoSuchOptionAnywhere'", ""},
                {"-Dmild.note=a b", "Could not find or load main class b",
                        " Each word is one Java option, so \"b\" is taken for a class to run: a value cannot contain"
                                + " a space."}};
        for (String[] c : cases) {
            ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "backends").redirectErrorStream(true);
            pb.environment().put("MILD_JVM_OPTS", c[0]);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(2, p.waitFor(), out);
            assertTrue(out.contains(c[1]), out);
            assertTrue(out.strip().endsWith("mild: Java does not accept MILD_JVM_OPTS=\"" + c[0] + "\" (its message is"
                    + " above)." + c[2]), out);
        }
    }

    /**
     * MILD_JVM_OPTS is split into words but never expanded as file names: unquoted in the launcher, a '*' in an
     * option matched a file of the current directory, and "-Dmild.backend=*" ran as the name of that file.
     */
    @Test
    void theLauncherPassesMildJvmOptsAsWrittenBesideMatchingFiles(@TempDir Path dir) throws IOException,
            InterruptedException {
        Files.createFile(dir.resolve("-Dmild.backend=zzz"));
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "mild").toAbsolutePath().toString(), "backends")
                .directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("MILD_JVM_OPTS", "-Dmild.backend=*");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.waitFor(), out);
        assertTrue(out.contains("unknown backend \"*\""), out);
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
        assertEquals(1.0, m.get("nu"), "MILD's logsumexp member by default");
        assertEquals(2, run("throughput", "--experts", "0").code);

        r = run("throughput", "--backend", "scalar", "--experts", "3", "--batch", "50", "--seconds", "0.1", "--nu", "0.5");
        assertEquals(0, r.code, r.err);
        assertEquals(0.5, ((Map<?, ?>) Json.parse(r.out.trim(), "output")).get("nu"));
        r = run("throughput", "--nu", "-1");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--nu"), r.err);
    }

    @Test
    void throughputRefusesCallsTooLongToMeasureInsteadOfRunningForHours() {
        // 10 rows x 100000 softmaxes of 100000 experts = 1e11 terms per call; the old code ran it a dozen times.
        Run r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run("throughput", "--backend", "scalar",
                "--experts", "100000", "--batch", "10", "--seconds", "0.1"));
        assertEquals(2, r.code, r.out + r.err);
        assertTrue(r.err.contains("--experts 100000 with distinct margins") && r.err.contains("100000000000 terms per call")
                && r.err.contains("at most 1000000000"), r.err);
        // One softmax per row with equal margins: the same sizes are a short run.
        r = run("throughput", "--backend", "scalar", "--experts", "100000", "--batch", "10", "--seconds", "0.1",
                "--equal-rho");
        assertEquals(0, r.code, r.err);
    }

    @Test
    void throughputRefusesADeviceForABackendWithoutDevices() {
        Run r = run("throughput", "--backend", "scalar", "--device", "0", "--batch", "10", "--seconds", "0.1");
        assertEquals(2, r.code, r.out + r.err);
        assertTrue(r.err.contains("--device selects an OpenCL device, but the backend measured is scalar"), r.err);
        assertEquals("", r.out);
    }

    @Test
    void throughputRefusesThreadsForADeviceBackend() {
        OpenClTest.assumeOpenCl();
        Run r = run("throughput", "--backend", "opencl", "--threads", "2", "--batch", "10", "--seconds", "0.1");
        assertEquals(2, r.code, r.out + r.err);
        assertTrue(r.err.contains("--threads sets the worker threads of a CPU backend, but opencl schedules its own"
                + " work on the device"), r.err);
        assertEquals("", r.out);
    }

    /** The reference backend was refused with the OpenCL reason ("schedules its own work on the device (PoCL ..."). */
    @Test
    void throughputRefusesThreadsForTheReferenceBackendWithItsOwnReason() {
        Run r = run("throughput", "--backend", "reference", "--threads", "2", "--batch", "10", "--seconds", "0.1");
        assertEquals(2, r.code, r.out + r.err);
        assertEquals("mild throughput: error: --threads sets the worker threads of a CPU backend, but reference has none"
                + " (it runs each call on the calling thread): drop --threads (see ./mild throughput --help)",
                r.err.strip());
        assertEquals("", r.out);
    }

    @Test
    void demoTrainsMildAndTdefAndComparesThemWithTheOracle() {
        Run r = run("demo", "--rows", "1500", "--epochs", "20");
        assertEquals(0, r.code, r.out + r.err);
        for (String line : List.of("oracle", "class-aware", "TDEF", "MILD", "deferral loss", "expert1", "expert3")) {
            assertTrue(r.out.contains(line), "demo shows " + line + ":\n" + r.out);
        }
        assertTrue(r.out.contains("./mild golden"), "points to the loss-family check");
        // When the search kept TDEF's margins, the two rows are the same and demo says why; otherwise it says nothing.
        boolean uniformOne = r.out.contains("MILD's search chose mean margin 1, gamma 0:");
        assertEquals(uniformOne, r.out.contains("These are TDEF's margins"), r.out);
        if (uniformOne) {
            String tdefRow = r.out.lines().filter(l -> l.strip().startsWith("TDEF ")).findFirst().orElseThrow();
            String mildRow = r.out.lines().filter(l -> l.strip().startsWith("MILD ")).findFirst().orElseThrow();
            assertEquals(tdefRow.strip().substring(4), mildRow.strip().substring(4), r.out);
        }
    }

    /**
     * demo's MILD search takes {@code --rho-grid}; with two mean margins whatever it chooses is an edge, and demo
     * says so with train's note and a wider grid. A bad item is refused before anything is trained.
     */
    @Test
    void demoSaysWhenMildsSearchChoseTheEdgeOfTheGrid() {
        Run r = run("demo", "--rows", "600", "--epochs", "3", "--rho-grid", "0.5,2");
        assertEquals(0, r.code, r.out + r.err);
        boolean largest = r.out.contains("MILD's search chose mean margin 2 (the grid's edge), gamma");
        boolean smallest = r.out.contains("MILD's search chose mean margin 1/2 (the grid's edge), gamma");
        assertTrue(largest != smallest, r.out);
        String note = largest
                ? "Note: the search chose the largest mean margin of the grid (2), its edge: a better one may lie above"
                        + " it. Try a wider grid, e.g. --rho-grid 0.5,2,4,8"
                : "Note: the search chose the smallest mean margin of the grid (1/2), its edge: a better one may lie"
                        + " below it. Try a wider grid, e.g. --rho-grid 0.125,0.25,0.5,2";
        assertTrue(r.out.contains(note), note + " in\n" + r.out);

        Run bad = run("demo", "--rows", "600", "--rho-grid", "0");
        assertEquals(2, bad.code, bad.out + bad.err);
        assertTrue(bad.err.contains("--rho-grid: item 1 is 0; every mean margin must be finite and > 0"), bad.err);
        assertEquals("", bad.out, "nothing generated or trained");
        assertTrue(run("demo", "--help").out.contains("--rho-grid M1,M2,.."));
    }

    @Test
    void demoFamilyChecksEveryBackendAgainstTheReference() {
        Run r = run("demo", "--rows", "600", "--epochs", "3", "--family");
        assertEquals(0, r.code, r.out + r.err);
        for (String loss : List.of("mild", "compsum", "tdef", "realizable-log", "realizable-mae", "ce", "cwce", "ldam")) {
            assertTrue(r.out.contains(loss), "demo --family shows " + loss);
        }
        assertTrue(!r.out.contains("OUTSIDE"));
        assertTrue(r.out.contains("(truth)"));
    }

    static Run runWithInput(String input, String... args) {
        return runWithInput(input.getBytes(StandardCharsets.UTF_8), args);
    }

    /** The command with {@code input} as its stdin, bytes as they are (compressed data, say). */
    static Run runWithInput(byte[] input, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Console c = new Console(new ByteArrayInputStream(input), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        int code = Main.run(args, c);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A small routing table: 3 features, cost columns for two experts (cheap "small" right on x0 > 0). */
    Path routingCsv(String name, int rows, long seed) throws IOException {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        StringBuilder sb = new StringBuilder("x0,x1,x2,cost:small,cost:large\n");
        for (int i = 0; i < rows; i++) {
            double x0 = rnd.nextGaussian();
            double x1 = rnd.nextGaussian();
            double x2 = rnd.nextGaussian();
            double small = (x0 > 0 ? 0 : 1) + 0.1;
            double large = rnd.nextDouble() < 0.1 ? 1.5 : 0.5;
            sb.append(String.format(java.util.Locale.ROOT, "%.4f,%.4f,%.4f,%.1f,%.1f%n", x0, x1, x2, small, large));
        }
        Path f = tmp.resolve(name);
        Files.writeString(f, sb.toString());
        return f;
    }

    @Test
    void trainEvalAndRouteWorkTogether() throws IOException {
        Path train = routingCsv("train.csv", 3000, 1);
        Path test = routingCsv("test.csv", 500, 2);
        Path model = tmp.resolve("r.mild");
        Path plot = tmp.resolve("r.png");
        Run t = run("train", "--data", train.toString(), "--test", test.toString(), "--epochs", "40", "--search-epochs", "2",
                "--batch", "256", "--out", model.toString(), "--plot", plot.toString());
        assertEquals(0, t.code, t.err);
        for (String s : List.of("rho auto", "chosen (*)", "router (test)", "oracle (test)", "Model saved to")) {
            assertTrue(t.out.contains(s), "train output has " + s + ":\n" + t.out);
        }
        // The grid's columns are the tilts written as in the README, {0, 1/4, 1/2, 3/4, 1}, and so is each grid line.
        String gridHead = "mean margin \\ gamma";
        String head = t.out.lines().map(String::strip).filter(l -> l.startsWith(gridHead)).findFirst().orElseThrow();
        assertEquals(List.of("0", "1/4", "1/2", "3/4", "1"),
                List.of(head.substring(gridHead.length()).strip().split("\\s+")), head);
        assertTrue(t.out.contains("grid  4/25  mean margin 1/8  gamma 3/4  ->"), t.out);
        byte[] png = Files.readAllBytes(plot);
        assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a PNG image");

        Run e = run("eval", "--model", model.toString(), "--data", test.toString(), "--json");
        assertEquals(0, e.code, e.err);
        Map<?, ?> em = (Map<?, ?>) Json.parse(e.out.trim(), "eval");
        Map<?, ?> result = (Map<?, ?>) em.get("result");
        assertEquals(500.0, result.get("rows"));
        double loss = (Double) result.get("deferralLoss");
        double oracle = (Double) result.get("oracleLoss");
        assertTrue(loss <= oracle + 0.1, "the router learned the x0 > 0 rule: " + loss + " vs oracle " + oracle);
        assertEquals(List.of("small", "large"), em.get("experts"));

        // route: the same rows with the header (extra cost columns ignored) and without it, in another order.
        List<String> lines = Files.readAllLines(test);
        Run withHeader = runWithInput(String.join("\n", lines) + "\n", "route", "--model", model.toString());
        assertEquals(0, withHeader.code, withHeader.err);
        assertEquals(500, withHeader.lines().size());
        StringBuilder bare = new StringBuilder();
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",");
            bare.append(c[0]).append(',').append(c[1]).append(',').append(c[2]).append('\n');
        }
        Run noHeader = runWithInput(bare.toString(), "route", "--model", model.toString());
        assertEquals(withHeader.out, noHeader.out);
        int small = 0;
        for (int i = 0; i < 500; i++) {
            String expert = noHeader.lines().get(i);
            assertTrue(expert.equals("small") || expert.equals("large"), expert);
            small += expert.equals("small") ? 1 : 0;
        }
        assertTrue(small > 150 && small < 350, "about half the rows have x0 > 0: " + small);
        Run reordered = runWithInput("x2,cost:small,x0,x1\n0.1,0,2.0,0.3\n0.1,0,-2.0,0.3\n", "route", "--model",
                model.toString(), "--scores");
        assertEquals(0, reordered.code, reordered.err);
        assertTrue(reordered.lines().get(0).startsWith("small,") && reordered.lines().get(1).startsWith("large,"),
                reordered.out);

        Run bad = runWithInput("1,2\n", "route", "--model", model.toString());
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("line 1") && bad.err.contains("3"), bad.err);
        bad = runWithInput("1,2,x\n", "route", "--model", model.toString());
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("line 1, column 3 (x2)") && bad.err.contains("not a number"), bad.err);
        bad = runWithInput("x0,x1,zz\n", "route", "--model", model.toString());
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("\"zz\" is not a feature"), bad.err);
        // A quoted value with a comma inside is split (values are read without quoting): the quotes are named.
        bad = runWithInput("1,\"2,5\",3\n", "route", "--model", model.toString());
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("stdin, line 1: 4 values, expected 3") && bad.err.contains("(the line has double"
                + " quotes: a quoted value with a comma inside is split there, as values are read without quoting)"),
                bad.err);
    }

    @Test
    void evalNamesTheFileLineOfARowWhoseScoresOverflow() throws IOException {
        Path model = tmp.resolve("overflow.mild");
        Run t = run("train", "--data", routingCsv("overflow-train.csv", 200, 5).toString(), "--epochs", "2",
                "--out", model.toString());
        assertEquals(0, t.code, t.err);
        Path data = tmp.resolve("overflow.csv");
        // Finite and within the readers' limit (finite once standardized), but beyond float32 through the network.
        Files.writeString(data, "x0,x1,x2,cost:small,cost:large\n0.1,0.2,0.3,0,1\n0.1,0.2,0.3,1,0\n1.7e38,1.7e38,1.7e38,0,1\n");
        Run e = run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(2, e.code, e.err);
        assertTrue(e.err.contains("overflow.csv, line 4: ") && e.err.contains("overflow float32"), e.err);
        // route with the columns in another order: the message names the feature, not only the model's column
        Run r = runWithInput("x2,x0,x1\n0.1,0.2,0.3\n1.7e38,0.1,0.1\n", "route", "--model", model.toString());
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("stdin, line 3") && r.err.contains("feature \"x2\" (column 3 of the model's, 1-based)"),
                r.err);
    }

    /**
     * The single-expert baselines, checked against the files' mean costs written here, and the note when the
     * router does worse than one of them: the test file reverses the training file's rule (expert a is right
     * when x > 0 in training, wrong in the test file), so the trained router pays 3/4 there and always-b 1/4.
     */
    @Test
    void trainAndEvalReportAlwaysOneExpertAndNoteARouterWorseThanIt() throws IOException {
        StringBuilder train = new StringBuilder("x,cost:a,cost:b\n");
        StringBuilder reversed = new StringBuilder("x,cost:a,cost:b\n");
        for (int i = 0; i < 200; i++) {
            double x = (i % 2 == 0 ? 1 : -1) * (1 + i % 7);
            train.append(x).append(x > 0 ? ",0,1\n" : ",1,0\n");
            // Reversed, and b also right on every other negative row: a costs 1/2, b 1/4 on average.
            reversed.append(x).append(x > 0 ? ",1,0\n" : (i % 4 == 1 ? ",0,1\n" : ",0,0\n"));
        }
        Path trainFile = tmp.resolve("rule.csv");
        Path testFile = tmp.resolve("reversed.csv");
        Files.writeString(trainFile, train);
        Files.writeString(testFile, reversed);
        Path model = tmp.resolve("rule.mild");
        Run t = run("train", "--data", trainFile.toString(), "--test", testFile.toString(), "--rho", "uniform",
                "--epochs", "40", "--out", model.toString());
        assertEquals(0, t.code, t.err);
        assertTrue(t.out.contains("Always one expert (test deferral loss): a 0.5000, b 0.2500"), t.out);
        assertTrue(t.out.contains("Note: on test the router (0.7500) does worse than always picking b (0.2500)"), t.out);
        assertFalse(t.out.contains("Note: on validation"), t.out);   // validation rows follow the training rule

        Run e = run("eval", "--model", model.toString(), "--data", testFile.toString());
        assertEquals(0, e.code, e.err);
        assertTrue(e.out.contains("Always one expert (this file deferral loss): a 0.5000, b 0.2500"), e.out);
        assertTrue(e.out.contains("Note: on this file the router (0.7500) does worse than always picking b"), e.out);
        e = run("eval", "--model", model.toString(), "--data", trainFile.toString());
        assertEquals(0, e.code, e.err);
        assertTrue(e.out.contains("Always one expert (this file deferral loss): a 0.5000, b 0.5000"), e.out);
        assertFalse(e.out.contains("Note:"), e.out);
    }

    @Test
    void badTrainingInputIsExitTwoWithFileLineAndColumn() throws IOException {
        Path bad = tmp.resolve("bad.csv");
        Files.writeString(bad, "x0,cost:a,cost:b\n1,0,1\n2,zero,1\n");
        Run r = run("train", "--data", bad.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("bad.csv, line 3, column 2 (cost:a)"), r.err);
        Path good = routingCsv("good.csv", 200, 3);
        r = run("train", "--data", good.toString(), "--beta", "0.1");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--beta has 1 values for 2 experts"), r.err);
        r = run("train", "--data", good.toString(), "--experts", "synthetic", "--blocks", "1,1");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("already has cost: or pred: columns"), r.err);
        r = run("train", "--data", good.toString(), "--loss", "tdef", "--rho", "theory");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--rho applies to --loss mild and compsum"), r.err);
        r = run("train", "--data", good.toString(), "--rho", "1,2,3");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("2 comma-separated margins"), r.err);
        r = run("train", "--data", good.toString(), "--loss", "hinge");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("unknown loss \"hinge\""), r.err);
        r = run("train");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--data FILE is required"), r.err);
        Path model = tmp.resolve("m.mild");
        Files.writeString(model, "not a model");
        r = run("eval", "--model", model.toString(), "--data", good.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("m.mild") && r.err.contains("not a MILD model file"), r.err);
    }

    @Test
    void oneMinusRewardsNameTheFileLineOfACostOutsideTheUnitInterval() throws IOException {
        StringBuilder sb = new StringBuilder("x0,cost:a,cost:b\n");
        for (int i = 0; i < 40; i++) {
            sb.append(i).append(i == 30 ? ",0,1.25\n" : ",0,1\n"); // the bad row is file line 32
        }
        Path data = tmp.resolve("unit.csv");
        Files.writeString(data, sb.toString());
        Path model = tmp.resolve("unit.mild");
        // The row lands in whichever split the seed gives it; the message names the file line either way.
        for (String seed : new String[] {"1", "2"}) {
            Run r = run("train", "--data", data.toString(), "--rewards", "one-minus", "--seed", seed,
                    "--out", model.toString());
            assertEquals(2, r.code, r.err);
            assertTrue(r.err.contains("unit.csv, line 32, column 3 (cost:b): cost 1.25 is outside [0, 1]"), r.err);
        }
        assertFalse(Files.exists(model), "no model is written for bad input");
        // The default rewards take any cost >= 0.
        assertEquals(0, run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform",
                "--out", model.toString()).code);
        // A price can push a cost in [0, 1] out of it; noise always can.
        Files.writeString(data, sb.toString().replace("1.25", "1"));
        Run priced = run("train", "--data", data.toString(), "--rewards", "one-minus", "--beta", "0,0.5");
        assertEquals(2, priced.code, priced.err);
        assertTrue(priced.err.contains("unit.csv, line 2, column 3 (cost:b): cost 1.5 (with its price 0.5"), priced.err);
        Run noisy = run("train", "--data", data.toString(), "--rewards", "one-minus", "--cost-noise", "0.1");
        assertEquals(2, noisy.code, noisy.err);
        assertTrue(noisy.err.contains("--cost-noise with --rewards one-minus"), noisy.err);
    }

    @Test
    void everyLossTrainsByName() throws IOException {
        Path data = routingCsv("losses.csv", 400, 4);
        for (String loss : List.of("mild", "compsum", "tdef", "realizable-log", "realizable-mae", "ce", "cwce", "ldam",
                "multitask")) {
            List<String> args = new java.util.ArrayList<>(List.of("train", "--data", data.toString(), "--loss", loss,
                    "--epochs", "2", "--threads", "1", "--out", tmp.resolve(loss + ".mild").toString(), "--json"));
            if (loss.equals("mild") || loss.equals("compsum")) {
                args.addAll(List.of("--rho", "theory"));
            }
            Run r = run(args.toArray(new String[0]));
            assertEquals(0, r.code, loss + ": " + r.err);
            Map<?, ?> m = (Map<?, ?>) Json.parse(r.out.trim(), loss);
            assertEquals(loss, m.get("loss"));
            assertTrue(((String) m.get("surrogate")).startsWith(loss), (String) m.get("surrogate"));
        }
    }

    /**
     * train's --threads takes the bound of every other --threads, KernelOptions.MAX_THREADS (4096), which its loss
     * kernel and TrainOptions accept too: it refused 1025..4096 with "between 0 and 1024", a second bound of its own.
     */
    @Test
    void trainTakesTheThreadBoundOfTheKernel() throws IOException {
        Path data = routingCsv("threads.csv", 200, 8);
        int max = dev.mild.loss.KernelOptions.MAX_THREADS;
        Run most = run("train", "--data", data.toString(), "--loss", "tdef", "--epochs", "1", "--threads",
                String.valueOf(max), "--out", tmp.resolve("threads.mild").toString());
        assertEquals(0, most.code, most.err);
        Run over = run("train", "--data", data.toString(), "--loss", "tdef", "--epochs", "1", "--threads",
                String.valueOf(max + 1), "--out", tmp.resolve("threads.mild").toString());
        assertEquals(2, over.code, over.err);
        assertTrue(over.err.contains("--threads must be between 0 and " + max + ", got " + (max + 1)), over.err);
    }

    /** Writes a gzipped IDX pair of {@code n} 3x3 images whose pixels depend on the class (so routing is learnable). */
    void idxPair(String prefix, int n, long seed) throws IOException {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        java.nio.ByteBuffer img = java.nio.ByteBuffer.allocate(16 + n * 9);
        img.putInt(0x00000803).putInt(n).putInt(3).putInt(3);
        java.nio.ByteBuffer lab = java.nio.ByteBuffer.allocate(8 + n);
        lab.putInt(0x00000801).putInt(n);
        for (int i = 0; i < n; i++) {
            int y = rnd.nextInt(10);
            lab.put((byte) y);
            for (int px = 0; px < 9; px++) {
                img.put((byte) Math.min(255, Math.max(0, 25 * y + (px == y % 9 ? 60 : 0) + rnd.nextInt(20))));
            }
        }
        for (String[] f : new String[][] {{prefix + "-images-idx3-ubyte.gz", "i"}, {prefix + "-labels-idx1-ubyte.gz", "l"}}) {
            try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(tmp.resolve(f[0])))) {
                out.write(f[1].equals("i") ? img.array() : lab.array());
            }
        }
    }

    @Test
    void reproRunsTheProtocolOnIdxFiles() throws IOException {
        idxPair("train", 600, 1);
        idxPair("t10k", 200, 2);
        Run r = run("repro", "--dir", tmp.toString(), "--setups", "I,II", "--costs", "a", "--seeds", "2", "--epochs", "3",
                "--json");
        assertEquals(0, r.code, r.err);
        assertEquals(2, r.lines().size(), r.out);
        Map<?, ?> m = (Map<?, ?>) Json.parse(r.lines().get(1), "repro");
        assertEquals("II", m.get("setup"));
        assertEquals(2, ((List<?>) m.get("tdef")).size());
        assertEquals(4, ((List<?>) m.get("mildShares")).size(), "setup II has four experts");
        // Per seed, what rho auto chose; where it kept its base (TDEF's training), MILD's test loss is TDEF's.
        for (String line : r.lines()) {
            Map<?, ?> setup = (Map<?, ?>) Json.parse(line, "repro");
            List<?> search = (List<?>) setup.get("mildSearch");
            assertEquals(2, search.size(), line);
            for (int s = 0; s < 2; s++) {
                Map<?, ?> choice = (Map<?, ?>) search.get(s);
                assertTrue(choice.get("meanMargin") instanceof Double && choice.get("gamma") instanceof Double, line);
                if (choice.get("baseKept") == Boolean.TRUE) {
                    assertEquals(((List<?>) setup.get("tdef")).get(s), ((List<?>) setup.get("mild")).get(s), line);
                }
            }
        }
        Run text = run("repro", "--dir", tmp.toString(), "--setups", "I", "--costs", "b", "--seeds", "1", "--epochs", "2");
        assertEquals(0, text.code, text.err);
        assertTrue(text.out.contains("Setup I (7/2/1), cost (b) error + coverage") && text.out.contains("+-"), text.out);
        // Five images cannot hold all ten classes: refused, as the class blocks would shift with a missing class.
        Run tiny = run("repro", "--dir", tmp.toString(), "--train-rows", "5", "--seeds", "1", "--epochs", "1");
        assertEquals(2, tiny.code, tiny.out + tiny.err);
        assertTrue(tiny.err.contains("--train-rows 5: the seeded sample has no image of class ")
                && tiny.err.contains("(of 0..9)") && tiny.err.contains("give more rows"), tiny.err);
        // More rows than the training images, or none: refused (more quietly meant all of them, 0 too).
        Run tooMany = run("repro", "--dir", tmp.toString(), "--train-rows", "601", "--seeds", "1", "--epochs", "1");
        assertEquals(2, tooMany.code, tooMany.out + tooMany.err);
        assertTrue(tooMany.err.contains("--train-rows 601: ") && tooMany.err.contains("has 600 training images; give at"
                + " most 600, or leave --train-rows out for all of them"), tooMany.err);
        Run none = run("repro", "--dir", tmp.toString(), "--train-rows", "0");
        assertEquals(2, none.code, none.out + none.err);
        assertTrue(none.err.contains("--train-rows must be between 1 and"), none.err);
        Run missing = run("repro", "--dir", tmp.resolve("nowhere").toString());
        assertEquals(2, missing.code);
        assertTrue(missing.err.contains("Fashion-MNIST IDX files not found"), missing.err);
    }

    /**
     * repro looked for the .gz names only: gunzipped Fashion-MNIST files (which train reads) were "not found", and
     * neither a --dir that is a file nor the one file missing was named.
     */
    @Test
    void reproReadsUnpackedIdxFilesAndNamesWhatIsMissing() throws IOException {
        idxPair("train", 300, 1);
        idxPair("t10k", 100, 2);
        for (String name : new String[] {"train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
            try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(tmp.resolve(name + ".gz")))) {
                Files.write(tmp.resolve(name), in.readAllBytes());
            }
            Files.delete(tmp.resolve(name + ".gz"));
        }
        Run r = run("repro", "--dir", tmp.toString(), "--setups", "I", "--costs", "a", "--seeds", "1", "--epochs", "1",
                "--rho-grid", "1", "--json");
        assertEquals(0, r.code, r.err);
        assertEquals(1, r.lines().size(), r.out);

        Files.delete(tmp.resolve("t10k-images-idx3-ubyte.gz"));
        r = run("repro", "--dir", tmp.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertTrue(r.err.contains(tmp + ": Fashion-MNIST IDX files not found: no t10k-images-idx3-ubyte.gz (nor"
                + " t10k-images-idx3-ubyte unpacked)"), r.err);
        Path file = tmp.resolve("train-images-idx3-ubyte");
        r = run("repro", "--dir", file.toString());
        assertEquals(2, r.code, r.out + r.err);
        assertTrue(r.err.contains(file + ": Fashion-MNIST IDX files not found: --dir names a file, not the directory"
                + " that holds them"), r.err);
    }

    /** A tiny --valid-fraction (1e-300) was echoed in the message written out plainly, "0.000...0001", 300 digits. */
    @Test
    void aTinyValidFractionIsEchoedShortly() throws IOException {
        Path data = tmp.resolve("d.csv");
        Files.writeString(data, "x,cost:a,cost:b\n" + "1,0,1\n-1,1,0\n".repeat(20));
        Run r = run("train", "--data", data.toString(), "--valid-fraction", "1e-300", "--out",
                tmp.resolve("m.mild").toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: " + data + ": the validation split is empty: --valid-fraction 1E-300 of 40"
                + " rows rounds to 0 rows; early stopping and the choice of rho need some. Give --valid FILE, or"
                + " --valid-fraction 0.02 or more (1 row of 40)", r.err.strip());
    }

    /** IDX images without --experts were told to "give {@code cost:<expert>} columns", which an IDX file cannot have. */
    @Test
    void idxImagesWithoutExpertsPointToSimulatedExperts() throws IOException {
        idxPair("train", 100, 1);
        Path images = tmp.resolve("train-images-idx3-ubyte.gz");
        Run r = run("train", "--data", images.toString(), "--out", tmp.resolve("m.mild").toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: " + images + ": IDX images come with labels only, no experts: simulate them"
                + " with --experts synthetic|trained --blocks 7,2,1 (or give a CSV file with cost:<expert> columns)",
                r.err.strip());
    }

    @Test
    void reproRunsTheSevereImbalanceWithTrainedExpertsAndNoisyCosts() throws IOException {
        idxPair("train", 600, 1);
        idxPair("t10k", 200, 2);
        Run r = run("repro", "--dir", tmp.toString(), "--setups", "severe", "--costs", "a", "--experts", "trained",
                "--cost-noise", "0.2", "--seeds", "1", "--epochs", "2", "--json");
        assertEquals(0, r.code, r.err);
        Map<?, ?> m = (Map<?, ?>) Json.parse(r.lines().get(0), "repro");
        assertEquals("severe", m.get("setup"));
        assertEquals("trained", m.get("experts"));
        assertEquals(0.2, ((Number) m.get("costNoise")).doubleValue());
        assertEquals(2, ((List<?>) m.get("oracleShares")).size(), "severe: two experts (9/1)");
        Run text = run("repro", "--dir", tmp.toString(), "--setups", "severe", "--costs", "a", "--cost-noise", "0.2",
                "--seeds", "1", "--epochs", "2");
        assertEquals(0, text.code, text.err);
        assertTrue(text.out.contains("synthetic experts") && text.out.contains("noise of std 0.2 on the training costs")
                && text.out.contains("Setup severe (9/1), cost (a) error"), text.out);
        // --optimizer adamw is taken and reported, and the default is adam (the paper's image runs). (On these tiny
        // random images the two optimizers route the test rows alike, so the losses cannot show it; AdamTest checks
        // both update rules.)
        String[] tiny = {"repro", "--dir", tmp.toString(), "--setups", "I", "--costs", "a", "--seeds", "1", "--epochs",
                "2", "--json"};
        List<String> withOption = new ArrayList<>(List.of(tiny));
        withOption.addAll(List.of("--optimizer", "adamw"));
        Run adamw = run(withOption.toArray(String[]::new));
        assertEquals(0, adamw.code, adamw.err);
        assertEquals("adamw", ((Map<?, ?>) Json.parse(adamw.lines().get(0), "repro")).get("optimizer"));
        assertEquals("adam", ((Map<?, ?>) Json.parse(run(tiny).lines().get(0), "repro")).get("optimizer"));
        for (String[] bad : new String[][] {{"--experts", "oracle"}, {"--cost-noise", "-1"}, {"--setups", "IV"},
                {"--optimizer", "sgd"}}) {
            Run b = run("repro", "--dir", tmp.toString(), bad[0], bad[1]);
            assertEquals(2, b.code, String.join(" ", bad) + ": " + b.err);
            assertTrue(b.err.contains(bad[0]), String.join(" ", bad) + ": " + b.err);
        }
    }

    /**
     * {@code repro --rho-grid}: MILD's search in every run tries exactly the given mean margins (JSON meanMargins),
     * and a grid of two has no inside, so every seed chooses an edge: each mildSearch entry says chosenAtEdge, each
     * run line is marked, and the note after the table counts the seeds per edge (the counts read from the JSON
     * of the same deterministic runs). Without the option the default grid is reported, and chosenAtEdge is true
     * exactly for its ends, 1/8 and 2.
     */
    @Test
    void reproTakesARhoGridAndSaysWhenTheSearchChoseItsEdge() throws IOException {
        idxPair("train", 600, 1);
        idxPair("t10k", 200, 2);
        String[] args = {"repro", "--dir", tmp.toString(), "--setups", "I", "--costs", "a", "--seeds", "2", "--epochs",
                "2", "--rho-grid", "2,0.5"};
        String[] jsonArgs = java.util.Arrays.copyOf(args, args.length + 1);
        jsonArgs[args.length] = "--json";
        Run json = run(jsonArgs);
        assertEquals(0, json.code, json.err);
        Map<?, ?> m = (Map<?, ?>) Json.parse(json.lines().get(0), "repro");
        assertEquals(List.of(0.5, 2.0), m.get("meanMargins"));
        int atLargest = 0;
        for (Object o : (List<?>) m.get("mildSearch")) {
            Map<?, ?> choice = (Map<?, ?>) o;
            assertEquals(Boolean.TRUE, choice.get("chosenAtEdge"), choice.toString());
            assertTrue(List.of(0.5, 2.0).contains(choice.get("meanMargin")), choice.toString());
            atLargest += choice.get("meanMargin").equals(2.0) ? 1 : 0;
        }
        Run text = run(args);
        assertEquals(0, text.code, text.err);
        assertTrue(text.out.contains("MILD's rho auto grid: mean margins 0.5,2."), text.out);
        assertEquals(2, text.out.lines().filter(l -> l.contains(" MILD: ") && l.contains("(the grid's edge), gamma")).count(),
                text.out);
        String note = switch (atLargest) {
            case 2 -> "the grid's largest mean margin (2) in 2 of 2 seeds; a better one may lie above it: try"
                    + " --rho-grid 0.5,2,4,8";
            case 0 -> "the grid's smallest mean margin (1/2) in 2 of 2 seeds; a better one may lie below it: try"
                    + " --rho-grid 0.125,0.25,0.5,2";
            default -> "the grid's largest mean margin (2) in 1 and its smallest (1/2) in 1 of 2 seeds; a better one"
                    + " may lie outside it: try --rho-grid 0.125,0.25,0.5,2,4,8";
        };
        assertTrue(text.out.contains("Note: MILD's search chose " + note), note + " in\n" + text.out);

        Run byDefault = run("repro", "--dir", tmp.toString(), "--setups", "I", "--costs", "a", "--seeds", "1",
                "--epochs", "2", "--json");
        assertEquals(0, byDefault.code, byDefault.err);
        Map<?, ?> d = (Map<?, ?>) Json.parse(byDefault.lines().get(0), "repro");
        assertEquals(List.of(0.125, 0.25, 0.5, 1.0, 2.0), d.get("meanMargins"));
        Map<?, ?> choice = (Map<?, ?>) ((List<?>) d.get("mildSearch")).get(0);
        Object margin = choice.get("meanMargin");
        assertEquals(margin.equals(0.125) || margin.equals(2.0), choice.get("chosenAtEdge"), choice.toString());
    }

    /**
     * A bad {@code repro --rho-grid} item is a usage error naming the option and the item, exit 2, found before
     * any data is read (the directory here does not exist, which would be the error otherwise). The help explains
     * the option with an example.
     */
    @Test
    void reproRefusesABadRhoGridBeforeReadingData() {
        String[][] cases = {
                {"1,-2", "--rho-grid: item 2 is -2; every mean margin must be finite and > 0"},
                {"1,abc", "--rho-grid: \"abc\" (item 2 of \"1,abc\") is not a number"},
                {"0.5,1,1.0", "--rho-grid: item 3 (1.0) repeats item 2 (1); give each mean margin once"},
                {"1,,2", "--rho-grid \"1,,2\": item 2 of 3 is empty"}};
        for (String[] c : cases) {
            Run r = run("repro", "--dir", tmp.resolve("nowhere").toString(), "--rho-grid", c[0]);
            assertEquals(2, r.code, c[0] + ": " + r.out + r.err);
            assertTrue(r.err.contains(c[1]) && r.err.contains("(see ./mild repro --help)"), c[0] + ": " + r.err);
            assertFalse(r.err.contains("IDX files not found"), "the grid is checked first: " + r.err);
        }
        String help = run("repro", "--help").out.replaceAll("\\s+", " ");
        assertTrue(help.contains("[--rho-grid M1,M2,..]") && help.contains("the mean margins (rho_bar / p) MILD's rho"
                + " auto search tries in every run") && help.contains("./mild repro --setups I --rho-grid"
                + " 0.125,0.25,0.5,1,2,4,8"), help);
    }

    /** --setups I,I ran every seed of setup I twice and printed its table twice; --costs a,a the same for cost (a). */
    @Test
    void reproRefusesASetupOrCostGivenTwiceBeforeReadingData() {
        String[][] cases = {
                {"--setups", "I,II,I", "--setups: item 3 (I) repeats item 1 (I); give each setup once"},
                {"--costs", "a,b,b", "--costs: item 3 (b) repeats item 2 (b); give each cost once"}};
        for (String[] c : cases) {
            Run r = run("repro", "--dir", tmp.resolve("nowhere").toString(), c[0], c[1]);
            assertEquals(2, r.code, c[1] + ": " + r.out + r.err);
            assertEquals("mild repro: error: " + c[2] + " (see ./mild repro --help)", r.err.strip());
        }
    }

    /**
     * The +- of repro's tables is the sample standard deviation (n - 1) of the per-seed losses, and the output
     * says so (the paper does not say which; with 5 seeds the population one is 11% smaller). The per-seed
     * losses come from --json of the same (deterministic) runs; the help names the paper's severe setting.
     */
    @Test
    void reproTablesSayTheirStdIsTheSampleOne() throws IOException {
        idxPair("train", 600, 1);
        idxPair("t10k", 200, 2);
        String[] args = {"repro", "--dir", tmp.toString(), "--setups", "I", "--costs", "a", "--seeds", "2", "--epochs", "2"};
        String[] jsonArgs = java.util.Arrays.copyOf(args, args.length + 1);
        jsonArgs[args.length] = "--json";
        Run json = run(jsonArgs);
        assertEquals(0, json.code, json.err);
        List<?> tdef = (List<?>) ((Map<?, ?>) Json.parse(json.lines().get(0), "repro")).get("tdef");
        double a = ((Number) tdef.get(0)).doubleValue();
        double b = ((Number) tdef.get(1)).doubleValue();
        assertTrue(a != b, "two seeds with different losses tell the two deviations apart: " + tdef);
        double sampleStd = Math.abs(a - b) / Math.sqrt(2);   // sum of squares (a-b)^2/2, divided by n - 1 = 1
        Run text = run(args);
        assertEquals(0, text.code, text.err);
        assertTrue(text.out.contains("2 seed(s), mean +- sample std (n - 1):"), text.out);
        String row = String.format(java.util.Locale.ROOT, "TDEF     %.4f +- %.4f", (a + b) / 2, sampleStd);
        assertTrue(text.out.contains(row), row + " in\n" + text.out);
        Run help = run("repro", "--help");
        assertTrue(help.out.contains("--setups severe --experts trained --costs a")
                && help.out.contains("sample standard deviation (n - 1)"), help.out);
    }

    /** Generated clusters as a labelled CSV (features x0.., label). */
    Path labelledCsv(String name, int rows, long seed) throws IOException {
        dev.mild.data.Dataset g = dev.mild.data.Generated.clusters(rows, 10, 5, 2.0, seed);
        StringBuilder sb = new StringBuilder(String.join(",", g.featureNames())).append(",label\n");
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < 5; c++) {
                sb.append(g.features()[i * 5 + c]).append(',');
            }
            sb.append(g.labels()[i]).append('\n');
        }
        Path f = tmp.resolve(name);
        Files.writeString(f, sb.toString());
        return f;
    }

    @Test
    void trainedAndSyntheticExpertsAreRebuiltByEval() throws IOException {
        // The same cluster means for train and test: Generated draws them from the seed first.
        Path all = labelledCsv("clusters.csv", 3000, 6);
        List<String> lines = Files.readAllLines(all);
        Path train = tmp.resolve("ctrain.csv");
        Path test = tmp.resolve("ctest.csv");
        Files.write(train, lines.subList(0, 2401));
        List<String> testLines = new java.util.ArrayList<>(List.of(lines.get(0)));
        testLines.addAll(lines.subList(2401, lines.size()));
        Files.write(test, testLines);
        for (String experts : List.of("trained", "synthetic")) {
            Path model = tmp.resolve(experts + ".mild");
            Run t = run("train", "--data", train.toString(), "--test", test.toString(), "--experts", experts,
                    "--blocks", "7,2,1", "--coverage", "--loss", "tdef", "--epochs", "15", "--batch", "256",
                    "--out", model.toString(), "--json");
            assertEquals(0, t.code, t.err);
            Map<?, ?> tm = (Map<?, ?>) Json.parse(t.out.trim(), "train");
            Map<?, ?> testReport = (Map<?, ?>) tm.get("test");
            Run e = run("eval", "--model", model.toString(), "--data", test.toString(), "--json");
            assertEquals(0, e.code, e.err);
            Map<?, ?> em = (Map<?, ?>) ((Map<?, ?>) Json.parse(e.out.trim(), "eval")).get("result");
            assertEquals(testReport.get("deferralLoss"), em.get("deferralLoss"), experts + ": eval rebuilds train's test costs");
            assertEquals(testReport.get("oracleLoss"), em.get("oracleLoss"));
            assertEquals(3, ((List<?>) em.get("blocks")).size());
            if (experts.equals("trained")) {
                assertTrue(t.err.contains("training expert 1 (classes 0-6)"), t.err);
                // Trained experts are imperfect classifiers: the oracle pays more than with perfect block experts.
                assertTrue((Double) em.get("oracleLoss") > 0, "trained experts make mistakes");
            }
        }
        Run bad = run("eval", "--model", tmp.resolve("synthetic.mild").toString(), "--data",
                routingCsv("nolabel.csv", 10, 1).toString());
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("nolabel.csv"), bad.err);
    }

    @Test
    void deeplyNestedJsonIsBadInputNotAStackOverflow() throws IOException {
        Path deep = tmp.resolve("deep.json");
        Files.writeString(deep, "[".repeat(200_000));
        Run r = run("golden", deep.toString());
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("deep.json: line 1, column 513") && r.err.contains("deeper than 512"), r.err);
    }

    /**
     * MILD_VERBOSE=0 (or false, no, off, empty) leaves the stack traces and the backend log off: any value at all turned
     * them on. Found by the command-line arguments review.
     */
    @Test
    void mildVerboseZeroMeansQuiet() throws Exception {
        for (String value : new String[] {"0", "false", "no", "OFF", "", "1", "yes"}) {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), "dev.mild.cli.Main", "throughput", "--backend", "scalar",
                    "--experts", "2", "--batch", "1", "--seconds", "0.05");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("MILD_VERBOSE", value);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            boolean verbose = value.equals("1") || value.equals("yes");
            assertEquals(verbose, out.contains("mild: fine: backend scalar (1 thread)"), "MILD_VERBOSE=\"" + value + "\": " + out);
        }
    }

    /**
     * ./mild with these arguments in a child JVM whose heap is 32 MB, so that modest data overflows it; the child's
     * output and errors go to out.txt and err.txt in tmp.
     */
    private Process startWith32MbHeap(String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-cp", System.getProperty("java.class.path"), "dev.mild.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("MILD_VERBOSE");
        pb.redirectOutput(tmp.resolve("out.txt").toFile());
        pb.redirectError(tmp.resolve("err.txt").toFile());
        return pb.start();
    }

    @Test
    void dataTooLargeForTheHeapIsAClearErrorWithExitTwo() throws Exception {
        // 20,000 images of 28 x 28: 15.7 MB of bytes, 62.7 MB as floats; more than a 32 MB heap holds.
        int n = 20_000;
        java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(16).putInt(0x803).putInt(n).putInt(28).putInt(28);
        Path images = tmp.resolve("big-images-idx3-ubyte");
        try (var out = Files.newOutputStream(images)) {
            out.write(head.array());
            out.write(new byte[n * 784]);
        }
        Files.write(tmp.resolve("big-labels-idx1-ubyte"),
                java.nio.ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n).array());
        Process proc = startWith32MbHeap("train", "--data", images.toString(), "--out", tmp.resolve("big.mild").toString());
        assertTrue(proc.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "child JVM timed out");
        String err = Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8);
        assertEquals(2, proc.exitValue(), err);
        assertTrue(err.contains("big-images-idx3-ubyte: the data does not fit in the memory Java may use")
                && err.contains("the file is 15.0 MiB on disk") && err.contains("heap limit is")
                && err.contains("-Xmx") && err.contains("MILD_JVM_OPTS"), err);
        assertFalse(err.contains("\tat ") || err.contains("Exception in thread"), "no stack trace:\n" + err);
        assertFalse(Files.exists(tmp.resolve("big.mild")));
    }

    /**
     * Data from a pipe that does not fit in the heap is an error, not a hang: the message opened the pipe a second
     * time to look for gzip, and with the first reader closed the writer is gone, so that open waited forever
     * (and a pipe's size, 0, is no size on disk).
     */
    @Test
    void dataFromAPipeTooLargeForTheHeapSaysItsSizeIsUnknown() throws Exception {
        Path fifo = tmp.resolve("big.csv");
        org.junit.jupiter.api.Assumptions.assumeTrue(
                new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "needs mkfifo");
        // eval reads the model first: train one so that the child gets to the data.
        Path rows = tmp.resolve("small.csv");
        Files.writeString(rows, "x,cost:a,cost:b\n" + "1,0,1\n2,1,0\n".repeat(50));
        assertEquals(0, run("train", "--data", rows.toString(), "--loss", "tdef", "--epochs", "1", "--out",
                tmp.resolve("none.mild").toString()).code);
        Process proc = startWith32MbHeap("eval", "--model", tmp.resolve("none.mild").toString(), "--data", fifo.toString());
        // 4 million rows: 8 MB of text in the pipe, 16 MB of float features and 64 MB of double costs in the child.
        Thread writer = Thread.ofPlatform().daemon().start(() -> {
            try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(fifo), 1 << 16)) {
                out.write("x,cost:a,cost:b\n".getBytes(StandardCharsets.UTF_8));
                byte[] row = "1,0,1\n".getBytes(StandardCharsets.UTF_8);
                for (int i = 0; i < 4_000_000; i++) {
                    out.write(row);
                }
            } catch (IOException e) {
                // the child stopped reading
            }
        });
        try {
            assertTrue(proc.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "child JVM hangs");
        } finally {
            proc.destroyForcibly();
        }
        writer.join(10_000);
        String err = Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8);
        assertEquals(2, proc.exitValue(), err);
        assertTrue(err.contains(fifo + ": the data does not fit in the memory Java may use (the file is not a regular"
                + " file (a pipe?), so its size is unknown; the heap limit is"), err);
        assertFalse(err.contains("on disk"), err);
    }

    /**
     * A golden "file" that is a device or a pipe has no size to check before reading: /dev/zero was read until the
     * heap ran out (4.4 GB and 13 s with the default heap), then "give Java a larger heap". Now at most the limit (a
     * 32nd of the heap) is read. Found by fuzzing the readers with devices and pipes as files.
     */
    @Test
    void anEndlessGoldenFileStopsAtTheLimit() throws Exception {
        Path zero = Path.of("/dev/zero");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(zero), "needs /dev/zero");
        Process proc = startWith32MbHeap("golden", zero.toString());
        try {
            assertTrue(proc.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "child JVM hangs");
        } finally {
            proc.destroyForcibly();
        }
        String err = Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8);
        assertEquals(2, proc.exitValue(), err);
        assertTrue(err.contains("/dev/zero: not a regular file (a pipe? a device?), and more than ")
                && err.contains(" came from it: a golden file is parsed whole in memory"), err);
        assertFalse(err.contains("does not fit in the memory"), err);
    }

    /**
     * route answers each row before it waits for the next, also when what has arrived ends in a blank line (the
     * answer waited in the buffer: the blank line made more input look ready, then the loop blocked on the next line)
     * or in the {@code \n} of a {@code \r\n} split from its {@code \r} (LineReader.ready said true for that lone
     * line feed). Rows are written into a pipe one at a time, and each answer must show while the pipe is open.
     */
    @Test
    void routeAnswersEachRowBeforeWaitingForTheNext() throws Exception {
        Path data = routingCsv("r.csv", 200, 3);
        Path model = tmp.resolve("r.mild");
        Run t = run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--out", model.toString());
        assertEquals(0, t.code, t.err);
        java.io.PipedOutputStream feed = new java.io.PipedOutputStream();
        java.io.PipedInputStream stdin = new java.io.PipedInputStream(feed, 1 << 16);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Console c = new Console(stdin, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        java.util.concurrent.CompletableFuture<Integer> code = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> Main.run(new String[] {"route", "--model", model.toString()}, c));
        try {
            String[] inputs = {"x0,x1,x2\n1,0,0\n", "\n-1,0,0\n\n", "1,0,0\r", "\n", "-1,0,0\r\n\r\n"};
            int[] answers = {1, 2, 3, 3, 4};
            for (int i = 0; i < inputs.length; i++) {
                feed.write(inputs[i].getBytes(StandardCharsets.UTF_8));
                feed.flush();
                long until = System.nanoTime() + 30_000_000_000L;
                while (out.toString(StandardCharsets.UTF_8).lines().count() < answers[i] && System.nanoTime() < until
                        && !code.isDone()) {
                    Thread.sleep(5);
                }
                assertEquals(answers[i], out.toString(StandardCharsets.UTF_8).lines().count(), "after writing "
                        + inputs[i].replace("\r", "\\r").replace("\n", "\\n") + ": " + out + err);
            }
        } finally {
            feed.close();
        }
        assertEquals(0, code.get(60, java.util.concurrent.TimeUnit.SECONDS), err.toString(StandardCharsets.UTF_8));
        assertEquals(4, out.toString(StandardCharsets.UTF_8).lines().count());
    }

    @Test
    void routeAnswersTheRowsBeforeABadOneThenNamesItsLine() throws IOException {
        // x2 varies little (std about 1e-3), so a value of 1e36 standardizes beyond float32.
        StringBuilder sb = new StringBuilder("x0,x1,x2,cost:small,cost:large\n");
        for (int i = 0; i < 300; i++) {
            sb.append(i % 2 == 0 ? "0.5" : "-0.5").append(',').append(i % 5).append(',').append(i % 3 * 1e-3)
                    .append(i % 2 == 0 ? ",0,1\n" : ",1,0\n");
        }
        Path data = tmp.resolve("route.csv");
        Files.writeString(data, sb.toString());
        Path model = tmp.resolve("r.mild");
        Run t = run("train", "--data", data.toString(), "--epochs", "2", "--rho", "uniform", "--out", model.toString());
        assertEquals(0, t.code, t.err);
        String good = "0.5,0.1,0.2\n-0.5,0.1,0.2\n";
        Run ok = runWithInput(good, "route", "--model", model.toString());
        assertEquals(0, ok.code, ok.err);
        assertEquals(2, ok.lines().size());
        // "0.2\0": trim() dropped the NUL (of UTF-16 input, or a zero-padded file), and the row was routed.
        for (String bad : List.of("1,2,oops\n", "1,2\n", "1,2,1e36\n", "1,2,1e39\n", "1,2,0.2\0\n")) {
            Run r = runWithInput(good + "\n" + bad + "0.5,0.1,0.2\n", "route", "--model", model.toString());
            assertEquals(2, r.code, r.err);
            assertEquals(ok.out, r.out, "the two rows before the bad one are answered, the row after it is not");
            assertTrue(r.err.contains("stdin, line 4"), r.err);
        }
        // A value far outside the training data cannot be standardized in float32: an error, not a NaN score.
        Run far = runWithInput("1,2,1e36\n", "route", "--model", model.toString());
        assertTrue(far.err.contains("stdin, line 1: feature \"x2\" (column 3 of the model's") && far.err.contains("too far"),
                far.err);
        // A byte-order mark before the header, and a reserved name in another case.
        Run bom = runWithInput("\uFEFFx2,x0,x1\n0.2,0.5,0.1\n", "route", "--model", model.toString());
        assertEquals(0, bom.code, bom.err);
        assertEquals(ok.lines().get(0), bom.lines().get(0));
        // A mark inside the header (joined input) is named, not "\uFEFFx1" is not a feature of the model.
        Run joined = runWithInput("x0,\uFEFFx1,x2\n0.5,0.1,0.2\n", "route", "--model", model.toString());
        assertEquals(2, joined.code, joined.err);
        assertTrue(joined.err.contains("stdin, line 1, column 2: the name \"\uFEFFx1\" holds U+FEFF, the byte-order"
                + " mark"), joined.err);
        Run label = runWithInput("x0,x1,x2,Label\n0.5,0.1,0.2,1\n", "route", "--model", model.toString());
        assertEquals(2, label.code, label.err);
        assertTrue(label.err.contains("stdin, line 1, column 4: \"Label\" looks like the reserved column label"),
                label.err);
    }

    /** A model of two features x, y and experts a, b, trained for one epoch, for route's tests. */
    private Path xyModel() throws IOException {
        Path data = tmp.resolve("xy.csv");
        Files.writeString(data, "x,y,cost:a,cost:b\n" + "1,2,0,1\n-1,2,1,0\n".repeat(50));
        Path model = tmp.resolve("xy.mild");
        Run t = run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--out", model.toString());
        assertEquals(0, t.code, t.err);
        return model;
    }

    /**
     * route reads stdin through the same line reader as data files: an endless line of text (no NUL in it) was
     * read until the heap ran out. It is refused after {@code LineReader.MAX_LINE_CHARS}, the rows before it
     * answered.
     */
    @Test
    void routeRefusesAnEndlessLineAtTheLineLimit() throws IOException {
        Path model = xyModel();
        long[] consumed = {0};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Console c = new Console(DataTest.endlessLine("1,2\n", consumed, 3L << 30),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), false);
        assertEquals(2, Main.run(new String[] {"route", "--model", model.toString()}, c));
        assertEquals("mild route: error: stdin, line 2: the line is longer than 67108864 characters: is this a CSV"
                + " file with one row per line?", err.toString(StandardCharsets.UTF_8).strip());
        assertEquals(1, out.toString(StandardCharsets.UTF_8).lines().count(), "the first row is answered");
        assertTrue(consumed[0] <= (64 << 20) + (1 << 20), consumed[0] + " bytes read before the refusal");
    }

    @Test
    void routeNamesAHeaderOfOtherFeaturesAsAHeader() throws IOException {
        Path model = xyModel();
        // A file of another data set: its header names none of the model's features.
        Run r = runWithInput("u,v\n1,2\n", "route", "--model", model.toString());
        assertEquals(2, r.code);
        assertEquals("mild route: error: stdin, line 1: looks like a header, but names none of the model's features"
                + " (x, y); a header names them (in any order), or every line holds numbers only", r.err.strip());
        // A row with one text cell among numbers is still a bad row, named by its cell.
        r = runWithInput("1,oops\n", "route", "--model", model.toString());
        assertTrue(r.err.contains("stdin, line 1, column 2 (y): \"oops\" is not a number"), r.err);
        // A first line of damaged numbers only is data, named by its first bad cell, not "looks like a header".
        r = runWithInput("1.5e,2x\n1,2\n", "route", "--model", model.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("stdin, line 1, column 1 (x): \"1.5e\" is not a number"), r.err);
        r = runWithInput("-,.\n", "route", "--model", model.toString());
        assertTrue(r.err.contains("stdin, line 1, column 1 (x): \"-\" is not a number"), r.err);
    }

    /**
     * A file's columns are matched to a model's features by name in time linear in the columns: eval looked each
     * one up in the model's list (12 s for 100,000 features) and route each header cell (31 s).
     */
    @Test
    void wideFilesAreMatchedToTheModelsFeaturesInLinearTime() throws IOException {
        int d = 150_000;
        List<String> features = new java.util.ArrayList<>();
        for (int c = 0; c < d; c++) {
            features.add("f" + c);
        }
        float[] ones = new float[d];
        java.util.Arrays.fill(ones, 1f);
        Path model = tmp.resolve("wide.mild");
        dev.mild.router.ModelFile.save(new dev.mild.router.RouterModel(features,
                new dev.mild.router.Standardizer(new float[d], ones), new dev.mild.router.Mlp(d, 2),
                new dev.mild.router.ExpertSetup(dev.mild.router.ExpertSetup.Source.COSTS, List.of("a", "b"), 0,
                        new int[0], new double[2], 1), List.of(), Map.of()), model);
        // The file's columns in the opposite order, so that each is looked up.
        List<String> reversed = new java.util.ArrayList<>(features.reversed());
        String header = String.join(",", reversed);
        String row = "0,".repeat(d - 1) + "0";
        Path data = tmp.resolve("wide.csv");
        Files.writeString(data, header + ",cost:a,cost:b\n" + row + ",0,1\n");
        Run e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> run("eval", "--model", model.toString(), "--data", data.toString()));
        assertEquals(0, e.code, e.err);
        Run r = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> runWithInput(header + "\n" + row + "\n", "route", "--model", model.toString()));
        assertEquals(0, r.code, r.err);
        assertEquals(List.of("b"), r.lines(), "all-zero weights score a tie, which goes to the last expert");
    }

    @Test
    void emptyItemsInCommaListsAreRejected() throws IOException {
        Path data = routingCsv("lists.csv", 100, 6);
        String[][] cases = {
            {"--beta", "0,0.3,", "--beta \"0,0.3,\": item 3 of 3 is empty"},
            {"--hidden", "64,", "--hidden \"64,\": item 2 of 2 is empty"},
            {"--hidden", "64,,8", "--hidden \"64,,8\": item 2 of 3 is empty"},
            {"--blocks", "7,2,1,", "--blocks \"7,2,1,\": item 4 of 4 is empty"},
            {"--rho", "1,2,", "--rho \"1,2,\": item 3 of 3 is empty"},
        };
        for (String[] c : cases) {
            Run r = run("train", "--data", data.toString(), c[0], c[1], "--epochs", "1", "--out",
                    tmp.resolve("lists.mild").toString());
            assertEquals(2, r.code, c[0] + " " + c[1] + ": " + r.err);
            assertTrue(r.err.contains(c[2]), r.err);
        }
        assertFalse(Files.exists(tmp.resolve("lists.mild")));
        Run repro = run("repro", "--setups", "I,", "--dir", tmp.toString());
        assertEquals(2, repro.code);
        assertTrue(repro.err.contains("--setups \"I,\": item 2 of 2 is empty"), repro.err);
    }

    @Test
    void perClassReportsShowTheClassesThatOccurAndStayShort() throws IOException {
        // Costs from the file, a label column for the report: classes 0..2, plus one typo (1000000).
        StringBuilder sb = new StringBuilder("x0,label,cost:a,cost:b\n");
        for (int i = 0; i < 300; i++) {
            sb.append(i % 7).append(',').append(i == 150 ? 1_000_000 : i % 3).append(",0,1\n");
        }
        Path typo = tmp.resolve("typo.csv");
        Files.writeString(typo, sb.toString());
        Path model = tmp.resolve("typo.mild");
        // The same rows as the test file (a copy: the file itself is refused as --test), so the typo row is in it.
        Path typoTest = Files.copy(typo, tmp.resolve("typo-test.csv"));
        Run t = run("train", "--data", typo.toString(), "--test", typoTest.toString(), "--epochs", "1", "--rho", "uniform",
                "--out", model.toString());
        assertEquals(0, t.code, t.err);
        assertEquals(List.of("class 0", "class 1", "class 2", "class 1000000"),
                t.lines().stream().filter(l -> l.contains("rows: router")).map(l -> l.trim().split(",")[0]).toList());
        Run e = run("eval", "--model", model.toString(), "--data", typo.toString(), "--json");
        assertEquals(0, e.code, "the model of a file with a label 1000000 loads: " + e.err);
        Map<?, ?> evalResult = (Map<?, ?>) ((Map<?, ?>) Json.parse(e.out.trim(), "eval")).get("result");
        List<?> blocks = (List<?>) evalResult.get("blocks");
        assertEquals(4, blocks.size());
        assertEquals(1.0, ((Map<?, ?>) blocks.get(3)).get("rows"));

        // Forty classes: the table shows thirty and says how many more there are; --json has them all.
        StringBuilder many = new StringBuilder("x0,label,cost:a,cost:b\n");
        for (int i = 0; i < 400; i++) {
            many.append(i % 5).append(',').append(i % 40).append(",0,1\n");
        }
        Path forty = tmp.resolve("forty.csv");
        Files.writeString(forty, many.toString());
        Run text = run("eval", "--model", model.toString(), "--data", forty.toString());
        assertEquals(0, text.code, text.err);
        assertEquals(30, text.lines().stream().filter(l -> l.contains("rows: router")).count());
        assertTrue(text.out.contains("... and 10 more (100 rows), not shown; --json lists them all"), text.out);
        Run json = run("eval", "--model", model.toString(), "--data", forty.toString(), "--json");
        Map<?, ?> result = (Map<?, ?>) ((Map<?, ?>) Json.parse(json.out.trim(), "eval")).get("result");
        assertEquals(40, ((List<?>) result.get("blocks")).size());
    }

    /** Runs a command with {@code stdin} as its input and a standard output whose every write fails (a full disk). */
    static Run runIntoFullDisk(java.io.InputStream stdin, String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        java.io.OutputStream full = new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }
        };
        Console c = new Console(stdin, new PrintStream(full, false, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        int code = Main.run(args, c);
        return new Run(code, "", err.toString(StandardCharsets.UTF_8));
    }

    /**
     * {@code ./mild route ... | head -1}: the reader closes the pipe after a line. That is not an error (the first
     * version of the stdout check said "cannot write to standard output", exit 2, once the output outgrew the pipe's
     * buffer): route stops quietly with exit 0, as Unix tools do, and does not read the rest.
     */
    @Test
    void routeStopsQuietlyWhenItsReaderClosesThePipe() throws Exception {
        Path model = xyModel();
        Path rows = tmp.resolve("many.csv");
        Files.writeString(rows, "1,2\n".repeat(300_000));
        Path err = tmp.resolve("pipe-err.txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String script = "'" + java + "' -cp '" + System.getProperty("java.class.path") + "' dev.mild.cli.Main route"
                + " --model '" + model + "' < '" + rows + "' 2> '" + err + "' | head -1; echo \"rc=${PIPESTATUS[0]}\"";
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(2, out.lines().count(), out);   // one routed row, then the exit code
        assertTrue(out.endsWith("rc=0\n"), out + Files.readString(err));
        assertEquals("", Files.readString(err));
    }

    /**
     * A PrintStream keeps write errors to itself: route, eval --json, train --json and --help into a full disk (or
     * a closed stdout) exited 0 with nothing written. Each now fails, exit 2, saying so; route stops reading at once.
     */
    @Test
    void everyCommandFailsWhenStandardOutputCannotBeWritten() throws IOException {
        Path model = xyModel();
        Path data = tmp.resolve("xy.csv");
        String stdout = "cannot write to standard output (disk full or closed)";
        Run r = runIntoFullDisk(new ByteArrayInputStream("1,2\n-1,2\n".getBytes(StandardCharsets.UTF_8)), "route",
                "--model", model.toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild route: error: " + stdout, r.err.strip());
        // Rows without end: route stops at the first failed write instead of routing them into the full disk forever.
        long[] consumed = {0};
        java.io.InputStream endless = new java.io.InputStream() {
            private final byte[] row = "1,2\n".getBytes(StandardCharsets.UTF_8);

            @Override
            public int read() {
                return row[(int) (consumed[0]++ % row.length)];
            }
        };
        r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> runIntoFullDisk(endless, "route", "--model",
                model.toString()));
        assertEquals(2, r.code, r.err);
        assertTrue(consumed[0] < 10 << 20, consumed[0] + " bytes read");
        ByteArrayInputStream none = new ByteArrayInputStream(new byte[0]);
        r = runIntoFullDisk(none, "eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(2, r.code, r.err);
        assertEquals("mild eval: error: " + stdout, r.err.strip());
        Path out = tmp.resolve("full.mild");
        r = runIntoFullDisk(none, "train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--json",
                "--out", out.toString());
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.endsWith("mild train: error: " + stdout + ": the report is lost, but the model was saved to "
                + out + System.lineSeparator()), r.err);
        assertTrue(Files.exists(out));
        // Text output: the first line already fails, before any training.
        Path notMade = tmp.resolve("not-made.mild");
        r = runIntoFullDisk(none, "train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform",
                "--out", notMade.toString());
        assertEquals("mild train: error: " + stdout, r.err.strip());
        assertFalse(Files.exists(notMade));
        r = runIntoFullDisk(none, "--help");
        assertEquals(2, r.code);
        assertEquals("mild: error: " + stdout, r.err.strip());
        r = runIntoFullDisk(none, "backends");
        assertEquals("mild backends: error: " + stdout, r.err.strip());
    }

    /**
     * stdin that cannot be read ({@code < somedir}) was "failed: java.io.IOException: Is a directory" from Main's
     * catch-all; gzip data on stdin was "a NUL byte ... UTF-16?".
     */
    @Test
    void routeSaysWhyStdinCannotBeReadAndRefusesGzipData() throws IOException {
        Path model = xyModel();
        java.io.InputStream directory = new java.io.InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("Is a directory");
            }
        };
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Console c = new Console(directory, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        assertEquals(2, Main.run(new String[] {"route", "--model", model.toString()}, c));
        assertEquals("mild route: error: stdin: cannot read: is a directory", err.toString(StandardCharsets.UTF_8).strip());

        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(gz)) {
            z.write("x,y\n1,2\n".getBytes(StandardCharsets.UTF_8));
        }
        Run r = runWithInput(gz.toByteArray(), "route", "--model", model.toString());
        assertEquals(2, r.code);
        assertEquals("mild route: error: stdin holds gzip-compressed data: decompress it first, e.g. zcat FILE |"
                + " ./mild route --model MODEL", r.err.strip());
        assertEquals("", r.out);
    }

    /**
     * A data file that is a ZIP archive, bzip2 data or gzip twice (file.csv.gz.gz) was "line 1, column 1: a NUL byte,
     * which CSV text never holds: is this a file saved as UTF-16 (save it as UTF-8), or not text at all?"; on
     * route's stdin too. Now each is named, with the tool that unpacks it.
     */
    @Test
    void compressedDataOtherThanOneGzipLayerIsNamed() throws IOException {
        byte[] csv = "x,cost:a,cost:b\n1,0,1\n2,1,0\n".getBytes(StandardCharsets.UTF_8);
        Path zip = tmp.resolve("d.zip");
        try (var z = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new java.util.zip.ZipEntry("d.csv"));
            z.write(csv);
        }
        Run r = run("train", "--data", zip.toString(), "--out", tmp.resolve("m.mild").toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: " + zip + ": this is a ZIP archive, not CSV text: MILD reads CSV and IDX files,"
                + " plain or gzip-compressed; unpack it first (unzip) and give the CSV file", r.err.strip());

        ByteArrayOutputStream once = new ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(once)) {
            z.write(csv);
        }
        Path twice = tmp.resolve("d.csv.gz.gz");
        try (var z = new java.util.zip.GZIPOutputStream(Files.newOutputStream(twice))) {
            z.write(once.toByteArray());
        }
        r = run("train", "--data", twice.toString(), "--out", tmp.resolve("m.mild").toString());
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains(twice + ": this is gzip-compressed data inside gzip (compressed twice?), not CSV"
                + " text") && r.err.contains("(gunzip)"), r.err);

        // bzip2's header (BZh, the block size, the block magic 0x314159265359) and some of a body.
        byte[] bz = {'B', 'Z', 'h', '9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x12, 0x00, 0x7f, 0x00};
        Path bzFile = tmp.resolve("d.csv.bz2");
        Files.write(bzFile, bz);
        Path model = xyModel();
        r = run("eval", "--model", model.toString(), "--data", bzFile.toString());
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains(bzFile + ": this is bzip2-compressed data, not CSV text") && r.err.contains("(bunzip2)"),
                r.err);

        r = runWithInput(bz, "route", "--model", model.toString());
        assertEquals(2, r.code);
        assertEquals("mild route: error: stdin holds bzip2-compressed data, not CSV text: unpack it first (bunzip2) and"
                + " pipe in the CSV rows", r.err.strip());
        assertEquals("", r.out);
    }

    /**
     * A gzipped model (m.mild.gz) was only "not a MILD model file (wrong magic bytes ...)", and a gzipped golden file
     * "not a golden JSON file: the bytes are not UTF-8 text (line 1, byte offset 1: 0x8b)".
     */
    @Test
    void gzippedModelAndGoldenFilesAreNamedAsSuch() throws IOException {
        Path model = xyModel();
        Path gzModel = tmp.resolve("xy.mild.gz");
        try (var z = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gzModel))) {
            z.write(Files.readAllBytes(model));
        }
        Run r = run("eval", "--model", gzModel.toString(), "--data", tmp.resolve("xy.csv").toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild eval: error: " + gzModel + ": not a MILD model file (wrong magic bytes; a model starts with"
                + " \"MILDRTR\"): it is gzip-compressed data; unpack it first (gunzip)", r.err.strip());

        Path gzGolden = tmp.resolve("deferral-cases.json.gz");
        try (var z = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gzGolden))) {
            z.write(Support.resource("deferral-cases.json").getBytes(StandardCharsets.UTF_8));
        }
        r = run("golden", gzGolden.toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild golden: error: " + gzGolden + ": not a golden JSON file: it is gzip-compressed data; unpack"
                + " it first (gunzip)", r.err.strip());
    }

    /**
     * Cost columns equal on every row (zeros, a column exported by mistake) gave a table of equal losses (0.0000
     * everywhere) and exit 0 without a word: any router, trained or not, scores the same. Now a note says so, in
     * train and in eval; costs that differ somewhere get none.
     */
    @Test
    void costsEqualForEveryExpertOnEveryRowAreNoted() throws IOException {
        Path data = tmp.resolve("same.csv");
        Files.writeString(data, "x,cost:a,cost:b\n" + "1,0,0\n-1,0,0\n2,0,0\n".repeat(40));
        Path model = tmp.resolve("same.mild");
        Run r = run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--out", model.toString());
        assertEquals(0, r.code, r.err);
        String note = "every row costs the same for every expert (0.0000 on average), so any router does as well as"
                + " any other: the costs do not tell the experts apart. Check the cost columns (cost:<expert>, or label"
                + " and pred:<expert>)";
        assertTrue(r.out.contains("Note: on validation " + note) && r.out.contains("Note: on test " + note), r.out);
        r = run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("Note: on this file " + note), r.out);
        // --json carries the same notes, each with a kind a program can test.
        r = run("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(0, r.code, r.err);
        assertEquals(List.of(Map.of("kind", "costsAllEqual", "text", "on this file " + note)), notes(r.out));
        r = run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--out", model.toString(),
                "--json");
        assertEquals(0, r.code, r.err);
        assertEquals(List.of(Map.of("kind", "costsAllEqual", "text", "on validation " + note),
                Map.of("kind", "costsAllEqual", "text", "on test " + note)), notes(r.out));
        Files.writeString(data, "x,cost:a,cost:b\n" + "1,0,0\n-1,0,0\n2,0,1\n".repeat(40));
        r = run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(0, r.code, r.err);
        assertFalse(r.out.contains("every row costs the same"), r.out);
        r = run("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(0, r.code, r.err);
        // The router trained on costs of zeros now does worse than expert a: that note, and no other.
        assertEquals(List.of("worseThanOneExpert"),
                notes(r.out).stream().map(n -> ((Map<?, ?>) n).get("kind")).toList());
    }

    /** The "notes" array of a --json output. */
    private static List<?> notes(String out) {
        return (List<?>) ((Map<?, ?>) Json.parse(out.trim(), "output")).get("notes");
    }

    /**
     * --out onto a hard link of the --data file (another path, the same file) was refused as "exists and is not a
     * MILD model file"; it is named as the --data file, as the same path is.
     */
    @Test
    void anOutputThatIsAHardLinkOfTheDataIsNamedAsTheData() throws IOException {
        Path data = tmp.resolve("d.csv");
        Files.writeString(data, "x,cost:a,cost:b\n" + "1,0,1\n-1,1,0\n".repeat(20));
        Path link = Files.createLink(tmp.resolve("link.mild"), data);
        Run r = run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--out", link.toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: --out " + link + ": this is the --data file; writing the MILD model file there"
                + " would replace it. Choose another file.", r.err.strip());
        assertEquals("x,cost:a,cost:b\n" + "1,0,1\n-1,1,0\n".repeat(20), Files.readString(data));
    }

    /** A data file with one cost column trains a router with nothing to choose: train and eval say so. */
    @Test
    void oneExpertOnlyIsNoted() throws IOException {
        Path data = tmp.resolve("one.csv");
        Files.writeString(data, "x,cost:a\n" + "1,0\n-1,1\n2,0\n".repeat(40));
        Path model = tmp.resolve("one.mild");
        Run r = run("train", "--data", data.toString(), "--epochs", "1", "--out", model.toString());
        assertEquals(0, r.code, r.err);
        String note = "Note: there is one expert only (a), so every row goes to it whatever the router: routing needs"
                + " two or more (a cost:<expert> column for each, or label and a pred:<expert> column for each)";
        assertTrue(r.out.contains(note), r.out);
        r = run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains(note), r.out);
        r = run("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(0, r.code, r.err);
        assertEquals(List.of(Map.of("kind", "oneExpert", "text", note.substring("Note: ".length()))), notes(r.out));
        Files.writeString(data, "x,cost:a,cost:b\n" + "1,0,1\n-1,1,0\n".repeat(20));
        r = run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--out", model.toString());
        assertEquals(0, r.code, r.err);
        assertFalse(r.out.contains("one expert only"), r.out);
    }

    /**
     * "--out models/" (a directory that does not exist yet) wrote a model file called "models", since Path.of drops
     * the trailing slash; "--plot chart.png/" a file "chart.png". Both are refused before anything is read.
     */
    @Test
    void anOutputNameEndingInASlashIsRefused() throws IOException {
        Path data = tmp.resolve("d.csv");
        Files.writeString(data, "x,cost:a,cost:b\n" + "1,0,1\n-1,1,0\n".repeat(20));
        String dir = tmp.resolve("models") + "/";
        Run r = run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--out", dir);
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: --out " + dir + ": ends with a slash, so it names a directory; give a file"
                + " name, e.g. " + dir + "router.mild (see ./mild train --help)", r.err.strip());
        assertFalse(Files.exists(tmp.resolve("models")));
        String plot = tmp.resolve("chart.png") + "/";
        r = run("train", "--data", data.toString(), "--epochs", "1", "--rho", "uniform", "--out",
                tmp.resolve("m.mild").toString(), "--plot", plot);
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("--plot " + plot + ": ends with a slash, so it names a directory"), r.err);
        assertFalse(Files.exists(tmp.resolve("chart.png")) || Files.exists(tmp.resolve("m.mild")));
    }

    /**
     * train's --valid and --test files are matched to --data, not to a model (there is none yet): their columns were
     * "not a feature of the model", and IDX images of another size "the model needs feature column pixel4".
     */
    @Test
    void trainNamesTheOptionAndTheDataFileWhenAHeldOutFileDoesNotMatch() throws IOException {
        Path data = tmp.resolve("d.csv");
        Files.writeString(data, "x1,x2,cost:a,cost:b\n" + "1,2,0,1\n-1,2,1,0\n".repeat(20));
        Path three = tmp.resolve("three.csv");
        Files.writeString(three, "x1,x2,x3,cost:a,cost:b\n1,2,3,0,1\n");
        Path out = tmp.resolve("m.mild");
        Run r = run("train", "--data", data.toString(), "--test", three.toString(), "--epochs", "1", "--out",
                out.toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: --test " + three + ": column 3 (x3) is not a column of --data " + data
                + " (its features: x1, x2)", r.err.strip());
        r = run("train", "--data", three.toString(), "--valid", data.toString(), "--epochs", "1", "--out",
                out.toString());
        assertEquals("mild train: error: --valid " + data + ": no column \"x3\", which --data " + three
                + " has as a feature", r.err.strip());
        Path otherExpert = tmp.resolve("c.csv");
        Files.writeString(otherExpert, "x1,x2,cost:a,cost:c\n1,2,0,1\n");
        r = run("train", "--data", data.toString(), "--test", otherExpert.toString(), "--epochs", "1", "--out",
                out.toString());
        assertEquals("mild train: error: --test " + otherExpert + ": column 4 (cost:c) names an expert that --data "
                + data + " has no column for (its experts: a, b)", r.err.strip());

        // IDX: 3x3 training images, 2x2 test images; and eval of the model on the 2x2 ones.
        idxPair("train", 200, 1);
        java.nio.ByteBuffer img = java.nio.ByteBuffer.allocate(16 + 4 * 4).putInt(0x00000803).putInt(4).putInt(2)
                .putInt(2);
        Files.write(tmp.resolve("small-images-idx3-ubyte"), img.array());
        Files.write(tmp.resolve("small-labels-idx1-ubyte"), java.nio.ByteBuffer.allocate(8 + 4).putInt(0x00000801)
                .putInt(4).array());
        Path train = tmp.resolve("train-images-idx3-ubyte.gz");
        Path small = tmp.resolve("small-images-idx3-ubyte");
        r = run("train", "--data", train.toString(), "--test", small.toString(), "--experts", "synthetic", "--blocks",
                "7,2,1", "--epochs", "1", "--rho", "uniform", "--out", out.toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: --test " + small + ": images are 2x2, the training images are 3x3 (--data "
                + train + ")", r.err.strip());
        r = run("train", "--data", train.toString(), "--experts", "synthetic", "--blocks", "7,2,1", "--epochs", "1",
                "--rho", "uniform", "--out", out.toString());
        assertEquals(0, r.code, r.err);
        r = run("eval", "--model", out.toString(), "--data", small.toString());
        assertEquals(2, r.code, r.err);
        assertEquals("mild eval: error: " + small + ": images are 2x2, the model's are 3x3 (9 pixels)", r.err.strip());
    }

    /**
     * A valued option given twice was refused, a flag given twice silently accepted; "-d FILE" and "-data FILE" were
     * "expects no positional arguments"; --search-epochs 0 was silently the default while --epochs 0 was refused.
     */
    /**
     * An option copied from a document that turned "--" into a dash ("\u2014data", "\u2013json") was "'train' expects
     * no positional arguments (...), got \u2014data d.csv", which did not say what was wrong with it.
     */
    @Test
    void anOptionWrittenWithATypographicDashIsNamedAsSuch() {
        Run r = run("train", "\u2014data", "d.csv");
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: unknown option \u2014data: it starts with EM DASH (U+2014), not with two"
                + " hyphens, as if copied from a document that changed them; options start with --: --data (see"
                + " ./mild train --help)", r.err.strip());
        r = run("eval", "--model", "m.mild", "--data", "d.csv", "\u2013json");
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("unknown option \u2013json: it starts with EN DASH (U+2013)") && r.err.contains(
                "options start with --: --json"), r.err);
        // Not an option's name: still a positional argument (a golden FILE may start with a dash of any kind).
        r = run("golden", "\u2014nothing.json");
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("\u2014nothing.json: cannot read golden file: no such file"), r.err);
    }

    @Test
    void repeatedFlagsSingleDashOptionsAndAZeroSearchEpochsAreRefused() {
        Run r = run("eval", "--json", "--model", "m.mild", "--data", "d.csv", "--json");
        assertEquals(2, r.code, r.err);
        assertEquals("mild eval: error: --json is given twice (see ./mild eval --help)", r.err.strip());
        r = run("route", "--scores", "--model", "m.mild", "--scores");
        assertEquals("mild route: error: --scores is given twice (see ./mild route --help)", r.err.strip());
        r = run("train", "--data", "d.csv", "--coverage", "--coverage");
        assertEquals("mild train: error: --coverage is given twice (see ./mild train --help)", r.err.strip());

        r = run("train", "-d", "d.csv");
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: unknown option -d (options start with --; see ./mild train --help)",
                r.err.strip());
        r = run("train", "-data", "d.csv");
        assertEquals("mild train: error: unknown option -data (options start with --: --data; see ./mild train --help)",
                r.err.strip());
        r = run("eval", "--model", "m.mild", "-json=1");
        assertEquals("mild eval: error: unknown option -json (options start with --: --json; see ./mild eval --help)",
                r.err.strip());

        r = run("train", "--data", "d.csv", "--search-epochs", "0");
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: --search-epochs must be between 1 and 100000, got 0 (leave --search-epochs"
                + " out for the default: about 150 optimizer steps per grid point) (see ./mild train --help)",
                r.err.strip());
    }

    /**
     * An error that quotes a value with a line break or another control character stays on one line, the character
     * escaped: "--epochs $'5\\n'" split the message over two lines, and a carriage return or a terminal escape in a
     * value could hide what came before it (left by the command-line arguments review).
     */
    @Test
    void errorsQuotingControlCharactersStayOnOneLine() {
        Run r = run("train", "--data", "d.csv", "--epochs", "5\nx");
        assertEquals(2, r.code, r.err);
        assertEquals("mild train: error: --epochs must be a whole number, got \"5\\nx\" (or auto, the default) (see ./mild train --help)",
                r.err.strip());
        r = run("repro", "--setups", "I\r\u001b[2KII");
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.strip().lines().count() == 1 && r.err.contains("got \"I\\r\\u001b[2KII\""), r.err);
        r = run("tr\tain");
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.startsWith("mild: unknown command 'tr\\tain'"), r.err);
    }

    /**
     * A value far longer than any real one (a whole file pasted as an option) is shown cut, with how much was left
     * out, where it was echoed whole: 128 KB on one error line (left by the command-line arguments review). Shorter
     * words, and the rest of the message, stay whole.
     */
    @Test
    void aHugeValueIsCutInTheError() {
        String huge = "0.5," + "1,".repeat(64_000) + "end";
        Run r = run("train", "--data", "d.csv", "--epochs", huge);
        assertEquals(2, r.code, r.err);
        String line = r.err.strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.length() < 600, line.length() + " characters: " + line.substring(0, 300));
        String word = "\"" + huge + "\"";   // the word of the message, quotes included
        String shown = word.substring(0, 200) + "[... " + String.format(java.util.Locale.ROOT, "%,d", word.length() - 240)
                + " more characters ...]" + word.substring(word.length() - 40);
        assertEquals("mild train: error: --epochs must be a whole number, got " + shown
                + " (or auto, the default) (see ./mild train --help)", line);
        String path = "/tmp/" + "d".repeat(900) + ".csv"; // long, but a name a file system may have: kept whole
        r = run("train", "--data", path, "--epochs", "x");
        assertTrue(r.err.contains("got \"x\"") && !r.err.contains("more characters"), r.err);
    }

    /**
     * A number too small for a double parses as 0: "--valid-fraction 1e-400" was checked as 0 and reported as
     * "--valid-fraction 0 leaves no validation rows", a value the user never gave (left by the command-line arguments
     * review). Written zeros stay zeros.
     */
    @Test
    void aNumberThatRoundsToZeroIsNamedAsSuch() {
        for (String[] c : new String[][] {{"--valid-fraction", "1e-400"}, {"--cost-noise", "0.5e-999"},
                {"--nu", "-2.5E-400"}}) {
            Run r = run("train", "--data", "d.csv", "--loss", "compsum", c[0], c[1]);
            assertEquals(2, r.code, r.err);
            assertTrue(r.err.contains("mild train: error: " + c[0] + " " + c[1] + " is too small for a double and rounds"
                    + " to 0 (the smallest above 0 is 4.9e-324): give 0 if 0 is meant, or a larger number"), r.err);
        }
        Run zero = run("train", "--data", "d.csv", "--cost-noise", "0.000e-400", "--valid-fraction", "0");
        assertFalse(zero.err.contains("rounds to 0"), zero.err);
    }

    /**
     * The grid's mean margins far from 1: 1e20 was printed as 9223372036854775807 (cast to a long), 1e-20 as "0/2",
     * and the note's wider grid as 0.0000000000000000000025,...
     */
    @Test
    void rhoGridReportWritesMarginsFarFromOneReadably() throws IOException {
        Path data = tmp.resolve("far.csv");
        Files.writeString(data, "x1,x2,cost:a,cost:b\n" + "1,2,0,1\n-1,2,1,0\n0.5,1,0.2,0.4\n".repeat(30));
        Run r = run("train", "--data", data.toString(), "--rho-grid", "1e-20,1e20", "--epochs", "2", "--search-epochs",
                "1", "--out", tmp.resolve("far.mild").toString());
        assertEquals(0, r.code, r.err);
        List<String> grid = r.out.lines().map(String::strip).toList();
        assertTrue(grid.stream().anyMatch(l -> l.matches("1e-20 +[0-9.]+\\*? .*")), r.out);
        assertTrue(grid.stream().anyMatch(l -> l.matches("1e\\+20 +[0-9.]+\\*? .*")), r.out);
        assertFalse(r.out.contains("9223372036854775807") || r.out.contains("0/2"), r.out);
        assertTrue(r.out.contains("chosen (*): mean margin 1e-20, gamma") || r.out.contains("chosen (*): mean margin"
                + " 1e+20, gamma"), r.out);
        // The grid chose one of its two points, so an edge: the wider grid is written as --rho-grid reads it.
        assertTrue(r.out.contains("Try a wider grid, e.g. --rho-grid 2.5e-21,5e-21,1e-20,1e+20\n")
                || r.out.contains("Try a wider grid, e.g. --rho-grid 1e-20,1e+20,2e+20,4e+20\n"), r.out);
    }

    /** A key twice in one object silently kept the last value: a first "cases" array was never checked. */
    @Test
    void goldenRefusesAKeyGivenTwiceNamingItsPlace() throws IOException {
        Path f = tmp.resolve("twice.json");
        String good = Support.resource("surrogate-cases.json").strip();
        // The file's cases, then a second "cases" key with an empty array (which alone would be refused as empty).
        String text = good.substring(0, good.length() - 1) + ",\n \"cases\": []}";
        Run r = goldenRefuses(f, text, "--backend", "scalar");
        assertTrue(good.startsWith("{\n \"cases\": ["), "the resource's layout, for the place below");
        assertEquals("mild golden: error: " + f + ": line " + text.lines().count() + ", column 2: duplicate key"
                + " \"cases\" (first at line 2, column 2): an object names each key once", r.err.strip());
        r = goldenRefuses(f, "{\"cases\": [{\"name\": \"a\", \"nu\": 1,\n \"nu\": 2}]}");
        assertTrue(r.err.contains(f + ": line 2, column 2: duplicate key \"nu\" (first at line 1, column 26)"), r.err);
        assertEquals("", r.out);
    }
}
