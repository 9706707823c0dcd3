package io.stipple.api.openai;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The body of OpenAI's {@code POST /v1/images/generations}, every documented parameter, so that a client
 * sending any of them is understood (docs/api.md, "OpenAI Images API", says which are used and how).
 */
public record ImageGenerationBody(
        @JsonProperty("prompt") String prompt,
        @JsonProperty("model") String model,
        @JsonProperty("n") Integer n,
        @JsonProperty("size") String size,
        @JsonProperty("quality") String quality,
        @JsonProperty("response_format") String responseFormat,
        @JsonProperty("output_format") String outputFormat,
        @JsonProperty("output_compression") Integer outputCompression,
        @JsonProperty("style") String style,
        @JsonProperty("background") String background,
        @JsonProperty("moderation") String moderation,
        @JsonProperty("user") String user) {
}
