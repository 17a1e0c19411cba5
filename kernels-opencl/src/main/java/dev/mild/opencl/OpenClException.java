package dev.mild.opencl;

/**
 * An OpenCL failure, said in words: what was being done, on which device, the OpenCL status, and what to
 * do about it (install a driver, pick another device, use smaller batches). Thrown when a backend that was
 * asked for cannot start, and for errors after creation (out of device memory, out of resources).
 */
public class OpenClException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OpenClException(String message) {
        super(message);
    }

    public OpenClException(String message, Throwable cause) {
        super(message, cause);
    }
}
