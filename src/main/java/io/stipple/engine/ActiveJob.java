package io.stipple.engine;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.pipeline.DenoisingImage;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A job the worker is running: its images and the NDManager that owns their tensors (text states,
 * latents, sampler history), released as soon as the job's images are decoded or it leaves early.
 */
final class ActiveJob {
    final Job job;
    final NDManager manager;
    final Shape latentShape;
    final List<DenoisingImage> images;
    final double queueMillis;
    final double textMillis;
    final long denoiseStartNanos;
    private final BufferedImage[] decoded;
    private int decodedCount;
    private double decodeMillis;
    private double denoiseMillis;
    private int reportedStep;

    ActiveJob(Job job, NDManager manager, Shape latentShape, List<DenoisingImage> images, double queueMillis,
            double textMillis, long denoiseStartNanos) {
        this.job = job;
        this.manager = manager;
        this.latentShape = latentShape;
        this.images = images;
        this.queueMillis = queueMillis;
        this.textMillis = textMillis;
        this.denoiseStartNanos = denoiseStartNanos;
        this.decoded = new BufferedImage[images.size()];
    }

    int rows() {
        return images.stream().mapToInt(DenoisingImage::rows).sum();
    }

    /** Steps every image of the job has completed. */
    int completedSteps() {
        return images.stream().mapToInt(image -> image.trajectory().completedSteps()).min().orElse(0);
    }

    /** True once for each newly completed step, so that progress is reported once per step. */
    boolean advancedSinceReport() {
        int completed = completedSteps();
        if (completed > reportedStep) {
            reportedStep = completed;
            return true;
        }
        return false;
    }

    void denoisingFinished(long nanos) {
        denoiseMillis = Math.max(denoiseMillis, (nanos - denoiseStartNanos) / 1e6);
    }

    /** A VAE call that decoded images of this job, counted once however many of them it held. */
    void decodeCallTook(double millis) {
        decodeMillis += millis;
    }

    /** Stores a decoded image; true when the job has all of them. */
    boolean decoded(DenoisingImage image, BufferedImage pixels) {
        decoded[images.indexOf(image)] = pixels;
        decodedCount++;
        return decodedCount == decoded.length;
    }

    List<BufferedImage> decodedImages() {
        return List.of(decoded);
    }

    double denoiseMillis() {
        return denoiseMillis;
    }

    double decodeMillis() {
        return decodeMillis;
    }

    void release() {
        images.forEach(DenoisingImage::close);
        manager.close();
    }
}
