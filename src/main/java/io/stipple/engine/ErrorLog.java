package io.stipple.engine;

import java.util.UUID;
import org.slf4j.Logger;

/**
 * Server-side failures are logged once, with their stack trace, under a short id; clients get the id and
 * never the trace, which can carry source paths and internals of the model.
 */
public final class ErrorLog {
    private ErrorLog() {
    }

    /** Logs {@code what} with its cause and returns the id that finds the line. */
    public static String write(Logger log, String what, Throwable cause) {
        String errorId = UUID.randomUUID().toString().substring(0, 8);
        log.error("{} (error {})", what, errorId, cause);
        return errorId;
    }

    /** What a client is told about the failure logged under {@code errorId}. */
    public static String clientMessage(String failure, String errorId) {
        return failure + " (error " + errorId + "); the server log has the details under that id";
    }
}
