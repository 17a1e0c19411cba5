package dev.mild.bench;

import dev.mild.io.Json;
import dev.mild.io.JsonOut;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Turns a JMH JSON result file of {@link LossThroughputBenchmark} and {@link ExpRooflineBenchmark} (one run)
 * into a markdown table: rows/s per backend, the simd/scalar ratio, and the fraction of the exp roofline the
 * simd backend reaches. Every figure is the median of the measurement iterations.
 *
 * <pre>
 *   exps per row      = p * groups  (groups = p for distinct margins, 1 for equal)
 *   roofline rows/s   = (exps/s of the kernel's exp) / exps per row
 *   with logs         = 1 / (p groups / exps/s + groups / logs/s)   (one log1p per group and row)
 *   of computed exps  = simd rows/s * exps computed per row / exps/s
 * </pre>
 * Exps computed per row ({@code Plan.expColumns}, rows in lanes): the SIMD kernel leaves out each softmax's top
 * expert (its exp is 1) when the number of groups is even ({@code Plan.skipTop}), so (p - 1) groups exps there;
 * otherwise its exp loop takes a group's two halves at once and pads an odd p with one column of exp 0, so p
 * rounded up to even, times groups. The last column says how close to the exp rate those exps run; it is "-"
 * where the kernel puts experts in lanes (p over 32, one margin), whose padding depends on the vector width.
 *
 * <p>Scores are read in their JMH unit (ops/s, ops/ms, ... from {@code -tu}); a result in another mode
 * ({@code -bm avgt}: time per op) or of more than one JMH thread ({@code -t}) is refused, as is a second result
 * for a cell of the table (a repeated {@code -p batch=} adds a batch size rather than replacing it).
 * Usage: {@code java -cp bench/target/benchmarks.jar dev.mild.bench.Report results.json} (bench/report.sh).
 * Its parsing helpers are public for the peer comparison's table (bench-peers, bench/peers.sh).
 */
public final class Report {
    private Report() {
    }

    public static void main(String[] args) throws IOException {
        printOrExit("Report", args, Report::markdown);
    }

    /**
     * A report's main: the lines {@code table} makes of the JMH JSON result file {@code args[0]} on stdout, or
     * what is wrong (no such file, results it cannot use) on stderr and exit code 2.
     */
    public static void printOrExit(String program, String[] args, Function<List<Map<?, ?>>, List<String>> table)
            throws IOException {
        if (args.length != 1) {
            System.err.println("usage: " + program + " JMH_RESULTS.json");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        try {
            table.apply(results(file)).forEach(System.out::println);
        } catch (NoSuchFileException e) {
            System.err.println(program + ": no such file: " + file);
            System.exit(2);
        } catch (IllegalArgumentException e) {
            System.err.println(program + ": " + file + ": " + e.getMessage());
            System.exit(2);
        }
    }

    /**
     * The report's lines: the exp and log rates, then the table (one row per configuration, by p).
     *
     * @throws IllegalArgumentException when there is no loss result at all (a file of other benchmarks, or of
     *     none): there would be no table, only NaN rates
     */
    static List<String> markdown(List<Map<?, ?>> results) {
        double expsPerSecond = Double.NaN;
        double logsPerSecond = Double.NaN;
        double apiExpsPerSecond = Double.NaN;
        double apiLogsPerSecond = Double.NaN;
        double groupCallExpsPerSecond = Double.NaN;
        Map<Config, Map<String, Double>> loss = lossTable();
        for (Map<?, ?> r : results) {
            String name = (String) r.get("benchmark");
            if (name.endsWith("ExpRooflineBenchmark.exp")) {
                expsPerSecond = callsPerSecond(r) * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.log")) {
                logsPerSecond = callsPerSecond(r) * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.expInGroupCalls")) {
                groupCallExpsPerSecond = callsPerSecond(r) * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.vectorApiExp")) {
                apiExpsPerSecond = callsPerSecond(r) * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.vectorApiLog")) {
                apiLogsPerSecond = callsPerSecond(r) * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("LossThroughputBenchmark.lossAndGradient")) {
                putRowsPerSecond(loss, r, (String) ((Map<?, ?>) r.get("params")).get("backend"));
            }
        }
        if (loss.isEmpty()) {
            throw new IllegalArgumentException("no LossThroughputBenchmark results among the " + results.size()
                    + " JMH results, so no table (run bench/report.sh, which measures it and ExpRooflineBenchmark)");
        }
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "exp roofline: %.3g exps/s, log1p: %.3g logs/s (kernel's own lanes, one thread); "
                + "Vector API EXP: %.3g exps/s, LOG1P: %.3g logs/s", expsPerSecond, logsPerSecond,
                apiExpsPerSecond, apiLogsPerSecond)
                + (Double.isNaN(groupCallExpsPerSecond) ? "" : String.format(Locale.ROOT,
                "; the same exp loop in short calls of 8 vectors: %.3g exps/s (%.0f%% of the roofline)",
                groupCallExpsPerSecond, 100 * groupCallExpsPerSecond / expsPerSecond)));
        out.add("");
        out.add("| experts | rho | scalar rows/s | simd rows/s | simd/scalar | exps/row | roofline rows/s | of roofline | of roofline with logs | of computed exps |");
        out.add("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Map.Entry<Config, Map<String, Double>> e : loss.entrySet()) {
            Config c = e.getKey();
            double scalar = e.getValue().getOrDefault("scalar", Double.NaN);
            double simd = e.getValue().getOrDefault("simd", Double.NaN);
            double exps = (double) c.experts() * c.groups();
            if (c.generalMember()) {
                // The general member computes in double lanes: the float exp's roofline does not apply.
                out.add(String.format(Locale.ROOT, "| %d | %s | %s | %s | %.1fx | %.0f | - | - | - | - |", c.experts(),
                        c.rho(), rate(scalar), rate(simd), simd / scalar, exps));
                continue;
            }
            double roof = expsPerSecond / exps;
            double roofLogs = 1.0 / (exps / expsPerSecond + c.groups() / logsPerSecond);
            out.add(String.format(Locale.ROOT, "| %d | %s | %s | %s | %.1fx | %.0f | %s | %s | %s | %s |",
                    c.experts(), c.rho(), rate(scalar), rate(simd), simd / scalar, exps, rate(roof), percent(simd / roof),
                    percent(simd / roofLogs), percent(simd * computedExpsPerRow(c) / expsPerSecond)));
        }
        return out;
    }

    /**
     * One loss configuration of the table: experts, equal or distinct margins, and nu (1 is MILD's
     * logsumexp member; any other value the general member, a row of its own without the exp roofline).
     * Ordered by p, then distinct before equal, then nu 1 before the others.
     */
    public record Config(int experts, boolean equalRho, double nu) implements Comparable<Config> {
        /** Softmaxes per row: one per distinct margin. */
        public int groups() {
            return equalRho ? 1 : experts;
        }

        public boolean generalMember() {
            return nu != 1.0;
        }

        /** The table's rho column: "distinct" or "equal", with ", nu X" for the general member. */
        public String rho() {
            String margins = equalRho ? "equal" : "distinct";
            if (!generalMember()) {
                return margins;
            }
            return margins + ", nu " + (nu == Math.rint(nu) ? Long.toString((long) nu) : Double.toString(nu));
        }

        /** "p = 8, distinct" and the like, for messages. */
        @Override
        public String toString() {
            return "p = " + experts + ", " + rho();
        }

        @Override
        public int compareTo(Config o) {
            int c = Integer.compare(experts, o.experts);
            if (c == 0) {
                c = Boolean.compare(equalRho, o.equalRho);
            }
            if (c == 0) {
                c = Boolean.compare(generalMember(), o.generalMember());
            }
            return c != 0 ? c : Double.compare(nu, o.nu);
        }
    }

    /** The results of a JMH JSON result file, one map per benchmark and parameter set. */
    public static List<Map<?, ?>> results(Path file) throws IOException {
        Object parsed = Json.parse(Files.readString(file), file.toString());
        List<Map<?, ?>> out = new ArrayList<>();
        for (Object o : (List<?>) parsed) {
            out.add((Map<?, ?>) o);
        }
        return out;
    }

    /** An empty table of loss rates: configuration (in table order) -> column -> rows/s. */
    public static Map<Config, Map<String, Double>> lossTable() {
        return new TreeMap<>();
    }

    /**
     * Puts one loss result (params experts, batch, equalRho, nu if present; score in calls/s) into the table
     * as rows/s (median times batch) under its configuration and the given column.
     */
    public static void putRowsPerSecond(Map<Config, Map<String, Double>> table, Map<?, ?> result, String column) {
        Map<?, ?> params = (Map<?, ?>) result.get("params");
        int batch = Integer.parseInt((String) params.get("batch"));
        Object nu = params.get("nu");
        Config key = new Config(Integer.parseInt((String) params.get("experts")), "true".equals(params.get("equalRho")),
                nu == null ? 1.0 : Double.parseDouble((String) nu));
        double rowsPerSecond = callsPerSecond(result) * batch;
        // One cell per configuration and column: a second figure (another batch size, most often) would
        // silently replace the first.
        if (table.computeIfAbsent(key, k -> new TreeMap<>()).putIfAbsent(column, rowsPerSecond) != null) {
            throw new IllegalArgumentException("two results for " + key + ", " + column + " (the second with batch "
                    + batch + "): the table has one figure per configuration and backend, so measure one batch"
                    + " size (BATCH=" + batch + " instead of a -p batch= argument, which adds to the script's)");
        }
    }

    /**
     * The median score of one JMH result in calls per second, whatever {@code -tu} it was measured in.
     *
     * @throws IllegalArgumentException for a result that is not one thread's throughput ({@code -bm avgt},
     *     {@code -t 2}): the tables are one thread's rows per second
     */
    public static double callsPerSecond(Map<?, ?> result) {
        String name = String.valueOf(result.get("benchmark"));
        Object threads = result.get("threads");
        if (!(threads instanceof Number n) || n.doubleValue() != 1) {
            throw new IllegalArgumentException(name + " ran on "
                    + (threads instanceof Number t ? JsonOut.number(t.doubleValue()) : "an unknown number of")
                    + " JMH threads (-t): the table is"
                    + " one thread's figures, measure with one");
        }
        Map<?, ?> metric = (Map<?, ?>) result.get("primaryMetric");
        String unit = String.valueOf(metric.get("scoreUnit"));
        double perUnit = switch (unit) {
            case "ops/ns" -> 1e9;
            case "ops/us" -> 1e6;
            case "ops/ms" -> 1e3;
            case "ops/s" -> 1;
            case "ops/min" -> 1.0 / 60;
            case "ops/hr" -> 1.0 / 3600;
            case "ops/day" -> 1.0 / 86400;
            default -> throw new IllegalArgumentException(name + " is scored in " + unit + ", not operations"
                    + " per unit of time: the table needs throughput mode (JMH's -bm thrpt)");
        };
        return median(metric) * perUnit;
    }

    /**
     * Exps the SIMD kernel computes per row, as its {@code Plan} lays them out; NaN with experts in lanes
     * ({@code SimdKernel.layoutFor}: logsumexp, p over 32, at most max(2, p / 32) margins), whose exp loop pads
     * p to whole vector pairs of a width the report does not know.
     */
    static double computedExpsPerRow(Config c) {
        int p = c.experts();
        if (p > 32 && c.groups() <= Math.max(2, p / 32)) {
            return Double.NaN;
        }
        int columns = c.groups() % 2 == 0 ? p - 1 : (p + 1) / 2 * 2;
        return (double) columns * c.groups();
    }

    /** The peers bench/peers.sh runs, in the table's order: column name, and the benchmark class that measures it. */
    static final List<String[]> PEERS = List.of(new String[] {"pytorch", "PyTorchLossBenchmark"},
            new String[] {"djl", "DjlLossBenchmark"});

    /**
     * The peer comparison's lines (bench/peers.sh, {@code PeersReport}): a markdown table of rows/s per column
     * (scalar, simd, then each peer with results: pytorch, djl) and simd's ratio to each of those peers, one row per
     * configuration.
     *
     * @throws IllegalArgumentException when there is no peer result at all: there would be nothing to compare with
     */
    public static List<String> peersMarkdown(List<Map<?, ?>> results) {
        Map<Config, Map<String, Double>> table = lossTable();
        List<String> peers = new ArrayList<>();
        for (String[] peer : PEERS) {
            for (Map<?, ?> r : results) {
                if (((String) r.get("benchmark")).endsWith("." + peer[1] + ".lossAndGradient")) {
                    putRowsPerSecond(table, r, peer[0]);
                    if (!peers.contains(peer[0])) {
                        peers.add(peer[0]);
                    }
                }
            }
        }
        if (peers.isEmpty()) {
            throw new IllegalArgumentException("no " + PEERS.stream().map(p -> p[1]).collect(Collectors.joining(" or "))
                    + " results among the " + results.size() + " JMH results, so nothing to compare with (run"
                    + " bench/peers.sh)");
        }
        for (Map<?, ?> r : results) {
            if (((String) r.get("benchmark")).endsWith("LossThroughputBenchmark.lossAndGradient")) {
                putRowsPerSecond(table, r, (String) ((Map<?, ?>) r.get("params")).get("backend"));
            }
        }
        List<String> out = new ArrayList<>();
        StringBuilder header = new StringBuilder("| experts | rho | scalar rows/s | simd rows/s |");
        StringBuilder rule = new StringBuilder("|---:|---|---:|---:|");
        for (String peer : peers) {
            header.append(' ').append(peer).append(" rows/s |");
            rule.append("---:|");
        }
        for (String peer : peers) {
            header.append(" simd/").append(peer).append(" |");
            rule.append("---:|");
        }
        out.add(header.toString());
        out.add(rule.toString());
        for (Map.Entry<Config, Map<String, Double>> e : table.entrySet()) {
            Map<String, Double> cells = e.getValue();
            double simd = cells.getOrDefault("simd", Double.NaN);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "| %d | %s | %s | %s |",
                    e.getKey().experts(), e.getKey().rho(), rate(cells.getOrDefault("scalar", Double.NaN)), rate(simd)));
            for (String peer : peers) {
                line.append(' ').append(rate(cells.getOrDefault(peer, Double.NaN))).append(" |");
            }
            for (String peer : peers) {
                double ratio = simd / cells.getOrDefault(peer, Double.NaN);
                line.append(' ').append(Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.1fx", ratio))
                        .append(" |");
            }
            out.add(line.toString());
        }
        return out;
    }

    /** Median of the measurement iterations (JMH's rawData: forks x iterations). */
    static double median(Map<?, ?> metric) {
        List<Double> all = new ArrayList<>();
        for (Object fork : (List<?>) metric.get("rawData")) {
            for (Object v : (List<?>) fork) {
                all.add(((Number) v).doubleValue());
            }
        }
        double[] v = all.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : 0.5 * (v[v.length / 2 - 1] + v[v.length / 2]);
    }

    /** A fraction as a whole percentage, "-" when unknown. */
    static String percent(double fraction) {
        return Double.isNaN(fraction) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * fraction);
    }

    /** Rows/s in millions, "-" when missing. */
    public static String rate(double r) {
        return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fM", r / 1e6);
    }
}
