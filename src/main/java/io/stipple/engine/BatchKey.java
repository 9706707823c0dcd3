package io.stipple.engine;

/**
 * What images must have in common to be stepped in one U-Net call: the latent's height and width (every row of
 * a call has the same shape).
 */
record BatchKey(long latentHeight, long latentWidth) {
}
