package io.stipple.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.TorchScriptModule;
import io.stipple.pipeline.PromptEncoder;
import io.stipple.testing.Npz;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * float16 and .bin weights, the VAE's old attention names).
 */
class ExportedGoldensTest {
    private static final double TOLERANCE = 1e-4;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest
    @ValueSource(strings = {"sd15-tiny", "sd2-tiny"})
    void everyModuleMatchesItsGolden(String reference) {
        Path pipeline = Exporter.exported(reference);
        Npz golden = Npz.read(Exporter.SD_REFERENCE.resolve(reference).resolve("golden.npz"));
        List<String> checked = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            String text = golden.has("tokenizer.input_ids") ? "tokenizer.input_ids" : "text.input_ids";
            String hidden = golden.has("text_encoder.last_hidden_state") ? "text_encoder.last_hidden_state"
                    : "text.last_hidden_state";
            checked.add(compare(manager, pipeline, PipelineDirectory.TEXT_ENCODER, hidden, golden, ids(manager, golden.get(text))));
            for (String unetCase : List.of("a", "b", "c", "d")) {
                String prefix = "unet." + unetCase + ".";
                if (golden.has(prefix + "out")) {
                    checked.add(compare(manager, pipeline, PipelineDirectory.UNET, prefix + "out", golden,
                            floats(manager, golden.get(prefix + "sample")), floats(manager, golden.get(prefix + "timestep")),
                            floats(manager, golden.get(prefix + "encoder_hidden_states"))));
                }
            }
            for (String decode : List.of("vae.decode", "vae.decode2")) {
                checked.add(compare(manager, pipeline, PipelineDirectory.VAE_DECODER, decode + ".out", golden,
                        floats(manager, golden.get(decode + ".z"))));
            }
            checked.add(compare(manager, pipeline, PipelineDirectory.VAE_ENCODER, "vae.encode.mean", golden,
                    floats(manager, golden.get("vae.encode.x"))));
        }
        System.out.println(reference + " through DJL, max |out − golden| / max |golden|: " + checked);
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

    private static String compare(NDManager manager, Path pipeline, String file, String goldenName, Npz golden,
            NDArray... inputs) {
        Npz.Array expected = golden.get(goldenName);
        try (TorchScriptModule module = TorchScriptModule.load(pipeline, file, Device.cpu())) {
            NDArray output = module.forward(new NDList(inputs)).head();
            assertEquals(new Shape(expected.shape()), output.getShape(), goldenName);
            float[] actual = output.toFloatArray();
            float[] reference = expected.floats();
            double scale = 0;
            double error = 0;
            for (int i = 0; i < reference.length; i++) {
                scale = Math.max(scale, Math.abs(reference[i]));
                error = Math.max(error, Math.abs(actual[i] - reference[i]));
            }
            double relative = error / scale;
            assertTrue(relative <= TOLERANCE, goldenName + ": relative error " + relative);
            return String.format("%s %.1e", goldenName, relative);
        }
    }

    private static NDArray floats(NDManager manager, Npz.Array array) {
        return manager.create(array.floats(), new Shape(array.shape()));
    }

    private static NDArray ids(NDManager manager, Npz.Array array) {
        return manager.create(array.longs(), new Shape(array.shape()));
    }
}
