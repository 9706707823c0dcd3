package io.stipple.engine;

import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import io.stipple.pipeline.LatentDiffusion;
import io.stipple.pipeline.LatentPreview;
import io.stipple.pipeline.PngEncoder;
import io.stipple.pipeline.StageTimings;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What becomes of jobs, in one place: after each turn they start, progress (with previews for those watched),
 * complete (their PNGs encoded on the encoder threads) or fail; between turns, cancelled and expired jobs leave;
 * at the end, whatever is left is failed.
 */
final class JobOutcomes {
    private static final Logger log = LoggerFactory.getLogger(JobOutcomes.class);
    private static final JobFailure SHUTDOWN = new JobFailure(JobFailure.Reason.SHUTDOWN,
            "The server shut down before the request finished; retry on another replica or later");

    private final RunningJobs running;
    private final EngineMetrics metrics;
    private final ServiceRate serviceRate;
    private final ExecutorService encoders;
    private final LatentPreview preview;
    private final int previewEvery;
    private final int previewWidth;

    JobOutcomes(RunningJobs running, EngineMetrics metrics, ServiceRate serviceRate, ExecutorService encoders,
            LatentPreview preview, EngineSettings settings) {
        this.running = running;
        this.metrics = metrics;
        this.serviceRate = serviceRate;
        this.encoders = encoders;
        this.preview = preview;
        this.previewEvery = settings.previewEvery();
        this.previewWidth = settings.previewWidth();
    }

    /**
     * @param joining    the jobs the turn took from the queue
     * @param takenNanos when it took them, before encoding their text
     */
    void apply(List<Job> joining, long takenNanos, TurnOutcome outcome) {
        Map<String, Job> joined = joining.stream().collect(Collectors.toMap(Job::id, Function.identity()));
        // the joining jobs' denoising began when their text was encoded, early in the turn
        long denoiseStart = takenNanos + (long) (outcome.textMillis() * 1e6);
        for (JobTensors tensors : outcome.started()) {
            Job job = joined.get(tensors.jobId());
            double queueMillis = (takenNanos - job.admittedNanos()) / 1e6;
            running.add(new ActiveJob(job, tensors, queueMillis, outcome.textMillis(), denoiseStart, running.turn()));
            metrics.started(queueMillis);
            job.started(tensors.images().get(0).trajectory().length());
        }
        for (JobError error : outcome.failed()) {
            ActiveJob active = running.get(error.jobId());
            fail(active != null ? active.job : joined.get(error.jobId()), error.failure(), error.cause());
        }
        running.stepped(outcome.stepped(), outcome.steppedNanos()).forEach(this::reportProgress);
        for (TurnOutcome.Decode decode : outcome.decodes()) {
            decode.images().stream().map(ref -> running.get(ref.jobId())).distinct()
                    .filter(job -> job != null)
                    .forEach(job -> job.decodeCallTook(decode.millis()));
            for (int i = 0; i < decode.images().size(); i++) {
                ActiveJob owner = running.get(decode.images().get(i).jobId());
                if (running.decoded(decode.images().get(i), decode.pixels().get(i))) {
                    encoders.execute(() -> complete(owner));
                }
            }
        }
    }

    private void reportProgress(ActiveJob active) {
        if (!active.advancedSinceReport()) {
            return;
        }
        int completed = active.completedSteps();
        active.job.progressed(completed, null);
        if (previewEvery > 0 && completed % previewEvery == 0 && completed < active.job.steps()
                && active.job.wantsPreviews()) {
            float[] latent = active.image(0).latent().toFloatArray();
            int height = (int) active.key.latentHeight();
            int width = (int) active.key.latentWidth();
            metrics.previewed();
            encoders.execute(() -> {
                try {
                    active.job.previewed(completed, PngEncoder.encode(preview.render(latent, height, width, previewWidth)));
                } catch (RuntimeException e) {
                    log.warn("The preview of job {} at step {} failed; the job goes on without it", active.job.id(),
                            completed, e);
                }
            });
        }
    }

    /**
     * On an encoder thread: PNGs, the result, and the job's completion. Whatever goes wrong here fails the
     * job: nothing else would ever answer it.
     */
    private void complete(ActiveJob owner) {
        Job job = owner.job;
        try {
            GenerationRequest request = job.request();
            long start = System.nanoTime();
            List<GeneratedImage> images = LatentDiffusion.results(request, owner.decodedImages());
            long end = System.nanoTime();
            StageTimings timings = new StageTimings(owner.queueMillis, owner.textMillis, owner.denoiseMillis(),
                    owner.decodeMillis(), (end - start) / 1e6);
            if (job.succeed(new GenerationResult(request, images, timings))) {
                serviceRate.completed(end, job.work());
                metrics.succeeded(request.sampler(), images.size(), timings, end - job.admittedNanos());
            }
        } catch (RuntimeException | Error e) {
            fail(job, JobFailure.logged(JobFailure.Reason.INTERNAL_ERROR, log,
                    "Encoding the images of job " + job.id() + " failed", e), e);
        }
    }

    /** Jobs whose cancellation was asked for or whose deadline passed leave the queue and the model. */
    void dropCancelledAndExpired(AdmissionQueue queue, long now) {
        for (Job job : queue.removeExpiredOrCancelled(now)) {
            endEarly(job);
        }
        for (ActiveJob active : running.all()) {
            if (active.job.cancelRequested() || active.job.expiredAt(now)) {
                running.remove(active);
                endEarly(active.job);
            }
        }
    }

    private void endEarly(Job job) {
        if (job.cancelRequested()) {
            if (job.cancel()) {
                metrics.cancelled();
            }
        } else {
            fail(job, JobFailure.DEADLINE_EXCEEDED, null);
        }
    }

    /** The jobs still waiting moved up; their subscribers hear their new places. */
    void queueMoved(AdmissionQueue queue) {
        List<Job> waiting = queue.snapshot();
        for (int i = 0; i < waiting.size(); i++) {
            waiting.get(i).announceQueued(i + 1);
        }
    }

    /** At the end of the engine: every job on the model or in the queue is answered. */
    void failEverything(AdmissionQueue queue) {
        for (ActiveJob active : running.all()) {
            fail(active.job, SHUTDOWN, null);
        }
        for (Job job : queue.drain()) {
            fail(job, SHUTDOWN, null);
        }
    }

    /** Takes the job off the model, if it is on it, and fails it. */
    private void fail(Job job, JobFailure failure, Throwable cause) {
        ActiveJob active = running.get(job.id());
        if (active != null) {
            running.remove(active);
        }
        if (job.fail(failure, cause)) {
            metrics.failed(failure.reason());
        }
    }
}
