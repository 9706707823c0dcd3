package io.stipple.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What every answer of the API must be, whatever was asked: a success, or a client error that explains
 * itself as RFC 9457 problem JSON, or on the compatibility layers' paths in their APIs' error shapes (OpenAI's
 * {@code {"error": {...}}}, AUTOMATIC1111's {@code {"error", "detail", ...}}). Never a server error, never a
 * bare or HTML error page.
 */
final class ApiContract {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** ProblemErrorReportValve's detail for what Tomcat refuses before the application sees it. */
    private static final String TOMCAT_REFUSAL = "The HTTP server refused the request before it reached the API";
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private ApiContract() {
    }

    static void assertSuccessOrProblem(FuzzRequest request, HttpResponse<byte[]> response) {
        int status = response.statusCode();
        String contentType = response.headers().firstValue("Content-Type").orElse("");
        // The request itself is in the report of the case (FuzzRun), beside its seed.
        String what = "answered " + status + " " + contentType + ": " + text(response);
        if (status >= 200 && status < 300) {
            assertSuccess(request, response, contentType, what);
        } else if (status >= 400 && status < 500 && refusedByTomcat(contentType, response)) {
            assertProblem(request, response, contentType, what);
        } else if (status >= 400 && status < 500 && request.pathAndQuery().startsWith("/v1/images/")) {
            assertShape(request, response, contentType, what, "error", "message");
        } else if (status >= 400 && status < 500 && request.pathAndQuery().startsWith("/sdapi/")) {
            assertShape(request, response, contentType, what, "detail", null);
        } else if (status >= 400 && status < 500) {
            assertProblem(request, response, contentType, what);
        } else {
            fail("neither a success nor a client error: " + what);
        }
    }

    private static void assertSuccess(FuzzRequest request, HttpResponse<byte[]> response, String contentType, String what) {
        if (request.method().equals("HEAD") || request.method().equals("OPTIONS") || response.statusCode() == 204) {
            return;
        }
        if (contentType.startsWith("application/json")) {
            JsonNode json = readJson(response.body(), what);
            // A1111's list endpoints (samplers, models, ...) answer arrays; everything else an object.
            assertTrue(json.isObject() || json.isArray() && request.pathAndQuery().startsWith("/sdapi/"), what);
        } else if (contentType.startsWith("image/png")) {
            assertTrue(response.body().length > PNG_SIGNATURE.length
                    && Arrays.equals(PNG_SIGNATURE, Arrays.copyOf(response.body(), PNG_SIGNATURE.length)), "not a PNG: " + what);
        } else if (!contentType.startsWith("text/event-stream")) {
            fail("a success of an unexpected type: " + what);
        }
    }

    private static void assertProblem(FuzzRequest request, HttpResponse<byte[]> response, String contentType, String what) {
        assertTrue(contentType.startsWith("application/problem+json"), "not problem JSON: " + what);
        if (response.statusCode() == 429) {
            assertTrue(response.headers().firstValue("Retry-After").isPresent(), "429 without Retry-After: " + what);
        }
        if (request.method().equals("HEAD")) {
            return;
        }
        JsonNode problem = readJson(response.body(), what);
        assertEquals(response.statusCode(), problem.path("status").asInt(), "the problem's status: " + what);
        assertTrue(problem.path("title").isString() && !problem.path("title").asString().isBlank(), "no title: " + what);
        for (String member : new String[] {"type", "detail", "instance"}) {
            assertTrue(problem.path(member).isMissingNode() || problem.path(member).isString(), member + " not a string: " + what);
        }
    }

    /**
     * Tomcat's own refusal of a request it cannot parse (a malformed query, say): it never reaches the
     * application, so no API's shape applies, and it comes as problem JSON on every path.
     */
    private static boolean refusedByTomcat(String contentType, HttpResponse<byte[]> response) {
        return contentType.startsWith("application/problem+json")
                && new String(response.body(), StandardCharsets.UTF_8).contains(TOMCAT_REFUSAL);
    }

    /** A compatibility layer's error: JSON whose {@code member} (and, if named, its {@code inner} member) says what went wrong. */
    private static void assertShape(FuzzRequest request, HttpResponse<byte[]> response, String contentType, String what,
            String member, String inner) {
        assertTrue(contentType.startsWith("application/json"), "not the API's error shape: " + what);
        if (response.statusCode() == 429) {
            assertTrue(response.headers().firstValue("Retry-After").isPresent(), "429 without Retry-After: " + what);
        }
        if (request.method().equals("HEAD")) {
            return;
        }
        JsonNode message = readJson(response.body(), what).path(member);
        if (inner != null) {
            message = message.path(inner);
        }
        assertTrue(message.isString() && !message.asString().isBlank(), "no message at " + member + ": " + what);
    }

    private static JsonNode readJson(byte[] body, String what) {
        try {
            return JSON.readTree(body);
        } catch (JacksonException e) {
            throw new AssertionError("not JSON (" + e.getOriginalMessage() + "): " + what, e);
        }
    }

    private static String text(HttpResponse<byte[]> response) {
        String body = new String(response.body(), StandardCharsets.UTF_8);
        return body.length() > 500 ? body.substring(0, 500) + "…" : body;
    }
}
