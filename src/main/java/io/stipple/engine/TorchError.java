package io.stipple.engine;

import java.util.Locale;

/**
 * Reads libtorch's errors as DJL passes them on: a TorchScript error message is a traceback that quotes the
 * module's source around the failing line (which may mention anything) and ends with the error itself.
 */
final class TorchError {
    private TorchError() {
    }

    /** The error itself, the last line of the message, for a one-line log entry. */
    static String summary(Throwable e) {
        return String.valueOf(e.getMessage()).strip().lines().reduce((first, second) -> second).orElse("");
    }

    /**
     * Whether libtorch ran out of memory: CUDA's caching allocator says "CUDA out of memory", the CPU allocator
     * "can't allocate memory". (Java's own {@link OutOfMemoryError} is an error, not an exception, and is never
     * retried.)
     */
    static boolean outOfMemory(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            String error = summary(cause).toLowerCase(Locale.ROOT);
            if (error.contains("out of memory") || error.contains("can't allocate memory")) {
                return true;
            }
        }
        return false;
    }
}
