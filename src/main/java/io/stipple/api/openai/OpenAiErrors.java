package io.stipple.api.openai;

import io.stipple.api.ErrorShape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.ProblemDetail;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** Errors on OpenAI's paths in OpenAI's shape: {@code {"error": {"message", "type", "param", "code"}}}. */
@RestControllerAdvice
class OpenAiErrors extends ErrorShape {
    /** Stipple's field names as OpenAI's parameters. */
    private static final Map<String, String> PARAMETERS = Map.of("num_images", "n", "width", "size", "height", "size",
            "steps", "quality", "init_image", "image", "mask_image", "mask", "strength", "image");

    OpenAiErrors() {
        super(OpenAiImagesController.PATH);
    }

    @Override
    protected Object shape(ProblemDetail problem) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", problem.getDetail());
        error.put("type", type(problem.getStatus()));
        Object field = problem.getProperties() == null ? null : problem.getProperties().get("field");
        error.put("param", field == null ? null : PARAMETERS.getOrDefault(field.toString(), field.toString()));
        error.put("code", code(problem.getStatus()));
        return Map.of("error", error);
    }

    private static String type(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }

    private static String code(int status) {
        return switch (status) {
            case 401 -> "invalid_api_key";
            case 429 -> "rate_limit_exceeded";
            default -> null;
        };
    }
}
