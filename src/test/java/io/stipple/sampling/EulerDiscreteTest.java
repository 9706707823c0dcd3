package io.stipple.sampling;

import static io.stipple.sampling.Schedules.geometric;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.Test;

/**
 * Euler on {@link Schedules#geometric}: σ = 1, 2, 4 at t = 0, 1, 2, so σ = 2^t and log-linear interpolation is
 * exact. The sample lives in x = x₀ + σ·ε, and a step from σ to σ' is x' = x + (x − x̂₀)·(σ' − σ)/σ, which for
 * ε-prediction (x̂₀ = x − σ·ε) is x + (σ' − σ)·ε.
 */
class EulerDiscreteTest extends NdArrayTest {
    private static final String TRAILING = "\"timestep_spacing\": \"trailing\"";

    private static Trajectory start(String sampler, String keys, int steps) {
        return new SamplerCatalog(geometric(keys)).create(sampler, 0).start(steps);
    }

    @Test
    void epsilonStepsFollowTheNoiseDownToZeroWithoutDrawingNoise() {
        // trailing, 3 steps: σ = 4 → 2 → 1 → 0; with ε = 0.5 throughout, x = 2 → 2 − 2·0.5 = 1 → 1 − 0.5 = 0.5 → 0
        Schedules.ConstantNoise noise = new Schedules.ConstantNoise(1f);
        try (Trajectory trajectory = start("euler", TRAILING, 3)) {
            assertArrayEquals(new float[] {2, 1, 0}, trajectory.timesteps());
            // the U-Net sees x/√(σ² + 1): 17/√17 at σ = 4
            assertValue(Math.sqrt(17), trajectory.scaleModelInput(scalar(17)));
            NDArray sample = trajectory.step(scalar(0.5), scalar(2), noise);
            assertValue(1.0, sample);
            assertValue(1.0, trajectory.scaleModelInput(scalar(Math.sqrt(5))));
            sample = trajectory.step(scalar(0.5), sample, noise);
            assertValue(0.5, sample);
            assertValue(0.0, trajectory.step(scalar(0.5), sample, noise));
            assertTrue(trajectory.finished());
        }
        assertEquals(0, noise.draws());
    }

    @Test
    void theStepIsAnAffineUpdateWithoutNoise() {
        // x' = 1·x + (σ' − σ)·ε: (1, −2) from σ = 4 to 2
        try (Trajectory trajectory = start("euler", TRAILING, 3)) {
            AffineUpdate update = trajectory.affineStep().orElseThrow();
            assertEquals(1.0, update.sample(), 1e-6);
            assertEquals(-2.0, update.modelOutput(), 1e-5);
            assertEquals(0.0, update.noise());
            assertFalse(update.drawsNoise());
        }
    }

    @Test
    void vPredictionStep() {
        // x̂₀ = −σ/√(σ² + 1)·v + x/(σ² + 1) = −2/√17 + 1 = 0.5149287 for x = 17, v = 0.5 at σ = 4;
        // x' = 17 + (17 − 0.5149287)·(2 − 4)/4 = 8.7574644
        try (Trajectory trajectory = start("euler", TRAILING + ", \"prediction_type\": \"v_prediction\"", 3)) {
            assertValue(8.7574644, trajectory.step(scalar(0.5), scalar(17), new Schedules.ConstantNoise(0f)));
        }
    }

    @Test
    void initialNoiseIsScaledPerSpacing() {
        // √(σ_max² + 1) for leading only, as diffusers v0.25.1's init_noise_sigma has it; σ_max for the others
        assertEquals(Math.sqrt(17), start("euler", "\"timestep_spacing\": \"leading\"", 3).initNoiseSigma(), 1e-5);
        assertEquals(4.0, start("euler", "\"timestep_spacing\": \"linspace\"", 3).initNoiseSigma(), 1e-5);
        assertEquals(4.0, start("euler", TRAILING, 3).initNoiseSigma(), 1e-5);
    }

    @Test
    void linspaceKeepsFractionalTimestepsAndInterpolatesSigma() {
        // linspace(0, 2, 5) = 0, 0.5, 1, 1.5, 2; σ(1.5) = (2 + 4)/2 = 3, so the first step is x' = x + (3 − 4)·ε
        try (Trajectory trajectory = start("euler", "", 5)) {
            assertArrayEquals(new float[] {2, 1.5f, 1, 0.5f, 0}, trajectory.timesteps());
            assertValue(3.0, trajectory.step(scalar(1), scalar(4), new Schedules.ConstantNoise(0f)));
            assertValue(1.0, trajectory.scaleModelInput(scalar(Math.sqrt(10))));
        }
    }

    @Test
    void karrasLevelsRunBetweenTheSpacedEndsAtFractionalTimesteps() {
        // trailing, 3 steps spans σ = 4 … 1: the middle Karras level is ((4^(1/7) + 1)/2)^7 = 2.0697117, whose
        // timestep is log₂ σ = 1.0494298, unrounded; the step from σ = 4 to it is x' = x + (2.0697117 − 4)·ε
        try (Trajectory trajectory = start("euler_karras", TRAILING, 3)) {
            float[] timesteps = trajectory.timesteps();
            assertArrayEquals(new float[] {2, 1.0494298f, 0}, timesteps, 1e-5f);
            assertEquals(4.0, trajectory.initNoiseSigma(), 1e-5);
            assertValue(2.0697117, trajectory.step(scalar(1), scalar(4), new Schedules.ConstantNoise(0f)));
        }
        // leading, 2 steps spans only σ = 2 … 1 (t = 1, 0): the levels stay there, where DPM-Solver's Karras levels
        // would start from the training schedule's σ = 4; the start is √(2² + 1) = √5
        try (Trajectory trajectory = start("euler_karras", "\"timestep_spacing\": \"leading\"", 2)) {
            assertArrayEquals(new float[] {1, 0}, trajectory.timesteps(), 1e-5f);
            assertEquals(Math.sqrt(5), trajectory.initNoiseSigma(), 1e-5);
        }
    }

    @Test
    void imageToImageStartsFromTheOriginalNoisedToItsFirstLevel() {
        // 3 trailing steps at strength 0.7 walk int(2.1) = 2 of them, from σ = 2 (t = 1): x = x₀ + 2·ε;
        // inpainting's blend after the first step noises the original to σ = 1, after the last not at all
        try (Trajectory trajectory = new SamplerCatalog(geometric(TRAILING)).create("euler", 0).start(3, 0.7)) {
            assertArrayEquals(new float[] {1, 0}, trajectory.timesteps());
            assertValue(2.0, trajectory.noised(scalar(1), scalar(0.5)));
            assertValue(1.5, trajectory.noisedAfterStep(scalar(1), scalar(0.5)));
            NDArray sample = trajectory.step(scalar(0.5), scalar(2), new Schedules.ConstantNoise(0f));
            assertValue(1.5, sample);
            assertValue(1.0, trajectory.noisedAfterStep(scalar(1), scalar(0.5)));
        }
    }
}
