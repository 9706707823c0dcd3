package io.stipple.engine;

/** The admission queue is at capacity; the client should retry after {@link #retryAfterSeconds()}. */
public class QueueFullException extends RuntimeException {
    private final long retryAfterSeconds;

    public QueueFullException(int capacity, long retryAfterSeconds) {
        super("The generation queue is full (" + capacity + " requests waiting); retry in about "
                + retryAfterSeconds + " s");
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
