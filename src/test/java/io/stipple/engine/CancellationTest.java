package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.assertMetersSoon;
import static io.stipple.engine.EngineTesting.count;
import static io.stipple.engine.EngineTesting.failure;
import static io.stipple.engine.EngineTesting.gauge;
import static io.stipple.engine.EngineTesting.occupyAllRows;
import static io.stipple.engine.EngineTesting.slow;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/** A cancelled job, or one whose client hung up, gives its rows back at once. */
@EngineTest
class CancellationTest {
    private static final String ACTIVE_ROWS = "stipple.active.rows";
    private static final String CANCELLATIONS = "stipple.cancellations";

    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;
    @LocalServerPort
    int port;

    @Test
    void cancelledQueuedJobEndsAtOnceAndRunningJobLeavesAtTheNextStep() {
        double cancelledBefore = count(registry, CANCELLATIONS);
        Job running = occupyAllRows(service);
        Job queued = service.submit(slow(1, 1), EngineTesting.CLIENT);
        assertEquals(1, service.queuePosition(queued));
        assertEquals(16, gauge(registry, ACTIVE_ROWS));

        assertTrue(service.cancel(queued));
        assertEquals(JobStatus.CANCELLED, queued.status(), "a queued job is cancelled before cancel returns");
        assertInstanceOf(JobCancelledException.class, failure(queued, Duration.ZERO));
        assertEquals(0, service.queuePosition(queued));
        assertEquals(cancelledBefore + 1, count(registry, CANCELLATIONS));

        long cancelledAt = System.nanoTime();
        assertTrue(service.cancel(running));
        // The worker releases the rows before it completes the job's future, so once the future has
        // failed the gauge must already read 0.
        assertInstanceOf(JobCancelledException.class, failure(running, Duration.ofSeconds(1)));
        double millis = (System.nanoTime() - cancelledAt) / 1e6;
        assertEquals(0, gauge(registry, ACTIVE_ROWS));
        assertEquals(0, gauge(registry, "stipple.active.images"));
        assertEquals(JobStatus.CANCELLED, running.status());
        assertTrue(running.step() < running.steps(), "cancelled at step " + running.step());
        assertMetersSoon(() -> assertEquals(cancelledBefore + 2, count(registry, CANCELLATIONS)));
        assertFalse(service.cancel(running), "a finished job cannot be cancelled again");
        System.out.printf("A running 150-step 256x256 job of 8 images left %.0f ms after cancel, at step %d%n",
                millis, running.step());
    }

    @Test
    void clientHangingUpCancelsItsJob() throws Exception {
        double cancelledBefore = count(registry, CANCELLATIONS);
        byte[] body = "{\"prompt\": \"a slow one\", \"width\": 256, \"height\": 256, \"steps\": 150, \"seed\": 1}"
                .getBytes(StandardCharsets.UTF_8);
        long hungUpAt;
        try (Socket socket = new Socket("localhost", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Accept: image/png\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            await().atMost(PATIENCE).pollInterval(Duration.ofMillis(10))
                    .until(() -> gauge(registry, ACTIVE_ROWS) > 0);
            hungUpAt = System.nanoTime();
        }

        // Nothing completes for the test to wait on: the server notices the closed socket by probing it.
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(10))
                .until(() -> count(registry, CANCELLATIONS) == cancelledBefore + 1
                        && gauge(registry, ACTIVE_ROWS) == 0);
        System.out.printf("The job of a client that hung up left %.0f ms later%n",
                (System.nanoTime() - hungUpAt) / 1e6);
    }
}
