package dev.mild.bench.peers;

import dev.mild.bench.Report;
import java.io.IOException;

/**
 * Turns a JMH JSON result file of {@code LossThroughputBenchmark} (scalar, simd) and {@link PyTorchLossBenchmark}
 * (one run) into a markdown table of medians: rows/s per column and the simd/pytorch ratio. The table is
 * {@link Report#peersMarkdown} (tested in the bench module, which needs no PyTorch).
 *
 * <p>Usage: {@code java -cp bench-peers/target/peers-benchmarks.jar dev.mild.bench.peers.PeersReport results.json}
 * (bench/peers.sh).
 */
public final class PeersReport {
    private PeersReport() {
    }

    public static void main(String[] args) throws IOException {
        Report.printOrExit("PeersReport", args, Report::peersMarkdown);
    }
}
