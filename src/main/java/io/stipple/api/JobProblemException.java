package io.stipple.api;

import java.time.Duration;
import org.springframework.http.HttpStatus;

/** A request about an async job that cannot be served: an unknown id (404) or a state that forbids it (409). */
class JobProblemException extends RuntimeException {
    private final HttpStatus status;
    private final String title;

    private JobProblemException(HttpStatus status, String title, String detail) {
        super(detail);
        this.status = status;
        this.title = title;
    }

    static JobProblemException unknownJob(String id, Duration retention) {
        return new JobProblemException(HttpStatus.NOT_FOUND, "Not found", "No job with id \"" + id
                + "\"; finished jobs are kept for at most " + retention.toSeconds()
                + " s (stipple.jobs.retention)");
    }

    static JobProblemException notFound(String detail) {
        return new JobProblemException(HttpStatus.NOT_FOUND, "Not found", detail);
    }

    static JobProblemException conflict(String detail) {
        return new JobProblemException(HttpStatus.CONFLICT, "Conflict", detail);
    }

    HttpStatus status() {
        return status;
    }

    String title() {
        return title;
    }
}
