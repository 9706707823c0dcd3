package io.stipple.engine;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;

/**
 * What each client may use, checked at admission: generation requests per minute (a token bucket that
 * holds a minute's worth, so a client may burst that many and then goes at the steady rate) and images
 * queued or running at once. Zero turns a limit off.
 */
final class ClientQuotas {
    /** Idle clients are forgotten once this many are tracked, so that a scan of many addresses costs nothing lasting. */
    private static final int PRUNE_ABOVE = 10_000;

    private final int requestsPerMinute;
    private final int concurrentImages;
    private final InstantSource clock;
    private final Map<String, Usage> usage = new HashMap<>();

    private static final class Usage {
        double tokens;
        Instant refilledAt;
        int images;

        Usage(double tokens, Instant now) {
            this.tokens = tokens;
            this.refilledAt = now;
        }
    }

    ClientQuotas(int requestsPerMinute, int concurrentImages, InstantSource clock) {
        this.requestsPerMinute = requestsPerMinute;
        this.concurrentImages = concurrentImages;
        this.clock = clock;
    }

    /**
     * Takes one request and {@code images} images from the client's quotas, or throws without taking
     * anything. {@code retryAfterImages} estimates when the client's running images will have finished.
     */
    synchronized void acquire(String client, int images, long retryAfterImages) {
        Instant now = clock.instant();
        Usage used = usage.computeIfAbsent(client, key -> new Usage(requestsPerMinute, now));
        if (requestsPerMinute > 0) {
            refill(used, now);
            if (used.tokens < 1) {
                long secondsToNext = Math.max(1, (long) Math.ceil((1 - used.tokens) * 60.0 / requestsPerMinute));
                throw ClientLimitException.requests(requestsPerMinute, secondsToNext);
            }
        }
        if (concurrentImages > 0 && used.images + images > concurrentImages) {
            throw ClientLimitException.images(concurrentImages, used.images, images, retryAfterImages);
        }
        if (requestsPerMinute > 0) {
            used.tokens -= 1;
        }
        used.images += images;
        if (usage.size() > PRUNE_ABOVE) {
            usage.values().removeIf(other -> other != used && other.images == 0 && full(other, now));
        }
    }

    /** Gives back what {@link #acquire} took, for a request that was not admitted after all. */
    synchronized void refund(String client, int images) {
        Usage used = usage.get(client);
        if (used != null) {
            used.tokens = Math.min(requestsPerMinute, used.tokens + 1);
            used.images -= images;
        }
    }

    /** The client's images have finished, one way or another. */
    synchronized void release(String client, int images) {
        Usage used = usage.get(client);
        if (used != null) {
            used.images -= images;
        }
    }

    /** A clock set back refills nothing until it has caught up again. */
    private void refill(Usage used, Instant now) {
        if (now.isAfter(used.refilledAt)) {
            double minutes = Duration.between(used.refilledAt, now).toNanos() / 60e9;
            used.tokens = Math.min(requestsPerMinute, used.tokens + minutes * requestsPerMinute);
            used.refilledAt = now;
        }
    }

    private boolean full(Usage used, Instant now) {
        refill(used, now);
        return used.tokens >= requestsPerMinute;
    }
}
