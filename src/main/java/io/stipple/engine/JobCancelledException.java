package io.stipple.engine;

/** Completes a cancelled job's future. */
public class JobCancelledException extends RuntimeException {
    public JobCancelledException(String id) {
        super("Job " + id + " was cancelled");
    }
}
