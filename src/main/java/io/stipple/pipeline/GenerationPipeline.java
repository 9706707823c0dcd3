package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineSpec;
import io.stipple.sampling.Sampler;
import io.stipple.sampling.SamplerCatalog;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Text-to-image for one request, top to bottom as in Algorithm 2 of the DDPM paper: encode the text,
 * draw x_T, step down the sampler's timesteps with the guided U-Net, decode x_0, encode PNGs. The
 * serving engine batches the same {@link GuidedStep} across requests and must give what this gives.
 * Not thread-safe: the modules belong to the one thread that calls it.
 */
public final class GenerationPipeline {
    private final LoadedPipeline models;
    private final SamplerCatalog samplers;
    private final PromptEncoder prompts;
    private final GuidedStep guidedStep;
    private final ImageDecoder decoder;
    /** Null for a pipeline without {@code vae_encoder.pt}, whose requests never carry an init image. */
    private final ImageEncoder encoder;

    public GenerationPipeline(LoadedPipeline models) {
        this.models = models;
        this.samplers = new SamplerCatalog(models.directory().scheduler());
        this.prompts = new PromptEncoder(models);
        this.guidedStep = new GuidedStep(models.unet(), GuidanceEmbedding.of(models.spec()));
        this.decoder = new ImageDecoder(models.vaeDecoder(), models.spec().scalingFactor());
        this.encoder = models.vaeEncoder().map(vae -> new ImageEncoder(vae, models.spec().scalingFactor())).orElse(null);
    }

    public SamplerCatalog samplers() {
        return samplers;
    }

    public GenerationResult generate(GenerationRequest request, double queueMillis) {
        PipelineSpec spec = models.spec();
        Shape latentShape = new Shape(1, spec.latentChannels(),
                request.height() / spec.vaeScaleFactor(), request.width() / spec.vaeScaleFactor());
        try (NDManager manager = NDManager.newBaseManager(models.device())) {
            long start = System.nanoTime();
            NDArray text = request.classifierFree()
                    ? prompts.encode(manager, List.of(request.negativePrompt(), request.prompt()))
                    : prompts.encode(manager, List.of(request.prompt()));
            NDArray conditional = request.classifierFree() ? text.get("1:2") : text;
            NDArray unconditional = request.classifierFree() ? text.get("0:1") : null;
            long encoded = System.nanoTime();

            Sampler sampler = samplers.create(request.sampler(), request.eta());
            ImageStart from = ImageStart.of(request, spec, encoder, manager);
            List<DenoisingImage> images = DenoisingImage.of(request, sampler, conditional, unconditional, manager,
                    latentShape, from);
            while (!images.get(0).trajectory().finished()) {
                guidedStep.run(images);
            }
            long denoised = System.nanoTime();

            List<BufferedImage> pixels = decoder.decode(images.stream().map(DenoisingImage::latent).toList());
            long decoded = System.nanoTime();

            List<GeneratedImage> results = new ArrayList<>();
            for (int i = 0; i < pixels.size(); i++) {
                results.add(new GeneratedImage(request.seeds().get(i), request.width(), request.height(),
                        PngEncoder.encode(finalPixels(request, pixels.get(i)))));
            }
            long encodedPng = System.nanoTime();
            return new GenerationResult(request, results, new StageTimings(queueMillis, millis(start, encoded),
                    millis(encoded, denoised), millis(denoised, decoded), millis(decoded, encodedPng)));
        }
    }

    /** What the user gets: the decoded image, or for inpainting the original outside the mask. */
    public static BufferedImage finalPixels(GenerationRequest request, BufferedImage decoded) {
        return request.init() != null && request.init().inpainting() ? InpaintComposite.apply(decoded, request.init())
                : decoded;
    }

    private static double millis(long from, long to) {
        return (to - from) / 1e6;
    }
}
