package io.stipple.pipeline;

import java.util.List;

/** What a request produced, with the parameters it actually ran with. */
public record GenerationResult(GenerationRequest request, List<GeneratedImage> images, StageTimings timings) {
}
