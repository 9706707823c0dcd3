package io.stipple.eval;

import java.awt.image.BufferedImage;
import java.util.SplittableRandom;

/** Makes dataset images look more like a decoder's: Gaussian blur, then per-channel Gaussian noise. */
final class Degrade {
    private Degrade() {
    }

    static BufferedImage blurAndNoise(BufferedImage image, double blurSigma, double noiseSigma,
                                      SplittableRandom random) {
        int width = image.getWidth();
        int height = image.getHeight();
        double[][] channels = new double[3][width * height];
        for (int i = 0; i < width * height; i++) {
            double[] rgb = Rgb.of(image.getRGB(i % width, i / width));
            for (int c = 0; c < 3; c++) {
                channels[c][i] = rgb[c];
            }
        }
        double[] kernel = gaussianKernel(blurSigma);
        for (int c = 0; c < 3; c++) {
            channels[c] = blur(blur(channels[c], width, height, kernel, 1, 0), width, height, kernel, 0, 1);
        }
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < width * height; i++) {
            int packed = 0;
            for (int c = 0; c < 3; c++) {
                long value = Math.round(channels[c][i] + noiseSigma * random.nextGaussian());
                packed = packed << 8 | (int) Math.min(Math.max(value, 0), 255);
            }
            out.setRGB(i % width, i / width, packed);
        }
        return out;
    }

    /** One pass along (stepX, stepY), repeating the edge pixels beyond the image. */
    private static double[] blur(double[] values, int width, int height, double[] kernel, int stepX, int stepY) {
        int radius = kernel.length / 2;
        double[] out = new double[values.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double sum = 0;
                for (int k = -radius; k <= radius; k++) {
                    int sx = Math.min(Math.max(x + k * stepX, 0), width - 1);
                    int sy = Math.min(Math.max(y + k * stepY, 0), height - 1);
                    sum += kernel[k + radius] * values[sy * width + sx];
                }
                out[y * width + x] = sum;
            }
        }
        return out;
    }

    private static double[] gaussianKernel(double sigma) {
        if (sigma == 0) {
            return new double[] {1};
        }
        int radius = (int) Math.ceil(3 * sigma);
        double[] kernel = new double[2 * radius + 1];
        double total = 0;
        for (int i = -radius; i <= radius; i++) {
            kernel[i + radius] = Math.exp(-i * i / (2 * sigma * sigma));
            total += kernel[i + radius];
        }
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] /= total;
        }
        return kernel;
    }
}
