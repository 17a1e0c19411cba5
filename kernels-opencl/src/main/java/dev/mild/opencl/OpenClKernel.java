package dev.mild.opencl;

import dev.mild.loss.Checks;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.Tolerance;
import org.jocl.Pointer;
import org.jocl.Sizeof;

/**
 * The {@code opencl} backend for host arrays: copies the caller's scores and weights to device buffers,
 * runs {@link OpenClLoss}, and copies the row losses and gradient back. The device buffers are kept and grown
 * to the largest batch seen, so steady-state calls allocate no device memory. Each call pays the copies
 * ({@code 8 p} bytes per row in, {@code 4 p + 4} out); a trainer whose data already lives on the device should
 * call {@link #deviceLoss()} with {@link DeviceBuffer}s instead.
 *
 * <p>Calls are serialized; results are bit-identical from call to call ({@code threads} in the options is
 * ignored: the device schedules its own work). Unlike the CPU backends, a call allocates a little on the Java
 * heap: JOCL wraps each host array it copies in a new {@code Pointer} (about 300 bytes a call, measured).
 * After {@link #close()} every call, even one of 0 rows, throws {@link IllegalStateException}.
 */
public final class OpenClKernel implements LossKernel {

    /** The backend's name, {@value}. */
    public static final String NAME = "opencl";

    private final OpenClLoss loss;
    private DeviceBuffer scores;
    private DeviceBuffer weights;
    private DeviceBuffer rowLoss;
    private DeviceBuffer grad;

    /**
     * A backend on the device {@code options.device()} selects (see {@link OpenClDevices}).
     *
     * @param options the device selector ({@code threads} is ignored); null for the default device
     * @throws OpenClException                when OpenCL is unavailable, the kernels do not build, or setup fails
     * @throws dev.mild.InvalidInputException when the device selector matches no device
     */
    public OpenClKernel(KernelOptions options) {
        this(OpenClLoss.open(options));
    }

    /**
     * A backend on an existing loss; closing this backend closes it.
     *
     * @param loss the device-resident loss the calls run on
     */
    public OpenClKernel(OpenClLoss loss) {
        this.loss = loss;
    }

    /**
     * The device-resident API on the same device and context (buffers allocated there can be passed to it).
     *
     * @return the loss this backend runs on; closing it closes this backend too
     */
    public OpenClLoss deviceLoss() {
        return loss;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String describe() {
        return NAME + " (" + loss.describe() + ")";
    }

    /** The float32 tolerance of the CPU backends: accurate exp/log builtins and compensated sums reach it. */
    @Override
    public Tolerance tolerance() {
        return Tolerance.FLOAT32;
    }

    @Override
    public double lossAndGradient(LossConfig config, int rows,
                                  float[] scores, int scoresOffset,
                                  float[] weights, int weightsOffset,
                                  float[] rowLoss, int rowLossOffset,
                                  float[] grad, int gradOffset) {
        // Closed first, as the CPU backends; then every host range before any device work (a short grad used to be
        // written in full, then rejected)
        loss.ensureOpen();
        Checks.call(config, rows, scores, scoresOffset, weights, weightsOffset, rowLoss, rowLossOffset, grad, gradOffset);
        if (rows == 0) {
            return loss.run(config, 0, null, 0, null, 0, null, 0, null, 0); // 0, or closed
        }
        int n = rows * config.experts();
        synchronized (loss) {
            this.scores = staging(this.scores, n, "scores");
            this.weights = staging(this.weights, n, "weights");
            this.scores.write(0, scores, scoresOffset, n);
            this.weights.write(0, weights, weightsOffset, n);
            Pointer rowLossArg = null;
            Pointer gradArg = null;
            if (rowLoss != null) {
                this.rowLoss = staging(this.rowLoss, rows, "row loss");
                rowLossArg = this.rowLoss.argument();
            }
            if (grad != null) {
                this.grad = staging(this.grad, n, "gradient");
                gradArg = this.grad.argument();
            }
            double mean = loss.run(config, rows, this.scores.argument(), 0, this.weights.argument(), 0,
                    rowLossArg, 0, gradArg, 0);
            if (grad != null) {
                this.grad.read(0, grad, gradOffset, n);
            }
            if (rowLoss != null) {
                this.rowLoss.read(0, rowLoss, rowLossOffset, rows);
            }
            return mean;
        }
    }

    /**
     * {@code current} if it holds {@code floats}, else a replacement 1.5x larger (the old one released first).
     * A closed {@code current} is what a failed replacement left behind (the field still names it): replaced.
     */
    private DeviceBuffer staging(DeviceBuffer current, long floats, String what) {
        if (current != null && !current.isClosed() && current.capacity() >= floats) {
            return current;
        }
        // Grown by half, but never past what the device allows in one allocation when the batch itself fits.
        long deviceLimit = loss.device().maxAllocationBytes() / Sizeof.cl_float;
        long capacity = current == null ? floats
                : Math.max(floats, Math.min(deviceLimit, current.capacity() + current.capacity() / 2));
        if (current != null) {
            current.close();
        }
        return loss.allocate(capacity, what);
    }

    @Override
    public void close() {
        loss.close();
    }
}
