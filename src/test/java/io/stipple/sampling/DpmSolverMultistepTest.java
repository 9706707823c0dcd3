package io.stipple.sampling;

import static io.stipple.sampling.Schedules.geometric;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.Test;

/**
 * DPM-Solver++(2M) on {@link Schedules#geometric}: σ = 1, 2, 4 at t = 0, 1, 2, i.e. α = 1/√(σ² + 1) and
 * σ_t = σ·α, so x̂₀ = x·√(σ² + 1) − σ·ε for an ε-prediction, e^(−h) = σ_to/σ_from, and the first-order step is
 * x' = (σ_t,to/σ_t,from)·x − α_to·(e^(−h) − 1)·x̂₀.
 */
class DpmSolverMultistepTest extends NdArrayTest {
    private static final NoiseSource NO_NOISE = (manager, shape) -> fail("DPM-Solver++ drew noise");

    private static Trajectory start(String sampler, String keys, int steps) {
        return new SamplerCatalog(geometric(keys)).create(sampler, 0).start(steps);
    }

    @Test
    void singleStepLandsExactlyOnPredictedOriginal() {
        // linspace(0, 2, 2) reversed without its last point: t = 2, σ = 4, then σ = 0: α_to = 1, σ_t,to = 0,
        // e^(−h) = 0, so x' = 0·x + x̂₀ = √17·1 − 4·0.5 = 2.1231056
        try (Trajectory trajectory = start("dpmpp_2m", "", 1)) {
            assertArrayEquals(new float[] {2}, trajectory.timesteps());
            assertEquals(1.0, trajectory.initNoiseSigma());
            assertValue(2.1231056, trajectory.step(scalar(0.5), scalar(1), NO_NOISE));
        }
    }

    @Test
    void vPredictionSingleStep() {
        // x̂₀ = α·x − σ_t·v = (x − 4v)/√17 = 1 − 4/√17 = 0.0298575 for x = √17, v = 1
        try (Trajectory trajectory = start("dpmpp_2m", "\"prediction_type\": \"v_prediction\"", 1)) {
            assertValue(0.0298575, trajectory.step(scalar(1), scalar(Math.sqrt(17)), NO_NOISE));
        }
    }

    @Test
    void middleStepsAreSecondOrder() {
        // trailing, 3 steps: t = 2, 1, 0 and σ = 4, 2, 1, 0.
        // Step 1 (first order, 4 → 2): x = 1, ε = 0.5, D₀ = √17 − 2; e^(−h) = 1/2, α_to = 1/√5,
        //   x₁ = (2/√5)/(4/√17)·1 + (1/(2√5))·D₀ = (√17 − 1)/√5 = 1.3966953
        // Step 2 (second order, 2 → 1): ε = 0.25, D₀' = √5·x₁ − 2·0.25 = √17 − 1.5; r = log 2 / log 2 = 1,
        //   x₂ = (√5/(2√2))·x₁ + (1/(2√2))·D₀' + 0.5·(1/(2√2))·(D₀' − D₀) = (2√17 − 2.25)/(2√2) = 2.1199808
        //   (a first-order step would give (2√17 − 2.5)/(2√2) = 2.0315925)
        // Step 3 (last, 1 → 0): lands on x̂₀ = √2·x₂ − 1·0 = √17 − 1.125 = 2.9981056
        try (Trajectory trajectory = start("dpmpp_2m", "\"timestep_spacing\": \"trailing\"", 3)) {
            assertArrayEquals(new float[] {2, 1, 0}, trajectory.timesteps());
            NDArray x1 = trajectory.step(scalar(0.5), scalar(1), NO_NOISE);
            assertValue(1.3966953, x1);
            NDArray x2 = trajectory.step(scalar(0.25), x1, NO_NOISE);
            assertValue(2.1199808, x2);
            assertValue(2.9981056, trajectory.step(scalar(0), x2, NO_NOISE));
        }
    }

    @Test
    void karrasLevelsSpanTheTrainingSigmas() {
        // 2 Karras levels are exactly σ_max = 4 and σ_min = 1, i.e. timesteps 2 and 0. The first step is first
        // order from 4 to 1: e^(−h) = 1/4, α_to = 1/√2,
        //   x' = (1/√2)/(4/√17)·1 + (3/(4√2))·(√17 − 2) = (√17 − 1.5)/√2 = 1.8548158
        // which is also DDIM's step from ᾱ = 1/17 to ᾱ = 1/2: first-order DPM-Solver++ is DDIM.
        try (Trajectory trajectory = start("dpmpp_2m_karras", "", 2)) {
            assertArrayEquals(new float[] {2, 0}, trajectory.timesteps());
            assertValue(1.8548158, trajectory.step(scalar(0.5), scalar(1), NO_NOISE));
        }
    }
}
