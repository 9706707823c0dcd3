package io.stipple.access;

import static io.stipple.testing.StippleHttp.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * API keys over real HTTP: one given in the configuration, one as a hash in a keys file. Everything that
 * generates or tells about jobs and the model needs a key; the page, the API description and the probes
 * do not; a client sees only its own jobs.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.cors.allowed-origins=https://frontend.example",
        "stipple.security.api-keys[0].name=frontend",
        "stipple.security.api-keys[0].key=" + AccessControlTest.FRONTEND_KEY})
class AccessControlTest {
    static final String FRONTEND_KEY = "front-key-1";
    private static final String BATCH_KEY = "batch-key-2";
    private static final String QUICK = StippleHttp.body("prompt", "a red circle", "steps", 2);

    @LocalServerPort
    int port;

    private StippleHttp http;

    @DynamicPropertySource
    static void keysFile(DynamicPropertyRegistry registry) throws IOException {
        Path file = Files.createTempFile("stipple-api-keys", "");
        Files.writeString(file, "batch " + ApiKeys.sha256(BATCH_KEY) + "\n");
        file.toFile().deleteOnExit();
        registry.add("stipple.security.api-keys-file", file::toString);
    }

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    private HttpResponse<byte[]> get(String path, String... headers) {
        HttpRequest.Builder request = http.request(path).GET();
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build());
    }

    private HttpResponse<byte[]> post(String path, String json, String header, String value) {
        return http.send(http.request(path).header("Content-Type", "application/json").header(header, value)
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    @Test
    void withoutAKeyTheApiAnswers401WithABearerChallenge() {
        for (String path : List.of("/v1/model", "/v1/jobs/00000000-0000-0000-0000-000000000000",
                "/v1/jobs/00000000-0000-0000-0000-000000000000/events", "/actuator/metrics")) {
            HttpResponse<byte[]> response = get(path);
            assertProblem(response, 401, null,
                    "This server needs an API key: send it as \"Authorization: Bearer <key>\" or \"X-API-Key: <key>\"");
            assertEquals("Bearer realm=\"stipple\"", response.headers().firstValue("WWW-Authenticate").orElseThrow(), path);
        }
        assertProblem(http.generate("{not even json"), 401, null, "needs an API key");
    }

    @Test
    void aWrongKeyIsRefusedAsAnInvalidToken() {
        for (String[] header : List.of(new String[] {"X-API-Key", "front-key-2"},
                new String[] {"Authorization", "Bearer " + BATCH_KEY + "x"})) {
            HttpResponse<byte[]> response = get("/v1/model", header);
            assertProblem(response, 401, null, "The API key is not valid");
            assertEquals("Bearer realm=\"stipple\", error=\"invalid_token\"",
                    response.headers().firstValue("WWW-Authenticate").orElseThrow());
        }
    }

    @Test
    void automatic1111ClientsSendTheKeyAsTheBasicPassword() {
        String basic = "Basic " + java.util.Base64.getEncoder().encodeToString(("anyone:" + FRONTEND_KEY).getBytes());
        assertEquals(200, get("/sdapi/v1/options", "Authorization", basic).statusCode());
        assertProblem(get("/v1/model", "Authorization", "Basic "), 401, null, "needs an API key");
    }

    @Test
    void eitherHeaderCarriesTheKey() {
        assertEquals(200, get("/v1/model", "Authorization", "Bearer " + FRONTEND_KEY).statusCode());
        assertEquals(200, get("/v1/model", "X-API-Key", BATCH_KEY).statusCode());
        assertEquals(200, http.generate(QUICK, "X-API-Key", FRONTEND_KEY).statusCode());
        assertEquals(200, get("/actuator/metrics", "X-API-Key", BATCH_KEY).statusCode());
    }

    @Test
    void thePageTheApiDescriptionAndTheProbesStayOpen() {
        for (String path : List.of("/", "/index.html", "/app.js", "/app.css", "/v3/api-docs", "/swagger-ui/index.html",
                "/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness", "/actuator/info",
                "/actuator/prometheus")) {
            assertEquals(200, get(path).statusCode(), path);
        }
    }

    /** Protection is everything but the open paths, not a list of API paths: a new endpoint is never left open. */
    @Test
    void everyOtherPathNeedsAKeyTheCompatibilityLayersAndUnknownPathsToo() {
        for (String path : List.of("/sdapi/v1/samplers", "/sdapi/v1/progress", "/v1/images/generations", "/v1/models",
                "/actuator", "/no-such-path")) {
            HttpResponse<byte[]> response = get(path);
            assertEquals(401, response.statusCode(), path);
            assertEquals("Bearer realm=\"stipple\"", response.headers().firstValue("WWW-Authenticate").orElseThrow(), path);
        }
        assertProblem(get("/no-such-path"), 401, null, "needs an API key");
    }

    @Test
    void theApiDescriptionOffersBothWaysToSendAKeyAndDocumentsThe401() {
        JsonNode api = StippleHttp.json(get("/v3/api-docs"));
        JsonNode schemes = api.path("components").path("securitySchemes");
        assertEquals("bearer", schemes.path("bearer").path("scheme").asString());
        assertEquals("X-API-Key", schemes.path("apiKey").path("name").asString());
        assertEquals("header", schemes.path("apiKey").path("in").asString());
        JsonNode generate = api.path("paths").path("/generate").path("post");
        assertEquals(2, generate.path("security").size());
        JsonNode documented = generate.path("responses").path("401").path("content").path("application/problem+json")
                .path("example");
        JsonNode real = StippleHttp.json(http.generate(QUICK));
        assertEquals(real, documented, "the documented 401 is the server's");
    }

    @Test
    void aBrowserOnAnAllowedOriginMayAskToSendAKey() {
        HttpResponse<byte[]> preflight = http.send(http.request("/generate").header("Origin", "https://frontend.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type,x-api-key")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(200, preflight.statusCode(), "a preflight carries no credential and must not need one");
        String allowed = preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase();
        assertTrue(allowed.contains("x-api-key") && allowed.contains("content-type"), allowed);
    }

    @Test
    void aClientSeesOnlyItsOwnJobs() {
        HttpResponse<byte[]> submitted = post("/v1/jobs", QUICK, "X-API-Key", FRONTEND_KEY);
        assertEquals(202, submitted.statusCode(), new String(submitted.body()));
        String job = "/v1/jobs/" + StippleHttp.json(submitted).get("id").asString();

        assertEquals(200, get(job, "X-API-Key", FRONTEND_KEY).statusCode());
        assertProblem(get(job, "X-API-Key", BATCH_KEY), 404, null, "No job");
        assertProblem(get(job + "/events", "X-API-Key", BATCH_KEY), 404, null, "No job");
        assertProblem(http.send(http.request(job).header("X-API-Key", BATCH_KEY).DELETE().build()), 404, null, "No job");
    }
}
