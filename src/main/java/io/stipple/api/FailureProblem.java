package io.stipple.api;

import io.stipple.engine.JobFailure;
import org.springframework.http.HttpStatus;

/**
 * How a failed job reads over HTTP, the same for {@code POST /generate} (the problem it answers with)
 * and for async jobs (their {@code error} and the {@code failed} event): a model error is the server's
 * fault (500); a deadline or a shutdown is worth retrying later (503).
 */
record FailureProblem(HttpStatus status, String title, String detail) {

    static FailureProblem of(JobFailure failure) {
        if (!failure.retryable()) {
            return new FailureProblem(HttpStatus.INTERNAL_SERVER_ERROR, "Generation failed", failure.message());
        }
        String title = failure.reason() == JobFailure.Reason.DEADLINE ? "Deadline exceeded" : "Service unavailable";
        return new FailureProblem(HttpStatus.SERVICE_UNAVAILABLE, title, failure.message());
    }
}
