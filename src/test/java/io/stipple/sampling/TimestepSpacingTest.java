package io.stipple.sampling;

import static io.stipple.sampling.Schedules.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Inference timesteps worked out by hand from diffusers' set_timesteps, on Stable Diffusion's 1000 steps. */
class TimestepSpacingTest {

    private static float[] timesteps(String sampler, String keys, int steps) {
        return new SamplerCatalog(config(keys)).create(sampler, 0).start(steps).timesteps();
    }

    /** {@code count} values from {@code first} down by {@code stride}. */
    private static float[] descending(int first, int stride, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = first - i * stride;
        }
        return values;
    }

    @Test
    void leadingCountsUpByTheIntegerRatioPlusOffset() {
        // ratio 1000 // 50 = 20: 49·20 + 1 = 981 down to 0·20 + 1
        assertArrayEquals(descending(981, 20, 50), timesteps("ddim", Schedules.SD, 50));
        assertArrayEquals(descending(901, 100, 10), timesteps("ddim", Schedules.SD, 10));
        assertArrayEquals(descending(901, 100, 10), timesteps("euler_a", Schedules.SD, 10));
        // 1000 // 3 = 333: 666 + 1, 333 + 1, 1
        assertArrayEquals(new float[] {667, 334, 1}, timesteps("ddim", Schedules.SD, 3));
    }

    @Test
    void trailingCountsDownFromTheEnd() {
        String trailing = Schedules.SD_BETAS + ", \"timestep_spacing\": \"trailing\"";
        assertArrayEquals(descending(999, 100, 10), timesteps("ddim", trailing, 10));
        assertArrayEquals(descending(999, 100, 10), timesteps("dpmpp_2m", trailing, 10));
        // arange(1000, 0, −333.3̅) = 1000, 666.6̅, 333.3̅ → rounded 1000, 667, 333, minus one
        assertArrayEquals(new float[] {999, 666, 332}, timesteps("ddim", trailing, 3));
    }

    @Test
    void dpmSolverSpacesOneMorePointAndDropsTheLast() {
        String linspace = Schedules.SD_BETAS + ", \"timestep_spacing\": \"linspace\"";
        // linspace(0, 999, 21)[i] = 49.95·i, reversed, last dropped: 999, 949.05, 899.1, …, 549.45, 499.5, …
        float[] twenty = timesteps("dpmpp_2m", linspace, 20);
        assertArrayEquals(new float[] {999, 949, 899, 849, 799, 749, 699, 649, 599, 549,
                500, 450, 400, 350, 300, 250, 200, 150, 100, 50}, twenty);
        // linspace(0, 999, 2) = 0, 999
        assertArrayEquals(new float[] {999}, timesteps("dpmpp_2m", linspace, 1));
        // leading: ratio 1000 // (1 + 1) = 500, plus the offset
        assertArrayEquals(new float[] {501}, timesteps("dpmpp_2m", Schedules.SD, 1));
        assertArrayEquals(new float[] {801, 601, 401, 201}, timesteps("dpmpp_2m", Schedules.SD, 4));
    }

    @Test
    void halvesRoundToEvenAsNumpyDoes() {
        String linspace = Schedules.SD_BETAS + ", \"timestep_spacing\": \"linspace\"";
        // linspace(0, 999, 7) = 0, 166.5, 333, 499.5, 666, 832.5, 999: 832.5 → 832 and 166.5 → 166 round down,
        // 499.5 → 500 rounds up
        assertArrayEquals(new float[] {999, 832, 666, 500, 333, 166, 0}, timesteps("ddim", linspace, 7));
        // Euler ancestral keeps them fractional
        assertArrayEquals(new float[] {999, 832.5f, 666, 499.5f, 333, 166.5f, 0}, timesteps("euler_a", linspace, 7));
    }

    @Test
    void karrasTimestepsIgnoreSpacingAndOffset() {
        float[] leading = timesteps("dpmpp_2m_karras", Schedules.SD, 20);
        float[] trailing = timesteps("dpmpp_2m_karras",
                Schedules.SD_BETAS + ", \"timestep_spacing\": \"trailing\"", 20);
        assertArrayEquals(leading, trailing);
        // the levels run from σ_max to σ_min, i.e. from the last training timestep to the first
        assertTrue(leading[0] == 999 && leading[19] == 0);
    }

    @Test
    void unknownSpacingNamesTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TimestepSpacing.fromConfig("uniform"));
        assertTrue(e.getMessage().contains("timestep_spacing"), e.getMessage());
    }
}
