package io.stipple.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.stipple.pipeline.DenoisingImage;
import io.stipple.pipeline.LatentDiffusion;
import io.stipple.pipeline.TextConditioning;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a turn's work on the device and says what came of it: the joining jobs' text encoding and start, one U-Net
 * step, then one VAE decode of what is denoised. Tensors only: it never sees a job's lifecycle, only requests and images. Every call
 * goes through {@link FailureIsolation}, so a job whose input the model cannot take fails alone, and a call that
 * runs out of memory is split.
 */
final class StepExecutor {
    private static final Logger log = LoggerFactory.getLogger(StepExecutor.class);

    private final LatentDiffusion diffusion;
    private final Device device;
    private final EngineMetrics metrics;
    private final FailureIsolation<TurnWork.Joining> textCalls = new FailureIsolation<>("Text encoding",
            TurnWork.Joining::jobId, joining -> joining.request().guidance().rows());
    private final FailureIsolation<BatchImage> unetCalls = new FailureIsolation<>("A U-Net step", BatchImage::jobId,
            image -> image.image().rows());
    private final FailureIsolation<BatchImage> vaeCalls = new FailureIsolation<>("VAE decoding", BatchImage::jobId,
            image -> 1);

    StepExecutor(LatentDiffusion diffusion, Device device, EngineMetrics metrics) {
        this.diffusion = diffusion;
        this.device = device;
        this.metrics = metrics;
    }

    TurnOutcome execute(TurnWork work) {
        List<JobError> failed = new ArrayList<>();
        long textStart = System.nanoTime();
        List<JobTensors> started = start(work.joining(), failed);
        double textMillis = (System.nanoTime() - textStart) / 1e6;
        Map<String, JobTensors> joined = started.stream().collect(Collectors.toMap(JobTensors::jobId, job -> job));

        FailureIsolation.Outcome<BatchImage, List<ImageRef>> stepped = unetCalls.run(
                images(work.step(), work, joined, failed), this::step);
        failed.addAll(stepped.failed());
        long steppedNanos = System.nanoTime();

        // an image decodes only once denoised: its job may have failed, or its step in an out-of-memory split
        List<BatchImage> denoised = images(work.decode(), work, joined, failed).stream()
                .filter(image -> image.image().trajectory().finished())
                .toList();
        FailureIsolation.Outcome<BatchImage, TurnOutcome.Decode> decoded = vaeCalls.run(denoised, this::decode);
        failed.addAll(decoded.failed());

        return new TurnOutcome(started, textMillis,
                stepped.done().stream().flatMap(part -> part.result().stream()).toList(), steppedNanos,
                decoded.done().stream().map(FailureIsolation.Part::result).toList(),
                failed, stepped.outOfMemoryAt(), decoded.outOfMemoryAt());
    }

    /**
     * The images {@code refs} name, on the model or just started; not those of jobs that have failed, nor of a job
     * planned to join that was cancelled before it could be taken from the queue.
     */
    private static List<BatchImage> images(List<ImageRef> refs, TurnWork work, Map<String, JobTensors> joined,
            List<JobError> failed) {
        Set<String> gone = failed.stream().map(JobError::jobId).collect(Collectors.toSet());
        List<BatchImage> images = new ArrayList<>();
        for (ImageRef ref : refs) {
            JobTensors startedNow = joined.get(ref.jobId());
            DenoisingImage image = startedNow != null ? startedNow.images().get(ref.index()) : work.running().apply(ref);
            if (image != null && !gone.contains(ref.jobId())) {
                images.add(new BatchImage(ref, image));
            }
        }
        return images;
    }

    /** The joining jobs' text in one encoder call, then each job's images; a job that fails here fails alone. */
    private List<JobTensors> start(List<TurnWork.Joining> joining, List<JobError> failed) {
        FailureIsolation.Outcome<TurnWork.Joining, List<TextOf>> text = textCalls.run(joining, this::encodeText);
        failed.addAll(text.failed());
        List<JobTensors> started = new ArrayList<>();
        for (FailureIsolation.Part<TurnWork.Joining, List<TextOf>> part : text.done()) {
            for (TextOf encoded : part.result()) {
                try {
                    List<DenoisingImage> images = diffusion.startImages(encoded.job().request(), encoded.text(),
                            encoded.manager());
                    started.add(new JobTensors(encoded.job().jobId(), encoded.manager(), images));
                } catch (RuntimeException e) {
                    encoded.manager().close();
                    failed.add(new JobError(encoded.job().jobId(), JobFailure.logged(JobFailure.Reason.MODEL_ERROR,
                            log, "Starting the images of job " + encoded.job().jobId() + " failed", e), e));
                }
            }
        }
        return started;
    }

    /** A joining job's text states, in the manager that will own all of the job's tensors. */
    private record TextOf(TurnWork.Joining job, NDManager manager, TextConditioning text) {
    }

    private List<TextOf> encodeText(List<TurnWork.Joining> jobs) {
        List<NDManager> managers = jobs.stream().map(job -> NDManager.newBaseManager(device)).toList();
        try {
            List<TextConditioning> texts = diffusion.encodePrompts(
                    jobs.stream().map(TurnWork.Joining::request).toList(), managers);
            List<TextOf> encoded = new ArrayList<>();
            for (int i = 0; i < jobs.size(); i++) {
                encoded.add(new TextOf(jobs.get(i), managers.get(i), texts.get(i)));
            }
            return encoded;
        } catch (RuntimeException e) {
            managers.forEach(NDManager::close);
            throw e;
        }
    }

    private TurnOutcome.Decode decode(List<BatchImage> batch) {
        long start = System.nanoTime();
        List<BufferedImage> pixels = diffusion.decode(batch.stream().map(BatchImage::image).toList());
        return new TurnOutcome.Decode(batch.stream().map(BatchImage::ref).toList(), pixels,
                (System.nanoTime() - start) / 1e6);
    }

    private List<ImageRef> step(List<BatchImage> batch) {
        long start = System.nanoTime();
        diffusion.step(batch.stream().map(BatchImage::image).toList());
        metrics.step(batch.stream().mapToInt(image -> image.image().rows()).sum(), System.nanoTime() - start);
        return batch.stream().map(BatchImage::ref).toList();
    }
}
