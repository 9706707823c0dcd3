package io.stipple.sampling;

/**
 * A diffusion sampler configured from a pipeline's {@code scheduler_config.json}. A sampler is
 * stateless and shared; each image walks its own {@link Trajectory}, so images at different steps,
 * or under different samplers, can share one U-Net call.
 */
public sealed interface Sampler permits Ddim, DpmSolverMultistep, EulerAncestral {

    /** Begins one image's denoising with (about, for trailing spacing) {@code steps} model evaluations. */
    Trajectory start(int steps);
}
