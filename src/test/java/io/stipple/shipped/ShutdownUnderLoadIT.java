package io.stipple.shipped;

import static io.stipple.testing.StippleHttp.body;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.testing.StippleHttp;
import java.io.IOException;
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
 *
 * <p>What fits the grace period is decided by counting and by freezing the process, not by how fast the machine
 * is: a quick request finishes once stopping has begun, then the process is stopped (SIGSTOP) until its grace
 * period is over, so the long request cannot finish in it however fast the machine.
 */
class ShutdownUnderLoadIT {
    /** Generous for one quick request, some forty small device turns, to finish once stopping has begun. */
    private static final Duration GRACE = Duration.ofSeconds(10);
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    /** Twelve quick requests of 20 steps are more steps than the long one's 150: while it runs, quick ones remain. */
    private static final int QUICK = 12;

    @Test
    void everyAdmittedRequestIsAnsweredBeforeTheProcessExits() throws Exception {
        // Four rows: the long request's two and one quick request's two, so the quick ones run one after another
        // beside it, taking turns with it one step each. The engine's component of readiness shows when it stops.
        try (ShippedJar jar = ShippedJar.start("--stipple.shutdown.grace=" + GRACE.toSeconds() + "s",
                "--stipple.batch.max-rows=4", "--management.endpoint.health.show-components=always")) {
            StippleHttp http = jar.http;
            CompletableFuture<HttpResponse<byte[]>> longOne = send(http,
                    body("prompt", "a red circle", "width", 128, "height", 128, "steps", 150));
            // Running before the others come: while waiting, its work alone is over the queue's work bound.
            awaitHeld(http, 1, "stipple_active_images");
            List<CompletableFuture<HttpResponse<byte[]>>> quick = new ArrayList<>();
            for (int i = 0; i < QUICK; i++) {
                quick.add(send(http, body("prompt", "a blue square on a yellow background", "seed", i)));
            }
            awaitHeld(http, 1 + QUICK, "stipple_queue_depth", "stipple_active_images", "stipple_images_generated_total");

            jar.terminate();
            // Stopping has begun, and the grace period with it, once the engine reports itself down.
            await().atMost(PATIENCE).until(() -> "DOWN".equals(StippleHttp.json(http.get("/actuator/health/readiness"))
                    .at("/components/engine/status").asString("")));
            long graceBegan = System.nanoTime();
            double generatedWhenStopping = metric(http, "stipple_images_generated_total");
            await().atMost(PATIENCE).until(() -> metric(http, "stipple_images_generated_total") > generatedWhenStopping);
            signal(jar, "STOP");
            try {
                // The process reads its grace period from the system clock, so this one wait is for time itself.
                await().atMost(GRACE.plus(PATIENCE)).until(() -> System.nanoTime() - graceBegan > GRACE.toNanos());
            } finally {
                signal(jar, "CONT");
            }
            int exitCode = jar.awaitExit(PATIENCE);

            Map<Integer, Integer> statuses = new TreeMap<>();
            for (CompletableFuture<HttpResponse<byte[]>> pending : quick) {
                HttpResponse<byte[]> response = answer(pending, jar);
                statuses.merge(response.statusCode(), 1, Integer::sum);
                if (response.statusCode() != 503) {
                    assertEquals(200, response.statusCode(), () -> new String(response.body()));
                } else {
                    assertShutDown(response);
                }
            }
            assertShutDown(answer(longOne, jar));
            assertTrue(statuses.getOrDefault(200, 0) >= 1, "work finishes during the grace period: " + statuses);
            System.out.printf("SIGTERM with %d requests in flight: the long one 503, the quick ones %s; exit code %d%n",
                    1 + QUICK, statuses, exitCode);
            String log = jar.log();
            assertFalse(log.contains("Shutdown in progress"), log);
            assertFalse(log.contains(" ERROR "), log);
        }
    }

    private static CompletableFuture<HttpResponse<byte[]>> send(StippleHttp http, String json) {
        return http.sendAsync(http.generateRequest(HttpRequest.BodyPublishers.ofString(json)));
    }

    private static HttpResponse<byte[]> answer(CompletableFuture<HttpResponse<byte[]>> pending, ShippedJar jar)
            throws Exception {
        try {
            return pending.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("a request got no answer: " + e.getCause() + "\n" + jar.log(), e);
        }
    }

    private static void assertShutDown(HttpResponse<byte[]> response) {
        StippleHttp.assertProblem(response, 503, null, "shut down");
        assertTrue(response.headers().firstValue("Retry-After").isPresent());
    }

    /** SIGSTOP freezes the process: none of its threads runs until SIGCONT, while the clock goes on. */
    private static void signal(ShippedJar jar, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(jar.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + signal);
    }

    /** Waits until the named gauges and counters add up to {@code requests}: queued, running or done. */
    private static void awaitHeld(StippleHttp http, int requests, String... metricNames) {
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50))
                .until(() -> List.of(metricNames).stream().mapToDouble(name -> metric(http, name)).sum() >= requests);
    }

    /** The sum of a Prometheus metric's series. */
    private static double metric(StippleHttp http, String name) {
        return new String(http.get("/actuator/prometheus").body(), StandardCharsets.UTF_8).lines()
                .filter(line -> line.startsWith(name + " ") || line.startsWith(name + "{"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }
}
