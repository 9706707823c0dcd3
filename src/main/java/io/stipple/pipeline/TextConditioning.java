package io.stipple.pipeline;

/**
 * What one request's text gives the U-Net, shared by the request's images: the prompt's row and, with
 * classifier-free guidance, the negative prompt's.
 *
 * @param unconditional null when the request has no unconditional row
 */
public record TextConditioning(UnetConditions conditional, UnetConditions unconditional) {
}
