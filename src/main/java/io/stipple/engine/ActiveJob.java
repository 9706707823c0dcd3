package io.stipple.engine;

import io.stipple.pipeline.DenoisingImage;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;

/**
 * A job on the model: its tensors, when each of its images was last stepped, their pixels as they are decoded,
 * and the times its stages took.
 */
final class ActiveJob {
    final Job job;
    final JobTensors tensors;
    final BatchKey key;
    final double queueMillis;
    final double textMillis;
    private final long denoiseStartNanos;
    /** Per image, the turn it was last stepped in. */
    private final long[] lastStepped;
    private final BufferedImage[] decoded;
    private int decodedCount;
    private double decodeMillis;
    private double denoiseMillis;
    private int reportedStep;

    ActiveJob(Job job, JobTensors tensors, double queueMillis, double textMillis, long denoiseStartNanos, long turn) {
        this.job = job;
        this.tensors = tensors;
        this.key = BatchKey.of(tensors.images().get(0).latent().getShape());
        this.queueMillis = queueMillis;
        this.textMillis = textMillis;
        this.denoiseStartNanos = denoiseStartNanos;
        this.lastStepped = new long[tensors.images().size()];
        Arrays.fill(lastStepped, turn);
        this.decoded = new BufferedImage[tensors.images().size()];
    }

    List<DenoisingImage> images() {
        return tensors.images();
    }

    DenoisingImage image(int index) {
        return tensors.images().get(index);
    }

    long lastStepped(int index) {
        return lastStepped[index];
    }

    boolean decoded(int index) {
        return decoded[index] != null;
    }

    /** Records a step of image {@code index} in {@code turn}; true when it was the image's last. */
    boolean stepped(int index, long turn, long nowNanos) {
        lastStepped[index] = turn;
        boolean denoised = image(index).trajectory().finished();
        if (denoised) {
            denoiseMillis = Math.max(denoiseMillis, (nowNanos - denoiseStartNanos) / 1e6);
        }
        return denoised;
    }

    /** Steps every image of the job has completed. */
    int completedSteps() {
        return images().stream().mapToInt(image -> image.trajectory().completedSteps()).min().orElse(0);
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

    /** A VAE call that decoded images of this job, counted once however many of them it held. */
    void decodeCallTook(double millis) {
        decodeMillis += millis;
    }

    /** Stores a decoded image; true when the job has all of them. */
    boolean decoded(int index, BufferedImage pixels) {
        decoded[index] = pixels;
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
}
