package io.stipple.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.stipple.api.GenerateRequestBody;
import io.stipple.api.RequestValidator;
import io.stipple.config.StippleProperties;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.ModelCapabilities;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.ServedModel;
import io.stipple.model.ServedModels;
import io.stipple.pipeline.DenoisingImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.LatentDiffusion;
import io.stipple.pipeline.TextConditioning;
import io.stipple.sampling.SamplerCatalog;
import io.stipple.testing.Npz;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The server's own path from a request body to an SDXL image's U-Net rows, on the exported sdxl-tiny: the validator
 * decides the rows (a missing negative prompt is zeros, an empty one is encoded, clip skip is the prompt's only) and
 * the time ids, and {@link LatentDiffusion} builds them. Each equals what diffusers'
 * {@code StableDiffusionXLPipeline.encode_prompt} and {@code _get_add_time_ids} give (sdxl-tiny's goldens).
 */
class SdxlRequestPathTest {
    private static final String REFERENCE = "sdxl-tiny";
    private static final JsonNode META = JsonMapper.builder().build()
            .readTree(Exporter.SD_REFERENCE.resolve(REFERENCE).resolve("golden.json").toFile());
    private static final Npz GOLDEN = Npz.read(Exporter.SD_REFERENCE.resolve(REFERENCE).resolve("golden.npz"));

    private static LoadedPipeline pipeline;
    private static RequestValidator validator;
    private static LatentDiffusion diffusion;

    @BeforeAll
    static void serve() {
        Path directory = Exporter.exported(REFERENCE);
        pipeline = LoadedPipeline.load(PipelineDirectory.open(directory), Device.cpu());
        SamplerCatalog samplers = new SamplerCatalog(pipeline.directory().scheduler());
        StippleProperties.Limits limits = new Binder(new MapConfigurationPropertySource())
                .bindOrCreate("stipple", StippleProperties.class).limits();
        ServedModel model = new ServedModel(REFERENCE, pipeline, samplers, directory.toString(),
                ModelCapabilities.of(pipeline.spec(), samplers, pipeline.vaeEncoder().isPresent(), limits));
        validator = new RequestValidator(new ServedModels(List.of(model), REFERENCE));
        diffusion = new LatentDiffusion(pipeline, samplers);
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    @Test
    void promptRowsAreEncodePrompts() {
        for (JsonNode c : META.get("encode_prompt_cases")) {
            String name = "encode_prompt." + c.get("name").asString() + ".";
            GenerateRequestBody.Builder body = GenerateRequestBody.builder(c.get("prompt").asString()).steps(2);
            if (!c.get("negative_prompt").isNull()) {
                body.negativePrompt(c.get("negative_prompt").asString());
            }
            if (!c.get("clip_skip").isNull()) {
                body.clipSkip(c.get("clip_skip").asInt());
            }
            GenerationRequest request = validator.validate(body.build());
            try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
                TextConditioning rows = diffusion.encodePrompts(List.of(request), List.of(manager)).get(0);
                assertClose(name + "prompt_embeds", rows.conditional().inputs().get(0).toFloatArray());
                assertClose(name + "pooled_prompt_embeds", rows.conditional().inputs().get(1).toFloatArray());
                assertClose(name + "negative_prompt_embeds", rows.unconditional().inputs().get(0).toFloatArray());
                assertClose(name + "negative_pooled_prompt_embeds", rows.unconditional().inputs().get(1).toFloatArray());
            }
        }
    }

    /** The time ids an image's rows carry, from a request's size or its explicit fields, both rows alike. */
    @Test
    void timeIdsAreGetAddTimeIds() {
        for (JsonNode c : META.get("add_time_ids_cases")) {
            JsonNode original = c.get("original_size");
            JsonNode crop = c.get("crops_coords_top_left");
            JsonNode target = c.get("target_size");
            boolean implied = original.equals(target) && crop.get(0).asInt() == 0 && crop.get(1).asInt() == 0;
            GenerateRequestBody body = implied
                    ? GenerateRequestBody.builder("a cat").size(target.get(1).asInt(), target.get(0).asInt()).build()
                    : new GenerateRequestBody("a cat", null, 64, 64, null, null, null, null, null, null, null, null,
                            null, null, null, pair(original), pair(crop), pair(target));
            GenerationRequest request = validator.validate(body);
            if (implied) {
                assertNull(body.originalSize(), "the request gives nothing but its size");
            }
            try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
                TextConditioning text = diffusion.encodePrompts(List.of(request), List.of(manager)).get(0);
                DenoisingImage image = diffusion.startImages(request, text, manager).get(0);
                float[] expected = GOLDEN.get("add_time_ids." + c.get("name").asString()).floats();
                assertTrue(Arrays.equals(expected, image.conditional().inputs().get(2).toFloatArray()),
                        c.get("call").asString());
                assertTrue(Arrays.equals(expected, image.unconditional().inputs().get(2).toFloatArray()),
                        "the negative row reuses the prompt's time ids");
            }
        }
    }

    private static List<Integer> pair(JsonNode values) {
        return List.of(values.get(0).asInt(), values.get(1).asInt());
    }

    private static void assertClose(String name, float[] actual) {
        float[] reference = GOLDEN.get(name).floats();
        assertEquals(reference.length, actual.length, name);
        double scale = 0;
        double error = 0;
        for (int i = 0; i < reference.length; i++) {
            scale = Math.max(scale, Math.abs(reference[i]));
            error = Math.max(error, Math.abs(actual[i] - reference[i]));
        }
        assertTrue(scale == 0 ? error == 0 : error / scale <= Goldens.TOLERANCE, name + ": " + error + " of " + scale);
    }
}
