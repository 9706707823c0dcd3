package io.stipple.sampling;

import static io.stipple.sampling.Schedules.config;
import static io.stipple.sampling.Schedules.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SchedulerConfigTest {

    @Test
    void readsADiffusersFileAndIgnoresKeysItDoesNotKnow() {
        SchedulerConfig config = parse("""
                {
                  "_class_name": "PNDMScheduler",
                  "_diffusers_version": "0.6.0",
                  "beta_end": 0.012,
                  "beta_schedule": "scaled_linear",
                  "beta_start": 0.00085,
                  "num_train_timesteps": 1000,
                  "set_alpha_to_one": false,
                  "skip_prk_steps": true,
                  "steps_offset": 1,
                  "trained_betas": null,
                  "clip_sample": false,
                  "thresholding": false,
                  "rescale_betas_zero_snr": false,
                  "timestep_spacing": "leading",
                  "prediction_type": "v_prediction",
                  "original_inference_steps": 50,
                  "timestep_scaling": 10.0
                }
                """);
        config.validate();
        assertEquals(1000, config.trainTimesteps());
        assertEquals(0.00085, config.betaStartOrDefault());
        assertEquals(0.012, config.betaEndOrDefault());
        assertEquals("scaled_linear", config.betaScheduleOrDefault());
        assertNull(config.trainedBetas());
        assertEquals(PredictionType.V_PREDICTION, config.prediction());
        assertEquals(TimestepSpacing.LEADING, config.spacingOr(TimestepSpacing.LINSPACE));
        assertEquals(1, config.stepsOffsetOrDefault());
        assertFalse(config.setAlphaToOneOrDefault());
        assertFalse(config.clipSampleOrDefault());
        assertEquals(50, config.originalInferenceSteps());
        assertEquals(10.0, config.timestepScaling());
    }

    @Test
    void missingKeysTakeTheClassDefaults() {
        SchedulerConfig config = parse("{}");
        config.validate();
        assertEquals(1000, config.trainTimesteps());
        assertEquals(0.0001, config.betaStartOrDefault());
        assertEquals(0.02, config.betaEndOrDefault());
        assertEquals("linear", config.betaScheduleOrDefault());
        assertEquals(PredictionType.EPSILON, config.prediction());
        // each sampler passes its own class's default spacing
        assertEquals(TimestepSpacing.LEADING, config.spacingOr(TimestepSpacing.LEADING));
        assertEquals(TimestepSpacing.LINSPACE, config.spacingOr(TimestepSpacing.LINSPACE));
        assertEquals(0, config.stepsOffsetOrDefault());
        assertTrue(config.setAlphaToOneOrDefault());
        assertTrue(config.clipSampleOrDefault());
        assertEquals(1.0, config.clipSampleRangeOrDefault());
        // only LCM reads these, with its own defaults
        assertNull(config.originalInferenceSteps());
        assertNull(config.timestepScaling());
    }

    static Stream<Arguments> invalidConfigs() {
        return Stream.of(
                Arguments.of("\"beta_schedule\": \"cosine\"", "beta_schedule"),
                Arguments.of("\"prediction_type\": \"sample\"", "prediction_type"),
                Arguments.of("\"timestep_spacing\": \"uniform\"", "timestep_spacing"),
                Arguments.of("\"trained_betas\": [0.1, 0.2, 0.3]", "trained_betas"),
                Arguments.of("\"num_train_timesteps\": 1", "num_train_timesteps"),
                Arguments.of("\"steps_offset\": -1", "steps_offset"),
                Arguments.of("\"beta_start\": 0", "beta_start"),
                Arguments.of("\"beta_start\": 0.02, \"beta_end\": 0.01", "beta_start"),
                Arguments.of("\"beta_end\": 1.0", "beta_end"),
                Arguments.of("\"original_inference_steps\": 0", "original_inference_steps"),
                Arguments.of("\"num_train_timesteps\": 100, \"original_inference_steps\": 101",
                        "original_inference_steps"),
                Arguments.of("\"timestep_scaling\": 0", "timestep_scaling"),
                Arguments.of("\"timestep_scaling\": -10.0", "timestep_scaling"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidConfigs")
    void validateNamesTheField(String keys, String field) {
        SchedulerConfig config = config(keys);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, config::validate);
        assertTrue(e.getMessage().contains(field), e.getMessage());
        // the catalog validates before building anything, so a bad pipeline fails at startup
        assertThrows(IllegalArgumentException.class, () -> new SamplerCatalog(config));
    }

    @Test
    void trainedBetasOfTheRightLengthAreValid() {
        config("\"num_train_timesteps\": 3, \"trained_betas\": [0.1, 0.2, 0.3]").validate();
    }

    @Test
    void catalogOffersItsSamplersAndNamesThemWhenAskedForAnother() {
        SamplerCatalog catalog = new SamplerCatalog(parse("{}"));
        assertEquals(List.of("ddim", "dpmpp_2m", "dpmpp_2m_karras", "euler", "euler_karras", "euler_a", "lcm"),
                SamplerCatalog.NAMES);
        for (String name : SamplerCatalog.NAMES) {
            assertTrue(catalog.offers(name));
            assertEquals(10, catalog.create(name, 0).start(10).length(), name);
        }
        assertFalse(catalog.offers("pndm"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> catalog.create("pndm", 0));
        assertTrue(e.getMessage().contains("lcm"), e.getMessage());
        assertEquals(1000, catalog.trainTimesteps());
    }
}
