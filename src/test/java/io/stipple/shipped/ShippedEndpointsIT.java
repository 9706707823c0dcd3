package io.stipple.shipped;

import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.testing.Png;
import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * Every public endpoint of the jar as shipped: the embedded default model, no settings. Fixtures prove the
 * math; this proves the product (a 500 on {@code /v3/api-docs} once escaped because its test ran only on a
 * fixture). The last test reads the server's log: operators see startup and nothing per request.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShippedEndpointsIT {
    private static ShippedJar jar;
    private static StippleHttp http;
    private static JsonNode model;

    @BeforeAll
    static void startTheJar() throws Exception {
        jar = ShippedJar.start();
        http = jar.http;
        model = json(http.get("/v1/model"));
    }

    @AfterAll
    static void stopTheJar() throws Exception {
        if (jar != null) {
            jar.close();
        }
    }

    @Test
    void servesTheEmbeddedModel() {
        assertEquals("stipple-shapes", model.get("name").asString());
        assertEquals(4, model.at("/limits/size_multiple").asInt(), "the embedded model's vae_scale_factor");
    }

    @Test
    void servesBothEmbeddedModelsByName() {
        JsonNode served = json(http.get("/v1/models"));
        assertEquals("stipple-shapes", served.get("default").asString());
        assertEquals(List.of("stipple-shapes", "stipple-shapes-lcm"),
                served.get("models").valueStream().map(m -> m.get("name").asString()).toList());
        JsonNode lcm = json(http.get("/v1/models/stipple-shapes-lcm"));
        assertTrue(lcm.get("guidance_embedded").asBoolean());
        assertEquals("lcm", lcm.at("/defaults/sampler").asString());
        assertEquals(4, lcm.at("/defaults/steps").asInt());

        JsonNode answer = http.generateJson(body("prompt", "a red circle on a blue background", "seed", 7,
                "model", "stipple-shapes-lcm"));
        assertEquals("stipple-shapes-lcm", answer.at("/parameters/model").asString());
        assertEquals(lcm.at("/defaults/width").asInt(), Png.decode(StippleHttp.png(answer.at("/images/0"))).getWidth());
        assertProblem(http.generate(body("prompt", "a cat", "model", "sd-xl")), 400, "model",
                "served: stipple-shapes, stipple-shapes-lcm");
    }

    @Test
    void generatesTheModelsDefaultImageAsJsonAndAsPng() {
        JsonNode answer = http.generateJson(body("prompt", "a red circle on a blue background", "seed", 7));
        JsonNode image = answer.at("/images/0");
        assertEquals(model.at("/defaults/width").asInt(), image.get("width").asInt());
        BufferedImage pixels = Png.decode(StippleHttp.png(image));
        assertEquals(model.at("/defaults/width").asInt(), pixels.getWidth());
        assertEquals(model.at("/defaults/height").asInt(), pixels.getHeight());

        HttpResponse<byte[]> png = http.generate(body("prompt", "a red circle on a blue background", "seed", 7),
                "Accept", "image/png");
        assertEquals(200, png.statusCode());
        assertEquals("7", png.headers().firstValue("X-Stipple-Seed").orElseThrow());
        assertArrayEquals(StippleHttp.png(image), png.body(), "same seed, same PNG");
    }

    @Test
    void answersInvalidRequestsWithProblems() {
        int multiple = model.at("/limits/size_multiple").asInt();
        if (multiple > 1) {
            assertProblem(http.generate(body("prompt", "a cat", "width", multiple + 1)), 400, "width", "multiple of " + multiple);
        }
        assertProblem(http.generate(body("prompt", "a cat", "sampler", "plms")), 400, "sampler", "plms");
        assertProblem(http.generate("{\"prompt\": "), 400, null, "not valid JSON");
        assertProblem(http.get("/v1/jobs/no-such-job"), 404, null, "no-such-job");
    }

    @Test
    void runsAnAsyncJobWithEventsImagesAndCancellation() {
        HttpResponse<byte[]> accepted = http.post("/v1/jobs", body("prompt", "a blue square", "seed", 3));
        assertEquals(202, accepted.statusCode(), () -> new String(accepted.body()));
        String location = accepted.headers().firstValue("Location").orElseThrow();
        String last;
        try (StippleHttp.EventStream events = http.events(location + "/events")) {
            StippleHttp.Event event;
            do {
                event = events.next();
            } while (event != null && !List.of("succeeded", "failed", "cancelled").contains(event.name()));
            last = event == null ? null : event.name();
        }
        assertEquals("succeeded", last);
        assertEquals("succeeded", json(http.get(location)).get("status").asString());
        HttpResponse<byte[]> image = http.get(location + "/images/0");
        assertEquals(200, image.statusCode());
        Png.decode(image.body());
        assertProblem(http.delete(location), 409, null, "already succeeded");

        HttpResponse<byte[]> longAccepted = http.post("/v1/jobs", body("prompt", "a green circle", "steps", 150, "width", 512,
                "height", 512));
        String longJob = longAccepted.headers().firstValue("Location").orElseThrow();
        assertEquals(202, http.delete(longJob).statusCode());
    }

    /** Image-to-image and inpainting on the embedded model: its VAE encoder is shipped and loaded. */
    @Test
    void startsFromAnImageAndRepaintsUnderAMask() {
        String png = java.util.Base64.getEncoder().encodeToString(StippleHttp.png(
                http.generateJson(body("prompt", "a red circle on a white background", "seed", 1)).at("/images/0")));
        BufferedImage recoloured = Png.decode(StippleHttp.png(http.generateJson(body("prompt",
                "a blue circle on a white background", "init_image", png, "strength", 0.6, "seed", 2)).at("/images/0")));
        assertEquals(model.at("/defaults/width").asInt(), recoloured.getWidth());
        String mask = java.util.Base64.getEncoder().encodeToString(StippleHttp.png(
                http.generateJson(body("prompt", "a white square on a black background", "seed", 3)).at("/images/0")));
        assertEquals(200, http.generate(body("prompt", "a green triangle on a white background", "init_image", png,
                "mask_image", mask, "strength", 1.0)).statusCode());
        assertProblem(http.generate(body("prompt", "x", "init_image", "not an image")), 400, "init_image", "PNG or JPEG");
    }

    @Test
    void speaksOpenAisImagesApi() {
        JsonNode generated = json(http.post("/v1/images/generations", body("prompt", "a red circle on a blue background",
                "n", 2, "response_format", "b64_json")));
        assertEquals(2, generated.get("data").size());
        Png.decode(java.util.Base64.getDecoder().decode(generated.at("/data/0/b64_json").asString()));
        String url = json(http.post("/v1/images/generations", body("prompt", "a blue square"))).at("/data/0/url").asString();
        assertEquals(200, http.get(url.substring(url.indexOf("/v1/jobs/"))).statusCode());
        JsonNode refused = json(http.post("/v1/images/generations", body("prompt", "x", "model", "dall-e-3")));
        assertEquals("model", refused.at("/error/param").asString());
    }

    @Test
    void speaksAutomatic1111sApi() {
        JsonNode answer = json(http.post("/sdapi/v1/txt2img", body("prompt", "a red circle on a blue background",
                "sampler_name", "DPM++ 2M", "scheduler", "Karras", "steps", 12, "cfg_scale", 5, "seed", 9)));
        Png.decode(java.util.Base64.getDecoder().decode(answer.at("/images/0").asString()));
        assertTrue(answer.get("info").asString().contains("\"seed\":9"), answer.get("info").asString());
        JsonNode edited = json(http.post("/sdapi/v1/img2img", body("prompt", "a blue circle on a red background",
                "init_images", List.of("data:image/png;base64," + answer.at("/images/0").asString()),
                "denoising_strength", 0.5)));
        assertEquals(1, edited.get("images").size());
        for (String list : List.of("/sdapi/v1/samplers", "/sdapi/v1/schedulers", "/sdapi/v1/sd-models", "/sdapi/v1/upscalers",
                "/sdapi/v1/latent-upscale-modes", "/sdapi/v1/sd-vae", "/sdapi/v1/options", "/sdapi/v1/progress")) {
            assertEquals(200, http.get(list).statusCode(), list);
        }
        assertEquals("stipple-shapes", json(http.get("/sdapi/v1/options")).get("sd_model_checkpoint").asString());
        assertEquals(200, http.post("/sdapi/v1/interrupt", "").statusCode());
        assertEquals("unknown sampler \"Heun\"; available: DDIM, DPM++ 2M, DPM++ 2M Karras, Euler a, Euler, LCM",
                json(http.post("/sdapi/v1/txt2img", body("prompt", "x", "sampler_name", "Heun"))).get("detail").asString());
    }

    @Test
    void describesTheApiAndItsExamplesWork() {
        HttpResponse<byte[]> docs = http.get("/v3/api-docs");
        assertEquals(200, docs.statusCode(), () -> new String(docs.body(), StandardCharsets.UTF_8));
        JsonNode api = json(docs);
        JsonNode width = api.at("/components/schemas/GenerateRequestBody/properties/width");
        assertEquals(model.at("/limits/size_multiple").asInt(), width.get("multipleOf").asInt());
        assertEquals(model.at("/defaults/width").asInt(), width.get("default").asInt());

        JsonNode generate = api.at("/paths/~1generate/post");
        JsonNode example = generate.at("/requestBody/content/application~1json/example");
        assertEquals(200, http.generate(example.toString()).statusCode(), "the documented example request works");
        JsonNode documentedInvalid = generate.at("/responses/400/content/application~1problem+json/example");
        int maxSteps = api.at("/components/schemas/GenerateRequestBody/properties/steps/maximum").asInt();
        assertEquals(model.at("/limits/max_steps").asInt(), maxSteps);
        assertEquals(documentedInvalid, json(http.generate(body("prompt", "a cat", "steps", maxSteps + 1))),
                "the documented problem is the server's answer");

        HttpResponse<byte[]> ui = http.get("/swagger-ui/index.html");
        assertEquals(200, ui.statusCode());
        assertTrue(new String(ui.body(), StandardCharsets.UTF_8).contains("swagger-ui"));
        assertEquals(200, http.get("/v3/api-docs/swagger-config").statusCode());
    }

    @Test
    void servesTheWebPage() {
        for (String file : List.of("/", "/app.js", "/app.css")) {
            HttpResponse<byte[]> response = http.get(file);
            assertEquals(200, response.statusCode(), file);
            assertTrue(response.body().length > 100, file);
        }
        assertTrue(http.get("/").headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    }

    @Test
    void exposesHealthInfoAndMetrics() {
        for (String probe : List.of("/actuator/health", "/actuator/health/readiness", "/actuator/health/liveness")) {
            HttpResponse<byte[]> health = http.get(probe);
            assertEquals(200, health.statusCode(), probe);
            assertEquals("UP", json(health).get("status").asString(), probe);
        }
        assertEquals("0.1.0-SNAPSHOT", json(http.get("/actuator/info")).at("/build/version").asString());
        String prometheus = new String(http.get("/actuator/prometheus").body(), StandardCharsets.UTF_8);
        assertTrue(prometheus.contains("stipple_queue_depth"), "no stipple metrics in /actuator/prometheus");
        assertEquals(200, http.get("/actuator/metrics/stipple.queue.depth").statusCode());
    }

    /** Runs last: everything above has been logged by now. */
    /**
     * DJL probes for CUDA every time it detects a platform, and warns on a machine with a CUDA runtime but no
     * usable driver (four WARN lines an operator reads as a fault). The server says instead, once, which device
     * it chose and why, with the CPU as /proc/cpuinfo describes it.
     */
    @Test
    void saysOnceWhichDeviceItChoseAndWhy() throws IOException {
        String log = jar.log();
        assertFalse(log.contains("ai.djl.util.cuda.CudaUtils"), "DJL's CUDA probe in the log:\n" + log);
        List<String> deviceLines = log.lines().filter(line -> line.contains("io.stipple.model.Devices")).toList();
        assertEquals(1, deviceLines.size(), () -> "one line about the device:\n" + log);
        String line = deviceLines.get(0);
        assertTrue(line.contains(" INFO ") && line.contains("No CUDA device: running on the CPU (")
                && line.contains("stipple.device=auto and libtorch is a CPU build"), line);
        assertTrue(line.contains(Runtime.getRuntime().availableProcessors() + " cores"), line);
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            List<String> cpu = Files.readAllLines(cpuinfo);
            String model = cpu.stream().filter(l -> l.startsWith("model name")).findFirst().orElseThrow();
            assertTrue(line.contains(model.substring(model.indexOf(':') + 1).strip()), line);
            String flags = cpu.stream().filter(l -> l.startsWith("flags")).findFirst().orElseThrow();
            for (String flag : List.of("avx2", "avx512f", "avx512_bf16")) {
                assertEquals(flags.matches(".*\\b" + flag + "\\b.*"), line.matches(".*\\b" + flag + "\\b.*"),
                        flag + " in " + flags + " but not in " + line + ", or the other way round");
            }
        }
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void logsNothingPerRequest() {
        String log = jar.log();
        assertFalse(log.contains("NNPACK"), "native NNPACK noise in the log");
        assertTrue(log.lines().anyMatch(line -> line.contains(" WARN ") && line.contains("ACCESS CONTROL IS OFF")),
                "an open server says so at startup");
        List<String> afterStartup = log.lines().dropWhile(line -> !line.contains("Started StippleApplication")).skip(1)
                .toList();
        List<String> problems = afterStartup.stream().filter(line -> line.contains(" WARN ") || line.contains(" ERROR ")
                || !line.matches("^\\d{4}-\\d\\d-\\d\\dT.*")).toList();
        assertEquals(List.of(), problems, "warnings, errors or unformatted (native) lines after startup");
        assertTrue(afterStartup.size() <= 6, () -> "more than the one-time lines after startup:\n" + afterStartup);
    }
}
