package io.stipple.pipeline;

import io.stipple.model.PipelineSpec;
import java.util.Optional;

/**
 * The guidance scale as a guidance-embedded U-Net takes it: diffusers' {@code get_guidance_scale_embedding} of
 * w = scale − 1 (LatentConsistencyModelPipeline), sines then cosines of 1000·w at {@code dim / 2} frequencies
 * from 1 down to 1/10000. Computed in float32 step by step as torch does, since the arguments reach tens of
 * thousands of radians, where a double-precision shortcut would drift from the embedding the model was trained on.
 * Not bit-exact: torch's vectorised {@code exp} rounds some frequencies one float32 ulp away from the correctly
 * rounded value this takes, which moves those sines and cosines by up to about 1e-3 (ExportedGoldensTest bounds it).
 */
public record GuidanceEmbedding(int dim) {

    public GuidanceEmbedding {
        if (dim < 4) {
            throw new IllegalArgumentException("time_cond_proj_dim must be at least 4, got " + dim);
        }
    }

    /** The embedding a pipeline's U-Net takes, if it is guidance-embedded. */
    public static Optional<GuidanceEmbedding> of(PipelineSpec spec) {
        return spec.guidanceEmbedded() ? Optional.of(new GuidanceEmbedding(spec.timeCondProjDim())) : Optional.empty();
    }

    /** Writes the embedding of {@code scale} into {@code out} at {@code offset}, {@code dim} floats. */
    public void write(double scale, float[] out, int offset) {
        int half = dim / 2;
        float w = (float) (scale - 1.0) * 1000.0f;
        float logStep = (float) Math.log(10000.0f) / (half - 1);
        for (int i = 0; i < half; i++) {
            float frequency = (float) Math.exp(i * -logStep);
            float argument = w * frequency;
            out[offset + i] = (float) Math.sin(argument);
            out[offset + half + i] = (float) Math.cos(argument);
        }
        if (dim % 2 == 1) {
            out[offset + dim - 1] = 0f;
        }
    }
}
