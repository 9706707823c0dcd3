package io.stipple.reliability;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** What the served model accepts, as {@code GET /v1/model} says: the fuzzer's valid requests follow it. */
public record ModelRules(int sizeMultiple, int maxSteps, int maxImages, int maxPromptLength, List<String> samplers) {

    public static ModelRules of(JsonNode model) {
        List<String> samplers = new ArrayList<>();
        model.get("samplers").forEach(name -> samplers.add(name.asString()));
        JsonNode limits = model.get("limits");
        return new ModelRules(limits.get("size_multiple").asInt(), limits.get("max_steps").asInt(),
                limits.get("max_images").asInt(), limits.get("max_prompt_length").asInt(), List.copyOf(samplers));
    }
}
