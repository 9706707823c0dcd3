package io.stipple.api;

import java.io.IOException;
import java.time.Duration;

/** A request body that did not arrive in full within {@code stipple.limits.body-timeout}. */
class RequestBodyTimeoutException extends IOException {
    RequestBodyTimeoutException(Duration timeout) {
        super("The request body did not arrive within " + timeout.toMillis() / 1000.0 + " s");
    }
}
