package dev.mild.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.loss.KernelOptions;
import dev.mild.loss.RandomBatch;
import dev.mild.opencl.OpenClLoss.Layout;
import org.jocl.Sizeof;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a loss-only call (no gradient) leaves out of local memory. */
class OpenClLossOnlyTest {

    @BeforeEach
    void openClPresent() {
        OpenClContextTest.assumeOpenCl();
    }

    /**
     * A loss-only call takes no local memory for the gradient: one float stands in for the tiled layout's gradient
     * tile and for the wide layout's own gradient entries (the driver's count of the launch's local memory drops by
     * that much). It was a whole tile before (16 rows * 131 floats at p = 130, a third of the tiles). Rows per work-group stay those of a call with a
     * gradient, so the losses are the same bits either way.
     */
    @Test
    void aLossOnlyCallLeavesTheGradientOutOfLocalMemory() {
        int p = 130;
        int rows = 37;
        RandomBatch b = RandomBatch.of(5, rows, p, false, 1.0);
        for (Layout layout : new Layout[] {Layout.TILED, Layout.WIDE}) {
            try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT, layout);
                 OpenClKernel kernel = new OpenClKernel(loss)) {
                assertEquals(layout, loss.layout(p));
                float[] withGrad = new float[rows];
                float[] lossOnly = new float[rows];
                double mean = kernel.lossAndGradient(b.config(), rows, b.scores(), 0, b.weights(), 0, withGrad, 0,
                        new float[rows * p], 0);
                long full = loss.localMemoryOfLastLaunch();
                double meanOnly = kernel.lossAndGradient(b.config(), rows, b.scores(), 0, b.weights(), 0, lossOnly, 0,
                        null, 0);
                long only = loss.localMemoryOfLastLaunch();
                long gradient = layout == Layout.TILED ? (long) loss.rowsPerWorkGroup(p) * (p | 1) * Sizeof.cl_float
                        : (long) p * Sizeof.cl_float;
                assertEquals(full - gradient + Sizeof.cl_float, only, layout + ": local memory of a loss-only launch ("
                        + full + " bytes with the gradient)");
                assertTrue(only > 0, layout + ": the driver reports local memory");
                assertEquals(mean, meanOnly, 0.0, layout + ": mean");
                assertArrayEquals(withGrad, lossOnly, layout + ": row losses");
            }
        }
    }
}
