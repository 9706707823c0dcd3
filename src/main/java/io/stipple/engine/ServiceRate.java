package io.stipple.engine;

import java.util.ArrayDeque;
import java.util.Deque;

/** Jobs finished per second over the last minute: what a client told to retry later should wait for. */
final class ServiceRate {
    private static final long WINDOW_NANOS = 60_000_000_000L;
    private final Deque<Long> completions = new ArrayDeque<>();

    synchronized void completed(long nanos) {
        completions.addLast(nanos);
        trim(nanos);
    }

    /** Seconds until {@code ahead} jobs will likely have finished; at least 1. */
    synchronized long secondsFor(int ahead, long nowNanos) {
        trim(nowNanos);
        if (completions.size() < 2) {
            return Math.max(1, ahead);
        }
        double seconds = (nowNanos - completions.peekFirst()) / 1e9;
        double perSecond = completions.size() / Math.max(seconds, 1e-3);
        return Math.max(1, (long) Math.ceil(ahead / perSecond));
    }

    private void trim(long nowNanos) {
        while (!completions.isEmpty() && nowNanos - completions.peekFirst() > WINDOW_NANOS) {
            completions.pollFirst();
        }
    }
}
