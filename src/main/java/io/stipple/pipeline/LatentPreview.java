package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineSpec;
import io.stipple.sampling.SeededNoise;
import java.awt.image.BufferedImage;

/**
 * A cheap look at a latent mid-denoising: each latent pixel's channels mapped to RGB by one affine map,
 * fitted once at startup by least squares against what the VAE decoder makes of random latents (the
 * decoded image averaged over each f×f block). Costs C·3 multiply-adds per latent pixel instead of a
 * decoder call.
 */
public final class LatentPreview {
    private static final int FIT_SAMPLES = 8;
    private static final double RIDGE = 1e-4;

    /** [3][C + 1]: per output channel, the weight of each latent channel, then the bias. */
    private final double[][] weights;

    LatentPreview(double[][] weights) {
        this.weights = weights;
    }

    public static LatentPreview fit(LoadedPipeline models) {
        PipelineSpec spec = models.spec();
        int channels = spec.latentChannels();
        int factor = spec.vaeScaleFactor();
        // A small size fits as well as the default one: the map is per latent pixel, and 8 samples of 8×8
        // latents are hundreds of pixels for 3 × (C + 1) weights.
        int height = spec.probeSide() / factor;
        int width = spec.probeSide() / factor;
        try (NDManager manager = NDManager.newBaseManager(models.device())) {
            Shape shape = new Shape(FIT_SAMPLES, channels, height, width);
            NDArray latents = new SeededNoise(0).standardNormal(manager, shape);
            NDArray decoded = models.vaeDecoder().forward(new NDList(latents.div(spec.scalingFactor()))).head();
            NDArray pooled = decoded.div(2).add(0.5)
                    .reshape(FIT_SAMPLES, 3, height, factor, width, factor).mean(new int[] {5}).mean(new int[] {3});
            return new LatentPreview(solve(latents.toFloatArray(), pooled.toFloatArray(), channels, height * width));
        }
    }

    /** Ridge least squares of rgb ≈ W·[z; 1] over every latent pixel of every sample. */
    private static double[][] solve(float[] latents, float[] rgb, int channels, int pixels) {
        int n = channels + 1;
        double[][] gram = new double[n][n];
        double[][] rhs = new double[3][n];
        double[] features = new double[n];
        for (int sample = 0; sample < FIT_SAMPLES; sample++) {
            for (int p = 0; p < pixels; p++) {
                for (int c = 0; c < channels; c++) {
                    features[c] = latents[(sample * channels + c) * pixels + p];
                }
                features[channels] = 1.0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        gram[i][j] += features[i] * features[j];
                    }
                    for (int k = 0; k < 3; k++) {
                        rhs[k][i] += features[i] * rgb[(sample * 3 + k) * pixels + p];
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            gram[i][i] += RIDGE * FIT_SAMPLES * pixels;
        }
        double[][] weights = new double[3][];
        for (int k = 0; k < 3; k++) {
            weights[k] = gaussianElimination(gram, rhs[k]);
        }
        return weights;
    }

    private static double[] gaussianElimination(double[][] matrix, double[] vector) {
        int n = vector.length;
        double[][] a = new double[n][];
        double[] b = vector.clone();
        for (int i = 0; i < n; i++) {
            a[i] = matrix[i].clone();
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int row = col + 1; row < n; row++) {
                if (Math.abs(a[row][col]) > Math.abs(a[pivot][col])) {
                    pivot = row;
                }
            }
            double[] swapRow = a[col];
            a[col] = a[pivot];
            a[pivot] = swapRow;
            double swapValue = b[col];
            b[col] = b[pivot];
            b[pivot] = swapValue;
            for (int row = col + 1; row < n; row++) {
                double factor = a[row][col] / a[col][col];
                for (int k = col; k < n; k++) {
                    a[row][k] -= factor * a[col][k];
                }
                b[row] -= factor * b[col];
            }
        }
        double[] x = new double[n];
        for (int row = n - 1; row >= 0; row--) {
            double sum = b[row];
            for (int k = row + 1; k < n; k++) {
                sum -= a[row][k] * x[k];
            }
            x[row] = sum / a[row][row];
        }
        return x;
    }

    /**
     * The preview of one latent given as float32 [C, h, w] values, scaled up by pixel repetition to
     * {@code targetWidth} (at least one pixel per latent pixel).
     */
    public BufferedImage render(float[] latent, int height, int width, int targetWidth) {
        int channels = weights[0].length - 1;
        int scale = Math.max(1, targetWidth / width);
        BufferedImage image = new BufferedImage(width * scale, height * scale, BufferedImage.TYPE_INT_RGB);
        int pixels = height * width;
        for (int p = 0; p < pixels; p++) {
            int rgb = 0;
            for (int k = 0; k < 3; k++) {
                double value = weights[k][channels];
                for (int c = 0; c < channels; c++) {
                    value += weights[k][c] * latent[c * pixels + p];
                }
                rgb = (rgb << 8) | (int) Math.round(Math.min(Math.max(value, 0), 1) * 255);
            }
            int y = p / width;
            int x = p % width;
            for (int dy = 0; dy < scale; dy++) {
                for (int dx = 0; dx < scale; dx++) {
                    image.setRGB(x * scale + dx, y * scale + dy, rgb);
                }
            }
        }
        return image;
    }
}
