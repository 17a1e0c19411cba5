package dev.mild.cli;

import java.io.InputStream;
import java.io.PrintStream;

/** Where a command reads and writes; {@code terminal} says whether stdout is an interactive terminal. */
public record Console(InputStream in, PrintStream out, PrintStream err, boolean terminal) {
    public static Console system() {
        return new Console(System.in, System.out, System.err, System.console() != null && System.console().isTerminal());
    }
}
