package io.stipple.shipped;

import static io.stipple.testing.StippleHttp.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.testing.StippleHttp;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The jar as shipped, with access control turned on the way the deployment guide shows: a keys file of
 * hashes, a quota per client. The embedded model, every other setting at its default.
 */
class ShippedAccessControlIT {
    private static final String KEY = "d2b7c1e0a9f84c3b";
    private static ShippedJar jar;

    @BeforeAll
    static void start() throws Exception {
        Path keys = Files.createTempFile("stipple-keys", "");
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(KEY.getBytes(StandardCharsets.UTF_8)));
        Files.writeString(keys, "# the deployment guide's format\nops " + hash + "\n");
        jar = ShippedJar.start("--stipple.security.api-keys-file=" + keys, "--stipple.clients.requests-per-minute=2");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (jar != null) {
            jar.close();
        }
    }

    private HttpResponse<byte[]> generate(String... headers) {
        return jar.http.generate(StippleHttp.body("prompt", "a red circle", "steps", 2), headers);
    }

    @Test
    void generatingNeedsTheKeyAndItsQuotaHolds() {
        HttpResponse<byte[]> anonymous = generate();
        assertProblem(anonymous, 401, null, "This server needs an API key");
        assertEquals("Bearer realm=\"stipple\"", anonymous.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertProblem(generate("X-API-Key", "guess"), 401, null, "The API key is not valid");

        assertEquals(200, generate("Authorization", "Bearer " + KEY).statusCode());
        assertEquals(200, generate("X-API-Key", KEY).statusCode());
        HttpResponse<byte[]> third = generate("X-API-Key", KEY);
        assertProblem(third, 429, null, "This client has used its 2 generation requests per minute");
        assertEquals("\"requests\";q=2;w=60", third.headers().firstValue("RateLimit-Policy").orElseThrow());
    }

    @Test
    void probesThePageAndTheApiDescriptionStayOpen() {
        for (String path : List.of("/", "/app.js", "/v3/api-docs", "/swagger-ui/index.html", "/actuator/health/readiness",
                "/actuator/prometheus")) {
            assertEquals(200, jar.http.get(path).statusCode(), path);
        }
        assertTrue(StippleHttp.json(jar.http.get("/v3/api-docs")).at("/components/securitySchemes").has("apiKey"));
        assertTrue(jar.log().contains("Access control is on: 1 API key(s)"), "the startup line says access control is on");
    }
}
