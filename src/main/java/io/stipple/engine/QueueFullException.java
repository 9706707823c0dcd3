package io.stipple.engine;

/** The admission queue is at capacity; the client should retry after {@link #retryAfterSeconds()}. */
public class QueueFullException extends RuntimeException {
    private final long retryAfterSeconds;

    private QueueFullException(String message, long retryAfterSeconds) {
        super(message + "; retry in about " + retryAfterSeconds + " s");
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static QueueFullException jobs(int capacity, long retryAfterSeconds) {
        return new QueueFullException("The generation queue is full (" + capacity + " requests waiting)",
                retryAfterSeconds);
    }

    public static QueueFullException work(long waiting, long capacity, long requested, long retryAfterSeconds) {
        return new QueueFullException("The generation queue is full: " + waiting + " of its " + capacity
                + " work units are taken and this request needs " + requested
                + " (work units: latent pixels × steps × U-Net rows)", retryAfterSeconds);
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
