package io.stipple.sampling;

import static io.stipple.sampling.Schedules.geometric;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/**
 * Euler ancestral on {@link Schedules#geometric}: σ = 1, 2, 4 at t = 0, 1, 2. The sample lives in
 * x = x₀ + σ·ε, and a step from σ to σ' moves to σ_down = √(σ'² − σ_up²) with σ_up = σ'·√(σ² − σ'²)/σ.
 */
class EulerAncestralTest extends NdArrayTest {
    private static Trajectory start(String keys, int steps) {
        return new SamplerCatalog(geometric(keys)).create("euler_a", 0).start(steps);
    }

    @Test
    void singleStepLandsOnPredictedOriginal() {
        // trailing, 1 step: t = 2, σ = 4 → 0, so σ_up = σ_down = 0 and x' = x + ((x − x̂₀)/4)·(0 − 4) = x̂₀;
        // x̂₀ = x − σ·ε = 1 − 4·0.5 = −1. Noise is still drawn, once, as diffusers draws it every step.
        Schedules.ConstantNoise noise = new Schedules.ConstantNoise(1f);
        try (Trajectory trajectory = start("\"timestep_spacing\": \"trailing\"", 1)) {
            assertArrayEquals(new float[] {2}, trajectory.timesteps());
            assertEquals(4.0, trajectory.initNoiseSigma(), 1e-6);
            // the U-Net sees x/√(σ² + 1) = 17/√17
            assertValue(Math.sqrt(17), trajectory.scaleModelInput(scalar(17)));
            assertValue(-1.0, trajectory.step(scalar(0.5), scalar(1), noise));
        }
        assertEquals(1, noise.draws());
    }

    @Test
    void ancestralStepSplitsTheNextNoiseLevel() {
        // trailing, 3 steps, first step σ = 4 → 2: σ_up = 2·√(16 − 4)/4 = √3, σ_down = √(4 − 3) = 1;
        // derivative (x − x̂₀)/σ = ε, so x' = x + ε·(1 − 4) + √3·z = 2 − 1.5 + √3 = 2.2320508 for x = 2, ε = 0.5, z = 1
        Schedules.ConstantNoise noise = new Schedules.ConstantNoise(1f);
        try (Trajectory trajectory = start("\"timestep_spacing\": \"trailing\"", 3)) {
            assertArrayEquals(new float[] {2, 1, 0}, trajectory.timesteps());
            assertValue(2.2320508, trajectory.step(scalar(0.5), scalar(2), noise));
            // the next input is scaled for σ = 2
            assertValue(1.0, trajectory.scaleModelInput(scalar(Math.sqrt(5))));
        }
    }

    @Test
    void vPredictionSingleStep() {
        // x̂₀ = −σ/√(σ² + 1)·v + x/(σ² + 1) = −2/√17 + 1 = 0.5149287 for x = 17, v = 0.5
        try (Trajectory trajectory = start(
                "\"timestep_spacing\": \"trailing\", \"prediction_type\": \"v_prediction\"", 1)) {
            assertValue(0.5149287, trajectory.step(scalar(0.5), scalar(17), new Schedules.ConstantNoise(0f)));
        }
    }

    @Test
    void initialNoiseIsScaledPerSpacing() {
        // leading starts from x = x₀ + σ·ε with unit-variance x₀ folded in: √(σ_max² + 1) = √17;
        // linspace and trailing from σ_max = 4
        assertEquals(Math.sqrt(17), start("\"timestep_spacing\": \"leading\"", 3).initNoiseSigma(), 1e-6);
        assertEquals(4.0, start("\"timestep_spacing\": \"linspace\"", 3).initNoiseSigma(), 1e-6);
        assertEquals(4.0, start("\"timestep_spacing\": \"trailing\"", 3).initNoiseSigma(), 1e-6);
        Schedules.ConstantNoise ones = new Schedules.ConstantNoise(1f);
        try (Trajectory trajectory = start("\"timestep_spacing\": \"leading\"", 3)) {
            NDArray initial = trajectory.initialSample(manager, new Shape(2), ones);
            assertArrayEquals(new float[] {4.1231055f, 4.1231055f}, initial.toFloatArray(), 1e-6f);
        }
    }

    @Test
    void linspaceKeepsFractionalTimestepsAndInterpolatesSigma() {
        // linspace(0, 2, 5) = 0, 0.5, 1, 1.5, 2; at t = 1.5, σ = (2 + 4)/2 = 3, so the input is scaled by 1/√10
        try (Trajectory trajectory = start("", 5)) {
            assertArrayEquals(new float[] {2, 1.5f, 1, 0.5f, 0}, trajectory.timesteps());
            trajectory.step(scalar(0), scalar(0), new Schedules.ConstantNoise(0f));
            assertEquals(1.5f, trajectory.currentTimestep());
            assertValue(1.0, trajectory.scaleModelInput(scalar(Math.sqrt(10))));
        }
    }
}
