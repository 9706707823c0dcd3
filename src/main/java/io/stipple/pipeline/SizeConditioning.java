package io.stipple.pipeline;

/**
 * SDXL's micro-conditioning: the size the training image had, where it was cropped, and the size asked for, which
 * the U-Net takes as its six {@code time_ids} (diffusers' {@code _get_add_time_ids}). Heights come before widths, and
 * tops before lefts, as in diffusers.
 */
public record SizeConditioning(int originalHeight, int originalWidth, int cropTop, int cropLeft, int targetHeight,
        int targetWidth) {

    /** diffusers' defaults for an image of this size: the size itself, uncropped. */
    public static SizeConditioning of(int width, int height) {
        return new SizeConditioning(height, width, 0, 0, height, width);
    }

    /** (original height, original width, crop top, crop left, target height, target width). */
    public float[] timeIds() {
        return new float[] {originalHeight, originalWidth, cropTop, cropLeft, targetHeight, targetWidth};
    }
}
