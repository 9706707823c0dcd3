package io.stipple.sampling;

import ai.djl.ndarray.NDArray;

/**
 * A walk of diffusers' Euler schedulers (EulerDiscreteScheduler, EulerAncestralDiscreteScheduler), which work on
 * x = x₀ + σ·ε rather than the variance-preserving sample: the U-Net sees x/√(σ² + 1), the forward process adds
 * σ·ε, and a step follows the derivative (x − x̂₀)/σ to a lower σ.
 */
abstract class SigmaTrajectory extends Trajectory {
    private final float[] sigmas;

    SigmaTrajectory(Levels levels) {
        super(levels.timesteps(), levels.initNoiseSigma());
        this.sigmas = levels.sigmas();
    }

    /** σ at step {@code index} of the full schedule; 0 after the last. */
    protected final double sigmaAt(int index) {
        return sigmas[index];
    }

    @Override
    public final NDArray scaleModelInput(NDArray sample) {
        return sample.div(inputScale(sigmas[currentIndex()]));
    }

    @Override
    protected final NDArray addNoise(NDArray original, NDArray noise, int index) {
        return original.add(noise.mul(sigmas[index]));
    }

    /**
     * x̂₀ from the model's output on x/√(σ² + 1), then one Euler step along (x − x̂₀)/σ from step {@code index}'s σ
     * to {@code sigmaTo}: x' = x + (x − x̂₀)·(σ_to − σ)/σ, affine in (x, m).
     */
    protected final AffineUpdate eulerStep(int index, double sigmaTo, PredictionType prediction) {
        double sigma = sigmas[index];
        double scale = inputScale(sigma);
        // x̂₀'s coefficients for the scaled input x/scale, carried over to x
        AffineUpdate onScaled = prediction.original(1 / scale, sigma / scale);
        AffineUpdate original = AffineUpdate.of(onScaled.sample() / scale, onScaled.modelOutput());
        double euler = (sigmaTo - sigma) / sigma;
        return original.times(-euler).plusSample(1 + euler);
    }

    private static double inputScale(double sigma) {
        return Math.sqrt(sigma * sigma + 1);
    }

    /**
     * The timesteps, their σ (a final 0 appended) and the starting noise of diffusers' Euler schedulers.
     *
     * @param leading whether the timesteps are spaced "leading", which starts from √(σ_max² + 1) rather than σ_max
     */
    record Levels(float[] timesteps, float[] sigmas, boolean leading) {

        /**
         * set_timesteps with linear interpolation: the configured spacing's timesteps (fractional for linspace,
         * rounded integers otherwise) and σ interpolated at each.
         */
        static Levels spaced(NoiseSchedule schedule, SchedulerConfig config, int steps) {
            TimestepSpacing spacing = config.spacingOr(TimestepSpacing.LINSPACE);
            double[] spaced = spacing.descending(schedule.trainTimesteps(), steps, config.stepsOffsetOrDefault());
            float[] timesteps = new float[spaced.length];
            float[] sigmas = new float[spaced.length + 1];
            for (int i = 0; i < spaced.length; i++) {
                timesteps[i] = (float) (spacing == TimestepSpacing.LINSPACE ? spaced[i] : Math.rint(spaced[i]));
                sigmas[i] = (float) schedule.sigmaAt(timesteps[i]);
            }
            return new Levels(timesteps, sigmas, spacing == TimestepSpacing.LEADING);
        }

        /**
         * EulerDiscreteScheduler's use_karras_sigmas: as many Karras levels between the spaced schedule's own first
         * and last σ (not the training schedule's, as DPM-Solver takes them), and the U-Net sees the fractional
         * timestep of each level, unrounded.
         */
        Levels withKarrasSigmas(NoiseSchedule schedule) {
            int steps = timesteps.length;
            // every spacing's ends sit on integer timesteps, where diffusers' float64 σ is the float32 table's own
            double[] levels = NoiseSchedule.karrasSigmas(sigmas[steps - 1], sigmas[0], steps);
            float[] karrasTimesteps = new float[steps];
            float[] karrasSigmas = new float[steps + 1];
            for (int i = 0; i < steps; i++) {
                karrasSigmas[i] = (float) levels[i];
                karrasTimesteps[i] = (float) schedule.timestepForSigma(levels[i]);
            }
            return new Levels(karrasTimesteps, karrasSigmas, leading);
        }

        /** diffusers' init_noise_sigma: the largest σ, folded with the unit-variance x₀ for leading spacing. */
        double initNoiseSigma() {
            float max = 0f;
            for (float sigma : sigmas) {
                max = Math.max(max, sigma);
            }
            return leading ? Math.sqrt((double) max * max + 1) : max;
        }
    }
}
