package io.stipple.api.a1111;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * The fields of A1111's {@code txt2img} and {@code img2img} bodies that Stipple uses. A1111 clients send many
 * more (hires fix, face restoration, scripts, saving; docs/api.md lists them): like A1111 itself, which reads
 * bodies with pydantic's defaults, they are accepted and ignored. Values of the fields used are checked.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerationBody(
        @JsonProperty("prompt") String prompt,
        @JsonProperty("negative_prompt") String negativePrompt,
        @JsonProperty("steps") Integer steps,
        @JsonProperty("cfg_scale") Double cfgScale,
        @JsonProperty("sampler_name") String samplerName,
        @JsonProperty("sampler_index") String samplerIndex,
        @JsonProperty("scheduler") String scheduler,
        @JsonProperty("seed") Long seed,
        @JsonProperty("width") Integer width,
        @JsonProperty("height") Integer height,
        @JsonProperty("batch_size") Integer batchSize,
        @JsonProperty("n_iter") Integer nIter,
        @JsonProperty("eta") Double eta,
        @JsonProperty("override_settings") Map<String, Object> overrideSettings,
        @JsonProperty("init_images") List<String> initImages,
        @JsonProperty("denoising_strength") Double denoisingStrength,
        @JsonProperty("mask") String mask,
        @JsonProperty("inpainting_mask_invert") Integer inpaintingMaskInvert,
        @JsonProperty("inpainting_fill") Integer inpaintingFill,
        @JsonProperty("mask_blur") Integer maskBlur) {

    /** {@code sampler_name}, or the older {@code sampler_index} that some clients still send. */
    String sampler() {
        return samplerName != null ? samplerName : samplerIndex;
    }
}
