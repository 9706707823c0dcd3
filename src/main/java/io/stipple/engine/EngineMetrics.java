package io.stipple.engine;

import ai.djl.ndarray.NDManager;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.stipple.pipeline.StageTimings;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The engine's meters; in Prometheus they read {@code stipple_*}. */
final class EngineMetrics {
    private final MeterRegistry registry;
    private final DistributionSummary batchRows;
    private final Timer stepDuration;
    private final Timer queueWait;
    private final Counter imagesGenerated;
    private final Counter cancellations;
    private final Counter previews;
    private final Tags model;

    /** One model's meters, tagged with its name. */
    EngineMetrics(MeterRegistry registry, String model, Supplier<Number> queueDepth, Supplier<Number> queueWork,
            Supplier<Number> activeImages, Supplier<Number> activeRows) {
        this.registry = registry;
        this.model = Tags.of("model", model);
        Gauge.builder("stipple.queue.depth", queueDepth).tags(this.model).description("Jobs waiting for the model")
                .register(registry);
        Gauge.builder("stipple.queue.work", queueWork).tags(this.model)
                .description("Work units waiting for the model: latent pixels x steps x U-Net rows").register(registry);
        Gauge.builder("stipple.active.images", activeImages).tags(this.model).description("Images being denoised")
                .register(registry);
        Gauge.builder("stipple.active.rows", activeRows).tags(this.model)
                .description("U-Net rows of the images being denoised").register(registry);
        batchRows = DistributionSummary.builder("stipple.batch.rows").tags(this.model).description("Rows per U-Net call")
                .publishPercentileHistogram().serviceLevelObjectives(1, 2, 4, 8, 16, 32).register(registry);
        stepDuration = Timer.builder("stipple.step.duration").tags(this.model).description("One batched denoising step")
                .publishPercentileHistogram().register(registry);
        queueWait = Timer.builder("stipple.queue.wait").tags(this.model).description("Admission to start of work")
                .publishPercentileHistogram().register(registry);
        imagesGenerated = Counter.builder("stipple.images.generated").tags(this.model).register(registry);
        cancellations = Counter.builder("stipple.cancellations").tags(this.model).register(registry);
        previews = Counter.builder("stipple.previews").tags(this.model)
                .description("Previews rendered for jobs whose progress someone watches").register(registry);
    }

    /** The meters of the whole process, registered once however many models it serves. */
    static void registerProcessMeters(MeterRegistry registry) {
        NDManager system = systemManager();
        Gauge.builder("stipple.ndarrays.live", () -> system.getManagedArrays().size())
                .description("NDArrays alive in the process: a count that grows with requests is a leak")
                .register(registry);
    }

    /**
     * DJL's root manager, which every NDManager descends from, so counting its arrays sees those of every job,
     * step and model. Its resources are concurrent maps, safe to walk from a scrape while the worker runs.
     */
    private static NDManager systemManager() {
        try (NDManager probe = NDManager.newBaseManager()) {
            return probe.getParentManager();
        }
    }

    void step(int rows, long nanos) {
        batchRows.record(rows);
        stepDuration.record(nanos, TimeUnit.NANOSECONDS);
    }

    void started(double queueMillis) {
        queueWait.record(Duration.ofNanos((long) (queueMillis * 1e6)));
    }

    void succeeded(String sampler, int images, StageTimings timings, long endToEndNanos) {
        imagesGenerated.increment(images);
        Timer.builder("stipple.request.latency").description("Admission to result").tags(model).tag("sampler", sampler)
                .publishPercentileHistogram().register(registry).record(endToEndNanos, TimeUnit.NANOSECONDS);
        stage("text", timings.textEncoding());
        stage("denoise", timings.denoising());
        stage("decode", timings.decoding());
        stage("encode", timings.pngEncoding());
    }

    private void stage(String stage, double millis) {
        Timer.builder("stipple.stage.duration").tags(model).tag("stage", stage).register(registry)
                .record(Duration.ofNanos((long) (millis * 1e6)));
    }

    void rejected(String reason) {
        Counter.builder("stipple.rejections").tags(model).tag("reason", reason).register(registry).increment();
    }

    /** A preview rendered for a job someone watches: work beside the steps, on the model's thread and an encoder's. */
    void previewed() {
        previews.increment();
    }

    void cancelled() {
        cancellations.increment();
    }

    void failed(JobFailure.Reason reason) {
        Counter.builder("stipple.failures").tags(model).tag("reason", reason.name().toLowerCase()).register(registry)
                .increment();
    }
}
