package io.stipple.model;

import io.stipple.sampling.SamplerCatalog;

/**
 * A model the server answers requests for: its loaded pipeline, the samplers built on its schedule, and what
 * requests for it may ask.
 *
 * @param source where it was loaded from, for operators: "embedded" or the directory
 */
public record ServedModel(String name, LoadedPipeline pipeline, SamplerCatalog samplers, String source,
        ModelCapabilities capabilities) {

    public PipelineSpec spec() {
        return pipeline.spec();
    }
}
