package io.stipple.api;

import jakarta.servlet.RequestDispatcher;
import org.springframework.core.MethodParameter;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;

/**
 * Rewrites the problems answered on a compatibility layer's paths into that API's own error shape, on the way
 * out, with their status and headers (Retry-After, WWW-Authenticate, RateLimit) kept: wherever a problem was
 * raised, a filter's 401 or 413 too, the rules stay those of the rest of the API and only the shape changes.
 */
public abstract class ErrorShape implements ResponseBodyAdvice<Object> {
    private final String pathPrefix;

    protected ErrorShape(String pathPrefix) {
        this.pathPrefix = pathPrefix;
    }

    /** The error body that stands for {@code problem} in this API. */
    protected abstract Object shape(ProblemDetail problem);

    /** The path the client asked for, also when the container forwarded its error to {@code /error}. */
    private static String path(ServerHttpRequest request) {
        if (request instanceof ServletServerHttpRequest servlet
                && servlet.getServletRequest().getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String original) {
            return original;
        }
        return request.getURI().getPath();
    }

    @Override
    public final boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
        return true;
    }

    @Override
    public final Object beforeBodyWrite(Object body, MethodParameter returnType, MediaType contentType,
            Class<? extends HttpMessageConverter<?>> converterType, ServerHttpRequest request,
            ServerHttpResponse response) {
        if (!(body instanceof ProblemDetail problem) || !path(request).startsWith(pathPrefix)) {
            return body;
        }
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        return shape(problem);
    }
}
