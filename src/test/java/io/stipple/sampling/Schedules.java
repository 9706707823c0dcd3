package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import tools.jackson.databind.json.JsonMapper;

/** Configs and noise for the hand-derived tests. */
final class Schedules {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Stable Diffusion 1.x's noise schedule, to be completed with a timestep spacing. */
    static final String SD_BETAS = """
            "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "set_alpha_to_one": false, "clip_sample": false""";

    /** Stable Diffusion 1.x's scheduler_config.json. */
    static final String SD = SD_BETAS + ", \"timestep_spacing\": \"leading\", \"steps_offset\": 1";

    private Schedules() {
    }

    static SchedulerConfig parse(String json) {
        return JSON.readValue(json, SchedulerConfig.class);
    }

    /** {@code keys}: JSON members without the braces. */
    static SchedulerConfig config(String keys) {
        return parse("{" + keys + "}");
    }

    /**
     * Three training timesteps with ᾱ = 1/2, 1/5, 1/17 (β = 1/2, 3/5, 12/17), so that σ = √((1 − ᾱ)/ᾱ) is
     * 1, 2, 4: every λ step is log 2 and every coefficient has a closed form.
     */
    static SchedulerConfig geometric(String moreKeys) {
        String keys = "\"num_train_timesteps\": 3, \"trained_betas\": [0.5, 0.6, 0.7058823529411765]";
        return config(moreKeys.isEmpty() ? keys : keys + ", " + moreKeys);
    }

    /** A noise source that hands out {@code value} everywhere and counts how often it was asked. */
    static final class ConstantNoise implements NoiseSource {
        private final float value;
        private int draws;

        ConstantNoise(float value) {
            this.value = value;
        }

        @Override
        public NDArray standardNormal(NDManager manager, Shape shape) {
            draws++;
            return manager.full(shape, value);
        }

        int draws() {
            return draws;
        }
    }
}
