package dev.mild.cli;

import dev.mild.io.DeferralGolden;
import dev.mild.io.GoldenCase;
import dev.mild.io.GoldenCheck;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.Tolerance;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code ./mild golden FILE [--backend NAME]}: every case of a golden file against one or every backend. */
final class GoldenCommand implements Command {
    @Override
    public String name() {
        return "golden";
    }

    @Override
    public String summary() {
        return "check a backend against reference values in a golden JSON file";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild golden FILE [--backend NAME] [--threads T]

                Checks this project's code against expected values computed independently in float64.
                FILE is one of two formats.

                Loss cases (../shared/golden/surrogate-cases.json is one):
                  {"cases": [{"name", "nu", "rho", "delta", "scores", "weights",
                              "rowLoss", "meanLoss", "gradMeanLoss"}, ...]}
                Each case is run on the backend (every usable backend when --backend is not given),
                and one JSON object is printed per case and backend:
                  {"case": ..., "backend": ..., "lossRelErr": x, "gradErr": y, "ok": true|false}
                where
                  lossRelErr = max_i |l_i - l*_i| / max(1, |l*_i|)     (per-row losses)
                  gradErr    = max |g - g*| / max |g*|                 (gradient of the mean loss)
                and ok means both are within the backend's tolerance:
                  reference (float64): 1e-10 and 1e-10; float32 backends: 1e-5 and 1e-4.

                Deferral cases (../shared/golden/deferral-cases.json), any of three sections:
                  deferralLoss  router scores and costs -> each row's expert (highest score, ties to
                                the highest index), per-row and mean deferral loss
                  rewards       costs -> the weights of each rewards rule (sum-others, ...)
                  theoryRho     oracle labels, input norms, p, rhoBar -> the paper's theory margins
                checked against core's float64 code (no backend), one JSON object per check:
                  {"case": ..., "maxAbsErr": x, "mismatches": n, "ok": true|false}
                where mismatches counts the router's choices that differ, and ok means none do and
                maxAbsErr <= 1e-12.

                Options:
                  --backend NAME   reference, scalar, simd, opencl (see ./mild backends)
                  --threads T      worker threads for CPU backends (default: all cores)

                Example:
                  ./mild golden ../shared/golden/surrogate-cases.json --backend simd
                  ./mild golden ../shared/golden/deferral-cases.json

                Exit code: 0 when every case is ok, 1 when any is not, 2 for a bad or unreadable file.
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("backend", "threads");
    }

    @Override
    public int run(Args args, Console console) {
        Path file = Path.of(args.positional(1, "one golden FILE").get(0));
        int threads = args.intValue("threads", 0, 0, 4096);
        Object root = GoldenCase.readJson(file);
        if (!GoldenCase.isCaseFormat(root) && DeferralGolden.isDeferralFormat(root)) {
            return deferral(root, file, args, console);
        }
        List<GoldenCase> cases = GoldenCase.fromRoot(root, file.toString());
        List<String> names = args.value("backend") != null ? List.of(args.value("backend")) : Backends.availableNames();
        boolean allOk = true;
        for (String name : names) {
            try (LossKernel kernel = Backends.open(name, new KernelOptions(threads, null))) {
                for (GoldenCase c : cases) {
                    GoldenCheck.Result r = GoldenCheck.run(c, kernel);
                    console.out().println(r.toJson());
                    allOk &= r.ok();
                }
            }
        }
        if (!allOk) {
            Tolerance t = Tolerance.FLOAT32;
            console.err().println("mild golden: some cases are outside tolerance (float32 backends: loss "
                    + t.lossRelative() + ", gradient " + t.gradNormwise() + ")");
        }
        return allOk ? Main.OK : Main.CHECK_FAILED;
    }

    /** The deferral format: core's float64 code, no backend involved. */
    private static int deferral(Object root, Path file, Args args, Console console) {
        if (args.value("backend") != null || args.value("threads") != null) {
            throw new UsageException(file + " holds deferral cases (deferral loss, rewards, theory rho), which are"
                    + " computed in float64 by core, not by a loss backend: drop --backend and --threads");
        }
        boolean allOk = true;
        for (DeferralGolden.Result r : DeferralGolden.check(root, file.toString())) {
            console.out().println(r.toJson());
            allOk &= r.ok();
        }
        if (!allOk) {
            console.err().println("mild golden: some deferral cases differ (values by more than "
                    + DeferralGolden.TOLERANCE + ", or the router's choices)");
        }
        return allOk ? Main.OK : Main.CHECK_FAILED;
    }
}
