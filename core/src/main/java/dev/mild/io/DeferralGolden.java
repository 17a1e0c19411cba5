package dev.mild.io;

import dev.mild.InvalidInputException;
import dev.mild.defer.Deferral;
import dev.mild.defer.Rewards;
import dev.mild.defer.Rho;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The deferral side of the golden files ({@code deferral-cases.json} format), checked against this project's
 * float64 code: the router's deferral loss and choices (with its tie rule), the rewards, and theory rho.
 * <pre>
 * {"deferralLoss": {"scores": [[..p..], ...], "costs": [[..p..], ...], "choice": [..B..], "rowLoss": [..B..],
 *                   "meanLoss": x},
 *  "rewards":      {"costs": [[..p..], ...], "sum-others": [[..p..], ...], "one-minus": ..., "realizable": ...},
 *  "theoryRho":    {"labels": [..n..], "norms": [..n..], "p": p, "rhoBar": x, "rho": [..p..]}}
 * </pre>
 * Each section is optional, at least one must be present; every shape is checked, errors name the section
 * and field.
 */
public final class DeferralGolden {
    private DeferralGolden() {
    }

    /** Largest absolute difference accepted: these are float64 computations of a few operations per value. */
    public static final double TOLERANCE = 1e-12;

    private static final List<String> SECTIONS = List.of("deferralLoss", "rewards", "theoryRho");

    /**
     * The outcome of one section (rewards: one per rule).
     *
     * @param caseName   {@code deferralLoss}, {@code theoryRho}, or {@code rewards/<rule>}
     * @param maxAbsErr  the largest {@code |got - expected|} over the section's values
     * @param mismatches values that must match exactly and do not (the router's choices), else 0
     * @param ok         whether there is no mismatch and {@code maxAbsErr} is at most {@link #TOLERANCE}
     */
    public record Result(String caseName, double maxAbsErr, int mismatches, boolean ok) {
        /**
         * One line of JSON, as {@code mild golden} prints it.
         *
         * @return a JSON object with the fields {@code case}, {@code maxAbsErr}, {@code mismatches} and {@code ok},
         *         without a line break
         */
        public String toJson() {
            return "{\"case\": " + JsonOut.quote(caseName) + ", \"maxAbsErr\": " + JsonOut.number(maxAbsErr)
                    + ", \"mismatches\": " + mismatches + ", \"ok\": " + ok + "}";
        }
    }

    /**
     * Whether a parsed document has this format's shape.
     *
     * @param root a document as {@link Json#parse} returns it
     * @return {@code true} for an object with at least one of the sections above (the sections are not checked)
     */
    public static boolean isDeferralFormat(Object root) {
        return root instanceof Map<?, ?> map && SECTIONS.stream().anyMatch(map::containsKey);
    }

    /**
     * Checks every section of a parsed document against this project's float64 code.
     *
     * @param root   the document, as {@link Json#parse} returns it
     * @param source names the document in error messages
     * @return the outcomes: {@code deferralLoss}, then one per rule of {@code rewards}, then {@code theoryRho}, for
     *         the sections present
     * @throws InvalidInputException if the document has none of the sections, a key that is not a section, or a
     *                               section that is malformed (naming the section and field)
     */
    public static List<Result> check(Object root, String source) {
        if (!isDeferralFormat(root)) {
            throw new InvalidInputException(source + ": expected an object with a \"deferralLoss\", \"rewards\" or"
                    + " \"theoryRho\" section");
        }
        Map<?, ?> map = (Map<?, ?>) root;
        for (Object key : map.keySet()) {
            // Skipped in silence, a misspelt section ("theoryrho") went unchecked while the rest passed (exit 0),
            // and "cases" (loss cases in the same file) were never run.
            if (!SECTIONS.contains(String.valueOf(key))) {
                throw new InvalidInputException(source + ": \"" + key + "\" is not a section of a deferral-cases file"
                        + " (sections: " + String.join(", ", SECTIONS) + "); it would go unchecked"
                        + (key.equals("cases") ? ": give loss cases in a file of their own" : ""));
            }
        }
        List<Result> out = new ArrayList<>();
        if (map.containsKey("deferralLoss")) {
            out.add(deferralLoss(section(map, "deferralLoss", source), source + ": deferralLoss"));
        }
        if (map.containsKey("rewards")) {
            out.addAll(rewards(section(map, "rewards", source), source + ": rewards"));
        }
        if (map.containsKey("theoryRho")) {
            out.add(theoryRho(section(map, "theoryRho", source), source + ": theoryRho"));
        }
        return out;
    }

    private static Result deferralLoss(Map<?, ?> m, String where) {
        int p = rowLength(m.get("scores"), where, "scores");
        double[] scores = GoldenCase.matrix(m.get("scores"), where, "scores", p, " (as row 0 has)");
        int rows = scores.length / p;
        double[] costs = GoldenCase.matrix(m.get("costs"), where, "costs", p,
                " (one per expert, as \"scores\" rows have)");
        if (costs.length != scores.length) {
            throw new InvalidInputException(where + ": costs has " + costs.length / p + " rows, scores has " + rows);
        }
        int[] choice = integers(GoldenCase.vector(m.get("choice"), where, "choice", rows), where, "choice");
        for (int i = 0; i < rows; i++) {
            // Counted as a mismatch it passed for a failed check (exit 1), not a bad file.
            if (choice[i] >= p) {
                throw new InvalidInputException(where + ": \"choice\"[" + i + "] is " + choice[i] + ", outside the"
                        + " experts 0.." + (p - 1));
            }
        }
        double[] rowLoss = GoldenCase.vector(m.get("rowLoss"), where, "rowLoss", rows);
        double meanLoss = GoldenCase.number(m.get("meanLoss"), where, "meanLoss");
        // A router's scores are float32.
        float[] scores32 = GoldenCase.toFloat32(scores, p, where, "scores");
        Deferral.Report r;
        try {
            r = Deferral.evaluate(scores32, costs, rows, p);
        } catch (InvalidInputException ex) {
            throw new InvalidInputException(where + ": " + ex.getMessage(), ex);
        }
        int mismatches = 0;
        for (int i = 0; i < rows; i++) {
            if (r.choice()[i] != choice[i]) {
                mismatches++;
            }
        }
        double err = Math.max(GoldenCheck.maxAbsDiff(r.rowLoss(), rowLoss), Math.abs(r.meanLoss() - meanLoss));
        return new Result("deferralLoss", err, mismatches, mismatches == 0 && err <= TOLERANCE);
    }

    private static List<Result> rewards(Map<?, ?> m, String where) {
        int p = rowLength(m.get("costs"), where, "costs");
        double[] costs = GoldenCase.matrix(m.get("costs"), where, "costs", p, " (as row 0 has)");
        int rows = costs.length / p;
        List<Result> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (key.equals("costs")) {
                continue;
            }
            Rewards rule;
            try {
                rule = Rewards.byName(key);
            } catch (InvalidInputException ex) {
                throw new InvalidInputException(where + ": " + ex.getMessage(), ex);
            }
            double[] expected = GoldenCase.matrix(e.getValue(), where, key, p,
                    " (one per expert, as \"costs\" rows have)");
            if (expected.length != costs.length) {
                throw new InvalidInputException(where + ": \"" + key + "\" has " + expected.length / p
                        + " rows, costs has " + rows);
            }
            double[] got = new double[costs.length];
            try {
                rule.apply(costs, rows, p, got);
            } catch (InvalidInputException ex) {
                throw new InvalidInputException(where + ": " + ex.getMessage(), ex);
            }
            double err = GoldenCheck.maxAbsDiff(got, expected);
            out.add(new Result("rewards/" + key, err, 0, err <= TOLERANCE));
        }
        if (out.isEmpty()) {
            // Costs alone checked nothing, and as the file's only section that passed with exit 0.
            throw new InvalidInputException(where + ": costs but no expected weights; give at least one rule's ("
                    + Rewards.labels() + ") rows of weights");
        }
        return out;
    }

    private static Result theoryRho(Map<?, ?> m, String where) {
        double[] norms = GoldenCase.vector(m.get("norms"), where, "norms", -1);
        int[] labels = integers(GoldenCase.vector(m.get("labels"), where, "labels", -1), where, "labels");
        if (labels.length != norms.length) {
            // Either may be the wrong one: "labels" was blamed for a "norms" one value short.
            throw new InvalidInputException(where + ": \"labels\" has " + labels.length + " values, \"norms\" has "
                    + norms.length + " (one of each per row)");
        }
        int p = integers(new double[] {GoldenCase.number(m.get("p"), where, "p")}, where, "p")[0];
        double rhoBar = GoldenCase.number(m.get("rhoBar"), where, "rhoBar");
        double[] expected = GoldenCase.vector(m.get("rho"), where, "rho", p);
        double[] got;
        try {
            got = Rho.theory(labels, norms, p, rhoBar);
        } catch (InvalidInputException ex) {
            throw new InvalidInputException(where + ": " + ex.getMessage(), ex);
        }
        double err = GoldenCheck.maxAbsDiff(got, expected);
        return new Result("theoryRho", err, 0, err <= TOLERANCE);
    }

    private static Map<?, ?> section(Map<?, ?> root, String name, String source) {
        if (!(root.get(name) instanceof Map<?, ?> m)) {
            throw new InvalidInputException(source + ": \"" + name + "\" must be an object, got "
                    + GoldenCase.describe(root.get(name)));
        }
        return m;
    }

    /** Length of the first row of a matrix field (every row is then checked to have it). */
    private static int rowLength(Object o, String where, String field) {
        if (!(o instanceof List<?> rows) || rows.isEmpty() || !(rows.get(0) instanceof List<?> first) || first.isEmpty()) {
            throw new InvalidInputException(where + ": \"" + field + "\" must be a non-empty array of non-empty rows");
        }
        return first.size();
    }

    private static int[] integers(double[] v, String where, String field) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] != Math.rint(v[i]) || v[i] < 0 || v[i] > Integer.MAX_VALUE) {
                throw new InvalidInputException(where + ": \"" + field + "\"" + (v.length > 1 ? "[" + i + "]" : "")
                        + " must be a whole number >= 0, got " + v[i]);
            }
            out[i] = (int) v[i];
        }
        return out;
    }
}
