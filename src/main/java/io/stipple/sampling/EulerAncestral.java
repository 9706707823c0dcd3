package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import java.util.Optional;

/**
 * Euler ancestral (Karras et al. 2022 with the ancestral split of k-diffusion), as diffusers'
 * EulerAncestralDiscreteScheduler runs it. It works on x = x₀ + σ·ε rather than the variance-preserving
 * sample, so the U-Net input is scaled by 1/√(σ² + 1), timesteps may be fractional (linspace spacing),
 * and each step moves to σ_down by Euler and adds fresh noise of σ_up.
 */
public final class EulerAncestral implements Sampler {
    private final NoiseSchedule schedule;
    private final SchedulerConfig config;

    public EulerAncestral(NoiseSchedule schedule, SchedulerConfig config) {
        this.schedule = schedule;
        this.config = config;
    }

    @Override
    public Trajectory start(int steps) {
        TimestepSpacing spacing = config.spacingOr(TimestepSpacing.LINSPACE);
        double[] spaced = spacing.descending(schedule.trainTimesteps(), steps, config.stepsOffsetOrDefault());
        float[] timesteps = new float[spaced.length];
        float[] sigmas = new float[spaced.length + 1];
        float maxSigma = 0f;
        for (int i = 0; i < spaced.length; i++) {
            timesteps[i] = (float) (spacing == TimestepSpacing.LINSPACE ? spaced[i] : Math.rint(spaced[i]));
            sigmas[i] = (float) schedule.sigmaAt(timesteps[i]);
            maxSigma = Math.max(maxSigma, sigmas[i]);
        }
        double initNoiseSigma = spacing == TimestepSpacing.LEADING
                ? Math.sqrt((double) maxSigma * maxSigma + 1)
                : maxSigma;
        return new AncestralTrajectory(timesteps, sigmas, initNoiseSigma);
    }

    private final class AncestralTrajectory extends Trajectory {
        private final float[] sigmas;

        AncestralTrajectory(float[] timesteps, float[] sigmas, double initNoiseSigma) {
            super(timesteps, initNoiseSigma);
            this.sigmas = sigmas;
        }

        @Override
        public NDArray scaleModelInput(NDArray sample) {
            return sample.div(inputScale(sigmas[currentIndex()]));
        }

        /** x = x₀ + σ·ε: this sampler's sample is not scaled to unit variance. */
        @Override
        protected NDArray addNoise(NDArray original, NDArray noise, int index) {
            return original.add(noise.mul(sigmas[index]));
        }

        /**
         * x̂₀ from the model's output on x/√(σ² + 1), the derivative (x − x̂₀)/σ, an Euler step to σ_down and
         * fresh noise of σ_up: x' = x + (x − x̂₀)·(σ_down − σ)/σ + σ_up·z, affine in (x, m).
         */
        @Override
        protected Optional<AffineUpdate> affineUpdate(int index) {
            double sigma = sigmas[index];
            double sigmaTo = sigmas[index + 1];
            double scale = inputScale(sigma);
            // x̂₀'s coefficients for the scaled input x/scale, carried over to x
            AffineUpdate onScaled = config.prediction().original(1 / scale, sigma / scale);
            AffineUpdate original = AffineUpdate.of(onScaled.sample() / scale, onScaled.modelOutput());

            double sigmaUp = Math.sqrt(sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma));
            double sigmaDown = Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
            double euler = (sigmaDown - sigma) / sigma;
            return Optional.of(original.times(-euler).plusSample(1 + euler).withNoise(sigmaUp));
        }

        private static double inputScale(double sigma) {
            return Math.sqrt(sigma * sigma + 1);
        }
    }
}
