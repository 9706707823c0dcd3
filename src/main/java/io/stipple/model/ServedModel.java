package io.stipple.model;

import io.stipple.sampling.SamplerCatalog;

/**
 * A model the server answers requests for: its loaded pipeline and the samplers built on its schedule.
 *
 * @param source where it was loaded from, for operators: "embedded" or the directory
 */
public record ServedModel(String name, LoadedPipeline pipeline, SamplerCatalog samplers, String source) {

    public PipelineSpec spec() {
        return pipeline.spec();
    }
}
