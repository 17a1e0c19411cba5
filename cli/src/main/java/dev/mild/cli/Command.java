package dev.mild.cli;

import java.util.Set;

/** One {@code ./mild} sub-command. */
interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** The full {@code --help} text: what it does, usage, options, an example, what the output means. */
    String help();

    /** Options that take a value (without dashes). */
    Set<String> valueOptions();

    /** Options that take none. */
    default Set<String> flagOptions() {
        return Set.of();
    }

    /** Runs the command; returns the exit code ({@link Main#OK}, {@link Main#CHECK_FAILED}). */
    int run(Args args, Console console) throws Exception;
}
