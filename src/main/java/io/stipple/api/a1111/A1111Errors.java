package io.stipple.api.a1111;

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
 * Errors on A1111's paths in the shape A1111's API middleware gives them, {@code {"error", "detail", "body",
 * "errors"}}, with the status and headers of the rest of the API: every problem answer on those paths,
 * wherever it was raised, is rewritten here on the way out.
 */
@RestControllerAdvice
class A1111Errors implements ResponseBodyAdvice<Object> {

    @Override
    public boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
        return true;
    }

    @Override
    public Object beforeBodyWrite(Object body, MethodParameter returnType, MediaType contentType,
            Class<? extends HttpMessageConverter<?>> converterType, ServerHttpRequest request,
            ServerHttpResponse response) {
        if (!(body instanceof ProblemDetail problem) || !request.getURI().getPath().startsWith(A1111Controller.PATH)) {
            return body;
        }
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("error", problem.getTitle());
        error.put("detail", problem.getDetail());
        error.put("body", "");
        error.put("errors", problem.getDetail());
        return error;
    }
}
