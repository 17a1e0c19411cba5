package dev.mild.opencl;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;

/**
 * PoCL (the OpenCL driver for CPUs) lists no device at all when it cannot create its kernel cache directory, and
 * says why only with {@code POCL_DEBUG} set. Without this, a service account whose home does not exist (Debian's
 * {@code nobody}: {@code /nonexistent}) or is read-only was told to install an OpenCL driver it already had. With a
 * directory that exists but that it may not write, PoCL lists its device and every build fails ("failed to build
 * the program").
 *
 * <p>The directory is PoCL's (3.x, Linux): {@code POCL_CACHE_DIR} when set, else {@code $XDG_CACHE_HOME/pocl/kcache}
 * when that is set and not empty, else {@code $HOME/.cache/pocl/kcache}, else under /tmp ({@code uncached} in place
 * of {@code kcache} with {@code POCL_KERNEL_CACHE=0}).
 */
final class PoclCache {
    /** The platform name PoCL reports. */
    static final String PLATFORM = "Portable Computing Language";

    private PoclCache() {
    }

    /**
     * Why PoCL cannot create or write its cache directory under this environment, or null when it can (or the
     * directory is not known: no POCL_CACHE_DIR, XDG_CACHE_HOME or HOME). Looks only, creates nothing.
     *
     * @param env the process's environment ({@link System#getenv()})
     * @return e.g. "PoCL lists no device, or builds nothing, when it cannot write its kernel cache, and
     *         /nonexistent/.cache/pocl/kcache (from HOME=/nonexistent) cannot be created or written: /nonexistent does
     *         not exist and / is not writable by this user; set POCL_CACHE_DIR to a writable directory, e.g.
     *         POCL_CACHE_DIR=/tmp/pocl-cache"
     */
    static String problem(Map<String, String> env) {
        String from;
        String dir;
        String leaf = "0".equals(env.get("POCL_KERNEL_CACHE")) ? "pocl/uncached" : "pocl/kcache";
        if (env.get("POCL_CACHE_DIR") != null) {
            from = "POCL_CACHE_DIR";
            dir = env.get(from);
        } else if (env.get("XDG_CACHE_HOME") != null && !env.get("XDG_CACHE_HOME").isEmpty()) {
            from = "XDG_CACHE_HOME";
            dir = env.get(from) + "/" + leaf;
        } else if (env.get("HOME") != null) {
            from = "HOME";
            dir = env.get(from) + "/.cache/" + leaf;
        } else {
            return null;
        }
        String why = whyNotCreatable(dir);
        if (why == null) {
            return null;
        }
        return "PoCL lists no device, or builds nothing, when it cannot write its kernel cache, and " + dir + " (from "
                + from + "=" + env.get(from) + ") cannot be created or written: " + why + "; set POCL_CACHE_DIR to a"
                + " writable directory, e.g. POCL_CACHE_DIR=/tmp/pocl-cache";
    }

    /** Null when {@code dir} is a writable directory or its nearest existing parent is one; else why not. */
    private static String whyNotCreatable(String dir) {
        Path p;
        try {
            p = Path.of(dir).toAbsolutePath();
        } catch (InvalidPathException e) {
            return "not a valid path (" + e.getReason() + ")";
        }
        Path missing = null;
        while (p != null && !Files.exists(p)) {
            missing = p;
            p = p.getParent();
        }
        if (p == null) {
            return "nothing of it exists";
        }
        if (!Files.isDirectory(p)) {
            return p + " is not a directory";
        }
        if (!Files.isWritable(p) || !Files.isExecutable(p)) {
            return (missing == null ? p + " is not writable" : missing + " does not exist and " + p
                    + " is not writable") + " by this user";
        }
        return null;
    }
}
