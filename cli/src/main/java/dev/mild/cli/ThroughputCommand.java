package dev.mild.cli;

import dev.mild.io.JsonOut;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.RandomBatch;
import dev.mild.loss.RowBlockKernel;
import dev.mild.opencl.DeviceBuffer;
import dev.mild.opencl.OpenClKernel;
import dev.mild.opencl.OpenClLoss;
import java.util.Arrays;
import java.util.Set;
import java.util.function.LongSupplier;

/** {@code ./mild throughput}: forward+backward samples per second of one backend on generated data. */
final class ThroughputCommand implements Command {
    /** Most softmax terms one call may compute ({@code --batch} x {@code --experts}^2 with distinct margins). */
    static final long MAX_TERMS_PER_CALL = 1_000_000_000L;

    @Override
    public String name() {
        return "throughput";
    }

    @Override
    public String summary() {
        return "measure loss+gradient samples per second of a backend on generated data";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild throughput [--backend NAME] [--experts P] [--batch B] [--equal-rho]
                                         [--nu X] [--threads T] [--seconds S] [--device SEL]

                Runs the loss forward and backward pass (per-row losses and the gradient of the mean)
                over and over on a generated batch of B rows x P experts, and prints one JSON object:
                  {"backend", "experts", "batch", "threads", "equalRho", "nu",
                   "samplesPerSecond", "nsPerSample"}
                A sample is one row (one input routed among P experts). A warm-up runs until the calls
                stop getting faster (the JIT compiler has finished: about a second for the SIMD
                backend, at most 20 s); then the run is cut into rounds of about 0.1 s and the figure
                is the median round, so a noisy machine moves it less. For the JMH benchmarks with
                side-by-side ratios, see bench/README.md.

                With --backend opencl "threads" is null and --threads is refused (the device schedules its
                own work; PoCL on a CPU uses every core unless POCL_MAX_PTHREAD_COUNT says otherwise) and
                the object has three more fields: "device" (the OpenCL device and launch layout), and
                "deviceResidentSamplesPerSecond" / "deviceResidentNsPerSample", the same call on data
                already in device buffers (what a trainer on a GPU sees; the plain figure includes
                copying the batch to the device and the gradient back on every call).

                Options:
                  --backend NAME  backend to measure (default: the automatic choice; see ./mild backends)
                  --experts P     number of experts (default 8)
                  --batch B       rows per call (default 65536); B x P is limited to 2e8 values and,
                                  with distinct margins, B x P x P to 1e9 terms per call (a run
                                  makes a dozen calls or more)
                  --equal-rho     all margins equal: one softmax per row (default: P distinct margins,
                                  one softmax per expert per row, MILD's general case)
                  --nu X          the loss's exponent: 1 (default) is MILD's logsumexp loss; another
                                  value (e.g. 0.5) measures the comp-sum member of that exponent,
                                  the general path of every backend
                  --threads T     worker threads of a CPU backend (default 1; 0 = all cores)
                  --seconds S     measuring time (default 3)
                  --device SEL    OpenCL device: index or name substring (default: a GPU, else an
                                  accelerator, else a CPU)

                Example:
                  ./mild throughput --backend scalar --experts 8 --batch 65536 --threads 1
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("backend", "experts", "batch", "nu", "threads", "seconds", "device");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("equal-rho");
    }

    @Override
    public int run(Args args, Console console) {
        args.positional(0, "no positional arguments");
        int p = args.intValue("experts", 8, 1, 100_000);
        int batch = args.intValue("batch", 65536, 1, 50_000_000);
        int threads = args.intValue("threads", 1, 0, KernelOptions.MAX_THREADS);
        double seconds = args.doubleValue("seconds", 3.0, 0.05, 3600.0);
        boolean equalRho = args.flag("equal-rho");
        double nu = args.doubleValue("nu", 1.0, 0.0, 1e6);
        if ((long) p * batch > 200_000_000L) {
            throw new UsageException("--experts x --batch is " + (long) p * batch + " values; keep it under 2e8");
        }
        // Distinct margins cost one softmax over the P experts per expert and row: P x P x B terms per call. The
        // warm-up and the rounds need a dozen calls or more, so a call of minutes would look like a hang.
        long termsPerCall = (long) batch * p * p;
        if (!equalRho && termsPerCall > MAX_TERMS_PER_CALL) {
            throw new UsageException("--experts " + p + " with distinct margins is " + p + " softmaxes of " + p
                    + " experts per row, " + termsPerCall + " terms per call with --batch " + batch + " (at most "
                    + MAX_TERMS_PER_CALL + "; a run makes a dozen calls or more): lower --batch or --experts,"
                    + " or give --equal-rho");
        }
        KernelOptions options = new KernelOptions(threads, args.value("device"));
        RandomBatch data = RandomBatch.of(42, batch, p, equalRho, nu);
        float[] rowLoss = new float[batch];
        float[] grad = new float[batch * p];
        try (LossKernel kernel = args.value("backend") == null ? Backends.openDefault(options)
                : Backends.open(args.value("backend"), options)) {
            if (args.value("device") != null && !(kernel instanceof OpenClKernel)) {
                // Refused rather than ignored: the figure would not be for the device asked for.
                throw new UsageException("--device selects an OpenCL device, but the backend measured is "
                        + kernel.name() + ": add --backend opencl, or drop --device");
            }
            if (args.value("threads") != null && !(kernel instanceof RowBlockKernel)) {
                // Refused rather than ignored, as --device above: the figure would not be for that thread count.
                String why = kernel instanceof OpenClKernel
                        ? " schedules its own work on the device (PoCL on a CPU: POCL_MAX_PTHREAD_COUNT)"
                        : " has none (it runs each call on the calling thread)";
                throw new UsageException("--threads sets the worker threads of a CPU backend, but " + kernel.name()
                        + why + ": drop --threads");
            }
            Runnable call = () -> kernel.lossAndGradient(data.config(), batch, data.scores(), 0, data.weights(), 0,
                    rowLoss, 0, grad, 0);
            double median = measure(call, batch, seconds);
            String deviceResident = kernel instanceof OpenClKernel ocl ? deviceResident(ocl.deviceLoss(), data, seconds) : "";
            // Host worker threads; null for a device backend, which schedules its own work-items.
            String usedThreads = kernel instanceof RowBlockKernel rb ? Integer.toString(rb.threads())
                    : kernel instanceof OpenClKernel ? "null" : Integer.toString(options.resolvedThreads());
            console.out().println("{\"backend\": " + JsonOut.quote(kernel.name()) + ", \"experts\": " + p
                    + ", \"batch\": " + batch + ", \"threads\": " + usedThreads + ", \"equalRho\": " + equalRho
                    + ", \"nu\": " + JsonOut.number(nu)
                    + ", \"samplesPerSecond\": " + JsonOut.number(Math.round(median))
                    + ", \"nsPerSample\": " + nsPerSample(median)
                    + deviceResident + "}");
        }
        return Main.OK;
    }

    /** The opencl figures on device buffers: the batch is copied to the device once, outside the timing. */
    private static String deviceResident(OpenClLoss loss, RandomBatch data, double seconds) {
        int batch = data.rows();
        long n = (long) batch * data.experts();
        try (DeviceBuffer scores = loss.allocate(n, "scores"); DeviceBuffer weights = loss.allocate(n, "weights");
             DeviceBuffer rowLoss = loss.allocate(batch, "row loss"); DeviceBuffer grad = loss.allocate(n, "gradient")) {
            scores.write(data.scores());
            weights.write(data.weights());
            double median = measure(() -> loss.lossAndGradient(data.config(), batch, scores, 0, weights, 0, rowLoss, 0,
                    grad, 0), batch, seconds);
            return ", \"device\": " + JsonOut.quote(loss.describe())
                    + ", \"deviceResidentSamplesPerSecond\": " + JsonOut.number(Math.round(median))
                    + ", \"deviceResidentNsPerSample\": " + nsPerSample(median);
        }
    }

    /** Nanoseconds per sample at {@code samplesPerSecond}, as a JSON number to 3 decimals. */
    private static String nsPerSample(double samplesPerSecond) {
        return JsonOut.number(Math.round(1e9 / samplesPerSecond * 1000.0) / 1000.0);
    }

    /** Median samples per second over rounds of about 0.1 s, after {@link Timing#warmUp}. */
    static double measure(Runnable call, int batch, double seconds) {
        Timing.warmUp(call);
        return medianRate(call, batch, seconds, System::nanoTime);
    }

    /**
     * Median samples per second of a warmed-up call over rounds of about 0.1 s for {@code seconds} (at least five
     * rounds), on the given clock (nanoseconds). A round's calls come from the fastest of three calls, and the
     * rounds go on until the time is up: sized from one call and counted (seconds / 0.1 of them), one call slowed
     * by another process made every round, and so the run, shorter (--seconds 4 measured for 1.7 s).
     */
    static double medianRate(Runnable call, int batch, double seconds, LongSupplier clock) {
        long one = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = clock.getAsLong();
            call.run();
            one = Math.min(one, Math.max(1, clock.getAsLong() - t0));
        }
        int perRound = (int) Math.max(1, Math.min(1_000_000, 100_000_000L / one));
        double[] rates = new double[(int) Math.max(8, seconds / 0.1 + 1)];
        int rounds = 0;
        long end = clock.getAsLong() + (long) (seconds * 1e9);
        while (rounds < 5 || clock.getAsLong() < end) {
            long s = clock.getAsLong();
            for (int r = 0; r < perRound; r++) {
                call.run();
            }
            long dt = Math.max(1, clock.getAsLong() - s);
            if (rounds == rates.length) {
                rates = Arrays.copyOf(rates, 2 * rounds);
            }
            rates[rounds++] = (double) batch * perRound / (dt * 1e-9);
        }
        double[] used = Arrays.copyOf(rates, rounds);
        Arrays.sort(used);
        return rounds % 2 == 1 ? used[rounds / 2] : 0.5 * (used[rounds / 2 - 1] + used[rounds / 2]);
    }
}
