package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * The machinery of {@link ReaderFuzzTest}: seeded cases, byte-level mutations, and the check every mutated input
 * gets. A reader given a mutated input must either accept it, and then return what an independent oracle of the
 * test expects, or refuse it with an {@link InvalidInputException} whose message names the source and a place in
 * it. Any other exception or error (an ArrayIndexOutOfBoundsException, an OutOfMemoryError, an
 * InvalidInputException wrapping one) is a failure. Failures are collected with what replays them: the case seed
 * of a seeded case ({@code -Dmild.readerfuzz.case=SEED}), or the exact mutation of an exhaustive one.
 */
final class ReaderFuzz {
    /** The run seed when {@code -Dmild.readerfuzz.seed} is not given. */
    static final long SEED = 2026_12_02L;

    private ReaderFuzz() {
    }

    /** The run seed: {@code -Dmild.readerfuzz.seed}, else {@link #SEED}. */
    static long runSeed() {
        return Long.getLong("mild.readerfuzz.seed", SEED);
    }

    /**
     * The seeds of a reader's cases: only {@code -Dmild.readerfuzz.case} when it is given, else {@code cases}
     * seeds of the run (scaled by {@code -Dmild.readerfuzz.cases}, a factor of the CI counts, default 1).
     */
    static long[] caseSeeds(int cases) {
        Long only = Long.getLong("mild.readerfuzz.case");
        if (only != null) {
            return new long[] {only};
        }
        int n = (int) Math.round(cases * Double.parseDouble(System.getProperty("mild.readerfuzz.cases", "1")));
        long[] seeds = new long[n];
        for (int i = 0; i < n; i++) {
            seeds[i] = runSeed() * 1_000_003L + i;
        }
        return seeds;
    }

    /** Whether only one case is replayed ({@code -Dmild.readerfuzz.case}): exhaustive loops are skipped then. */
    static boolean replayingOneCase() {
        return Long.getLong("mild.readerfuzz.case") != null;
    }

    /** A reading of a mutated input. */
    @FunctionalInterface
    interface Reading<T> {
        T read() throws Exception;
    }

    /** The independent check of what a reader returned: null when it is right, else what is wrong. */
    @FunctionalInterface
    interface Oracle<T> {
        String problem(T result) throws Exception;
    }

    /** One reader's cases: how many were accepted and refused, and the failures. */
    static final class Run {
        private static final int SHOWN_FAILURES = 25;
        final String reader;
        int accepted;
        int refused;
        final List<String> failures = new ArrayList<>();
        private final long start = System.nanoTime();
        private String lastRefusal;

        Run(String reader) {
            this.reader = reader;
        }

        /**
         * Reads one mutated input and checks it.
         *
         * @param replay   what replays the case: its seed and mutations, or the exact exhaustive mutation
         * @param source   the source label or file name the reader was given: every refusal's message names it
         * @param location whether a refusal's message names a place in the source (a line, a column, an offset, a
         *                 part); a reader's whole-file messages pass it too
         * @param reading  the reading
         * @param oracle   the check of an accepted input's result
         */
        <T> void check(String replay, String source, Predicate<String> location, Reading<T> reading,
                       Oracle<T> oracle) {
            T result;
            lastRefusal = null;
            try {
                result = reading.read();
            } catch (InvalidInputException e) {
                refused++;
                lastRefusal = e.getMessage();
                String problem = refusalProblem(e, source, location);
                if (problem != null) {
                    fail(replay, problem);
                }
                return;
            } catch (Throwable t) {
                fail(replay, "threw " + stack(t));
                return;
            }
            accepted++;
            try {
                String problem = oracle.problem(result);
                if (problem != null) {
                    fail(replay, "accepted, but " + problem);
                }
            } catch (Exception | AssertionError e) {
                fail(replay, "accepted, and the oracle failed: " + stack(e));
            }
        }

        /**
         * Fails the case just checked unless it was accepted: for inputs known to be valid. Call right after
         * {@link #check} for it.
         */
        void mustAccept(String replay) {
            if (lastRefusal != null) {
                fail(replay, "a valid input refused: " + lastRefusal);
            }
        }

        void fail(String replay, String problem) {
            failures.add(reader + ", " + replay + ": " + problem);
        }

        /** Asserts that no case failed; prints the counts either way. */
        void assertNoFailures() {
            String summary = String.format(Locale.ROOT, "ReaderFuzzTest %s, run seed %d: %d cases, %d accepted,"
                    + " %d refused, %d failures (%.1f s)", reader, runSeed(), accepted + refused + failures.size(),
                    accepted, refused, failures.size(), (System.nanoTime() - start) / 1e9);
            System.out.println(summary);
            assertTrue(failures.isEmpty(), () -> failures.size() + " failures (-Dmild.readerfuzz.case=SEED replays a"
                    + " seeded case):\n  " + String.join("\n  ", failures.subList(0, Math.min(SHOWN_FAILURES,
                    failures.size()))) + "\n" + summary);
        }
    }

    /** Why a refusal is not a clear one, or null: its message must name the source and a place, and hide no bug. */
    static String refusalProblem(InvalidInputException e, String source, Predicate<String> location) {
        String message = e.getMessage();
        if (message == null || !message.contains(source)) {
            return "the message does not name the source " + source + ": " + message;
        }
        if (!location.test(message)) {
            return "the message names no place in the source: " + message;
        }
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            boolean bug = cause instanceof Error
                    || cause instanceof RuntimeException && !(cause instanceof InvalidInputException);
            if (bug) {
                return "the refusal wraps " + stack(cause) + "\n    message: " + message;
            }
        }
        return null;
    }

    static String stack(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        String[] lines = w.toString().split("\n");
        return String.join("\n    ", Arrays.copyOf(lines, Math.min(lines.length, 8)));
    }

    // ---- byte-level mutations --------------------------------------------------------------------------------

    /** Bytes that readers treat specially: separators, line ends, quotes, NUL, bytes that are never UTF-8 alone. */
    static final byte[][] SPECIAL_BYTES = {
        {0}, {','}, {'\n'}, {'\r'}, {'\r', '\n'}, {' '}, {'\t'}, {'"'}, {'\\'}, {'-'}, {'.'}, {'e'}, {'0'}, {'9'},
        {0x0b}, {0x0c}, {0x1b}, {0x01}, {0x1c}, {0x7f}, {(byte) 0x80}, {(byte) 0xc3}, {(byte) 0xff}, {(byte) 0xfe},
        utf8("\uFEFF"), utf8("\u00a0"), utf8("\u2028"), utf8("\u202e"), utf8("\u0661"), {(byte) 0xed, (byte) 0xa0,
        (byte) 0x80}, {(byte) 0xc0, (byte) 0x80}, {'[', '{'}, {']'}, {'}'}, {':'}};

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] truncate(byte[] b, int length) {
        return Arrays.copyOf(b, length);
    }

    static byte[] insert(byte[] b, int at, byte[] what) {
        byte[] out = new byte[b.length + what.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(b, at, out, at + what.length, b.length - at);
        return out;
    }

    static byte[] delete(byte[] b, int at, int length) {
        byte[] out = new byte[b.length - length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + length, out, at, b.length - at - length);
        return out;
    }

    /** {@code b} with the big-endian int at {@code at} replaced (as IDX headers and model payloads store ints). */
    static byte[] putInt(byte[] b, int at, int value) {
        byte[] out = b.clone();
        ByteBuffer.wrap(out).putInt(at, value);
        return out;
    }

    /**
     * One random byte-level mutation of {@code b}: a truncation, a flipped bit, a byte set or inserted (one of
     * {@link #SPECIAL_BYTES} or any), a range deleted or repeated. Its description is appended to {@code log}.
     */
    static byte[] mutateBytes(byte[] b, SplittableRandom r, StringBuilder log) {
        int at = r.nextInt(b.length + 1);
        switch (r.nextInt(7)) {
            case 0 -> {
                log.append(" truncated to ").append(at).append(" bytes;");
                return truncate(b, at);
            }
            case 1 -> {
                if (at == b.length) {
                    return mutateBytes(b, r, log);
                }
                int bit = r.nextInt(8);
                log.append(" bit ").append(bit).append(" of byte ").append(at).append(" flipped;");
                byte[] out = b.clone();
                out[at] ^= (byte) (1 << bit);
                return out;
            }
            case 2 -> {
                byte[] what = SPECIAL_BYTES[r.nextInt(SPECIAL_BYTES.length)];
                log.append(" ").append(hex(what)).append(" inserted at ").append(at).append(';');
                return insert(b, at, what);
            }
            case 3 -> {
                if (at == b.length) {
                    return mutateBytes(b, r, log);
                }
                byte[] what = SPECIAL_BYTES[r.nextInt(SPECIAL_BYTES.length)];
                int n = Math.min(what.length, b.length - at);
                log.append(" bytes ").append(at).append("..").append(at + n - 1).append(" set to ")
                        .append(hex(Arrays.copyOf(what, n))).append(';');
                byte[] out = b.clone();
                System.arraycopy(what, 0, out, at, n);
                return out;
            }
            case 4 -> {
                int n = Math.min(b.length - at, 1 + r.nextInt(8));
                log.append(" ").append(n).append(" bytes deleted at ").append(at).append(';');
                return delete(b, at, n);
            }
            case 5 -> {
                int n = Math.min(b.length - at, 1 + r.nextInt(16));
                log.append(" ").append(n).append(" bytes at ").append(at).append(" repeated;");
                return insert(b, at, Arrays.copyOfRange(b, at, at + n));
            }
            default -> {
                byte[] what = {(byte) r.nextInt(256)};
                log.append(" ").append(hex(what)).append(" inserted at ").append(at).append(';');
                return insert(b, at, what);
            }
        }
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder("0x");
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }
}
