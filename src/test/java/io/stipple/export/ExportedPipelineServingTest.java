package io.stipple.export;

import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static io.stipple.testing.StippleHttp.png;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.StippleApplication;
import io.stipple.testing.Png;
import io.stipple.testing.StippleHttp;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The exported Stable Diffusion pipelines go through the real server: its start-up checks, its defaults and
 * size rule from {@code pipeline.json}, and {@code POST /generate} alone and batched with other requests.
 */
class ExportedPipelineServingTest {

    @ParameterizedTest
    @CsvSource({"sd15-tiny, 64, 64, dpmpp_2m", "sd2-tiny, 32, 16, dpmpp_2m"})
    void servesTheExportAloneAndBatched(String reference, int defaultSide, int sizeMultiple, String sampler) {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(StippleApplication.class)
                .properties("stipple.model-dir=" + Exporter.exported(reference), "stipple.embedded-models=false", "server.port=0").run()) {
            StippleHttp http = new StippleHttp(Integer.parseInt(context.getEnvironment().getProperty("local.server.port")));
            JsonNode model = json(http.get("/v1/model"));
            assertEquals(reference, model.get("name").asString());
            assertEquals(defaultSide, model.at("/defaults/width").asInt());
            assertEquals(sizeMultiple, model.at("/limits/size_multiple").asInt());
            assertEquals(sampler, model.at("/defaults/sampler").asString());

            String request = body("prompt", "a photograph of an astronaut riding a horse", "steps", 4, "seed", 11);
            JsonNode alone = http.generateJson(request).at("/images/0");
            assertEquals(defaultSide, Png.decode(png(alone)).getWidth());

            List<CompletableFuture<HttpResponse<byte[]>>> together = List.of(
                    http.sendAsync(generate(http, request)),
                    http.sendAsync(generate(http, body("prompt", "a cat", "steps", 4, "seed", 1, "num_images", 2))),
                    http.sendAsync(generate(http, body("prompt", "a horse", "steps", 6, "guidance_scale", 1.0, "sampler", "ddim"))));
            List<HttpResponse<byte[]>> answers = together.stream().map(CompletableFuture::join).toList();
            answers.forEach(answer -> assertEquals(200, answer.statusCode(), () -> new String(answer.body())));
            byte[] batched = png(json(answers.get(0)).at("/images/0"));
            assertTrue(Png.maxChannelDifference(png(alone), batched) <= 1,
                    "batch-mates change an image by at most one grey level");

            assertProblem(http.generate(body("prompt", "a cat", "width", defaultSide + sizeMultiple / 2)), 400, "width",
                    "multiple of " + sizeMultiple);
        }
    }

    private static HttpRequest generate(StippleHttp http, String json) {
        return http.generateRequest(HttpRequest.BodyPublishers.ofString(json));
    }
}
