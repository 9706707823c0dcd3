package io.stipple.api.openai;

import java.awt.image.BufferedImage;

/**
 * OpenAI marks the area to edit with transparency (alpha 0); Stipple's masks are white where to repaint.
 * Partly transparent pixels count as transparent from alpha below one half.
 */
final class MaskConvention {
    private MaskConvention() {
    }

    static boolean hasTransparency(BufferedImage image) {
        if (!image.getColorModel().hasAlpha()) {
            return false;
        }
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if (transparent(image.getRGB(x, y))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** White where {@code image} is transparent, black elsewhere; an opaque image gives an all-black mask. */
    static BufferedImage transparentToWhite(BufferedImage image) {
        BufferedImage mask = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
        boolean alpha = image.getColorModel().hasAlpha();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                mask.setRGB(x, y, alpha && transparent(image.getRGB(x, y)) ? 0xFFFFFF : 0);
            }
        }
        return mask;
    }

    private static boolean transparent(int argb) {
        return (argb >>> 24) < 128;
    }
}
