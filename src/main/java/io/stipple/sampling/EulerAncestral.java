package io.stipple.sampling;

import java.util.Optional;

/**
 * Euler ancestral (Karras et al. 2022 with the ancestral split of k-diffusion), as diffusers'
 * EulerAncestralDiscreteScheduler runs it: each step moves to σ_down by Euler ({@link SigmaTrajectory}) and adds
 * fresh noise of σ_up. Timesteps may be fractional (linspace spacing).
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
        return new AncestralTrajectory(SigmaTrajectory.Levels.spaced(schedule, config, steps));
    }

    private final class AncestralTrajectory extends SigmaTrajectory {
        AncestralTrajectory(Levels levels) {
            super(levels);
        }

        /** An Euler step to σ_down = √(σ'² − σ_up²), plus σ_up·z with σ_up = σ'·√(σ² − σ'²)/σ. */
        @Override
        protected Optional<AffineUpdate> affineUpdate(int index) {
            double sigma = sigmaAt(index);
            double sigmaTo = sigmaAt(index + 1);
            double sigmaUp = Math.sqrt(sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma));
            double sigmaDown = Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
            return Optional.of(eulerStep(index, sigmaDown, config.prediction()).withNoise(sigmaUp));
        }
    }
}
