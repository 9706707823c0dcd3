package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;

/**
 * What one request's text gives the U-Net, shared by the request's images.
 *
 * @param conditional   the prompt's hidden states [1, L, D]
 * @param unconditional the negative prompt's, or null when the request has no unconditional row
 */
public record TextConditioning(NDArray conditional, NDArray unconditional) {
}
