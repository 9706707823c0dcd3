package io.stipple.api.a1111;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The exact traffic of two widely used AUTOMATIC1111 clients, replayed against the real server, with their
 * response parsing:
 * <ul>
 * <li>SillyTavern, {@code src/endpoints/stable-diffusion.js} and
 * {@code public/scripts/extensions/stable-diffusion/index.js} at 1ac6780e9c7f8a24a91ddbd8efd0f638e480cbd3
 * (staging, 2024-10-18; release ba6f7b7a98cf7a5eaf4f0e81da9779a9a668ced4 has the same A1111 code): its
 * browser builds the txt2img body (generateAutoImage) and its server forwards it unchanged with
 * {@code Authorization: Basic}, reads {@code images[0]} as bare base64 PNG, lists models, samplers,
 * schedulers, upscalers and VAEs by name, sets the model and polls progress until idle, and interrupts with
 * an empty POST.</li>
 * <li>Open WebUI, {@code backend/open_webui/routers/images.py} at 02530d501461ce58ab06231d7c2ef2024a141ddf:
 * reads the options before every generation, switches the model by posting the whole options object back,
 * lists models by title and model_name, and stores every image of {@code images} with {@code info}.</li>
 * </ul>
 * Sizes are the clients' own; the tiny fixture serves them quickly.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
class A1111ClientsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** SillyTavern's Authorization with its default empty auth setting: base64 of the empty string. */
    private static final String EMPTY_BASIC = "Basic ";

    /** SillyTavern, generateAutoImage with the extension's default settings, as A1111 receives it. */
    private static final String SILLYTAVERN_DEFAULTS = """
            {
              "url": "http://localhost:7860",
              "auth": "",
              "prompt": "best quality, absurdres, aesthetic, 1girl, silver hair, red eyes, smiling, looking at viewer",
              "negative_prompt": "lowres, bad anatomy, bad hands, text, error, cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, username, blurry",
              "sampler_name": "DDIM",
              "scheduler": "normal",
              "steps": 20,
              "cfg_scale": 7,
              "width": 512,
              "height": 512,
              "restore_faces": false,
              "enable_hr": false,
              "hr_upscaler": "Latent",
              "hr_scale": 1,
              "denoising_strength": 0.7,
              "hr_second_pass_steps": 0,
              "override_settings": {
                "CLIP_stop_at_last_layers": 1
              },
              "override_settings_restore_afterwards": true,
              "clip_skip": 1,
              "save_images": true,
              "send_images": true,
              "do_not_save_grid": false,
              "do_not_save_samples": false
            }""";

    /** SillyTavern with a seed, a VAE, hires fix, auth and ADetailer switched on. */
    private static final String SILLYTAVERN_EVERYTHING_ON = """
            {
              "url": "http://127.0.0.1:7860",
              "auth": "user:pass",
              "prompt": "best quality, absurdres, aesthetic, a castle on a cliff at sunset",
              "negative_prompt": "lowres, bad anatomy, bad hands, text, error, cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, username, blurry",
              "sampler_name": "DPM++ 2M",
              "scheduler": "karras",
              "steps": 28,
              "cfg_scale": 6.5,
              "width": 832,
              "height": 1216,
              "restore_faces": false,
              "enable_hr": true,
              "hr_upscaler": "R-ESRGAN 4x+",
              "hr_scale": 1.5,
              "hr_additional_modules": [],
              "denoising_strength": 0.45,
              "hr_second_pass_steps": 10,
              "seed": 123456789,
              "override_settings": {
                "CLIP_stop_at_last_layers": 2,
                "sd_vae": "sdxl_vae.safetensors",
                "forge_additional_modules": ["sdxl_vae.safetensors"]
              },
              "override_settings_restore_afterwards": true,
              "clip_skip": 2,
              "save_images": true,
              "send_images": true,
              "do_not_save_grid": false,
              "do_not_save_samples": false,
              "alwayson_scripts": {
                "ADetailer": {
                  "args": [true, true, {"ad_model": "face_yolov8n.pt"}]
                }
              }
            }""";

    @LocalServerPort
    int port;

    private StippleHttp http;

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    /** As SillyTavern's server calls A1111 (node-fetch): Basic auth, JSON only when there is a body. */
    private HttpResponse<byte[]> sillyTavern(String method, String path, String json, String authorization) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", authorization).header("Accept", "*/*");
        if (json == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        }
        return http.send(request.build());
    }

    private static List<String> names(JsonNode list, String field) {
        List<String> names = new ArrayList<>();
        list.forEach(item -> names.add(item.get(field).asString()));
        return names;
    }

    private static BufferedImage dataUrlImage(String base64) throws IOException {
        // saveBase64AsFile: `data:image/${format};base64,${base64Data}`, so the base64 must be bare.
        String dataUrl = "data:image/png;base64," + base64;
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(dataUrl.substring(dataUrl.indexOf(',') + 1))));
    }

    @Test
    void sillyTavernConnectsListsAndSetsTheModel() {
        assertTrue(sillyTavern("GET", "/sdapi/v1/options", null, EMPTY_BASIC).statusCode() == 200, "ping");
        List<String> titles = names(StippleHttp.json(sillyTavern("GET", "/sdapi/v1/sd-models", null, EMPTY_BASIC)), "title");
        String current = StippleHttp.json(sillyTavern("GET", "/sdapi/v1/options", null, EMPTY_BASIC))
                .get("sd_model_checkpoint").asString();
        assertTrue(titles.contains(current), "the dropdown preselects the current model: " + current + " in " + titles);
        assertTrue(names(StippleHttp.json(sillyTavern("GET", "/sdapi/v1/samplers", null, EMPTY_BASIC)), "name")
                .contains("DDIM"), "SillyTavern's default sampler");
        assertTrue(names(StippleHttp.json(sillyTavern("GET", "/sdapi/v1/schedulers", null, EMPTY_BASIC)), "name")
                .contains("normal"), "SillyTavern's default scheduler");
        assertEquals("None", names(StippleHttp.json(sillyTavern("GET", "/sdapi/v1/upscalers", null, EMPTY_BASIC)), "name")
                .get(0), "SillyTavern splices the latent modes in after index 0, which must be None");
        assertEquals(200, sillyTavern("GET", "/sdapi/v1/latent-upscale-modes", null, EMPTY_BASIC).statusCode());
        assertEquals(List.of(), names(StippleHttp.json(sillyTavern("GET", "/sdapi/v1/sd-vae", null, EMPTY_BASIC)),
                "model_name"));

        assertEquals(200, sillyTavern("POST", "/sdapi/v1/options", "{\"sd_model_checkpoint\": \"" + titles.get(0) + "\"}",
                EMPTY_BASIC).statusCode());
        JsonNode progress = StippleHttp.json(sillyTavern("GET", "/sdapi/v1/progress", null, EMPTY_BASIC));
        assertTrue(progress.get("progress").asDouble() == 0.0 && progress.get("state").get("job_count").isNumber()
                && progress.get("state").get("job_count").asInt() == 0, "idle as the set-model loop expects: " + progress);
    }

    @Test
    void sillyTavernGeneratesWithItsDefaultsAndWithEverythingOn() throws IOException {
        HttpResponse<byte[]> defaults = sillyTavern("POST", "/sdapi/v1/txt2img", SILLYTAVERN_DEFAULTS, EMPTY_BASIC);
        assertEquals(200, defaults.statusCode(), new String(defaults.body()));
        JsonNode data = StippleHttp.json(defaults);
        assertEquals(512, dataUrlImage(data.get("images").get(0).asString()).getWidth());

        HttpResponse<byte[]> everything = sillyTavern("POST", "/sdapi/v1/txt2img", SILLYTAVERN_EVERYTHING_ON,
                "Basic " + Base64.getEncoder().encodeToString("user:pass".getBytes()));
        assertEquals(200, everything.statusCode(), new String(everything.body()));
        JsonNode result = StippleHttp.json(everything);
        BufferedImage image = dataUrlImage(result.get("images").get(0).asString());
        assertEquals(832, image.getWidth());
        assertEquals(1216, image.getHeight());
        JsonNode info = JSON.readTree(result.get("info").asString());
        assertEquals(123456789, info.get("seed").asLong());
        assertEquals("Karras", info.get("scheduler").asString());

        assertEquals(200, sillyTavern("POST", "/sdapi/v1/interrupt", null, EMPTY_BASIC).statusCode(),
                "an abort posts no body and no Content-Type");
    }

    @Test
    void openWebUiSwitchesTheModelAndStoresEveryImageWithItsInfo() throws IOException {
        JsonNode models = StippleHttp.json(http.get("/sdapi/v1/sd-models"));
        String title = models.get(0).get("title").asString();
        assertFalse(models.get(0).get("model_name").asString().isEmpty());

        HttpResponse<byte[]> read = http.get("/sdapi/v1/options");
        assertTrue(read.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                "aiohttp's json() insists on it");
        ObjectNode options = (ObjectNode) StippleHttp.json(read);
        options.put("sd_model_checkpoint", title);
        assertEquals(200, http.post("/sdapi/v1/options", options.toString()).statusCode(),
                "the whole options object comes back with the checkpoint changed");

        HttpResponse<byte[]> generated = http.post("/sdapi/v1/txt2img",
                "{\"prompt\": \"a cozy cabin in a snowy forest, digital art\", \"batch_size\": 2, \"width\": 512, "
                        + "\"height\": 512, \"steps\": 50, \"negative_prompt\": \"blurry, lowres\"}");
        assertEquals(200, generated.statusCode(), new String(generated.body()));
        JsonNode result = StippleHttp.json(generated);
        assertEquals(2, result.get("images").size(), "every image is stored: no grid");
        for (JsonNode image : result.get("images")) {
            assertEquals(512, ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(image.asString()))).getWidth());
        }
        assertTrue(result.get("info").isString(), "info is required, a JSON string as A1111 sends it");
    }
}
