package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import java.util.Optional;

/**
 * Latent consistency model sampling (Luo et al. 2023, "Latent Consistency Models"; the multistep consistency
 * sampling of Song et al. 2023), as diffusers' LCMScheduler runs it. A consistency model maps any x_t straight
 * to a clean sample, so every step denoises completely, x̂₀ mixed with x_t by the boundary condition's c_skip
 * and c_out, and every step but the last noises that result afresh, with a new draw, to the next timestep's
 * level: there is no ODE or SDE step between noise levels as in the other samplers. The timesteps are picked
 * from the {@code original_inference_steps} the model was distilled on (every k-th training timestep,
 * k = num_train_timesteps // original_inference_steps), which also bounds how many there can be; and
 * image-to-image shortens that distillation schedule instead of skipping steps of this one.
 */
public final class Lcm implements Sampler {
    /** σ_data of the consistency models' boundary condition (Song et al. 2023), fixed in diffusers. */
    private static final double SIGMA_DATA = 0.5;

    /**
     * LCMScheduler's class defaults where they differ from those {@link SchedulerConfig}'s accessors apply
     * (DDIM's): Stable Diffusion's betas, no clipping, and its own two keys.
     */
    private static final SchedulerConfig CLASS_DEFAULTS = new SchedulerConfig(null, 0.00085, 0.012, "scaled_linear",
            null, null, null, null, null, false, null, 50, 10.0);

    private final SchedulerConfig config;
    private final NoiseSchedule schedule;
    private final int originalSteps;
    private final double timestepScaling;

    /** Builds its own noise schedule: the betas a file leaves out are LCM's, not those the other samplers share. */
    public Lcm(SchedulerConfig file) {
        this.config = file.withDefaults(CLASS_DEFAULTS);
        this.schedule = new NoiseSchedule(config);
        // validate() keeps a file's original_inference_steps within num_train_timesteps; the class default of
        // 50 is lowered to a shorter schedule (diffusers would raise), so that such a file still loads.
        this.originalSteps = Math.min(config.originalInferenceSteps(), schedule.trainTimesteps());
        this.timestepScaling = config.timestepScaling();
    }

    @Override
    public Trajectory start(int steps) {
        return start(steps, 1.0);
    }

    /**
     * LCM's image-to-image ({@code strength} in diffusers' LCMScheduler.set_timesteps): the distillation
     * schedule keeps only its {@code int(original_inference_steps × strength)} least noisy timesteps, and
     * {@code steps} evenly spaced ones are picked from those, so a lower strength starts from a less noised
     * image but still walks every step. Where diffusers raises because fewer than {@code steps} are left
     * (steps above original_inference_steps, or a low strength), our rule is to walk every one that is left,
     * and none when none is: the init image comes back as encoded, as strength 0 does for the other samplers.
     */
    @Override
    public Trajectory start(int steps, double strength) {
        int stride = schedule.trainTimesteps() / originalSteps;
        int available = (int) (originalSteps * strength);
        int walked = Math.min(steps, available);
        // numpy.floor(numpy.linspace(0, available, walked, endpoint=False)) indexes the available timesteps
        // (i + 1)·k − 1, largest first.
        double spacing = (double) available / walked;
        float[] timesteps = new float[walked];
        for (int i = 0; i < walked; i++) {
            int index = (int) Math.floor(i * spacing);
            timesteps[i] = (available - index) * stride - 1;
        }
        return new ConsistencyTrajectory(timesteps);
    }

    /** LCM's timesteps are a subset of the original_inference_steps it was distilled on. */
    @Override
    public int maxSteps(int trainTimesteps) {
        return originalSteps;
    }

    private final class ConsistencyTrajectory extends Trajectory {
        ConsistencyTrajectory(float[] timesteps) {
            super(timesteps, 1.0);
        }

        @Override
        protected NDArray addNoise(NDArray original, NDArray noise, int index) {
            return schedule.addNoise(original, noise, (int) timestepAt(index));
        }

        /**
         * denoised = c_out·x̂₀ + c_skip·x, then √ᾱ_next·denoised + √(1 − ᾱ_next)·z: affine unless x̂₀ is clipped.
         * The next timestep is never negative (the smallest is k − 1), and the last step returns the denoised
         * sample, so diffusers' final_alpha_cumprod (set_alpha_to_one) never enters.
         */
        @Override
        protected Optional<AffineUpdate> affineUpdate(int index) {
            if (config.clipSampleOrDefault()) {
                return Optional.empty();
            }
            Boundary boundary = boundary();
            AffineUpdate denoised = config.prediction().original(boundary.alpha, boundary.sigma).times(boundary.out)
                    .plusSample(boundary.skip);
            if (index == lastIndex()) {
                return Optional.of(denoised);
            }
            double alphaProdNext = schedule.alphaCumprod((int) timestepAt(index + 1));
            return Optional.of(denoised.times(Math.sqrt(alphaProdNext)).withNoise(Math.sqrt(1 - alphaProdNext)));
        }

        /** The same step with x̂₀ clipped to ±clip_sample_range: no longer affine. */
        @Override
        protected NDArray update(int index, NDArray modelOutput, NDArray sample, NoiseSource noise) {
            Boundary boundary = boundary();
            NDArray original = config.clipSample(
                    config.prediction().predictedOriginal(modelOutput, sample, boundary.alpha, boundary.sigma));
            NDArray denoised = original.mul(boundary.out).add(sample.mul(boundary.skip));
            if (index == lastIndex()) {
                return denoised;
            }
            return addNoise(denoised, noise.standardNormal(sample.getManager(), sample.getShape()), index + 1);
        }

        /*
         * The boundary condition f(x, 0) = x: c_skip(0) = 1, c_out(0) = 0. Scaling the timestep sharpens it, so
         * that away from t = 0 the result is x̂₀ but for a c_skip of order (σ_data / (t·timestep_scaling))².
         */
        private Boundary boundary() {
            int t = (int) currentTimestep();
            double alphaProd = schedule.alphaCumprod(t);
            double scaled = t * timestepScaling;
            return new Boundary(Math.sqrt(alphaProd), Math.sqrt(1 - alphaProd),
                    SIGMA_DATA * SIGMA_DATA / (scaled * scaled + SIGMA_DATA * SIGMA_DATA),
                    scaled / Math.sqrt(scaled * scaled + SIGMA_DATA * SIGMA_DATA));
        }
    }

    /** A step's √ᾱ_t, √(1 − ᾱ_t) and boundary-condition scalings c_skip, c_out. */
    private record Boundary(double alpha, double sigma, double skip, double out) {
    }
}
