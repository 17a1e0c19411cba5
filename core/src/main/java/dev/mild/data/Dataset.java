package dev.mild.data;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
 * @param features     {@code rows x d}, finite, each at most {@link CsvReader#FEATURE_LIMIT} in magnitude. Not copied.
 * @param rows         number of rows, {@code >= 0}
 * @param labels       the true class of each row (a class index {@code 0..}{@link CsvReader#MAX_CLASS}), or null.
 *                     Not copied.
 * @param experts      the {@code p} expert names, in column order; empty when there are neither costs nor
 *                     predictions
 * @param costs        {@code rows x p} costs, each {@code >= 0} and at most {@link Float#MAX_VALUE}, or null.
 *                     Not copied.
 * @param predictions  {@code rows x p} predicted class indexes, or null. Not copied.
 * @param lines        the source line of each row (1-based, the header is line 1), for messages; null when
 *                     rows are not lines (IDX, generated)
 * @param labelsFile   the IDX labels file the labels were read from (rows are then the images of {@code source}),
 *                     or null (labels from a CSV label column, or none)
 * @param labelColumn  the CSV column of the labels (1-based), for messages; 0 when unknown or not a CSV column
 * @param featureColumns the CSV column (1-based) of each feature, for messages; null when unknown
 * @param expertColumns  the CSV column (1-based) of each expert's {@code cost:} or {@code pred:} column, for
 *                       messages; null when unknown
 */
public record Dataset(String source, List<String> featureNames, float[] features, int rows, int[] labels,
                      List<String> experts, double[] costs, int[] predictions, int[] lines, String labelsFile,
                      int labelColumn, int[] featureColumns, int[] expertColumns) {

    /**
     * Checks what the readers check, for data made in code (a service that trains from its own logs): shapes that
     * agree, names given once, finite features within {@link CsvReader#FEATURE_LIMIT}, costs finite, {@code >= 0}
     * and within float32, labels and predictions class indexes. A hand-made set with costs one row short failed
     * deep in training with an ArrayIndexOutOfBoundsException, and negative costs trained without an error.
     *
     * @throws InvalidInputException naming the source, the row and the column
     */
    public Dataset {
        if (source == null) {
            throw new InvalidInputException("a data set needs a source (its name in messages), got null");
        }
        featureNames = names(source, "featureNames", featureNames);
        experts = names(source, "experts", experts);
        int d = featureNames.size();
        if (d < 1) {
            throw new InvalidInputException(source + ": no feature column (featureNames is empty)");
        }
        if (rows < 0) {
            throw new InvalidInputException(source + ": rows must be >= 0, got " + rows);
        }
        if (costs != null && predictions != null) {
            throw new InvalidInputException(source + ": both costs and predictions given; give one of them");
        }
        int p = experts.size();
        if ((costs != null || predictions != null) != (p > 0)) {
            throw new InvalidInputException(source + ": " + (p > 0 ? p + " expert names but neither costs nor"
                    + " predictions" : "costs or predictions but no expert names") + "; experts names their columns");
        }
        length(source, "features", features == null ? -1 : features.length, rows, d, d + " features");
        length(source, "costs", costs == null ? 0 : costs.length, costs == null ? 0 : rows, p, p + " experts");
        length(source, "predictions", predictions == null ? 0 : predictions.length, predictions == null ? 0 : rows, p,
                p + " experts");
        length(source, "labels", labels == null ? 0 : labels.length, labels == null ? 0 : rows, 1, "one label");
        length(source, "lines", lines == null ? 0 : lines.length, lines == null ? 0 : rows, 1, "one line number");
        if (featureColumns != null && featureColumns.length != d || expertColumns != null && expertColumns.length != p) {
            throw new InvalidInputException(source + ": " + (featureColumns != null && featureColumns.length != d
                    ? "featureColumns has " + featureColumns.length + " values for " + d + " features"
                    : "expertColumns has " + expertColumns.length + " values for " + p + " experts"));
        }
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < d; c++) {
                float v = features[i * d + c];
                if (!(Math.abs(v) <= CsvReader.FEATURE_LIMIT)) {
                    throw new InvalidInputException(where(source, lines, labelsFile, i) + ", feature " + featureNames.get(c)
                            + ": " + v + (Float.isFinite(v) ? " is too large in magnitude (at most "
                            + CsvReader.FEATURE_LIMIT + ", so that standardizing it cannot overflow float32)"
                            : " is not finite"));
                }
            }
            for (int k = 0; costs != null && k < p; k++) {
                double v = costs[i * p + k];
                if (!(v >= 0 && v <= Float.MAX_VALUE)) {
                    throw new InvalidInputException(where(source, lines, labelsFile, i) + ", cost of expert "
                            + experts.get(k) + ": " + v + " is not allowed (costs must be >= 0 and at most "
                            + Float.MAX_VALUE + ", the float32 range training computes in)");
                }
            }
            for (int k = 0; predictions != null && k < p; k++) {
                if (!isClass(predictions[i * p + k])) {
                    throw notAClass(where(source, lines, labelsFile, i) + ", prediction of expert " + experts.get(k),
                            predictions[i * p + k]);
                }
            }
            if (labels != null && !isClass(labels[i])) {
                throw notAClass(where(source, lines, labelsFile, i) + ", label", labels[i]);
            }
        }
    }

    private static List<String> names(String source, String what, List<String> names) {
        if (names == null) {
            throw new InvalidInputException(source + ": " + what + " is null"
                    + (what.equals("experts") ? " (an empty list when the costs come from labels)" : ""));
        }
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (name == null) {
                throw new InvalidInputException(source + ": " + what + " has a null name");
            }
            if (!seen.add(name)) {
                throw new InvalidInputException(source + ": " + what + ": \"" + name + "\" appears twice");
            }
        }
        return List.copyOf(names);
    }

    private static void length(String source, String what, int length, int rows, int perRow, String per) {
        long needed = (long) rows * perRow;
        if (length != needed) {
            throw new InvalidInputException(source + ": " + what + (length < 0 ? " is null" : " has " + length
                    + " values") + "; " + rows + " rows of " + per + " need " + needed);
        }
    }

    private static boolean isClass(int v) {
        return v >= 0 && v <= CsvReader.MAX_CLASS;
    }

    private static InvalidInputException notAClass(String where, int v) {
        return new InvalidInputException(where + ": " + v + " is not a class index (a whole number 0.."
                + CsvReader.MAX_CLASS + ")");
    }

    /**
     * A data set whose labels, if any, are not from an IDX labels file: no labels file, label column unknown
     * (0), feature and expert columns unknown.
     *
     * @param source       what to call the data in messages
     * @param featureNames the feature column names
     * @param features     {@code rows x d} features
     * @param rows         number of rows
     * @param labels       true classes, or null
     * @param experts      expert names (empty for none)
     * @param costs        {@code rows x p} costs, or null
     * @param predictions  {@code rows x p} predicted classes, or null
     * @param lines        source line of each row, or null
     * @throws InvalidInputException as the canonical constructor
     */
    public Dataset(String source, List<String> featureNames, float[] features, int rows, int[] labels,
                   List<String> experts, double[] costs, int[] predictions, int[] lines) {
        this(source, featureNames, features, rows, labels, experts, costs, predictions, lines, null, 0);
    }

    /**
     * A data set whose feature and expert columns' places in a file are not known.
     *
     * @param source       what to call the data in messages
     * @param featureNames the feature column names
     * @param features     {@code rows x d} features
     * @param rows         number of rows
     * @param labels       true classes, or null
     * @param experts      expert names (empty for none)
     * @param costs        {@code rows x p} costs, or null
     * @param predictions  {@code rows x p} predicted classes, or null
     * @param lines        source line of each row, or null
     * @param labelsFile   the IDX labels file, or null
     * @param labelColumn  the CSV label column (1-based), or 0
     * @throws InvalidInputException as the canonical constructor
     */
    public Dataset(String source, List<String> featureNames, float[] features, int rows, int[] labels,
                   List<String> experts, double[] costs, int[] predictions, int[] lines, String labelsFile,
                   int labelColumn) {
        this(source, featureNames, features, rows, labels, experts, costs, predictions, lines, labelsFile, labelColumn,
                null, null);
    }

    /**
     * The number of features.
     *
     * @return {@code d}, the size of {@link #featureNames}
     */
    public int d() {
        return featureNames.size();
    }

    /**
     * Whether the rows have true classes.
     *
     * @return {@code true} when {@link #labels} is not null
     */
    public boolean hasLabels() {
        return labels != null;
    }

    /**
     * Where row {@code i} (0-based) came from, for messages: "file.csv, line 17" (a file line, the header
     * counted), "images-idx3-ubyte, image 16 (1-based)" or "source, row 16 (1-based)".
     *
     * @param i the row, {@code 0..rows-1}
     * @return the row's place, as above
     */
    public String where(int i) {
        return where(source, lines, labelsFile, i);
    }

    private static String where(String source, int[] lines, String labelsFile, int i) {
        if (lines != null) {
            return source + ", line " + lines[i];
        }
        return source + (labelsFile != null ? ", image " : ", row ") + (i + 1) + " (1-based)";
    }

    /**
     * Where the label of row {@code i} came from: "file.csv, line 17, column 190 (label)" or "labels-idx1-ubyte,
     * label 16 (1-based, for image 16)".
     *
     * @param i the row, {@code 0..rows-1}
     * @return the label's place, as above
     */
    public String labelWhere(int i) {
        if (labelsFile != null) {
            return labelsFile + ", label " + (i + 1) + " (1-based, for image " + (i + 1) + ")";
        }
        return where(i) + ", column " + (labelColumn > 0 ? labelColumn + " (" + CsvReader.LABEL + ")" : CsvReader.LABEL);
    }

    /**
     * Feature {@code c}'s column, for messages: "column 4 (x1)" as the CSV reader names it, or "column \"x1\"".
     *
     * @param c the feature, {@code 0..d-1}
     * @return the column's name, as above
     */
    public String featureColumn(int c) {
        String name = featureNames.get(c);
        return featureColumns == null ? "column \"" + name + "\"" : "column " + featureColumns[c] + " (" + name + ")";
    }

    /**
     * Expert {@code k}'s cost or prediction column, for messages: "column 5 (cost:b)", or "column cost:b".
     *
     * @param k the expert, {@code 0..p-1}
     * @return the column's name, as above
     */
    public String expertColumn(int k) {
        String name = (costs != null ? CsvReader.COST_PREFIX : CsvReader.PRED_PREFIX) + experts.get(k);
        return expertColumns == null ? "column " + name : "column " + expertColumns[k] + " (" + name + ")";
    }

    /**
     * The number of classes the labels imply.
     *
     * @return the largest label + 1, or 0 without labels (or without rows)
     */
    public int labelCount() {
        int max = -1;
        if (labels != null) {
            for (int y : labels) {
                max = Math.max(max, y);
            }
        }
        return max + 1;
    }

    /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
    @Override
    public String toString() {
        return RecordText.of(this);
    }
}
