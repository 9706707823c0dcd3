package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The diffusers {@code scheduler_config.json} of a pipeline. Keys a file leaves out are {@code null}
 * here, because diffusers fills them with the defaults of whichever scheduler class reads the file, and
 * those differ (DDIM spaces timesteps "leading", DPM-Solver and Euler "linspace"): each sampler applies
 * its own class's defaults through the {@code ...Or} accessors, or, where they differ in keys the noise
 * schedule is built from (LCM's betas), reads the file through {@link #withDefaults}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SchedulerConfig(
        @JsonProperty("num_train_timesteps") Integer numTrainTimesteps,
        @JsonProperty("beta_start") Double betaStart,
        @JsonProperty("beta_end") Double betaEnd,
        @JsonProperty("beta_schedule") String betaSchedule,
        @JsonProperty("trained_betas") List<Double> trainedBetas,
        @JsonProperty("prediction_type") String predictionType,
        @JsonProperty("timestep_spacing") String timestepSpacing,
        @JsonProperty("steps_offset") Integer stepsOffset,
        @JsonProperty("set_alpha_to_one") Boolean setAlphaToOne,
        @JsonProperty("clip_sample") Boolean clipSample,
        @JsonProperty("clip_sample_range") Double clipSampleRange,
        @JsonProperty("original_inference_steps") Integer originalInferenceSteps,
        @JsonProperty("timestep_scaling") Double timestepScaling) {

    /** This file as a class whose defaults are {@code classDefaults} reads it: the keys it leaves out take theirs. */
    SchedulerConfig withDefaults(SchedulerConfig classDefaults) {
        return new SchedulerConfig(
                or(numTrainTimesteps, classDefaults.numTrainTimesteps),
                or(betaStart, classDefaults.betaStart),
                or(betaEnd, classDefaults.betaEnd),
                or(betaSchedule, classDefaults.betaSchedule),
                or(trainedBetas, classDefaults.trainedBetas),
                or(predictionType, classDefaults.predictionType),
                or(timestepSpacing, classDefaults.timestepSpacing),
                or(stepsOffset, classDefaults.stepsOffset),
                or(setAlphaToOne, classDefaults.setAlphaToOne),
                or(clipSample, classDefaults.clipSample),
                or(clipSampleRange, classDefaults.clipSampleRange),
                or(originalInferenceSteps, classDefaults.originalInferenceSteps),
                or(timestepScaling, classDefaults.timestepScaling));
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    public int trainTimesteps() {
        return numTrainTimesteps == null ? 1000 : numTrainTimesteps;
    }

    public double betaStartOrDefault() {
        return betaStart == null ? 0.0001 : betaStart;
    }

    public double betaEndOrDefault() {
        return betaEnd == null ? 0.02 : betaEnd;
    }

    public String betaScheduleOrDefault() {
        return betaSchedule == null ? "linear" : betaSchedule;
    }

    public PredictionType prediction() {
        return PredictionType.fromConfig(predictionType == null ? "epsilon" : predictionType);
    }

    public TimestepSpacing spacingOr(TimestepSpacing classDefault) {
        return timestepSpacing == null ? classDefault : TimestepSpacing.fromConfig(timestepSpacing);
    }

    public int stepsOffsetOrDefault() {
        return stepsOffset == null ? 0 : stepsOffset;
    }

    /** DDIMScheduler's defaults: the final step goes to ᾱ = 1, and x̂₀ is clipped to ±1. */
    public boolean setAlphaToOneOrDefault() {
        return setAlphaToOne == null || setAlphaToOne;
    }

    public boolean clipSampleOrDefault() {
        return clipSample == null || clipSample;
    }

    public double clipSampleRangeOrDefault() {
        return clipSampleRange == null ? 1.0 : clipSampleRange;
    }

    /** x̂₀ as DDIM and LCM use it: clipped to ±clip_sample_range where clip_sample is on. */
    NDArray clipSample(NDArray predictedOriginal) {
        if (!clipSampleOrDefault()) {
            return predictedOriginal;
        }
        double range = clipSampleRangeOrDefault();
        return predictedOriginal.clip(-range, range);
    }

    /**
     * Fails with a message naming the field when a value is out of the supported set, so that a bad
     * model directory is refused at startup rather than on the first request.
     */
    public void validate() {
        if (trainTimesteps() < 2) {
            throw new IllegalArgumentException("num_train_timesteps must be at least 2, got " + numTrainTimesteps);
        }
        if (trainedBetas != null && trainedBetas.size() != trainTimesteps()) {
            throw new IllegalArgumentException("trained_betas has " + trainedBetas.size()
                    + " values but num_train_timesteps is " + trainTimesteps());
        }
        BetaSchedule.fromConfig(betaScheduleOrDefault());
        prediction();
        if (timestepSpacing != null) {
            TimestepSpacing.fromConfig(timestepSpacing);
        }
        if (stepsOffsetOrDefault() < 0) {
            throw new IllegalArgumentException("steps_offset must not be negative, got " + stepsOffset);
        }
        if (!(betaStartOrDefault() > 0 && betaEndOrDefault() < 1 && betaStartOrDefault() <= betaEndOrDefault())) {
            throw new IllegalArgumentException("beta_start and beta_end must satisfy 0 < beta_start <= beta_end < 1, got "
                    + betaStartOrDefault() + " and " + betaEndOrDefault());
        }
        if (originalInferenceSteps != null
                && !(originalInferenceSteps >= 1 && originalInferenceSteps <= trainTimesteps())) {
            throw new IllegalArgumentException("original_inference_steps must be between 1 and num_train_timesteps ("
                    + trainTimesteps() + "), got " + originalInferenceSteps);
        }
        if (timestepScaling != null && !(timestepScaling > 0)) {
            throw new IllegalArgumentException("timestep_scaling must be positive, got " + timestepScaling);
        }
    }
}
