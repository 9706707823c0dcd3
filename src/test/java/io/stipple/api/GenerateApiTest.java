package io.stipple.api;

import static io.stipple.testing.Png.decode;
import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static io.stipple.testing.StippleHttp.pixels;
import static io.stipple.testing.StippleHttp.png;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** {@code POST /generate}, {@code GET /v1/model} and the actuator endpoints over real HTTP, on the tiny fixture. */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GenerateApiTest {
    private static final String PROMPT = "a red circle on a blue background";
    // Few steps keep each request in the tens of milliseconds on the tiny model; the fixture's default is 20.
    private static final int STEPS = 4;

    @LocalServerPort
    int port;

    private StippleHttp http;

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    private byte[] pngFor(Object... fields) {
        return http.generatePng(body(fields));
    }

    @Test
    void jsonAnswerHasImagesOfTheRequestedSizeAndResolvedDefaults() {
        JsonNode answer = http.generateJson(body("prompt", PROMPT, "height", 32, "seed", 42));

        JsonNode images = answer.get("images");
        assertEquals(1, images.size());
        JsonNode image = images.get(0);
        assertEquals(0, image.get("index").asInt());
        assertEquals(42, image.get("seed").asLong());
        assertEquals(64, image.get("width").asInt());
        assertEquals(32, image.get("height").asInt());
        BufferedImage decoded = decode(png(image));
        assertEquals(64, decoded.getWidth());
        assertEquals(32, decoded.getHeight());

        JsonNode parameters = answer.get("parameters");
        assertEquals(PROMPT, parameters.get("prompt").asString());
        assertEquals("", parameters.get("negative_prompt").asString());
        assertEquals(64, parameters.get("width").asInt(), "default_width of pipeline.json");
        assertEquals(32, parameters.get("height").asInt());
        assertEquals(20, parameters.get("steps").asInt(), "default_steps of pipeline.json");
        assertEquals(5.0, parameters.get("guidance_scale").asDouble(), "default_guidance_scale of pipeline.json");
        assertEquals("ddim", parameters.get("sampler").asString(), "default_sampler of pipeline.json");
        assertEquals(0.0, parameters.get("eta").asDouble());
        assertEquals(42, parameters.get("seed").asLong());
        assertEquals(1, parameters.get("num_images").asInt());

        JsonNode timings = answer.get("timings_ms");
        for (String stage : List.of("queue", "text_encoding", "denoising", "decoding", "png_encoding", "total")) {
            assertTrue(timings.get(stage).isNumber() && timings.get(stage).asDouble() >= 0, stage + ": " + timings);
        }
    }

    @Test
    void acceptImagePngAnswersWithThePngAndItsSeed() {
        HttpResponse<byte[]> response = http.generate(body("prompt", PROMPT, "steps", STEPS, "seed", 1234),
                "Accept", "image/png");

        assertEquals(200, response.statusCode());
        assertEquals("image/png", response.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("1234", response.headers().firstValue(GenerateController.SEED_HEADER).orElseThrow());
        BufferedImage image = decode(response.body());
        assertEquals(64, image.getWidth());
        assertEquals(64, image.getHeight());
    }

    @ParameterizedTest(name = "Accept: {0}")
    @CsvSource(delimiter = '|', value = {
            "*/*                                | application/json",
            "application/*                      | application/json",
            "image/*                            | image/png",
            "application/json;q=0.5, image/png  | image/png",
            "image/png;q=0, */*                 | application/json"})
    void acceptHeaderChoosesTheFormatByQualityAndSpecificity(String accept, String contentType) {
        HttpResponse<byte[]> response = http.generate(body("prompt", PROMPT, "steps", 1), "Accept", accept);

        assertEquals(200, response.statusCode());
        assertEquals(contentType, response.headers().firstValue("Content-Type").orElseThrow());
    }

    @Test
    void sameSeedGivesTheSamePngAndAnotherSeedAnotherImage() {
        byte[] first = pngFor("prompt", PROMPT, "steps", STEPS, "seed", 7);
        byte[] again = pngFor("prompt", PROMPT, "steps", STEPS, "seed", 7);
        byte[] other = pngFor("prompt", PROMPT, "steps", STEPS, "seed", 8);

        assertArrayEquals(first, again);
        assertFalse(Arrays.equals(pixels(first), pixels(other)));
    }

    @Test
    void drawnSeedIsReturnedAndReproducesTheImage() {
        JsonNode answer = http.generateJson(body("prompt", PROMPT, "steps", STEPS));
        long seed = answer.get("parameters").get("seed").asLong();
        assertEquals(seed, answer.get("images").get(0).get("seed").asLong());
        assertTrue(seed >= 0 && seed < RequestValidator.MAX_DRAWN_SEED, "seed " + seed);

        byte[] reproduced = pngFor("prompt", PROMPT, "steps", STEPS, "seed", seed);
        assertArrayEquals(png(answer.get("images").get(0)), reproduced);
    }

    // The three guided images share six-row U-Net and three-image VAE calls; libtorch's CPU kernels give
    // the same bits for a row whatever the batch, so the batch must equal single requests byte for byte.
    @Test
    void imageIOfABatchIsTheSingleImageOfSeedPlusI() {
        long seed = 1000;
        JsonNode answer = http.generateJson(body("prompt", PROMPT, "steps", STEPS, "seed", seed, "num_images", 3));

        JsonNode images = answer.get("images");
        assertEquals(3, images.size());
        assertEquals(3, answer.get("parameters").get("num_images").asInt());
        assertEquals(seed, answer.get("parameters").get("seed").asLong());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, images.get(i).get("index").asInt());
            assertEquals(seed + i, images.get(i).get("seed").asLong());
            byte[] single = pngFor("prompt", PROMPT, "steps", STEPS, "seed", seed + i);
            assertArrayEquals(single, png(images.get(i)), "image " + i);
        }
    }

    @Test
    void guidanceScaleChangesTheImage() {
        assertFalse(Arrays.equals(
                pixels(pngFor("prompt", PROMPT, "steps", STEPS, "seed", 3, "guidance_scale", 1)),
                pixels(pngFor("prompt", PROMPT, "steps", STEPS, "seed", 3, "guidance_scale", 5))));
    }

    @Test
    void guidanceAtOrBelowOneIsUnguided() {
        assertArrayEquals(
                pngFor("prompt", PROMPT, "steps", STEPS, "seed", 3, "guidance_scale", 1),
                pngFor("prompt", PROMPT, "steps", STEPS, "seed", 3, "guidance_scale", 0.5));
    }

    @Test
    void negativePromptChangesAGuidedImage() {
        assertFalse(Arrays.equals(
                pixels(pngFor("prompt", PROMPT, "steps", STEPS, "seed", 3)),
                pixels(pngFor("prompt", PROMPT, "steps", STEPS, "seed", 3, "negative_prompt", "a green square"))));
    }

    @Test
    void negativePromptIsIgnoredWhenUnguided() {
        assertArrayEquals(
                pngFor("prompt", PROMPT, "steps", STEPS, "seed", 3, "guidance_scale", 0.5),
                pngFor("prompt", PROMPT, "steps", STEPS, "seed", 3, "guidance_scale", 0.5,
                        "negative_prompt", "a green square"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddim", "dpmpp_2m", "dpmpp_2m_karras", "euler", "euler_karras", "euler_a", "lcm"})
    void everySamplerMakesAnImage(String sampler) {
        JsonNode answer = http.generateJson(body("prompt", PROMPT, "steps", STEPS, "seed", 5, "sampler", sampler));

        assertEquals(sampler, answer.get("parameters").get("sampler").asString());
        BufferedImage image = decode(png(answer.get("images").get(0)));
        assertEquals(64, image.getWidth());
        assertEquals(64, image.getHeight());
    }

    @Test
    void ddimEtaAddsReproducibleNoise() {
        byte[] deterministic = pngFor("prompt", PROMPT, "steps", STEPS, "seed", 9, "sampler", "ddim", "eta", 0);
        byte[] stochastic = pngFor("prompt", PROMPT, "steps", STEPS, "seed", 9, "sampler", "ddim", "eta", 0.5);

        assertFalse(Arrays.equals(pixels(deterministic), pixels(stochastic)));
        assertArrayEquals(stochastic, pngFor("prompt", PROMPT, "steps", STEPS, "seed", 9, "sampler", "ddim", "eta", 0.5));
    }

    static Stream<Arguments> badBodies() {
        return Stream.of(
                bad("missing prompt", body("seed", 1), "prompt", "prompt is required"),
                bad("blank prompt", body("prompt", " \t "), "prompt", "prompt is required"),
                bad("over-long prompt", body("prompt", "a".repeat(2001)), "prompt", "at most 2000 characters, got 2001"),
                bad("over-long negative prompt", body("prompt", PROMPT, "negative_prompt", "a".repeat(2001)),
                        "negative_prompt", "at most 2000 characters"),
                bad("unknown field", body("prompt", PROMPT, "colour", "red"), "colour", "Unknown field \"colour\""),
                bad("string for an integer", body("prompt", PROMPT, "width", "abc"), "width",
                        "\"width\" must be an integer"),
                bad("fraction for an integer", body("prompt", PROMPT, "steps", 20.5), "steps",
                        "\"steps\" must be an integer"),
                bad("string for a number", body("prompt", PROMPT, "guidance_scale", "high"), "guidance_scale",
                        "\"guidance_scale\" must be a number"),
                bad("integer out of range", body("prompt", PROMPT, "width", 99_999_999_999L), "width",
                        "\"width\" is out of range for an integer"),
                bad("number for a string", body("prompt", 42), "prompt", "\"prompt\" must be a string"),
                bad("boolean for a string", body("prompt", PROMPT, "sampler", true), "sampler",
                        "\"sampler\" must be a string"),
                bad("negative seed", body("prompt", PROMPT, "seed", -1), "seed",
                        "seed must be between 0 and 9223372036854775807"),
                bad("seed overflowing the batch", body("prompt", PROMPT, "seed", Long.MAX_VALUE, "num_images", 2), "seed",
                        "between 0 and 9223372036854775806 (image i uses seed + i)"),
                bad("malformed JSON", "{\"prompt\": \"a cat\",", null, "not valid JSON"),
                bad("JSON array", "[\"a cat\"]", null, "must be a JSON object"),
                bad("empty body", "", null, "missing"),
                bad("null body", "null", null, "missing"),
                bad("width not a multiple of 8", body("prompt", PROMPT, "width", 100), "width",
                        "positive multiple of 8 (the model's size multiple), got 100"),
                bad("zero width", body("prompt", PROMPT, "width", 0), "width", "positive multiple of 8"),
                bad("negative height", body("prompt", PROMPT, "height", -64), "height", "got -64"),
                bad("pixel budget", body("prompt", PROMPT, "width", 2048, "height", 1024), "width",
                        "at most 1048576 pixels"),
                bad("zero steps", body("prompt", PROMPT, "steps", 0), "steps", "between 1 and 150, got 0"),
                bad("too many steps", body("prompt", PROMPT, "steps", 151), "steps", "between 1 and 150, got 151"),
                bad("negative guidance", body("prompt", PROMPT, "guidance_scale", -1), "guidance_scale",
                        "between 0 and 30.0, got -1.0"),
                bad("guidance too high", body("prompt", PROMPT, "guidance_scale", 31), "guidance_scale",
                        "got 31.0"),
                bad("unknown sampler", body("prompt", PROMPT, "sampler", "plms"), "sampler",
                        "unknown sampler \"plms\"; available: ddim, dpmpp_2m, dpmpp_2m_karras, euler, euler_karras, "
                                + "euler_a, lcm"),
                bad("more steps than lcm's original_inference_steps", body("prompt", PROMPT, "sampler", "lcm", "steps", 51),
                        "steps", "lcm takes at most 50 steps (the model's original_inference_steps), got 51"),
                bad("eta out of range", body("prompt", PROMPT, "eta", 2), "eta", "between 0 and 1, got 2.0"),
                bad("eta with a non-ddim sampler", body("prompt", PROMPT, "sampler", "euler_a", "eta", 0.5), "eta",
                        "only used by the ddim sampler"),
                bad("no images", body("prompt", PROMPT, "num_images", 0), "num_images", "between 1 and 8, got 0"),
                bad("too many images", body("prompt", PROMPT, "num_images", 9), "num_images", "got 9"),
                bad("clip skip on an export without it", body("prompt", PROMPT, "clip_skip", 1), "clip_skip",
                        "the model \"tiny-fixture\" was exported without clip skip (its pipeline.json has no "
                                + "max_clip_skip); re-export it to skip text-encoder layers"),
                bad("size conditioning on a model without it", body("prompt", PROMPT, "original_size", List.of(64, 64)),
                        "original_size", "original_size applies only to models with SDXL's size conditioning, not to "
                                + "\"tiny-fixture\""));
    }

    private static Arguments bad(String name, String json, String field, String detailPart) {
        return Arguments.of(name, json, field, detailPart);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badBodies")
    void badBodyIsAProblemNamingTheField(String name, String json, String field, String detailPart) {
        assertProblem(http.generate(json), 400, field, detailPart);
    }

    @Test
    void everyViolationIsListed() {
        JsonNode problem = assertProblem(
                http.generate(body("prompt", "", "width", 100, "steps", 0, "sampler", "plms")),
                400, "prompt", "prompt is required");

        List<String> fields = new ArrayList<>();
        problem.get("errors").forEach(error -> {
            fields.add(error.get("field").asString());
            assertTrue(problem.get("detail").asString().contains(error.get("message").asString()), problem::toString);
        });
        assertEquals(List.of("prompt", "width", "steps", "sampler"), fields);
    }

    @Test
    void pngForSeveralImagesIsNotAcceptable() {
        assertProblem(http.generate(body("prompt", PROMPT, "num_images", 2), "Accept", "image/png"),
                406, null, "num_images is 2");
    }

    @Test
    void unsupportedAcceptIsNotAcceptable() {
        assertProblem(http.generate(body("prompt", PROMPT), "Accept", "text/html"),
                406, null, "application/json or image/png");
    }

    @Test
    void nonJsonContentTypeIsUnsupported() {
        assertProblem(http.generate(body("prompt", PROMPT), "Content-Type", "text/plain"), 415, null, "text/plain");
    }

    // Found by fuzzing (docs/RELIABILITY.md): a multipart type without a boundary failed multipart parsing
    // and answered 500. Forms are taken (curl -F), so a form that cannot be read is the client's 400.
    @Test
    void unreadableFormsAreMalformed() {
        assertProblem(http.generate(body("prompt", PROMPT), "Content-Type", "multipart/form-data"), 400, null,
                "The multipart body could not be read");
        assertProblem(http.generate(body("prompt", PROMPT), "Content-Type", "multipart/form-data; boundary=x"), 400,
                "prompt", "prompt is required");
    }

    @Test
    void otherMultipartTypesAreUnsupported() {
        assertProblem(http.generate(body("prompt", PROMPT), "Content-Type", "multipart/mixed"), 415, null, "multipart/");
    }

    // Found by fuzzing: Spring's own errors were negotiated against Accept, so an Accept the server cannot
    // parse, or one without JSON, left them without a body; and Spring 7.0.8 answered one that starts with a
    // quote with a 500 (spring-framework#36971).
    @ParameterizedTest
    @ValueSource(strings = {"image/png;q=abc", "F7'", "image/png", "\"application/json\""})
    void errorsAreProblemsWhateverTheAcceptHeader(String accept) {
        assertProblem(http.send(http.request("/no/such/path").header("Accept", accept).GET().build()), 404, null,
                "no/such/path");
    }

    // Found by fuzzing: a JSON answer was labelled application/problem+json when that was all Accept allowed.
    @Test
    void jsonAnswersAreNotLabelledAsProblems() {
        assertProblem(http.send(http.request("/v1/model").header("Accept", "application/problem+json").GET().build()),
                406, null, "Acceptable representations: [application/json]");
    }

    @Test
    void oversizedBodyWithContentLengthIsTooLarge() {
        assertProblem(http.generate(oversizedBody()), 413, null, "larger than the limit of 8388608 bytes");
    }

    @Test
    void oversizedChunkedBodyIsTooLarge() {
        byte[] bytes = oversizedBody().getBytes(StandardCharsets.UTF_8);
        // Without a known length the client sends the body chunked, so only the byte count while reading can catch it.
        HttpResponse<byte[]> response = http.send(http.generateRequest(
                BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes))));
        assertProblem(response, 413, null, "larger than the limit of 8388608 bytes");
    }

    private static String oversizedBody() {
        return body("prompt", PROMPT, "negative_prompt", "x".repeat(8_400_000));
    }

    @Test
    void getGenerateIsNotAllowed() {
        assertProblem(http.get("/generate"), 405, null, "GET");
    }

    @Test
    void unknownPathIsAProblem() {
        assertProblem(http.get("/no/such/path"), 404, null, "no/such/path");
    }

    // Last, so that every bad request above has been thrown at this server first.
    @Test
    @Order(Integer.MAX_VALUE)
    void stillServesAfterAllTheBadRequests() {
        assertEquals(64, decode(pngFor("prompt", PROMPT, "steps", STEPS, "seed", 11)).getWidth());
    }

    @Test
    void modelDescribesTheFixtureItsDefaultsAndLimits() {
        HttpResponse<byte[]> response = http.get("/v1/model");
        assertEquals(200, response.statusCode());
        JsonNode model = json(response);

        assertEquals("tiny-fixture", model.get("name").asString());
        assertEquals("cpu", model.get("device").asString());
        JsonNode defaults = model.get("defaults");
        assertEquals(64, defaults.get("width").asInt());
        assertEquals(64, defaults.get("height").asInt());
        assertEquals(20, defaults.get("steps").asInt());
        assertEquals(5.0, defaults.get("guidance_scale").asDouble());
        assertEquals("ddim", defaults.get("sampler").asString());
        assertEquals(0.0, defaults.get("eta").asDouble());
        assertEquals(1, defaults.get("num_images").asInt());
        JsonNode limits = model.get("limits");
        assertEquals(8, limits.get("size_multiple").asInt());
        assertEquals(1_048_576, limits.get("max_pixels").asLong());
        assertEquals(150, limits.get("max_steps").asInt());
        assertEquals(30.0, limits.get("max_guidance_scale").asDouble());
        assertEquals(8, limits.get("max_images").asInt());
        assertEquals(2000, limits.get("max_prompt_length").asInt());
        assertEquals(0, limits.get("max_clip_skip").asInt());
        assertFalse(model.get("size_conditioning").asBoolean());
        List<String> samplers = new ArrayList<>();
        model.get("samplers").forEach(name -> samplers.add(name.asString()));
        assertEquals(List.of("ddim", "dpmpp_2m", "dpmpp_2m_karras", "euler", "euler_karras", "euler_a", "lcm"),
                samplers);
    }

    @Test
    void readinessIsUp() {
        HttpResponse<byte[]> response = http.get("/actuator/health/readiness");
        assertEquals(200, response.statusCode());
        assertEquals("UP", json(response).get("status").asString());
    }

    @Test
    void prometheusAnswers() {
        HttpResponse<byte[]> response = http.get("/actuator/prometheus");
        assertEquals(200, response.statusCode());
        assertTrue(new String(response.body(), StandardCharsets.UTF_8).contains("jvm_memory_used_bytes"));
    }
}
