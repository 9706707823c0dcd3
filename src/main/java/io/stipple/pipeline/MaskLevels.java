package io.stipple.pipeline;

import java.awt.image.BufferedImage;

/**
 * How a mask image's pixels read: their luma from 0 (keep) to 1 (repaint), and at the end, where
 * the decoded image meets the original, a feathered edge so that no seam shows.
 */
final class MaskLevels {
    /** Pixels over which the edge between repainted and kept fades. */
    static final int FEATHER_RADIUS = 2;

    private MaskLevels() {
    }

    /**
     * Luma 0 to 255 as PIL's {@code convert("L")} computes it in fixed point (ITU-R 601-2, rounded), which is how
     * diffusers reads a mask; floating-point 0.299 R + 0.587 G + 0.114 B disagrees with it at the threshold.
     */
    static int luma(int rgb) {
        return (((rgb >> 16) & 0xff) * 19595 + ((rgb >> 8) & 0xff) * 38470 + (rgb & 0xff) * 7471 + 0x8000) >> 16;
    }

    /** diffusers' binarisation of the mask read as luma / 255: 1 from 0.5 up. */
    static boolean repaint(int rgb) {
        return luma(rgb) >= 128;
    }

    /** The binarised mask softened by two passes of a box blur, per pixel in [0, 1]. */
    static float[] feathered(BufferedImage mask) {
        int width = mask.getWidth();
        int height = mask.getHeight();
        float[] levels = new float[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                levels[y * width + x] = repaint(mask.getRGB(x, y)) ? 1f : 0f;
            }
        }
        for (int pass = 0; pass < 2; pass++) {
            levels = blur(levels, width, height, 1, 0);
            levels = blur(levels, width, height, 0, 1);
        }
        return levels;
    }

    private static float[] blur(float[] in, int width, int height, int dx, int dy) {
        float[] out = new float[in.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                float sum = 0;
                int count = 0;
                for (int k = -FEATHER_RADIUS; k <= FEATHER_RADIUS; k++) {
                    int sx = x + k * dx;
                    int sy = y + k * dy;
                    if (sx >= 0 && sx < width && sy >= 0 && sy < height) {
                        sum += in[sy * width + sx];
                        count++;
                    }
                }
                out[y * width + x] = sum / count;
            }
        }
        return out;
    }
}
