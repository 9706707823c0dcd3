package io.stipple.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SeededNoiseTest extends NdArrayTest {
    private float[] draw(NoiseSource noise, long count) {
        return noise.standardNormal(manager, new Shape(count)).toFloatArray();
    }

    @Test
    void sameSeedGivesTheSameFloats() {
        assertArrayEquals(draw(new SeededNoise(42), 1000), draw(new SeededNoise(42), 1000));
    }

    @Test
    void everyBitOfTheSeedMatters() {
        float[] base = draw(new SeededNoise(7), 64);
        assertFalse(Arrays.equals(base, draw(new SeededNoise(8), 64)));
        assertFalse(Arrays.equals(base, draw(new SeededNoise(7 | 1L << 32), 64)), "high 32 bits ignored");
        assertFalse(Arrays.equals(base, draw(new SeededNoise(7 | Long.MIN_VALUE), 64)), "sign bit ignored");
    }

    @Test
    void drawsContinueOneStream() {
        // Box–Muller yields pairs; an odd split checks that the spare value carries over to the next draw.
        float[] whole = draw(new SeededNoise(3), 16);
        for (int first : new int[] {10, 7}) {
            SeededNoise noise = new SeededNoise(3);
            float[] head = draw(noise, first);
            float[] tail = draw(noise, 16 - first);
            float[] joined = Arrays.copyOf(head, 16);
            System.arraycopy(tail, 0, joined, first, tail.length);
            assertArrayEquals(whole, joined, "split after " + first);
        }
    }

    @Test
    void looksStandardNormal() {
        float[] values = draw(new SeededNoise(20240601L), 100_000);
        double sum = 0;
        double sumSquares = 0;
        int withinOneSigma = 0;
        for (float v : values) {
            assertTrue(Float.isFinite(v));
            sum += v;
            sumSquares += (double) v * v;
            withinOneSigma += Math.abs(v) < 1 ? 1 : 0;
        }
        double mean = sum / values.length;
        double std = Math.sqrt(sumSquares / values.length - mean * mean);
        // standard errors over 100k draws are ~0.003 (mean), ~0.002 (std) and ~0.0015 (fraction)
        assertEquals(0, mean, 0.02);
        assertEquals(1, std, 0.02);
        assertEquals(0.6827, (double) withinOneSigma / values.length, 0.01);
    }

    @Test
    void keepsTheRequestedShape() {
        NDArray noise = new SeededNoise(1).standardNormal(manager, new Shape(1, 4, 8, 8));
        assertEquals(new Shape(1, 4, 8, 8), noise.getShape());
    }
}
