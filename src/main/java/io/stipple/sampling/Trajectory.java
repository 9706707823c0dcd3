package io.stipple.sampling;

import java.util.Arrays;
import java.util.Optional;
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
    /** Where the walk begins: 0 from pure noise, later for image-to-image. */
    private int begin;
    private int next;

    protected Trajectory(float[] timesteps, double initNoiseSigma) {
        this.timesteps = timesteps;
        this.initNoiseSigma = initNoiseSigma;
    }

    /** The steps this walk takes. */
    public final int length() {
        return timesteps.length - begin;
    }

    public final int completedSteps() {
        return next - begin;
    }

    public final boolean finished() {
        return next == timesteps.length;
    }

    /** The timesteps this walk takes, for inspection; the model sees them one by one through {@link #currentTimestep()}. */
    public final float[] timesteps() {
        return Arrays.copyOfRange(timesteps, begin, timesteps.length);
    }

    /**
     * Skips the first {@code index} timesteps, as image-to-image does: the walk starts from an image noised
     * to the level of timestep {@code index} ({@link #noised}). Only before the first step.
     */
    final Trajectory beginAt(int index) {
        if (next != begin || index < 0 || index > timesteps.length) {
            throw new IllegalStateException("cannot begin at " + index + " after " + completedSteps() + " steps");
        }
        begin = index;
        next = index;
        return this;
    }

    /** The position in the full schedule of the next step, for samplers whose noise levels are indexed by it. */
    protected final int currentIndex() {
        return next;
    }

    protected final float timestepAt(int index) {
        return timesteps[index];
    }

    /** The position in the full schedule of the last step. */
    protected final int lastIndex() {
        return timesteps.length - 1;
    }

    public final double initNoiseSigma() {
        return initNoiseSigma;
    }

    /** x_T: the first draw of the image's noise, scaled to the sampler's starting noise level. */
    public final NDArray initialSample(NDManager manager, Shape shape, NoiseSource noise) {
        return noise.standardNormal(manager, shape).mul(initNoiseSigma);
    }

    /**
     * {@code original} (a clean latent) noised with {@code noise} to the level the sample has now: the start of
     * an image-to-image walk. Once the walk is finished that level is zero, and the original is returned as it is.
     */
    public final NDArray noised(NDArray original, NDArray noise) {
        return noisedAt(next, original, noise);
    }

    /**
     * {@code original} noised to the level the current step reaches, clean after the last: the part of an
     * inpainted latent outside its mask, blended in before the step is committed.
     */
    public final NDArray noisedAfterStep(NDArray original, NDArray noise) {
        return noisedAt(next + 1, original, noise);
    }

    private NDArray noisedAt(int index, NDArray original, NDArray noise) {
        return index == timesteps.length ? original.duplicate() : addNoise(original, noise, index);
    }

    /** The forward process q(x_t | x_0) at timestep {@code index} of the schedule, as the sampler parameterises x_t. */
    protected abstract NDArray addNoise(NDArray original, NDArray noise, int index);

    public final float currentTimestep() {
        return timesteps[next];
    }

    /** The U-Net's input for the current step; only samplers that work in σ-space rescale it. */
    public NDArray scaleModelInput(NDArray sample) {
        return sample;
    }

    /** Takes one step: from the (guided) model output at {@link #currentTimestep()} to the next sample. */
    public final NDArray step(NDArray modelOutput, NDArray sample, NoiseSource noise) {
        NDArray next = propose(modelOutput, sample, noise);
        commit();
        return next;
    }

    /**
     * The next sample, computed but not taken: the walk stays at the current step until {@link #commit()}, so
     * that a batch whose update fails part-way can be stepped again without any image skipping a timestep.
     * Proposing again replaces the step proposed before.
     */
    public final NDArray propose(NDArray modelOutput, NDArray sample, NoiseSource noise) {
        Optional<AffineUpdate> affine = affineStep();
        return affine.isPresent()
                ? affine.get().apply(sample, modelOutput,
                        affine.get().drawsNoise() ? noise.standardNormal(sample.getManager(), sample.getShape()) : null)
                : update(next, modelOutput, sample, noise);
    }

    /**
     * The current step as coefficients, where it is affine; the caller that applies them itself, to many images at
     * once, then calls {@link #commit()}, and draws the image's noise if the step does, exactly as propose() would.
     */
    public final Optional<AffineUpdate> affineStep() {
        if (finished()) {
            throw new IllegalStateException("trajectory already took all " + timesteps.length + " steps");
        }
        return affineUpdate(next);
    }

    /** Takes the step last proposed (or applied from {@link #affineStep()}). */
    public final void commit() {
        if (finished()) {
            throw new IllegalStateException("trajectory already took all " + timesteps.length + " steps");
        }
        committed();
        next++;
    }

    /** Keeps what the step just taken leaves for the next one: DPM-Solver++ its proposed x̂₀. */
    protected void committed() {
    }

    /** Step {@code index} as an affine update, or empty where it is not one (then {@link #update} proposes it). */
    protected Optional<AffineUpdate> affineUpdate(int index) {
        return Optional.empty();
    }

    /**
     * A step that is not affine: DPM-Solver++'s, which reads the previous x̂₀, or one whose x̂₀ is clipped. It
     * changes no state that outlives an abandoned proposal: what the next step needs is kept in {@link #committed}.
     */
    protected NDArray update(int index, NDArray modelOutput, NDArray sample, NoiseSource noise) {
        throw new IllegalStateException(getClass().getSimpleName() + " has only affine steps");
    }

    @Override
    public void close() {
    }
}
