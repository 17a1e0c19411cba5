package dev.mild.cli;

/** Wrong command-line usage: an unknown command or option, a missing or malformed value. Exit code 2. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean pointsToHelp;

    UsageException(String message) {
        this(message, false);
    }

    /** @param pointsToHelp the message already says where the options are explained (Main adds it otherwise) */
    UsageException(String message, boolean pointsToHelp) {
        super(message);
        this.pointsToHelp = pointsToHelp;
    }

    boolean pointsToHelp() {
        return pointsToHelp;
    }
}
