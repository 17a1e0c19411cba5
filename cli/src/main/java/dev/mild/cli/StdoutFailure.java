package dev.mild.cli;

import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Standard output failed (a full disk, a closed descriptor, a reader that went away). A {@link PrintStream} only
 * records that ({@link PrintStream#checkError}); a command that must stop writing at once throws this, and
 * {@link Main} checks every command's output when it ends. Exit code 2, like a model file that cannot be written.
 */
final class StdoutFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    static final String MESSAGE = "cannot write to standard output (disk full or closed)";

    StdoutFailure(String more) {
        super(MESSAGE + more);
    }

    /** Flushes {@code out} and throws when anything written to it so far was lost. */
    static void check(PrintStream out) {
        if (out.checkError()) {   // flushes first
            throw new StdoutFailure("");
        }
    }

    /** {@code out} as a stream whose writes and flushes fail with this exception once {@code out} has failed. */
    static OutputStream checked(PrintStream out) {
        return new OutputStream() {
            @Override
            public void write(int b) {
                out.write(b);
                check(out);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                out.write(b, off, len);
                check(out);
            }

            @Override
            public void flush() {
                check(out);
            }
        };
    }
}
