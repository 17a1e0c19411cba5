package dev.mild.opencl;

import dev.mild.InvalidInputException;
import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_mem;

/**
 * A float array that lives on an OpenCL device, made by {@link OpenClLoss#allocate}: what a trainer keeps on
 * the GPU between calls (scores from its forward pass, weights, gradients for its backward pass). Copies in
 * and out are explicit and blocking, so the caller decides when data crosses the bus.
 *
 * <p>Owned by the {@link OpenClLoss} that made it: closing that also releases this. One dropped without
 * {@link #close()} gives its device memory back once the garbage collector finds it unreachable (a cleaner
 * releases it, under the owner's lock, so never during a call of the owner nor after the owner was closed): a
 * safety net, not a substitute for {@code close()}, since when that happens is up to the collector, which knows
 * nothing of device memory. Offsets and lengths are in floats. Thread-safe: copies are serialized with the owner's
 * calls.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final OpenClLoss owner;
    private final String what;
    private final long capacity;
    private cl_mem mem;
    private final Pointer arg; // reused as the kernel argument: no allocation per call
    /** Releases {@link #mem}, once: from {@link #close()}, or from the cleaner when this buffer is unreachable. */
    private final Cleaner.Cleanable release;

    /** Made by {@link OpenClLoss#allocate}, holding the owner's lock. */
    DeviceBuffer(OpenClLoss owner, cl_mem mem, long capacity, String what) {
        this.owner = owner;
        this.mem = mem;
        this.capacity = capacity;
        this.what = what;
        this.arg = Pointer.to(mem);
        this.release = OpenClLoss.CLEANER.register(this, owner.releasing(mem));
    }

    /**
     * The buffer's size.
     *
     * @return the number of floats it holds
     */
    public long capacity() {
        return capacity;
    }

    /**
     * Copies {@code length} floats from {@code src[srcOffset..]} to this buffer at {@code at} (blocking).
     *
     * @param at        the first float of this buffer written
     * @param src       host data. Not modified.
     * @param srcOffset the first float of {@code src} copied
     * @param length    the number of floats copied
     * @throws dev.mild.InvalidInputException if the range is outside {@code src} or this buffer
     * @throws IllegalStateException if this buffer or its owner is closed
     * @throws OpenClException       if the copy fails on the device
     */
    public void write(long at, float[] src, int srcOffset, int length) {
        checkHost(src.length, srcOffset, length);
        checkRange(at, length);
        synchronized (owner) {
            owner.context().write(handle(), at * Sizeof.cl_float, Pointer.to(src).withByteOffset((long) srcOffset * Sizeof.cl_float),
                    (long) length * Sizeof.cl_float);
        }
    }

    /**
     * Copies the whole of {@code src} to the start of this buffer (blocking).
     *
     * @param src host data. Not modified.
     * @throws dev.mild.InvalidInputException if {@code src} is longer than this buffer
     * @throws IllegalStateException if this buffer or its owner is closed
     * @throws OpenClException       if the copy fails on the device
     */
    public void write(float[] src) {
        write(0, src, 0, src.length);
    }

    /**
     * Copies {@code src.remaining()} floats from a direct buffer to this buffer at {@code at} (blocking);
     * the buffer's position is not moved.
     *
     * @param at  the first float of this buffer written
     * @param src a direct buffer in the native byte order. Not modified.
     * @throws dev.mild.InvalidInputException if {@code src} is not direct or not in the native byte order, or its
     *                                        remaining floats do not fit from {@code at}
     * @throws IllegalStateException if this buffer or its owner is closed
     * @throws OpenClException       if the copy fails on the device
     */
    public void write(long at, FloatBuffer src) {
        requireDirectNativeOrder(src);
        checkRange(at, src.remaining());
        synchronized (owner) {
            owner.context().write(handle(), at * Sizeof.cl_float, Pointer.toBuffer(src), (long) src.remaining() * Sizeof.cl_float);
        }
    }

    /**
     * Copies {@code length} floats of this buffer from {@code at} into {@code dst[dstOffset..]} (blocking).
     *
     * @param at        the first float of this buffer read
     * @param dst       host array. Modified.
     * @param dstOffset the first float of {@code dst} written
     * @param length    the number of floats copied
     * @throws dev.mild.InvalidInputException if the range is outside {@code dst} or this buffer
     * @throws IllegalStateException if this buffer or its owner is closed
     * @throws OpenClException       if the copy fails on the device
     */
    public void read(long at, float[] dst, int dstOffset, int length) {
        checkHost(dst.length, dstOffset, length);
        checkRange(at, length);
        synchronized (owner) {
            owner.context().read(handle(), at * Sizeof.cl_float, Pointer.to(dst).withByteOffset((long) dstOffset * Sizeof.cl_float),
                    (long) length * Sizeof.cl_float);
        }
    }

    /**
     * Copies {@code dst.remaining()} floats of this buffer from {@code at} into a direct buffer (blocking);
     * the buffer's position is not moved.
     *
     * @param at  the first float of this buffer read
     * @param dst a direct, writable buffer in the native byte order. Modified.
     * @throws dev.mild.InvalidInputException if {@code dst} is not direct, not in the native byte order, or
     *                                        read-only, or {@code dst.remaining()} floats from {@code at} are
     *                                        outside this buffer
     * @throws IllegalStateException if this buffer or its owner is closed
     * @throws OpenClException       if the copy fails on the device
     */
    public void read(long at, FloatBuffer dst) {
        requireDirectNativeOrder(dst);
        if (dst.isReadOnly()) {
            // JOCL writes through the address and would change a buffer Java promises is read-only.
            throw new InvalidInputException("cannot read the " + what + " buffer into a read-only FloatBuffer");
        }
        checkRange(at, dst.remaining());
        synchronized (owner) {
            owner.context().read(handle(), at * Sizeof.cl_float, Pointer.toBuffer(dst), (long) dst.remaining() * Sizeof.cl_float);
        }
    }

    /** Releases the device memory now (the owner would at its own close). Idempotent. */
    @Override
    public void close() {
        synchronized (owner) {
            mem = null;
            release.clean();
        }
    }

    /**
     * Whether the buffer can no longer be used.
     *
     * @return {@code true} once this buffer or its owner was closed
     */
    public boolean isClosed() {
        return mem == null || owner.context().isClosed();
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + what + ", " + capacity + " floats" + (isClosed() ? ", closed" : "") + "]";
    }

    OpenClLoss owner() {
        return owner;
    }

    cl_mem handle() {
        if (isClosed()) {
            throw new IllegalStateException(this + " is closed");
        }
        return mem;
    }

    Pointer argument() {
        handle();
        return arg;
    }

    /** {@code [at, at + length)} lies inside this buffer. */
    void checkRange(long at, long length) {
        // length > capacity - at, not at + length > capacity: a huge offset wrapped the sum negative and passed,
        // and the kernel then read and wrote outside the buffer.
        if (at < 0 || length < 0 || length > capacity - at) {
            throw new InvalidInputException(what + " buffer: " + length + " floats from offset " + at
                    + " are outside its capacity of " + capacity);
        }
    }

    private static void checkHost(int arrayLength, int offset, int length) {
        if (offset < 0 || length < 0 || (long) offset + length > arrayLength) {
            throw new InvalidInputException("host array of " + arrayLength + " floats has no range " + offset
                    + ".." + ((long) offset + length - 1));
        }
    }

    /**
     * JOCL copies a buffer's bytes as they lie in memory: a heap buffer is not copied at all, and a view in the
     * other byte order (allocateDirect's default is big-endian) arrived as garbage floats, silently.
     */
    private static void requireDirectNativeOrder(FloatBuffer b) {
        if (!b.isDirect() || b.order() != ByteOrder.nativeOrder()) {
            throw new InvalidInputException("JOCL copies a FloatBuffer only when it is direct and in the native byte "
                    + "order (ByteBuffer.allocateDirect(...).order(ByteOrder.nativeOrder()).asFloatBuffer()); got a "
                    + (b.isDirect() ? "direct" : "heap") + " buffer in " + b.order() + " order");
        }
    }
}
