package dev.mild.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mild.loss.RandomBatch;
import dev.mild.opencl.OpenClLoss.Layout;
import dev.mild.opencl.OpenClSpecAccuracyTest.Problem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How {@link Layout#AUTO} picks a layout on a device with dedicated local memory (a GPU, simulated on PoCL with
 * 32 KiB of it). The wide layout's agreement with the float64 reference over p, B and the members is in the tests
 * module's OpenClTest, under the spec's worst-case builtins in OpenClSpecAccuracyTest, under small work-group
 * limits in OpenClWorkGroupLimitsTest.
 */
class OpenClWideLayoutTest {

    @BeforeEach
    void openClPresent() {
        OpenClContextTest.assumeOpenCl();
    }

    /**
     * 32 KiB of local memory: tiled while a tile holds 32 rows (p = 83), wide from p = 84 while a row with one margin
     * per expert fits (20 p + 2 KiB of the 32 KiB less the 256-byte margin: p = 1523), then tiled with 1 row a group
     * (to p = 2705), then direct. Each boundary against the float64 reference, with one margin and with one per expert.
     */
    @Test
    void autoOnAGpuLikeDeviceTakesTheWideLayoutWhereTilesHoldFewRows() {
        int[] ps = {83, 84, 1523, 1524, 2729};
        Layout[] want = {Layout.TILED, Layout.WIDE, Layout.WIDE, Layout.TILED, Layout.DIRECT};
        try (OpenClLoss loss = new OpenClLoss(OpenClSpecAccuracyTest.withLocalMemory(32 * 1024), Layout.AUTO)) {
            for (int i = 0; i < ps.length; i++) {
                int p = ps[i];
                assertEquals(want[i], loss.layout(p), "AUTO at p = " + p);
                List<Problem> problems = new ArrayList<>();
                for (boolean equal : new boolean[] {true, false}) {
                    int rows = p < 100 ? 7 : 2;
                    RandomBatch b = RandomBatch.of(13L * p + rows, rows, p, equal, equal ? 1.0 : 2.0);
                    problems.add(new Problem("p=" + p + ", B=" + rows + (equal ? " equal" : " distinct"), b.config(), rows,
                            b.scores(), b.weights()));
                }
                OpenClSpecAccuracyTest.assertWithinTolerance("AUTO on 32 KiB", loss, want[i], problems);
            }
            assertEquals(32, loss.rowsPerWorkGroup(83));
            assertEquals(1, loss.rowsPerWorkGroup(1524));
        }
    }
}
