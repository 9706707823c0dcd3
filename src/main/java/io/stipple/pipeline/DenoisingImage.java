package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.stipple.sampling.NoiseSource;
import io.stipple.sampling.RewindableNoise;
import io.stipple.sampling.SeededNoise;
import io.stipple.sampling.Trajectory;

/**
 * One image being denoised: its latent x_t, its own trajectory and noise stream, the text it is
 * conditioned on and its guidance scale, and for image-to-image where it started. Nothing in it refers
 * to other images, which is what lets an image share U-Net calls without depending on what it shares
 * them with.
 */
public final class DenoisingImage implements AutoCloseable {
    private final long seed;
    private final Trajectory trajectory;
    private final RewindableNoise noise;
    private final double guidanceScale;
    private final UnetConditions conditional;
    private final UnetConditions unconditional;
    private final ImageStart start;
    /** The noise that drowned the init image, drawn first from the image's own stream; reused to keep the unmasked part. */
    private final NDArray startNoise;
    private NDArray latent;

    /**
     * @param conditional   the prompt's row: its hidden states and, for SDXL, pooled embeddings and time ids
     * @param unconditional the negative prompt's row, or {@code null} without classifier-free guidance
     * @param start         the init image's latent (and mask) for image-to-image, or {@code null} to start from noise
     */
    public DenoisingImage(long seed, Trajectory trajectory, double guidanceScale, UnetConditions conditional,
            UnetConditions unconditional, NDManager manager, Shape latentShape, ImageStart start) {
        this(seed, new SeededNoise(seed), trajectory, guidanceScale, conditional, unconditional, manager, latentShape,
                start);
    }

    /** An image whose noise comes from {@code noise} instead of its seed: a reference's recorded draws, in tests. */
    public DenoisingImage(long seed, NoiseSource noise, Trajectory trajectory, double guidanceScale,
            UnetConditions conditional, UnetConditions unconditional, NDManager manager, Shape latentShape,
            ImageStart start) {
        this.seed = seed;
        this.trajectory = trajectory;
        this.noise = new RewindableNoise(noise);
        this.guidanceScale = guidanceScale;
        this.conditional = conditional;
        this.unconditional = unconditional;
        this.start = start;
        if (start == null || start.latent() == null) {
            this.startNoise = null;
            this.latent = trajectory.initialSample(manager, latentShape, this.noise);
        } else {
            this.startNoise = this.noise.standardNormal(manager, latentShape);
            this.latent = trajectory.noised(start.latent(), startNoise);
        }
        this.noise.commit();
    }

    /**
     * Inpainting's blend after a step (diffusers' inpaint pipeline for 4-channel U-Nets): outside the mask the
     * latent is the init image noised to the level the step reached, clean after the last step, so that the
     * repainted part is denoised in the context of what is kept.
     */
    NDArray keepOutsideMask(NDArray stepped) {
        if (start == null || start.blendMask() == null) {
            return stepped;
        }
        NDArray mask = start.blendMask();
        return trajectory.noisedAfterStep(start.latent(), startNoise).mul(mask.neg().add(1)).add(stepped.mul(mask));
    }

    public long seed() {
        return seed;
    }

    public Trajectory trajectory() {
        return trajectory;
    }

    /** Whether the image has an unconditional row beside its conditional one. */
    public boolean classifierFree() {
        return unconditional != null;
    }

    /** U-Net rows this image needs per step: unconditional and conditional, or conditional only. */
    public int rows() {
        return classifierFree() ? 2 : 1;
    }

    double guidanceScale() {
        return guidanceScale;
    }

    /** What the prompt's row gives the U-Net beside the sample and timestep. */
    public UnetConditions conditional() {
        return conditional;
    }

    /** The negative prompt's row, or null without classifier-free guidance. */
    public UnetConditions unconditional() {
        return unconditional;
    }

    /** The U-Net's input for this step: the scaled latent, and an inpainting U-Net's mask and masked image beside it. */
    NDArray unetInput() {
        NDArray input = trajectory.scaleModelInput(latent);
        return start == null || start.unetConditioning() == null ? input
                : NDArrays.concat(new NDList(input, start.unetConditioning()), 1);
    }

    NoiseSource noise() {
        return noise;
    }

    public NDArray latent() {
        return latent;
    }

    /**
     * Takes the step whose result is {@code next}: the trajectory and the noise stream move on, and the image owns
     * {@code next} (moved out of the step's scope into this image's manager) in place of its previous latent.
     */
    void commitStep(NDArray next) {
        next.attach(latent.getManager());
        NDScope.unregister(next);
        trajectory.commit();
        noise.commit();
        latent.close();
        latent = next;
    }

    /** Forgets a step that will not be taken: its noise draws are given again when the step is tried again. */
    void abandonStep() {
        noise.rewind();
    }

    /** The start's latent and mask are the request's, shared, and closed with its manager. */
    @Override
    public void close() {
        trajectory.close();
        latent.close();
        if (startNoise != null) {
            startNoise.close();
        }
    }
}
