package dev.mild.cli;

import dev.mild.io.DeferralGolden;
import dev.mild.io.GoldenCase;
import dev.mild.io.GoldenCheck;
import dev.mild.io.Json;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossKernel;
import dev.mild.loss.Tolerance;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code ./mild golden [FILE] [--backend NAME]}: every case of a golden file against one or every backend;
 * without FILE, the two golden files built into the jar.
 */
final class GoldenCommand implements Command {
    /** The golden files built into the jar, in the order they are checked without a FILE. */
    private static final List<String> BUILT_IN = List.of("surrogate-cases.json", "deferral-cases.json");

    @Override
    public String name() {
        return "golden";
    }

    @Override
    public String summary() {
        return "check the backends and the deferral math against reference values (golden JSON files)";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild golden [FILE] [--backend NAME] [--threads T]

                Checks this project's code against expected values computed independently in float64.
                Without FILE, both golden files built into this jar (copies of ../shared/golden:
                surrogate-cases.json, then deferral-cases.json; --backend and --threads apply to
                the first). FILE is one of two formats.

                Loss cases (../shared/golden/surrogate-cases.json is one):
                  {"cases": [{"name", "nu", "rho", "delta", "scores", "weights",
                              "rowLoss", "meanLoss", "gradMeanLoss"}, ...]}
                Each case is run on the backend (every usable backend when --backend is not given),
                and one JSON object is printed per case and backend:
                  {"case": ..., "backend": ..., "lossRelErr": x, "gradErr": y, "gradTermErr": z,
                   "ok": true|false}
                where
                  lossRelErr  = max_i |l_i - l*_i| / max(1, m*_i)       (per-row losses)
                  gradErr     = max |g - g*| / max |g*|                 (gradient of the mean loss)
                  gradTermErr = max |g - g*| / max T*
                with m*_i = sum_k |w_k| Phi(S_k), the size of row i's terms in float64 (|l*_i| when
                no weight is negative: float32 errors scale with the terms, which signed weights
                can cancel), and T* the size of each gradient entry's terms (sum of the absolute
                values of its contributions; near a stationary point the gradient is far smaller)
                and ok means the loss and the gradient are within the backend's tolerance:
                  reference (float64): lossRelErr 1e-10, gradErr 1e-10;
                  float32 backends: lossRelErr 1e-5, and gradErr 1e-4 or gradTermErr 5e-5.

                Deferral cases (../shared/golden/deferral-cases.json), any of three sections:
                  deferralLoss  router scores and costs -> each row's expert (highest score, ties to
                                the highest index), per-row and mean deferral loss; the scores are
                                read as float32, as a router's are, so scores float32 cannot tell
                                apart (1.00000001 and 1) are a tie
                  rewards       costs -> the weights of each rewards rule (sum-others, ...)
                  theoryRho     oracle labels, input norms, p, rhoBar -> the paper's theory margins
                checked against core's float64 code (no backend), one JSON object per check:
                  {"case": ..., "maxAbsErr": x, "mismatches": n, "ok": true|false}
                where mismatches counts the router's choices that differ, and ok means none do and
                maxAbsErr <= 1e-12.

                Options:
                  --backend NAME   reference, scalar, simd, opencl (see ./mild backends)
                  --threads T      worker threads for the scalar and simd backends (default: all cores);
                                   a kernel hands rows to its threads 2048 at a time, so it changes what
                                   runs only for cases of more rows (the built-in ones have at most 300)

                Example:
                  ./mild golden                      # everything built in, every usable backend
                  ./mild golden ../shared/golden/surrogate-cases.json --backend simd
                  ./mild golden ../shared/golden/deferral-cases.json

                Exit code: 0 when every case is ok, 1 when any is not, 2 for a bad or unreadable file
                (strict JSON: a key twice in one object is bad too) or for --backend/--threads with a
                FILE of deferral cases.
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("backend", "threads");
    }

    @Override
    public int run(Args args, Console console) {
        int threads = args.intValue("threads", 0, 0, KernelOptions.MAX_THREADS);
        if (args.positional().isEmpty()) {
            boolean allOk = true;
            for (String name : BUILT_IN) {
                String source = "built-in " + name;
                Object root = Json.parse(builtIn(name), source);
                allOk &= GoldenCase.isCaseFormat(root)
                        ? lossCases(root, source, args, threads, console)
                        : deferralCases(root, source, console);
            }
            return allOk ? Main.OK : Main.CHECK_FAILED;
        }
        Path file = Path.of(args.positional(1, "at most one golden FILE").get(0));
        Object root = GoldenCase.readJson(file);
        if (!GoldenCase.isCaseFormat(root) && DeferralGolden.isDeferralFormat(root)) {
            if (args.value("backend") != null || args.value("threads") != null) {
                throw new UsageException(file + " holds deferral cases (deferral loss, rewards, theory rho), which"
                        + " are computed in float64 by core, not by a loss backend: drop --backend and --threads");
            }
            return deferralCases(root, file.toString(), console) ? Main.OK : Main.CHECK_FAILED;
        }
        return lossCases(root, file.toString(), args, threads, console) ? Main.OK : Main.CHECK_FAILED;
    }

    /** Loss cases on the backend named by --backend, or every usable one; true when all are ok. */
    private static boolean lossCases(Object root, String source, Args args, int threads, Console console) {
        List<GoldenCase> cases = GoldenCase.fromRoot(root, source);
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
            console.err().println("mild golden: some cases of " + source + " are outside tolerance (float32"
                    + " backends: loss " + t.lossRelative() + ", gradient " + t.gradNormwise() + " normwise or "
                    + t.gradTermwise() + " of its terms)");
        }
        return allOk;
    }

    /** The deferral format: core's float64 code, no backend involved; true when all checks are ok. */
    private static boolean deferralCases(Object root, String source, Console console) {
        boolean allOk = true;
        for (DeferralGolden.Result r : DeferralGolden.check(root, source)) {
            console.out().println(r.toJson());
            allOk &= r.ok();
        }
        if (!allOk) {
            console.err().println("mild golden: some deferral cases of " + source + " differ (values by more than "
                    + DeferralGolden.TOLERANCE + ", or the router's choices)");
        }
        return allOk;
    }

    /** The text of a golden file built into the jar. */
    private static String builtIn(String name) {
        try (InputStream in = GoldenCommand.class.getResourceAsStream("golden/" + name)) {
            if (in == null) {
                throw new IllegalStateException("golden/" + name + " is missing from the jar: rebuild it (./mild test)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
