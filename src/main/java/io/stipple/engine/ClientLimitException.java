package io.stipple.engine;

/**
 * A client used up one of its quotas ({@code stipple.clients.*}). It carries what the IETF draft "RateLimit
 * header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers) lets a client read: the quota policy that
 * refused and when to retry.
 *
 * @param policy  {@code RateLimit-Policy} field value, such as {@code "requests";q=60;w=60}
 * @param current {@code RateLimit} field value, such as {@code "requests";r=0;t=3}
 */
public class ClientLimitException extends RuntimeException {
    private final long retryAfterSeconds;
    private final String policy;
    private final String current;

    private ClientLimitException(String message, long retryAfterSeconds, String policy, String current) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
        this.policy = policy;
        this.current = current;
    }

    static ClientLimitException requests(int perMinute, long retryAfterSeconds) {
        return new ClientLimitException("This client has used its " + perMinute
                + " generation requests per minute; retry in about " + retryAfterSeconds + " s", retryAfterSeconds,
                "\"requests\";q=" + perMinute + ";w=60", "\"requests\";r=0;t=" + retryAfterSeconds);
    }

    static ClientLimitException images(int limit, int running, int requested, long retryAfterSeconds) {
        return new ClientLimitException("This client may have " + limit + " images queued or running at once; "
                + running + " are, and this request asks for " + requested + " more", retryAfterSeconds,
                "\"images\";q=" + limit, "\"images\";r=" + Math.max(0, limit - running));
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public String policy() {
        return policy;
    }

    public String current() {
        return current;
    }
}
