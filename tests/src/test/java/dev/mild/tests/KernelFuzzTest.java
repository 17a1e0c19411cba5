package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.opencl.OpenClKernel;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * {@link KernelFuzz}'s seeded corner cases on every fast backend against the float64 reference: a fixed seed and
 * a case count that keeps the run near 15 s on two cores. OpenCL takes part when it is available (and must be,
 * when {@code MILD_TEST_REQUIRE} names it, as for the other tests: {@link Support#fastBackends}).
 *
 * <p>More cases, another seed, or one case again (its seed is printed with every failure):
 * <pre>
 *   mvn25 -q -B -pl tests -am verify -Dtest=KernelFuzzTest -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Dmild.fuzz.cases=20000 -Dmild.fuzz.seed=12
 *   ... -Dmild.fuzz.case=7000139
 * </pre>
 */
class KernelFuzzTest {

    static final int CASES = 600;
    static final long SEED = 2026_12_01L;

    @Test
    void everyBackendAgreesWithTheReferenceOnRandomCornerCases() {
        int cases = Integer.getInteger("mild.fuzz.cases", CASES);
        long seed = Long.getLong("mild.fuzz.seed", SEED);
        Long onlyCase = Long.getLong("mild.fuzz.case");
        List<String> backends = Support.fastBackends();
        if (!backends.contains(OpenClKernel.NAME)) {
            System.err.println("KernelFuzzTest: opencl not available, fuzzing " + backends);
        }
        long start = System.nanoTime();
        KernelFuzz.Report report = KernelFuzz.run(backends, seed, cases, onlyCase);
        String summary = String.format(Locale.ROOT, "KernelFuzzTest %s on %s: %s (%.1f s)",
                onlyCase != null ? "case seed " + onlyCase : "run seed " + seed, backends, report.summary(),
                (System.nanoTime() - start) / 1e9);
        System.out.println(summary);
        assertTrue(report.failures.isEmpty(), () -> report.failures.size()
                + " disagreements (-Dmild.fuzz.case=SEED reruns one case):\n  "
                + String.join("\n  ", report.failures.subList(0, Math.min(20, report.failures.size())))
                + "\n" + summary);
    }
}
