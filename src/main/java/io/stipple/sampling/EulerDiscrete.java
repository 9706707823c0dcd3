package io.stipple.sampling;

import java.util.Optional;

/**
 * Euler (Karras et al. 2022, Algorithm 2 without churn), as diffusers' EulerDiscreteScheduler runs it with its
 * pipelines' s_churn = 0 and interpolation_type "linear": each step follows the derivative (x − x̂₀)/σ to the next
 * σ ({@link SigmaTrajectory}), a deterministic affine update. With Karras sigmas the levels run between the spaced
 * schedule's first and last σ and the U-Net sees their fractional timesteps. diffusers draws a churn noise at
 * every step and, at s_churn 0, never reads it; nothing after the walk reads the image's stream, so none is drawn.
 */
public final class EulerDiscrete implements Sampler {
    private final NoiseSchedule schedule;
    private final SchedulerConfig config;
    private final boolean karrasSigmas;

    public EulerDiscrete(NoiseSchedule schedule, SchedulerConfig config, boolean karrasSigmas) {
        this.schedule = schedule;
        this.config = config;
        this.karrasSigmas = karrasSigmas;
    }

    @Override
    public Trajectory start(int steps) {
        SigmaTrajectory.Levels levels = SigmaTrajectory.Levels.spaced(schedule, config, steps);
        return new EulerTrajectory(karrasSigmas ? levels.withKarrasSigmas(schedule) : levels);
    }

    private final class EulerTrajectory extends SigmaTrajectory {
        EulerTrajectory(Levels levels) {
            super(levels);
        }

        @Override
        protected Optional<AffineUpdate> affineUpdate(int index) {
            return Optional.of(eulerStep(index, sigmaAt(index + 1), config.prediction()));
        }
    }
}
