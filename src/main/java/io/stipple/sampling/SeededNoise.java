package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Standard normal noise drawn from one image's own seed. libtorch's generator is process-global, so
 * noise drawn there would depend on whatever else ran in between; this stream depends on the seed
 * alone: SplitMix64 (all 64 bits of the seed matter) feeding the Box–Muller transform in StrictMath,
 * which gives the same floats on every JVM and machine.
 */
public final class SeededNoise implements NoiseSource {
    private final SplittableRandom random;
    private double spare = Double.NaN;

    public SeededNoise(long seed) {
        this.random = new SplittableRandom(seed);
    }

    @Override
    public NDArray standardNormal(NDManager manager, Shape shape) {
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) next();
        }
        return manager.create(values, shape);
    }

    private double next() {
        if (!Double.isNaN(spare)) {
            double value = spare;
            spare = Double.NaN;
            return value;
        }
        // 1 - u keeps the logarithm's argument in (0, 1].
        double radius = StrictMath.sqrt(-2.0 * StrictMath.log(1.0 - random.nextDouble()));
        double angle = 2.0 * StrictMath.PI * random.nextDouble();
        spare = radius * StrictMath.sin(angle);
        return radius * StrictMath.cos(angle);
    }
}
