package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * One image's walk down a sampler's timesteps: which timestep the U-Net sees next, how the sample is
 * scaled for it, and the update from the model's output to the next, less noisy sample. Holds the
 * image's sampler state (a multistep sampler's previous prediction), so it is used by one image only
 * and closed when that image is done.
 */
public abstract class Trajectory implements AutoCloseable {
    private final float[] timesteps;
    private final double initNoiseSigma;
    private int next;

    protected Trajectory(float[] timesteps, double initNoiseSigma) {
        this.timesteps = timesteps;
        this.initNoiseSigma = initNoiseSigma;
    }

    public final int length() {
        return timesteps.length;
    }

    public final int completedSteps() {
        return next;
    }

    public final boolean finished() {
        return next == timesteps.length;
    }

    /** All timesteps, for inspection; the model sees them one by one through {@link #currentTimestep()}. */
    public final float[] timesteps() {
        return timesteps.clone();
    }

    public final double initNoiseSigma() {
        return initNoiseSigma;
    }

    /** x_T: the first draw of the image's noise, scaled to the sampler's starting noise level. */
    public final NDArray initialSample(NDManager manager, Shape shape, NoiseSource noise) {
        return noise.standardNormal(manager, shape).mul(initNoiseSigma);
    }

    public final float currentTimestep() {
        return timesteps[next];
    }

    /** The U-Net's input for the current step; only samplers that work in σ-space rescale it. */
    public NDArray scaleModelInput(NDArray sample) {
        return sample;
    }

    /** Advances one step: from the (guided) model output at {@link #currentTimestep()} to the next sample. */
    public final NDArray step(NDArray modelOutput, NDArray sample, NoiseSource noise) {
        if (finished()) {
            throw new IllegalStateException("trajectory already took all " + timesteps.length + " steps");
        }
        NDArray result = update(next, modelOutput, sample, noise);
        next++;
        return result;
    }

    protected abstract NDArray update(int index, NDArray modelOutput, NDArray sample, NoiseSource noise);

    @Override
    public void close() {
    }
}
