package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.assertFails;
import static io.stipple.engine.EngineTesting.assertMetersSoon;
import static io.stipple.engine.EngineTesting.awaitStep;
import static io.stipple.engine.EngineTesting.count;
import static io.stipple.engine.EngineTesting.gauge;
import static io.stipple.engine.EngineTesting.request;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.pipeline.GenerationRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Requests get {@code stipple.request.timeout} from admission to result, running or waiting. The test holds
 * the device, or keeps the worker inside one long U-Net call, so no job can finish or reach a step boundary
 * while its deadline comes: the answer must come from the deadline alone. One job at a time (two rows) makes the
 * second wait in the queue.
 *
 * <p>The model is the tiny fixture with src/tools/fixture/make_faulty_parts.py's modules: a prompt with "brown"
 * makes each of its U-Net calls hundreds of U-Net runs long; other prompts get the fixture's own outputs.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        // Generous for a job to be taken and stepped once on a busy machine; each test waits this long once.
        "stipple.request.timeout=3s",
        "stipple.batch.max-rows=2"})
class DeadlineTest {
    private static final String STEPS = "stipple.step.duration";

    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;
    @Autowired
    ApplicationContext context;
    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void faultyModel(DynamicPropertyRegistry properties) throws IOException {
        EngineTesting.serveFaultyTiny(properties);
    }

    private static GenerationRequest longJob(long seed) {
        return request("a slow one", 64, 64, 150, 5.0, "ddim", seed, 1);
    }

    @BeforeEach
    void warmedUp() {
        await().atMost(PATIENCE).until(service::ready);
    }

    @Test
    void runningAndQueuedJobsFailAtTheirDeadlineAndLeave() {
        double failedBefore = count(registry, "stipple.failures", "reason", "deadline");
        Job running = service.submit(longJob(1), EngineTesting.CLIENT);
        awaitStep(running, 1);
        Job queued;
        double callsWhenReleased;
        try (HeldDevice device = HeldDevice.hold(context)) {
            queued = service.submit(longJob(2), EngineTesting.CLIENT);
            assertEquals(1, service.queuePosition(queued));

            assertFails(running, JobFailure.Reason.DEADLINE, PATIENCE);
            assertFails(queued, JobFailure.Reason.DEADLINE, PATIENCE);
            assertTrue(running.step() > 0 && running.step() < running.steps(), "stopped at step " + running.step());
            assertTrue(running.failure().retryable());
            // Nothing frees rows while the worker cannot reach a step boundary.
            assertEquals(2, gauge(registry, "stipple.active.rows"));
            callsWhenReleased = count(registry, STEPS);
        }
        // The answer went out at the deadline; the worker drops the rows at its next step boundary, after at most
        // the one U-Net call it was about to make when the test took the device.
        assertMetersSoon(() -> {
            assertEquals(0, gauge(registry, "stipple.active.rows"));
            assertEquals(0, gauge(registry, "stipple.queue.depth"));
            assertEquals(failedBefore + 2, count(registry, "stipple.failures", "reason", "deadline"));
        });
        assertTrue(count(registry, STEPS) <= callsWhenReleased + 1,
                (count(registry, STEPS) - callsWhenReleased) + " U-Net calls before the rows were freed");
    }

    @Test
    void generateAnswersALateRequestWith503AndRetryAfter() throws Exception {
        HttpResponse<String> response;
        try (HeldDevice device = HeldDevice.hold(context)) {
            response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://localhost:" + port + "/generate"))
                    .header("Content-Type", "application/json")
                    .timeout(PATIENCE)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a late one\"}"))
                    .build(), BodyHandlers.ofString());
        }

        assertEquals(503, response.statusCode(), response.body());
        assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(""));
        assertTrue(response.body().contains("\"title\":\"Deadline exceeded\""), response.body());
        assertTrue(response.body().contains("stipple.request.timeout"), response.body());
        assertEquals("1", response.headers().firstValue("Retry-After").orElseThrow(),
                "a request that ran out of time may be retried at once");
    }

    /**
     * The 503 goes out at the deadline while the worker is inside a U-Net call, not when the call ends: the step
     * meter counts the call that was under way when the answer went out once the call is over.
     */
    @Test
    void theDeadlineHoldsInsideOneLongCall() throws Exception {
        double callsBefore = count(registry, STEPS);
        // 150 steps of hundreds of U-Net runs each: far more than any machine does before the deadline.
        Job slow = service.submit(request("a brown circle", 256, 256, 150, 5.0, "ddim", 7), EngineTesting.CLIENT);
        CompletableFuture<Double> callsWhenAnswered = slow.completion().handle((result, error) -> count(registry, STEPS));

        assertFails(slow, JobFailure.Reason.DEADLINE, PATIENCE);
        await().atMost(PATIENCE).until(() -> gauge(registry, "stipple.active.rows") == 0);
        double callsWhenDone = count(registry, STEPS);
        assertTrue(slow.step() < slow.steps(), "stopped at step " + slow.step());
        assertEquals(callsWhenAnswered.get() + 1, callsWhenDone, "the call under way at the deadline ended after the answer");
        System.out.printf("The deadline answered a job at step %d of %d, during its U-Net call %.0f%n", slow.step(),
                slow.steps(), callsWhenDone - callsBefore);
    }
}
