package io.stipple.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A plain {@link HttpClient} against a running server, and the assertions the HTTP tests share. */
public final class StippleHttp {
    private static final String PROBLEM_JSON = "application/problem+json";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final String base;

    public StippleHttp(int port) {
        this.base = "http://localhost:" + port;
    }

    /** A JSON object from alternating names and values, e.g. {@code body("prompt", "a cat", "seed", 7)}. */
    public static String body(Object... namesAndValues) {
        Map<Object, Object> fields = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            fields.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return JSON.writeValueAsString(fields);
    }

    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
    }

    public HttpResponse<byte[]> send(HttpRequest request) {
        return send(request, BodyHandlers.ofByteArray());
    }

    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return client.send(request, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public CompletableFuture<HttpResponse<byte[]>> sendAsync(HttpRequest request) {
        return client.sendAsync(request, BodyHandlers.ofByteArray());
    }

    public HttpResponse<byte[]> get(String path) {
        return send(request(path).GET().build());
    }

    /** {@code POST /generate} with a JSON body and, optionally, header name/value pairs. */
    public HttpResponse<byte[]> generate(String json, String... headers) {
        return send(generateRequest(HttpRequest.BodyPublishers.ofString(json), headers));
    }

    public HttpRequest generateRequest(BodyPublisher body, String... headers) {
        HttpRequest.Builder builder = request("/generate").header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            builder.setHeader(headers[i], headers[i + 1]);
        }
        return builder.POST(body).build();
    }

    /** A 200 JSON answer of {@code POST /generate}. */
    public JsonNode generateJson(String json) {
        HttpResponse<byte[]> response = generate(json);
        assertEquals(200, response.statusCode(), () -> new String(response.body()));
        return json(response);
    }

    /** The one image of a 200 {@code Accept: image/png} answer. */
    public byte[] generatePng(String json) {
        HttpResponse<byte[]> response = generate(json, "Accept", "image/png");
        assertEquals(200, response.statusCode(), () -> new String(response.body()));
        assertEquals("image/png", response.headers().firstValue("Content-Type").orElseThrow());
        return response.body();
    }

    /** {@code POST} of a JSON body to {@code path}. */
    public HttpResponse<byte[]> post(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    public HttpResponse<byte[]> delete(String path) {
        return send(request(path).DELETE().build());
    }

    /** Opens a server-sent event stream; a non-200 answer fails with its body. */
    public EventStream events(String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
                .header("Accept", "text/event-stream").GET().build();
        HttpResponse<Stream<String>> response;
        try {
            response = client.send(request, BodyHandlers.ofLines());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (response.statusCode() != 200) {
            String text = String.join("\n", response.body().toList());
            throw new AssertionError("events " + path + ": " + response.statusCode() + " " + text);
        }
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"),
                () -> "Content-Type " + response.headers().firstValue("Content-Type"));
        return new EventStream(response.body());
    }

    /** One server-sent event: its {@code event:} name and its {@code data:} as JSON. */
    public record Event(String name, JsonNode data) {
    }

    /**
     * Reads a {@code text/event-stream} line by line (comments skipped). Closing it cancels the
     * response, which closes the connection: the client going away.
     */
    public static final class EventStream implements AutoCloseable {
        private final Stream<String> lines;
        private final Iterator<String> iterator;

        EventStream(Stream<String> lines) {
            this.lines = lines;
            this.iterator = lines.iterator();
        }

        /** The next event, or null once the server has ended the stream. */
        public Event next() {
            String name = "message";
            StringBuilder data = null;
            while (iterator.hasNext()) {
                String line = iterator.next();
                if (line.isEmpty()) {
                    if (data != null) {
                        return new Event(name, JSON.readTree(data.toString()));
                    }
                    name = "message";
                    continue;
                }
                if (line.startsWith(":")) {
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1);
                if (value.startsWith(" ")) {
                    value = value.substring(1);
                }
                if (field.equals("event")) {
                    name = value;
                } else if (field.equals("data")) {
                    data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                }
            }
            assertTrue(data == null, "the stream ended inside an event");
            return null;
        }

        @Override
        public void close() {
            lines.close();
        }
    }

    public static JsonNode json(HttpResponse<byte[]> response) {
        return JSON.readTree(response.body());
    }

    public static byte[] png(JsonNode image) {
        return Base64.getDecoder().decode(image.get("png_base64").asString());
    }

    public static int[] pixels(byte[] png) {
        BufferedImage image = Png.decode(png);
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }

    /**
     * Asserts an RFC 9457 problem answer and returns its body. {@code field} null means the problem
     * names no field; {@code detailPart} must occur in {@code detail}.
     */
    public static JsonNode assertProblem(HttpResponse<byte[]> response, int status, String field, String detailPart) {
        String text = new String(response.body());
        assertEquals(status, response.statusCode(), text);
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith(PROBLEM_JSON),
                () -> "Content-Type " + response.headers().firstValue("Content-Type") + " for " + text);
        JsonNode problem = JSON.readTree(response.body());
        assertEquals(status, problem.path("status").asInt(), text);
        if (field == null) {
            assertTrue(problem.path("field").isMissingNode(), text);
        } else {
            assertEquals(field, problem.path("field").asString(), text);
        }
        assertTrue(problem.path("detail").asString().contains(detailPart),
                () -> "detail should contain \"" + detailPart + "\": " + text);
        return problem;
    }
}
