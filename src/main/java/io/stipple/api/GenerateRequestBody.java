package io.stipple.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

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
        @JsonProperty("model") String model,
        @JsonProperty("clip_skip") Integer clipSkip,
        @JsonProperty("original_size") List<Integer> originalSize,
        @JsonProperty("crops_coords_top_left") List<Integer> cropsCoordsTopLeft,
        @JsonProperty("target_size") List<Integer> targetSize) {

    /** A body to fill field by field, as the compatibility adapters translate their own requests. */
    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    /** Fields left unset stay absent (null), as in a JSON body that leaves them out. */
    public static final class Builder {
        private final String prompt;
        private String negativePrompt;
        private Integer width;
        private Integer height;
        private Integer steps;
        private Double guidanceScale;
        private String sampler;
        private Double eta;
        private Long seed;
        private Integer numImages;
        private Double strength;
        private String model;
        private Integer clipSkip;

        private Builder(String prompt) {
            this.prompt = prompt;
        }

        public Builder negativePrompt(String negativePrompt) {
            this.negativePrompt = negativePrompt;
            return this;
        }

        public Builder size(Integer width, Integer height) {
            this.width = width;
            this.height = height;
            return this;
        }

        public Builder steps(Integer steps) {
            this.steps = steps;
            return this;
        }

        public Builder guidanceScale(Double guidanceScale) {
            this.guidanceScale = guidanceScale;
            return this;
        }

        public Builder sampler(String sampler, Double eta) {
            this.sampler = sampler;
            this.eta = eta;
            return this;
        }

        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder numImages(Integer numImages) {
            this.numImages = numImages;
            return this;
        }

        /** How far an image given beside the body (an uploaded file) goes back towards noise. */
        public Builder strength(Double strength) {
            this.strength = strength;
            return this;
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        public Builder clipSkip(Integer clipSkip) {
            this.clipSkip = clipSkip;
            return this;
        }

        public GenerateRequestBody build() {
            return new GenerateRequestBody(prompt, negativePrompt, width, height, steps, guidanceScale, sampler, eta,
                    seed, numImages, null, strength, null, model, clipSkip, null, null, null);
        }
    }
}
