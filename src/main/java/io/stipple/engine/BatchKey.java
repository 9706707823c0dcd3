package io.stipple.engine;

import ai.djl.ndarray.types.Shape;

/**
 * What images must have in common to be stepped in one U-Net call: the latent's height and width (every row of
 * a call has the same shape).
 */
record BatchKey(long latentHeight, long latentWidth) {

    /** The key of latents of {@code shape}, [N, C, h, w]. */
    static BatchKey of(Shape shape) {
        return new BatchKey(shape.get(2), shape.get(3));
    }
}
