package dev.mild;

/**
 * Bad input: a shape that does not match, a NaN or infinite value, a rho that is not positive, a cost out of
 * range, an unreadable file. The message says what is wrong and where (row, column, file, line), so that a
 * command-line user can fix the input without reading code. The CLI maps it to exit code 2.
 */
public class InvalidInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
