package io.stipple.engine;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Work units finished per second over the last minute: what a client told to retry later should wait for.
 * Measured in work, not jobs, since a queue of large jobs drains slower than one of small ones.
 */
final class ServiceRate {
    private static final long WINDOW_NANOS = 60_000_000_000L;

    private record Completion(long nanos, long work) {
    }

    private final Deque<Completion> completions = new ArrayDeque<>();
    private long windowWork;

    synchronized void completed(long nanos, long work) {
        completions.addLast(new Completion(nanos, work));
        windowWork += work;
        trim(nanos);
    }

    /**
     * Seconds until {@code work} units will likely have been served; at least 1. With too little history
     * to measure it says one second per {@code fallbackJobs}.
     */
    synchronized long secondsFor(long work, int fallbackJobs, long nowNanos) {
        trim(nowNanos);
        if (completions.size() < 2) {
            return Math.max(1, fallbackJobs);
        }
        double seconds = (nowNanos - completions.peekFirst().nanos()) / 1e9;
        double perSecond = windowWork / Math.max(seconds, 1e-3);
        return Math.max(1, (long) Math.ceil(work / perSecond));
    }

    private void trim(long nowNanos) {
        while (!completions.isEmpty() && nowNanos - completions.peekFirst().nanos() > WINDOW_NANOS) {
            windowWork -= completions.pollFirst().work();
        }
    }
}
