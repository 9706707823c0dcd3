package io.stipple.api.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** OpenAI's answer to image generations and edits: when, and each image as base64 or as a URL. */
public record ImagesResponse(@JsonProperty("created") long created, @JsonProperty("data") List<Image> data) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Image(@JsonProperty("b64_json") String b64Json, @JsonProperty("url") String url) {
    }
}
