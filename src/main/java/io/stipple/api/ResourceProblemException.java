package io.stipple.api;

import java.time.Duration;
import org.springframework.http.HttpStatus;

/** A request about a job or a model that cannot be served: an unknown one (404) or a state that forbids it (409). */
class ResourceProblemException extends RuntimeException {
    private final HttpStatus status;
    private final String title;

    private ResourceProblemException(HttpStatus status, String title, String detail) {
        super(detail);
        this.status = status;
        this.title = title;
    }

    static ResourceProblemException unknownJob(String id, Duration retention) {
        return new ResourceProblemException(HttpStatus.NOT_FOUND, "Not found", "No job with id \"" + id
                + "\"; finished jobs are kept for at most " + retention.toSeconds()
                + " s (stipple.jobs.retention)");
    }

    static ResourceProblemException notFound(String detail) {
        return new ResourceProblemException(HttpStatus.NOT_FOUND, "Not found", detail);
    }

    static ResourceProblemException conflict(String detail) {
        return new ResourceProblemException(HttpStatus.CONFLICT, "Conflict", detail);
    }

    HttpStatus status() {
        return status;
    }

    String title() {
        return title;
    }
}
