package io.stipple.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The JSON body of {@code POST /generate} and {@code POST /v1/jobs}, exactly as sent: absent fields are null. */
public record GenerateRequestBody(
        @JsonProperty("prompt") String prompt,
        @JsonProperty("negative_prompt") String negativePrompt,
        @JsonProperty("width") Integer width,
        @JsonProperty("height") Integer height,
        @JsonProperty("steps") Integer steps,
        @JsonProperty("guidance_scale") Double guidanceScale,
        @JsonProperty("sampler") String sampler,
        @JsonProperty("eta") Double eta,
        @JsonProperty("seed") Long seed,
        @JsonProperty("num_images") Integer numImages,
        @JsonProperty("init_image") String initImage,
        @JsonProperty("strength") Double strength,
        @JsonProperty("mask_image") String maskImage,
        @JsonProperty("model") String model) {
}
