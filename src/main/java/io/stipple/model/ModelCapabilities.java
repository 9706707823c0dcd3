package io.stipple.model;

import io.stipple.config.StippleProperties;
import io.stipple.sampling.SamplerCatalog;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one served model can do and what a request for it may ask, decided once when the model is loaded: the
 * validator, {@code /v1/models}, the API description, the OpenAI and AUTOMATIC1111 adapters and the engine all
 * read it, so no rule about a model is restated anywhere else.
 *
 * @param guidanceEmbedded its U-Net takes the guidance scale as an input (an LCM): one row per image at any scale,
 *                         and no negative prompt, since there is no unconditional pass for one
 * @param imageToImage     it has a VAE encoder, so a request may start from an image
 * @param sizeConditioning it takes SDXL's micro-conditioning (original size, crop, target size as time ids)
 * @param zeroNegative     a request without a negative prompt gets all-zero negative conditioning (SDXL base)
 * @param samplers         the samplers it offers, by API name, each with the most steps a request may ask of it
 */
public record ModelCapabilities(
        String name,
        String description,
        boolean guidanceEmbedded,
        boolean imageToImage,
        boolean sizeConditioning,
        boolean zeroNegative,
        Defaults defaults,
        Limits limits,
        Map<String, Integer> samplers) {

    /** No guidance scale above this is offered: far past where images stop improving, on every model. */
    public static final double MAX_GUIDANCE_SCALE = 30.0;
    /** diffusers' image-to-image default. */
    public static final double DEFAULT_STRENGTH = 0.8;

    /** What a request that leaves a field out gets. */
    public record Defaults(int width, int height, int steps, double guidanceScale, String sampler, double eta,
            int numImages, double strength) {
    }

    /**
     * What a request may ask for at most.
     *
     * @param sizeMultiple widths and heights are positive multiples of it
     * @param maxSteps     the most steps of any sampler; {@link #maxSteps(String)} is a sampler's own
     * @param maxClipSkip  the most text-encoder layers a request may skip; 0 where the export cannot
     */
    public record Limits(int sizeMultiple, long maxPixels, int maxSteps, double maxGuidanceScale, int maxImages,
            int maxPromptLength, int maxClipSkip) {
    }

    public ModelCapabilities {
        samplers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(samplers));
    }

    /**
     * A loaded model's capabilities under the server's request limits: steps are capped by the limit and by the
     * model's training timesteps, and each sampler by what its schedule has (an LCM by its distillation's steps).
     */
    public static ModelCapabilities of(PipelineSpec spec, SamplerCatalog catalog, boolean hasVaeEncoder,
            StippleProperties.Limits limits) {
        int maxSteps = Math.min(limits.maxSteps(), catalog.trainTimesteps());
        Map<String, Integer> samplers = new LinkedHashMap<>();
        for (String sampler : SamplerCatalog.NAMES) {
            samplers.put(sampler, Math.min(maxSteps, catalog.maxSteps(sampler)));
        }
        return new ModelCapabilities(spec.name(), spec.description(), spec.guidanceEmbedded(), hasVaeEncoder,
                spec.textTimeConditioning(), spec.zeroesMissingNegativePrompt(),
                new Defaults(spec.defaultWidth(), spec.defaultHeight(), spec.stepsOrDefault(),
                        spec.guidanceScaleOrDefault(), spec.samplerOrDefault(), 0.0, 1, DEFAULT_STRENGTH),
                new Limits(spec.sizeMultipleOrDefault(), limits.maxPixels(), maxSteps, MAX_GUIDANCE_SCALE,
                        limits.maxImages(), limits.maxPromptLength(), spec.maxClipSkipOrDefault()),
                samplers);
    }

    public List<String> samplerNames() {
        return List.copyOf(samplers.keySet());
    }

    public boolean offers(String sampler) {
        return samplers.containsKey(sampler);
    }

    /** The most steps a request may ask of {@code sampler}, one the model offers. */
    public int maxSteps(String sampler) {
        return samplers.get(sampler);
    }

    /** A negative prompt needs an unconditional pass, which a guidance-embedded model does not make. */
    public boolean takesNegativePrompt() {
        return !guidanceEmbedded;
    }
}
