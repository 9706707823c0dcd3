package io.stipple.pipeline;

import java.util.List;

/**
 * A validated request with every default resolved: exactly what the pipeline will run. Image {@code i}
 * uses {@code seeds.get(i)}.
 */
public record GenerationRequest(
        String prompt,
        String negativePrompt,
        int width,
        int height,
        int steps,
        double guidanceScale,
        String sampler,
        double eta,
        List<Long> seeds) {

    public GenerationRequest {
        seeds = List.copyOf(seeds);
    }

    /** diffusers' rule: guidance only above 1; at or below it the unconditional pass is skipped. */
    public boolean guided() {
        return guidanceScale > 1.0;
    }

    public int imageCount() {
        return seeds.size();
    }
}
