package io.stipple.sampling;

import ai.djl.ndarray.NDArray;

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

        @Override
        protected NDArray update(int index, NDArray modelOutput, NDArray sample, NoiseSource noise) {
            int t = (int) currentTimestep();
            int previous = t - stride;
            double alphaProd = schedule.alphaCumprod(t);
            double alphaProdPrev = previous >= 0 ? schedule.alphaCumprod(previous) : finalAlphaCumprod;
            double alpha = Math.sqrt(alphaProd);
            double sigma = Math.sqrt(1 - alphaProd);

            PredictionType prediction = config.prediction();
            NDArray original = config.clipSample(prediction.predictedOriginal(modelOutput, sample, alpha, sigma));
            NDArray epsilon = prediction.predictedNoise(modelOutput, sample, alpha, sigma);

            double variance = (1 - alphaProdPrev) / (1 - alphaProd) * (1 - alphaProd / alphaProdPrev);
            double std = eta * Math.sqrt(variance);
            NDArray next = original.mul(Math.sqrt(alphaProdPrev))
                    .add(epsilon.mul(Math.sqrt(1 - alphaProdPrev - std * std)));
            if (eta > 0) {
                next = next.add(noise.standardNormal(sample.getManager(), sample.getShape()).mul(std));
            }
            return next;
        }
    }
}
