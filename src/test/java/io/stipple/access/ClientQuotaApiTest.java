package io.stipple.access;

import static io.stipple.testing.StippleHttp.assertProblem;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.engine.HeldDevice;
import io.stipple.testing.ManualClock;
import io.stipple.testing.StippleHttp;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.bean.override.convention.TestBean;
import tools.jackson.databind.JsonNode;

/**
 * What each key may use, over real HTTP: requests per minute, images in flight, the queue's work bound,
 * and the queue's fairness between a client that floods it and one that asks once.
 *
 * <p>With {@code stipple.batch.max-rows=2} one guided image fills a U-Net call, so jobs run one at a time
 * and the queue's order is the order of completion. The quotas' clock stands still unless a test moves it, and
 * a test that needs jobs to wait holds the device, so that nothing depends on how fast the machine is.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.batch.max-rows=2",
        "stipple.clients.requests-per-minute=8",
        "stipple.clients.concurrent-images=6",
        // 64×64 at 20 guided steps is 8 × 8 latent pixels × 20 × 2 = 2,560 units
        "stipple.queue.max-work=2000000",
        "stipple.security.api-keys[0].name=heavy", "stipple.security.api-keys[0].key=heavy-key",
        "stipple.security.api-keys[1].name=light", "stipple.security.api-keys[1].key=light-key",
        "stipple.security.api-keys[2].name=painter", "stipple.security.api-keys[2].key=painter-key",
        "stipple.security.api-keys[3].name=eager", "stipple.security.api-keys[3].key=eager-key",
        "stipple.security.api-keys[4].name=bulk", "stipple.security.api-keys[4].key=bulk-key"})
class ClientQuotaApiTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final ManualClock CLOCK = new ManualClock();

    /** 256×256 at 100 steps: 32 × 32 × 100 × 2 = 204,800 work units. */
    private static final String JOB = StippleHttp.body("prompt", "a green triangle", "width", 256, "height", 256,
            "steps", 100);

    @TestBean
    InstantSource clock;
    @Autowired
    ApplicationContext context;
    @LocalServerPort
    int port;

    private StippleHttp http;

    static InstantSource clock() {
        return CLOCK;
    }

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    private HttpResponse<byte[]> submit(String key, String json) {
        return http.send(http.request("/v1/jobs").header("Content-Type", "application/json").header("X-API-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private String submitted(String key, String json) {
        HttpResponse<byte[]> response = submit(key, json);
        assertEquals(202, response.statusCode(), new String(response.body()));
        return StippleHttp.json(response).get("id").asString();
    }

    private JsonNode job(String key, String id) {
        return StippleHttp.json(http.send(http.request("/v1/jobs/" + id).header("X-API-Key", key).GET().build()));
    }

    private String status(String key, String id) {
        return job(key, id).get("status").asString();
    }

    private void awaitStatus(String key, String id, String... statuses) {
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(5))
                .until(() -> List.of(statuses).contains(status(key, id)));
    }

    private void cancel(String key, String id) {
        http.send(http.request("/v1/jobs/" + id).header("X-API-Key", key).DELETE().build());
        awaitStatus(key, id, "cancelled", "succeeded");
    }

    @Test
    void aLightClientIsServedNextWhileAHeavyOneFloodsTheQueue() {
        List<String> heavy = new ArrayList<>();
        String light;
        try (HeldDevice device = HeldDevice.hold(context)) {
            for (int i = 0; i < 6; i++) {
                heavy.add(submitted("heavy-key", JOB));
            }
            HttpResponse<byte[]> response = submit("light-key", JOB);
            assertEquals(202, response.statusCode());
            assertEquals(2, StippleHttp.json(response).get("queue_position").asInt(),
                    "behind the heavy job that came first, ahead of the five that came with it");
            light = StippleHttp.json(response).get("id").asString();
            assertEquals(List.of(1, 3, 4, 5, 6, 7), heavy.stream()
                    .map(id -> job("heavy-key", id).get("queue_position").asInt()).toList());

            device.releaseUntil(() -> status("light-key", light).equals("succeeded"));
            assertEquals("succeeded", status("heavy-key", heavy.get(0)));
            assertNotEquals("succeeded", status("heavy-key", heavy.get(1)), "the light job ran before the second heavy one");
            for (String waiting : heavy.subList(2, 6)) {
                assertEquals("queued", status("heavy-key", waiting));
            }
        }
        heavy.forEach(id -> cancel("heavy-key", id));
    }

    @Test
    void imagesInFlightAreLimitedPerClient() {
        String other;
        String after;
        try (HeldDevice device = HeldDevice.hold(context)) {
            String waiting = submitted("painter-key", StippleHttp.body("prompt", "four at once", "num_images", 4));
            HttpResponse<byte[]> refused = submit("painter-key", StippleHttp.body("prompt", "more", "num_images", 3));
            assertProblem(refused, 429, null,
                    "This client may have 6 images queued or running at once; 4 are, and this request asks for 3 more");
            assertEquals("\"images\";q=6", refused.headers().firstValue("RateLimit-Policy").orElseThrow());
            assertEquals("\"images\";r=2", refused.headers().firstValue("RateLimit").orElseThrow());
            assertTrue(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow()) >= 1);
            other = submitted("light-key", StippleHttp.body("prompt", "another client", "num_images", 3));
            cancel("painter-key", waiting);
            after = submitted("painter-key", StippleHttp.body("prompt", "more", "num_images", 3));
        }
        awaitStatus("light-key", other, "succeeded");
        awaitStatus("painter-key", after, "succeeded");
    }

    /** A bucket of 8 requests that refills one every 7.5 s, on a clock that moves only when the test moves it. */
    @Test
    void requestsPerMinuteAreLimitedPerClientAndComeBackAtTheirRate() {
        for (int i = 0; i < 8; i++) {
            assertEquals(200, generate().statusCode());
        }
        HttpResponse<byte[]> refused = generate();
        assertProblem(refused, 429, null, "This client has used its 8 generation requests per minute; retry in about 8 s");
        assertEquals("8", retryAfter(refused));
        assertEquals("\"requests\";q=8;w=60", refused.headers().firstValue("RateLimit-Policy").orElseThrow());
        assertEquals("\"requests\";r=0;t=8", refused.headers().firstValue("RateLimit").orElseThrow());

        CLOCK.advance(Duration.ofSeconds(7));
        assertEquals("1", retryAfter(generate()), "half a second to go");
        CLOCK.advance(Duration.ofSeconds(1));
        assertEquals(200, generate().statusCode());
        assertEquals("7", retryAfter(generate()), "the next one is half a second on its way");
    }

    private static String retryAfter(HttpResponse<byte[]> refused) {
        assertEquals(429, refused.statusCode(), new String(refused.body()));
        return refused.headers().firstValue("Retry-After").orElseThrow();
    }

    private HttpResponse<byte[]> generate() {
        return http.generate(StippleHttp.body("prompt", "quick", "steps", 2), "X-API-Key", "eager-key");
    }

    @Test
    void theQueueIsBoundedByWorkNotOnlyByRequests() {
        try (HeldDevice device = HeldDevice.hold(context)) {
            String waiting = submitted("bulk-key", JOB);
            HttpResponse<byte[]> refused = submit("bulk-key", StippleHttp.body("prompt", "too much at once",
                    "width", 512, "height", 512, "steps", 150, "num_images", 2));
            assertProblem(refused, 429, null, "The generation queue is full: 204800 of its 2000000 work units are "
                    + "taken and this request needs 2457600 (work units: latent pixels × steps × U-Net rows)");
            cancel("bulk-key", waiting);
        }
    }
}
