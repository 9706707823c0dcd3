package io.stipple.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With α = 0.6, σ = 0.8, x₀ = (1, −1) and ε = (0.5, 2): x = α·x₀ + σ·ε = (1, 1) and
 * v = α·ε − σ·x₀ = (−0.5, 2). Each conversion must give x₀ and ε back.
 */
class PredictionTypeTest extends NdArrayTest {
    private static final double ALPHA = 0.6;
    private static final double SIGMA = 0.8;

    private NDArray sample;

    @BeforeEach
    void createSample() {
        sample = manager.create(new float[] {1f, 1f});
    }

    @Test
    void epsilonPredictionGivesOriginalAndPassesNoiseThrough() {
        NDArray epsilon = manager.create(new float[] {0.5f, 2f});
        // x̂₀ = (x − σ·ε)/α = ((1 − 0.4)/0.6, (1 − 1.6)/0.6)
        assertArrayEquals(new float[] {1f, -1f},
                PredictionType.EPSILON.predictedOriginal(epsilon, sample, ALPHA, SIGMA).toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {0.5f, 2f},
                PredictionType.EPSILON.predictedNoise(epsilon, sample, ALPHA, SIGMA).toFloatArray(), 0f);
    }

    @Test
    void vPredictionConvertsToOriginalAndNoise() {
        NDArray velocity = manager.create(new float[] {-0.5f, 2f});
        // x̂₀ = α·x − σ·v = (0.6 + 0.4, 0.6 − 1.6); ε̂ = α·v + σ·x = (−0.3 + 0.8, 1.2 + 0.8)
        assertArrayEquals(new float[] {1f, -1f},
                PredictionType.V_PREDICTION.predictedOriginal(velocity, sample, ALPHA, SIGMA).toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {0.5f, 2f},
                PredictionType.V_PREDICTION.predictedNoise(velocity, sample, ALPHA, SIGMA).toFloatArray(), 1e-6f);
    }

    @Test
    void configNamesMapToTypes() {
        assertEquals(PredictionType.EPSILON, PredictionType.fromConfig("epsilon"));
        assertEquals(PredictionType.V_PREDICTION, PredictionType.fromConfig("v_prediction"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PredictionType.fromConfig("sample"));
        assertTrue(e.getMessage().contains("prediction_type"), e.getMessage());
    }
}
