package io.stipple.api.openai;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.core.MethodParameter;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;

/**
 * Errors on OpenAI's paths in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}, with the
 * status and headers (Retry-After, WWW-Authenticate, RateLimit) that the rest of the API gives: every problem
 * the application answers with, wherever it was raised (a filter's 401 or 413 too), is rewritten here on the
 * way out, so that both shapes come from one set of rules.
 */
@RestControllerAdvice
class OpenAiErrors implements ResponseBodyAdvice<Object> {
    /** Stipple's field names as OpenAI's parameters. */
    private static final Map<String, String> PARAMETERS = Map.of("num_images", "n", "width", "size", "height", "size",
            "steps", "quality", "init_image", "image", "mask_image", "mask", "strength", "image");

    @Override
    public boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
        return true;
    }

    @Override
    public Object beforeBodyWrite(Object body, MethodParameter returnType, MediaType contentType,
            Class<? extends HttpMessageConverter<?>> converterType, ServerHttpRequest request,
            ServerHttpResponse response) {
        if (!(body instanceof ProblemDetail problem) || !request.getURI().getPath().startsWith(OpenAiImagesController.PATH)) {
            return body;
        }
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
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
