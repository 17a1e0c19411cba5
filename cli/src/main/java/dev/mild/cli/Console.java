package dev.mild.cli;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;

/** Where a command reads and writes; {@code terminal} says whether stdout is an interactive terminal. */
public record Console(InputStream in, PrintStream out, PrintStream err, boolean terminal) {
    /**
     * The process's streams. Standard output is rebuilt over its file descriptor through
     * {@link StdoutFailure#watched}, and installed as {@code System.out}, so that a failed write keeps its reason.
     */
    public static Console system() {
        PrintStream out = new PrintStream(new BufferedOutputStream(
                StdoutFailure.watched(new FileOutputStream(FileDescriptor.out)), 8192), true, System.out.charset());
        System.setOut(out);
        return new Console(System.in, out, System.err, System.console() != null && System.console().isTerminal());
    }
}
