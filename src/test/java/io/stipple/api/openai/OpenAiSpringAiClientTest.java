package io.stipple.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.springframework.ai.image.ImagePrompt;
import org.springframework.ai.image.ImageResponse;
import org.springframework.ai.openai.OpenAiImageModel;
import org.springframework.ai.openai.OpenAiImageOptions;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Spring AI's {@code OpenAiImageModel} (spring-ai-openai from the spring-ai-bom 2.0.1, built on OpenAI's own Java
 * SDK) with its base URL pointed at the real server, with an API key since access control is on here.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.security.api-keys[0].name=spring-ai",
        "stipple.security.api-keys[0].key=" + OpenAiSpringAiClientTest.KEY})
class OpenAiSpringAiClientTest {
    static final String KEY = "spring-ai-key-7";

    @LocalServerPort
    int port;

    private OpenAiImageOptions options(String key) {
        return OpenAiImageOptions.builder().baseUrl("http://localhost:" + port + "/v1").apiKey(key)
                .model("tiny-fixture").width(64).height(32).n(2).responseFormat("b64_json").maxRetries(0).build();
    }

    @Test
    void springAisImageModelGeneratesThroughStipple() throws Exception {
        OpenAiImageOptions options = options(KEY);
        ImageResponse response = new OpenAiImageModel(options).call(new ImagePrompt("a green triangle", options));
        assertEquals(2, response.getResults().size());
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(
                Base64.getDecoder().decode(response.getResult().getOutput().getB64Json())));
        assertEquals(64, image.getWidth());
        assertEquals(32, image.getHeight());
    }

    @Test
    void aWrongKeyIsRefusedAsOpenAiWould() {
        OpenAiImageOptions options = options("not-the-key");
        RuntimeException refused = assertThrows(RuntimeException.class,
                () -> new OpenAiImageModel(options).call(new ImagePrompt("a green triangle", options)));
        assertTrue(String.valueOf(refused.getMessage()).contains("401"), String.valueOf(refused.getMessage()));
    }
}
