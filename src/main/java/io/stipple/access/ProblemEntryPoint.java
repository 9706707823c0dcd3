package io.stipple.access;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.web.servlet.HandlerExceptionResolver;

/**
 * Answers a request without a valid credential the way every other error is answered: through the API's
 * problem responses, a 401 problem with its {@code WWW-Authenticate} challenge.
 */
final class ProblemEntryPoint implements AuthenticationEntryPoint {
    private final HandlerExceptionResolver resolver;

    ProblemEntryPoint(HandlerExceptionResolver resolver) {
        this.resolver = resolver;
    }

    @Override
    public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException e) {
        resolver.resolveException(request, response, null, e);
    }
}
