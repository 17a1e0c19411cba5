package dev.mild.router;

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

    /** The same numbers restricted to the rows whose label lies in one class block (or one class). */
    public record Block(String name, int rows, double loss, double[] ratios, double oracleLoss, double[] oracleRatios) {
    }

    /**
     * @param report the whole set (see {@link Deferral.Report})
     * @param blocks per class block when labels are known: the setup's blocks, or without them one per class that
     *               occurs in the rows (so a stray label such as 1000000 adds one entry, not a million); empty
     *               without labels
     */
    public record Result(Deferral.Report report, List<Block> blocks) {
        public int rows() {
            return report.choice().length;
        }
    }

    /**
     * @param scores {@code rows x p} router scores
     * @param costs  {@code rows x p} costs
     * @param labels true classes, or null
     * @param setup  for the class blocks
     */
    public static Result of(float[] scores, double[] costs, int rows, int[] labels, ExpertSetup setup) {
        int p = setup.experts();
        Deferral.Report r = Deferral.evaluate(scores, costs, rows, p);
        List<Block> blocks = new ArrayList<>();
        if (labels != null && setup.classes() > 0) {
            int[] groupOf = setup.hasBlocks() ? ExpertSetup.classBlocks(setup.classes(), setup.blocks()) : null;
            int[] classes = setup.hasBlocks() ? null : IntStream.of(labels).limit(rows).distinct().sorted().toArray();
            int groups = setup.hasBlocks() ? setup.blocks().length : classes.length;
            int[] n = new int[groups];
            double[] loss = new double[groups];
            double[] oracle = new double[groups];
            double[][] ratios = new double[groups][p];
            double[][] oracleRatios = new double[groups][p];
            for (int i = 0; i < rows; i++) {
                int g = groupOf != null
                        ? (labels[i] < groupOf.length ? groupOf[labels[i]] : -1)
                        : Arrays.binarySearch(classes, labels[i]);
                if (g < 0) {
                    continue;
                }
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
                String name = setup.hasBlocks() ? setup.blockName(g) : "class " + classes[g];
                blocks.add(new Block(name, m, m == 0 ? 0 : loss[g] / m, ratios[g], m == 0 ? 0 : oracle[g] / m,
                        oracleRatios[g]));
            }
        }
        return new Result(r, blocks);
    }
}
