package dev.mild.cli;

import dev.mild.io.Figures;
import dev.mild.io.JsonOut;
import dev.mild.router.Evaluation;
import dev.mild.router.RhoSearch;
import dev.mild.router.Trainer;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/** Tables and JSON shared by train, eval and demo: deferral loss and per-expert shares, router vs oracle. */
final class Reports {
    private Reports() {
    }

    /** One line of a comparison table. */
    record Line(String label, double loss, double[] ratios) {
    }

    static String percent(double r) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * r);
    }

    /** Router and oracle of one evaluation as two table lines. */
    static List<Line> lines(String what, Evaluation.Result r) {
        return List.of(new Line("router (" + what + ")", r.report().meanLoss(), r.report().ratios()),
                new Line("oracle (" + what + ")", r.report().oracleLoss(), r.report().oracleRatios()));
    }

    /**
     * <pre>
     *                      deferral loss  expert1  expert2  expert3
     *   router (test)             0.5512    70.1%    19.9%    10.0%
     * </pre>
     */
    static void table(PrintStream out, List<String> experts, List<Line> lines) {
        int labelWidth = 22;
        for (Line l : lines) {
            labelWidth = Math.max(labelWidth, l.label().length() + 2);
        }
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + labelWidth + "s %13s", "", "deferral loss"));
        int[] widths = new int[experts.size()];
        for (int k = 0; k < experts.size(); k++) {
            widths[k] = Math.max(7, experts.get(k).length());
            head.append("  ").append(String.format(Locale.ROOT, "%" + widths[k] + "s", experts.get(k)));
        }
        out.println(head.toString().stripTrailing());
        String loss = Figures.pattern(13, lines.stream().mapToDouble(Line::loss).toArray());
        for (Line l : lines) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-" + labelWidth + "s " + loss, "  " + l.label(),
                    l.loss()));
            for (int k = 0; k < experts.size(); k++) {
                sb.append("  ").append(String.format(Locale.ROOT, "%" + widths[k] + "s", percent(l.ratios()[k])));
            }
            out.println(sb);
        }
    }

    /** "Always one expert (test deferral loss): e0 0.6000, e1 0.4000", the single-expert baselines. */
    static void alwaysOneExpert(PrintStream out, String what, Evaluation.Result r, List<String> experts) {
        StringBuilder sb = new StringBuilder("Always one expert (" + what + " deferral loss):");
        String loss = Figures.pattern(0, r.alwaysOneExpert());
        for (int k = 0; k < experts.size(); k++) {
            sb.append(String.format(Locale.ROOT, " %s " + loss + "%s", experts.get(k), r.alwaysOneExpert()[k],
                    k + 1 < experts.size() ? "," : ""));
        }
        out.println(sb);
    }

    /**
     * A note under a report: a stable {@code kind} for readers of {@code --json} and the sentence the text output
     * prints after "Note: ".
     */
    record Note(String kind, String text) {
        void print(PrintStream out) {
            out.println("Note: " + text);
        }

        String json() {
            return "{\"kind\": " + JsonOut.quote(kind) + ", \"text\": " + JsonOut.quote(text) + "}";
        }
    }

    /** The notes as a JSON array. */
    static String json(List<Note> notes) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < notes.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(notes.get(i).json());
        }
        return sb.append(']').toString();
    }

    /**
     * The notes on the evaluations of {@code splits} (name to result, in the order they are reported): the router
     * worse than one expert on each, one expert only, costs equal on each. Train and eval print and write the same.
     */
    static List<Note> resultNotes(List<String> experts, Map<String, Evaluation.Result> splits) {
        List<Note> notes = new ArrayList<>();
        splits.forEach((what, r) -> addIfAny(notes, worseThanOneExpert(what, r, experts)));
        addIfAny(notes, oneExpert(experts));
        splits.forEach((what, r) -> addIfAny(notes, costsAllEqual(what, r, experts)));
        return notes;
    }

    static void addIfAny(List<Note> notes, Note note) {
        if (note != null) {
            notes.add(note);
        }
    }

    /**
     * A note when the router does worse on {@code r}'s rows than sending them all to one expert: then it is not
     * worth running as it is, which the loss alone does not show a newcomer. Null when it does not.
     */
    static Note worseThanOneExpert(String what, Evaluation.Result r, List<String> experts) {
        int best = r.bestSingleExpert();
        if (r.rows() == 0 || !(r.report().meanLoss() > r.alwaysOneExpert()[best])) {
            return null;
        }
        String loss = Figures.pattern(0, r.report().meanLoss(), r.alwaysOneExpert()[best]);
        return new Note("worseThanOneExpert", String.format(Locale.ROOT, "on %s the router (" + loss + ") does worse"
                + " than always picking %s (" + loss + "): the features may not tell the experts apart, or the training"
                + " has not settled (see --epochs, --scale and --weight-decay in ./mild train --help)", what,
                r.report().meanLoss(), experts.get(best), r.alwaysOneExpert()[best]));
    }

    /**
     * A note when there is one expert only: every row goes to it whatever the router, and a table with one column
     * (a data file with a single cost column, say) passed without a word. Null when there are more.
     */
    static Note oneExpert(List<String> experts) {
        if (experts.size() != 1) {
            return null;
        }
        return new Note("oneExpert", "there is one expert only (" + experts.get(0) + "), so every row goes to it"
                + " whatever the router: routing needs two or more (a cost:<expert> column for each, or label and a"
                + " pred:<expert> column for each)");
    }

    /**
     * A note when every row of {@code r} costs the same for every expert (each expert's loss is the oracle's): then
     * every router scores alike, and a table of equal losses (all 0.0000 for cost columns of zeros, a column
     * exported by mistake) passed without a word for a trained router. Null otherwise.
     */
    static Note costsAllEqual(String what, Evaluation.Result r, List<String> experts) {
        if (r.rows() == 0 || experts.size() < 2) {
            return null;
        }
        for (double loss : r.alwaysOneExpert()) {
            // Each row's cheapest cost is at most each expert's, so equal means add up only when every row's are equal.
            if (loss != r.report().oracleLoss()) {
                return null;
            }
        }
        return new Note("costsAllEqual", String.format(Locale.ROOT, "on %s every row costs the same for every expert ("
                + Figures.pattern(0, r.report().oracleLoss()) + " on average), so any router does as well as any other:"
                + " the costs do not tell the experts apart. Check the cost columns (cost:<expert>, or label and"
                + " pred:<expert>)", what, r.report().oracleLoss()));
    }

    /**
     * A note when the final training ran out of epochs while its validation loss was still falling: the router
     * is likely undertrained, which its loss alone does not show. Null otherwise.
     */
    static Note stillImproving(Trainer.Result t) {
        if (!t.stillImproving()) {
            return null;
        }
        return new Note("stillImproving", String.format(Locale.ROOT, "the training ran all its %d epochs and the"
                + " validation deferral loss was still falling at the end (best at epoch %d): more --epochs, or a"
                + " larger --lr, may give a better router", t.maxEpochs(), t.bestEpoch()));
    }

    /** Most class blocks (or classes) {@link #blocks} prints; the JSON output has them all. */
    static final int MAX_BLOCKS_SHOWN = 30;

    /** Per class block: rows, router and oracle loss and shares (the first {@link #MAX_BLOCKS_SHOWN}). */
    static void blocks(PrintStream out, List<String> experts, List<Evaluation.Block> blocks) {
        if (blocks.isEmpty()) {
            return;
        }
        List<Line> lines = new java.util.ArrayList<>();
        for (Evaluation.Block b : blocks.subList(0, Math.min(blocks.size(), MAX_BLOCKS_SHOWN))) {
            lines.add(new Line(b.name() + ", " + b.rows() + " rows: router", b.loss(), b.ratios()));
            lines.add(new Line(b.name() + ", " + b.rows() + " rows: oracle", b.oracleLoss(), b.oracleRatios()));
        }
        table(out, experts, lines);
        if (blocks.size() > MAX_BLOCKS_SHOWN) {
            int rows = blocks.subList(MAX_BLOCKS_SHOWN, blocks.size()).stream().mapToInt(Evaluation.Block::rows).sum();
            out.printf(Locale.ROOT, "  ... and %d more (%d rows), not shown; --json lists them all%n",
                    blocks.size() - MAX_BLOCKS_SHOWN, rows);
        }
    }

    /** {"expert": share, ...} */
    static String shares(List<String> experts, double[] r) {
        StringBuilder sb = new StringBuilder("{");
        for (int k = 0; k < experts.size(); k++) {
            sb.append(k == 0 ? "" : ", ").append(JsonOut.quote(experts.get(k))).append(": ").append(JsonOut.number(r[k]));
        }
        return sb.append('}').toString();
    }

    static String json(Evaluation.Result r, List<String> experts) {
        StringBuilder sb = new StringBuilder("{");
        sb.append("\"rows\": ").append(r.rows());
        sb.append(", \"deferralLoss\": ").append(JsonOut.number(r.report().meanLoss()));
        sb.append(", \"ratios\": ").append(shares(experts, r.report().ratios()));
        sb.append(", \"oracleLoss\": ").append(JsonOut.number(r.report().oracleLoss()));
        sb.append(", \"oracleRatios\": ").append(shares(experts, r.report().oracleRatios()));
        sb.append(", \"alwaysOneExpert\": ").append(shares(experts, r.alwaysOneExpert()));
        sb.append(", \"blocks\": [");
        for (int i = 0; i < r.blocks().size(); i++) {
            Evaluation.Block b = r.blocks().get(i);
            sb.append(i == 0 ? "" : ", ").append("{\"name\": ").append(JsonOut.quote(b.name()))
                    .append(", \"rows\": ").append(b.rows())
                    .append(", \"deferralLoss\": ").append(JsonOut.number(b.loss()))
                    .append(", \"ratios\": ").append(shares(experts, b.ratios()))
                    .append(", \"oracleLoss\": ").append(JsonOut.number(b.oracleLoss()))
                    .append(", \"oracleRatios\": ").append(shares(experts, b.oracleRatios())).append('}');
        }
        return sb.append("]}").toString();
    }

    static String json(Trainer.Result t) {
        return "{\"bestEpoch\": " + t.bestEpoch() + ", \"epochsRun\": " + t.epochsRun()
                + ", \"maxEpochs\": " + t.maxEpochs() + ", \"patience\": " + t.patience()
                + ", \"stillImproving\": " + t.stillImproving()
                + ", \"trainLoss\": " + JsonOut.array(t.trainLoss()) + ", \"lossWeightScale\": "
                + JsonOut.number(t.weightScale()) + ", \"validDeferralLoss\": " + JsonOut.array(t.validLoss()) + "}";
    }

    static String list(List<String> names) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < names.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(JsonOut.quote(names.get(i)));
        }
        return sb.append(']').toString();
    }

    /**
     * What rho auto chose, in words: "mean margin 1, gamma 0", "mean margin 2 (the grid's edge), gamma 0", plus,
     * when the model trained at that point scored above the base on validation, that the base was kept.
     */
    static String searchChoice(RhoSearch.Result s) {
        return "mean margin " + fraction(s.chosen().meanMargin()) + (s.chosenAtEdge() ? " (the grid's edge)" : "")
                + ", gamma " + fraction(s.chosen().gamma())
                + (s.baseKept() ? " (the base, margins 1, kept: better on validation than the model trained there)" : "");
    }

    /**
     * The note after a rho auto search that chose the grid's smallest or largest mean margin (the best one may lie
     * beyond it), with a wider grid to try; null when it chose inside the grid.
     */
    static Note edgeNote(RhoSearch.Result s) {
        if (!s.chosenAtEdge()) {
            return null;
        }
        boolean smallest = s.chosen().meanMargin() == s.meanMargins()[0];
        RhoSearch.Point tie = s.interiorTie();
        String tieText = tie == null ? "" : String.format(Locale.ROOT, " (it ties on validation with mean margin %s,"
                + " gamma %s, inside the grid, and won by the tie rule)", fraction(tie.meanMargin()), fraction(tie.gamma()));
        return new Note("rhoAtGridEdge", String.format(Locale.ROOT, "the search chose the %s mean margin of the grid"
                + " (%s), its edge%s: a better one may lie %s it. Try a wider grid, e.g. --rho-grid %s",
                smallest ? "smallest" : "largest", fraction(s.chosen().meanMargin()), tieText,
                smallest ? "below" : "above", decimals(s.widerMeanMargins())));
    }

    /**
     * Numbers as --rho-grid takes them: plain decimals ("0.125", "4"), comma-separated; far from 1 in the short
     * scientific form ({@link #scientific}), not "0.0000000000000000000025".
     */
    static String decimals(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(farFromOne(v[i]) ? scientific(v[i])
                    : BigDecimal.valueOf(v[i]).stripTrailingZeros().toPlainString());
        }
        return sb.toString();
    }

    /**
     * "1/8", "1/4", "1/2", "3/4", "1", "2" for the grid's mean margins and tilts: a value strictly between 0 and 1
     * that is a fraction with a denominator up to 64 is written as the reduced fraction, like the README's grid.
     * A value far from 1 (below 1e-3, or 1e6 and above) is written as "1e-20", "1e+20" ({@link #scientific}):
     * 1e20 was cast to a long ("9223372036854775807") and 1e-20 rounded to "0/2".
     */
    static String fraction(double v) {
        if (farFromOne(v)) {
            return scientific(v);
        }
        if (v < 1 && v > 0) {
            for (long q = 2; q <= 64; q++) { // the first denominator that fits gives the reduced fraction
                long n = Math.round(v * q);
                if (n > 0 && Math.abs(v * q - n) < 1e-9) {
                    return n + "/" + q;
                }
            }
        }
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static boolean farFromOne(double v) {
        return v != 0 && Double.isFinite(v) && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6);
    }

    /** "1e+20", "2.5e-21": up to 6 significant digits, without trailing zeros (as --rho-grid reads it too). */
    static String scientific(double v) {
        String[] parts = String.format(Locale.ROOT, "%.5e", v).split("e");
        String mantissa = parts[0].contains(".") ? parts[0].replaceAll("0+$", "").replaceAll("\\.$", "") : parts[0];
        String exponent = parts[1].replaceFirst("^([+-])0+(?=\\d)", "$1");
        return mantissa + "e" + exponent;
    }

    static String rho(double[] rho) {
        StringBuilder sb = new StringBuilder("[");
        for (int k = 0; k < rho.length; k++) {
            sb.append(k == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4g", rho[k]));
        }
        return sb.append(']').toString();
    }
}
