package io.stipple.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.NodeClients;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The official {@code openai} npm package (pinned in src/test/resources/clients/openai-node/package.json,
 * installed from the npm registry on first use) calling {@code images.generate} and {@code images.edit}
 * against the real server, as an application pointed at Stipple would.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
class OpenAiNodeClientTest {
    @LocalServerPort
    int port;

    @TempDir
    Path files;

    @Test
    void theOfficialClientGeneratesEditsAndReadsErrors() throws Exception {
        Path image = files.resolve("image.png");
        Path mask = files.resolve("mask.png");
        ImageIO.write(redCircle(), "png", image.toFile());
        ImageIO.write(rightHalfTransparent(), "png", mask.toFile());

        long before = Instant.now().getEpochSecond();
        String output = NodeClients.run("openai-node", "images.mjs", "http://localhost:" + port + "/v1",
                image.toString(), mask.toString());
        long after = Instant.now().getEpochSecond();
        JsonNode result = JsonMapper.builder().build().readTree(output);

        JsonNode generated = result.get("generated");
        long created = generated.get("created").asLong();
        assertTrue(before <= created && created <= after, "created " + created + ", asked from " + before + " to " + after);
        assertEquals(2, generated.get("images").size());
        for (JsonNode b64 : generated.get("images")) {
            BufferedImage png = decode(b64.asString());
            assertEquals(32, png.getWidth());
            assertEquals(48, png.getHeight());
        }
        assertEquals(200, result.at("/url/status").asInt(), result.get("url").toString());
        assertEquals("image/png", result.at("/url/type").asString());

        BufferedImage edited = decode(result.get("edited").get(0).asString());
        assertEquals(64, edited.getWidth());
        assertEquals(redCircle().getRGB(5, 32), edited.getRGB(5, 32), "the opaque half of the mask is kept as it was");

        JsonNode refused = result.get("refused");
        assertEquals(400, refused.get("status").asInt(), refused.toString());
        assertEquals("invalid_request_error", refused.get("type").asString());
        assertEquals("model", refused.get("param").asString());
        assertTrue(refused.get("message").asString().contains("unknown model \"dall-e-3\""), refused.toString());
    }

    private static BufferedImage decode(String base64) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(base64)));
    }

    private static BufferedImage redCircle() {
        BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = image.createGraphics();
        graphics.setColor(Color.WHITE);
        graphics.fillRect(0, 0, 64, 64);
        graphics.setColor(new Color(0xD71E1E));
        graphics.fillOval(6, 22, 20, 20);
        graphics.dispose();
        return image;
    }

    /** OpenAI's convention: the transparent right half is what to edit. */
    private static BufferedImage rightHalfTransparent() {
        BufferedImage mask = new BufferedImage(64, 64, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                mask.setRGB(x, y, x < 32 ? 0xFF000000 : 0x00000000);
            }
        }
        return mask;
    }
}
