package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.assertFails;
import static io.stipple.engine.EngineTesting.awaitStep;
import static io.stipple.engine.EngineTesting.request;
import static io.stipple.engine.EngineTesting.result;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.StippleApplication;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Closing the application answers every admitted job: what fits the grace period is finished, the rest
 * fails with SHUTDOWN, and nothing is admitted once stopping has begun.
 */
class GracefulShutdownTest {
    private static final Duration GRACE = Duration.ofSeconds(2);

    @Test
    void closingFinishesWhatFitsTheGracePeriodAndFailsTheRest() throws Exception {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(StippleApplication.class).properties(
                "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
                "server.port=0",
                "stipple.shutdown.grace=" + GRACE.toMillis() + "ms",
                // Room for four quick jobs next to the long one: the other four wait in the queue.
                "stipple.batch.max-rows=12").run();
        try {
            GenerationService service = context.getBean(GenerationService.class);
            // 150 steps of two 512×512 images: about 10 s on a 2-core CPU, five times the grace period.
            Job tooLong = service.submit(request("too long", 512, 512, 150, 5.0, "ddim", 1, 2), EngineTesting.CLIENT);
            awaitStep(tooLong, 1);
            // A small shape takes turns with the long job's calls, one each: two steps in two waves are four
            // turns, well within the grace period even on a loaded machine.
            List<Job> quick = IntStream.range(0, 8)
                    .mapToObj(i -> service.submit(request("quick " + i, 32, 32, 2, 5.0, "ddim", i), EngineTesting.CLIENT))
                    .toList();

            Instant closingAt = Instant.now();
            long closing = System.nanoTime();
            CompletableFuture<Void> closed = CompletableFuture.runAsync(context::close);
            await().atMost(PATIENCE).pollInterval(Duration.ofMillis(1)).until(() -> !service.isRunning());
            assertThrows(NotAcceptingException.class, () -> service.submit(request("too late", 4, 1), EngineTesting.CLIENT));
            closed.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            double closeMillis = (System.nanoTime() - closing) / 1e6;

            assertFails(tooLong, JobFailure.Reason.SHUTDOWN, Duration.ZERO);
            assertTrue(tooLong.step() < tooLong.steps());
            for (Job job : quick) {
                assertEquals(1, result(job).images().size(), "a job that fits the grace period is finished");
            }
            assertTrue(closeMillis >= GRACE.toMillis(), "closed after " + closeMillis + " ms");
            assertFalse(service.ready());
            Instant lastQuick = quick.stream().map(Job::finishedAt).max(Instant::compareTo).orElseThrow();
            System.out.printf("Closed in %.0f ms (grace %d ms): the long job failed at step %d of %d; %d quick jobs "
                    + "finished, the last %d ms after closing began%n", closeMillis, GRACE.toMillis(), tooLong.step(),
                    tooLong.steps(), quick.size(), Duration.between(closingAt, lastQuick).toMillis());
        } finally {
            context.close();
        }
    }
}
