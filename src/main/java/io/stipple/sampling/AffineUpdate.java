package io.stipple.sampling;

import ai.djl.ndarray.NDArray;

/**
 * A sampler step that is affine in what it reads: x' = a·x + b·m + c·z, with x the sample, m the model's
 * (guided) output and z a fresh standard-normal draw of the image's own noise. DDIM, LCM and Euler ancestral
 * steps are, unless x̂₀ is clipped; so, per image, a step reduces to three numbers, and the steps of many images
 * become one set of tensor operations on per-row coefficient vectors (GuidedStep).
 *
 * @param sample      a
 * @param modelOutput b
 * @param noise       c
 * @param drawsNoise  whether the step takes a draw from the image's stream: diffusers' schedulers draw at some
 *                    steps whose c is 0 (Euler ancestral's last), and the streams must stay in step with theirs
 */
public record AffineUpdate(double sample, double modelOutput, double noise, boolean drawsNoise) {

    /** x̂₀ or ε̂ as an affine function of (x, m): a prediction type's conversion. */
    static AffineUpdate of(double sample, double modelOutput) {
        return new AffineUpdate(sample, modelOutput, 0, false);
    }

    AffineUpdate times(double factor) {
        return new AffineUpdate(sample * factor, modelOutput * factor, noise * factor, drawsNoise);
    }

    AffineUpdate plus(AffineUpdate other) {
        return new AffineUpdate(sample + other.sample, modelOutput + other.modelOutput, noise + other.noise,
                drawsNoise || other.drawsNoise);
    }

    AffineUpdate plusSample(double factor) {
        return new AffineUpdate(sample + factor, modelOutput, noise, drawsNoise);
    }

    /** The same update plus c·z, a fresh draw. */
    AffineUpdate withNoise(double factor) {
        return new AffineUpdate(sample, modelOutput, factor, true);
    }

    /**
     * Applies the update to one image, in the order GuidedStep applies it to many ({@code (a·x + b·m) + c·z},
     * coefficients rounded to float32 as there), so that the two give the same bits.
     *
     * @param z the image's draw, or null when {@link #drawsNoise()} is false
     */
    public NDArray apply(NDArray x, NDArray m, NDArray z) {
        NDArray next = x.mul((float) sample).add(m.mul((float) modelOutput));
        return z == null ? next : next.add(z.mul((float) noise));
    }
}
