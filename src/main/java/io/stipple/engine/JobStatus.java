package io.stipple.engine;

import com.fasterxml.jackson.annotation.JsonValue;

/** Where a job is in its life; the last three are final. */
public enum JobStatus {
    QUEUED,
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLED;

    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    @JsonValue
    public String apiName() {
        return name().toLowerCase();
    }
}
