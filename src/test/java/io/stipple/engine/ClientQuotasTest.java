package io.stipple.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Per-client quotas on a clock the test sets: a token bucket of requests per minute, and images in flight. */
class ClientQuotasTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void requestsPerMinuteAllowABurstThenTheSteadyRate() {
        ClientQuotas quotas = new ClientQuotas(3, 0);
        for (int i = 0; i < 3; i++) {
            quotas.acquire("a", 1, 0, 1);
        }
        ClientLimitException limited = assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 1, 0, 1));
        assertEquals(20, limited.retryAfterSeconds(), "one request comes back every 60 / 3 s");
        assertEquals("\"requests\";q=3;w=60", limited.policy());
        assertEquals("\"requests\";r=0;t=20", limited.current());
        assertEquals("This client has used its 3 generation requests per minute; retry in about 20 s",
                limited.getMessage());

        quotas.acquire("b", 1, 0, 1);
        ClientLimitException later = assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 1, 15 * SECOND, 1));
        assertEquals(5, later.retryAfterSeconds());
        quotas.acquire("a", 1, 20 * SECOND, 1);
        assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 1, 20 * SECOND, 1));
    }

    @Test
    void imagesInFlightAreBoundedUntilReleased() {
        ClientQuotas quotas = new ClientQuotas(0, 4);
        quotas.acquire("a", 3, 0, 9);
        ClientLimitException limited = assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 2, 0, 9));
        assertEquals("This client may have 4 images queued or running at once; 3 are, and this request asks for 2 more",
                limited.getMessage());
        assertEquals(9, limited.retryAfterSeconds());
        assertEquals("\"images\";q=4", limited.policy());
        assertEquals("\"images\";r=1", limited.current());
        quotas.acquire("a", 1, 0, 9);
        quotas.acquire("b", 4, 0, 9);

        quotas.release("a", 3);
        quotas.acquire("a", 3, 0, 9);
    }

    @Test
    void aRefusedRequestGetsItsQuotaBack() {
        ClientQuotas quotas = new ClientQuotas(1, 2);
        quotas.acquire("a", 2, 0, 1);
        quotas.refund("a", 2);
        quotas.acquire("a", 2, 0, 1);
        assertThrows(ClientLimitException.class, () -> quotas.acquire("a", 0, 0, 1));
    }
}
