package dev.mild.opencl;

import org.jocl.CL;
import org.jocl.CLException;

/**
 * Every OpenCL status checked here, not by JOCL: {@code CL.setExceptionsEnabled} is one switch for the whole
 * process, so setting it would change how other JOCL code in the same program sees errors, and relying on it
 * would let errors pass unnoticed once that code turns it off. A failure is the {@link CLException} JOCL would
 * throw (which it still does, before us, while exceptions are on).
 */
final class Status {

    private Status() {
    }

    /** {@code status} if it is {@code CL_SUCCESS}; else its {@link CLException}. */
    static int check(int status) {
        if (status != CL.CL_SUCCESS) {
            throw new CLException(CL.stringFor_errorCode(status), status);
        }
        return status;
    }

    /** {@code created}, made by a call that reported its status in {@code errcode[0]}, if that is {@code CL_SUCCESS}. */
    static <T> T created(T created, int[] errcode) {
        check(errcode[0]);
        return created;
    }
}
