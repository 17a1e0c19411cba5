package dev.mild.opencl;

import dev.mild.InvalidInputException;
import dev.mild.loss.Checks;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * The loss family of {@link LossConfig} on one OpenCL device, with data that stays on the device: the
 * device-resident API. A trainer on a GPU keeps scores, weights and gradients in {@link DeviceBuffer}s and
 * calls {@link #lossAndGradient} on them; only the per-work-group loss partials (8 bytes per work-group) come
 * back to the host. {@link OpenClKernel} puts the standard host-array {@code LossKernel} on top of this.
 *
 * <pre>{@code
 * try (OpenClLoss loss = OpenClLoss.open(KernelOptions.DEFAULT)) {
 *     DeviceBuffer scores = loss.allocate(rows * p, "scores"), weights = loss.allocate(rows * p, "weights");
 *     DeviceBuffer grad = loss.allocate(rows * p, "gradient");
 *     scores.write(hostScores);  weights.write(hostWeights);        // or filled by other device code
 *     double mean = loss.lossAndGradient(config, rows, scores, 0, weights, 0, null, 0, grad, 0);
 *     grad.read(0, hostGrad, 0, rows * p);                          // only if the host needs it
 * }
 * }</pre>
 *
 * <p>The kernels ({@code common.cl}, {@code row.cl}, {@code kernels.cl} in this package's resources) are
 * built once when this object is created, from the program binary an earlier loss of this process kept when there
 * is one (compiled again otherwise; see {@link #PROGRAM_BINARIES_PROPERTY}), and reused by every call. Three launch
 * layouts (see {@code kernels.cl}): {@link Layout#TILED} stages each work-group's rows through local memory for
 * coalesced reads and writes (GPUs, narrow rows); {@link Layout#WIDE} gives each row a work-group, which splits its
 * softmaxes and columns (GPUs, wide rows); {@link Layout#DIRECT} reads rows in place (CPUs, whose "local memory" is
 * RAM, and any p too wide for local memory); {@link #layout(int)} says which p takes which. Nothing is allocated
 * per call in steady state: the configuration
 * (uploaded only when it changes) and the partials buffer grow to the largest size seen.
 *
 * <p>What a call checks: the buffers' ranges, overlaps, and that they are open and of this loss (on the host, in
 * constant time). Not the values: the data is on the device, and reading it back to check it would cost what this
 * API saves. Scores and weights must be what {@link dev.mild.loss.Loss} accepts (finite, each row's spread within
 * {@link LossConfig#maxScoreSpread}, its weights within {@link LossConfig#maxRowWeight}); validate them on the
 * host before they go to the device, as {@link dev.mild.loss.Checks#scoresSpread} and
 * {@link dev.mild.loss.Checks#weights} (given the spread the first returns) do. Outside that the results are undefined (NaN in, NaN out; a score
 * spread beyond the limit gives wrong values, not an error).
 *
 * <p>Accuracy: float32 with the accurate {@code exp}/{@code log} builtins (not {@code native_*}) and
 * compensated float sums, held to {@link dev.mild.loss.Tolerance#FLOAT32} like the CPU backends. Results are
 * bit-identical from call to call for the same device and p (fixed work-group shape, partials summed on the
 * host in order).
 *
 * <p>Thread-safe: calls are serialized on this object (one in-order command queue). A call blocks until the
 * device is done and does not respond to {@link Thread#interrupt()} (the thread's interrupt flag is kept). Close
 * it to release every OpenCL object it made, its buffers included. A loss or a {@link DeviceBuffer} dropped
 * without closing is released once the garbage collector finds it unreachable (a buffer keeps its loss reachable,
 * until the buffer's own release has run): a safety net for device memory, not a substitute for {@code close()},
 * since when that happens is up to the collector. A buffer's release waits for this loss's lock, so for a call in
 * progress, on the cleaner's one thread.
 */
public final class OpenClLoss implements AutoCloseable {

    /** How rows reach the work-items; {@link #AUTO} follows the device and p (see {@link #layout(int)}). */
    public enum Layout {
        /** {@link #LAYOUT_PROPERTY} when it is set, else chosen by device and p as {@link #layout(int)} says. */
        AUTO,
        /** Each work-group stages its rows through local memory (GPUs, narrow rows). */
        TILED,
        /** Rows are read in place from global memory (CPUs, and any p too wide for local memory). */
        DIRECT,
        /** One work-group a row, which splits its softmaxes and columns (GPUs, wide rows). */
        WIDE
    }

    /** System property forcing a layout ({@code tiled}, {@code direct}, {@code wide}, {@code auto}) when {@link Layout#AUTO} is asked for. */
    public static final String LAYOUT_PROPERTY = "mild.opencl.layout";

    /**
     * System property: {@code false} makes every open compile the kernels from source, instead of loading the
     * program binary an earlier open of this process built (the default; see README's OpenCL section). For
     * measuring, and for a driver whose binaries misbehave.
     */
    public static final String PROGRAM_BINARIES_PROPERTY = "mild.opencl.programBinaries";

    /** Rows per work-group in the tiled layout, before local memory limits it: four warps / two wavefronts. */
    static final int TILED_ROWS = 128;
    /** Rows per work-group in the direct layout. */
    static final int DIRECT_ROWS = 64;
    /** Work-items per row in the wide layout, before the row's width and the work-group limits cap it. */
    static final int WIDE_ITEMS = 256;
    /** Rows per tiled work-group below which {@link Layout#AUTO} takes the wide layout when it fits: a warp (NVIDIA). */
    static final int WIDE_BELOW_ROWS = 32;
    /** Local memory one tiled work-group may take: small enough for several resident work-groups per compute unit. */
    static final long TILE_BUDGET_BYTES = 32 * 1024;
    /**
     * Local memory left free below the device's size: a driver may align each of the four local arguments or keep
     * some bytes for itself, and a tile filling the last bytes exactly would then fail its launch.
     */
    static final long LOCAL_MARGIN_BYTES = 256;
    /** No -cl-fast-relaxed-math or -cl-unsafe-math-optimizations: the compensated sums need IEEE order. */
    private static final String BUILD_OPTIONS = "";

    private static volatile String source;

    /** One daemon thread for the process, releasing the OpenCL objects of losses and buffers dropped without close(). */
    static final Cleaner CLEANER = Cleaner.create();

    private final OpenClContext context;
    /** Closes {@link #context}, once: from {@link #close()}, or from {@link #CLEANER} when this loss is unreachable. */
    private final Cleaner.Cleanable release;
    private final Layout preferred;
    private final cl_kernel tiledKernel;
    private final cl_kernel directKernel;
    private final cl_kernel wideKernel;
    private final long tiledMaxGroup;
    private final long directMaxGroup;
    private final long wideMaxGroup;
    private final long tiledStaticLocal;
    private final long wideStaticLocal;

    // Loss configuration on the device: ints [groupStart | members | groupOf], floats [groupA | delta | logA | 1 - nu | aLo | deltaLo].
    private LossConfig uploaded;
    private cl_mem configInts;
    private cl_mem configFloats;
    private Pointer configIntsArg;
    private Pointer configFloatsArg;
    private long configIntsCapacity;
    private long configFloatsCapacity;
    private int[] configIntsHost = new int[0];
    private float[] configFloatsHost = new float[0];

    // One (hi, lo) float pair per work-group.
    private cl_mem partials;
    private Pointer partialsArg;
    private long partialsCapacity;
    private float[] partialsHost = new float[0];
    private Pointer partialsHostPointer = Pointer.to(partialsHost);

    // Stands in for an output the caller skipped (its write flag is 0, so it is never touched).
    private final cl_mem unused;
    private final Pointer unusedArg;

    // Reused kernel-argument holders: clSetKernelArg copies the value at call time.
    private final int[] intHolder = new int[1];
    private final long[] longHolder = new long[1];
    private final float[] floatHolder = new float[1];
    private final Pointer intArg = Pointer.to(intHolder);
    private final Pointer longArg = Pointer.to(longHolder);
    private final Pointer floatArg = Pointer.to(floatHolder);
    private final long[] globalSize = new long[1];
    private final long[] localSize = new long[1];

    private Plan plan;
    private cl_kernel lastKernel;

    /** How a batch of p columns is launched: rows and work-items per work-group (equal but in the wide layout). */
    private record Plan(int p, Layout layout, int rowsPerGroup, int items, int stride) {
    }

    /**
     * A loss on the device chosen by {@link OpenClDevices#select} for {@code options.device()}, with the layout
     * {@link Layout#AUTO} picks.
     *
     * @param options the device selector ({@code threads} is ignored); null for the default device
     * @return a new loss, which the caller closes
     * @throws OpenClException       when OpenCL is unavailable, the kernels do not build, or setup fails
     * @throws InvalidInputException when the device selector matches no device
     */
    public static OpenClLoss open(KernelOptions options) {
        return open(options, Layout.AUTO);
    }

    /**
     * A loss on the device chosen by {@link OpenClDevices#select} for {@code options.device()} ({@code threads}
     * is ignored: the device schedules its own work), with a forced layout (for tests and tuning).
     *
     * @param options the device selector; null for the default device
     * @param layout  the layout; {@link Layout#AUTO} for the device's
     * @return a new loss, which the caller closes
     * @throws OpenClException       when OpenCL is unavailable, the kernels do not build, or setup fails
     * @throws InvalidInputException when the device selector matches no device, or {@link #LAYOUT_PROPERTY} is not
     *                               a layout's name
     * @throws NullPointerException  if {@code layout} is null
     */
    public static OpenClLoss open(KernelOptions options, Layout layout) {
        OpenClDevices.Device device = OpenClDevices.select(options == null ? null : options.device());
        return new OpenClLoss(device, layout);
    }

    /** A loss on {@code device}; tests pass a copy of a real device with a smaller allocation limit. */
    OpenClLoss(OpenClDevices.Device device, Layout layout) {
        this(device, layout, "", "");
    }

    /**
     * A loss whose program starts with {@code testPrelude} (OpenCL C) and is built with {@code testBuildOptions}
     * too ("" for none): tests stand in for what another device may do with them (builtins a few ulp off, as the
     * OpenCL spec allows a GPU; {@code -cl-denorms-are-zero}, which PoCL honours by flushing denormals as many
     * GPUs do).
     */
    OpenClLoss(OpenClDevices.Device device, Layout layout, String testPrelude, String testBuildOptions) {
        this.preferred = resolve(Objects.requireNonNull(layout), device);
        this.context = new OpenClContext(device, testPrelude + source(), (BUILD_OPTIONS + " " + testBuildOptions).strip());
        try {
            tiledKernel = context.kernel("loss_tiled");
            directKernel = context.kernel("loss_direct");
            wideKernel = context.kernel("loss_wide");
            // And CL_DEVICE_MAX_WORK_GROUP_SIZE: OpenCL 1.2's clEnqueueNDRangeKernel refuses a larger local size with
            // CL_INVALID_WORK_GROUP_SIZE (2.0 on names CL_KERNEL_WORK_GROUP_SIZE). A GPU's is 64 to 1024, PoCL's 4096;
            // read from the Device record, so a test stands in for a smaller one with a copy of this device.
            long itemLimit = Math.min(context.maxWorkItemSize0(), device.maxWorkGroupSize());
            tiledMaxGroup = Math.min(context.maxWorkGroupSize(tiledKernel), itemLimit);
            directMaxGroup = Math.min(context.maxWorkGroupSize(directKernel), itemLimit);
            wideMaxGroup = Math.min(context.maxWorkGroupSize(wideKernel), itemLimit);
            tiledStaticLocal = context.staticLocalMemory(tiledKernel);
            wideStaticLocal = context.staticLocalMemory(wideKernel);
            unused = context.allocate(Sizeof.cl_float, "unused output");
            unusedArg = Pointer.to(unused);
            // The action holds the context, never this loss (or it would never become unreachable). Calls
            // synchronize on this loss, and a held monitor keeps it reachable, so the cleaner cannot run mid-call.
            release = CLEANER.register(this, context::close);
        } catch (CLException e) {
            context.close();
            throw context.failure("preparing the loss kernels", e);
        } catch (RuntimeException | Error e) {
            context.close();
            throw e;
        }
    }

    private static Layout resolve(Layout layout, OpenClDevices.Device device) {
        Layout l = layout;
        if (l == Layout.AUTO) {
            String forced = System.getProperty(LAYOUT_PROPERTY);
            if (forced != null && !forced.isBlank()) {
                try {
                    l = Layout.valueOf(forced.trim().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new InvalidInputException("-D" + LAYOUT_PROPERTY + "=" + forced
                            + ": expected tiled, direct, wide or auto");
                }
            }
        }
        if (l == Layout.AUTO && !device.dedicatedLocalMemory()) {
            // Staging through local memory pays only where local memory is on-chip; elsewhere AUTO picks by p (plan).
            l = Layout.DIRECT;
        }
        return l;
    }

    /**
     * The device this loss runs on.
     *
     * @return the device chosen when the loss was opened
     */
    public OpenClDevices.Device device() {
        return context.device;
    }

    /**
     * One line for logs: device and layout.
     *
     * @return the device's {@link OpenClDevices.Device#label() label}, then the preferred layout
     *         ({@code "auto layout"}, {@code "tiled layout"}, {@code "wide layout"} or {@code "direct layout"}; which
     *         layout a call takes also depends on p, see {@link #layout(int)})
     */
    public String describe() {
        return context.device.label() + ", " + preferred.name().toLowerCase(Locale.ROOT) + " layout";
    }

    /**
     * The layout used for p experts, never {@link Layout#AUTO}. {@link Layout#DIRECT}, and AUTO on a device without
     * dedicated local memory (a CPU, where local memory is RAM), read rows in place. A forced {@link Layout#TILED} or
     * {@link Layout#WIDE} takes that layout when p fits its local memory, else direct. AUTO on a device with dedicated
     * local memory (a GPU) takes tiled while a tile holds at least {@value #WIDE_BELOW_ROWS} rows (p up to 83: fewer
     * leave most lanes of a warp idle), then wide, one work-group a row, while a row fits the device's local memory
     * (p up to about 1500 in 32 KiB, 2300 in 48 KiB), then tiled while one row fits the tile, then direct.
     *
     * @param p the number of experts
     * @return {@link Layout#TILED}, {@link Layout#WIDE} or {@link Layout#DIRECT}
     */
    public synchronized Layout layout(int p) {
        return plan(p).layout;
    }

    /**
     * Rows per work-group for p experts: also how many row losses each partial sums (1 in the wide layout).
     *
     * @param p the number of experts
     * @return a power of two, at least 1
     */
    public synchronized int rowsPerWorkGroup(int p) {
        return plan(p).rowsPerGroup;
    }

    /** Work-items per work-group for p experts: the rows per work-group but in the wide layout. */
    synchronized int workItemsPerGroup(int p) {
        return plan(p).items;
    }

    /**
     * A device buffer of {@code floats} floats, uninitialized, owned by this loss.
     *
     * @param floats the buffer's size in floats, {@code >= 0}
     * @param name   names it in error messages ("scores", "gradient", ...)
     * @return the buffer, which the caller closes (or this loss's close releases)
     * @throws InvalidInputException if {@code floats} is negative
     * @throws OpenClException       when the device cannot hold it (the message gives the sizes)
     */
    public synchronized DeviceBuffer allocate(long floats, String name) {
        if (floats < 0) {
            throw new InvalidInputException("cannot allocate " + floats + " floats for " + name);
        }
        return new DeviceBuffer(this, context.allocate(floats * Sizeof.cl_float, name), floats, name);
    }

    /**
     * Per-row losses, their mean and the gradient of the mean, on device buffers: the same contract as
     * {@link dev.mild.loss.LossKernel#lossAndGradient}, with offsets in floats. The inputs are not checked for
     * finiteness (that would mean reading them back); non-finite scores give non-finite outputs.
     *
     * @param config        the loss. Not modified.
     * @param rows          number of rows {@code B >= 0}
     * @param scores        {@code rows x p} router scores from {@code scoresOffset}. Not modified.
     * @param scoresOffset  the first score, in floats
     * @param weights       {@code rows x p} weights from {@code weightsOffset}. Not modified.
     * @param weightsOffset the first weight, in floats
     * @param rowLoss       per-row losses from {@code rowLossOffset}, or {@code null} to skip. Modified.
     * @param rowLossOffset the first row loss, in floats
     * @param grad          gradient of the mean loss, {@code rows x p} from {@code gradOffset}, or {@code null}
     *                      to skip the backward pass. Modified. May not overlap the inputs.
     * @param gradOffset    the first gradient entry, in floats
     * @return the mean loss, summed in float64 on the host; 0 when {@code rows == 0}
     * @throws InvalidInputException when {@code config} is null, {@code rows < 0}, or a buffer is missing, too
     *                               small, closed, from another loss, or overlaps
     * @throws IllegalStateException when this loss is closed (checked first)
     * @throws OpenClException       when the device fails the call
     */
    public synchronized double lossAndGradient(LossConfig config, int rows,
                                               DeviceBuffer scores, long scoresOffset,
                                               DeviceBuffer weights, long weightsOffset,
                                               DeviceBuffer rowLoss, long rowLossOffset,
                                               DeviceBuffer grad, long gradOffset) {
        // A closed loss is a lifecycle error (IllegalStateException, as for the CPU backends), not "scores buffer
        // is closed", an InvalidInputException that blamed the caller's arguments.
        context.ensureOpen();
        Checks.required("config", config);
        if (rows < 0) {
            throw new InvalidInputException("rows must be >= 0, got " + rows);
        }
        long n = (long) rows * config.experts();
        check(scores, "scores", scoresOffset, n);
        check(weights, "weights", weightsOffset, n);
        if (rowLoss != null) {
            check(rowLoss, "rowLoss", rowLossOffset, rows);
        }
        if (grad != null) {
            check(grad, "grad", gradOffset, n);
            disjoint("grad", grad, gradOffset, n, "scores", scores, scoresOffset, n);
            disjoint("grad", grad, gradOffset, n, "weights", weights, weightsOffset, n);
        }
        if (rowLoss != null) {
            disjoint("rowLoss", rowLoss, rowLossOffset, rows, "scores", scores, scoresOffset, n);
            disjoint("rowLoss", rowLoss, rowLossOffset, rows, "weights", weights, weightsOffset, n);
            if (grad != null) {
                disjoint("rowLoss", rowLoss, rowLossOffset, rows, "grad", grad, gradOffset, n);
            }
        }
        return run(config, rows, scores.argument(), scoresOffset, weights.argument(), weightsOffset,
                rowLoss == null ? null : rowLoss.argument(), rowLossOffset,
                grad == null ? null : grad.argument(), gradOffset);
    }

    private void check(DeviceBuffer b, String what, long offset, long length) {
        if (b == null) {
            throw new InvalidInputException(what + " buffer is missing (null)");
        }
        if (b.owner() != this) {
            throw new InvalidInputException(what + " buffer belongs to another OpenClLoss (another OpenCL context)");
        }
        if (b.isClosed()) {
            throw new InvalidInputException(what + " buffer is closed");
        }
        b.checkRange(offset, length);
    }

    /** An output and another buffer of the call share no float: the same rule and message as the CPU backends'. */
    private static void disjoint(String out, DeviceBuffer o, long outOffset, long outLength,
                                 String other, DeviceBuffer x, long otherOffset, long otherLength) {
        if (o == x) {
            Checks.disjointRanges("buffer", out, outOffset, outLength, other, otherOffset, otherLength);
        }
    }

    /**
     * The launch, trusting its arguments (kernel-argument pointers to device buffers; {@code null} output
     * pointers skip that output).
     */
    synchronized double run(LossConfig config, int rows, Pointer scores, long scoresOffset, Pointer weights,
                            long weightsOffset, Pointer rowLoss, long rowLossOffset, Pointer grad, long gradOffset) {
        context.ensureOpen(); // also for an empty batch, as the CPU backends do after close()
        if (rows == 0) {
            return 0.0;
        }
        int p = config.experts();
        Plan pl = plan(p);
        long groups = ((long) rows + pl.rowsPerGroup - 1) / pl.rowsPerGroup;
        try {
            upload(config);
            ensurePartials(groups);
            cl_kernel k = switch (pl.layout) {
                case TILED -> tiledKernel;
                case WIDE -> wideKernel;
                default -> directKernel;
            };
            int a = 0;
            argInt(k, a++, rows);
            argInt(k, a++, p);
            if (pl.layout == Layout.TILED) {
                argInt(k, a++, pl.stride);
            }
            argMem(k, a++, scores);
            argLong(k, a++, scoresOffset);
            argMem(k, a++, weights);
            argLong(k, a++, weightsOffset);
            argMem(k, a++, rowLoss == null ? unusedArg : rowLoss);
            argLong(k, a++, rowLoss == null ? 0 : rowLossOffset);
            argInt(k, a++, rowLoss == null ? 0 : 1);
            argMem(k, a++, grad == null ? unusedArg : grad);
            argLong(k, a++, grad == null ? 0 : gradOffset);
            argInt(k, a++, grad == null ? 0 : 1);
            argFloat(k, a++, 1.0f / rows);
            argInt(k, a++, config.groups());
            argMem(k, a++, configIntsArg);
            argMem(k, a++, configFloatsArg);
            argFloat(k, a++, (float) config.nu());
            argInt(k, a++, config.isLogSumExp() ? 1 : 0);
            argMem(k, a++, partialsArg);
            // A loss-only call never touches the gradient's local memory: one float stands in (no size may be 0).
            if (pl.layout == Layout.TILED) {
                long tile = (long) pl.rowsPerGroup * pl.stride * Sizeof.cl_float;
                argLocal(k, a++, tile);
                argLocal(k, a++, tile);
                argLocal(k, a++, grad == null ? Sizeof.cl_float : tile);
            } else if (pl.layout == Layout.WIDE) {
                argLocal(k, a++, (long) p * Sizeof.cl_float);
                argLocal(k, a++, (long) p * Sizeof.cl_float);
                argLocal(k, a++, grad == null ? Sizeof.cl_float : (long) p * Sizeof.cl_float);
                argLocal(k, a++, (long) config.groups() * 2 * Sizeof.cl_float);
            }
            argLocal(k, a, (long) pl.items * 2 * Sizeof.cl_float);
            lastKernel = k;
            globalSize[0] = groups * pl.items;
            localSize[0] = pl.items;
            context.run(k, globalSize, localSize);
            context.read(partials, 0, partialsHostPointer, groups * 2 * Sizeof.cl_float);
        } catch (CLException e) {
            throw context.failure("running the loss on " + rows + " rows of " + p + " experts", e);
        }
        double sum = 0.0;
        for (int g = 0; g < 2 * groups; g += 2) {
            sum += (double) partialsHost[g] + (double) partialsHost[g + 1];
        }
        // The kernel summed each work-group's losses divided by the power of two at or above its size (so that
        // the sum cannot overflow float32; see block_partial in kernels.cl): multiplied back exactly here.
        return sum * Integer.highestOneBit(2 * pl.rowsPerGroup - 1) / rows;
    }

    /** The launch for p experts, by the rule {@link #layout(int)} gives. */
    private Plan plan(int p) {
        Plan pl = plan;
        if (pl != null && pl.p == p) {
            return pl;
        }
        int stride = p | 1; // odd: work-items reading the same column of their rows hit distinct banks
        int tiledRows = preferred == Layout.TILED || preferred == Layout.AUTO ? tiledRows(stride) : 0;
        int wideItems = preferred == Layout.WIDE || preferred == Layout.AUTO ? wideItems(p) : 0;
        if (preferred == Layout.AUTO && tiledRows >= WIDE_BELOW_ROWS || wideItems == 0 && tiledRows >= 1) {
            pl = new Plan(p, Layout.TILED, tiledRows, tiledRows, stride);
        } else if (wideItems >= 1) {
            pl = new Plan(p, Layout.WIDE, 1, wideItems, stride);
        } else {
            int rows = Integer.highestOneBit((int) Math.max(1, Math.min(DIRECT_ROWS, directMaxGroup)));
            pl = new Plan(p, Layout.DIRECT, rows, rows, stride);
        }
        plan = pl;
        return pl;
    }

    /** Rows a tiled work-group holds at row stride {@code stride} (0: not one), a power of two. */
    private int tiledRows(int stride) {
        // Scores, weights and gradient tiles plus one (hi, lo) pair per row.
        long bytesPerRow = 3L * stride * Sizeof.cl_float + 2L * Sizeof.cl_float;
        long budget = Math.min(TILE_BUDGET_BYTES, context.device.localMemoryBytes() - tiledStaticLocal - LOCAL_MARGIN_BYTES);
        long fit = Math.min(Math.min(TILED_ROWS, tiledMaxGroup), budget / bytesPerRow);
        // Powers of two: a full reduction tree, and few distinct work-group shapes for drivers that compile per shape.
        return fit >= 1 ? Integer.highestOneBit((int) fit) : 0;
    }

    /**
     * Work-items of a wide work-group for p experts (0: the row does not fit), a power of two at or below p, so that
     * every work-item has a column (PoCL 3.1 corrupted its heap when some had none, at p = 65 with 128 work-items).
     * Its local memory, counted for one margin group per expert (the most a call can have), may take the device's
     * whole local memory but the margin: one row is a whole work-group's work.
     */
    private int wideItems(int p) {
        long limit = Math.min(WIDE_ITEMS, wideMaxGroup);
        int items = Integer.highestOneBit((int) Math.max(1, Math.min(limit, p)));
        // Scores, weights, own gradient entries; two floats per group and per work-item.
        long bytes = 3L * p * Sizeof.cl_float + 2L * p * Sizeof.cl_float + 2L * items * Sizeof.cl_float;
        return bytes <= context.device.localMemoryBytes() - wideStaticLocal - LOCAL_MARGIN_BYTES ? items : 0;
    }

    /**
     * Throws when this loss is closed: {@link OpenClKernel} asks first, so that a closed backend says so whatever
     * the arguments, as the CPU backends do.
     */
    synchronized void ensureOpen() {
        context.ensureOpen();
    }

    /** Local memory the last launched kernel used, as the driver reports it (arguments included): for tests. */
    synchronized long localMemoryOfLastLaunch() {
        return context.staticLocalMemory(lastKernel);
    }

    private void upload(LossConfig config) {
        if (config == uploaded || config.equals(uploaded)) {
            return;
        }
        int p = config.experts();
        int g = config.groups();
        int ints = g + 1 + 2 * p;
        int floats = 3 * g + 2 * p + 1;
        if (configIntsHost.length < ints) {
            configIntsHost = new int[ints];
        }
        if (configFloatsHost.length < floats) {
            configFloatsHost = new float[floats];
        }
        for (int i = 0; i <= g; i++) {
            configIntsHost[i] = config.groupStart(i);
        }
        for (int i = 0; i < g; i++) {
            for (int t = config.groupStart(i); t < config.groupStart(i + 1); t++) {
                configIntsHost[g + 1 + t] = config.groupMember(t);
                configIntsHost[g + 1 + p + config.groupMember(t)] = i;
            }
        }
        for (int i = 0; i < g; i++) {
            configFloatsHost[i] = (float) config.groupInverseMargin(i);
        }
        for (int k = 0; k < p; k++) {
            configFloatsHost[g + k] = (float) config.delta(k);
        }
        for (int i = 0; i < g; i++) {
            configFloatsHost[g + p + i] = (float) Math.log(config.groupInverseMargin(i));
        }
        configFloatsHost[2 * g + p] = (float) (1.0 - config.nu()); // not 1 - (float) nu: see phi_of_log
        for (int i = 0; i < g; i++) {
            double a = config.groupInverseMargin(i);
            configFloatsHost[2 * g + p + 1 + i] = (float) (a - (float) a);
        }
        for (int k = 0; k < p; k++) {
            configFloatsHost[3 * g + p + 1 + k] = (float) (config.delta(k) - (float) config.delta(k));
        }
        // Forgotten before anything changes: if an allocation below fails, the next call must not trust buffers
        // that were released (PoCL aborted the JVM on them) or replaced and never written.
        uploaded = null;
        if (configIntsCapacity < ints) {
            context.release(configInts);
            configInts = null;
            configIntsCapacity = 0;
            configInts = context.allocate((long) ints * Sizeof.cl_int, "loss configuration");
            configIntsArg = Pointer.to(configInts);
            configIntsCapacity = ints;
        }
        if (configFloatsCapacity < floats) {
            context.release(configFloats);
            configFloats = null;
            configFloatsCapacity = 0;
            configFloats = context.allocate((long) floats * Sizeof.cl_float, "loss configuration");
            configFloatsArg = Pointer.to(configFloats);
            configFloatsCapacity = floats;
        }
        context.write(configInts, 0, Pointer.to(configIntsHost), (long) ints * Sizeof.cl_int);
        context.write(configFloats, 0, Pointer.to(configFloatsHost), (long) floats * Sizeof.cl_float);
        uploaded = config;
    }

    private void ensurePartials(long groups) {
        if (partialsCapacity >= groups) {
            return;
        }
        if (2 * groups > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("too many rows for one call: " + groups + " work-groups");
        }
        long capacity = Math.max(groups, Math.min(Integer.MAX_VALUE / 2 - 8, partialsCapacity + partialsCapacity / 2));
        context.release(partials);
        partials = null;
        partialsCapacity = 0; // as in upload: a failed allocation must not leave the released buffer in use
        partials = context.allocate(capacity * 2 * Sizeof.cl_float, "loss partials");
        partialsArg = Pointer.to(partials);
        partialsCapacity = capacity;
        partialsHost = new float[(int) (2 * capacity)];
        partialsHostPointer = Pointer.to(partialsHost);
    }

    private void argInt(cl_kernel k, int index, int value) {
        intHolder[0] = value;
        Status.check(CL.clSetKernelArg(k, index, Sizeof.cl_int, intArg));
    }

    private void argLong(cl_kernel k, int index, long value) {
        longHolder[0] = value;
        Status.check(CL.clSetKernelArg(k, index, Sizeof.cl_long, longArg));
    }

    private void argFloat(cl_kernel k, int index, float value) {
        floatHolder[0] = value;
        Status.check(CL.clSetKernelArg(k, index, Sizeof.cl_float, floatArg));
    }

    private static void argMem(cl_kernel k, int index, Pointer mem) {
        Status.check(CL.clSetKernelArg(k, index, Sizeof.cl_mem, mem));
    }

    private static void argLocal(cl_kernel k, int index, long bytes) {
        Status.check(CL.clSetKernelArg(k, index, bytes, null));
    }

    OpenClContext context() {
        return context;
    }

    /**
     * The release of a {@link DeviceBuffer}'s memory: its cleaning action, so it holds this loss and the handle, never
     * the buffer. Under this loss's lock, as every use of the handle is: a buffer the collector finds unreachable in
     * the middle of a call (its last use was reading the handle) is released after that call, and one whose loss was
     * closed first is left alone, since the context then no longer lists the handle (no second release).
     */
    Runnable releasing(cl_mem mem) {
        return () -> {
            synchronized (this) {
                context.release(mem);
            }
        };
    }

    /**
     * OpenCL objects this loss holds (context, queue, program, kernels, buffers), by its own bookkeeping.
     *
     * @return the number of objects not yet released; 0 once closed
     */
    public synchronized int liveObjects() {
        return context.liveObjects();
    }

    /**
     * OpenCL objects held by every open {@code OpenClLoss} of the process.
     *
     * @return the number of objects not yet released; 0 when every loss is closed
     */
    public static int liveObjectsInProcess() {
        return OpenClContext.liveObjectsInProcess();
    }

    /**
     * The driver's reference count of this loss's OpenCL context (some drivers count attached objects).
     *
     * @return {@code CL_CONTEXT_REFERENCE_COUNT} as the driver reports it
     * @throws IllegalStateException when this loss is closed
     */
    public synchronized int driverContextReferenceCount() {
        return context.driverContextReferenceCount();
    }

    /** Releases every OpenCL object this loss made, its {@link DeviceBuffer}s included. Idempotent. */
    @Override
    public synchronized void close() {
        release.clean();
    }

    /** The program: common helpers, the row functions for local and for global memory, the three kernels. */
    static String source() {
        String s = source;
        if (s == null) {
            String row = resource("row.cl");
            s = resource("common.cl")
                    + "\n#define ROW_SPACE __local\n#define ROW_FN row_local\n#define MEMBER_FN member_local\n" + row
                    + "\n#undef ROW_SPACE\n#undef ROW_FN\n#undef MEMBER_FN\n"
                    + "#define ROW_SPACE __global\n#define ROW_FN row_global\n#define MEMBER_FN member_global\n" + row
                    + "\n#undef ROW_SPACE\n#undef ROW_FN\n#undef MEMBER_FN\n" + resource("kernels.cl");
            source = s;
        }
        return s;
    }

    private static String resource(String name) {
        try (InputStream in = OpenClLoss.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + name + " is missing from the class path "
                        + "(dev/mild/opencl/" + name + " in mild-kernels-opencl)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read kernel source " + name, e);
        }
    }
}
