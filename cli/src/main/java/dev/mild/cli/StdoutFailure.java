package dev.mild.cli;

import java.io.IOException;
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

    /** The last write error of a {@link #watched} stream (standard output's), or null. */
    private static volatile IOException lastError;

    /**
     * {@code raw} recording the error of a failed write, which a {@link PrintStream} over it keeps to itself: so that
     * a reader that went away ({@code ./mild route ... | head -1}: a broken pipe) can be told from a full disk.
     */
    static OutputStream watched(OutputStream raw) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                try {
                    raw.write(b);
                } catch (IOException e) {
                    lastError = e;
                    throw e;
                }
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    raw.write(b, off, len);
                } catch (IOException e) {
                    lastError = e;
                    throw e;
                }
            }

            @Override
            public void flush() throws IOException {
                try {
                    raw.flush();
                } catch (IOException e) {
                    lastError = e;
                    throw e;
                }
            }
        };
    }

    /** Forgets the last write error (each command line starts afresh). */
    static void reset() {
        lastError = null;
    }

    /**
     * True when standard output failed because its reader closed the pipe: the reader had what it wanted, as when
     * {@code head} exits, so the command stops quietly, as Unix tools do on SIGPIPE, instead of reporting an error.
     */
    static boolean readerGone() {
        IOException e = lastError;
        return e != null && e.getMessage() != null && e.getMessage().contains("Broken pipe");
    }

    /** Flushes {@code out} and throws when anything written to it so far was lost. */
    static void check(PrintStream out) {
        check(out, "");
    }

    /** The same, with {@code more} after the message (what was saved regardless). */
    static void check(PrintStream out, String more) {
        if (out.checkError()) {   // flushes first
            throw new StdoutFailure(more);
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
