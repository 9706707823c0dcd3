package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.sampling.NoiseSource;
import io.stipple.sampling.SeededNoise;
import io.stipple.sampling.Trajectory;

/**
 * One image being denoised: its latent x_t, its own trajectory and noise stream, the text it is
 * conditioned on and its guidance scale. Nothing in it refers to other images, which is what lets an
 * image share U-Net calls without depending on what it shares them with.
 */
public final class DenoisingImage implements AutoCloseable {
    private final long seed;
    private final Trajectory trajectory;
    private final NoiseSource noise;
    private final double guidanceScale;
    private final NDArray conditional;
    private final NDArray unconditional;
    private NDArray latent;

    /**
     * @param conditional   text hidden states [1, L, D] of the prompt
     * @param unconditional those of the negative prompt, or {@code null} when the image is not guided
     */
    public DenoisingImage(long seed, Trajectory trajectory, double guidanceScale, NDArray conditional,
            NDArray unconditional, NDManager manager, Shape latentShape) {
        this.seed = seed;
        this.trajectory = trajectory;
        this.noise = new SeededNoise(seed);
        this.guidanceScale = guidanceScale;
        this.conditional = conditional;
        this.unconditional = unconditional;
        this.latent = trajectory.initialSample(manager, latentShape, noise);
    }

    public long seed() {
        return seed;
    }

    public Trajectory trajectory() {
        return trajectory;
    }

    public boolean guided() {
        return unconditional != null;
    }

    /** U-Net rows this image needs per step: unconditional and conditional, or conditional only. */
    public int rows() {
        return guided() ? 2 : 1;
    }

    double guidanceScale() {
        return guidanceScale;
    }

    NDArray conditional() {
        return conditional;
    }

    NDArray unconditional() {
        return unconditional;
    }

    NoiseSource noise() {
        return noise;
    }

    public NDArray latent() {
        return latent;
    }

    /** Takes ownership of the next latent and releases the previous one. */
    void advanceTo(NDArray next) {
        latent.close();
        latent = next;
    }

    @Override
    public void close() {
        trajectory.close();
        latent.close();
    }
}
