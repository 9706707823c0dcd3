package io.stipple.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineSpec;
import io.stipple.pipeline.DenoisingImage;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import io.stipple.pipeline.GenerationPipeline;
import io.stipple.pipeline.GuidanceEmbedding;
import io.stipple.pipeline.GuidedStep;
import io.stipple.pipeline.ImageEncoder;
import io.stipple.pipeline.ImageStart;
import io.stipple.pipeline.ImageDecoder;
import io.stipple.pipeline.LatentPreview;
import io.stipple.pipeline.PngEncoder;
import io.stipple.pipeline.PromptEncoder;
import io.stipple.pipeline.StageTimings;
import io.stipple.sampling.Sampler;
import io.stipple.sampling.SamplerCatalog;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker that owns the model. Between two denoising steps it drops cancelled and expired jobs,
 * admits waiting jobs (their prompts encoded in one text-encoder call) and decodes finished images; each
 * step is one U-Net call over the active images of one latent shape, each at its own timestep. Jobs
 * thus join and leave at step boundaries, and the accelerator never idles while work is waiting.
 */
final class StepBatcher implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(StepBatcher.class);
    private static final long IDLE_WAIT_MILLIS = 100;

    private final LoadedPipeline models;
    private final SamplerCatalog samplers;
    private final PromptEncoder prompts;
    private final GuidedStep guidedStep;
    private final ImageDecoder decoder;
    /** Null for a pipeline without {@code vae_encoder.pt}, whose requests never carry an init image. */
    private final ImageEncoder encoder;
    private final AdmissionQueue queue;
    private final EngineMetrics metrics;
    private final ServiceRate serviceRate;
    private final ExecutorService encoders;
    private final ComputeTurns turns;
    private final LatentPreview preview;
    private final int previewEvery;
    private final int previewWidth;
    /** Rows per U-Net call: {@code stipple.batch.max-rows}, halved for good whenever a call runs out of memory. */
    private int maxRows;
    private final boolean exact;

    /** Images being denoised, per latent shape; shapes take turns. */
    private final Map<Shape, List<ScheduledImage>> groups = new LinkedHashMap<>();
    private final Set<ActiveJob> active = new LinkedHashSet<>();
    private long round;
    private int nextGroup;
    private volatile long stopDeadlineNanos = Long.MAX_VALUE;
    private volatile boolean stopping;
    private volatile boolean warm;
    private volatile int activeImages;
    private volatile int activeRows;

    StepBatcher(LoadedPipeline models, SamplerCatalog samplers, AdmissionQueue queue, EngineMetrics metrics,
            ServiceRate serviceRate, ExecutorService encoders, ComputeTurns turns, LatentPreview preview,
            EngineSettings settings) {
        this.models = models;
        this.samplers = samplers;
        this.prompts = new PromptEncoder(models);
        this.guidedStep = new GuidedStep(models.unet(), GuidanceEmbedding.of(models.spec()));
        this.decoder = new ImageDecoder(models.vaeDecoder(), models.spec().scalingFactor());
        this.encoder = models.vaeEncoder().map(vae -> new ImageEncoder(vae, models.spec().scalingFactor())).orElse(null);
        this.queue = queue;
        this.metrics = metrics;
        this.serviceRate = serviceRate;
        this.encoders = encoders;
        this.turns = turns;
        this.preview = preview;
        this.previewEvery = settings.previewEvery();
        this.previewWidth = settings.previewWidth();
        this.maxRows = settings.maxRows();
        this.exact = settings.exact();
    }

    /** Whether the worker has run the model once at its default size (readiness waits for it). */
    boolean warm() {
        return warm;
    }

    int activeImages() {
        return activeImages;
    }

    int activeRows() {
        return activeRows;
    }

    /** Stop admitting; finish what is in flight until {@code deadlineNanos}, then fail the rest. */
    void stop(long deadlineNanos) {
        stopDeadlineNanos = deadlineNanos;
        stopping = true;
        queue.close();
    }

    @Override
    public void run() {
        // The graph executor setting is thread-local, and re-optimizing for every new batch shape costs
        // more than it gains (docs/BENCHMARKS.md).
        JniUtils.setGraphExecutorOptimize(false);
        turns.take();
        try {
            warmUp();
        } finally {
            turns.giveBack();
        }
        try {
            while (true) {
                long now = System.nanoTime();
                dropCancelledAndExpired(now);
                if (stopping && now - stopDeadlineNanos > 0) {
                    failEverything();
                    return;
                }
                if (!workOneTurn()) {
                    if (stopping && queue.size() == 0) {
                        return;
                    }
                    queue.awaitWork(IDLE_WAIT_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failEverything();
        } catch (RuntimeException | Error e) {
            log.error("The step batcher died", e);
            failEverything();
            throw e;
        }
    }

    /** Admits, steps and decodes while this model has the device; false when it had nothing to step. */
    private boolean workOneTurn() {
        turns.take();
        try {
            admit();
            // An image-to-image job at strength 0 has no steps to take: it is finished on arrival.
            decodeFinished();
            if (groups.isEmpty()) {
                return false;
            }
            step();
            decodeFinished();
            updateGauges();
            return true;
        } finally {
            turns.giveBack();
        }
    }

    /** Requests that arrive meanwhile wait in the queue; a model that fails here still serves other sizes. */
    private void warmUp() {
        PipelineSpec spec = models.spec();
        try {
            log.info("Warmed up \"{}\" at its default size {}x{} in {} ms", spec.name(), spec.defaultWidth(), spec.defaultHeight(),
                    Math.round(models.warmUp()));
        } catch (RuntimeException e) {
            ErrorLog.write(log, "The model failed at its default size " + spec.defaultWidth() + "x"
                    + spec.defaultHeight() + " while warming up", e);
        }
        warm = true;
    }

    private void dropCancelledAndExpired(long now) {
        for (Job job : queue.removeExpiredOrCancelled(now)) {
            endEarly(job, now);
        }
        List<ActiveJob> leaving = active.stream()
                .filter(running -> running.job.cancelRequested() || running.job.expiredAt(now))
                .toList();
        for (ActiveJob running : leaving) {
            remove(running);
            endEarly(running.job, now);
        }
    }

    private void endEarly(Job job, long now) {
        if (job.cancelRequested()) {
            if (job.cancel()) {
                metrics.cancelled();
            }
        } else {
            fail(job, JobFailure.DEADLINE_EXCEEDED, null);
        }
    }

    /** Takes jobs from the queue while their rows fit next to the active ones (one job always fits). */
    private void admit() {
        List<Job> joining = new ArrayList<>();
        int[] rows = {activeRows};
        Job next;
        while ((next = queue.pollIf(job -> rows[0] == 0 || rows[0] + job.request().rows() <= maxRows)) != null) {
            rows[0] += next.request().rows();
            joining.add(next);
        }
        if (joining.isEmpty()) {
            return;
        }
        announcePositions();
        long start = System.nanoTime();
        List<String> texts = new ArrayList<>();
        for (Job job : joining) {
            if (job.request().classifierFree()) {
                texts.add(job.request().negativePrompt());
            }
            texts.add(job.request().prompt());
        }
        try (NDManager batch = NDManager.newBaseManager(models.device())) {
            NDArray hidden = prompts.encode(batch, texts);
            double textMillis = (System.nanoTime() - start) / 1e6;
            int row = 0;
            for (Job job : joining) {
                NDManager manager = NDManager.newBaseManager(models.device());
                NDArray unconditional = null;
                if (job.request().classifierFree()) {
                    unconditional = hidden.get("{}:{}", row, row + 1);
                    unconditional.attach(manager);
                    row++;
                }
                NDArray conditional = hidden.get("{}:{}", row, row + 1);
                conditional.attach(manager);
                row++;
                start(job, manager, conditional, unconditional, start, textMillis);
            }
        } catch (RuntimeException e) {
            JobFailure failure = JobFailure.logged(JobFailure.Reason.MODEL_ERROR, log,
                    "Text encoding of " + texts.size() + " prompts failed", e);
            joining.forEach(job -> fail(job, failure, e));
        }
    }

    /** {@code takenNanos}: when the worker took the job from the queue, before encoding its text. */
    /** The jobs still waiting moved up; their subscribers hear their new places. */
    private void announcePositions() {
        List<Job> waiting = queue.snapshot();
        for (int i = 0; i < waiting.size(); i++) {
            waiting.get(i).announceQueued(i + 1);
        }
    }

    private void start(Job job, NDManager manager, NDArray conditional, NDArray unconditional, long takenNanos,
            double textMillis) {
        GenerationRequest request = job.request();
        PipelineSpec spec = models.spec();
        Shape shape = new Shape(1, spec.latentChannels(), request.height() / spec.vaeScaleFactor(),
                request.width() / spec.vaeScaleFactor());
        Sampler sampler = samplers.create(request.sampler(), request.eta());
        ImageStart from;
        try {
            from = ImageStart.of(request, spec, encoder, manager);
        } catch (RuntimeException e) {
            manager.close();
            fail(job, JobFailure.logged(JobFailure.Reason.MODEL_ERROR, log,
                    "VAE encoding of the start image of job " + job.id() + " failed", e), e);
            return;
        }
        List<DenoisingImage> images = DenoisingImage.of(request, sampler, conditional, unconditional, manager, shape,
                from);
        long now = System.nanoTime();
        double queueMillis = (takenNanos - job.admittedNanos()) / 1e6;
        ActiveJob running = new ActiveJob(job, manager, shape, images, queueMillis, textMillis, now);
        active.add(running);
        List<ScheduledImage> group = groups.computeIfAbsent(shape, key -> new ArrayList<>());
        for (DenoisingImage image : images) {
            ScheduledImage scheduled = new ScheduledImage(running, image);
            scheduled.lastRound = round;
            group.add(scheduled);
        }
        metrics.started(queueMillis);
        job.started(images.get(0).trajectory().length());
        updateGauges();
    }

    /** One U-Net call for the next shape group's least recently stepped images, up to the row cap. */
    private void step() {
        List<Shape> shapes = new ArrayList<>(groups.keySet());
        Shape shape = shapes.get(nextGroup++ % shapes.size());
        List<ScheduledImage> stepped = runIsolatingFailures(select(groups.get(shape)));
        round++;
        stepped.forEach(scheduled -> scheduled.lastRound = round);
        stepped.stream().map(scheduled -> scheduled.owner).distinct().forEach(this::reportProgress);
    }

    /**
     * Runs one denoising step over {@code batch}. A call that fails is retried as two halves, so that one job's
     * bad input fails that job alone and its batch-mates step on; a call that runs out of memory also lowers
     * the row cap for every later call. Returns the images that stepped.
     */
    private List<ScheduledImage> runIsolatingFailures(List<ScheduledImage> batch) {
        List<DenoisingImage> images = batch.stream().map(scheduled -> scheduled.image).toList();
        int rows = images.stream().mapToInt(DenoisingImage::rows).sum();
        long start = System.nanoTime();
        try {
            guidedStep.run(images);
            metrics.step(rows, System.nanoTime() - start);
            return batch;
        } catch (RuntimeException e) {
            boolean outOfMemory = TorchError.outOfMemory(e);
            List<ActiveJob> owners = batch.stream().map(scheduled -> scheduled.owner).distinct().toList();
            if (owners.size() == 1 && !(outOfMemory && batch.size() > 1)) {
                failOwners(batch, JobFailure.logged(JobFailure.Reason.MODEL_ERROR, log,
                        "A U-Net step over " + rows + " rows of job " + owners.get(0).job.id() + " failed", e), e);
                return List.of();
            }
            if (outOfMemory && rows > 1) {
                maxRows = Math.max(1, Math.min(maxRows, rows / 2));
                log.warn("A U-Net call over {} rows ran out of memory; at most {} rows per call from now on", rows,
                        maxRows);
            } else {
                log.warn("A U-Net call over {} rows of {} jobs failed ({}); retrying them in two halves", rows,
                        owners.size(), TorchError.summary(e));
            }
            List<List<ScheduledImage>> halves = outOfMemory && owners.size() == 1
                    ? List.of(batch.subList(0, batch.size() / 2), batch.subList(batch.size() / 2, batch.size()))
                    : halvesByOwner(batch, owners);
            List<ScheduledImage> stepped = new ArrayList<>(runIsolatingFailures(halves.get(0)));
            stepped.addAll(runIsolatingFailures(halves.get(1)));
            return stepped;
        }
    }

    /** The images of the first half of {@code owners}, then those of the second: a job is never split. */
    private static List<List<ScheduledImage>> halvesByOwner(List<ScheduledImage> batch, List<ActiveJob> owners) {
        Set<ActiveJob> first = new LinkedHashSet<>(owners.subList(0, owners.size() / 2));
        return List.of(batch.stream().filter(scheduled -> first.contains(scheduled.owner)).toList(),
                batch.stream().filter(scheduled -> !first.contains(scheduled.owner)).toList());
    }

    private List<ScheduledImage> select(List<ScheduledImage> group) {
        List<ScheduledImage> ordered = new ArrayList<>(group);
        ordered.sort(Comparator.comparingLong(scheduled -> scheduled.lastRound));
        List<ScheduledImage> batch = new ArrayList<>();
        int rows = 0;
        for (ScheduledImage candidate : ordered) {
            int candidateRows = candidate.image.rows();
            if (!batch.isEmpty() && (exact || rows + candidateRows > maxRows)) {
                break;
            }
            batch.add(candidate);
            rows += candidateRows;
        }
        return batch;
    }

    private void reportProgress(ActiveJob running) {
        if (!running.advancedSinceReport()) {
            return;
        }
        int completed = running.completedSteps();
        running.job.progressed(completed, null);
        int steps = running.job.steps();
        if (previewEvery > 0 && completed % previewEvery == 0 && completed < steps && running.job.watched()) {
            float[] latent = running.images.get(0).latent().toFloatArray();
            int height = (int) running.latentShape.get(2);
            int width = (int) running.latentShape.get(3);
            encoders.execute(() -> {
                try {
                    running.job.previewed(completed, PngEncoder.encode(preview.render(latent, height, width, previewWidth)));
                } catch (RuntimeException e) {
                    log.warn("The preview of job {} at step {} failed; the job goes on without it", running.job.id(),
                            completed, e);
                }
            });
        }
    }

    /** Decodes every finished image, one VAE call per shape, and hands completed jobs to the PNG encoders. */
    private void decodeFinished() {
        List<List<ScheduledImage>> finishedByShape = new ArrayList<>();
        for (List<ScheduledImage> group : groups.values()) {
            List<ScheduledImage> finished = group.stream()
                    .filter(scheduled -> scheduled.image.trajectory().finished())
                    .toList();
            group.removeAll(finished);
            finishedByShape.add(finished);
        }
        groups.values().removeIf(List::isEmpty);
        int chunk = Math.max(1, maxRows);
        for (List<ScheduledImage> finished : finishedByShape) {
            for (int from = 0; from < finished.size(); from += chunk) {
                decode(finished.subList(from, Math.min(finished.size(), from + chunk)));
            }
        }
    }

    private void decode(List<ScheduledImage> candidates) {
        // A job that failed in an earlier chunk has released its latents.
        List<ScheduledImage> finished = candidates.stream().filter(scheduled -> active.contains(scheduled.owner)).toList();
        if (finished.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        finished.forEach(scheduled -> scheduled.owner.denoisingFinished(now));
        List<BufferedImage> pixels;
        try {
            pixels = decoder.decode(finished.stream().map(scheduled -> scheduled.image.latent()).toList());
        } catch (RuntimeException e) {
            failOwners(finished, JobFailure.logged(JobFailure.Reason.MODEL_ERROR, log,
                    "VAE decoding of " + finished.size() + " images failed", e), e);
            return;
        }
        double millis = (System.nanoTime() - now) / 1e6;
        finished.stream().map(scheduled -> scheduled.owner).distinct().forEach(owner -> owner.decodeCallTook(millis));
        for (int i = 0; i < finished.size(); i++) {
            ScheduledImage scheduled = finished.get(i);
            ActiveJob owner = scheduled.owner;
            if (owner.decoded(scheduled.image, pixels.get(i)) && active.remove(owner)) {
                owner.release();
                encoders.execute(() -> complete(owner));
            }
        }
    }

    /**
     * On an encoder thread: PNGs, the result, and the job's completion. Whatever goes wrong here fails the
     * job: nothing else would ever answer it.
     */
    private void complete(ActiveJob owner) {
        try {
            encodeAndSucceed(owner);
        } catch (RuntimeException | Error e) {
            JobFailure failure = JobFailure.logged(JobFailure.Reason.INTERNAL_ERROR, log,
                    "Encoding the images of job " + owner.job.id() + " failed", e);
            fail(owner.job, failure, e);
        }
    }

    private void encodeAndSucceed(ActiveJob owner) {
        Job job = owner.job;
        GenerationRequest request = job.request();
        long start = System.nanoTime();
        List<GeneratedImage> images = new ArrayList<>();
        List<BufferedImage> decoded = owner.decodedImages();
        for (int i = 0; i < decoded.size(); i++) {
            images.add(new GeneratedImage(request.seeds().get(i), request.width(), request.height(),
                    PngEncoder.encode(GenerationPipeline.finalPixels(request, decoded.get(i)))));
        }
        long end = System.nanoTime();
        StageTimings timings = new StageTimings(owner.queueMillis, owner.textMillis, owner.denoiseMillis(),
                owner.decodeMillis(), (end - start) / 1e6);
        if (job.succeed(new GenerationResult(request, images, timings))) {
            serviceRate.completed(end, job.work());
            metrics.succeeded(request.sampler(), images.size(), timings, end - job.admittedNanos());
        }
    }

    private void remove(ActiveJob running) {
        active.remove(running);
        for (List<ScheduledImage> group : groups.values()) {
            group.removeIf(scheduled -> scheduled.owner == running);
        }
        groups.values().removeIf(List::isEmpty);
        running.release();
        updateGauges();
    }

    /** Fails every job that owns one of {@code images}, and takes its images out of the step groups. */
    private void failOwners(List<ScheduledImage> images, JobFailure failure, Throwable cause) {
        images.stream().map(scheduled -> scheduled.owner).distinct().forEach(owner -> {
            remove(owner);
            fail(owner.job, failure, cause);
        });
    }

    private void fail(Job job, JobFailure failure, Throwable cause) {
        if (job.fail(failure, cause)) {
            metrics.failed(failure.reason());
        }
    }

    private void failEverything() {
        JobFailure shutdown = new JobFailure(JobFailure.Reason.SHUTDOWN,
                "The server shut down before the request finished; retry on another replica or later");
        for (ActiveJob running : List.copyOf(active)) {
            remove(running);
            fail(running.job, shutdown, null);
        }
        for (Job job : queue.drain()) {
            fail(job, shutdown, null);
        }
        updateGauges();
    }

    private void updateGauges() {
        activeImages = groups.values().stream().mapToInt(List::size).sum();
        activeRows = groups.values().stream().flatMap(List::stream).mapToInt(scheduled -> scheduled.image.rows()).sum();
    }
}
