package io.stipple.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.TorchScriptModule;
import io.stipple.pipeline.ImageDecoder;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How faithfully the model's VAE round-trips held-out images: the committed dataset sample
 * ({@link ShapesSample}, seed 2025, which training never sees), encoded by {@code vae_encoder.pt} to the
 * latent mean and decoded to 8-bit pixels by the server's own {@link ImageDecoder}. It caps what the
 * U-Net can draw, so the evaluation reports it next to the judged accuracy.
 */
final class VaeReconstruction {
    private static final int BATCH = 16;

    /** PSNR in dB of the mean squared error over all pixels, and the mean of the per-image PSNRs. */
    record Psnr(int images, double ofMeanError, double meanOverImages) {
    }

    private VaeReconstruction() {
    }

    /** Empty when the pipeline has no (optional) {@code vae_encoder.pt}. */
    static Optional<Psnr> measure(LoadedPipeline models) {
        Path directory = models.directory().root();
        if (!Files.exists(directory.resolve(PipelineDirectory.VAE_ENCODER))) {
            return Optional.empty();
        }
        double scalingFactor = models.spec().scalingFactor();
        ImageDecoder decoder = new ImageDecoder(models.vaeDecoder(), scalingFactor);
        List<BufferedImage> originals = ShapesSample.load().stream().map(ShapesSample.Item::image).toList();
        List<Double> imageErrors = new ArrayList<>();
        try (TorchScriptModule encoder = TorchScriptModule.load(directory, PipelineDirectory.VAE_ENCODER, models.device());
             NDManager manager = NDManager.newBaseManager(models.device())) {
            for (int start = 0; start < originals.size(); start += BATCH) {
                List<BufferedImage> batch = originals.subList(start, Math.min(start + BATCH, originals.size()));
                try (NDManager step = manager.newSubManager()) {
                    NDArray mean = encoder.forward(new NDList(pixels(step, batch))).head();
                    List<BufferedImage> decoded = decoder.decode(List.of(mean.mul(scalingFactor)));
                    for (int i = 0; i < batch.size(); i++) {
                        imageErrors.add(meanSquaredError(batch.get(i), decoded.get(i)));
                    }
                }
            }
        }
        double meanError = imageErrors.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double meanPsnr = imageErrors.stream().mapToDouble(VaeReconstruction::psnr).average().orElseThrow();
        return Optional.of(new Psnr(imageErrors.size(), psnr(meanError), meanPsnr));
    }

    /** Images as the encoder takes them: {@code [B, 3, H, W]} in [-1, 1]. */
    private static NDArray pixels(NDManager manager, List<BufferedImage> images) {
        int width = images.get(0).getWidth();
        int height = images.get(0).getHeight();
        int plane = width * height;
        float[] values = new float[images.size() * 3 * plane];
        for (int n = 0; n < images.size(); n++) {
            int[] rgb = images.get(n).getRGB(0, 0, width, height, null, 0, width);
            for (int p = 0; p < plane; p++) {
                for (int c = 0; c < 3; c++) {
                    int channel = (rgb[p] >> (16 - 8 * c)) & 0xff;
                    values[(n * 3 + c) * plane + p] = channel / 127.5f - 1;
                }
            }
        }
        return manager.create(values, new Shape(images.size(), 3, height, width));
    }

    private static double meanSquaredError(BufferedImage a, BufferedImage b) {
        int width = a.getWidth();
        int height = a.getHeight();
        int[] x = a.getRGB(0, 0, width, height, null, 0, width);
        int[] y = b.getRGB(0, 0, width, height, null, 0, width);
        double sum = 0;
        for (int p = 0; p < x.length; p++) {
            for (int shift = 0; shift <= 16; shift += 8) {
                double d = ((x[p] >> shift) & 0xff) - ((y[p] >> shift) & 0xff);
                sum += d * d;
            }
        }
        return sum / (3.0 * x.length);
    }

    private static double psnr(double meanSquaredError) {
        return 10 * Math.log10(255.0 * 255.0 / meanSquaredError);
    }
}
