package io.stipple.access;

import static io.stipple.testing.StippleHttp.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * What each key may use, over real HTTP: requests per minute, images in flight, the queue's work bound,
 * and the queue's fairness between a client that floods it and one that asks once.
 *
 * <p>With {@code stipple.batch.max-rows=2} one guided image fills a U-Net call, so jobs run one at a time
 * and the queue's order is the order of completion.
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
    /**
     * 256×256 at 100 steps: 32 × 32 × 100 × 2 = 204,800 work units and about a second on the tiny model, long
     * enough to be seen running.
     */
    private static final String JOB = StippleHttp.body("prompt", "a green triangle", "width", 256, "height", 256,
            "steps", 100);
    private static final String SLOW = StippleHttp.body("prompt", "a slow one", "width", 256, "height", 256,
            "steps", 150, "num_images", 4);

    @LocalServerPort
    int port;

    private StippleHttp http;

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

    private JsonNode awaitStatus(String key, String id, String... statuses) {
        Instant giveUp = Instant.now().plus(Duration.ofSeconds(60));
        while (Instant.now().isBefore(giveUp)) {
            JsonNode job = job(key, id);
            if (List.of(statuses).contains(job.get("status").asString())) {
                return job;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("job " + id + " never reached " + List.of(statuses));
    }

    private void cancel(String key, String id) {
        http.send(http.request("/v1/jobs/" + id).header("X-API-Key", key).DELETE().build());
        awaitStatus(key, id, "cancelled", "succeeded");
    }

    @Test
    void aLightClientIsServedNextWhileAHeavyOneFloodsTheQueue() {
        List<String> heavy = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            heavy.add(submitted("heavy-key", JOB));
        }
        awaitStatus("heavy-key", heavy.get(0), "running");
        HttpResponse<byte[]> light = submit("light-key", JOB);
        assertEquals(202, light.statusCode());
        assertEquals(1, StippleHttp.json(light).get("queue_position").asInt(),
                "ahead of the five heavy jobs that came before it");

        Instant lightDone = Instant.parse(awaitStatus("light-key", StippleHttp.json(light).get("id").asString(),
                "succeeded").get("finished_at").asString());
        List<Instant> heavyDone = heavy.stream().map(id -> Instant.parse(awaitStatus("heavy-key", id, "succeeded")
                .get("finished_at").asString())).toList();
        assertTrue(lightDone.isAfter(heavyDone.get(0)) && lightDone.isBefore(heavyDone.get(1)),
                "the light job ran right after the heavy job that was running: " + lightDone + " vs " + heavyDone);
    }

    @Test
    void imagesInFlightAreLimitedPerClient() {
        String running = submitted("painter-key", SLOW);
        awaitStatus("painter-key", running, "running");
        HttpResponse<byte[]> refused = submit("painter-key", StippleHttp.body("prompt", "more", "num_images", 3));
        assertProblem(refused, 429, null,
                "This client may have 6 images queued or running at once; 4 are, and this request asks for 3 more");
        assertEquals("\"images\";q=6", refused.headers().firstValue("RateLimit-Policy").orElseThrow());
        assertEquals("\"images\";r=2", refused.headers().firstValue("RateLimit").orElseThrow());
        assertTrue(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow()) >= 1);
        String other = submitted("light-key", StippleHttp.body("prompt", "another client", "num_images", 3));
        cancel("painter-key", running);
        String after = submitted("painter-key", StippleHttp.body("prompt", "more", "num_images", 3));
        awaitStatus("light-key", other, "succeeded");
        awaitStatus("painter-key", after, "succeeded");
    }

    @Test
    void requestsPerMinuteAreLimitedPerClient() {
        for (int i = 0; i < 8; i++) {
            assertEquals(200, http.generate(StippleHttp.body("prompt", "quick", "steps", 2), "X-API-Key", "eager-key")
                    .statusCode());
        }
        HttpResponse<byte[]> refused = http.generate(StippleHttp.body("prompt", "quick", "steps", 2),
                "X-API-Key", "eager-key");
        assertProblem(refused, 429, null, "This client has used its 8 generation requests per minute; retry in about");
        long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 8, "one request comes back every 7.5 s: " + retryAfter);
        assertEquals("\"requests\";q=8;w=60", refused.headers().firstValue("RateLimit-Policy").orElseThrow());
        assertEquals("\"requests\";r=0;t=" + retryAfter, refused.headers().firstValue("RateLimit").orElseThrow());
    }

    @Test
    void theQueueIsBoundedByWorkNotOnlyByRequests() {
        String running = submitted("bulk-key", SLOW.replace("\"num_images\":4", "\"num_images\":1"));
        awaitStatus("bulk-key", running, "running");
        String waiting = submitted("bulk-key", JOB);
        HttpResponse<byte[]> refused = submit("bulk-key", StippleHttp.body("prompt", "too much at once",
                "width", 512, "height", 512, "steps", 150, "num_images", 2));
        assertProblem(refused, 429, null, "The generation queue is full: 204800 of its 2000000 work units are taken "
                + "and this request needs 2457600 (work units: latent pixels × steps × U-Net rows)");
        cancel("bulk-key", waiting);
        cancel("bulk-key", running);
    }
}
