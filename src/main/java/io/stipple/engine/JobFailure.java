package io.stipple.engine;

/** Why a job failed, in words for the client, and whether retrying later can help. */
public record JobFailure(Reason reason, String message) {

    public enum Reason {
        /** Not finished within {@code stipple.request.timeout}. */
        DEADLINE,
        /** The server shut down before the job finished. */
        SHUTDOWN,
        /** The model raised an error on this job. */
        MODEL_ERROR
    }

    public boolean retryable() {
        return reason != Reason.MODEL_ERROR;
    }
}
