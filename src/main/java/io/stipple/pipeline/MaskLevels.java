package io.stipple.pipeline;

import java.awt.image.BufferedImage;

/**
 * How a mask image's pixels read: their luminance from 0 (keep) to 1 (repaint), and at the end, where
 * the decoded image meets the original, a feathered edge so that no seam shows.
 */
final class MaskLevels {
    /** Pixels over which the edge between repainted and kept fades. */
    static final int FEATHER_RADIUS = 2;

    private MaskLevels() {
    }

    static double luminance(int rgb) {
        return (0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff)) / 255.0;
    }

    static boolean repaint(int rgb) {
        return luminance(rgb) >= 0.5;
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
