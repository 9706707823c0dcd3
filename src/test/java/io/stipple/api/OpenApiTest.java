package io.stipple.api;

import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.model.ServedModels;
import io.stipple.testing.StippleHttp;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The OpenAPI description at {@code /v3/api-docs} and Swagger UI, on the tiny fixture: every endpoint is
 * there, the request schema has the wire names and exactly the bounds the validator enforces, and its
 * example really works.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
class OpenApiTest {
    /** A 1×1 PNG, base64. */
    private static final String ONE_PIXEL_PNG =
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    private static final List<String> WIRE_NAMES = List.of("prompt", "negative_prompt", "width", "height", "steps",
            "guidance_scale", "sampler", "eta", "seed", "num_images", "init_image", "strength", "mask_image", "model",
            "clip_skip", "original_size", "crops_coords_top_left", "target_size");

    @LocalServerPort
    int port;

    @Autowired
    RequestValidator validator;
    @Autowired
    ServedModels models;

    /** The server's own mapper, so that bodies are read exactly as a request's are. */
    @Autowired
    JsonMapper mapper;

    private StippleHttp http;
    private JsonNode api;

    @BeforeEach
    void fetchTheDescription() {
        http = new StippleHttp(port);
        HttpResponse<byte[]> response = http.get("/v3/api-docs");
        assertEquals(200, response.statusCode(), () -> new String(response.body(), StandardCharsets.UTF_8));
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        api = json(response);
    }

    @Test
    void describesEveryEndpointWithItsMethods() {
        Map<String, Set<String>> operations = new LinkedHashMap<>();
        api.get("paths").properties().forEach(path -> operations.put(path.getKey(), new TreeSet<>(path.getValue().propertyNames())));

        assertEquals(Map.ofEntries(
                Map.entry("/generate", Set.of("post")),
                Map.entry("/v1/jobs", Set.of("post")),
                Map.entry("/v1/jobs/{id}", Set.of("get", "delete")),
                Map.entry("/v1/jobs/{id}/events", Set.of("get")),
                Map.entry("/v1/jobs/{id}/images/{n}", Set.of("get")),
                Map.entry("/v1/model", Set.of("get")),
                Map.entry("/v1/models", Set.of("get")),
                Map.entry("/v1/models/{name}", Set.of("get")),
                Map.entry("/v1/images/generations", Set.of("post")),
                Map.entry("/v1/images/edits", Set.of("post")),
                Map.entry("/sdapi/v1/txt2img", Set.of("post")),
                Map.entry("/sdapi/v1/img2img", Set.of("post")),
                Map.entry("/sdapi/v1/progress", Set.of("get")),
                Map.entry("/sdapi/v1/interrupt", Set.of("post")),
                Map.entry("/sdapi/v1/samplers", Set.of("get")),
                Map.entry("/sdapi/v1/schedulers", Set.of("get")),
                Map.entry("/sdapi/v1/sd-models", Set.of("get")),
                Map.entry("/sdapi/v1/options", Set.of("get", "post")),
                Map.entry("/sdapi/v1/upscalers", Set.of("get")),
                Map.entry("/sdapi/v1/latent-upscale-modes", Set.of("get")),
                Map.entry("/sdapi/v1/sd-vae", Set.of("get"))), operations);
        assertEquals("Stipple", api.at("/info/title").asString());
        assertFalse(api.at("/info/version").asString().isBlank());

        JsonNode generated = api.at("/paths/~1generate/post/responses/200/content");
        assertTrue(generated.has("application/json") && generated.has("image/png"), generated::toString);
        assertTrue(api.at("/paths/~1v1~1jobs/post/responses/202/headers").has("Location"));
        assertTrue(api.at("/paths/~1v1~1jobs~1{id}~1events/get/responses/200/content").has("text/event-stream"));
        assertTrue(api.at("/paths/~1v1~1jobs~1{id}~1images~1{n}/get/responses/200/headers")
                .has(GenerateController.SEED_HEADER));
        assertEveryReferenceResolves(api);
    }

    private void assertEveryReferenceResolves(JsonNode node) {
        if (node.isObject()) {
            JsonNode ref = node.get("$ref");
            if (ref != null) {
                assertTrue(ref.asString().startsWith("#/") && !api.at(ref.asString().substring(1)).isMissingNode(),
                        "dangling " + ref);
            }
        }
        node.values().forEach(this::assertEveryReferenceResolves);
    }

    @Test
    void requestSchemaHasTheWireNamesAndRequiresOnlyThePrompt() {
        JsonNode request = requestSchema("/generate");
        assertEquals(request, requestSchema("/v1/jobs"));

        assertEquals(WIRE_NAMES, new ArrayList<>(request.get("properties").propertyNames()));
        assertEquals(List.of("prompt"), strings(request.get("required")));
        assertEquals("int64", request.at("/properties/seed/format").asString());
    }

    @Test
    void samplerEnumIsTheServersSamplers() {
        List<String> offered = strings(json(http.get("/v1/model")).get("samplers"));

        assertEquals(offered, strings(requestSchema("/generate").at("/properties/sampler/enum")));
        for (String sampler : offered) {
            assertAccepted(Map.of("sampler", sampler));
        }
        assertRejected("sampler", Map.of("sampler", "plms"));
    }

    @Test
    void defaultsAreTheModelsDefaults() {
        JsonNode defaults = json(http.get("/v1/model")).get("defaults");
        JsonNode fields = requestSchema("/generate").get("properties");

        defaults.properties().forEach(field -> assertEquals(field.getValue(), fields.at("/" + field.getKey() + "/default"),
                field.getKey()));
    }

    /**
     * Every documented bound is the validator's: the value at the bound passes, the next value beyond it
     * (or off the multiple) is refused, naming the field. Sizes are tested with the other side at its
     * minimum, so that the pixel budget allows the largest one.
     */
    @Test
    void numericBoundsAreTheValidatorsBounds() {
        JsonNode fields = requestSchema("/generate").get("properties");
        List<String> bounded = new ArrayList<>();
        for (String field : WIRE_NAMES) {
            JsonNode schema = fields.get(field);
            boolean integer = schema.get("type").asString().equals("integer");
            if (schema.has("minimum")) {
                BigDecimal minimum = schema.get("minimum").decimalValue();
                assertAccepted(alone(field, number(minimum, integer)));
                assertRejected(field, alone(field, integer ? minimum.subtract(BigDecimal.ONE)
                        : Math.nextDown(minimum.doubleValue())));
                bounded.add(field + ">=");
            }
            if (schema.has("maximum")) {
                BigDecimal maximum = schema.get("maximum").decimalValue();
                assertAccepted(alone(field, number(maximum, integer)));
                assertRejected(field, alone(field, integer ? maximum.add(BigDecimal.ONE)
                        : Math.nextUp(maximum.doubleValue())));
                bounded.add(field + "<=");
            }
            if (schema.has("multipleOf")) {
                long multiple = schema.get("multipleOf").asLong();
                assertRejected(field, Map.of(field, schema.get("minimum").asLong() + multiple / 2));
            }
        }
        assertEquals(List.of("width>=", "width<=", "height>=", "height<=", "steps>=", "steps<=", "guidance_scale>=",
                "guidance_scale<=", "eta>=", "eta<=", "seed>=", "seed<=", "num_images>=", "num_images<=", "strength>=",
                "strength<=", "clip_skip>=", "clip_skip<="), bounded);
    }

    /** One field's value, with what the field needs beside it: strength applies only to an init image. */
    private static Map<String, Object> alone(String field, Object value) {
        return field.equals("strength") ? Map.of(field, value, "init_image", ONE_PIXEL_PNG) : Map.of(field, value);
    }

    @Test
    void promptRulesAreTheValidatorsRules() {
        JsonNode prompt = requestSchema("/generate").at("/properties/prompt");
        int maxLength = prompt.get("maxLength").asInt();
        assertEquals(json(http.get("/v1/model")).at("/limits/max_prompt_length").asInt(), maxLength);
        assertEquals(1, prompt.get("minLength").asInt());
        assertAccepted(Map.of("prompt", "a".repeat(maxLength)));
        assertRejected("prompt", Map.of("prompt", "a".repeat(maxLength + 1)));
        assertRejected("prompt", Map.of("prompt", " \t\n"));
        assertEquals(maxLength, requestSchema("/generate").at("/properties/negative_prompt/maxLength").asInt());

        // The pattern says "not blank" exactly as String.isBlank() does, character by character.
        Pattern notBlank = Pattern.compile(prompt.get("pattern").asString());
        for (char c = 0; c < Character.MIN_SURROGATE; c++) {
            String text = String.valueOf(c);
            assertEquals(!text.isBlank(), notBlank.matcher(text).find(), () -> "U+" + Integer.toHexString(text.charAt(0)));
        }
    }

    @Test
    void problemsAreDocumentedWithRetryAfterWhereSent() {
        for (String status : List.of("400", "406", "413", "415", "429", "500", "503")) {
            assertProblemResponse("/generate", "post", status);
        }
        for (String status : List.of("400", "413", "415", "429", "503")) {
            assertProblemResponse("/v1/jobs", "post", status);
        }
        assertProblemResponse("/v1/jobs/{id}", "get", "404");
        assertProblemResponse("/v1/jobs/{id}", "delete", "409");
        assertProblemResponse("/v1/jobs/{id}/images/{n}", "get", "409");
        assertProblemResponse("/v1/jobs/{id}/events", "get", "404");

        assertTrue(operation("/generate", "post").at("/responses/429/headers").has("Retry-After"));
        assertTrue(operation("/generate", "post").at("/responses/503/headers").has("Retry-After"));
        assertTrue(operation("/v1/jobs", "post").at("/responses/429/headers").has("Retry-After"));
    }

    private void assertProblemResponse(String path, String method, String status) {
        JsonNode content = operation(path, method).at("/responses/" + status + "/content/application~1problem+json");
        assertEquals("#/components/schemas/Problem", content.at("/schema/$ref").asString(), path + " " + status);
        assertEquals(Integer.parseInt(status), content.at("/example/status").asInt(), path + " " + status);
    }

    /** The documented problems are the server's own words. */
    @Test
    void problemExamplesAreWhatTheServerAnswers() {
        JsonNode invalid = json(http.generate(body("prompt", "a cat", "steps",
                models.defaultModel().capabilities().limits().maxSteps() + 1)));
        JsonNode documented = operation("/generate", "post").at("/responses/400/content/application~1problem+json/example");
        assertEquals(invalid, documented);

        JsonNode unsupported = json(http.generate(body("prompt", "a cat"), "Content-Type", "text/plain"));
        assertEquals(unsupported,
                operation("/generate", "post").at("/responses/415/content/application~1problem+json/example"));
    }

    /** The documented example request runs, and the real answer has the documented example answer's shape. */
    @Test
    void exampleRequestSucceeds() {
        JsonNode example = api.at("/paths/~1generate/post/requestBody/content/application~1json/example");
        assertTrue(example.isObject() && example.has("prompt"), example::toString);
        assertEquals(example, api.at("/paths/~1v1~1jobs/post/requestBody/content/application~1json/example"));

        JsonNode answer = http.generateJson(mapper.writeValueAsString(example));

        assertEquals(example.get("seed").asLong(), answer.at("/parameters/seed").asLong());
        assertEquals(example.get("prompt").asString(), answer.at("/parameters/prompt").asString());
        assertEquals(shape(api.at("/paths/~1generate/post/responses/200/content/application~1json/example")),
                shape(answer));
    }

    /** Field names at every depth (the first element standing for an array). */
    private static Set<String> shape(JsonNode node) {
        Set<String> names = new TreeSet<>();
        if (node.isObject()) {
            node.properties().forEach(field -> {
                names.add(field.getKey());
                shape(field.getValue()).forEach(inner -> names.add(field.getKey() + "." + inner));
            });
        } else if (node.isArray() && !node.isEmpty()) {
            shape(node.get(0)).forEach(inner -> names.add("[]." + inner));
        }
        return names;
    }

    @Test
    void swaggerUiLoads() {
        HttpResponse<byte[]> page = http.get("/swagger-ui/index.html");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(new String(page.body(), StandardCharsets.UTF_8).contains("swagger-ui"));

        HttpResponse<byte[]> config = http.get("/v3/api-docs/swagger-config");
        assertEquals(200, config.statusCode());
        assertEquals("/v3/api-docs", json(config).get("url").asString());
    }

    // --- helpers -------------------------------------------------------------------------------------

    private JsonNode operation(String path, String method) {
        JsonNode operation = api.get("paths").path(path).path(method);
        assertFalse(operation.isMissingNode(), method + " " + path);
        return operation;
    }

    private JsonNode requestSchema(String path) {
        String ref = operation(path, "post").at("/requestBody/content/application~1json/schema/$ref").asString();
        JsonNode schema = api.at(ref.substring(1));
        assertNotNull(schema.get("properties"), ref);
        return schema;
    }

    private static Object number(BigDecimal value, boolean integer) {
        return integer ? value.toBigIntegerExact() : value;
    }

    private static List<String> strings(JsonNode array) {
        List<String> strings = new ArrayList<>();
        array.forEach(value -> strings.add(value.asString()));
        return strings;
    }

    /**
     * A body with the given fields, read by the server's mapper. The rest is a small valid request: a prompt,
     * both sides at their minimum, and {@code ddim} (the one sampler that takes eta).
     */
    private String request(Map<String, Object> fields) {
        ObjectNode body = mapper.createObjectNode();
        body.put("prompt", "a cat");
        body.put("width", 8);
        body.put("height", 8);
        body.put("sampler", "ddim");
        fields.forEach((name, value) -> body.set(name, mapper.valueToTree(value)));
        return mapper.writeValueAsString(body);
    }

    private void assertAccepted(Map<String, Object> fields) {
        String json = request(fields);
        assertDoesNotThrow(() -> validator.validate(mapper.readValue(json, GenerateRequestBody.class)), json);
    }

    /** Refused, naming the field: by the validator, or already by the mapper (a value no Java type holds). */
    private void assertRejected(String field, Map<String, Object> fields) {
        String json = request(fields);
        GenerateRequestBody body;
        try {
            body = mapper.readValue(json, GenerateRequestBody.class);
        } catch (JacksonException e) {
            // a number no Java type holds (a seed beyond a long): the server refuses it as malformed, naming it
            assertProblem(http.generate(json), 400, field, "Field \"" + field + "\" is out of range");
            return;
        }
        try {
            validator.validate(body);
        } catch (InvalidRequestException e) {
            assertTrue(e.violations().stream().anyMatch(v -> field.equals(v.field())), () -> json + ": " + e.getMessage());
            return;
        }
        fail("accepted " + json);
    }
}
