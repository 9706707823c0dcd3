package io.stipple.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDManager;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.TestPipelines;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.testing.Png;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.Guidance;
import io.stipple.pipeline.GenerationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.LongStream;
import org.awaitility.core.ThrowingRunnable;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;

/** Requests, waits, image comparison and meter readings that the engine tests share. */
final class EngineTesting {
    /** Bounds every wait for work that should finish: generous for a busy 2-core machine, finite for a hung engine. */
    static final Duration PATIENCE = Duration.ofSeconds(30);
    /** The one client the engine tests submit as, unless a test is about clients. */
    static final String CLIENT = "engine-test";
    /** The name in the tiny fixture's pipeline.json, which the engine tests serve as their default model. */
    static final String TINY = "tiny-fixture";

    private EngineTesting() {
    }

    /**
     * Serves the tiny fixture alone, with src/tools/fixture/make_faulty_parts.py's text encoder and U-Net: a prompt
     * with "pink" makes the U-Net raise, "gray" run out of memory in calls of more than 4 rows, "brown" run each
     * call hundreds of times over; other prompts get the fixture's own outputs.
     */
    static void serveFaultyTiny(DynamicPropertyRegistry properties) throws IOException {
        Path directory = TestPipelines.copyTiny(Files.createTempDirectory("stipple-faulty"));
        TestPipelines.swapIn(directory, "text_encoder_marking.pt", PipelineDirectory.TEXT_ENCODER);
        TestPipelines.swapIn(directory, "unet_faulty.pt", PipelineDirectory.UNET);
        TestPipelines.swapIn(directory, "vae_decoder_hungry.pt", PipelineDirectory.VAE_DECODER);
        properties.add("stipple.model-dir", directory::toString);
        properties.add("stipple.embedded-models", () -> "false");
    }

    static GenerationRequest request(String prompt, int width, int height, int steps, double guidance, String sampler,
            long seed, int images) {
        return new GenerationRequest(TINY, prompt, "", width, height, steps, guidance, Guidance.classifierFree(guidance), sampler, 0.0,
                LongStream.range(seed, seed + images).boxed().toList(), null);
    }

    static GenerationRequest request(String prompt, int width, int height, int steps, double guidance, String sampler,
            long seed) {
        return request(prompt, width, height, steps, guidance, sampler, seed, 1);
    }

    /** A guided 64×64 DDIM request. */
    static GenerationRequest request(String prompt, int steps, long seed) {
        return request(prompt, 64, 64, steps, 5.0, "ddim", seed);
    }

    /**
     * A request of many steps on the tiny model (150 steps at 256×256, about 10 ms a step for one image); a test
     * that needs it still running when it acts on it holds the device ({@link HeldDevice}) once it runs.
     */
    static GenerationRequest slow(long seed, int images) {
        return request("a slow one", 256, 256, 150, 5.0, "ddim", seed, images);
    }

    /**
     * Submits a job of eight guided images, which fills the default 16 rows, and waits until it has stepped: jobs
     * submitted after it wait in the queue until it ends.
     */
    static Job occupyAllRows(GenerationService service) {
        Job job = service.submit(slow(1000, 8), CLIENT);
        awaitStep(job, 1);
        return job;
    }

    /**
     * Submits a request that waits in the queue, while the test holds the device, until {@code whileQueued} has run
     * (to subscribe to it before anything happens), then lets it run.
     */
    static Job submitHeldBack(ApplicationContext context, GenerationRequest request, Consumer<Job> whileQueued) {
        try (HeldDevice device = HeldDevice.hold(context)) {
            Job job = context.getBean(GenerationService.class).submit(request, CLIENT);
            whileQueued.accept(job);
            return job;
        }
    }

    /** Waits until the job has completed {@code step} steps; fails if it ends first. */
    static void awaitStep(Job job, int step) {
        CompletableFuture<Void> reached = new CompletableFuture<>();
        Consumer<JobEvent> listener = event -> {
            if (event instanceof JobEvent.Progress progress && progress.step() >= step) {
                reached.complete(null);
            } else if (!(event instanceof JobEvent.Progress || event instanceof JobEvent.Queued)) {
                reached.completeExceptionally(new AssertionError("job ended before step " + step + ": " + event));
            }
        };
        listener.accept(job.subscribe(listener));
        try {
            reached.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw (AssertionError) e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("job " + job.id() + " at step " + job.step() + " of " + job.steps() + ", "
                    + job.status() + ", after " + PATIENCE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            job.unsubscribe(listener);
        }
    }

    static GenerationResult result(Job job) {
        try {
            return job.completion().get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("job " + job.id() + " ended " + job.status(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("job " + job.id() + " still " + job.status() + " after " + PATIENCE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** What the job's completion failed with, within {@code within}. */
    static Throwable failure(Job job, Duration within) {
        try {
            job.completion().get(within.toMillis(), TimeUnit.MILLISECONDS);
            return fail("job " + job.id() + " succeeded");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            return fail("job " + job.id() + " still " + job.status() + " at step " + job.step() + " after " + within);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Asserts that the job fails for {@code reason} within {@code within}. */
    static void assertFails(Job job, JobFailure.Reason reason, Duration within) {
        JobFailedException failed = assertInstanceOf(JobFailedException.class, failure(job, within));
        assertEquals(reason, failed.failure().reason(), failed.getMessage());
        assertEquals(JobStatus.FAILED, job.status());
        assertEquals(reason, job.failure().reason());
    }

    static List<byte[]> pngs(GenerationResult result) {
        return result.images().stream().map(GeneratedImage::png).toList();
    }

    /** Per image of two results of one request, the largest channel difference. */
    static List<Integer> differences(GenerationResult result, List<byte[]> expected) {
        List<byte[]> actual = pngs(result);
        assertEquals(expected.size(), actual.size());
        List<Integer> differences = new ArrayList<>();
        for (int i = 0; i < actual.size(); i++) {
            differences.add(Png.maxChannelDifference(actual.get(i), expected.get(i)));
        }
        return differences;
    }

    /**
     * Retries meter assertions for a moment until they hold: the engine counts a job's ending just after it
     * completes the job's future, so a test that has seen the future may read the meter too early.
     */
    static void assertMetersSoon(ThrowingRunnable assertions) {
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(5)).untilAsserted(assertions);
    }

    static double gauge(MeterRegistry registry, String name) {
        return registry.get(name).gauge().value();
    }

    /**
     * How many events a counter, timer or distribution summary has recorded; 0 while nothing has
     * registered it (tagged meters appear with their first event).
     */
    static double count(MeterRegistry registry, String name, String... tags) {
        Meter meter = registry.find(name).tags(tags).meter();
        if (meter == null) {
            return 0;
        } else if (meter instanceof Counter counter) {
            return counter.count();
        } else if (meter instanceof Timer timer) {
            return timer.count();
        } else if (meter instanceof DistributionSummary summary) {
            return summary.count();
        }
        throw new IllegalArgumentException(name + " counts nothing: " + meter);
    }

    /**
     * Every NDArray alive in the process. Each NDManager descends from the engine's system manager,
     * which tracks its sub-managers, so this sees the arrays of every job, scope and model.
     */
    static int liveNdArrays() {
        try (NDManager probe = NDManager.newBaseManager()) {
            return probe.getParentManager().getManagedArrays().size();
        }
    }

    /**
     * NDManagers open directly under the system manager: the models', and the engine's per job and per
     * batch. A manager left open leaks even when it holds no arrays. DJL describes a manager ending with
     * its number of resources, its sub-managers among them.
     */
    static int liveNdManagers() {
        try (NDManager probe = NDManager.newBaseManager()) {
            String description = probe.getParentManager().toString();
            return Integer.parseInt(description.substring(description.lastIndexOf("Resource size: ") + 15)) - 1;
        }
    }
}
