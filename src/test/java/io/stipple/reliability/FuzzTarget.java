package io.stipple.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stipple.testing.StippleHttp;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/**
 * A running server under fuzzing: the requests it is sent, the model rules they follow, and a job that
 * has succeeded (so that paths under {@code /v1/jobs/{id}} reach real code, not only the 404).
 */
public final class FuzzTarget {
    /** Longer than any cheap request takes, short enough that a hung answer fails the run. */
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(30);
    private static final String VALID_BODY = "{\"prompt\":\"a red circle on a blue background\",\"steps\":1,\"width\":%d,\"height\":%d}";

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final StippleHttp http;
    private final String base;
    private final ModelRules rules;
    private final String succeededJob;

    private FuzzTarget(int port, ModelRules rules, String succeededJob) {
        this.http = new StippleHttp(port);
        this.base = "http://localhost:" + port;
        this.rules = rules;
        this.succeededJob = succeededJob;
    }

    /** Reads the served model's rules and runs one small job to completion. */
    public static FuzzTarget connect(int port) {
        StippleHttp http = new StippleHttp(port);
        ModelRules rules = ModelRules.of(StippleHttp.json(http.get("/v1/model")));
        HttpResponse<byte[]> accepted = http.post("/v1/jobs", validBody(rules));
        assertEquals(202, accepted.statusCode(), () -> new String(accepted.body()));
        String id = StippleHttp.json(accepted).get("id").asString();
        await("the first job's success").atMost(ANSWER_WITHIN)
                .until(() -> StippleHttp.json(http.get("/v1/jobs/" + id)).get("status").asString().equals("succeeded"));
        return new FuzzTarget(port, rules, id);
    }

    private static String validBody(ModelRules rules) {
        return String.format(VALID_BODY, rules.sizeMultiple(), rules.sizeMultiple());
    }

    FuzzCases cases() {
        return new FuzzCases(rules, succeededJob);
    }

    HttpResponse<byte[]> send(FuzzRequest request) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + request.pathAndQuery())).timeout(ANSWER_WITHIN);
        request.headers().forEach(header -> builder.header(header.name(), header.value()));
        builder.method(request.method(), publisher(request));
        try {
            return client.send(builder.build(), BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new AssertionError("no answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static BodyPublisher publisher(FuzzRequest request) {
        if (request.body() == null) {
            return BodyPublishers.noBody();
        }
        if (request.chunked()) {
            return BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(request.body()));
        }
        return BodyPublishers.ofByteArray(request.body());
    }

    /** A plain, valid request still gets its image: the fuzzing has left the server working. */
    void assertValidRequestSucceeds() {
        JsonNode answer = http.generateJson(validBody(rules));
        assertEquals(1, answer.get("images").size(), answer::toString);
    }
}
