package io.stipple.sampling;

import ai.djl.ndarray.NDArray;

/**
 * What the U-Net predicts, and the one place its output is converted. Both conversions are written
 * for the variance-preserving form x = α·x₀ + σ·ε (α² + σ² = 1), which every sampler here can express.
 */
public enum PredictionType {
    EPSILON,
    V_PREDICTION;

    static PredictionType fromConfig(String value) {
        return switch (value) {
            case "epsilon" -> EPSILON;
            case "v_prediction" -> V_PREDICTION;
            default -> throw new IllegalArgumentException(
                    "prediction_type must be \"epsilon\" or \"v_prediction\", got \"" + value + "\"");
        };
    }

    /** x̂₀ = a·x + b·m: {@link #predictedOriginal}'s coefficients. */
    AffineUpdate original(double alpha, double sigma) {
        return switch (this) {
            case EPSILON -> AffineUpdate.of(1 / alpha, -sigma / alpha);
            case V_PREDICTION -> AffineUpdate.of(alpha, -sigma);
        };
    }

    /** ε̂ = a·x + b·m: {@link #predictedNoise}'s coefficients. */
    AffineUpdate noise(double alpha, double sigma) {
        return switch (this) {
            case EPSILON -> AffineUpdate.of(0, 1);
            case V_PREDICTION -> AffineUpdate.of(sigma, alpha);
        };
    }

    /** The predicted clean sample x̂₀. */
    NDArray predictedOriginal(NDArray modelOutput, NDArray sample, double alpha, double sigma) {
        return switch (this) {
            case EPSILON -> sample.sub(modelOutput.mul(sigma)).div(alpha);
            case V_PREDICTION -> sample.mul(alpha).sub(modelOutput.mul(sigma));
        };
    }

    /** The predicted noise ε̂. */
    NDArray predictedNoise(NDArray modelOutput, NDArray sample, double alpha, double sigma) {
        return switch (this) {
            case EPSILON -> modelOutput;
            case V_PREDICTION -> modelOutput.mul(alpha).add(sample.mul(sigma));
        };
    }
}
