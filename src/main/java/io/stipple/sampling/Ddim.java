package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import java.util.Optional;

/**
 * DDIM (Song et al. 2021, eq. 12), as diffusers' DDIMScheduler computes it: from x_t and the model's
 * x̂₀ and ε̂, x_{t'} = √ᾱ_{t'}·x̂₀ + √(1 − ᾱ_{t'} − σ²)·ε̂ + σ·z with σ = η·√((1 − ᾱ_{t'})/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_{t'})).
 * Diffusers' quirk kept on purpose: t' is always t − T/N, even where the chosen spacing puts the next
 * timestep elsewhere.
 */
public final class Ddim implements Sampler {
    private final NoiseSchedule schedule;
    private final SchedulerConfig config;
    private final double eta;

    public Ddim(NoiseSchedule schedule, SchedulerConfig config, double eta) {
        this.schedule = schedule;
        this.config = config;
        this.eta = eta;
    }

    @Override
    public Trajectory start(int steps) {
        int trainSteps = schedule.trainTimesteps();
        double[] spaced = config.spacingOr(TimestepSpacing.LEADING)
                .descending(trainSteps, steps, config.stepsOffsetOrDefault());
        float[] timesteps = new float[spaced.length];
        for (int i = 0; i < spaced.length; i++) {
            timesteps[i] = (float) Math.rint(spaced[i]);
        }
        return new DdimTrajectory(timesteps, trainSteps / steps);
    }

    private final class DdimTrajectory extends Trajectory {
        private final int stride;
        private final double finalAlphaCumprod =
                config.setAlphaToOneOrDefault() ? 1.0 : schedule.alphaCumprod(0);

        DdimTrajectory(float[] timesteps, int stride) {
            super(timesteps, 1.0);
            this.stride = stride;
        }

        @Override
        protected NDArray addNoise(NDArray original, NDArray noise, int index) {
            return schedule.addNoise(original, noise, (int) timestepAt(index));
        }

        /** x_{t'} = √ᾱ_{t'}·x̂₀ + √(1 − ᾱ_{t'} − σ²)·ε̂ + σ·z, affine in (x, m) unless x̂₀ is clipped. */
        @Override
        protected Optional<AffineUpdate> affineUpdate(int index) {
            if (config.clipSampleOrDefault()) {
                return Optional.empty();
            }
            Levels levels = levels();
            PredictionType prediction = config.prediction();
            AffineUpdate deterministic = prediction.original(levels.alpha, levels.sigma)
                    .times(Math.sqrt(levels.alphaProdPrev))
                    .plus(prediction.noise(levels.alpha, levels.sigma).times(levels.noiseDirection()));
            return Optional.of(eta > 0 ? deterministic.withNoise(levels.std) : deterministic);
        }

        /** The same step with x̂₀ clipped to ±clip_sample_range: no longer affine. */
        @Override
        protected NDArray update(int index, NDArray modelOutput, NDArray sample, NoiseSource noise) {
            Levels levels = levels();
            PredictionType prediction = config.prediction();
            NDArray original = config.clipSample(prediction.predictedOriginal(modelOutput, sample, levels.alpha,
                    levels.sigma));
            NDArray epsilon = prediction.predictedNoise(modelOutput, sample, levels.alpha, levels.sigma);
            NDArray next = original.mul(Math.sqrt(levels.alphaProdPrev)).add(epsilon.mul(levels.noiseDirection()));
            if (eta > 0) {
                next = next.add(noise.standardNormal(sample.getManager(), sample.getShape()).mul(levels.std));
            }
            return next;
        }

        private Levels levels() {
            int t = (int) currentTimestep();
            int previous = t - stride;
            double alphaProd = schedule.alphaCumprod(t);
            double alphaProdPrev = previous >= 0 ? schedule.alphaCumprod(previous) : finalAlphaCumprod;
            double variance = (1 - alphaProdPrev) / (1 - alphaProd) * (1 - alphaProd / alphaProdPrev);
            return new Levels(Math.sqrt(alphaProd), Math.sqrt(1 - alphaProd), alphaProdPrev, eta * Math.sqrt(variance));
        }
    }

    /** One DDIM step's noise levels: √ᾱ_t, √(1 − ᾱ_t), ᾱ_{t'} and the noise std σ. */
    private record Levels(double alpha, double sigma, double alphaProdPrev, double std) {
        double noiseDirection() {
            return Math.sqrt(1 - alphaProdPrev - std * std);
        }
    }
}
