package io.stipple.api.a1111;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.engine.HeldDevice;
import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** AUTOMATIC1111's API over real HTTP on the tiny fixture: answers in A1111's shape, progress, interrupt, errors. */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.preview.every=1"})
class A1111ApiTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @LocalServerPort
    int port;
    @Autowired
    ApplicationContext context;
    @Autowired
    MeterRegistry registry;

    private StippleHttp http;

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    private static BufferedImage png(String base64) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(base64)));
    }

    @Test
    void txt2imgAnswersWithImagesParametersAndInfo() throws IOException {
        HttpResponse<byte[]> response = http.post("/sdapi/v1/txt2img", StippleHttp.body("prompt", "a red circle",
                "negative_prompt", "blurry", "steps", 4, "cfg_scale", 6.5, "sampler_name", "DPM++ 2M", "scheduler", "Karras",
                "seed", 77, "width", 32, "height", 48, "batch_size", 2, "n_iter", 1, "restore_faces", false,
                "enable_hr", false, "override_settings", java.util.Map.of("sd_model_checkpoint", "tiny-fixture")));
        assertEquals(200, response.statusCode(), new String(response.body()));
        JsonNode answer = StippleHttp.json(response);
        assertEquals(2, answer.get("images").size());
        assertEquals(32, png(answer.get("images").get(0).asString()).getWidth());
        assertEquals("a red circle", answer.at("/parameters/prompt").asString());

        JsonNode info = JSON.readTree(answer.get("info").asString());
        assertEquals(77, info.get("seed").asLong());
        assertEquals(List.of(77L, 78L), List.of(info.get("all_seeds").get(0).asLong(), info.get("all_seeds").get(1).asLong()));
        assertEquals("DPM++ 2M", info.get("sampler_name").asString());
        assertEquals("Karras", info.get("scheduler").asString());
        assertEquals("a red circle\nNegative prompt: blurry\nSteps: 4, Sampler: DPM++ 2M, Schedule type: Karras, "
                + "CFG scale: 6.5, Seed: 78, Size: 32x48, Model: tiny-fixture, Version: stipple",
                info.get("infotexts").get(1).asString());
    }

    @Test
    void img2imgStartsFromTheFirstInitImage() throws IOException {
        BufferedImage start = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(start, "png", out);
        String dataUrl = "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
        JsonNode answer = StippleHttp.json(http.post("/sdapi/v1/img2img", StippleHttp.body("prompt", "a red circle",
                "init_images", List.of(dataUrl), "denoising_strength", 0.5, "steps", 4, "width", 40, "height", 40,
                "mask", dataUrl, "inpainting_mask_invert", 1, "inpainting_fill", 1, "mask_blur", 4, "resize_mode", 0)));
        assertEquals(40, png(answer.get("images").get(0).asString()).getWidth());
        assertEquals(0.5, JSON.readTree(answer.get("info").asString()).get("denoising_strength").asDouble());
    }

    @Test
    void listsWhatItServesInA1111sTerms() {
        JsonNode samplers = StippleHttp.json(http.get("/sdapi/v1/samplers"));
        assertEquals(List.of("DDIM", "DPM++ 2M", "DPM++ 2M Karras", "Euler a", "Euler", "LCM"),
                samplers.valueStream().map(sampler -> sampler.get("name").asString()).toList());
        assertEquals("Karras", StippleHttp.json(http.get("/sdapi/v1/schedulers")).get(2).get("label").asString());
        assertEquals("tiny-fixture", StippleHttp.json(http.get("/sdapi/v1/sd-models")).get(0).get("title").asString());
        assertEquals("tiny-fixture", StippleHttp.json(http.get("/sdapi/v1/options")).get("sd_model_checkpoint").asString());
        assertEquals(200, http.post("/sdapi/v1/options", StippleHttp.body("sd_model_checkpoint", "tiny-fixture",
                "CLIP_stop_at_last_layers", 2)).statusCode());
        assertError(http.post("/sdapi/v1/options", StippleHttp.body("sd_model_checkpoint", "v1-5-pruned.safetensors")),
                400, "unknown checkpoint \"v1-5-pruned.safetensors\"; served: tiny-fixture");
    }

    /** The test holds the device once the job has made progress, so it is still running however fast the machine. */
    @Test
    void progressFollowsTheRunningJobAndInterruptEndsIt() throws Exception {
        CompletableFuture<HttpResponse<byte[]>> slow;
        try (HeldDevice device = HeldDevice.hold(context)) {
            slow = http.sendAsync(http.request("/sdapi/v1/txt2img")
                    .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            StippleHttp.body("prompt", "a slow one", "steps", 150, "width", 256, "height", 256))).build());
            device.releaseUntil(() -> {
                JsonNode progress = progress();
                return progress.at("/state/sampling_step").asInt() >= 2 && !progress.get("current_image").isNull();
            });
            JsonNode progress = progress();
            assertTrue(progress.get("progress").asDouble() > 0 && progress.get("progress").asDouble() < 1, progress.toString());
            assertEquals(150, progress.at("/state/sampling_steps").asInt());
            assertTrue(progress.get("eta_relative").asDouble() > 0, progress.toString());
            assertTrue(png(progress.get("current_image").asString()).getWidth() > 0, "the latest preview");

            assertEquals(200, http.post("/sdapi/v1/interrupt", "").statusCode());
        }
        HttpResponse<byte[]> interrupted = slow.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertEquals(409, interrupted.statusCode(), new String(interrupted.body()));
        assertEquals(0, StippleHttp.json(http.get("/sdapi/v1/progress")).at("/state/job_count").asInt());
    }

    /** Previews cost work on the model's thread: a client that never asks for current_image causes none. */
    @Test
    void previewsAreRenderedOnlyOnceAClientAsksForThem() throws Exception {
        double before = registry.get("stipple.previews").counter().count();
        CompletableFuture<HttpResponse<byte[]>> slow;
        try (HeldDevice device = HeldDevice.hold(context)) {
            slow = http.sendAsync(http.request("/sdapi/v1/txt2img")
                    .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            StippleHttp.body("prompt", "a slow one", "steps", 150, "width", 256, "height", 256))).build());
            device.releaseUntil(() -> progress("?skip_current_image=true").at("/state/sampling_step").asInt() >= 3);
            JsonNode progress = progress("?skip_current_image=true");
            assertTrue(progress.get("current_image").isNull());
            assertEquals(before, registry.get("stipple.previews").counter().count(), "previews nobody asked for");

            int step = progress.at("/state/sampling_step").asInt();
            device.releaseUntil(() -> progress("").at("/state/sampling_step").asInt() >= step + 2
                    && !progress("").get("current_image").isNull());
            assertTrue(registry.get("stipple.previews").counter().count() > before, "previews once asked for");
            assertEquals(200, http.post("/sdapi/v1/interrupt", "").statusCode());
        }
        assertEquals(409, slow.get(PATIENCE.toSeconds(), TimeUnit.SECONDS).statusCode());
    }

    private JsonNode progress() {
        return progress("");
    }

    private JsonNode progress(String query) {
        return StippleHttp.json(http.get("/sdapi/v1/progress" + query));
    }

    @Test
    void errorsComeInA1111sShape() {
        assertError(http.post("/sdapi/v1/txt2img", StippleHttp.body("prompt", "x", "sampler_name", "DPM++ SDE")), 400,
                "unknown sampler \"DPM++ SDE\"; available: DDIM, DPM++ 2M, DPM++ 2M Karras, Euler a");
        assertError(http.post("/sdapi/v1/txt2img", StippleHttp.body("prompt", "x", "steps", 0)), 400,
                "steps must be between 1 and");
        assertError(http.post("/sdapi/v1/txt2img", StippleHttp.body("prompt", "x", "seed", -5)), 400,
                "seed must be between 0 and");
        assertError(http.post("/sdapi/v1/img2img", StippleHttp.body("prompt", "x")), 400,
                "init_images needs one image to start from");
        assertError(http.post("/sdapi/v1/txt2img", "{\"prompt\": 5"), 400, "Field \"prompt\" must be a string");
    }

    private static void assertError(HttpResponse<byte[]> response, int status, String detailPart) {
        String text = new String(response.body());
        assertEquals(status, response.statusCode(), text);
        JsonNode error = StippleHttp.json(response);
        assertEquals(List.of("error", "detail", "body", "errors"), List.copyOf(error.propertyNames()), text);
        assertTrue(error.get("detail").asString().contains(detailPart), text);
    }
}
