package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.assertMetersSoon;
import static io.stipple.engine.EngineTesting.count;
import static io.stipple.engine.EngineTesting.failure;
import static io.stipple.engine.EngineTesting.gauge;
import static io.stipple.engine.EngineTesting.occupyAllRows;
import static io.stipple.engine.EngineTesting.request;
import static io.stipple.engine.EngineTesting.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.config.StippleProperties;
import io.stipple.pipeline.GenerationResult;
import io.stipple.pipeline.StageTimings;
import io.stipple.sampling.SamplerCatalog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;

/**
 * The engine's meters, read from the registry and scraped from {@code /actuator/prometheus}. Failures
 * are counted where they happen, in {@link DeadlineTest}.
 */
@EngineTest
class EngineMetricsTest {
    private static final List<String> STAGES = List.of("text", "denoise", "decode", "encode");

    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;
    @Autowired
    StippleProperties properties;
    @Autowired
    ApplicationContext context;
    @LocalServerPort
    int port;

    /** A meter by name and tags, with its count before the test. */
    private final class Reading {
        final String name;
        final String[] tags;
        final double before;

        Reading(String name, String... tags) {
            this.name = name;
            this.tags = tags;
            this.before = count(registry, name, tags);
        }

        double increase() {
            return count(registry, name, tags) - before;
        }
    }

    @Test
    void engineMetersCountWhatHappenedAndArePublishedForPrometheus() throws Exception {
        int samplers = SamplerCatalog.NAMES.size();
        int capacity = properties.queue().capacity();
        Reading images = new Reading("stipple.images.generated");
        Reading cancellations = new Reading("stipple.cancellations");
        Reading rejections = new Reading("stipple.rejections", "reason", "queue_full");
        Reading started = new Reading("stipple.queue.wait");
        Reading steps = new Reading("stipple.step.duration");
        Reading calls = new Reading("stipple.batch.rows");
        List<Reading> latencies = SamplerCatalog.NAMES.stream()
                .map(sampler -> new Reading("stipple.request.latency", "sampler", sampler)).toList();
        List<Reading> stages = STAGES.stream()
                .map(stage -> new Reading("stipple.stage.duration", "stage", stage)).toList();

        for (String sampler : SamplerCatalog.NAMES) {
            result(service.submit(request("metered", 32, 32, 4, 5.0, sampler, 1), EngineTesting.CLIENT));
        }
        Job blocker = occupyAllRows(service);
        try (HeldDevice device = HeldDevice.hold(context)) {
            List<Job> queued = new ArrayList<>();
            for (int i = 0; i < capacity; i++) {
                queued.add(service.submit(request("waiting", 4, i), EngineTesting.CLIENT));
            }
            assertThrows(QueueFullException.class, () -> service.submit(request("one too many", 4, 99), EngineTesting.CLIENT));
            assertEquals(capacity, gauge(registry, "stipple.queue.depth"));
            assertEquals(8, gauge(registry, "stipple.active.images"));
            assertEquals(16, gauge(registry, "stipple.active.rows"));
            queued.forEach(service::cancel);
            service.cancel(blocker);
        }
        failure(blocker, PATIENCE);
        assertEquals(0, gauge(registry, "stipple.queue.depth"));
        assertEquals(0, gauge(registry, "stipple.active.images"));
        assertEquals(0, gauge(registry, "stipple.active.rows"));

        assertMetersSoon(() -> {
            assertEquals(samplers, images.increase());
            assertEquals(capacity + 1, cancellations.increase(), "the queued jobs and the blocker");
            assertEquals(1, rejections.increase());
            assertEquals(samplers + 1, started.increase(), "every job that started: not the ones cancelled queued");
            assertTrue(steps.increase() >= 4 * samplers + 1);
            assertEquals(steps.increase(), calls.increase(), "one batch size recorded per step");
            latencies.forEach(latency -> assertEquals(1, latency.increase(), latency.tags[1]));
            stages.forEach(stage -> assertEquals(samplers, stage.increase(), stage.tags[1]));
        });

        String scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://localhost:" + port + "/actuator/prometheus")).build(), BodyHandlers.ofString()).body();
        // Series names as Prometheus spells them; labels other than the one named may come with them.
        for (String series : List.of("stipple_queue_depth", "stipple_active_images", "stipple_active_rows",
                "stipple_batch_rows_count", "stipple_step_duration_seconds_count", "stipple_queue_wait_seconds_count",
                "stipple_request_latency_seconds_count\\{[^}]*sampler=\"euler_a\"",
                "stipple_stage_duration_seconds_count\\{[^}]*stage=\"denoise\"", "stipple_images_generated_total",
                "stipple_rejections_total\\{[^}]*reason=\"queue_full\"", "stipple_cancellations_total",
                "stipple_ndarrays_live")) {
            assertTrue(Pattern.compile("(?m)^" + series).matcher(scrape).find(), series + " missing from the scrape");
        }
    }

    @Test
    void stageTimingsOfAMultiImageRequestAddUpToNoMoreThanItTook() {
        // Eight images decoded in one VAE call, and little else: decoding dominates.
        long submitted = System.nanoTime();
        GenerationResult result = result(service.submit(request("eight at once", 128, 128, 2, 1.0, "ddim", 1, 8), EngineTesting.CLIENT));
        double tookMillis = (System.nanoTime() - submitted) / 1e6;

        // The stages are consecutive stretches of the request's life, so their sum cannot exceed it.
        StageTimings timings = result.timings();
        assertTrue(timings.total() <= tookMillis, timings + " add up to more than the " + tookMillis + " ms it took");
    }
}
