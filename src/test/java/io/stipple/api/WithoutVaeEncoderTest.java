package io.stipple.api;

import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** A pipeline without {@code vae_encoder.pt} serves text-to-image, and says why it cannot start from an image. */
@SpringBootTest(webEnvironment = RANDOM_PORT)
class WithoutVaeEncoderTest {
    /** A 1×1 PNG, base64. */
    private static final String PNG =
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    private static final String WHY = "the model \"tiny-fixture\" has no vae_encoder.pt, so it cannot start from an image";

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void pipelineWithoutEncoder(DynamicPropertyRegistry registry) throws IOException {
        Path copy = Files.createTempDirectory("stipple-no-encoder");
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/pipelines/tiny"))) {
            for (Path file : files.filter(f -> !f.getFileName().toString().equals("vae_encoder.pt")).toList()) {
                Files.copy(file, copy.resolve(file.getFileName()));
            }
        }
        registry.add("stipple.model-dir", copy::toString);
        registry.add("stipple.embedded-models", () -> "false");
    }

    @Test
    void refusesInitImagesNamingTheMissingFile() {
        StippleHttp http = new StippleHttp(port);
        assertEquals(200, http.generate(body("prompt", "a red circle", "steps", 2)).statusCode());
        assertProblem(http.generate(body("prompt", "a red circle", "init_image", PNG)), 400, "init_image", WHY);
        assertEquals(WHY, StippleHttp.json(http.post("/sdapi/v1/img2img", body("prompt", "a red circle",
                "init_images", List.of(PNG)))).get("detail").asString());
    }
}
