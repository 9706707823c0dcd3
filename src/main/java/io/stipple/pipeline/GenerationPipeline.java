package io.stipple.pipeline;

import ai.djl.ndarray.NDManager;
import io.stipple.model.LoadedPipeline;
import io.stipple.sampling.SamplerCatalog;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Text-to-image for one request, top to bottom as in Algorithm 2 of the DDPM paper: encode the text,
 * draw x_T, step down the sampler's timesteps with the guided U-Net, decode x_0, encode PNGs. The
 * serving engine runs the same {@link LatentDiffusion} passes, batched across requests, and must give what
 * this gives. Not thread-safe: the modules belong to the one thread that calls it.
 */
public final class GenerationPipeline {
    private final LatentDiffusion diffusion;

    public GenerationPipeline(LoadedPipeline models) {
        this.diffusion = new LatentDiffusion(models, new SamplerCatalog(models.directory().scheduler()));
    }

    public GenerationResult generate(GenerationRequest request, double queueMillis) {
        try (NDManager manager = NDManager.newBaseManager(diffusion.models().device())) {
            long start = System.nanoTime();
            TextConditioning text = diffusion.encodePrompts(List.of(request), List.of(manager)).get(0);
            long encoded = System.nanoTime();

            List<DenoisingImage> images = diffusion.startImages(request, text, manager);
            while (!images.get(0).trajectory().finished()) {
                diffusion.step(images);
            }
            long denoised = System.nanoTime();

            List<BufferedImage> pixels = diffusion.decode(images);
            long decoded = System.nanoTime();

            List<GeneratedImage> results = LatentDiffusion.results(request, pixels);
            long encodedPng = System.nanoTime();
            return new GenerationResult(request, results, new StageTimings(queueMillis, millis(start, encoded),
                    millis(encoded, denoised), millis(denoised, decoded), millis(decoded, encodedPng)));
        }
    }

    private static double millis(long from, long to) {
        return (to - from) / 1e6;
    }
}
