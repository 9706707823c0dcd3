package io.stipple.api;

import java.util.List;

/** A request that breaks one or more rules; each violation names its field. */
public class InvalidRequestException extends RuntimeException {
    private final List<FieldViolation> violations;

    public InvalidRequestException(List<FieldViolation> violations) {
        super(violations.stream().map(FieldViolation::message).reduce((a, b) -> a + "; " + b).orElse("invalid request"));
        this.violations = List.copyOf(violations);
    }

    public InvalidRequestException(String field, String message) {
        this(List.of(new FieldViolation(field, message)));
    }

    public List<FieldViolation> violations() {
        return violations;
    }

    /** One broken rule: the JSON field (null for the body as a whole) and what to change. */
    public record FieldViolation(String field, String message) {
    }
}
