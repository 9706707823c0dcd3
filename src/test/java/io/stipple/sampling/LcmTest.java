package io.stipple.sampling;

import static io.stipple.sampling.Schedules.config;
import static io.stipple.sampling.Schedules.geometric;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;

/**
 * LCM's timesteps on Stable Diffusion's 1000 training timesteps, and its steps on {@link Schedules#geometric},
 * ᾱ = (1/2, 1/5, 1/17) at t = (0, 1, 2), distilled on all three (k = 1) with timestep_scaling 0.5 so that the
 * boundary condition's weights are round: at t = 2 the scaled timestep is 1, c_skip = 0.25/(1 + 0.25) = 0.2 and
 * c_out = 1/√1.25; at t = 1 it is 0.5, c_skip = 0.25/(0.25 + 0.25) = 0.5 and c_out = 0.5/√0.5 = √0.5; at t = 0
 * c_skip = 1 and c_out = 0. The sample is x = 1 and the predicted noise ε = 0.5 unless said otherwise.
 */
class LcmTest extends NdArrayTest {
    private static final NoiseSource NO_NOISE = (manager, shape) -> fail("the last step drew noise");
    private static final String SD_LCM = Schedules.SD + ", \"original_inference_steps\": 50";
    private static final String GEOMETRIC = "\"original_inference_steps\": 3, \"timestep_scaling\": 0.5";

    private static Sampler lcm(SchedulerConfig config) {
        return new SamplerCatalog(config).create("lcm", 0);
    }

    private static Trajectory start(String keys, int steps) {
        return lcm(geometric(keys)).start(steps);
    }

    @Test
    void timestepsAreEvenlySpacedAmongTheDistillationSchedule() {
        // k = 1000 // 50 = 20: the distillation schedule is 19, 39, ..., 999, and the i-th from the top is
        // (50 − i)·20 − 1. 4 steps: floor(linspace(0, 50, 4, endpoint=False)) = floor(0, 12.5, 25, 37.5).
        Sampler lcm = lcm(config(SD_LCM));
        assertArrayEquals(new float[] {999, 759, 499, 259}, lcm.start(4).timesteps());
        // 8 steps: i·6.25 floors to 0, 6, 12, 18, 25, 31, 37, 43
        assertArrayEquals(new float[] {999, 879, 759, 639, 499, 379, 259, 139}, lcm.start(8).timesteps());
        assertArrayEquals(new float[] {999}, lcm.start(1).timesteps());
    }

    @Test
    void strengthShortensTheDistillationScheduleAndStillWalksEveryStep() {
        // int(50 × 0.5) = 25 timesteps are left, 19 ... 499, the i-th from the top (25 − i)·20 − 1;
        // 4 steps: i·6.25 floors to 0, 6, 12, 18
        SamplerCatalog catalog = new SamplerCatalog(config(SD_LCM));
        Sampler lcm = catalog.create("lcm", 0);
        Trajectory trajectory = lcm.start(4, 0.5);
        assertArrayEquals(new float[] {499, 379, 259, 139}, trajectory.timesteps());
        assertEquals(4, lcm.walkedSteps(4, 0.5));
        // where the other samplers walk the last int(4 × 0.5) = 2 of their 4
        assertEquals(2, catalog.create("ddim", 0).walkedSteps(4, 0.5));

        // the init image is noised to the first timestep: √ᾱ_499·x₀ + √(1 − ᾱ_499)·ε
        double alphaProd = new NoiseSchedule(config(Schedules.SD_BETAS)).alphaCumprod(499);
        assertValue(Math.sqrt(alphaProd) * 0.3 + Math.sqrt(1 - alphaProd) * 2,
                trajectory.noised(scalar(0.3), scalar(2)));
    }

    @Test
    void whereDiffusersRaisesEveryTimestepLeftIsWalked() {
        Sampler lcm = lcm(config(SD_LCM));
        // 60 steps at strength 1: all 50 of the distillation schedule, 999 down to 19
        float[] all = lcm.start(60).timesteps();
        assertEquals(50, all.length);
        assertEquals(999, all[0]);
        assertEquals(979, all[1]);
        assertEquals(19, all[49]);
        // int(50 × 0.3) = 15 are left for 20 steps: 299 down to 19
        float[] left = lcm.start(20, 0.3).timesteps();
        assertEquals(15, left.length);
        assertEquals(299, left[0]);
        assertEquals(19, left[14]);
        assertEquals(15, lcm.walkedSteps(20, 0.3));
        // int(50 × 0.01) = 0 are left: nothing is walked and the init image comes back as it is
        Trajectory none = lcm.start(4, 0.01);
        assertEquals(0, none.length());
        assertTrue(none.finished());
        assertValue(0.3, none.noised(scalar(0.3), scalar(2)));
    }

    @Test
    void maxStepsIsTheDistillationSchedulesLength() {
        assertEquals(50, new SamplerCatalog(config(SD_LCM)).maxSteps("lcm"));
        SamplerCatalog shorter = new SamplerCatalog(config(Schedules.SD + ", \"original_inference_steps\": 25"));
        assertEquals(25, shorter.maxSteps("lcm"));
        assertEquals(1000, shorter.maxSteps("ddim"));
        // without the key, LCM's default of 50 is lowered to a schedule of 3 training timesteps (diffusers would raise)
        assertEquals(3, new SamplerCatalog(geometric("")).maxSteps("lcm"));
        assertArrayEquals(new float[] {2, 1, 0}, start("", 3).timesteps());
    }

    @Test
    void eachStepDenoisesByTheBoundaryConditionThenNoisesAfreshToTheNextTimestep() {
        Trajectory trajectory = start(GEOMETRIC, 3);
        assertArrayEquals(new float[] {2, 1, 0}, trajectory.timesteps());
        assertEquals(1.0, trajectory.initNoiseSigma());

        // t = 2: x̂₀ = (x − √(16/17)·ε)/√(1/17) = √17 − 2, denoised = (√17 − 2)/√1.25 + 0.2·x = 2.0989634;
        // to ᾱ = 1/5 with z = 1: √(1/5)·2.0989634 + √(4/5) = 1.8331122
        Schedules.ConstantNoise one = new Schedules.ConstantNoise(1f);
        assertValue(1.8331122, trajectory.step(scalar(0.5), scalar(1), one));
        assertEquals(1, one.draws());

        // t = 1: x̂₀ = (x − √(4/5)·ε)/√(1/5) = √5 − 1, denoised = √0.5·(√5 − 1) + 0.5·x = 1.3740320;
        // to ᾱ = 1/2 with z = 0: √(1/2)·1.3740320 = 0.9715874
        assertValue(0.9715874, trajectory.step(scalar(0.5), scalar(1), new Schedules.ConstantNoise(0f)));

        // t = 0, the last: c_skip = 1 and c_out = 0 return the sample whatever the model says, with no noise
        assertValue(0.7, trajectory.step(scalar(123), scalar(0.7), NO_NOISE));
        assertTrue(trajectory.finished());
    }

    @Test
    void theLastStepReturnsTheDenoisedSample() {
        // 1 step walks t = 2 alone: the denoised 2.0989634 above, not noised again
        Trajectory trajectory = start(GEOMETRIC, 1);
        assertArrayEquals(new float[] {2}, trajectory.timesteps());
        assertValue(2.0989634, trajectory.step(scalar(0.5), scalar(1), NO_NOISE));
    }

    @Test
    void vPrediction() {
        // 2 steps: floor(linspace(0, 3, 2, endpoint=False)) = 0, 1, so t = 2, 1. At t = 1, the last:
        // x̂₀ = √(1/5)·x − √(4/5)·v = −√(1/5) for x = v = 1, denoised = √0.5·(−√(1/5)) + 0.5·x = 0.1837722
        Trajectory trajectory = start(GEOMETRIC + ", \"prediction_type\": \"v_prediction\"", 2);
        assertArrayEquals(new float[] {2, 1}, trajectory.timesteps());
        trajectory.step(scalar(1), scalar(1), new Schedules.ConstantNoise(0f));
        assertValue(0.1837722, trajectory.step(scalar(1), scalar(1), NO_NOISE));
    }

    @Test
    void clipSampleIsOffByDefaultUnlikeDdim() {
        // the default kept x̂₀ = √17 − 2 = 2.12 above; clipped to 1 it gives 1/√1.25 + 0.2 = 1.0944272
        assertValue(1.0944272, start(GEOMETRIC + ", \"clip_sample\": true", 1).step(scalar(0.5), scalar(1), NO_NOISE));
    }

    @Test
    void aFileWithoutBetasGetsLcmsStableDiffusionBetas() {
        // the empty file: the other samplers read DDIM's linear betas from it, LCM its own scaled-linear ones
        Trajectory trajectory = lcm(config("")).start(1);
        assertArrayEquals(new float[] {999}, trajectory.timesteps());
        double lcmAlphaProd = new NoiseSchedule(config(Schedules.SD_BETAS)).alphaCumprod(999);
        double ddimAlphaProd = new NoiseSchedule(config("")).alphaCumprod(999);
        assertNotEquals(lcmAlphaProd, ddimAlphaProd, 1e-3);
        // noised with ε = 0: √ᾱ_999
        assertValue(Math.sqrt(lcmAlphaProd), trajectory.noised(scalar(1), scalar(0)));
    }
}
