package io.stipple.engine;

/** Completes a failed job's future. */
public class JobFailedException extends RuntimeException {
    private final JobFailure failure;

    public JobFailedException(JobFailure failure, Throwable cause) {
        super(failure.message(), cause);
        this.failure = failure;
    }

    public JobFailure failure() {
        return failure;
    }
}
