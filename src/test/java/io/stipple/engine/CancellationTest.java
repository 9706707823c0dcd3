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
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;

/**
 * A cancelled job, or one whose client hung up, gives its rows back at the worker's next step boundary. The test
 * holds the device while it cancels, so the job cannot finish first however fast the machine, and counts the
 * steps the job takes before it leaves.
 */
@EngineTest
class CancellationTest {
    private static final String ACTIVE_ROWS = "stipple.active.rows";
    private static final String CANCELLATIONS = "stipple.cancellations";

    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;
    @Autowired
    ApplicationContext context;
    @LocalServerPort
    int port;

    @Test
    void cancelledQueuedJobEndsAtOnceAndRunningJobLeavesAtTheNextStep() {
        double cancelledBefore = count(registry, CANCELLATIONS);
        Job running = occupyAllRows(service);
        int cancelledAtStep;
        try (HeldDevice device = HeldDevice.hold(context)) {
            Job queued = service.submit(slow(1, 1), EngineTesting.CLIENT);
            assertEquals(1, service.queuePosition(queued));
            assertEquals(16, gauge(registry, ACTIVE_ROWS));

            assertTrue(service.cancel(queued));
            assertEquals(JobStatus.CANCELLED, queued.status(), "a queued job is cancelled before cancel returns");
            assertInstanceOf(JobCancelledException.class, failure(queued, Duration.ZERO));
            assertEquals(0, service.queuePosition(queued));
            assertEquals(cancelledBefore + 1, count(registry, CANCELLATIONS));

            cancelledAtStep = running.step();
            assertTrue(service.cancel(running));
            assertFalse(running.completion().isDone(), "a running job is answered once its rows are free");
        }
        // The worker releases the rows before it completes the job's future, so once the future has
        // failed the gauge must already read 0.
        assertInstanceOf(JobCancelledException.class, failure(running, PATIENCE));
        assertEquals(0, gauge(registry, ACTIVE_ROWS));
        assertEquals(0, gauge(registry, "stipple.active.images"));
        assertEquals(JobStatus.CANCELLED, running.status());
        assertTrue(running.step() <= cancelledAtStep + 1,
                "cancelled at step " + cancelledAtStep + ", left after step " + running.step());
        assertMetersSoon(() -> assertEquals(cancelledBefore + 2, count(registry, CANCELLATIONS)));
        assertFalse(service.cancel(running), "a finished job cannot be cancelled again");
    }

    @Test
    void clientHangingUpCancelsItsJob() throws Exception {
        double cancelledBefore = count(registry, CANCELLATIONS);
        byte[] body = "{\"prompt\": \"a hung-up one\", \"width\": 256, \"height\": 256, \"steps\": 150, \"seed\": 1}"
                .getBytes(StandardCharsets.UTF_8);
        Job job;
        try (HeldDevice device = HeldDevice.hold(context); Socket socket = new Socket("localhost", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Accept: image/png\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            job = await().atMost(PATIENCE).until(() -> service.unfinished().stream()
                    .filter(admitted -> admitted.request().prompt().equals("a hung-up one")).findFirst(),
                    Optional::isPresent).orElseThrow();
            device.releaseUntil(() -> job.step() >= 1);

            socket.close();
            // Nothing completes for the test to wait on: the server notices the closed socket by probing it.
            await().atMost(PATIENCE).until(job::cancelRequested);
            assertEquals(JobStatus.RUNNING, job.status());
        }
        await().atMost(PATIENCE).until(() -> count(registry, CANCELLATIONS) == cancelledBefore + 1
                && gauge(registry, ACTIVE_ROWS) == 0);
        assertEquals(JobStatus.CANCELLED, job.status());
    }
}
