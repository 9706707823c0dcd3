package io.stipple.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.stipple.config.StippleProperties;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineSpec;
import io.stipple.sampling.SamplerCatalog;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/model}: what is being served, its defaults and the limits a request must respect. */
@RestController
@Tag(name = "Model")
public class ModelController {
    private final ModelInfo info;

    public ModelController(LoadedPipeline models, RequestValidator validator, StippleProperties properties) {
        PipelineSpec spec = models.spec();
        StippleProperties.Limits limits = properties.limits();
        this.info = new ModelInfo(spec.name(), spec.description(), models.device().isGpu() ? "gpu:" + models.device().getDeviceId() : "cpu",
                new Defaults(spec.defaultWidth(), spec.defaultHeight(), spec.stepsOrDefault(),
                        spec.guidanceScaleOrDefault(), spec.samplerOrDefault(), 0.0, 1),
                new Limits(spec.sizeMultipleOrDefault(), limits.maxPixels(), validator.maxSteps(),
                        RequestValidator.MAX_GUIDANCE_SCALE, limits.maxImages(), limits.maxPromptLength()),
                SamplerCatalog.NAMES);
    }

    @Operation(summary = "The model served, its request defaults and limits, and the samplers")
    @GetMapping(path = "/v1/model", produces = MediaType.APPLICATION_JSON_VALUE)
    public ModelInfo model() {
        return info;
    }

    public record ModelInfo(
            @JsonProperty("name") String name,
            @JsonProperty("description") String description,
            @JsonProperty("device") String device,
            @JsonProperty("defaults") Defaults defaults,
            @JsonProperty("limits") Limits limits,
            @JsonProperty("samplers") List<String> samplers) {
    }

    @Schema(name = "ModelDefaults")
    public record Defaults(
            @JsonProperty("width") int width,
            @JsonProperty("height") int height,
            @JsonProperty("steps") int steps,
            @JsonProperty("guidance_scale") double guidanceScale,
            @JsonProperty("sampler") String sampler,
            @JsonProperty("eta") double eta,
            @JsonProperty("num_images") int numImages) {
    }

    @Schema(name = "ModelLimits")
    public record Limits(
            @JsonProperty("size_multiple") int sizeMultiple,
            @JsonProperty("max_pixels") long maxPixels,
            @JsonProperty("max_steps") int maxSteps,
            @JsonProperty("max_guidance_scale") double maxGuidanceScale,
            @JsonProperty("max_images") int maxImages,
            @JsonProperty("max_prompt_length") int maxPromptLength) {
    }
}
