package dev.mild.router;

import dev.mild.defer.Deferral;
import java.util.ArrayList;
import java.util.List;

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
     * @param blocks per class block when labels are known: the setup's blocks, or one per class without them;
     *               empty without labels
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
            int groups;
            int[] groupOf;
            if (setup.hasBlocks()) {
                groupOf = ExpertSetup.classBlocks(setup.classes(), setup.blocks());
                groups = setup.blocks().length;
            } else {
                groups = setup.classes();
                groupOf = new int[groups];
                for (int c = 0; c < groups; c++) {
                    groupOf[c] = c;
                }
            }
            for (int g = 0; g < groups; g++) {
                int n = 0;
                double loss = 0;
                double oracle = 0;
                double[] ratios = new double[p];
                double[] oracleRatios = new double[p];
                for (int i = 0; i < rows; i++) {
                    if (labels[i] < groupOf.length && groupOf[labels[i]] == g) {
                        n++;
                        loss += r.rowLoss()[i];
                        oracle += costs[i * p + r.oracleChoice()[i]];
                        ratios[r.choice()[i]]++;
                        oracleRatios[r.oracleChoice()[i]]++;
                    }
                }
                for (int k = 0; k < p; k++) {
                    ratios[k] = n == 0 ? 0 : ratios[k] / n;
                    oracleRatios[k] = n == 0 ? 0 : oracleRatios[k] / n;
                }
                String name = setup.hasBlocks() ? setup.blockName(g) : "class " + g;
                blocks.add(new Block(name, n, n == 0 ? 0 : loss / n, ratios, n == 0 ? 0 : oracle / n, oracleRatios));
            }
        }
        return new Result(r, blocks);
    }
}
