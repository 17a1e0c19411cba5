package dev.mild.opencl;

/**
 * An OpenCL failure, said in words: what was being done, on which device, the OpenCL status, and what to
 * do about it (install a driver, pick another device, use smaller batches). Thrown when a backend that was
 * asked for cannot start, and for errors after creation (out of device memory, out of resources).
 */
public class OpenClException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the given message.
     *
     * @param message what failed, where, and what to do about it
     */
    public OpenClException(String message) {
        super(message);
    }

    /**
     * An exception with the given message and the failure that caused it.
     *
     * @param message what failed, where, and what to do about it
     * @param cause   the underlying failure (JOCL's {@code CLException}, a library that did not load)
     */
    public OpenClException(String message, Throwable cause) {
        super(message, cause);
    }
}
