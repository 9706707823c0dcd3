package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Where an image's Gaussian noise comes from: its initial latent first, then any ancestral noise, in order. */
@FunctionalInterface
public interface NoiseSource {
    NDArray standardNormal(NDManager manager, Shape shape);
}
