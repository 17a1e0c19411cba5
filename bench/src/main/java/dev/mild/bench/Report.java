package dev.mild.bench;

import dev.mild.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a JMH JSON result file of {@link LossThroughputBenchmark} and {@link ExpRooflineBenchmark} (one run)
 * into a markdown table: rows/s per backend, the simd/scalar ratio, and the fraction of the exp roofline the
 * simd backend reaches. Every figure is the median of the measurement iterations.
 *
 * <pre>
 *   exps per row      = p * groups  (groups = p for distinct margins, 1 for equal)
 *   roofline rows/s   = (exps/s of the kernel's exp) / exps per row
 *   with logs         = 1 / (p groups / exps/s + groups / logs/s)   (one log1p per group and row)
 * </pre>
 * Usage: {@code java -cp bench/target/benchmarks.jar dev.mild.bench.Report results.json} (bench/report.sh).
 * Its parsing helpers are public for the peer comparison's table (bench-peers, bench/peers.sh).
 */
public final class Report {
    private Report() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Report JMH_RESULTS.json");
            System.exit(2);
        }
        double expsPerSecond = Double.NaN;
        double logsPerSecond = Double.NaN;
        double apiExpsPerSecond = Double.NaN;
        double apiLogsPerSecond = Double.NaN;
        // key "experts/equalRho" -> backend -> rows/s
        Map<String, Map<String, Double>> loss = lossTable();
        for (Map<?, ?> r : results(Path.of(args[0]))) {
            String name = (String) r.get("benchmark");
            double median = median((Map<?, ?>) r.get("primaryMetric"));
            if (name.endsWith("ExpRooflineBenchmark.exp")) {
                expsPerSecond = median * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.log")) {
                logsPerSecond = median * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.vectorApiExp")) {
                apiExpsPerSecond = median * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.vectorApiLog")) {
                apiLogsPerSecond = median * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("LossThroughputBenchmark.lossAndGradient")) {
                putRowsPerSecond(loss, r, (String) ((Map<?, ?>) r.get("params")).get("backend"));
            }
        }
        System.out.printf(Locale.ROOT, "exp roofline: %.3g exps/s, log1p: %.3g logs/s (kernel's own lanes, one thread); "
                + "Vector API EXP: %.3g exps/s, LOG1P: %.3g logs/s%n%n", expsPerSecond, logsPerSecond,
                apiExpsPerSecond, apiLogsPerSecond);
        System.out.println("| experts | rho | scalar rows/s | simd rows/s | simd/scalar | exps/row | roofline rows/s | of roofline | of roofline with logs |");
        System.out.println("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Map.Entry<String, Map<String, Double>> e : loss.entrySet()) {
            String[] key = e.getKey().split("/");
            int p = Integer.parseInt(key[0]);
            int groups = key[1].startsWith("equal") ? 1 : p;
            double scalar = e.getValue().getOrDefault("scalar", Double.NaN);
            double simd = e.getValue().getOrDefault("simd", Double.NaN);
            double exps = (double) p * groups;
            if (key[1].contains("nu")) {
                // The general member computes in double lanes: the float exp's roofline does not apply.
                System.out.printf(Locale.ROOT, "| %d | %s | %s | %s | %.1fx | %.0f | - | - | - |%n", p, key[1],
                        rate(scalar), rate(simd), simd / scalar, exps);
                continue;
            }
            double roof = expsPerSecond / exps;
            double roofLogs = 1.0 / (exps / expsPerSecond + groups / logsPerSecond);
            System.out.printf(Locale.ROOT, "| %d | %s | %s | %s | %.1fx | %.0f | %s | %.0f%% | %.0f%% |%n", p, key[1],
                    rate(scalar), rate(simd), simd / scalar, exps, rate(roof), 100 * simd / roof, 100 * simd / roofLogs);
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

    /** An empty table of loss rates: key "experts/rho" (rho "distinct" or "equal"), by p then rho; column -> rows/s. */
    public static Map<String, Map<String, Double>> lossTable() {
        return new TreeMap<>((x, y) -> {
            String[] a = x.split("/");
            String[] b = y.split("/");
            int c = Integer.compare(Integer.parseInt(a[0]), Integer.parseInt(b[0]));
            return c != 0 ? c : a[1].compareTo(b[1]);
        });
    }

    /**
     * Puts one loss result (params experts, batch, equalRho; score in calls/s) into the table as rows/s
     * (median times batch) under its "experts/rho" key and the given column.
     */
    public static void putRowsPerSecond(Map<String, Map<String, Double>> table, Map<?, ?> result, String column) {
        Map<?, ?> params = (Map<?, ?>) result.get("params");
        int batch = Integer.parseInt((String) params.get("batch"));
        String key = params.get("experts") + "/" + ("true".equals(params.get("equalRho")) ? "equal" : "distinct");
        Object nu = params.get("nu");
        if (nu != null && Double.parseDouble((String) nu) != 1.0) {
            key += ", nu " + nu; // the general member: a row of its own, no exp roofline
        }
        double median = median((Map<?, ?>) result.get("primaryMetric"));
        table.computeIfAbsent(key, k -> new TreeMap<>()).put(column, median * batch);
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

    /** Rows/s in millions, "-" when missing. */
    public static String rate(double r) {
        return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fM", r / 1e6);
    }
}
