package io.stipple.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.stipple.model.ModelCapabilities;
import io.stipple.model.ServedModel;
import io.stipple.model.ServedModels;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** What is being served: every model's defaults and the limits a request for it must respect. */
@RestController
@Tag(name = "Model")
public class ModelController {
    private final Map<String, ModelInfo> byName = new LinkedHashMap<>();
    private final ModelList list;

    public ModelController(ServedModels models) {
        for (ServedModel model : models.all()) {
            ModelCapabilities can = model.capabilities();
            ModelCapabilities.Defaults defaults = can.defaults();
            ModelCapabilities.Limits limits = can.limits();
            byName.put(model.name(), new ModelInfo(can.name(), can.description(),
                    model.pipeline().device().isGpu() ? "gpu:" + model.pipeline().device().getDeviceId() : "cpu",
                    model == models.defaultModel(), can.guidanceEmbedded(), can.imageToImage(), can.sizeConditioning(),
                    new Defaults(defaults.width(), defaults.height(), defaults.steps(), defaults.guidanceScale(),
                            defaults.sampler(), defaults.eta(), defaults.numImages()),
                    new Limits(limits.sizeMultiple(), limits.maxPixels(), limits.maxSteps(), limits.maxGuidanceScale(),
                            limits.maxImages(), limits.maxPromptLength(), limits.maxClipSkip()),
                    can.samplerNames()));
        }
        this.list = new ModelList(models.defaultModel().name(), List.copyOf(byName.values()));
    }

    @Operation(summary = "The default model: what a request that names no model gets")
    @GetMapping(path = "/v1/model", produces = MediaType.APPLICATION_JSON_VALUE)
    public ModelInfo model() {
        return byName.get(list.defaultModel());
    }

    @Operation(summary = "Every served model, with its request defaults and limits, and the samplers")
    @GetMapping(path = "/v1/models", produces = MediaType.APPLICATION_JSON_VALUE)
    public ModelList models() {
        return list;
    }

    @Operation(summary = "One served model, by the name a request gives in its model field")
    @GetMapping(path = "/v1/models/{name}", produces = MediaType.APPLICATION_JSON_VALUE)
    public ModelInfo model(@PathVariable String name) {
        ModelInfo info = byName.get(name);
        if (info == null) {
            throw ResourceProblemException.notFound("No model named \"" + name + "\"; served: "
                    + String.join(", ", byName.keySet()));
        }
        return info;
    }

    @Schema(name = "Models")
    public record ModelList(
            @JsonProperty("default") String defaultModel,
            @JsonProperty("models") List<ModelInfo> models) {
    }

    /**
     * @param guidanceEmbedded the model takes the guidance scale as an input (an LCM): one U-Net row per image
     *                         whatever the scale, and no negative prompt
     * @param imageToImage     it has a VAE encoder, so requests may give an init_image
     * @param sizeConditioning it takes SDXL's original_size, crops_coords_top_left and target_size
     */
    public record ModelInfo(
            @JsonProperty("name") String name,
            @JsonProperty("description") String description,
            @JsonProperty("device") String device,
            @JsonProperty("default") boolean isDefault,
            @JsonProperty("guidance_embedded") boolean guidanceEmbedded,
            @JsonProperty("image_to_image") boolean imageToImage,
            @JsonProperty("size_conditioning") boolean sizeConditioning,
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
            @JsonProperty("max_prompt_length") int maxPromptLength,
            @JsonProperty("max_clip_skip") int maxClipSkip) {
    }
}
