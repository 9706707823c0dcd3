package io.stipple.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Expected values from diffusers' get_guidance_scale_embedding as transcribed in src/training/models.py
 * ({@code guidance_embedding}), run under torch 1.13 in float32.
 */
class GuidanceEmbeddingTest {
    /*
     * torch's vectorised exp is within an ulp, not correctly rounded like Math.exp, and 1000·w turns one ulp of a
     * frequency into up to 1e-4 of a sine at these scales: far below what a U-Net can tell apart.
     */
    private static final float TOLERANCE = 1e-4f;

    private static float[] embedding(int dim, double scale) {
        float[] out = new float[dim];
        new GuidanceEmbedding(dim).write(scale, out, 0);
        return out;
    }

    @Test
    void aScaleOfOneIsSinesOfZeroThenCosinesOfZero() {
        assertArrayEquals(new float[] {0, 0, 0, 0, 1, 1, 1, 1}, embedding(8, 1.0), 0f);
    }

    @Test
    void matchesDiffusersAtSmallDimensions() {
        assertArrayEquals(new float[] {0.930039525f, -0.988044143f, -0.919684708f, 0.198669299f, -0.367459565f,
                0.154171199f, -0.392657697f, 0.980066597f}, embedding(8, 3.0), TOLERANCE);
        assertArrayEquals(new float[] {-0.851235926f, 0.562671125f, -0.435233027f, 0.681638718f, -0.524783254f,
                -0.826680839f, -0.900317848f, 0.731688917f}, embedding(8, 8.5), TOLERANCE);
        assertArrayEquals(new float[] {-0.826879561f, -0.650318682f, -0.834463239f, -0.0998334065f, 0.562379062f,
                -0.759661496f, -0.551063657f, 0.995004177f}, embedding(8, 0.0), TOLERANCE);
    }

    @Test
    void matchesDiffusersAtLcmDimension() {
        float[] e = embedding(256, 3.0);
        int[] at = {0, 1, 50, 127, 128, 129, 200, 255};
        float[] expected = {0.930039525f, 0.263832003f, 0.167647496f, 0.198669299f, -0.367459565f, 0.964568675f,
                -0.197016656f, 0.980066597f};
        for (int i = 0; i < at.length; i++) {
            assertEquals(expected[i], e[at[i]], TOLERANCE, "element " + at[i]);
        }
    }

    @Test
    void writesAtTheOffsetOnly() {
        float[] rows = new float[24];
        new GuidanceEmbedding(8).write(3.0, rows, 8);
        assertArrayEquals(new float[8], java.util.Arrays.copyOfRange(rows, 0, 8), 0f);
        assertArrayEquals(embedding(8, 3.0), java.util.Arrays.copyOfRange(rows, 8, 16), 0f);
        assertArrayEquals(new float[8], java.util.Arrays.copyOfRange(rows, 16, 24), 0f);
    }

    @Test
    void refusesADimensionTooSmallToHaveTwoFrequencies() {
        assertThrows(IllegalArgumentException.class, () -> new GuidanceEmbedding(3));
    }
}
