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
 */
public final class Report {
    private Report() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Report JMH_RESULTS.json");
            System.exit(2);
        }
        Object parsed = Json.parse(Files.readString(Path.of(args[0])), args[0]);
        double expsPerSecond = Double.NaN;
        double logsPerSecond = Double.NaN;
        double apiExpsPerSecond = Double.NaN;
        double apiLogsPerSecond = Double.NaN;
        // key "experts/equalRho" -> backend -> rows/s
        Map<String, Map<String, Double>> loss = new TreeMap<>((x, y) -> {
            String[] a = x.split("/");
            String[] b = y.split("/");
            int c = Integer.compare(Integer.parseInt(a[0]), Integer.parseInt(b[0]));
            return c != 0 ? c : a[1].compareTo(b[1]);
        });
        for (Object o : (List<?>) parsed) {
            Map<?, ?> r = (Map<?, ?>) o;
            String name = (String) r.get("benchmark");
            double median = median((Map<?, ?>) r.get("primaryMetric"));
            Map<?, ?> params = (Map<?, ?>) r.get("params");
            if (name.endsWith("ExpRooflineBenchmark.exp")) {
                expsPerSecond = median * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.log")) {
                logsPerSecond = median * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.vectorApiExp")) {
                apiExpsPerSecond = median * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("ExpRooflineBenchmark.vectorApiLog")) {
                apiLogsPerSecond = median * ExpRooflineBenchmark.ELEMENTS;
            } else if (name.endsWith("LossThroughputBenchmark.lossAndGradient")) {
                int batch = Integer.parseInt((String) params.get("batch"));
                String key = params.get("experts") + "/" + ("true".equals(params.get("equalRho")) ? "equal" : "distinct");
                loss.computeIfAbsent(key, k -> new TreeMap<>()).put((String) params.get("backend"), median * batch);
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
            int groups = key[1].equals("equal") ? 1 : p;
            double scalar = e.getValue().getOrDefault("scalar", Double.NaN);
            double simd = e.getValue().getOrDefault("simd", Double.NaN);
            double exps = (double) p * groups;
            double roof = expsPerSecond / exps;
            double roofLogs = 1.0 / (exps / expsPerSecond + groups / logsPerSecond);
            System.out.printf(Locale.ROOT, "| %d | %s | %s | %s | %.1fx | %.0f | %s | %.0f%% | %.0f%% |%n", p, key[1],
                    rate(scalar), rate(simd), simd / scalar, exps, rate(roof), 100 * simd / roof, 100 * simd / roofLogs);
        }
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

    static String rate(double r) {
        return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fM", r / 1e6);
    }
}
