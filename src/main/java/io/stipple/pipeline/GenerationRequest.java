package io.stipple.pipeline;

import io.stipple.sampling.Sampler;
import java.util.List;

/**
 * A validated request with every default resolved: exactly what the pipeline will run. Image {@code i}
 * uses {@code seeds.get(i)}. {@code init} is null for text-to-image, else the image to start from.
 *
 * @param model          the name of the served model that runs it
 * @param clipSkip       the prompt's hidden states come from this many layers before the text encoders' usual ones
 * @param sizes          SDXL's micro-conditioning (its time ids); null for a model without it
 * @param zeroNegative   the unconditional row is all zeros instead of the encoded negative prompt: an SDXL request
 *                       without a negative prompt (diffusers' {@code force_zeros_for_empty_prompt})
 */
public record GenerationRequest(
        String model,
        String prompt,
        String negativePrompt,
        int width,
        int height,
        int steps,
        double guidanceScale,
        Guidance guidance,
        String sampler,
        double eta,
        List<Long> seeds,
        InitImage init,
        int clipSkip,
        SizeConditioning sizes,
        boolean zeroNegative) {

    public GenerationRequest {
        seeds = List.copyOf(seeds);
    }

    /** A request for a model without SDXL's conditions, at the text encoders' usual layer. */
    public GenerationRequest(String model, String prompt, String negativePrompt, int width, int height, int steps,
            double guidanceScale, Guidance guidance, String sampler, double eta, List<Long> seeds, InitImage init) {
        this(model, prompt, negativePrompt, width, height, steps, guidanceScale, guidance, sampler, eta, seeds, init, 0,
                null, false);
    }

    /** Whether each image needs the negative prompt's row beside its own. */
    public boolean classifierFree() {
        return guidance == Guidance.CLASSIFIER_FREE;
    }

    public int imageCount() {
        return seeds.size();
    }

    /** U-Net rows per step. */
    public int rows() {
        return imageCount() * guidance.rows();
    }

    /**
     * What this request costs the model, in work units: latent pixels × steps walked × U-Net rows. A U-Net call's
     * time grows about linearly in each, so a 1024×1024, 150-step, 8-image request counts for what it costs,
     * hundreds of default ones, where a count of requests would call it one.
     */
    public long workUnits(int vaeScaleFactor, int walkedSteps) {
        return (long) (width / vaeScaleFactor) * (height / vaeScaleFactor) * walkedSteps * rows();
    }

    /** The steps that run: image-to-image walks only part of them, which part the sampler decides. */
    public int walkedSteps(Sampler sampler) {
        return sampler.walkedSteps(steps, init == null ? 1.0 : init.strength());
    }
}
