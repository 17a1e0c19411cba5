package dev.mild.simd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips a forced-width run of this module's tests that would repeat the default run: the pom's 256-bit run on an
 * AVX2-only CPU, whose own width is 256 bits, and its emulated 512-bit run on an AVX-512 one. Only where the pom
 * asks ({@value #PROPERTY}=true); the CPU's own width is what a JVM without this run's options prefers, asked of a
 * child JVM once, since this JVM's options ({@code -XX:UseAVX=2}) may have changed its own preference.
 */
public final class RepeatOfTheDefaultRun implements ExecutionCondition {
    /** Test-only property, set by the pom's forced-width executions. */
    static final String PROPERTY = "mild.test.skipRepeatOfDefaultRun";

    private static int defaultBits = -1; // -1: not asked yet; 0: could not tell

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        int forced = SimdKernelProvider.forcedBits();
        if (!Boolean.getBoolean(PROPERTY) || forced == 0) {
            return ConditionEvaluationResult.enabled("not a forced-width run asked to skip repeats");
        }
        int own = defaultBits();
        return own == forced
                ? ConditionEvaluationResult.disabled("this run repeats the default one: the CPU's own width is already "
                        + own + " bits")
                : ConditionEvaluationResult.enabled("the CPU's own width is " + (own == 0 ? "unknown" : own + " bits")
                        + ", this run's " + forced);
    }

    private static synchronized int defaultBits() {
        if (defaultBits < 0) {
            defaultBits = askAChildJvm();
        }
        return defaultBits;
    }

    /** The preferred vector width of a JVM with the module and no other option; 0 (run everything) if it fails. */
    private static int askAChildJvm() {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                RepeatOfTheDefaultRun.class.getName());
        try {
            Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = child.getInputStream().readAllBytes();
            if (!child.waitFor(60, TimeUnit.SECONDS) || child.exitValue() != 0) {
                child.destroyForcibly();
                return 0;
            }
            return Integer.parseInt(new String(out, StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** Prints this JVM's preferred vector width in bits. */
    public static void main(String[] args) {
        System.out.println(VectorShape.preferredShape().vectorBitSize());
    }
}
