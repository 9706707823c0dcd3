package io.stipple.api;

import static io.stipple.testing.Png.decode;
import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static io.stipple.testing.StippleHttp.png;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.engine.HeldDevice;
import io.stipple.testing.StippleHttp.Event;
import io.stipple.testing.StippleHttp.EventStream;
import io.stipple.testing.StippleHttp;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The async jobs API over real HTTP on the tiny fixture: submit, poll, images, server-sent events,
 * cancellation, and its errors.
 *
 * <p>With {@code stipple.batch.max-rows=2} one guided image fills the batch, so a long "blocker" job
 * keeps every later job in the queue until the blocker is cancelled: that makes queued states and the
 * start of a job observable without racing the (fast) tiny model. While a test needs the blocker, it holds the
 * device, so the blocker cannot finish first on a fast machine either.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.batch.max-rows=2",
        "stipple.queue.capacity=2",
        "stipple.jobs.events-heartbeat=100ms"})
@Timeout(30)
class JobsApiTest {
    private static final String PROMPT = "a red circle on a blue background";
    private static final String PNG_DATA_URL = "data:image/png;base64,";
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @LocalServerPort
    int port;
    @Autowired
    ApplicationContext context;

    private StippleHttp http;

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    // --- helpers -------------------------------------------------------------------------------------

    private HttpResponse<byte[]> post(String json) {
        return http.post("/v1/jobs", json);
    }

    /** Submits a job, checks the 202 answer, returns the id. */
    private String submit(Object... fields) {
        HttpResponse<byte[]> response = post(body(fields));
        assertEquals(202, response.statusCode(), () -> new String(response.body()));
        JsonNode accepted = json(response);
        String id = accepted.get("id").asString();
        assertEquals("/v1/jobs/" + id, response.headers().firstValue("Location").orElseThrow());
        String status = accepted.get("status").asString();
        assertTrue(Set.of("queued", "running", "succeeded").contains(status), accepted::toString);
        if (status.equals("queued")) {
            assertTrue(accepted.get("queue_position").asInt() >= 1, accepted::toString);
        } else {
            assertTrue(accepted.path("queue_position").isMissingNode(), accepted::toString);
        }
        return id;
    }

    private JsonNode job(String id) {
        HttpResponse<byte[]> response = http.get("/v1/jobs/" + id);
        assertEquals(200, response.statusCode(), () -> new String(response.body()));
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        return json(response);
    }

    private JsonNode awaitStatus(String id, String status) {
        return await("job " + id + " is " + status).atMost(PATIENCE).pollInterval(Duration.ofMillis(5))
                .until(() -> job(id), job -> job.get("status").asString().equals(status));
    }

    /**
     * A running job that keeps every later job in the queue. The test holds the device from the moment it runs,
     * so it runs until the test lets go, however fast the machine; closing it cancels it and lets go.
     */
    private final class Blocker implements AutoCloseable {
        final String id;
        private final HeldDevice device = HeldDevice.hold(context);

        Blocker() {
            id = submit("prompt", "a blocker", "width", 256, "height", 256, "steps", 150, "seed", 1);
            device.releaseUntil(() -> job(id).get("status").asString().equals("running"));
        }

        @Override
        public void close() {
            cancelQuietly(id);
            device.close();
        }
    }

    private void cancelQuietly(String id) {
        int status = http.delete("/v1/jobs/" + id).statusCode();
        assertTrue(status == 202 || status == 409, "DELETE " + id + ": " + status);
    }

    private List<Event> rest(EventStream events) {
        List<Event> all = new ArrayList<>();
        for (Event event = events.next(); event != null; event = events.next()) {
            all.add(event);
        }
        return all;
    }

    private double openStreams() {
        JsonNode metric = json(http.get("/actuator/metrics/stipple.event.streams"));
        return metric.get("measurements").get(0).get("value").asDouble();
    }

    // --- submit, poll, images -------------------------------------------------------------------------

    @Test
    void submittedJobSucceedsAndItsImagesAreThoseOfGenerate() {
        String json = body("prompt", PROMPT, "steps", 4, "seed", 7, "num_images", 2);
        String id = submit("prompt", PROMPT, "steps", 4, "seed", 7, "num_images", 2);

        JsonNode done = awaitStatus(id, "succeeded");
        assertEquals(id, done.get("id").asString());
        Instant created = Instant.parse(done.get("created_at").asString());
        assertFalse(Instant.parse(done.get("finished_at").asString()).isBefore(created));
        assertTrue(done.path("queue_position").isMissingNode(), done::toString);
        assertTrue(done.path("error").isMissingNode(), done::toString);
        assertEquals(4, done.get("progress").get("step").asInt());
        assertEquals(4, done.get("progress").get("steps").asInt());
        JsonNode parameters = done.get("parameters");
        assertEquals(PROMPT, parameters.get("prompt").asString());
        assertEquals(7, parameters.get("seed").asLong());
        assertEquals(2, parameters.get("num_images").asInt());
        assertEquals(64, parameters.get("width").asInt(), "defaults are resolved");
        assertEquals("ddim", parameters.get("sampler").asString());
        assertTrue(done.get("timings_ms").get("total").asDouble() > 0, done::toString);

        JsonNode generated = http.generateJson(json).get("images");
        JsonNode images = done.get("images");
        assertEquals(2, images.size());
        for (int i = 0; i < 2; i++) {
            JsonNode image = images.get(i);
            assertEquals(i, image.get("index").asInt());
            assertEquals(7 + i, image.get("seed").asLong());
            assertEquals(64, image.get("width").asInt());
            assertEquals(64, image.get("height").asInt());
            assertTrue(image.path("png_base64").isMissingNode(), "no base64 in the job view");
            String url = image.get("url").asString();
            assertEquals("/v1/jobs/" + id + "/images/" + i, url);

            HttpResponse<byte[]> png = http.get(url);
            assertEquals(200, png.statusCode());
            assertEquals("image/png", png.headers().firstValue("Content-Type").orElseThrow());
            assertEquals(Long.toString(7 + i), png.headers().firstValue("X-Stipple-Seed").orElseThrow());
            assertArrayEquals(png(generated.get(i)), png.body(), "image " + i + " differs from POST /generate's");
        }
    }

    // --- events --------------------------------------------------------------------------------------

    @Test
    void eventsFollowAJobFromTheQueueThroughItsStepsToItsResult() {
        String id;
        List<Event> events;
        try (Blocker blocker = new Blocker()) {
            id = submit("prompt", PROMPT, "seed", 11); // the fixture's default: 20 steps
            JsonNode queued = job(id);
            assertEquals("queued", queued.get("status").asString());
            assertEquals(1, queued.get("queue_position").asInt());
            assertTrue(queued.path("progress").isMissingNode(), queued::toString);

            try (EventStream stream = http.events("/v1/jobs/" + id + "/events")) {
                Event first = stream.next();
                assertEquals("queued", first.name());
                assertEquals(1, first.data().get("queue_position").asInt());
                blocker.close();
                events = rest(stream);
            }
        }

        assertFalse(events.isEmpty(), "no events after queued");
        Event terminal = events.get(events.size() - 1);
        assertEquals("succeeded", terminal.name(), events::toString);
        assertEquals(job(id), terminal.data(), "succeeded carries the job's view");

        List<Event> progress = events.subList(0, events.size() - 1);
        assertEquals(0, progress.get(0).data().get("step").asInt(), "the job's start comes first");
        int last = -1;
        int lastPlain = -1;
        int previews = 0;
        for (Event event : progress) {
            assertEquals("progress", event.name(), events::toString);
            int step = event.data().get("step").asInt();
            assertEquals(20, event.data().get("steps").asInt());
            assertTrue(step >= last, "steps go backwards: " + events);
            last = step;
            if (event.data().has("preview")) {
                String preview = event.data().get("preview").asString();
                assertTrue(preview.startsWith(PNG_DATA_URL), preview);
                assertTrue(decode(Base64.getDecoder().decode(preview.substring(PNG_DATA_URL.length()))).getWidth() > 0);
                previews++;
            } else {
                assertTrue(step > lastPlain, "a plain progress event repeats a step: " + events);
                lastPlain = step;
            }
        }
        assertEquals(20, last, "the last step is announced");
        assertTrue(previews > 0, "no preview in a 20-step job with stipple.preview.every=4");
    }

    @Test
    void eventsOfAFinishedJobAreItsTerminalEventAlone() {
        String id = submit("prompt", PROMPT, "steps", 2, "seed", 5);
        JsonNode done = awaitStatus(id, "succeeded");

        try (EventStream stream = http.events("/v1/jobs/" + id + "/events")) {
            Event only = stream.next();
            assertEquals("succeeded", only.name());
            assertEquals(done, only.data());
            assertNull(stream.next(), "the stream ends after the terminal event");
        }
    }

    @Test
    void aClientThatHangsUpIsUnsubscribed() {
        await("no stream is open").atMost(PATIENCE).until(() -> openStreams() == 0);
        try (Blocker blocker = new Blocker()) {
            String id = submit("prompt", PROMPT, "steps", 4, "seed", 9);
            try (EventStream stream = http.events("/v1/jobs/" + id + "/events")) {
                assertEquals("queued", stream.next().name());
                assertEquals(1.0, openStreams());
            }
            // Nothing happens to the queued job meanwhile: the server notices the closed connection by itself
            // (Tomcat reports it to the emitter; failing that, the heartbeat's write fails).
            await("the stream of the departed client is closed").atMost(PATIENCE).until(() -> openStreams() == 0);
            cancelQuietly(id);
        }
    }

    // --- cancellation --------------------------------------------------------------------------------

    /** The test holds the device while it deletes, so the job cannot finish first however fast the machine. */
    @Test
    void deleteStopsARunningJobAtItsNextStep() {
        String id;
        List<Event> events;
        try (HeldDevice device = HeldDevice.hold(context)) {
            id = submit("prompt", PROMPT, "width", 512, "height", 512, "steps", 150, "seed", 3);
            device.releaseUntil(() -> job(id).get("status").asString().equals("running"));
            try (EventStream stream = http.events("/v1/jobs/" + id + "/events")) {
                assertEquals("progress", stream.next().name(), "a running job's stream starts with its progress");
                HttpResponse<byte[]> deleted = http.delete("/v1/jobs/" + id);
                assertEquals(202, deleted.statusCode(), () -> new String(deleted.body()));
                assertEquals("running", json(deleted).get("status").asString(), "it leaves at its next step");
                device.release();
                events = rest(stream);
            }
        }
        assertEquals("cancelled", events.get(events.size() - 1).name(), events::toString);
        events.subList(0, events.size() - 1).forEach(event -> assertEquals("progress", event.name()));

        JsonNode cancelled = job(id);
        assertEquals("cancelled", cancelled.get("status").asString());
        assertTrue(cancelled.get("progress").get("step").asInt() < 150, cancelled::toString);
        assertNotNull(cancelled.get("finished_at"));
        assertTrue(cancelled.path("images").isMissingNode(), cancelled::toString);
        assertEquals(cancelled, events.get(events.size() - 1).data());

        assertProblem(http.delete("/v1/jobs/" + id), 409, null, id);
        assertProblem(http.get("/v1/jobs/" + id + "/images/0"), 409, null, "cancelled");
    }

    @Test
    void deleteCancelsAQueuedJobAtOnce() {
        try (Blocker blocker = new Blocker()) {
            String id = submit("prompt", PROMPT, "steps", 4, "seed", 4);
            assertEquals("queued", job(id).get("status").asString());

            HttpResponse<byte[]> deleted = http.delete("/v1/jobs/" + id);
            assertEquals(202, deleted.statusCode(), () -> new String(deleted.body()));
            assertEquals("cancelled", json(deleted).get("status").asString());
            assertEquals("cancelled", job(id).get("status").asString());

            try (EventStream stream = http.events("/v1/jobs/" + id + "/events")) {
                assertEquals("cancelled", stream.next().name());
                assertNull(stream.next());
            }
            assertProblem(http.delete("/v1/jobs/" + id), 409, null, "already been cancelled");
        }
    }

    // --- errors --------------------------------------------------------------------------------------

    @Test
    void imagesExistOnlyOnceAJobHasSucceededAndWithinItsRange() {
        try (Blocker blocker = new Blocker()) {
            assertProblem(http.get("/v1/jobs/" + blocker.id + "/images/0"), 409, null, "is running");
        }

        String id = submit("prompt", PROMPT, "steps", 2, "seed", 8);
        awaitStatus(id, "succeeded");
        assertEquals(200, http.get("/v1/jobs/" + id + "/images/0").statusCode());
        for (String index : List.of("1", "-1", "x")) {
            assertProblem(http.get("/v1/jobs/" + id + "/images/" + index), 404, null, "no image " + index);
        }
    }

    @Test
    void unknownJobsAreNotFoundProblemsNamingTheId() {
        String id = "no-such-job";
        assertProblem(http.get("/v1/jobs/" + id), 404, null, id);
        assertProblem(http.delete("/v1/jobs/" + id), 404, null, id);
        assertProblem(http.get("/v1/jobs/" + id + "/images/0"), 404, null, id);
        assertProblem(http.send(http.request("/v1/jobs/" + id + "/events").header("Accept", "text/event-stream")
                .GET().build()), 404, null, id);
    }

    @Test
    void invalidBodiesAreRefusedLikeThoseOfGenerate() {
        String invalid = body("prompt", PROMPT, "width", 100);
        JsonNode problem = assertProblem(post(invalid), 400, "width", "multiple of 8");
        JsonNode generateProblem = assertProblem(http.generate(invalid), 400, "width", "multiple of 8");
        assertEquals(generateProblem.get("detail"), problem.get("detail"));
        assertEquals("/v1/jobs", problem.get("instance").asString());

        assertProblem(post(body("prompt", PROMPT, "colour", "red")), 400, "colour", "Unknown field \"colour\"");
        assertProblem(post("{\"prompt\": "), 400, null, "not valid JSON");
        assertProblem(http.send(http.request("/v1/jobs").header("Content-Type", "text/plain")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(PROMPT)).build()), 415, null,
                "Content-Type 'text/plain' is not supported");
    }

    @Test
    void aFullQueueRefusesJobsWithRetryAfter() {
        List<String> waiting = new ArrayList<>();
        try (Blocker blocker = new Blocker()) {
            waiting.add(submit("prompt", PROMPT, "steps", 2));
            waiting.add(submit("prompt", PROMPT, "steps", 2));
            HttpResponse<byte[]> refused = post(body("prompt", PROMPT, "steps", 2));
            assertProblem(refused, 429, null, "queue is full");
            assertTrue(refused.headers().firstValue("Retry-After").orElseThrow().matches("[1-9][0-9]*"));
        } finally {
            waiting.forEach(this::cancelQuietly);
        }
    }
}
