package io.stipple.api;

import io.stipple.config.StippleProperties;
import java.util.List;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.web.servlet.config.annotation.CorsRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Lets pages from {@code stipple.cors.allowed-origins} call the API from a browser: {@code /generate}, the
 * jobs and the model ({@code /v1/**}) and the API description. A preflight or a cross-origin request from
 * any other origin is refused with 403; with no origins configured, the default, that is every origin.
 * Same-origin requests, and clients that send no {@code Origin} (curl, servers), are not affected.
 */
@Configuration(proxyBeanMethods = false)
class CrossOriginAccess implements WebMvcConfigurer {
    static final List<String> PATHS = List.of("/generate", "/v1/**", "/v3/api-docs/**");
    /** Headers the endpoints set that a page needs to read. */
    static final List<String> EXPOSED_HEADERS = List.of(
            GenerateController.SEED_HEADER, // PNG answers of /generate and /v1/jobs/{id}/images/{n}
            HttpHeaders.LOCATION,           // 202 of POST /v1/jobs
            HttpHeaders.RETRY_AFTER,        // 429 and 503 problems
            ProblemResponses.RATE_LIMIT_POLICY, ProblemResponses.RATE_LIMIT, // 429 of a client's quota
            HttpHeaders.WWW_AUTHENTICATE);  // 401 problems
    /**
     * {@code Last-Event-ID}: sent by an EventSource that reconnects to {@code /v1/jobs/{id}/events};
     * {@code Authorization} and {@code X-API-Key}: the credential when access control is on.
     */
    static final List<String> ALLOWED_HEADERS = List.of(HttpHeaders.CONTENT_TYPE, HttpHeaders.ACCEPT, "Last-Event-ID",
            HttpHeaders.AUTHORIZATION, "X-API-Key");
    static final List<HttpMethod> ALLOWED_METHODS = List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE,
            HttpMethod.OPTIONS);

    private final List<String> allowedOrigins;

    CrossOriginAccess(StippleProperties properties) {
        this.allowedOrigins = properties.cors().allowedOrigins();
    }

    @Override
    public void addCorsMappings(CorsRegistry registry) {
        for (String path : PATHS) {
            registry.addMapping(path)
                    .allowedOrigins(allowedOrigins.toArray(String[]::new))
                    .allowedMethods(ALLOWED_METHODS.stream().map(HttpMethod::name).toArray(String[]::new))
                    .allowedHeaders(ALLOWED_HEADERS.toArray(String[]::new))
                    .exposedHeaders(EXPOSED_HEADERS.toArray(String[]::new));
        }
    }
}
