package io.stipple.sampling;

import static io.stipple.sampling.Schedules.geometric;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;

/**
 * DDIM on {@link Schedules#geometric}, ᾱ = (1/2, 1/5, 1/17) at t = (0, 1, 2), with the sample x = 1 and the
 * predicted noise ε = 0.5 unless said otherwise. At t = 2: x̂₀ = (x − √(16/17)·ε)/√(1/17) = √17·x − 4ε.
 */
class DdimTest extends NdArrayTest {
    private static final NoiseSource NO_NOISE = (manager, shape) -> fail("deterministic DDIM drew noise");

    private static Trajectory start(String keys, double eta, int steps) {
        return new SamplerCatalog(geometric(keys)).create("ddim", eta).start(steps);
    }

    @Test
    void oneStepToAlphaOneReturnsPredictedOriginal() {
        // trailing, 1 step: round(3) − 1 = 2; t − T/N = −1, so ᾱ_prev = 1 (set_alpha_to_one) and
        // x_prev = √1·x̂₀ + √(1 − 1)·ε = x̂₀ = √17 − 2 = 2.1231056
        Trajectory trajectory = start("\"timestep_spacing\": \"trailing\", \"clip_sample\": false", 0, 1);
        assertArrayEquals(new float[] {2}, trajectory.timesteps());
        assertEquals(1.0, trajectory.initNoiseSigma());
        assertValue(2.1231056, trajectory.step(scalar(0.5), scalar(1), NO_NOISE));
    }

    @Test
    void vPredictionOneStep() {
        // x̂₀ = √ᾱ·x − √(1 − ᾱ)·v = 1 − 4/√17 = 0.0298575 for x = √17, v = 1
        Trajectory trajectory = start(
                "\"timestep_spacing\": \"trailing\", \"clip_sample\": false, \"prediction_type\": \"v_prediction\"",
                0, 1);
        assertValue(0.0298575, trajectory.step(scalar(1), scalar(Math.sqrt(17)), NO_NOISE));
    }

    @Test
    void clipSampleIsOnByDefaultAndHonoursItsRange() {
        // x̂₀ = 2.1231 is clipped before it becomes the result
        assertValue(1.0, start("\"timestep_spacing\": \"trailing\"", 0, 1)
                .step(scalar(0.5), scalar(1), NO_NOISE));
        assertValue(2.0, start("\"timestep_spacing\": \"trailing\", \"clip_sample_range\": 2.0", 0, 1)
                .step(scalar(0.5), scalar(1), NO_NOISE));
    }

    @Test
    void etaAddsTheDdpmVarianceAsNoise() {
        // leading, 3 steps: t = 2, 1, 0 with stride 1; the first step goes from ᾱ = 1/17 to ᾱ' = 1/5.
        // η = 0: x' = √(1/5)·x̂₀ + √(4/5)·ε = (√17 − 2)/√5 + 0.5·√0.8 = 1.3966953
        Trajectory deterministic = start("\"clip_sample\": false", 0, 3);
        assertArrayEquals(new float[] {2, 1, 0}, deterministic.timesteps());
        assertValue(1.3966953, deterministic.step(scalar(0.5), scalar(1), NO_NOISE));

        // η = 1: σ² = (1 − ᾱ')/(1 − ᾱ)·(1 − ᾱ/ᾱ') = (4/5)/(16/17)·(12/17) = 0.6, direction √(1 − 1/5 − 0.6) = √0.2;
        // with z = 1: (√17 − 2)/√5 + 0.5·√0.2 + √0.6 = 1.9476852
        Schedules.ConstantNoise noise = new Schedules.ConstantNoise(1f);
        Trajectory ancestral = start("\"clip_sample\": false", 1, 3);
        assertValue(1.9476852, ancestral.step(scalar(0.5), scalar(1), noise));
        assertEquals(1, noise.draws());
    }

    @Test
    void finalStepWithoutSetAlphaToOneStaysAtAlphaZero() {
        // leading, 1 step: t = 0, ᾱ = 1/2, x̂₀ = √2·x − ε = 0.9142136.
        // set_alpha_to_one: x_prev = x̂₀. Without it ᾱ_prev = ᾱ_0, so x_prev = √ᾱ·x̂₀ + √(1 − ᾱ)·ε = x.
        Trajectory toOne = start("\"clip_sample\": false", 0, 1);
        assertArrayEquals(new float[] {0}, toOne.timesteps());
        assertValue(0.9142136, toOne.step(scalar(0.5), scalar(1), NO_NOISE));
        Trajectory toAlphaZero = start("\"clip_sample\": false, \"set_alpha_to_one\": false", 0, 1);
        assertValue(1.0, toAlphaZero.step(scalar(0.5), scalar(1), NO_NOISE));
    }

    @Test
    void nextTimestepIsAlwaysOneStrideDown() {
        // linspace, 2 steps: t = round(2), round(0) = 2, 0 with stride 3 // 2 = 1, so the first step goes to
        // ᾱ_1 = 1/5 (not ᾱ_0, the next scheduled timestep), giving the same 1.3966953 as the leading case.
        Trajectory trajectory = start("\"clip_sample\": false, \"timestep_spacing\": \"linspace\"", 0, 2);
        assertArrayEquals(new float[] {2, 0}, trajectory.timesteps());
        assertValue(1.3966953, trajectory.step(scalar(0.5), scalar(1), NO_NOISE));
    }

    @Test
    void refusesAStepPastTheEnd() {
        Trajectory trajectory = start("\"clip_sample\": false", 0, 1);
        trajectory.step(scalar(0.5), scalar(1), NO_NOISE);
        assertTrue(trajectory.finished());
        assertThrows(IllegalStateException.class, () -> trajectory.step(scalar(0.5), scalar(1), NO_NOISE));
    }
}
