package io.stipple.shipped;

import static io.stipple.testing.StippleHttp.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.testing.StippleHttp;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM to the real process while it is busy: every admitted request gets an answer (200, or 503 with a
 * problem for what the grace period cannot finish) before the process exits, including requests whose PNGs
 * are encoded while the JVM is already shutting down. A test context that is closed in-process cannot show
 * this: its JVM never runs its shutdown hooks.
 */
class ShutdownUnderLoadIT {
    private static final Duration GRACE = Duration.ofSeconds(6);

    @Test
    void everyAdmittedRequestIsAnsweredBeforeTheProcessExits() throws Exception {
        try (ShippedJar jar = ShippedJar.start("--stipple.shutdown.grace=" + GRACE.toSeconds() + "s")) {
            StippleHttp http = jar.http;
            List<CompletableFuture<Answer>> answers = new ArrayList<>();
            // One job far longer than the grace period (~20 s here), and quick default ones that take turns with
            // it: they keep finishing, their PNGs encoded while the JVM is shutting down, until the grace ends.
            answers.add(send(http, body("prompt", "a red circle", "width", 256, "height", 256, "steps", 150)));
            // Running before the others come: while waiting, its work alone is over the queue's work bound.
            awaitHeld(http, 1, "stipple_active_images");
            for (int i = 0; i < 12; i++) {
                answers.add(send(http, body("prompt", "a blue square on a yellow background", "seed", i)));
            }
            awaitHeld(http, answers.size(), "stipple_queue_depth", "stipple_active_images",
                    "stipple_images_generated_total");

            long terminated = System.nanoTime();
            jar.terminate();
            int exitCode = jar.awaitExit(GRACE.plusSeconds(60));

            Map<Integer, Integer> statuses = new TreeMap<>();
            int answeredAfterSigterm = 0;
            for (CompletableFuture<Answer> pending : answers) {
                Answer answer;
                try {
                    answer = pending.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    throw new AssertionError("a request got no answer: " + e.getCause() + "\n" + jar.log(), e);
                }
                HttpResponse<byte[]> response = answer.response();
                statuses.merge(response.statusCode(), 1, Integer::sum);
                if (response.statusCode() == 503) {
                    StippleHttp.assertProblem(response, 503, null, "shut down");
                    assertTrue(response.headers().firstValue("Retry-After").isPresent());
                } else {
                    assertEquals(200, response.statusCode(), () -> new String(response.body()));
                    if (answer.nanos() > terminated) {
                        answeredAfterSigterm++;
                    }
                }
            }
            System.out.printf("SIGTERM with %d requests in flight: %s (%d images finished after SIGTERM); exit code %d%n",
                    answers.size(), statuses, answeredAfterSigterm, exitCode);
            assertTrue(answeredAfterSigterm >= 1, "work finishes during the grace period: " + statuses);
            assertTrue(statuses.getOrDefault(503, 0) >= 1, "the long job cannot: " + statuses);
            String log = jar.log();
            assertFalse(log.contains("Shutdown in progress"), log);
            assertFalse(log.contains(" ERROR "), log);
        }
    }

    private record Answer(HttpResponse<byte[]> response, long nanos) {
    }

    private static CompletableFuture<Answer> send(StippleHttp http, String json) {
        return http.sendAsync(http.generateRequest(HttpRequest.BodyPublishers.ofString(json)))
                .thenApply(response -> new Answer(response, System.nanoTime()));
    }

    /** Waits until the named gauges and counters add up to {@code requests}: queued, running or done. */
    private static void awaitHeld(StippleHttp http, int requests, String... metricNames) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            String metrics = new String(http.get("/actuator/prometheus").body(), StandardCharsets.UTF_8);
            double held = 0;
            for (String name : metricNames) {
                held += sum(metrics, name);
            }
            if (held >= requests) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the server did not hold " + requests + " requests in " + List.of(metricNames));
    }

    /** The sum of a Prometheus metric's series. */
    private static double sum(String exposition, String name) {
        return exposition.lines()
                .filter(line -> line.startsWith(name + " ") || line.startsWith(name + "{"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }
}
