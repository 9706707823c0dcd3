package io.stipple.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stipple.testing.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Per-client quotas on a clock the test sets: a token bucket of requests per minute, and images in flight. */
class ClientQuotasTest {
    private final ManualClock clock = new ManualClock();

    @Test
    void requestsPerMinuteAllowABurstThenTheSteadyRate() {
        ClientQuotas quotas = new ClientQuotas(3, 0, clock);
        for (int i = 0; i < 3; i++) {
            quotas.acquire("a", 1, 1);
        }
        ClientLimitException limited = assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 1, 1));
        assertEquals(20, limited.retryAfterSeconds(), "one request comes back every 60 / 3 s");
        assertEquals("\"requests\";q=3;w=60", limited.policy());
        assertEquals("\"requests\";r=0;t=20", limited.current());
        assertEquals("This client has used its 3 generation requests per minute; retry in about 20 s",
                limited.getMessage());

        quotas.acquire("b", 1, 1);
        clock.advance(Duration.ofSeconds(15));
        ClientLimitException later = assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 1, 1));
        assertEquals(5, later.retryAfterSeconds());
        clock.advance(Duration.ofSeconds(5));
        quotas.acquire("a", 1, 1);
        assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 1, 1));
    }

    /** A wall clock set back (by NTP, say) neither refills a bucket nor pushes a client's next request further out. */
    @Test
    void aClockSetBackChangesNothing() {
        ClientQuotas quotas = new ClientQuotas(1, 0, clock);
        quotas.acquire("a", 1, 1);
        clock.advance(Duration.ofMinutes(-10));
        assertEquals(60, assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 1, 1)).retryAfterSeconds());
        clock.advance(Duration.ofMinutes(10).plusSeconds(30));
        assertEquals(30, assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 1, 1)).retryAfterSeconds());
        clock.advance(Duration.ofSeconds(30));
        quotas.acquire("a", 1, 1);
    }

    @Test
    void imagesInFlightAreBoundedUntilReleased() {
        ClientQuotas quotas = new ClientQuotas(0, 4, clock);
        quotas.acquire("a", 3, 9);
        ClientLimitException limited = assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 2, 9));
        assertEquals("This client may have 4 images queued or running at once; 3 are, and this request asks for 2 more",
                limited.getMessage());
        assertEquals(9, limited.retryAfterSeconds());
        assertEquals("\"images\";q=4", limited.policy());
        assertEquals("\"images\";r=1", limited.current());
        quotas.acquire("a", 1, 9);
        quotas.acquire("b", 4, 9);

        quotas.release("a", 3);
        quotas.acquire("a", 3, 9);
    }

    @Test
    void aRefusedRequestGetsItsQuotaBack() {
        ClientQuotas quotas = new ClientQuotas(1, 2, clock);
        quotas.acquire("a", 2, 1);
        quotas.refund("a", 2);
        quotas.acquire("a", 2, 1);
        assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 0, 1));
    }
}
