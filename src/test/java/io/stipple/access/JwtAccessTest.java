package io.stipple.access;

import static io.stipple.testing.StippleHttp.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.stipple.testing.StippleHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * JWTs for frontends behind single sign-on, checked against a JWK set that the test serves itself, next
 * to an API key; here {@code /actuator/prometheus} is protected too.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.security.protect-prometheus=true",
        "stipple.security.api-keys[0].name=scraper",
        "stipple.security.api-keys[0].key=" + JwtAccessTest.SCRAPER_KEY})
class JwtAccessTest {
    static final String SCRAPER_KEY = "scraper-key-3";
    private static final RSAKey SIGNING = generate("issuer-key");
    private static final RSAKey STRANGER = generate("issuer-key");
    private static final HttpServer ISSUER = serveJwkSet();

    @LocalServerPort
    int port;

    private StippleHttp http;

    private static RSAKey generate(String id) {
        try {
            return new RSAKeyGenerator(2048).keyID(id).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpServer serveJwkSet() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
            byte[] jwks = new JWKSet(SIGNING.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
            server.createContext("/jwks.json", exchange -> {
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, jwks.length);
                exchange.getResponseBody().write(jwks);
                exchange.close();
            });
            server.start();
            return server;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @DynamicPropertySource
    static void issuer(DynamicPropertyRegistry registry) {
        registry.add("spring.security.oauth2.resourceserver.jwt.jwk-set-uri",
                () -> "http://localhost:" + ISSUER.getAddress().getPort() + "/jwks.json");
    }

    @AfterAll
    static void stopIssuer() {
        ISSUER.stop(0);
    }

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    private static String token(RSAKey key, String subject, Instant expires) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder().subject(subject).issueTime(Date.from(expires.minusSeconds(600)))
                        .expirationTime(Date.from(expires))
                        .build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private HttpResponse<byte[]> get(String path, String authorization) {
        return http.send(http.request(path).header("Authorization", authorization).GET().build());
    }

    @Test
    void aTokenFromTheIssuerIsAccepted() throws JOSEException {
        String bearer = "Bearer " + token(SIGNING, "web-frontend", Instant.now().plusSeconds(300));
        assertEquals(200, get("/v1/model", bearer).statusCode());
        assertEquals(200, http.generate(StippleHttp.body("prompt", "a blue square", "steps", 2),
                "Authorization", bearer).statusCode());
    }

    @Test
    void anExpiredOrForeignTokenIsRefused() throws JOSEException {
        HttpResponse<byte[]> expired = get("/v1/model",
                "Bearer " + token(SIGNING, "web-frontend", Instant.now().minusSeconds(600)));
        assertProblem(expired, 401, null, "expired");
        assertEquals("Bearer realm=\"stipple\", error=\"invalid_token\"",
                expired.headers().firstValue("WWW-Authenticate").orElseThrow());

        assertProblem(get("/v1/model", "Bearer " + token(STRANGER, "intruder", Instant.now().plusSeconds(300))),
                401, null, "Invalid signature");
        assertProblem(get("/v1/model", "Bearer not-a-jwt-nor-a-key"), 401, null, "Malformed token");
    }

    @Test
    void apiKeysWorkBesideTokensAndPrometheusNeedsOne() {
        assertProblem(http.get("/actuator/prometheus"), 401, null, "needs an API key");
        HttpResponse<byte[]> scraped = get("/actuator/prometheus", "Bearer " + SCRAPER_KEY);
        assertEquals(200, scraped.statusCode());
        assertTrue(new String(scraped.body()).contains("stipple_queue_work"), "the queued-work gauge is exported");
        assertEquals(200, http.get("/actuator/health/readiness").statusCode());
    }
}
