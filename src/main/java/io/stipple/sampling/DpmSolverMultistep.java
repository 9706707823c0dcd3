package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

/**
 * DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2), as diffusers' DPMSolverMultistepScheduler runs it
 * with solver_order 2, the midpoint solver, lower_order_final and final_sigmas_type "zero": the first
 * step and the last step are first order (the last lands exactly on x̂₀), every other step corrects
 * with the previous step's x̂₀. With Karras sigmas the noise levels follow Karras et al. (2022, eq. 5)
 * and the U-Net sees the nearest training timestep of each level (the one below it on the cosine schedule).
 */
public final class DpmSolverMultistep implements Sampler {
    private final NoiseSchedule schedule;
    private final SchedulerConfig config;
    private final boolean karrasSigmas;

    public DpmSolverMultistep(NoiseSchedule schedule, SchedulerConfig config, boolean karrasSigmas) {
        this.schedule = schedule;
        this.config = config;
        this.karrasSigmas = karrasSigmas;
    }

    @Override
    public Trajectory start(int steps) {
        int trainSteps = schedule.trainTimesteps();
        TimestepSpacing spacing = config.spacingOr(TimestepSpacing.LINSPACE);
        // diffusers spaces N + 1 points and drops the last (smallest) for linspace and leading.
        double[] spaced = spacing == TimestepSpacing.TRAILING
                ? spacing.descending(trainSteps, steps, config.stepsOffsetOrDefault())
                : spacing.descending(trainSteps, steps + 1, config.stepsOffsetOrDefault());
        int count = spacing == TimestepSpacing.TRAILING ? spaced.length : spaced.length - 1;

        float[] timesteps = new float[karrasSigmas ? steps : count];
        float[] sigmas = new float[timesteps.length + 1];
        if (karrasSigmas) {
            double[] levels = NoiseSchedule.karrasSigmas(schedule.minSigma(), schedule.maxSigma(), steps);
            // diffusers skips the rounding for the cosine schedule, and its int64 cast then truncates.
            boolean truncate =
                    BetaSchedule.fromConfig(config.betaScheduleOrDefault()) == BetaSchedule.SQUAREDCOS_CAP_V2;
            for (int i = 0; i < steps; i++) {
                sigmas[i] = (float) levels[i];
                double t = schedule.timestepForSigma(levels[i]);
                timesteps[i] = (float) (truncate ? Math.floor(t) : Math.rint(t));
            }
        } else {
            for (int i = 0; i < count; i++) {
                timesteps[i] = (float) Math.rint(spaced[i]);
                sigmas[i] = (float) schedule.sigmaAt(timesteps[i]);
            }
        }
        sigmas[timesteps.length] = 0f;
        return new MultistepTrajectory(timesteps, sigmas);
    }

    private final class MultistepTrajectory extends Trajectory {
        private final float[] sigmas;
        private NDArray previousOriginal;
        /** x̂₀ of the proposed step, which becomes {@link #previousOriginal} when the step is committed. */
        private NDArray proposedOriginal;

        MultistepTrajectory(float[] timesteps, float[] sigmas) {
            super(timesteps, 1.0);
            this.sigmas = sigmas;
        }

        @Override
        protected NDArray update(int index, NDArray modelOutput, NDArray sample, NoiseSource noise) {
            NoiseLevel from = new NoiseLevel(sigmas[index]);
            NoiseLevel to = new NoiseLevel(sigmas[index + 1]);
            NDArray original = config.prediction().predictedOriginal(modelOutput, sample, from.alpha, from.sigma);

            double h = to.lambda - from.lambda;
            double decay = to.alpha * (Math.exp(-h) - 1.0);
            NDArray next = sample.mul(to.sigma / from.sigma).sub(original.mul(decay));
            boolean lastStep = index == lastIndex();
            if (previousOriginal != null && !lastStep) {
                NoiseLevel before = new NoiseLevel(sigmas[index - 1]);
                double r = (from.lambda - before.lambda) / h;
                NDArray slope = original.sub(previousOriginal).mul(1.0 / r);
                next = next.sub(slope.mul(0.5 * decay));
            }
            keepProposed(original);
            return next;
        }

        @Override
        protected NDArray addNoise(NDArray original, NDArray noise, int index) {
            NoiseLevel level = new NoiseLevel(sigmas[index]);
            return original.mul(level.alpha).add(noise.mul(level.sigma));
        }

        /** Keeps x̂₀ past the step's scope for the next step's second-order correction, once the step is taken. */
        private void keepProposed(NDArray original) {
            NDScope.unregister(original);
            release(proposedOriginal);
            proposedOriginal = original;
        }

        @Override
        protected void committed() {
            release(previousOriginal);
            previousOriginal = proposedOriginal;
            proposedOriginal = null;
        }

        @Override
        public void close() {
            release(previousOriginal);
            release(proposedOriginal);
            previousOriginal = null;
            proposedOriginal = null;
        }

        private static void release(NDArray array) {
            if (array != null) {
                array.close();
            }
        }
    }

    /** A noise level σ in the variance-preserving form: α = 1/√(σ² + 1), σ_t = σ·α, λ = log α − log σ_t. */
    private record NoiseLevel(double alpha, double sigma, double lambda) {
        NoiseLevel(float sigmaLevel) {
            this(1 / Math.sqrt((double) sigmaLevel * sigmaLevel + 1),
                    sigmaLevel / Math.sqrt((double) sigmaLevel * sigmaLevel + 1));
        }

        NoiseLevel(double alpha, double sigma) {
            this(alpha, sigma, Math.log(alpha) - Math.log(sigma));
        }
    }
}
