package dev.mild.data;

import java.util.List;

/**
 * A table read from a file (CSV or IDX) or generated: feature rows, and what is known about the experts.
 *
 * <ul>
 *   <li>{@code costs}: per-expert cost columns ({@code cost:<expert>}), {@code rows x p}, or null;</li>
 *   <li>{@code predictions}: per-expert predicted labels ({@code pred:<expert>}), {@code rows x p}, or null;</li>
 *   <li>{@code labels}: the true class of each row ({@code label}), or null.</li>
 * </ul>
 * At most one of {@code costs} and {@code predictions} is present; {@code experts} names their columns.
 *
 * @param source       what to call the data in messages (the file name)
 * @param featureNames the {@code d} feature column names
 * @param features     {@code rows x d}, finite
 * @param lines        the source line of each row (1-based, the header is line 1), for messages; null when
 *                     rows are not lines (IDX, generated)
 */
public record Dataset(String source, List<String> featureNames, float[] features, int rows, int[] labels,
                      List<String> experts, double[] costs, int[] predictions, int[] lines) {

    public Dataset {
        featureNames = List.copyOf(featureNames);
        experts = List.copyOf(experts);
    }

    public int d() {
        return featureNames.size();
    }

    public boolean hasLabels() {
        return labels != null;
    }

    /** Where row {@code i} came from, for messages: "file, line 17" or "file, row 16". */
    public String where(int i) {
        return lines != null ? source + ", line " + lines[i] : source + ", row " + i;
    }

    /** Largest label + 1, or 0 without labels. */
    public int labelCount() {
        int max = -1;
        if (labels != null) {
            for (int y : labels) {
                max = Math.max(max, y);
            }
        }
        return max + 1;
    }
}
