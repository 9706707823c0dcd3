package io.stipple.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.PipelineSpec;
import io.stipple.pipeline.PromptEncoder;
import io.stipple.testing.Npz;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A diffusers checkpoint exported by {@code src/tools/export/export_diffusers.py} computes, through DJL's
 * libtorch, what diffusers' and transformers' own classes computed for it (the goldens beside each checkpoint
 * in {@code src/test/resources/sd-reference}): the tokenizer's ids exactly, every module's output to 1e-4 of
 * its scale. sd15-tiny is SD 1.x-shaped (quick_gelu CLIP, conv projections, 8 heads, PNDM config); sd2-tiny
 * SD 2.x-shaped (gelu, "!" padding, per-level heads, linear projections, upcast attention, v-prediction,
 * float16 and .bin weights, the VAE's old attention names); lcm-tiny an LCM-distilled U-Net whose unet.pt takes
 * the guidance embedding as a 4th input (timestep_cond), which the server computes from the guidance scale;
 * inpaint-tiny an inpainting U-Net of 9 input channels (latent, mask, masked-image latent). Every array of a
 * golden file is fed or checked, so a golden that a test would silently skip fails it. SDXL: {@link ExportedSdxlGoldensTest}.
 */
class ExportedGoldensTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest
    @ValueSource(strings = {"sd15-tiny", "sd2-tiny", "lcm-tiny", "inpaint-tiny"})
    void everyModuleMatchesItsGolden(String reference) {
        Path pipeline = Exporter.exported(reference);
        PipelineSpec spec = PipelineDirectory.open(pipeline).spec();
        Npz golden = Npz.read(Exporter.SD_REFERENCE.resolve(reference).resolve("golden.npz"));
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                Goldens goldens = new Goldens(golden, manager, pipeline)) {
            for (String ids : List.of("tokenizer.input_ids", "text.input_ids")) {
                if (golden.has(ids)) {
                    String hidden = ids.startsWith("text.") ? "text.last_hidden_state" : "text_encoder.last_hidden_state";
                    goldens.module(PipelineDirectory.TEXT_ENCODER, hidden, goldens.ids(ids));
                }
            }
            goldens.unetCases(spec);
            goldens.vae();
            goldens.guidanceEmbedding(spec);
            goldens.assertAllUsed(reference);
        }
    }

    /**
     * text_encoder.pt called through DJL with its second input, clip_skip, one value per row: all ones against
     * diffusers' encode_prompt with clip_skip 1 (clip_skip.npz: the layer before the last, then the final layer norm);
     * zeros to the bit what the one-input call gives; alternating rows each what its own skip gives alone.
     */
    @ParameterizedTest
    @ValueSource(strings = {"sd15-tiny", "sd2-tiny"})
    void clipSkipIsDiffusersEncodePrompt(String reference) {
        Path pipeline = Exporter.exported(reference);
        assertEquals(1, PipelineDirectory.open(pipeline).spec().maxClipSkipOrDefault(), "two layers, one to skip");
        Npz golden = Npz.read(Exporter.SD_REFERENCE.resolve(reference).resolve("clip_skip.npz"));
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                Goldens goldens = new Goldens(golden, manager, pipeline)) {
            NDArray ids = goldens.ids("input_ids");
            NDArray ones = manager.ones(new Shape(ids.getShape().get(0)), DataType.INT64);
            NDArray skipped = goldens.call(PipelineDirectory.TEXT_ENCODER, ids, ones).head();
            goldens.output("clip_skip_1", skipped);
            NDArray usual = goldens.call(PipelineDirectory.TEXT_ENCODER, ids).head();
            assertTrue(usual.contentEquals(goldens.call(PipelineDirectory.TEXT_ENCODER, ids, ones.zerosLike()).head()));
            NDArray alternating = manager.arange(0, (int) ids.getShape().get(0), 1, DataType.INT64).mod(2);
            NDArray mixed = goldens.call(PipelineDirectory.TEXT_ENCODER, ids, alternating).head();
            for (int row = 0; row < ids.getShape().get(0); row++) {
                NDArray alone = (row % 2 == 1 ? skipped : usual).get(row);
                assertTrue(mixed.get(row).contentEquals(alone), reference + " row " + row);
            }
            goldens.assertAllUsed(reference + " clip_skip.npz");
        }
    }

    /** The tokenizer.json the exporter built gives, through DJL's tokenizers and the server's padding, CLIP's ids. */
    @Test
    void theBuiltTokenizerGivesClipsIds() throws Exception {
        Path pipeline = Exporter.exported("sd15-tiny");
        Path reference = Exporter.SD_REFERENCE.resolve("sd15-tiny");
        Npz.Array expected = Npz.read(reference.resolve("golden.npz")).get("tokenizer.input_ids");
        JsonNode prompts = JSON.readTree(reference.resolve("golden.json").toFile()).get("prompts");
        assertEquals(JSON.readTree(reference.resolve("expected_tokenizer.json").toFile()),
                JSON.readTree(pipeline.resolve(PipelineDirectory.TOKENIZER).toFile()));
        long[] ids = expected.longs();
        int length = (int) expected.shape()[1];
        try (LoadedPipeline loaded = LoadedPipeline.load(PipelineDirectory.open(pipeline), Device.cpu())) {
            PromptEncoder encoder = new PromptEncoder(loaded);
            for (int i = 0; i < prompts.size(); i++) {
                String prompt = prompts.get(i).get("text").asString();
                long[] row = Arrays.copyOfRange(ids, i * length, (i + 1) * length);
                assertArrayEquals(row, encoder.tokenIds(prompt), prompts.get(i).get("name").asString() + ": " + prompt);
            }
        }
    }
}
