package dev.mild.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.router.RhoSearch;
import dev.mild.router.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The note after the {@code --rho auto} grid when the search chose its edge, on grids written out by hand (so
 * that ties are exact): an edge winner that ties with a point inside the grid won by the tie rule (smaller gamma
 * first), not by a lower validation loss, and the note says so. MMLU's default grid did this: mean margin 2 and
 * gamma 0 won with 0.2152, as did mean margin 1 and gamma 1/4.
 */
class EdgeNoteTest {
    static final double[] MEANS = {0.5, 1.0, 2.0};

    /** A 3 x 5 grid with loss 0.3 everywhere except {@code best} (mean index, tilt index) pairs at 0.2. */
    static RhoSearch.Result grid(int chosenMean, int chosenTilt, int[]... best) {
        List<RhoSearch.Point> points = new ArrayList<>();
        RhoSearch.Point chosen = null;
        for (int m = 0; m < MEANS.length; m++) {
            for (int g = 0; g < RhoSearch.TILTS.length; g++) {
                double loss = 0.3;
                for (int[] b : best) {
                    if (b[0] == m && b[1] == g) {
                        loss = 0.2;
                    }
                }
                RhoSearch.Point pt = new RhoSearch.Point(MEANS[m], RhoSearch.TILTS[g], new double[] {MEANS[m], MEANS[m]}, loss);
                points.add(pt);
                if (m == chosenMean && g == chosenTilt) {
                    chosen = pt;
                }
            }
        }
        Trainer.Result base = new Trainer.Result(null, 3, 0.3, new double[] {1, 0.9, 0.8}, new double[] {0.4, 0.3, 0.3},
                1.0, 3, 10);
        return new RhoSearch.Result(List.copyOf(points), MEANS, chosen, 2, base, Double.NaN);
    }

    static String printed(RhoSearch.Result r) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TrainCommand.printGrid(new PrintStream(bytes, true, StandardCharsets.UTF_8), r);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anEdgeWinnerThatTiesWithAPointInsideTheGridSaysSo() {
        RhoSearch.Result r = grid(2, 0, new int[] {2, 0}, new int[] {1, 1});
        assertTrue(r.chosenAtEdge());
        RhoSearch.Point tie = r.interiorTie();
        assertEquals(1.0, tie.meanMargin());
        assertEquals(0.25, tie.gamma());
        String out = printed(r);
        assertTrue(out.contains("Note: the search chose the largest mean margin of the grid (2), its edge (it ties on"
                + " validation with mean margin 1, gamma 1/4, inside the grid, and won by the tie rule): a better one"
                + " may lie above it. Try a wider grid, e.g. --rho-grid 0.5,1,2,4,8"), out);
    }

    @Test
    void aClearEdgeWinnerOrAnInsideWinnerHasNoTieText() {
        RhoSearch.Result clear = grid(0, 4, new int[] {0, 4});
        assertTrue(clear.chosenAtEdge());
        assertNull(clear.interiorTie());
        String out = printed(clear);
        assertTrue(out.contains("Note: the search chose the smallest mean margin of the grid (1/2), its edge: a better"
                + " one may lie below it."), out);
        assertFalse(out.contains("ties"), out);

        // A tie between the other edge and the winner is not a tie inside the grid.
        RhoSearch.Result edges = grid(2, 0, new int[] {2, 0}, new int[] {0, 3});
        assertNull(edges.interiorTie());

        RhoSearch.Result inside = grid(1, 2, new int[] {1, 2}, new int[] {2, 0});
        assertFalse(inside.chosenAtEdge());
        assertNull(inside.interiorTie());
        assertFalse(printed(inside).contains("Note:"), printed(inside));
    }

    /**
     * The result's small accessors the reports branch on: the TDEF point is mean margin 1 at gamma 0 only, the base
     * is kept exactly when a rejected loss is given, and the mean margins are the result's own copy.
     */
    @Test
    void theTdefPointTheKeptBaseAndTheMeanMarginsCopy() {
        RhoSearch.Result r = grid(1, 0, new int[] {1, 0});
        assertTrue(r.chosen().isUniformOne());
        assertFalse(grid(1, 1, new int[] {1, 1}).chosen().isUniformOne());
        assertFalse(grid(2, 0, new int[] {2, 0}).chosen().isUniformOne());

        assertFalse(r.baseKept());
        RhoSearch.Result kept = new RhoSearch.Result(r.grid(), MEANS, r.chosen(), 2, r.base(), 0.31);
        assertTrue(kept.baseKept());
        assertEquals(0.31, kept.rejectedValidLoss());

        double[] means = MEANS.clone();
        RhoSearch.Result own = new RhoSearch.Result(r.grid(), means, r.chosen(), 2, r.base(), Double.NaN);
        means[2] = 8;
        own.meanMargins()[0] = 9;
        assertEquals(List.of(0.5, 1.0, 2.0), java.util.Arrays.stream(own.meanMargins()).boxed().toList());
    }

    /**
     * repro's note after a setup and cost's table counts the seeds whose search chose an edge of the grid (here
     * 1/2, 1, 2): the largest in 4 of 5 seeds, the fifth inside.
     */
    @Test
    void reprosNoteCountsTheSeedsThatChoseAnEdge() {
        RhoSearch.Result top = grid(2, 0, new int[] {2, 0});
        RhoSearch.Result inside = grid(1, 2, new int[] {1, 2});
        assertEquals("Note: MILD's search chose the grid's largest mean margin (2) in 4 of 5 seeds; a better one may"
                + " lie above it: try --rho-grid 0.5,1,2,4,8", ReproCommand.edgeNote(List.of(top, top, inside, top, top)));

        RhoSearch.Result bottom = grid(0, 1, new int[] {0, 1});
        assertEquals("Note: MILD's search chose the grid's smallest mean margin (1/2) in 1 of 2 seeds; a better one"
                + " may lie below it: try --rho-grid 0.125,0.25,0.5,1,2", ReproCommand.edgeNote(List.of(inside, bottom)));
        assertEquals("Note: MILD's search chose the grid's smallest mean margin (1/2) in 1 of 1 seed; a better one"
                + " may lie below it: try --rho-grid 0.125,0.25,0.5,1,2", ReproCommand.edgeNote(List.of(bottom)));

        // Every seed inside the grid, or no seed: no note.
        assertNull(ReproCommand.edgeNote(List.of(inside, inside)));
        assertNull(ReproCommand.edgeNote(List.of()));
    }

    /** Seeds at both edges: both are counted and the suggested grid reaches past each. */
    @Test
    void reprosNoteNamesBothEdgesWhenSeedsDiffer() {
        RhoSearch.Result top = grid(2, 3, new int[] {2, 3});
        RhoSearch.Result bottom = grid(0, 0, new int[] {0, 0});
        assertEquals("Note: MILD's search chose the grid's largest mean margin (2) in 2 and its smallest (1/2) in 1 of"
                + " 3 seeds; a better one may lie outside it: try --rho-grid 0.125,0.25,0.5,1,2,4,8",
                ReproCommand.edgeNote(List.of(top, bottom, top)));
    }

    /** Edge winners that tie with a point inside the grid won by the tie rule; the note counts them. */
    @Test
    void reprosNoteCountsTheEdgeWinsThatCameFromTheTieRule() {
        RhoSearch.Result tied = grid(2, 0, new int[] {2, 0}, new int[] {1, 1});
        RhoSearch.Result clear = grid(2, 0, new int[] {2, 0});
        RhoSearch.Result otherEdgeTie = grid(2, 0, new int[] {2, 0}, new int[] {0, 3});   // not inside the grid
        assertEquals("Note: MILD's search chose the grid's largest mean margin (2) in 3 of 3 seeds (in 1 of them it"
                + " tied on validation with a point inside the grid and won by the tie rule); a better one may lie"
                + " above it: try --rho-grid 0.5,1,2,4,8", ReproCommand.edgeNote(List.of(clear, tied, otherEdgeTie)));
    }

    /** The per-run choice (repro's run lines, demo) marks an edge winner. */
    @Test
    void theChoiceInWordsMarksTheGridsEdge() {
        assertEquals("mean margin 2 (the grid's edge), gamma 0", Reports.searchChoice(grid(2, 0, new int[] {2, 0})));
        assertEquals("mean margin 1, gamma 1/2", Reports.searchChoice(grid(1, 2, new int[] {1, 2})));
    }
}
