package io.stipple.pipeline;

import java.awt.image.BufferedImage;

/**
 * The last step of inpainting: the decoded image inside the mask, the original pixels outside it, blended
 * over a feathered edge. The VAE's round trip changes every pixel a little; this keeps what the user did
 * not ask to change exactly as it was.
 */
public final class InpaintComposite {
    private InpaintComposite() {
    }

    public static BufferedImage apply(BufferedImage decoded, InitImage init) {
        int width = decoded.getWidth();
        int height = decoded.getHeight();
        float[] weights = MaskLevels.feathered(init.mask());
        int[] painted = decoded.getRGB(0, 0, width, height, null, 0, width);
        int[] original = init.image().getRGB(0, 0, width, height, null, 0, width);
        int[] out = new int[painted.length];
        for (int p = 0; p < out.length; p++) {
            float w = weights[p];
            out[p] = mix(painted[p] >> 16, original[p] >> 16, w) << 16
                    | mix(painted[p] >> 8, original[p] >> 8, w) << 8
                    | mix(painted[p], original[p], w);
        }
        BufferedImage composite = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        composite.setRGB(0, 0, width, height, out, 0, width);
        return composite;
    }

    private static int mix(int painted, int original, float weight) {
        return Math.round((painted & 0xff) * weight + (original & 0xff) * (1 - weight));
    }
}
