package io.stipple.pipeline;

import io.stipple.model.ModelCapabilities;

/** How a request's guidance scale reaches the U-Net, which decides how many U-Net rows each image costs. */
public enum Guidance {
    /** A scale of at most 1 on an ordinary U-Net: the conditional row alone (diffusers' rule). */
    NONE,
    /** Classifier-free guidance: an unconditional row beside the conditional one, ε = ε_u + w·(ε_c − ε_u). */
    CLASSIFIER_FREE,
    /** The U-Net was distilled to take the scale as an input ({@code timestep_cond}, as LCMs do): one row, any scale. */
    EMBEDDED;

    public static Guidance of(ModelCapabilities model, double scale) {
        return model.guidanceEmbedded() ? EMBEDDED : classifierFree(scale);
    }

    /** For an ordinary U-Net: classifier-free above 1, none at or below. */
    public static Guidance classifierFree(double scale) {
        return scale > 1.0 ? CLASSIFIER_FREE : NONE;
    }

    /** U-Net rows per image per step. */
    public int rows() {
        return this == CLASSIFIER_FREE ? 2 : 1;
    }
}
