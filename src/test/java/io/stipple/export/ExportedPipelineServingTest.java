package io.stipple.export;

import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static io.stipple.testing.StippleHttp.png;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.StippleApplication;
import io.stipple.pipeline.PngEncoder;
import io.stipple.testing.Png;
import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The exported Stable Diffusion pipelines go through the real server: its start-up checks, its defaults and
 * size rule from {@code pipeline.json}, and {@code POST /generate} alone and batched with other requests, among
 * them an LCM export (its 4-input U-Net given each request's guidance embedding), a 9-channel inpainting
 * export, for text-to-image and for inpainting, and an SDXL export (two text encoders, pooled embeddings and
 * time ids per row), also beside an SD 1.x model in the same server and through the compatibility APIs.
 */
class ExportedPipelineServingTest {
    /** inpaint-tiny's default size. */
    private static final int SIDE = 64;
    /** Beyond the feathered edge of the mask (two box-blur passes of radius 2), pixels are kept or repainted. */
    private static final int FEATHER = 5;

    @ParameterizedTest
    @CsvSource({"sd15-tiny, 64, 64, dpmpp_2m", "sd2-tiny, 32, 16, dpmpp_2m", "lcm-tiny, 64, 32, lcm",
            "inpaint-tiny, 64, 32, dpmpp_2m", "sdxl-tiny, 128, 32, euler"})
    void servesTheExportAloneAndBatched(String reference, int defaultSide, int sizeMultiple, String sampler) {
        try (ConfigurableApplicationContext context = serving(reference)) {
            StippleHttp http = http(context);
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

    /**
     * An inpainting request on the 9-channel export, alone and batched with a text-to-image one: the U-Net takes
     * each image's own mask and masked image beside its latent, and outside the mask the original comes back.
     */
    @Test
    void inpaintsWithTheNineChannelExport() {
        try (ConfigurableApplicationContext context = serving("inpaint-tiny")) {
            StippleHttp http = http(context);
            BufferedImage original = stripes();
            String request = body("prompt", "a cat on a sofa", "steps", 4, "seed", 5,
                    "init_image", Base64.getEncoder().encodeToString(PngEncoder.encode(original)),
                    "mask_image", Base64.getEncoder().encodeToString(PngEncoder.encode(rightHalf())));
            byte[] alone = png(http.generateJson(request).at("/images/0"));

            List<CompletableFuture<HttpResponse<byte[]>>> together = List.of(http.sendAsync(generate(http, request)),
                    http.sendAsync(generate(http, body("prompt", "a horse", "steps", 4, "seed", 2))));
            List<HttpResponse<byte[]>> answers = together.stream().map(CompletableFuture::join).toList();
            answers.forEach(answer -> assertEquals(200, answer.statusCode(), () -> new String(answer.body())));
            assertTrue(Png.maxChannelDifference(alone, png(json(answers.get(0)).at("/images/0"))) <= 1,
                    "batch-mates change an image by at most one grey level");

            BufferedImage inpainted = Png.decode(alone);
            int changed = 0;
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    if (x < SIDE / 2 - FEATHER) {
                        assertEquals(original.getRGB(x, y), inpainted.getRGB(x, y), "kept pixel (" + x + ", " + y + ")");
                    } else if (x >= SIDE / 2 + FEATHER && original.getRGB(x, y) != inpainted.getRGB(x, y)) {
                        changed++;
                    }
                }
            }
            assertTrue(changed > SIDE * SIDE / 4, "repainted pixels that differ from the original: " + changed);
        }
    }

    /**
     * SDXL beside SD 1.x: requests for both models at once, each image what its request gives alone; SDXL's own
     * fields (size conditioning, an empty versus an absent negative prompt, clip skip) change its image, and the
     * OpenAI and AUTOMATIC1111 endpoints serve it.
     */
    @Test
    void servesSdxlBesideSd15AndThroughTheCompatibilityApis() {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(StippleApplication.class).properties(
                "stipple.model-dir=" + Exporter.exported("sdxl-tiny"), "stipple.models[0]=" + Exporter.exported("sd15-tiny"),
                "stipple.embedded-models=false", "server.port=0").run()) {
            StippleHttp http = http(context);
            String sdxl = body("prompt", "a photograph of an astronaut riding a horse", "steps", 4, "seed", 3,
                    "width", 96, "height", 64);
            String sd15 = body("prompt", "a cat", "steps", 4, "seed", 4, "model", "sd15-tiny");
            byte[] sdxlAlone = png(http.generateJson(sdxl).at("/images/0"));
            byte[] sd15Alone = png(http.generateJson(sd15).at("/images/0"));
            List<HttpResponse<byte[]>> answers = List.of(http.sendAsync(generate(http, sdxl)),
                    http.sendAsync(generate(http, sd15)),
                    http.sendAsync(generate(http, body("prompt", "a horse", "negative_prompt", "blurry", "steps", 3,
                            "seed", 5, "width", 96, "height", 64, "original_size", List.of(1024, 1024)))))
                    .stream().map(CompletableFuture::join).toList();
            answers.forEach(answer -> assertEquals(200, answer.statusCode(), () -> new String(answer.body())));
            assertTrue(Png.maxChannelDifference(sdxlAlone, png(json(answers.get(0)).at("/images/0"))) <= 1);
            assertTrue(Png.maxChannelDifference(sd15Alone, png(json(answers.get(1)).at("/images/0"))) <= 1);

            JsonNode parameters = http.generateJson(sdxl).get("parameters");
            assertEquals("[64,96]", parameters.get("original_size").toString());
            assertEquals("[0,0]", parameters.get("crops_coords_top_left").toString());
            for (String changed : List.of(
                    sdxl.replace("\"seed\"", "\"original_size\": [512, 768], \"seed\""),
                    sdxl.replace("\"seed\"", "\"crops_coords_top_left\": [16, 0], \"seed\""),
                    sdxl.replace("\"seed\"", "\"negative_prompt\": \"\", \"seed\""),
                    sdxl.replace("\"seed\"", "\"clip_skip\": 1, \"seed\""))) {
                assertTrue(Png.maxChannelDifference(sdxlAlone, png(http.generateJson(changed).at("/images/0"))) > 1,
                        "no effect: " + changed);
            }

            String start = Base64.getEncoder().encodeToString(PngEncoder.encode(stripes()));
            String inpaint = body("prompt", "a cat on a sofa", "steps", 4, "seed", 6, "init_image", start,
                    "strength", 0.7, "mask_image", Base64.getEncoder().encodeToString(PngEncoder.encode(rightHalf())));
            BufferedImage inpainted = Png.decode(png(http.generateJson(inpaint).at("/images/0")));
            assertEquals(SIDE, inpainted.getWidth(), "image-to-image keeps the init image's size");
            assertEquals(stripes().getRGB(0, 0), inpainted.getRGB(0, 0), "inpainting keeps what the mask keeps");

            HttpResponse<byte[]> openAi = http.post("/v1/images/generations", body("prompt", "a cat", "size", "64x64",
                    "model", "sdxl-tiny", "quality", "low"));
            assertEquals(200, openAi.statusCode(), new String(openAi.body()));
            HttpResponse<byte[]> a1111 = http.post("/sdapi/v1/txt2img", body("prompt", "a cat", "steps", 3,
                    "width", 64, "height", 64, "sampler_name", "Euler", "override_settings",
                    java.util.Map.of("sd_model_checkpoint", "sdxl-tiny", "CLIP_stop_at_last_layers", 2)));
            assertEquals(200, a1111.statusCode(), new String(a1111.body()));
            assertTrue(json(a1111).get("info").asString().contains("Clip skip: 2"));
        }
    }

    private static ConfigurableApplicationContext serving(String reference) {
        return new SpringApplicationBuilder(StippleApplication.class).properties("stipple.model-dir="
                + Exporter.exported(reference), "stipple.embedded-models=false", "server.port=0").run();
    }

    private static StippleHttp http(ConfigurableApplicationContext context) {
        return new StippleHttp(Integer.parseInt(context.getEnvironment().getProperty("local.server.port")));
    }

    private static BufferedImage stripes() {
        BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                image.setRGB(x, y, (y / 8) % 2 == 0 ? 0x3060C0 : 0xE0C040);
            }
        }
        return image;
    }

    private static BufferedImage rightHalf() {
        BufferedImage mask = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIDE; y++) {
            for (int x = SIDE / 2; x < SIDE; x++) {
                mask.setRGB(x, y, 0xFFFFFF);
            }
        }
        return mask;
    }

    private static HttpRequest generate(StippleHttp http, String json) {
        return http.generateRequest(HttpRequest.BodyPublishers.ofString(json));
    }
}
