package io.stipple.api;

import static io.stipple.testing.StippleHttp.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.NestedTestConfiguration;
import org.springframework.test.context.NestedTestConfiguration.EnclosingConfiguration;

/** Cross-origin access ({@code stipple.cors.allowed-origins}) over real HTTP, as a browser would ask. */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.cors.allowed-origins=https://frontend.example"})
class CorsTest {
    private static final String ALLOWED = "https://frontend.example";
    private static final String OTHER = "https://elsewhere.example";

    @LocalServerPort
    int port;

    private StippleHttp http;

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    @ParameterizedTest(name = "{1} {0}")
    @CsvSource({
            "/generate,                POST",
            "/v1/jobs,                 POST",
            "/v1/jobs/some-id,         GET",
            "/v1/jobs/some-id,         DELETE",
            "/v1/jobs/some-id/events,  GET",
            "/v1/jobs/some-id/images/0, GET",
            "/v1/model,                GET",
            "/v3/api-docs,             GET"})
    void preflightFromAnAllowedOriginIsAllowed(String path, String method) {
        HttpResponse<byte[]> response = preflight(http, path, ALLOWED, method);

        assertEquals(200, response.statusCode());
        assertEquals(ALLOWED, response.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertEquals(Set.of("GET", "POST", "DELETE", "OPTIONS"), list(response, "Access-Control-Allow-Methods"));
        assertTrue(list(response, "Access-Control-Allow-Headers").contains("CONTENT-TYPE"));
        assertFalse(response.headers().firstValue("Access-Control-Allow-Credentials").isPresent());
    }

    @Test
    void preflightFromAnotherOriginIsForbidden() {
        HttpResponse<byte[]> response = preflight(http, "/generate", OTHER, "POST");

        assertEquals(403, response.statusCode());
        assertFalse(response.headers().firstValue("Access-Control-Allow-Origin").isPresent());
    }

    /** Spring answers with the allowed subset of the headers asked for; the browser then refuses the rest. */
    @Test
    void preflightAllowsNoOtherHeaders() {
        HttpResponse<byte[]> some = preflight(http, "/generate", ALLOWED, "POST", "content-type, x-custom");
        assertEquals(200, some.statusCode());
        assertEquals(Set.of("CONTENT-TYPE"), list(some, "Access-Control-Allow-Headers"));

        assertEquals(403, preflight(http, "/generate", ALLOWED, "POST", "x-custom").statusCode());
    }

    @Test
    void pngAnswerToAnAllowedOriginExposesTheSeed() {
        HttpResponse<byte[]> response = http.generate(body("prompt", "a red circle", "steps", 1, "seed", 5),
                "Accept", "image/png", "Origin", ALLOWED);

        assertEquals(200, response.statusCode());
        assertEquals(ALLOWED, response.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertEquals("5", response.headers().firstValue(GenerateController.SEED_HEADER).orElseThrow());
        assertEquals(Set.of("X-STIPPLE-SEED", "LOCATION", "RETRY-AFTER", "RATELIMIT-POLICY", "RATELIMIT", "WWW-AUTHENTICATE"),
                list(response, "Access-Control-Expose-Headers"));
    }

    @Test
    void requestFromAnotherOriginIsForbidden() {
        HttpResponse<byte[]> response = http.send(http.request("/v1/model").header("Origin", OTHER).GET().build());

        assertEquals(403, response.statusCode());
        assertFalse(response.headers().firstValue("Access-Control-Allow-Origin").isPresent());
    }

    @Test
    void requestWithoutOriginIsUnaffected() {
        HttpResponse<byte[]> response = http.get("/v1/model");

        assertEquals(200, response.statusCode());
        assertFalse(response.headers().firstValue("Access-Control-Allow-Origin").isPresent());
    }

    /** With {@code stipple.cors.allowed-origins} unset no origin is allowed. */
    @Nested
    @NestedTestConfiguration(EnclosingConfiguration.OVERRIDE)
    @SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
    class ByDefault {
        @LocalServerPort
        int port;

        @ParameterizedTest
        @CsvSource({"/generate, POST", "/v1/model, GET", "/v3/api-docs, GET"})
        void everyCrossOriginPreflightIsForbidden(String path, String method) {
            HttpResponse<byte[]> response = preflight(new StippleHttp(port), path, ALLOWED, method);

            assertEquals(403, response.statusCode());
            assertFalse(response.headers().firstValue("Access-Control-Allow-Origin").isPresent());
        }
    }

    private static HttpResponse<byte[]> preflight(StippleHttp http, String path, String origin, String method) {
        return preflight(http, path, origin, method, "content-type");
    }

    private static HttpResponse<byte[]> preflight(StippleHttp http, String path, String origin, String method,
            String headers) {
        return http.send(http.request(path)
                .header("Origin", origin)
                .header("Access-Control-Request-Method", method)
                .header("Access-Control-Request-Headers", headers)
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
    }

    /** A comma-separated header's values, upper-cased (header names are case-insensitive). */
    private static Set<String> list(HttpResponse<?> response, String header) {
        return response.headers().allValues(header).stream()
                .flatMap(value -> Arrays.stream(value.split(",")))
                .map(value -> value.trim().toUpperCase())
                .filter(value -> !value.isEmpty())
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
