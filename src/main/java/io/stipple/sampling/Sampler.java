package io.stipple.sampling;

/**
 * A diffusion sampler configured from a pipeline's {@code scheduler_config.json}. A sampler is
 * stateless and shared; each image walks its own {@link Trajectory}, so images at different steps,
 * or under different samplers, can share one U-Net call.
 */
public sealed interface Sampler permits Ddim, DpmSolverMultistep, EulerAncestral, EulerDiscrete, Lcm {

    /** Begins one image's denoising with (about, for trailing spacing) {@code steps} model evaluations. */
    Trajectory start(int steps);

    /**
     * Begins image-to-image denoising as diffusers' img2img pipeline does: of the timesteps for {@code steps},
     * only the last {@code int(steps × strength)} are walked, from the init image noised to the first of them
     * ({@link Trajectory#noised}). Strength 1 walks them all from an image drowned in noise; 0 walks none.
     */
    default Trajectory start(int steps, double strength) {
        Trajectory full = start(steps);
        int total = full.length();
        int walked = Math.min((int) (steps * strength), total);
        return full.beginAt(Math.max(total - walked, 0));
    }

    /** The model evaluations {@link #start(int, double)} walks, counted on the walk itself: no rule restated. */
    default int walkedSteps(int steps, double strength) {
        try (Trajectory trajectory = start(steps, strength)) {
            return trajectory.length();
        }
    }

    /**
     * The most steps worth asking for. Every sampler here runs out of distinct timesteps at
     * {@code trainTimesteps}; one whose timesteps come from a shorter schedule says so.
     */
    default int maxSteps(int trainTimesteps) {
        return trainTimesteps;
    }
}
