package dev.mild.opencl;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jocl.cl_device_id;

/**
 * The loss kernels' program binaries, kept for the life of the process so that a context opened after the first
 * loads its program ({@code clCreateProgramWithBinary}) instead of compiling the source again: on PoCL that took
 * an open and close from a median of 40-62 ms to 3 ms ({@code ./mild bench OpenClOpen}), and keeps the compiler's
 * front end, whose temporary files LLVM's crash handlers delete ({@link OpenClContext#LOST_TEMPORARY}), out of
 * every later open. Keyed by device, source and build options, so a binary is only ever loaded where the same
 * program was built.
 *
 * <p>A binary is fetched at the second source build of a key, not the first: PoCL compiles every kernel once more
 * to hand it out (1.1-1.6 s with a cold kernel cache or {@code POCL_KERNEL_CACHE=0}, about 1 ms from a warm one),
 * which a process that opens one loss would pay for nothing. A binary the driver refuses is not offered again:
 * that key is built from source from then on.
 *
 * <p>Thread-safe: every method holds this class's lock, never across a build. Two threads that open at once may
 * both build from source or both fetch a binary; the last stored wins, and all are the same program. Bounded: at
 * most {@link #CAPACITY} keys (on PoCL a binary is 130-490 KB), the least recently used forgotten first.
 */
final class ProgramBinaries {

    /** Keys kept: one per device in ordinary use; the tests' variants of the source add a few. */
    static final int CAPACITY = 8;

    record Key(cl_device_id device, String source, String options) {
    }

    /**
     * What is known of a key: built from source once ({@code binary == null}, not refused), a binary to load, or
     * refused (the driver would not take its own binary, or gave none): build from source.
     */
    private record Known(byte[] binary, boolean refused) {
    }

    private static final Map<Key, Known> ENTRIES = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Known> eldest) {
            return size() > CAPACITY;
        }
    };

    private ProgramBinaries() {
    }

    /** False when {@link OpenClLoss#PROGRAM_BINARIES_PROPERTY} is {@code false}: every open builds from source. */
    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty(OpenClLoss.PROGRAM_BINARIES_PROPERTY, "").strip());
    }

    /** The binary to load for {@code key}, or {@code null}: build from source. */
    static synchronized byte[] binary(Key key) {
        Known e = ENTRIES.get(key);
        return e == null ? null : e.binary;
    }

    /**
     * Notes a successful source build of {@code key}.
     *
     * @return true when the key was built before and not refused: its binary is worth fetching now
     */
    static synchronized boolean builtFromSource(Key key) {
        Known e = ENTRIES.get(key);
        if (e == null) {
            ENTRIES.put(key, new Known(null, false));
            return false;
        }
        return !e.refused;
    }

    static synchronized void store(Key key, byte[] binary) {
        ENTRIES.put(key, new Known(binary, false));
    }

    /** Builds {@code key} from source from now on (its binary was refused, or none could be had). */
    static synchronized void refuse(Key key) {
        ENTRIES.put(key, new Known(null, true));
    }

    /** True when {@code key} is built from source for good (for tests). */
    static synchronized boolean refused(Key key) {
        Known e = ENTRIES.get(key);
        return e != null && e.refused;
    }

    /** Keys known (for tests). */
    static synchronized int size() {
        return ENTRIES.size();
    }

    /** Forgets every key (for tests: the next open of each builds from source). */
    static synchronized void clear() {
        ENTRIES.clear();
    }
}
