package io.stipple.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** OpenAI's Images API over real HTTP on the tiny fixture: the answer's exact shape, URLs, and errors in OpenAI's shape. */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
class OpenAiImagesApiTest {
    @LocalServerPort
    int port;

    private StippleHttp http;

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    private static BufferedImage image(byte[] bytes) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(bytes));
    }

    @Test
    void generationsAnswerInOpenAisShape() throws IOException {
        long before = Instant.now().getEpochSecond();
        HttpResponse<byte[]> response = http.post("/v1/images/generations", StippleHttp.body("prompt", "a red circle",
                "model", "tiny-fixture", "n", 2, "size", "32x48", "response_format", "b64_json", "quality", "low",
                "style", "vivid", "user", "someone"));
        assertEquals(200, response.statusCode(), new String(response.body()));
        JsonNode answer = StippleHttp.json(response);
        assertEquals(2, answer.size(), "exactly created and data: " + answer);
        long after = Instant.now().getEpochSecond();
        long created = answer.get("created").asLong();
        assertTrue(before <= created && created <= after, "created " + created + ", asked from " + before + " to " + after);
        assertEquals(2, answer.get("data").size());
        for (JsonNode item : answer.get("data")) {
            assertEquals(1, item.size(), "only b64_json: " + item);
            BufferedImage png = image(Base64.getDecoder().decode(item.get("b64_json").asString()));
            assertEquals(32, png.getWidth());
            assertEquals(48, png.getHeight());
        }

        JsonNode jpeg = StippleHttp.json(http.post("/v1/images/generations", StippleHttp.body("prompt", "a red circle",
                "response_format", "b64_json", "output_format", "jpeg")));
        byte[] bytes = Base64.getDecoder().decode(jpeg.at("/data/0/b64_json").asString());
        assertEquals(0xFF, bytes[0] & 0xFF, "a JPEG starts with FF D8");
        assertEquals(0xD8, bytes[1] & 0xFF);
    }

    @Test
    void urlsPointIntoTheJobStore() throws IOException {
        JsonNode answer = StippleHttp.json(http.post("/v1/images/generations",
                StippleHttp.body("prompt", "a blue square", "size", "auto")));
        String url = answer.at("/data/0/url").asString();
        assertTrue(url.startsWith("http://localhost:" + port + "/v1/jobs/") && url.endsWith("/images/0"), url);
        HttpResponse<byte[]> png = http.get(url.substring(("http://localhost:" + port).length()));
        assertEquals(200, png.statusCode());
        assertEquals(64, image(png.body()).getWidth(), "auto is the model's default size");
    }

    @Test
    void errorsComeInOpenAisShapeWithTheParameterNamed() {
        assertError(http.post("/v1/images/generations", StippleHttp.body("prompt", "x", "model", "dall-e-3")), 400,
                "model", "unknown model \"dall-e-3\"; served: tiny-fixture");
        assertError(http.post("/v1/images/generations", StippleHttp.body("prompt", "x", "n", 99)), 400, "n",
                "num_images must be between 1 and 8, got 99");
        assertError(http.post("/v1/images/generations", StippleHttp.body("prompt", "x", "size", "1024")), 400, "size",
                "size must be \"auto\" or WIDTHxHEIGHT");
        assertError(http.post("/v1/images/generations", StippleHttp.body("prompt", "x", "size", "100x100")), 400, "size",
                "width must be a positive multiple of 8");
        assertError(http.post("/v1/images/generations", StippleHttp.body("prompt", "x", "output_format", "webp",
                "response_format", "b64_json")), 400, "output_format", "webp is not available");
        assertError(http.post("/v1/images/generations", StippleHttp.body("prompt", " ")), 400, "prompt",
                "prompt is required");
        assertError(http.post("/v1/images/generations", "{\"prompt\": \"x\", \"size\": 512}"), 400, "size",
                "Field \"size\" must be a string");
    }

    private static void assertError(HttpResponse<byte[]> response, int status, String param, String messagePart) {
        String text = new String(response.body());
        assertEquals(status, response.statusCode(), text);
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), text);
        JsonNode error = StippleHttp.json(response).get("error");
        assertEquals(4, error.size(), text);
        assertTrue(error.get("message").asString().contains(messagePart), text);
        assertEquals("invalid_request_error", error.get("type").asString(), text);
        assertEquals(param, error.get("param").asString(), text);
        assertTrue(error.get("code").isNull(), text);
    }
}
