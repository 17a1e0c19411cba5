package dev.mild.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's performance table comes from {@link Report}: its ratios are checked here on a small JMH
 * result file whose rates were chosen so that every figure can be worked out by hand.
 */
class ReportTest {

    /** One JMH result, as JMH writes it: score in calls/s, rawData per fork, one thread. */
    private static String result(String benchmark, String params, String rawData) {
        return result(benchmark, params, rawData, "ops/s", 1);
    }

    private static String result(String benchmark, String params, String rawData, String unit, int threads) {
        return String.format(Locale.ROOT, "{\"benchmark\": \"dev.mild.bench.%s\", \"mode\": \"%s\", \"threads\": %d, "
                + "\"params\": {%s}, \"primaryMetric\": {\"score\": 0, \"scoreUnit\": \"%s\", \"rawData\": %s}}",
                benchmark, unit.startsWith("ops/") ? "thrpt" : "avgt", threads, params, unit, rawData);
    }

    private static String loss(String backend, int experts, boolean equalRho, String nu, String rawData) {
        return loss(backend, experts, equalRho, nu, 1000, rawData);
    }

    private static String loss(String backend, int experts, boolean equalRho, String nu, int batch, String rawData) {
        String params = String.format(Locale.ROOT, "\"backend\": \"%s\", \"experts\": \"%d\", \"batch\": \"%d\", "
                + "\"equalRho\": \"%b\"", backend, experts, batch, equalRho) + (nu == null ? "" : ", \"nu\": \"" + nu + "\"");
        return result("LossThroughputBenchmark.lossAndGradient", params, rawData);
    }

    private static List<String> markdown(Path dir, String... results) throws IOException {
        Path file = dir.resolve("results.json");
        Files.writeString(file, "[" + String.join(",", results) + "]");
        return Report.markdown(Report.results(file));
    }

    @Test
    void ratiosAreWorkedOutFromTheMediansOfOneRun(@TempDir Path dir) throws IOException {
        // exps/s = median calls/s x 4096 elements: 1562500 -> 6.4e9 exps/s; 781250 -> 3.2e9 logs/s.
        // Loss rows/s = median calls/s x batch 1000. Medians: odd counts take the middle, even ones the mean of two.
        String json = "[" + String.join(",",
                loss("simd", 16, false, null, "[[2000, 2000, 2000]]"),
                loss("simd", 8, false, "0.5", "[[5000]]"),
                loss("scalar", 8, false, "0.5", "[[1000]]"),
                loss("simd", 8, true, null, "[[64000, 10, 99999999]]"),
                loss("scalar", 8, true, null, "[[8000]]"),
                loss("simd", 8, false, "1", "[[30000, 50000], [35000, 45000]]"),
                loss("scalar", 8, false, "1", "[[4000]]"),
                result("ExpRooflineBenchmark.exp", "", "[[1562500, 1, 99999999]]"),
                result("ExpRooflineBenchmark.log", "", "[[781250]]"),
                result("ExpRooflineBenchmark.vectorApiExp", "", "[[1000000]]"),
                result("ExpRooflineBenchmark.vectorApiLog", "", "[[500000]]"),
                result("ExpRooflineBenchmark.expInGroupCalls", "", "[[1250000]]")) + "]";
        Path file = dir.resolve("results.json");
        Files.writeString(file, json);

        List<String> lines = Report.markdown(Report.results(file));

        assertEquals("exp roofline: 6.40e+09 exps/s, log1p: 3.20e+09 logs/s (kernel's own lanes, one thread); "
                + "Vector API EXP: 4.10e+09 exps/s, LOG1P: 2.05e+09 logs/s; the same exp loop in short calls of 8 "
                + "vectors: 5.12e+09 exps/s (80% of the roofline)", lines.get(0));
        assertEquals(List.of(
                // p = 8 distinct: simd median (35000 + 45000) / 2 calls/s = 40M rows/s, scalar 4M: 10x.
                // 64 exps/row: roofline 6.4e9 / 64 = 100M rows/s, 40%; with 8 logs per row at 3.2e9/s:
                // 1 / (64 / 6.4e9 + 8 / 3.2e9) = 80M rows/s, 50%. Eight groups (even): 7 x 8 = 56 exps computed,
                // 40M x 56 / 6.4e9 = 35%.
                "| 8 | distinct | 4.00M | 40.00M | 10.0x | 64 | 100.00M | 40% | 50% | 35% |",
                // The general member: its own row, no float exp roofline. 5M / 1M = 5x.
                "| 8 | distinct, nu 0.5 | 1.00M | 5.00M | 5.0x | 64 | - | - | - | - |",
                // p = 8 equal: one softmax, 8 exps: roofline 800M; with one log: 1 / (8 / 6.4e9 + 1 / 3.2e9) = 640M.
                // One group (odd): all 8 exps computed, 8% again.
                "| 8 | equal | 8.00M | 64.00M | 8.0x | 8 | 800.00M | 8% | 10% | 8% |",
                // p = 16 after p = 8 (numeric order); no scalar figure: the ratio says NaN, not a made-up number.
                // 256 exps: roofline 25M rows/s, simd 2M: 8%; with 16 logs: 1 / (256 / 6.4e9 + 16 / 3.2e9) = 22.2M, 9%.
                // 15 x 16 = 240 exps computed: 2M x 240 / 6.4e9 = 7.5%, printed as 8% (%.0f rounds half up).
                "| 16 | distinct | - | 2.00M | NaNx | 256 | 25.00M | 8% | 9% | 8% |"),
                lines.subList(4, lines.size()));
    }

    /**
     * The last column counts the exps the SIMD kernel computes: an odd p is padded to an even number of columns
     * (p = 3: 4 exps per softmax, not 3), and with experts in lanes (p over 32, one margin) the padding depends
     * on the vector width, so the column says "-" rather than a figure for a count it does not know.
     */
    @Test
    void computedExpsCountTheKernelsPaddingAndSkipOnlyWhereItSkips(@TempDir Path dir) throws IOException {
        // Roofline 6.4e9 exps/s, 3.2e9 logs/s; batch 1000.
        List<String> lines = markdown(dir,
                loss("scalar", 3, false, null, "[[32000]]"),
                loss("simd", 3, false, null, "[[320000]]"),
                loss("simd", 3, true, null, "[[640000]]"),
                loss("simd", 64, true, null, "[[50000]]"),
                result("ExpRooflineBenchmark.exp", "", "[[1562500]]"),
                result("ExpRooflineBenchmark.log", "", "[[781250]]"));
        assertEquals(List.of(
                // p = 3 distinct: 9 exps/row, roofline 711.11M, simd 320M: 45%; with 3 logs: 1 / (9 / 6.4e9 +
                // 3 / 3.2e9) = 426.67M, 75%. Three groups (odd): no skip, 4 columns each: 12 exps, 320M x 12 / 6.4e9 = 60%.
                "| 3 | distinct | 32.00M | 320.00M | 10.0x | 9 | 711.11M | 45% | 75% | 60% |",
                // p = 3 equal: 3 exps, roofline 2133.33M, 640M: 30%; with a log: 1280M, 50%; 4 computed: 40%.
                "| 3 | equal | - | 640.00M | NaNx | 3 | 2133.33M | 30% | 50% | 40% |",
                // p = 64 equal: experts in lanes. 64 exps, roofline 100M, 50M: 50%; 1 / (1e-8 + 1 / 3.2e9) = 96.97M, 52%.
                "| 64 | equal | - | 50.00M | NaNx | 64 | 100.00M | 50% | 52% | - |"),
                lines.subList(4, lines.size()));
    }

    /** Scores in another time unit (JMH's -tu) are converted; another mode (-bm avgt) or -t 2 is refused. */
    @Test
    void scoresAreReadInTheirUnitAndOnlyOneThreadsThroughputIsTabled(@TempDir Path dir) throws IOException {
        // The first test's p = 8 equal row and roofline, scored per millisecond and per microsecond.
        List<String> lines = markdown(dir,
                result("LossThroughputBenchmark.lossAndGradient", "\"backend\": \"simd\", \"experts\": \"8\", "
                        + "\"batch\": \"1000\", \"equalRho\": \"true\"", "[[64]]", "ops/ms", 1),
                result("LossThroughputBenchmark.lossAndGradient", "\"backend\": \"scalar\", \"experts\": \"8\", "
                        + "\"batch\": \"1000\", \"equalRho\": \"true\"", "[[8]]", "ops/ms", 1),
                result("ExpRooflineBenchmark.exp", "", "[[1.5625]]", "ops/us", 1),
                result("ExpRooflineBenchmark.log", "", "[[781.25]]", "ops/ms", 1));
        assertTrue(lines.get(0).startsWith("exp roofline: 6.40e+09 exps/s, log1p: 3.20e+09 logs/s"), lines.get(0));
        assertEquals("| 8 | equal | 8.00M | 64.00M | 8.0x | 8 | 800.00M | 8% | 10% | 8% |", lines.get(4));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> markdown(dir,
                loss("simd", 8, true, null, "[[64000]]"),
                result("ExpRooflineBenchmark.exp", "", "[[640]]", "ns/op", 1)));
        assertEquals("dev.mild.bench.ExpRooflineBenchmark.exp is scored in ns/op, not operations per unit of time:"
                + " the table needs throughput mode (JMH's -bm thrpt)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> markdown(dir,
                result("LossThroughputBenchmark.lossAndGradient", "\"backend\": \"simd\", \"experts\": \"8\", "
                        + "\"batch\": \"1000\", \"equalRho\": \"true\"", "[[128000]]", "ops/s", 2)));
        assertEquals("dev.mild.bench.LossThroughputBenchmark.lossAndGradient ran on 2 JMH threads (-t): the table"
                + " is one thread's figures, measure with one", e.getMessage());
    }

    /**
     * With -foe false a benchmark that failed is missing from the file: its cells and the shares computed from
     * it say "-", as a missing rate does, rather than "NaN%".
     */
    @Test
    void sharesOfAMissingRateAreLeftEmpty(@TempDir Path dir) throws IOException {
        List<String> lines = markdown(dir,
                loss("scalar", 8, true, null, "[[8000]]"),
                loss("simd", 4, true, null, "[[64000]]"),
                loss("scalar", 4, true, null, "[[8000]]"),
                result("ExpRooflineBenchmark.exp", "", "[[1562500]]"));
        assertEquals(List.of(
                // No log rate: the share with logs is unknown. 4 exps: roofline 1600M, 64M is 4%, 4 computed: 4%.
                "| 4 | equal | 8.00M | 64.00M | 8.0x | 4 | 1600.00M | 4% | - | 4% |",
                // No simd figure: no share of anything.
                "| 8 | equal | 8.00M | - | NaNx | 8 | 800.00M | - | - | - |"),
                lines.subList(4, lines.size()));
    }

    /** bench/report.sh -p batch=4096 adds a batch size to the script's 65536: two figures for one cell. */
    @Test
    void twoResultsForOneCellAreRefusedInsteadOfOneReplacingTheOther(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> markdown(dir,
                loss("simd", 8, false, "1", 65536, "[[600]]"),
                loss("simd", 8, false, "1", 4096, "[[8000]]"),
                result("ExpRooflineBenchmark.exp", "", "[[1562500]]")));
        assertEquals("two results for p = 8, distinct, simd (the second with batch 4096): the table has one figure"
                + " per configuration and backend, so measure one batch size (BATCH=4096 instead of a -p batch="
                + " argument, which adds to the script's)", e.getMessage());
    }

    /** bench/peers.sh's table: rows/s of each column and simd/pytorch, from the same medians. */
    @Test
    void peersTableComparesTheMediansOfEachConfiguration(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("peers.json");
        Files.writeString(file, "[" + String.join(",",
                loss("simd", 8, false, null, "[[30000, 50000], [40000]]"),
                loss("scalar", 8, false, null, "[[2000]]"),
                result("peers.PyTorchLossBenchmark.lossAndGradient",
                        "\"experts\": \"8\", \"batch\": \"1000\", \"equalRho\": \"false\"", "[[5000, 4000, 6000]]"),
                loss("simd", 2, true, null, "[[90]]").replace("\"ops/s\"", "\"ops/ms\""),
                result("peers.PyTorchLossBenchmark.lossAndGradient",
                        "\"experts\": \"2\", \"batch\": \"1000\", \"equalRho\": \"true\"", "[[30000]]")) + "]");
        assertEquals(List.of(
                "| experts | rho | scalar rows/s | simd rows/s | pytorch rows/s | simd/pytorch |",
                "|---:|---|---:|---:|---:|---:|",
                // p = 2 first; its simd score is 90 calls/ms: 90M rows/s, against 30M: 3x.
                "| 2 | equal | - | 90.00M | 30.00M | 3.0x |",
                // simd median of 30000, 40000, 50000 calls/s over two forks = 40M rows/s; PyTorch's 5M: 8x.
                "| 8 | distinct | 2.00M | 40.00M | 5.00M | 8.0x |"),
                Report.peersMarkdown(Report.results(file)));

        Path ours = dir.resolve("ours.json");
        Files.writeString(ours, "[" + loss("simd", 8, false, null, "[[1]]") + "]");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Report.peersMarkdown(Report.results(ours)));
        assertEquals("no PyTorchLossBenchmark or DjlLossBenchmark results among the 1 JMH results, so nothing to"
                + " compare with (run bench/peers.sh)", e.getMessage());
    }

    /** With DJL's results too: a column and a ratio for each peer; a configuration a peer did not run shows "-". */
    @Test
    void peersTableHasAColumnAndARatioPerPeer(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("peers.json");
        Files.writeString(file, "[" + String.join(",",
                loss("simd", 8, false, null, "[[40000]]"),
                result("peers.DjlLossBenchmark.lossAndGradient",
                        "\"experts\": \"8\", \"batch\": \"1000\", \"equalRho\": \"false\"", "[[2000, 2500]]"),
                result("peers.PyTorchLossBenchmark.lossAndGradient",
                        "\"experts\": \"8\", \"batch\": \"1000\", \"equalRho\": \"false\"", "[[5000]]"),
                loss("simd", 2, true, null, "[[90000]]"),
                result("peers.DjlLossBenchmark.lossAndGradient",
                        "\"experts\": \"2\", \"batch\": \"1000\", \"equalRho\": \"true\"", "[[45000]]")) + "]");
        assertEquals(List.of(
                "| experts | rho | scalar rows/s | simd rows/s | pytorch rows/s | djl rows/s | simd/pytorch | simd/djl |",
                "|---:|---|---:|---:|---:|---:|---:|---:|",
                // no PyTorch result at p = 2: its cells are "-"; DJL 45M against simd's 90M: 2x
                "| 2 | equal | - | 90.00M | - | 45.00M | - | 2.0x |",
                // DJL's median of 2000 and 2500 calls/s: 2.25M rows/s, against 40M: 17.8x; PyTorch 5M: 8x
                "| 8 | distinct | - | 40.00M | 5.00M | 2.25M | 8.0x | 17.8x |"),
                Report.peersMarkdown(Report.results(file)));
    }

    @Test
    void aFileWithoutLossResultsIsRefusedInsteadOfAnEmptyTable(@TempDir Path dir) throws IOException {
        // Only the roofline (e.g. a run of ExpRooflineBenchmark alone), and then nothing at all.
        Path roofline = dir.resolve("roofline.json");
        Files.writeString(roofline, "[" + result("ExpRooflineBenchmark.exp", "", "[[1562500]]") + "]");
        Path empty = dir.resolve("empty.json");
        Files.writeString(empty, "[]");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Report.markdown(Report.results(roofline)));
        assertEquals("no LossThroughputBenchmark results among the 1 JMH results, so no table (run bench/report.sh, "
                + "which measures it and ExpRooflineBenchmark)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Report.markdown(Report.results(empty)));
        assertTrue(e.getMessage().startsWith("no LossThroughputBenchmark results among the 0 JMH results"), e.getMessage());
    }

    @Test
    void configurationsSortByExpertsThenMarginsThenNu() {
        List<Report.Config> sorted = new java.util.ArrayList<>(List.of(
                new Report.Config(8, true, 1), new Report.Config(2, false, 0.5), new Report.Config(8, false, 2),
                new Report.Config(8, false, 1), new Report.Config(2, false, 1), new Report.Config(8, false, 0.5)));
        java.util.Collections.sort(sorted);
        assertEquals(List.of("2 distinct", "2 distinct, nu 0.5", "8 distinct", "8 distinct, nu 0.5",
                "8 distinct, nu 2", "8 equal"), sorted.stream().map(c -> c.experts() + " " + c.rho()).toList());
    }
}
