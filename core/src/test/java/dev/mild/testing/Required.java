package dev.mild.testing;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the environment promises, for the tests of every module: the comma-separated names in the environment
 * variable {@value #ENV} (set by .ci/run) together with those in the system property {@value #PROPERTY}
 * ({@code mvn -Dmild.test.require=simd,opencl}, passed on by the poms' surefire configuration). When anything
 * is required, the full environment is promised (the backends named, the data sets .ci/run installs), so a
 * test that would skip for lack of something fails instead. (Plain Java: core's tests do not use JUnit.)
 */
public final class Required {
    public static final String ENV = "MILD_TEST_REQUIRE";
    public static final String PROPERTY = "mild.test.require";

    private Required() {
    }

    /** The names required by the environment variable and the property, in order, without repeats. */
    public static List<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (String setting : new String[] {System.getenv(ENV), System.getProperty(PROPERTY)}) {
            if (setting != null) {
                Arrays.stream(setting.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(names::add);
            }
        }
        return List.copyOf(names);
    }

    /** How the requirement was given, for failure messages. */
    public static String describe() {
        return ENV + " / -D" + PROPERTY + " = " + String.join(",", names());
    }

    /** True when anything is required: this is the full environment (as .ci/run sets it up). */
    public static boolean fullEnvironment() {
        return !names().isEmpty();
    }
}
