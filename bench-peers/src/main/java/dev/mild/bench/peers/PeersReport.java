package dev.mild.bench.peers;

import dev.mild.bench.Report;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a JMH JSON result file of {@code LossThroughputBenchmark} (scalar, simd) and {@link PyTorchLossBenchmark}
 * (one run) into a markdown table of medians: rows/s per column and the simd/pytorch ratio. The parsing is
 * {@link Report}'s.
 *
 * <p>Usage: {@code java -cp bench-peers/target/peers-benchmarks.jar dev.mild.bench.peers.PeersReport results.json}
 * (bench/peers.sh).
 */
public final class PeersReport {
    private PeersReport() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: PeersReport JMH_RESULTS.json");
            System.exit(2);
        }
        Map<Report.Config, Map<String, Double>> table = Report.lossTable();
        for (Map<?, ?> r : Report.results(Path.of(args[0]))) {
            String name = (String) r.get("benchmark");
            if (name.endsWith("LossThroughputBenchmark.lossAndGradient")) {
                Report.putRowsPerSecond(table, r, (String) ((Map<?, ?>) r.get("params")).get("backend"));
            } else if (name.endsWith("PyTorchLossBenchmark.lossAndGradient")) {
                Report.putRowsPerSecond(table, r, "pytorch");
            }
        }
        System.out.println("| experts | rho | scalar rows/s | simd rows/s | pytorch rows/s | simd/pytorch |");
        System.out.println("|---:|---|---:|---:|---:|---:|");
        for (Map.Entry<Report.Config, Map<String, Double>> e : table.entrySet()) {
            double scalar = e.getValue().getOrDefault("scalar", Double.NaN);
            double simd = e.getValue().getOrDefault("simd", Double.NaN);
            double pytorch = e.getValue().getOrDefault("pytorch", Double.NaN);
            System.out.printf(Locale.ROOT, "| %d | %s | %s | %s | %s | %.1fx |%n", e.getKey().experts(), e.getKey().rho(),
                    Report.rate(scalar), Report.rate(simd), Report.rate(pytorch), simd / pytorch);
        }
    }
}
