package dev.mild.router;

import dev.mild.RecordText;
import dev.mild.defer.Deferral;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A router's deferral loss on a set of rows, next to the oracle's, overall and per class block: the share of
 * rows each expert gets ("ratio of expert deferral") shows whether the router collapses onto the majority
 * expert, and the per-block view shows where (rows of block k are the ones expert k is built for).
 */
public final class Evaluation {
    private Evaluation() {
    }

    /**
     * The same numbers restricted to the rows whose label lies in one class block (or one class).
     *
     * @param name         the block's name for reports ("class 3", a block's name, "... not in training")
     * @param rows         number of rows in the block
     * @param loss         the router's mean cost over those rows; 0 when {@code rows == 0}
     * @param ratios       per expert, the share of those rows the router sends to it; all 0 when {@code rows == 0}
     * @param oracleLoss   the oracle's mean cost over those rows; 0 when {@code rows == 0}
     * @param oracleRatios per expert, the share of those rows the oracle sends to it
     */
    public record Block(String name, int rows, double loss, double[] ratios, double oracleLoss, double[] oracleRatios) {
        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }

    /**
     * A router's evaluation on a set of rows.
     *
     * @param report the whole set (see {@link Deferral.Report})
     * @param blocks per class block when labels are known: the setup's blocks (then one for all the classes the
     *               setup never saw in training, if any occur), or without blocks one per class that occurs in the
     *               rows (so a stray label such as 1000000 adds one entry, not a million), classes not seen in
     *               training marked so; empty without labels
     * @param alwaysOneExpert per expert k, the deferral loss of sending every row to k (its mean cost): the
     *               baseline a router has to beat to be worth running
     */
    public record Result(Deferral.Report report, List<Block> blocks, double[] alwaysOneExpert) {
        /**
         * The number of rows evaluated.
         *
         * @return the length of the report's choices
         */
        public int rows() {
            return report.choice().length;
        }

        /**
         * The best single expert.
         *
         * @return the expert with the lowest {@link #alwaysOneExpert} loss (the first of equals); 0 when all are
         *         equal, as with no rows
         */
        public int bestSingleExpert() {
            int best = 0;
            for (int k = 1; k < alwaysOneExpert.length; k++) {
                if (alwaysOneExpert[k] < alwaysOneExpert[best]) {
                    best = k;
                }
            }
            return best;
        }

        /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
        @Override
        public String toString() {
            return RecordText.of(this);
        }
    }

    /**
     * Evaluates a router's scores: its choices and the oracle's ({@link Deferral#evaluate}), per class block when
     * labels are given, and the loss of always choosing each expert.
     *
     * @param scores {@code rows x p} router scores, finite. Not modified.
     * @param costs  {@code rows x p} costs, finite. Not modified.
     * @param rows   number of rows, {@code >= 0}
     * @param labels true classes, at least {@code rows} of them (class indexes {@code >= 0}), or null. Not
     *               modified.
     * @param setup  the experts: their number {@code p}, and the classes and class blocks for the per-block view
     *               (none when the setup has no classes)
     * @return the whole set's report, the blocks (empty without labels), and the mean cost of each expert (all 0
     *         when {@code rows == 0})
     * @throws dev.mild.InvalidInputException as {@link Deferral#evaluate}, or when {@code setup} is null or there
     *                                        are fewer labels than rows
     */
    public static Result of(float[] scores, double[] costs, int rows, int[] labels, ExpertSetup setup) {
        dev.mild.loss.Checks.required("expert setup", setup);
        if (labels != null && rows > 0 && labels.length < rows) {
            // An ArrayIndexOutOfBoundsException part-way before.
            throw new dev.mild.InvalidInputException("labels: " + labels.length + " for " + rows + " rows (give one"
                    + " label per row, or none)");
        }
        int p = setup.experts();
        Deferral.Report r = Deferral.evaluate(scores, costs, rows, p);
        List<Block> blocks = new ArrayList<>();
        if (labels != null && setup.classes() > 0) {
            int seenClasses = setup.classes();
            int[] groupOf = setup.hasBlocks() ? ExpertSetup.classBlocks(seenClasses, setup.blocks()) : null;
            int[] classes = IntStream.of(labels).limit(rows).distinct().sorted().toArray();
            int[] unseen = IntStream.of(classes).filter(c -> c >= seenClasses).toArray();
            List<String> names = new ArrayList<>();
            if (setup.hasBlocks()) {
                for (int k = 0; k < setup.blocks().length; k++) {
                    names.add(setup.blockName(k));
                }
                if (unseen.length > 0) { // one entry for all the classes the setup never saw, after the blocks
                    names.add(unseen.length == 1 ? "class " + unseen[0] + " (not in training)"
                            : unseen.length + " classes not in training (" + listed(unseen) + ")");
                }
            } else {
                for (int c : classes) {
                    names.add("class " + c + (c >= seenClasses ? " (not in training)" : ""));
                }
            }
            int groups = names.size();
            int[] n = new int[groups];
            double[] loss = new double[groups];
            double[] oracle = new double[groups];
            double[][] ratios = new double[groups][p];
            double[][] oracleRatios = new double[groups][p];
            for (int i = 0; i < rows; i++) {
                int y = labels[i];
                int g = groupOf == null ? Arrays.binarySearch(classes, y)
                        : y < seenClasses ? groupOf[y] : setup.blocks().length;
                n[g]++;
                loss[g] += r.rowLoss()[i];
                oracle[g] += costs[i * p + r.oracleChoice()[i]];
                ratios[g][r.choice()[i]]++;
                oracleRatios[g][r.oracleChoice()[i]]++;
            }
            for (int g = 0; g < groups; g++) {
                int m = n[g];
                for (int k = 0; k < p; k++) {
                    ratios[g][k] = m == 0 ? 0 : ratios[g][k] / m;
                    oracleRatios[g][k] = m == 0 ? 0 : oracleRatios[g][k] / m;
                }
                blocks.add(new Block(names.get(g), m, m == 0 ? 0 : loss[g] / m, ratios[g], m == 0 ? 0 : oracle[g] / m,
                        oracleRatios[g]));
            }
        }
        double[] always = new double[p];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < p; k++) {
                always[k] += costs[i * p + k];
            }
        }
        for (int k = 0; k < p; k++) {
            always[k] = rows == 0 ? 0 : always[k] / rows;
        }
        return new Result(r, blocks, always);
    }

    /** The first few classes, comma-separated ("3, 7, 12, ..." beyond five): a list, never read as a range. */
    private static String listed(int[] classes) {
        String head = String.join(", ", IntStream.of(classes).limit(5).mapToObj(Integer::toString).toList());
        return classes.length > 5 ? head + ", ..." : head;
    }
}
