package io.stipple.engine;

import static io.stipple.engine.EngineTesting.assertFails;
import static io.stipple.engine.EngineTesting.assertMetersSoon;
import static io.stipple.engine.EngineTesting.count;
import static io.stipple.engine.EngineTesting.gauge;
import static io.stipple.engine.EngineTesting.request;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.pipeline.GenerationRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Requests get {@code stipple.request.timeout} from admission to result, running or waiting. One job at
 * a time (two rows) makes the second wait in the queue.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.request.timeout=300ms",
        "stipple.batch.max-rows=2"})
class DeadlineTest {
    /** A timer answers at the deadline; the slack is for a busy machine's scheduling. */
    private static final Duration WITHIN = Duration.ofSeconds(2);

    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;
    @LocalServerPort
    int port;

    /** About a second of work on the tiny fixture, several times the 300 ms deadline on a fast machine. */
    private static GenerationRequest slowerThanTheDeadline(long seed) {
        return request("a slow one", 512, 512, 150, 5.0, "ddim", seed, 1);
    }

    @Test
    void runningAndQueuedJobsFailAtTheirDeadlineAndLeave() {
        double failedBefore = count(registry, "stipple.failures", "reason", "deadline");
        long start = System.nanoTime();
        Job running = service.submit(slowerThanTheDeadline(1), EngineTesting.CLIENT);
        // Taken by the worker before the next comes: while it waits, its work alone is over the queue's work bound.
        await().atMost(WITHIN).pollInterval(Duration.ofMillis(1)).until(() -> running.status() != JobStatus.QUEUED);
        Job queued = service.submit(slowerThanTheDeadline(2), EngineTesting.CLIENT);

        assertFails(running, JobFailure.Reason.DEADLINE, WITHIN);
        assertFails(queued, JobFailure.Reason.DEADLINE, WITHIN);
        double millis = (System.nanoTime() - start) / 1e6;

        assertTrue(millis >= 300, "failed after " + millis + " ms");
        assertTrue(running.step() > 0 && running.step() < running.steps(), "stopped at step " + running.step());
        assertTrue(running.failure().retryable());
        // The answer goes out at the deadline; the worker drops the rows at its next step boundary.
        assertMetersSoon(() -> {
            assertEquals(0, gauge(registry, "stipple.active.rows"));
            assertEquals(0, gauge(registry, "stipple.queue.depth"));
            assertEquals(failedBefore + 2, count(registry, "stipple.failures", "reason", "deadline"));
        });
    }

    @Test
    void generateAnswersALateRequestWith503AndRetryAfter() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://localhost:" + port + "/generate"))
                .header("Content-Type", "application/json")
                .timeout(EngineTesting.PATIENCE)
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"prompt\": \"a slow one\", \"width\": 512, \"height\": 512, \"steps\": 150}"))
                .build(), BodyHandlers.ofString());

        assertEquals(503, response.statusCode(), response.body());
        assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(""));
        assertTrue(response.body().contains("\"title\":\"Deadline exceeded\""), response.body());
        assertTrue(response.body().contains("stipple.request.timeout"), response.body());
        long retryAfter = Long.parseLong(response.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1, "Retry-After " + retryAfter);
    }
}
