package io.stipple.engine;

import org.slf4j.Logger;

/** Why a job failed, in words for the client, and whether retrying later can help. */
public record JobFailure(Reason reason, String message) {

    public enum Reason {
        /** Not finished within {@code stipple.request.timeout}. */
        DEADLINE,
        /** The server shut down before the job finished. */
        SHUTDOWN,
        /** The model raised an error on this job. */
        MODEL_ERROR,
        /** The server failed on this job outside the model (for example while encoding its PNGs). */
        INTERNAL_ERROR
    }

    /** The one answer to a request that ran out of {@code stipple.request.timeout}, wherever it was. */
    public static final JobFailure DEADLINE_EXCEEDED = new JobFailure(Reason.DEADLINE,
            "The request did not finish within stipple.request.timeout; the server is overloaded, retry later");

    public boolean retryable() {
        return reason == Reason.DEADLINE || reason == Reason.SHUTDOWN;
    }

    /** A failure whose cause is logged ({@link ErrorLog}), described to the client by its error id only. */
    static JobFailure logged(Reason reason, Logger log, String what, Throwable cause) {
        return withErrorId(reason, ErrorLog.write(log, what, cause));
    }

    /** The failure a client sees for a {@link Reason#MODEL_ERROR} or {@link Reason#INTERNAL_ERROR} logged under {@code errorId}. */
    public static JobFailure withErrorId(Reason reason, String errorId) {
        String failure = reason == Reason.MODEL_ERROR ? "The model failed on this request" : "The server failed on this request";
        return new JobFailure(reason, ErrorLog.clientMessage(failure, errorId));
    }
}
