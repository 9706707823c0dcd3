package io.stipple.api;

import java.io.IOException;

/** A request body over {@code stipple.limits.max-request-size}. */
class RequestTooLargeException extends IOException {
    RequestTooLargeException(long limit) {
        super("The request body is larger than the limit of " + limit + " bytes");
    }
}
