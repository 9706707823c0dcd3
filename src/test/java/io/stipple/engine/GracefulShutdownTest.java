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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Closing the application answers every admitted job: what fits the grace period is finished, the rest
 * fails with SHUTDOWN, and nothing is admitted once stopping has begun. The test holds the device to decide
 * what fits: the quick jobs get it until they are done, the long job never again before the grace runs out.
 */
class GracefulShutdownTest {
    /** Generous for the quick jobs, which need about ten device turns once closing has begun. */
    private static final Duration GRACE = Duration.ofSeconds(5);

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
            Job tooLong = service.submit(request("too long", 512, 512, 150, 5.0, "ddim", 1, 2), EngineTesting.CLIENT);
            awaitStep(tooLong, 1);
            CompletableFuture<Void> closed;
            try (HeldDevice device = HeldDevice.hold(context)) {
                List<Job> quick = IntStream.range(0, 8)
                        .mapToObj(i -> service.submit(request("quick " + i, 32, 32, 2, 5.0, "ddim", i), EngineTesting.CLIENT))
                        .toList();
                closed = CompletableFuture.runAsync(context::close);
                await().atMost(PATIENCE).until(() -> !service.isRunning());
                // The grace period has begun: it ends GRACE after this point at the latest.
                long stopping = System.nanoTime();
                assertThrows(NotAcceptingException.class, () -> service.submit(request("too late", 4, 1), EngineTesting.CLIENT));

                device.releaseUntil(() -> quick.stream().allMatch(job -> job.status().terminal()));
                for (Job job : quick) {
                    assertEquals(1, result(job).images().size(), "a job that fits the grace period is finished");
                }
                // The engine reads its grace period from the system clock, so this one wait is for time itself;
                // the long job cannot step meanwhile, however fast the machine.
                await().atMost(GRACE.plus(PATIENCE)).until(() -> System.nanoTime() - stopping > GRACE.toNanos());
            }

            assertFails(tooLong, JobFailure.Reason.SHUTDOWN, PATIENCE);
            assertTrue(tooLong.step() < tooLong.steps(), "failed at step " + tooLong.step());
            closed.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            assertFalse(service.ready());
            System.out.printf("The long job failed at step %d of %d; the 8 quick jobs finished%n", tooLong.step(),
                    tooLong.steps());
        } finally {
            context.close();
        }
    }
}
