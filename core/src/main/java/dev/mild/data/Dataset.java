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
 * @param labelsFile   the IDX labels file the labels were read from (rows are then the images of {@code source}),
 *                     or null (labels from a CSV label column, or none)
 * @param labelColumn  the CSV column of the labels (1-based), for messages; 0 when unknown or not a CSV column
 */
public record Dataset(String source, List<String> featureNames, float[] features, int rows, int[] labels,
                      List<String> experts, double[] costs, int[] predictions, int[] lines, String labelsFile,
                      int labelColumn) {

    public Dataset {
        featureNames = List.copyOf(featureNames);
        experts = List.copyOf(experts);
    }

    /** A data set whose labels, if any, are not from an IDX labels file. */
    public Dataset(String source, List<String> featureNames, float[] features, int rows, int[] labels,
                   List<String> experts, double[] costs, int[] predictions, int[] lines) {
        this(source, featureNames, features, rows, labels, experts, costs, predictions, lines, null, 0);
    }

    public int d() {
        return featureNames.size();
    }

    public boolean hasLabels() {
        return labels != null;
    }

    /**
     * Where row {@code i} (0-based) came from, for messages: "file.csv, line 17" (a file line, the header
     * counted), "images-idx3-ubyte, image 16 (1-based)" or "source, row 16 (1-based)".
     */
    public String where(int i) {
        if (lines != null) {
            return source + ", line " + lines[i];
        }
        return source + (labelsFile != null ? ", image " : ", row ") + (i + 1) + " (1-based)";
    }

    /**
     * Where the label of row {@code i} came from: "file.csv, line 17, column 190 (label)" or "labels-idx1-ubyte,
     * label 16 (1-based, for image 16)".
     */
    public String labelWhere(int i) {
        if (labelsFile != null) {
            return labelsFile + ", label " + (i + 1) + " (1-based, for image " + (i + 1) + ")";
        }
        return where(i) + ", column " + (labelColumn > 0 ? labelColumn + " (" + CsvReader.LABEL + ")" : CsvReader.LABEL);
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
